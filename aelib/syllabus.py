"""The exam as data: 20 questions (``AE-1``…``AE-10``, ``VAE-1``…``VAE-10``), their marks, the
syllabus's own model answers (a starting point, not the truth), and the notebook that is each
question's home.

Everything is read from ``syllabus.json`` beside this file, so the notebooks, the README map and the
tests cannot drift apart.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

_DATA = Path(__file__).with_name("syllabus.json")
NOTEBOOK_DIR = Path(__file__).resolve().parent.parent / "notebooks"


@dataclass(frozen=True)
class Question:
    """One exam question. ``marks`` is 2, 5 or 10; ``home`` is the number of the notebook that answers it."""

    id: str
    marks: int
    question: str
    syllabus_answer: str
    home: str


@dataclass(frozen=True)
class Notebook:
    """One notebook of the collection: ``number`` ("00"…"15"), ``file`` name and ``title``."""

    number: str
    file: str
    title: str

    @property
    def path(self) -> Path:
        return NOTEBOOK_DIR / self.file

    @property
    def exists(self) -> bool:
        """False for a notebook that is planned but not written yet."""
        return self.path.exists()


@lru_cache(maxsize=1)
def _load():
    return json.loads(_DATA.read_text(encoding="utf-8"))


def questions() -> list[Question]:
    """All 20 questions in exam order."""
    return [Question(**q) for q in _load()["questions"]]


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


def update_readme(path: Path | str | None = None) -> bool:
    """Rewrite the map between the ``<!-- map:start -->`` and ``<!-- map:end -->`` lines of the README.

    Returns True if the file changed. Run it as ``python -m aelib.syllabus`` after adding a notebook.
    """
    path = Path(path) if path else NOTEBOOK_DIR.parent / "README.md"
    text = path.read_text(encoding="utf-8")
    if MAP_START not in text or MAP_END not in text:
        raise ValueError(f"{path} has no {MAP_START} … {MAP_END} section to fill")
    head, rest = text.split(MAP_START, 1)
    _, tail = rest.split(MAP_END, 1)
    new = f"{head}{MAP_START}\n{map_table('notebooks/')}\n{MAP_END}{tail}"
    if new != text:
        path.write_text(new, encoding="utf-8")
    return new != text


if __name__ == "__main__":
    print("README map updated" if update_readme() else "README map already current")
