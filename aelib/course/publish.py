"""Where the collection is published, and the text that says so.

One setting holds the repository's address: ``Repository`` under ``[project.urls]`` in ``pyproject.toml``
(with the branch that links open under ``[tool.aelib]``). Whoever publishes a copy sets it there once and runs::

    python -m aelib.course.syllabus            # rewrite every generated part that is stale
    python -m aelib.course.syllabus --check    # only say which parts are stale (exit 1 if any)

Generated from it and from BENCHMARKS.md: the README's badges, clone command and notebook map (each notebook's
Colab link and run-all time), the links in ``docs/install.md`` and ``docs/updating.md``, ``repository-code`` in
``CITATION.cff``, and the Colab cell that every notebook carries as its first code cell. A test fails while any of
them is stale, so a new address, a new notebook or a benchmark rerun is one command away from every page.

Run it in a checkout: it reads and writes the repository's files. Notebooks are read from the disk, changed in
their Colab cell only, and written back at once, so edits to their other cells are kept.
"""
from __future__ import annotations

import json
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlparse

ROOT = Path(__file__).resolve().parents[2]          # the checkout: pyproject.toml, README.md, notebooks/
PLACEHOLDER = "https://github.com/OWNER/REPO"
COLAB_CELL_ID = "colab-setup"
CLONE_FOLDER = "ae-course"                            # where the Colab cell puts the collection
COLAB_BADGE = "https://colab.research.google.com/assets/colab-badge.svg"
BINDER_BADGE = "https://mybinder.org/badge_logo.svg"


@dataclass(frozen=True)
class Settings:
    """Where the collection lives: the repository's address (as ``git clone`` takes it) and the branch."""

    repository: str
    branch: str = "main"

    @property
    def github(self) -> str | None:
        """``OWNER/NAME`` when the repository is on GitHub (Colab and Binder open GitHub repositories), else None."""
        url = urlparse(self.repository)
        parts = [p for p in url.path.removesuffix(".git").split("/") if p]
        return "/".join(parts) if url.netloc == "github.com" and len(parts) == 2 else None

    @property
    def name(self) -> str:
        """The repository's folder name, as ``git clone`` and nbgitpuller name it."""
        return self.repository.rstrip("/").removesuffix(".git").rsplit("/", 1)[-1]

    @property
    def is_placeholder(self) -> bool:
        """True while the address is still the placeholder that the repository ships with."""
        return self.repository == PLACEHOLDER


def settings(root: Path | str = ROOT) -> Settings:
    """The address and branch from ``pyproject.toml`` in ``root``.

    Raises:
        FileNotFoundError: outside a checkout (a regular install has no pyproject.toml).
        ValueError: if ``[project.urls] Repository`` is missing.
    """
    path = Path(root) / "pyproject.toml"
    if not path.exists():
        raise FileNotFoundError(f"{path} not found: run this in a checkout of the collection")
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    repository = data.get("project", {}).get("urls", {}).get("Repository")
    if not repository:
        raise ValueError(f"{path}: set the repository's address as Repository under [project.urls]")
    return Settings(repository, data.get("tool", {}).get("aelib", {}).get("branch", "main"))


def colab_url(notebook: str, where: Settings | None = None) -> str | None:
    """The "Open in Colab" address of ``notebook`` (a file name in ``notebooks/``), or None off GitHub."""
    where = where or settings()
    if not where.github:
        return None
    return f"https://colab.research.google.com/github/{where.github}/blob/{where.branch}/notebooks/{notebook}"


def binder_url(notebook: str = "00_start_here.ipynb", where: Settings | None = None) -> str | None:
    """The mybinder.org address that builds the repository and opens ``notebook`` in JupyterLab, or None off GitHub."""
    where = where or settings()
    if not where.github:
        return None
    return f"https://mybinder.org/v2/gh/{where.github}/HEAD?urlpath=lab/tree/notebooks/{notebook}"


def nbgitpuller_url(hub: str = "https://HUB.EXAMPLE.ORG", where: Settings | None = None) -> str:
    """A JupyterHub link that clones the collection on first click and merges updates on later clicks (nbgitpuller),
    opening notebook 00."""
    where = where or settings()
    return (f"{hub.rstrip('/')}/hub/user-redirect/git-pull?repo={quote(where.repository, safe='')}"
            f"&branch={where.branch}&urlpath=lab/tree/{where.name}/notebooks/00_start_here.ipynb")


# ---------------------------------------------------------------------------------------------- the Colab cell

def colab_cell_source(where: Settings | None = None) -> str:
    """The code of the Colab cell: on Colab (``google.colab`` is loaded in its kernels) it clones the collection
    once per runtime and installs it with pip, which adds only what Colab lacks (pyproject's ranges keep Colab's
    torch, numpy, IPython, ipykernel and ipywidgets); anywhere else it does nothing."""
    where = where or settings()
    return "\n".join([
        "# Google Colab only (elsewhere this cell does nothing): fetch the collection and install what the",
        "# notebooks need next to Colab's own packages. About a minute, once per Colab runtime.",
        "import os, subprocess, sys",
        'if "google.colab" in sys.modules:',
        f'    if not os.path.isdir("{CLONE_FOLDER}"):',
        f'        repository = "{where.repository}"',
        f'        subprocess.run(["git", "clone", "-q", "--depth", "1", repository, "{CLONE_FOLDER}"], check=True)',
        f'        subprocess.run([sys.executable, "-m", "pip", "install", "-q", "./{CLONE_FOLDER}"], check=True)',
        f'    os.environ["AELIB_NOTEBOOKS"] = os.path.abspath("{CLONE_FOLDER}/notebooks")',
    ])


