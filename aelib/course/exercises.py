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

import os
import platform
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from unittest import mock

from . import syllabus
from .claims import PROVENANCE, provenance_line

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


_SEGMENT = re.compile(r"^```(\w*)\n(.*?)^```[ \t]*$", re.S | re.M)


def cpu_name() -> str:
    """The CPU model as the provenance lines name it (``AMD EPYC``, ``Intel(R) Xeon(R) CPU @ 2.20GHz``)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip().replace(",", "")
    except OSError:
        pass
    return (platform.processor() or platform.machine() or "an unknown CPU").replace(",", "")


def _with_outputs(body: str, outputs: list[str], provenance: str) -> str:
    """``body`` (one reveal's inside) with its plain fenced blocks replaced, in order, by ``outputs``, each preceded by
    the ``provenance`` line (an old provenance line before a block is replaced, not repeated)."""
    pieces, pos, k = [], 0, 0
    for m in _SEGMENT.finditer(body):
        if m.group(1):
            continue
        before = body[pos:m.start()]
        lines = before.rstrip("\n").split("\n")
        if lines and PROVENANCE.match(lines[-1].strip()):
            before = "\n".join(lines[:-1]).rstrip("\n") + "\n\n"
        pieces.append(before + provenance + "\n\n```\n" + outputs[k].rstrip("\n") + "\n```")
        k += 1
        pos = m.end()
    return "".join(pieces) + body[pos:]


def refresh_outputs(path, seed: int = 0, threads: int = 1, timeout: int = 900) -> list[int]:
    """Run notebook ``path`` (with ``AELIB_SEED=seed`` and ``AELIB_THREADS=threads``), then its solutions' code blocks
    one by one in the same kernel, and rewrite every stored output block with what the code before it printed
    (stdout), preceded by the provenance line (:func:`aelib.course.claims.provenance_line`). Returns the numbers of
    the solutions whose stored output changed.

    Raises:
        RuntimeError: when a cell or a solution fails (nothing is written).
    """
    import nbformat
    from nbclient import NotebookClient
    path = Path(path)
    nb = nbformat.read(path, as_version=4)
    run = nbformat.read(path, as_version=4)
    plan = []                                          # (cell index, reveal number, block kind) for each segment
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "markdown":
            continue
        for m in _REVEAL.finditer(cell.source):
            for seg in _SEGMENT.finditer(m.group(3)):
                plan.append((i, int(m.group(1)), seg.group(1)))
                if seg.group(1) == "python":
                    run.cells.append(nbformat.v4.new_code_cell(seg.group(2).strip("\n")))
    client = NotebookClient(run, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    with mock.patch.dict(os.environ, AELIB_SEED=str(seed), AELIB_THREADS=str(threads)):   # the kernel inherits them
        try:
            client.execute()
        except Exception as e:
            raise RuntimeError(f"{path.name}: the run failed, nothing written: {str(e)[-800:]}") from e
    printed = iter([
        "".join("".join(o.get("text", "")) for o in c.get("outputs", [])
                if o.get("output_type") == "stream" and o.get("name") == "stdout")
        for c in run.cells[len(nb.cells):]])
    by_reveal, pending = {}, ""
    for i, number, kind in plan:
        if kind == "python":
            pending += next(printed)
        elif not kind:
            by_reveal.setdefault((i, number), []).append(pending)
            pending = ""
    line = provenance_line(cpu_name(), threads, seed)
    changed = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "markdown" or not _REVEAL.search(cell.source):
            continue

        def rewrite(m, i=i):
            outs = by_reveal.get((i, int(m.group(1))))
            if not outs:
                return m.group(0)
            body = _with_outputs(m.group(3), outs, line)
            if body != m.group(3):
                changed.append(int(m.group(1)))
            return m.group(0)[:m.start(3) - m.start(0)] + body + m.group(0)[m.end(3) - m.start(0):]

        cell.source = _REVEAL.sub(rewrite, cell.source)
    if changed:
        nbformat.write(nb, path)
    return changed


def main(argv=None) -> int:
    """``python -m aelib.course.exercises --outputs NN [NN ...]``: run the notebooks and their solutions, and write
    every stored solution output block from that run, with the line that says where it was produced."""
    import argparse

    import nbformat
    parser = argparse.ArgumentParser(prog="python -m aelib.course.exercises", description=main.__doc__.split(": ", 1)[1])
    parser.add_argument("--outputs", nargs="+", required=True, metavar="NN", help="notebook number prefixes")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1, help="AELIB_THREADS for the run (1: bit-identical reruns)")
    args = parser.parse_args(argv)
    for path in syllabus.selected_paths(args.outputs):
        if not solutions(nbformat.read(path, as_version=4)):
            continue
        changed = refresh_outputs(path, seed=args.seed, threads=args.threads)
        print(f"{path.name}: {'rewrote solutions ' + ', '.join(map(str, changed)) if changed else 'current'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
