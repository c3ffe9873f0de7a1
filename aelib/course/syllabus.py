"""The exam as data: 20 questions (``AE-1``…``AE-10``, ``VAE-1``…``VAE-10``), their marks, the
syllabus's own model answers (a starting point, not the truth), and the notebook that is each
question's home.

Everything is read from ``syllabus.json`` beside this file, so the notebooks, the README map and the
tests cannot drift apart. ``python -m aelib.course.syllabus`` rewrites the README's map (with each notebook's
run-all time from BENCHMARKS.md and its Colab link) and every other part generated from the repository's address
(:mod:`aelib.course.publish`).
"""
from __future__ import annotations

import json
import os
import re
import sys
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from . import publish

_DATA = Path(__file__).with_name("syllabus.json")
NOTEBOOK_DIR = Path(__file__).resolve().parents[2] / "notebooks"   # in a checkout (editable install)
NOTEBOOKS_ENV = "AELIB_NOTEBOOKS"


def notebook_dir() -> Path:
    """The folder holding the collection's notebooks.

    ``$AELIB_NOTEBOOKS`` if set; else ``notebooks/`` beside the package (a checkout with an editable
    install); else, for a regular ``pip install`` (Colab, a JupyterHub image), the current folder or its
    ``notebooks/`` subfolder if it holds ``00_start_here.ipynb`` (a notebook's kernel runs in its folder).
    Falls back to the checkout's path, where nothing exists, so every notebook reads as not written.
    """
    if os.environ.get(NOTEBOOKS_ENV):
        return Path(os.path.expanduser(os.environ[NOTEBOOKS_ENV])).absolute()
    for d in (NOTEBOOK_DIR, Path.cwd(), Path.cwd() / "notebooks"):
        if (d / "00_start_here.ipynb").exists():
            return d
    return NOTEBOOK_DIR


def notebook_paths() -> list[Path]:
    """The collection's notebook files, sorted; for the command-line tools (site, bench).

    Raises:
        FileNotFoundError: if :func:`notebook_dir` holds none, saying where it looked and what to do.
    """
    paths = sorted(notebook_dir().glob("*.ipynb"))
    if not paths:
        raise FileNotFoundError(
            f"no notebooks found (looked in {NOTEBOOK_DIR}, the current folder and its notebooks/): run this "
            f"from the collection's folder, or set {NOTEBOOKS_ENV} to the folder that holds 00_start_here.ipynb")
    return paths


def selected_paths(only=()) -> list[Path]:
    """The notebooks whose file names start with one of the prefixes ``only`` (all of them when empty), for the
    command-line tools' positional arguments (``python -m aelib.course.site 00 15``).

    Raises:
        FileNotFoundError: as :func:`notebook_paths`, or when no notebook name starts with a prefix given.
    """
    paths = notebook_paths()
    if only:
        paths = [p for p in paths if any(p.name.startswith(o) for o in only)]
        if not paths:
            raise FileNotFoundError(f"no notebook name starts with {', '.join(only)}")
    return paths


_ANSWER_START = re.compile(r"^\*\*(AE|VAE)-\d+ \(\d+ marks\)\.")


@dataclass(frozen=True)
class Question:
    """One exam question. ``marks`` is 2, 5 or 10; ``home`` is the number of the notebook that answers it."""

    id: str
    marks: int
    question: str
    syllabus_answer: str
    home: str
    points: tuple = ()
    evidence: str = ""


@dataclass(frozen=True)
class Notebook:
    """One notebook of the collection: ``number`` ("00"…"15"), ``file`` name and ``title``."""

    number: str
    file: str
    title: str

    @property
    def path(self) -> Path:
        return notebook_dir() / self.file

    @property
    def exists(self) -> bool:
        """False for a notebook that is planned but not written yet."""
        return self.path.exists()


@lru_cache(maxsize=1)
def _load():
    return json.loads(_DATA.read_text(encoding="utf-8"))


def questions() -> list[Question]:
    """All 20 questions in exam order, with their marking points and the evidence the collection measured."""
    return [Question(**{**q, "points": tuple(q.get("points", ()))}) for q in _load()["questions"]]


def corrections() -> list[dict]:
    """Where the syllabus's model answers are wrong or imprecise: ``{"question", "claim", "truth", "notebook"}``."""
    return list(_load()["corrections"])


def exam_answer(qid: str) -> str:
    """The collection's full-mark answer to ``qid``, as markdown, read from its home notebook.

    The answer is the paragraph block that starts with ``**ID (N marks).`` in the notebook's "exam answer"
    section, up to the next such block or heading. Reading it from the notebook keeps one copy of each answer.
    """
    q = question(qid)
    nb = notebook(q.home)
    if not nb.exists:
        raise FileNotFoundError(f"{qid}'s home notebook {nb.file} is not written yet")
    cells = json.loads(nb.path.read_text(encoding="utf-8"))["cells"]
    start = f"**{q.id} ({q.marks} marks)."
    for cell in cells:
        if cell["cell_type"] != "markdown":
            continue
        lines = "".join(cell["source"]).splitlines()
        for i, line in enumerate(lines):
            if line.startswith(start):
                out = [line]
                for nxt in lines[i + 1:]:
                    if nxt.startswith("#") or _ANSWER_START.match(nxt):
                        break
                    out.append(nxt)
                return "\n".join(out).strip()
    raise LookupError(f"{nb.file} has no exam answer starting with {start!r}")


def question(qid: str) -> Question:
    """The question with id ``qid`` (e.g. ``"AE-4"``, ``"VAE-7"``)."""
    for q in questions():
        if q.id == qid:
            return q
    ids = ", ".join(q.id for q in questions())
    raise KeyError(f"no question {qid!r}: the ids are {ids}")