def _colab_cell(source: str) -> dict:
    lines = source.splitlines(keepends=True)
    return {"cell_type": "code", "execution_count": None, "id": COLAB_CELL_ID, "metadata": {}, "outputs": [],
            "source": lines}


def _dump(nb: dict) -> str:
    """A notebook as nbformat writes it (sorted keys, one-space indent, a final newline)."""
    return json.dumps(nb, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def with_colab_cell(nb: dict, source: str) -> dict:
    """``nb`` with its Colab cell set to ``source``: replaced where it is, or inserted after the title cell."""
    cells = [c for c in nb["cells"] if c.get("id") != COLAB_CELL_ID]
    old = next((i for i, c in enumerate(nb["cells"]) if c.get("id") == COLAB_CELL_ID), None)
    at = old if old is not None else (1 if cells and cells[0]["cell_type"] == "markdown" else 0)
    return {**nb, "cells": cells[:at] + [_colab_cell(source)] + cells[at:]}


def apply_colab_cell(path: Path | str, source: str, write: bool = True) -> bool:
    """Set the Colab cell of the notebook at ``path``; True if it was missing or stale.

    The notebook is read from the disk and, when ``write`` and it changed, written back at once: only the Colab
    cell changes, so edits that others made to the other cells are kept."""
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    new = _dump(with_colab_cell(json.loads(text), source))
    if new != text and write:
        path.write_text(new, encoding="utf-8")
    return new != text


def colab_cell_is_current(path: Path | str, where: Settings | None = None) -> bool:
    """True if the notebook's Colab cell is the generated one, right after its title cell."""
    cells = json.loads(Path(path).read_text(encoding="utf-8"))["cells"]
    ids = [c.get("id") for c in cells]
    if ids.count(COLAB_CELL_ID) != 1 or ids.index(COLAB_CELL_ID) != 1:
        return False
    cell = cells[1]
    src = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
    return cell["cell_type"] == "code" and src == colab_cell_source(where)


# ------------------------------------------------------------------------------------- run-all times (BENCHMARKS)

@dataclass(frozen=True)
class Benchmark:
    """What the README quotes from BENCHMARKS.md: each notebook's run-all seconds, and the machine they are for."""

    seconds: dict = field(default_factory=dict)
    machine: str = ""
    baseline_epoch_s: float | None = None
    date: str = ""

    @property
    def total(self) -> float:
        """The whole collection's run-all seconds."""
        return sum(self.seconds.values())


_ROW = re.compile(r"^\| (\d\d_\w+\.ipynb) \| ([\d.]+) \|", re.M)


def benchmark(path: Path | str | None = None) -> Benchmark:
    """The run-all times in the first table of BENCHMARKS.md (written by ``python -m aelib.course.bench``), the
    machine and its baseline epoch; an empty :class:`Benchmark` if the file does not exist."""
    path = Path(path) if path else ROOT / "BENCHMARKS.md"
    if not path.exists():
        return Benchmark()
    text = path.read_text(encoding="utf-8")
    seconds = {}
    for name, s in _ROW.findall(text):
        seconds.setdefault(name, float(s))            # the first table; later tables (one core, ...) differ
    machine = re.search(r"^Machine: (.+?)(?:;|\.$)", text, re.M)
    epoch = re.search(r"baseline VAE recipe.*?took \*\*([\d.]+) s\*\*", text)
    date = re.search(r"on (\d{4}-\d\d-\d\d)", text)
    return Benchmark(seconds, machine.group(1) if machine else "", float(epoch.group(1)) if epoch else None,
                     date.group(1) if date else "")


def seconds_text(s: float | None) -> str:
    """A run-all time as the map shows it: ``"7 s"``, ``"<1 s"``, or ``"?"`` for a notebook not benchmarked."""
    if s is None:
        return "?"
    return "<1 s" if s < 1 else f"{s:.0f} s"


def benchmark_sentence(b: Benchmark, others: list[str] | None = None) -> str:
    """The note under the map that says which machine the run-all times were measured on, and names the runs on
    other machines (``others``: file names; default every ``BENCHMARKS-*.md`` beside BENCHMARKS.md)."""
    others = sorted(p.name for p in ROOT.glob("BENCHMARKS-*.md")) if others is None else others
    if not b.seconds:
        return "Run-all times appear here once `python -m aelib.course.bench` has written BENCHMARKS.md."
    epoch = f", where one baseline epoch took {b.baseline_epoch_s:g} s" if b.baseline_epoch_s else ""
    return (f"*Run all*: one notebook's \"Run All\" in a fresh kernel, measured on {b.date} on one machine "
            f"({b.machine}{epoch}; the whole collection {b.total:.0f} s). Another machine's times scale with its "
            "speed: one twice as fast at that epoch takes about half as long. "
            "[BENCHMARKS.md](BENCHMARKS.md) has the details"
            + (f" (other machines: {', '.join(f'[{n}]({n})' for n in others)})" if others else "")
            + "; `python -m aelib.course.syllabus` copies a new run here.")


# ----------------------------------------------------------------------------------------- generated markdown

def _block(name: str) -> tuple[str, str]:
    return f"<!-- publish:{name}:start -->", f"<!-- publish:{name}:end -->"


def badges(where: Settings | None = None) -> str:
    """The README's badges: notebook 00 in Colab, the collection on Binder."""
    where = where or settings()
    colab, binder = colab_url("00_start_here.ipynb", where), binder_url(where=where)
    if not colab:
        return ("*Colab and Binder open GitHub repositories: with the address in pyproject.toml on another host, "
                "install as below.*")
    line = f"[![Open in Colab]({COLAB_BADGE})]({colab}) [![Launch on Binder]({BINDER_BADGE})]({binder})"
    if where.is_placeholder:
        line += ("\n\n*These links open once the repository's address is set (in pyproject.toml, then "
                 "`python -m aelib.course.syllabus`: see [docs/contributing.md](docs/contributing.md)).*")
    return line


def clone_command(where: Settings | None = None) -> str:
    """The command that fetches the collection, as the README and docs/install.md show it."""
    where = where or settings()
    return f"git clone {where.repository} {CLONE_FOLDER} && cd {CLONE_FOLDER}"


def cloud_links(where: Settings | None = None) -> str:
    """docs/install.md's list of the addresses that open the collection without installing it."""
    where = where or settings()
    rows = [f"- The repository: <{where.repository}>"]
    if where.github:
        rows += [f"- Notebook 00 in Colab: <{colab_url('00_start_here.ipynb', where)}> (any notebook: its "
                 "*Colab* link in the README's map)",
                 f"- Binder (JupyterLab with notebook 00 open): <{binder_url(where=where)}>"]
    if where.is_placeholder:
        rows.append("- (The address is still the placeholder: set it in pyproject.toml and run "
                    "`python -m aelib.course.syllabus`.)")
    return "\n".join(rows)


def hub_link(where: Settings | None = None) -> str:
    """docs/updating.md's nbgitpuller link, with a placeholder for the hub's own address."""
    where = where or settings()
    return f"```\n{nbgitpuller_url(where=where)}\n```"


def markdown_blocks(where: Settings | None = None) -> dict[str, dict[str, str]]:
    """``{file relative to the checkout: {block name: generated text}}`` for every generated markdown block."""
    where = where or settings()
    return {"README.md": {"badges": badges(where), "clone": f"```bash\n{clone_command(where)}\n```"},
            "docs/install.md": {"clone": f"```bash\n{clone_command(where)}\n```", "cloud": cloud_links(where)},
            "docs/updating.md": {"hub": hub_link(where)}}


def fill_block(text: str, name: str, body: str) -> str:
    """``text`` with the block ``name`` (between its start and end comments) replaced by ``body``.

    Raises:
        ValueError: if the block's markers are missing.
    """
    start, end = _block(name)
    if start not in text or end not in text:
        raise ValueError(f"no {start} … {end} block to fill")
    head, rest = text.split(start, 1)
    return f"{head}{start}\n{body}\n{end}{rest.split(end, 1)[1]}"


def citation(text: str, where: Settings | None = None) -> str:
    """CITATION.cff's text with ``repository-code`` set to the address."""
    where = where or settings()
    return re.sub(r'^repository-code: .*$', f'repository-code: "{where.repository}"', text, flags=re.M)


# ----------------------------------------------------------------------------------------------------- refresh

def refresh(root: Path | str = ROOT, write: bool = True) -> list[str]:
    """Bring the parts generated from the address up to date in the checkout at ``root`` (or, with
    ``write=False``, only look): the markdown blocks, CITATION.cff and every notebook's Colab cell. The README's
    map is :func:`aelib.course.syllabus.update_readme`'s.

    Returns the parts that were (or would be) changed, as ``"file: part"``.
    """
    root = Path(root)
    where = settings(root)
    changed = []
    for rel, blocks in markdown_blocks(where).items():
        path = root / rel
        text = new = path.read_text(encoding="utf-8")
        for name, body in blocks.items():
            filled = fill_block(new, name, body)
            if filled != new:
                changed.append(f"{rel}: {name}")
            new = filled
        if write and new != text:
            path.write_text(new, encoding="utf-8")
    cff = root / "CITATION.cff"
    text = cff.read_text(encoding="utf-8")
    if citation(text, where) != text:
        changed.append("CITATION.cff: repository-code")
        if write:
            cff.write_text(citation(text, where), encoding="utf-8")
    source = colab_cell_source(where)
    for nb in sorted((root / "notebooks").glob("*.ipynb")):
        if apply_colab_cell(nb, source, write=write):
            changed.append(f"notebooks/{nb.name}: Colab cell")
    return changed
