"""The chapters' exercises and their worked solutions.

Each topic notebook ends with a markdown cell ``## Exercises`` (a numbered list) and, after it, a markdown cell of
solutions: for exercise N a reveal ``<details><summary><b>Solution N</b>: ...</summary> ... </details>`` holding the
code (fenced ``python`` blocks), what it printed when it was written, and what the result means. The reveal is
closed until the reader opens it, and it is plain markdown, so it reads without a kernel (JupyterLab, Notebook 7,
VS Code, a repository page, the reading copy). The code runs after the chapter (it uses the chapter's models and
data); the test suite runs every solution in the chapter's own kernel after nbval has run its cells, and the asserts
inside the code are what the prose claims.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

_REVEAL = re.compile(r"<details>\s*<summary>\s*<b>Solution (\d+)</b>(.*?)</summary>(.*?)</details>", re.S)
_CODE = re.compile(r"```python\n(.*?)```", re.S)


@dataclass(frozen=True)
class Solution:
    """One worked solution: the exercise's ``number`` (1-based), its ``title`` (the summary line after "Solution N")
    and ``code``, every python block of its reveal joined by a blank line, as a student would paste it."""
    number: int
    title: str
    code: str


def _markdown(nb) -> list[str]:
    return [c.source for c in nb.cells if c.cell_type == "markdown"]


def exercises(nb) -> list[str]:
    """The exercises of a notebook (an ``nbformat`` notebook): the items of its ``## Exercises`` list, each as one
    line of text (wrapped lines joined). ``[]`` when it has none."""
    for source in _markdown(nb):
        if re.match(r"#+ Exercises\s*$", source.splitlines()[0] if source else ""):
            items, current = [], None
            for line in source.splitlines()[1:]:
                m = re.match(r"(\d+)\. (.*)", line)
                if m:
                    current = m.group(2).strip()
                    items.append(current)
                elif current is not None and line.strip():
                    items[-1] = items[-1] + " " + line.strip()
            return items
    return []


def solutions(nb) -> list[Solution]:
    """The worked solutions of a notebook, in order of their numbers.

    Raises:
        ValueError: a solution without a python block, or a number given twice.
    """
    found = {}
    for source in _markdown(nb):
        for m in _REVEAL.finditer(source):
            number, title, body = int(m.group(1)), m.group(2).strip(" :\n"), m.group(3)
            blocks = [b.strip("\n") for b in _CODE.findall(body)]
            if not blocks:
                raise ValueError(f"Solution {number} has no python code block (```python ... ```)")
            if number in found:
                raise ValueError(f"Solution {number} appears twice")
            found[number] = Solution(number, re.sub(r"<[^>]+>", "", title), "\n\n".join(blocks))
    return [found[k] for k in sorted(found)]
