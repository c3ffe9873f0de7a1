"""Cells run out of order: a ``NameError`` that says which cell to run first.

A reader who runs a widget or Checks cell before the cell that trains its model gets Python's bare
``NameError: name 'vae20' is not defined``. Inside a Jupyter kernel, importing ``aelib`` adds one line to that error
(as an exception note, shown under the traceback): the cell of this notebook that makes the name, by its section
heading and first line, and how to run it. The notebook is found from the kernel's session (JupyterLab and
Notebook 7 set ``JPY_SESSION_NAME``; VS Code sets ``__vsc_ipynb_file__``); where no notebook file is known (Colab),
the note says to run the cells above first. Only names that the notebook itself binds get a note.
"""
from __future__ import annotations

import ast
import json
import os
import re
from pathlib import Path

_MAGIC = re.compile(r"^(\s*)([%!].*|.*\?\s*)$")


def _cell_source(cell) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def bound_names(source: str) -> set[str]:
    """The names a code cell binds at its top level: assignments (also inside ``if``/``for``/``with``/``try``),
    ``def``, ``class`` and imports; not the locals of its functions. IPython lines (``%magic``, ``!shell``,
    ``obj?``) are skipped; a cell that does not parse binds nothing."""
    lines = [_MAGIC.sub(r"\1pass", line) for line in source.splitlines()]
    try:
        tree = ast.parse("\n".join(lines))
    except SyntaxError:
        return set()
    names: set[str] = set()

    def visit(node):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
            return                                   # their bodies bind locals, not notebook names
        if isinstance(node, ast.Lambda):
            return
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in node.names if a.name != "*")
            return
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return names


def defining_cell(name: str, notebook: dict) -> dict | None:
    """The first code cell of ``notebook`` (nbformat JSON as a dict) that binds ``name``: ``{"index"`` (0-based
    among all cells), ``"heading"`` (the nearest markdown heading above it, or ``""``), ``"line"`` (its first
    non-empty line)``}``, or None."""
    heading = ""
    for i, cell in enumerate(notebook.get("cells", [])):
        source = _cell_source(cell)
        if cell.get("cell_type") == "markdown":
            for line in source.splitlines():
                if line.startswith("#"):
                    heading = line.lstrip("#").strip()
            continue
        if cell.get("cell_type") == "code" and name in bound_names(source):
            first = next((l.strip() for l in source.splitlines() if l.strip() and not l.lstrip().startswith("#")),
                         "")
            return {"index": i, "heading": heading, "line": first if len(first) <= 70 else first[:69] + "…"}
    return None


def notebook_path(user_ns: dict | None = None) -> Path | None:
    """The notebook file this kernel runs, if the front end says: ``__vsc_ipynb_file__`` (VS Code) in the
    user namespace, else ``__session__`` or ``JPY_SESSION_NAME`` (JupyterLab, Notebook 7). None if unknown or if
    it is not an existing ``.ipynb`` file."""
    ns = user_ns or {}
    for raw in (ns.get("__vsc_ipynb_file__"), ns.get("__session__"), os.environ.get("JPY_SESSION_NAME")):
        if raw and str(raw).endswith(".ipynb") and Path(raw).is_file():
            return Path(raw)
    return None


def hint(err: BaseException, user_ns: dict | None = None) -> str | None:
    """One line that tells a reader which cell to run first, for a ``NameError`` on a name the notebook binds
    (None for other errors, or for a name no cell binds: a typo gets Python's own message)."""
    if not isinstance(err, NameError) or not getattr(err, "name", None):
        return None
    path = notebook_path(user_ns)
    if path is None:
        return (f"If the notebook makes {err.name!r} in a cell further up, run the cells above this one first "
                "(Run > Run All Above Selected Cell).")
    try:
        cell = defining_cell(err.name, json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError):
        return None
    if cell is None:
        return None
    where = f" under '{cell['heading']}'" if cell["heading"] else ""
    return (f"{err.name!r} is made by the cell{where} that begins `{cell['line']}`: run that cell first, or "
            "Run > Run All Above Selected Cell.")


def _handler(shell, etype, value, tb, tb_offset=None):
    text = hint(value, shell.user_ns)
    if text and text not in getattr(value, "__notes__", []):
        value.add_note(text)
    return shell.showtraceback((etype, value, tb), tb_offset=tb_offset)


def install(shell=None) -> bool:
    """Add :func:`hint`'s line to every ``NameError`` shown by this IPython kernel; True if installed. Called by
    ``import aelib`` inside a kernel; does nothing in a plain Python process."""
    if shell is None:
        try:
            from IPython import get_ipython
        except ImportError:  # pragma: no cover
            return False
        shell = get_ipython()
    if shell is None or type(shell).__name__ == "TerminalInteractiveShell":
        return False
    if getattr(shell, "custom_exceptions", ()) not in ((), (NameError,)):
        return False                                 # the front end has its own handler: leave it alone
    shell.set_custom_exc((NameError,), _handler)
    return True