def notebooks() -> list[Notebook]:
    """The notebooks in teaching order (planned ones included: see :attr:`Notebook.exists`)."""
    return [Notebook(**n) for n in _load()["notebooks"]]


def notebook(number: str) -> Notebook:
    """The notebook numbered ``number`` (e.g. ``"01"``)."""
    for n in notebooks():
        if n.number == number:
            return n
    raise KeyError(f"no notebook numbered {number!r}")


def quote(qid: str) -> str:
    """The markdown quote of a question as it opens its notebook: ``> **AE-4** (5 marks). text``."""
    q = question(qid)
    return f"> **{q.id}** ({q.marks} marks). {q.question}"


def map_table(link_prefix: str = "") -> str:
    """A markdown table: question, marks, home notebook (linked if written, else marked planned)."""
    rows = ["| question | marks | asks | notebook |", "|---|---|---|---|"]
    for q in questions():
        nb = notebook(q.home)
        where = f"[{nb.number} {nb.title}]({link_prefix}{nb.file})" if nb.exists else f"{nb.number} {nb.title} (planned)"
        asks = q.question if len(q.question) < 80 else q.question[:77].rstrip() + "…"
        rows.append(f"| {q.id} | {q.marks} | {asks} | {where} |")
    return "\n".join(rows)


MAP_START, MAP_END = "<!-- map:start -->", "<!-- map:end -->"


def readme_section(link_prefix: str = "notebooks/") -> str:
    """The README's generated map: the notebooks in teaching order, the questions each answers, its run-all time
    (from BENCHMARKS.md) and its Colab link (from the address in pyproject.toml), then which machine the times
    are for; then the question-by-question table, :func:`map_table`."""
    bench = publish.benchmark()
    try:
        where = publish.settings()
    except (FileNotFoundError, ValueError):          # a regular install: no pyproject, so no Colab links
        where = None
    rows = ["| notebook | answers | run all | open in |", "|---|---|--:|---|"]
    for nb in notebooks():
        answered = ", ".join(q.id for q in questions() if q.home == nb.number)
        answered = answered or {"00": "the map and an environment check",
                                "15": "revision: all 20 questions, the corrections, a mock paper"}.get(nb.number, "")
        name = f"[{nb.number} {nb.title}]({link_prefix}{nb.file})" if nb.exists else f"{nb.number} {nb.title} (planned)"
        colab = publish.colab_url(nb.file, where) if where else None
        rows.append(f"| {name} | {answered} | {publish.seconds_text(bench.seconds.get(nb.file))} | "
                    f"{f'[Colab]({colab})' if colab else ''} |")
    return ("\n".join(rows) + "\n\n" + publish.benchmark_sentence(bench) + "\n\nThe exam, question by question:\n\n"
            + map_table(link_prefix))


def update_readme(path: Path | str | None = None) -> bool:
    """Rewrite the map between the ``<!-- map:start -->`` and ``<!-- map:end -->`` lines of the README.

    Returns True if the file changed. Run it as ``python -m aelib.course.syllabus`` after adding a notebook.
    """
    path = Path(path) if path else NOTEBOOK_DIR.parent / "README.md"
    text = path.read_text(encoding="utf-8")
    if MAP_START not in text or MAP_END not in text:
        raise ValueError(f"{path} has no {MAP_START} … {MAP_END} section to fill")
    head, rest = text.split(MAP_START, 1)
    _, tail = rest.split(MAP_END, 1)
    new = f"{head}{MAP_START}\n{readme_section('notebooks/')}\n{MAP_END}{tail}"
    if new != text:
        path.write_text(new, encoding="utf-8")
    return new != text


def main(argv=None) -> int:
    """``python -m aelib.course.syllabus [--check]``: refresh (or, with ``--check``, only verify) the README's map and
    every part generated from the repository's address (:func:`aelib.course.publish.refresh`)."""
    import argparse
    parser = argparse.ArgumentParser(
        prog="python -m aelib.course.syllabus",
        description="Rewrite the generated map between <!-- map:start --> and <!-- map:end --> in the README "
                    "from aelib/course/syllabus.json and BENCHMARKS.md, and every part generated from the "
                    "repository's address in pyproject.toml (README badges, docs/ links, CITATION.cff, each "
                    "notebook's Colab cell). Run it after adding or renaming a notebook, after a benchmark run, "
                    "or after setting the address.")
    parser.add_argument("--check", action="store_true",
                        help="only say whether everything is current (exit 1 if not)")
    parser.add_argument("--readme", default=None, help="the README to update (default: the collection's)")
    args = parser.parse_args(argv)
    try:
        readme = Path(args.readme) if args.readme else notebook_paths()[0].parent.parent / "README.md"
    except FileNotFoundError as err:
        print(err, file=sys.stderr)
        return 2
    if args.check:
        text = readme.read_text(encoding="utf-8")
        current = readme_section("notebooks/") in text
        print(f"{readme}: map {'current' if current else 'stale: run python -m aelib.course.syllabus'}")
    else:
        current = True
        print(f"{readme}: map updated" if update_readme(readme) else f"{readme}: map already current")
    if args.readme:                                  # another README: the address-generated parts are not its
        return 0 if current else 1
    try:
        stale = publish.refresh(readme.parent, write=not args.check)
    except (FileNotFoundError, ValueError) as err:
        print(err, file=sys.stderr)
        return 2
    for part in stale:
        print(f"{part}: {'stale: run python -m aelib.course.syllabus' if args.check else 'updated'}")
    if not stale:
        print(f"{readme.parent}: every part generated from the address ({publish.settings(readme.parent).repository})"
              " is current")
    return 0 if current and not (args.check and stale) else 1


if __name__ == "__main__":
    sys.exit(main())
