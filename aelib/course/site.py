"""A static reading copy of the collection: every notebook executed and written as HTML.

Usage::

    python -m aelib.course.site                    # all notebooks -> site/index.html + one page per notebook
    python -m aelib.course.site 00 15 --output DIR

Each notebook runs in a fresh kernel (as "Restart kernel and run all" would) with the widgets' state stored in
the page, so figures, printed numbers and each widget's first state can be read without a kernel. It is the
lecturer's fallback when live execution fails, so it needs no network: MathJax (from the PyPI package
``jupyter-server-mathjax``), require.js, the ipywidgets HTML manager (``aelib/course/site_assets/``) and the
drawing pad's front end (anywidget, ``aelib/static/``) are copied into the folder and loaded from there. Open ``index.html`` from the disk, or serve the folder. The output
folder is not committed.
"""
from __future__ import annotations

import argparse
import html
import re
import shutil
import sys
import time
from pathlib import Path

from .. import pad
from . import syllabus

ASSETS = Path(__file__).resolve().parent / "site_assets"
# where each page finds its scripts, relative to the page: the site is self-contained
MATHJAX_URL = "mathjax/MathJax.js?config=TeX-AMS-MML_HTMLorMML-full,Safe"
REQUIRE_URL = "assets/require.js"
WIDGETS_URL = "assets/embed-amd.js"
# jupyter-server-mathjax ships MathJax's STIX-Web fonts only (not the TeX fonts MathJax asks for by default)
MATHJAX_FONTS = ('<script type="text/x-mathjax-config">MathJax.Hub.Config({"HTML-CSS": {availableFonts: [], '
                 'preferredFont: null, webFont: "STIX-Web", imageFont: null}});</script>\n')
NOTEBOOK_LINK = re.compile(r'href="(\d\d_\w+)\.ipynb')


def mathjax_dir() -> Path:
    """MathJax 2.7's files, from the installed ``jupyter-server-mathjax`` package."""
    try:
        import jupyter_server_mathjax
    except ImportError:
        raise ImportError("the reading copy needs MathJax from the package jupyter-server-mathjax: "
                          "pip install jupyter-server-mathjax (it is in requirements.txt)") from None
    return Path(jupyter_server_mathjax.__file__).resolve().parent / "static"


def copy_assets(out_dir: Path) -> None:
    """Copy MathJax, require.js, the widget renderer and the drawing pad's front end (anywidget) into ``out_dir``
    (``mathjax/``, ``assets/`` and ``anywidget.js``).

    The widget renderer's icon fonts also go where it asks for them, relative to the page:
    ``@jupyter-widgets/`` and ``@jupyter-widgets/html-manager/dist/``."""
    shutil.copytree(mathjax_dir(), out_dir / "mathjax", dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    fonts = [out_dir / "@jupyter-widgets", out_dir / "@jupyter-widgets" / "html-manager" / "dist"]
    for folder in [out_dir / "assets"] + fonts:
        folder.mkdir(parents=True, exist_ok=True)
    for f in ASSETS.iterdir():
        if f.is_file():
            shutil.copy2(f, out_dir / "assets" / f.name)
            if f.suffix == ".woff2":
                for folder in fonts:
                    shutil.copy2(f, folder / f.name)
    pad.copy_reading_copy_assets(out_dir)           # the drawing pad's front end, served locally too



def build_page(path: Path, out_dir: Path, timeout: int = 600) -> dict:
    """Execute one notebook and write ``out_dir/<name>.html``; return ``{"file", "seconds", "errors"}``."""
    import nbformat
    from nbclient import NotebookClient
    from nbconvert import HTMLExporter
    nb = nbformat.read(path, as_version=4)
    t0 = time.perf_counter()
    NotebookClient(nb, timeout=timeout, kernel_name="python3", store_widget_state=True,
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    seconds = time.perf_counter() - t0
    errors = sum(1 for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "error")
    exporter = HTMLExporter(template_name="lab", mathjax_url=MATHJAX_URL, require_js_url=REQUIRE_URL,
                            widget_renderer_url=WIDGETS_URL)
    body, _ = exporter.from_notebook_node(nb)
    mathjax_tag = f'<script src="{MATHJAX_URL}">'
    if mathjax_tag in body:
        body = body.replace(mathjax_tag, MATHJAX_FONTS + mathjax_tag, 1)
    # links between notebooks point at their pages in the copy
    body = NOTEBOOK_LINK.sub(r'href="\1.html', body)
    target = out_dir / path.with_suffix(".html").name
    target.write_text(body, encoding="utf-8")
    return {"file": target.name, "seconds": seconds, "errors": errors}


def index_page(pages: list[dict]) -> str:
    """The site's index: each notebook with the exam questions it answers."""
    rows = []
    built = {p["file"] for p in pages}
    for nb in syllabus.notebooks():
        page = Path(nb.file).with_suffix(".html").name
        if page not in built:
            continue
        ids = ", ".join(q.id for q in syllabus.questions() if q.home == nb.number)
        rows.append(f'<tr><td><a href="{page}">{nb.number} {html.escape(nb.title)}</a></td><td>{ids}</td></tr>')
    return ("<!doctype html><html><head><meta charset='utf-8'><title>Autoencoders and VAEs: reading copy</title>"
            "<style>body{font-family:sans-serif;max-width:60em;margin:2em auto}td{padding:.3em 1em}</style></head>"
            "<body><h1>Autoencoders and variational autoencoders</h1><p>A reading copy: every notebook executed once, "
            "with its figures, numbers and the first state of its widgets. Open the notebooks in Jupyter to train "
            "the models and move the sliders.</p><table><tr><th>notebook</th><th>answers</th></tr>"
            + "".join(rows) + "</table></body></html>")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Build the static reading copy of the notebooks.")
    parser.add_argument("only", nargs="*", help="notebook name prefixes (default: all)")
    parser.add_argument("--output", default=None, help="the folder to write (default: site/ beside notebooks/)")
    args = parser.parse_args(argv)
    try:
        paths = syllabus.selected_paths(args.only)
    except FileNotFoundError as err:
        print(err, file=sys.stderr)
        return 2
    out = Path(args.output) if args.output else paths[0].parent.parent / "site"
    out.mkdir(parents=True, exist_ok=True)
    copy_assets(out)
    pages = []
    for p in paths:
        print(f"building {p.name} ...", flush=True)
        pages.append(build_page(p, out))
        print(f"  {pages[-1]['seconds']:.1f} s, {pages[-1]['errors']} errors", flush=True)
    (out / "index.html").write_text(index_page(pages), encoding="utf-8")
    print(f"wrote {out / 'index.html'} and {len(pages)} pages")
    return 1 if any(p["errors"] for p in pages) else 0


if __name__ == "__main__":
    sys.exit(main())
