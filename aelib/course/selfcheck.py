"""Self-check questions: a few multiple-choice or numeric questions after each notebook's exam answer.

The questions live in ``selfchecks.json`` beside this file, keyed by notebook number, so they are written
once and tested once. A question is ``{"prompt", "options", "answer", "explanation"}`` (multiple choice:
``answer`` is the index of the right option) or ``{"prompt", "answer", "tolerance", "explanation"}``
(numeric: right if within ``tolerance`` of ``answer``).

A notebook shows its self-check as a markdown cell written by :func:`markdown`: the questions, and each answer
behind a ``<details>`` reveal, so it reads the same with or without a kernel (JupyterLab, Notebook 7, VS Code,
a repository page, the reading copy). ``python -m aelib.course.revision`` rewrites those cells from this file.
"""
from __future__ import annotations

import json
import textwrap
from functools import lru_cache
from pathlib import Path

_DATA = Path(__file__).with_name("selfchecks.json")
LETTERS = "abcdefgh"
WIDTH = 116  # markdown lines stay readable on a projected screen (tests check 120)


def wrap(text: str, indent: str = "") -> list[str]:
    """``text`` as markdown lines of at most :data:`WIDTH` characters (continuation lines indented by ``indent``)."""
    return textwrap.wrap(text, WIDTH, subsequent_indent=indent, break_long_words=False, break_on_hyphens=False)


@lru_cache(maxsize=1)
def _load() -> dict:
    return json.loads(_DATA.read_text(encoding="utf-8"))


def questions_for(number: str) -> list[dict]:
    """The self-check questions of notebook ``number`` (e.g. ``"03"``)."""
    data = _load()
    if number not in data:
        raise KeyError(f"no self-check for notebook {number!r}; notebooks with one: {', '.join(sorted(data))}")
    return data[number]


def answer_text(question: dict) -> str:
    """The right answer of one question as a sentence: ``"(b) G ≈ 0.9: ..."`` or ``"about 200 (± 40)"``."""
    if "options" in question:
        k = int(question["answer"])
        return f"({LETTERS[k]}) {question['options'][k]}"
    return f"about {question['answer']:g} (anything within ± {question['tolerance']:g} counts)"


def markdown(number: str) -> str:
    """Notebook ``number``'s self-check as markdown: each question with its options, then its answer and why
    inside a ``<details>`` element, closed until the reader opens it."""
    lines = ["## Self-check",
             "Answer each question for yourself first (on paper, or in your head); then open its answer."]
    for i, q in enumerate(questions_for(number), start=1):
        lines += [""] + wrap(f"**{i}.** {q['prompt']}")
        if "options" in q:
            lines.append("")
            for k, o in enumerate(q["options"]):
                lines += wrap(f"- ({LETTERS[k]}) {o}", indent="  ")
        lines += ["", f"<details><summary>Answer {i}</summary>", ""]
        lines += wrap(f"{answer_text(q)}. {q['explanation']}") + ["", "</details>"]
    return "\n".join(lines)
