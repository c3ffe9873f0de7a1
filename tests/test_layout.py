"""The package's shape: the helpers a chapter calls never import the course machinery, no module imports
another from inside a function (so the import graph is what the tops of the files say), and that graph has no
circle. The README's layout section lists the helpers in an order where each imports only those above it."""
import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "aelib"


def _module(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")


def _target(node: ast.ImportFrom, module: str, is_package: bool) -> list[str]:
    """The aelib modules an ``import`` or ``from ... import`` names."""
    if node.level:
        base = module.split(".") if is_package else module.split(".")[:-1]
        base = base[:len(base) - node.level + 1]
        prefix = ".".join(base + ([node.module] if node.module else []))
    else:
        prefix = node.module or ""
    if not prefix.startswith("aelib"):
        return []
    if node.module is None or node.level and prefix.count(".") < 1:
        return [f"{prefix}.{a.name}" for a in node.names]
    return [prefix]


def graph() -> tuple[dict, list]:
    """``{module: {imported aelib modules}}`` from top-level imports, and the imports found inside functions."""
    edges, nested = {}, []
    files = sorted(PACKAGE.rglob("*.py"))
    known = {_module(p) for p in files}
    for path in files:
        module = _module(path)
        tree = ast.parse(path.read_text(encoding="utf-8"))
        out = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                names = _target(node, module, path.name == "__init__.py")
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names if a.name.startswith("aelib")]
            else:
                continue
            names = [n if n in known else n.rsplit(".", 1)[0] for n in names]
            names = [n for n in names if n in known and n != module]
            if not names:
                continue
            if node not in tree.body:
                nested.append(f"{module}: line {node.lineno} imports {', '.join(names)} inside a function")
            out.update(names)
        edges[module] = out
    return edges, nested


def test_the_helpers_never_import_the_course_machinery():
    edges, _ = graph()
    bad = {m: sorted(t for t in ts if t.startswith("aelib.course")) for m, ts in edges.items()
           if not m.startswith("aelib.course")}
    assert not any(bad.values()), bad


def test_intra_package_imports_are_at_the_top_of_each_file():
    _, nested = graph()
    assert not nested, nested


def test_the_import_graph_has_no_circle():
    edges, _ = graph()
    state = {}

    def visit(m, path):
        if state.get(m) == "done":
            return
        assert state.get(m) != "open", " -> ".join(path + [m])
        state[m] = "open"
        for t in edges.get(m, ()):
            visit(t, path + [m])
        state[m] = "done"

    for m in edges:
        visit(m, [])


def test_the_readme_lists_the_helpers_in_import_order():
    edges, _ = graph()
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    start = readme.index("## Layout")
    section = readme[start:readme.index("aelib/course/ ", start)]
    listed = [f"aelib.{m}" for m in re.findall(r"^  ([a-z_]+)\.py ", section, re.M)]
    helpers = {m for m in edges if m.count(".") == 1 and not m.startswith("aelib.course")}
    assert set(listed) == helpers, (sorted(listed), sorted(helpers))
    for i, m in enumerate(listed):
        later = set(listed[i:])
        assert not edges[m] & later, f"{m} imports {sorted(edges[m] & later)}, listed below it"


# a repository path as docstrings and markdown cells write it: a top folder (or a top file) and a name with a suffix
_PATH = re.compile(r"(?<![\w/.-])(?:\.\./)?((?:aelib|docs|tests|notebooks|binder|\.ci)/[\w./-]*\w"
                   r"|[A-Z][\w-]*\.(?:md|cff|txt|toml))(?![\w/])")


def _named_paths(text: str) -> set[str]:
    """Repository paths a text names (``aelib/course/site.py``, ``docs/install.md``, ``BENCHMARKS.md``)."""
    out = set()
    for m in _PATH.finditer(text):
        p = m.group(1).rstrip(".")
        if text[m.end():m.end() + 2].lstrip(".")[:1] in ("*", "{") or "*" in p or "{" in p or p.endswith("/") or "." not in Path(p).name and "/" not in p:
            continue
        out.add(p)
    return out


def _docstrings_and_markdown():
    import json
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, (ast.Module, ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef)):
                doc = ast.get_docstring(node)
                if doc:
                    yield f"{path.relative_to(ROOT)}:{getattr(node, 'name', 'module')}", doc
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        for i, cell in enumerate(json.loads(path.read_text(encoding="utf-8"))["cells"]):
            if cell["cell_type"] == "markdown":
                yield f"{path.name} cell {i}", "".join(cell["source"])


def test_the_named_paths_pattern():
    text = ("see aelib/course/site.py, docs/install.md and BENCHMARKS.md; `notebooks/05_x.ipynb`. Not: "
            "aelib/*.json, https://example.org/docs/a.md, ../aelib/vae.py is fine")
    assert _named_paths(text) == {"aelib/course/site.py", "docs/install.md", "BENCHMARKS.md",
                                  "notebooks/05_x.ipynb", "aelib/vae.py"}


def test_every_path_a_docstring_or_markdown_cell_names_exists():
    """A docstring or a chapter that sends the reader to a file sends them to one that is there."""
    missing = [f"{where}: {p}" for where, text in _docstrings_and_markdown() for p in sorted(_named_paths(text))
               if not (ROOT / p).exists()]
    assert not missing, missing
