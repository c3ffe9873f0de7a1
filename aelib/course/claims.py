"""Is the text true on the reader's machine? Three checks that keep a chapter's prose honest on any CPU, seed and
thread count (the tests run them on every notebook; see ``docs/contributing.md``).

1. :func:`unbacked_numbers`: a number in markdown that reports a measurement ("about 0.13", "3-6 nats", "1.1x",
   "about a third") must be backed where the reader can see it: its value or range appears in an ``assert`` of the
   same notebook (a chapter's cells or its solutions' code; for the revision notebook's generated answers, the
   answer's home notebook), or its sentence says the value is *printed* (``printed above``, ``this run``), or the
   number is a paper's (a citation such as ``Burda et al. 2016`` in the same clause), or it is exact (``closed
   form``, ``exactly``, ``by construction``). Numbers without digits ("about a third", "two to three times", "a
   handful") cannot match an assert, so their sentence must say ``asserted`` or ``printed``. A **timing** (seconds,
   "faster", "time per step", a cost ratio) is a property of the machine: only ``printed`` or a range labelled with
   the machines it was measured on (``AMD EPYC``, ``Intel Xeon``, ``H200`` ...) backs it; an assert does not.
   Settings are not measurements and are not flagged: "15 epochs", "100 labels", "70 % of its pixels" (a number
   followed by a setting word), the exercises' list, years, thresholds written as comparisons.
2. :func:`stored_output_blocks` / :func:`missing_provenance`: every output block stored in a worked solution (a
   plain fenced block after its code) is preceded by a line that says what produced it, :data:`PROVENANCE`:
   the CPU, the thread count and the seed, and that the reader's digits will differ. ``python -m
   aelib.course.exercises --outputs NN`` writes them from a run.
3. :func:`output_warnings`: warnings on stderr in a cell's outputs (``RuntimeWarning``, matplotlib's "No artists
   with labels found to put in legend" ...) fail the test run (``conftest.py`` checks every cell nbval runs)
   unless the cell says why it is expected, with a comment ``# expected warning: <why>``.
"""
from __future__ import annotations

import json
import math
import re
import sys
from dataclasses import dataclass

from . import syllabus

# -- 1. numbers in the prose -----------------------------------------------------------------------------------

_FENCE = re.compile(r"```.*?```", re.S)
_MATH = re.compile(r"\$\$.+?\$\$|\$[^$]+?\$", re.S)
_CODE = re.compile(r"`[^`\n]*`")
_TAG = re.compile(r"<[^>\n]+>")
_LINK = re.compile(r"\]\([^)\s]*\)")
_SENTENCES = re.compile(r"(?<=[.!?])(?<!al\.)(?<!e\.g\.)(?<!i\.e\.)(?<!Fig\.)(?<!\bvs\.)\s+(?=[A-Z\u0370-\u03ff*(\[_$`])|\n\s*\n|\n(?=\s*(?:[*-]|\d+\.) )|\n(?=\|)")

_NUM = r"[−-]?\d[\d,]*(?:\.\d+)?(?:e-?\d+)?"
_UNIT = r"(?:\s?%|\s?nats?\b|\s?dB\b|\s?×(?!\d)|x\b|\s?times\b|\ss\b|\s?ms\b|\s?seconds?\b|\s?per cent\b)"
_QUANT = (r"(?:about|≈|~|around|roughly|nearly|almost|measured(?: at)?|at least|at most|more than|less than|"
          r"fewer than|by|within|up to)")
_WORD = r"(?:two|three|four|five|six|ten|twenty|thirty|fifty|a hundred|hundreds of|a thousand|thousands of|a million)"
TOKENS = (
    re.compile(rf"(?:{_QUANT}\s*)?{_NUM}(?:\s*(?:-|–|to|and)\s*{_NUM})?{_UNIT}", re.I),  # 3-6 nats, 1.1×, 28 %
    re.compile(rf"{_QUANT}\s*{_NUM}(?:\s*(?:-|–|to)\s*{_NUM})?", re.I),                 # about 0.13, ≈ 80
    re.compile(r"(?<![\w.])\d+\.\d+(?:\s*(?:-|–|to)\s*\d+\.\d+)?(?![\w.])"),       # 0.73-0.75, 93.5
    re.compile(r"\b(?:about|roughly|nearly|almost|around|over|more than|less than|under)\s+(?:a|one|two|three|half)?"
               r"\s*(?:half|third|quarter|fifth|tenth|thousand|million|hundred)s?\b", re.I),  # about a third
    re.compile(rf"\b(?:twice|{_WORD}(?: (?:to|or) {_WORD})?\s+times)\b", re.I),      # two to three times
    re.compile(r"\ba handful\b|\bseveral times\b", re.I),
    re.compile(r"\b(?:about|under|over|less than|more than|within|in)\s+(?:a|one|two|three|a few|several)\s+"
               r"(?:seconds?|minutes?)\b", re.I),                                    # about a second (a timing)
)
# a number followed by one of these words is a setting of the experiment, not a measurement
_SETTING = re.compile(r"\s*(?:the chapter's |the |as )?(?:epochs?|images?|digits?|units?|labels?|labelled|"
                      r"pixels?|steps?|samples?|draws?|dimensions?|classes|layers?|per class|of (?:its|the|all|their) |"
                      r"hidden|replicates|seeds?|test images|training images|long\b|data\b|training\b|step\b)")
# a number written as a comparison or a threshold ("x > 0.5", "above 0.9 sure", "target 0.5") defines, not measures
_DEFINES = re.compile(r"(?:[<>≤≥=]|\bside of|\btarget|\bthreshold|\babove|\bbelow|\bσ =|\bp =|\bλ =|\bβ =|"
                      r"\bk =|\blr|\bstep size|\bstrength|\brate)\s*$")
_CONSTANT = re.compile(r"\b(?:ln|log) \d+\s*$")          # ln 2 ≈ 0.693, ln 10 = 2.30
_YEAR = re.compile(r"^(?:19|20)\d\d$")
CITATION = re.compile(r"[A-Z][\w\-]+(?: et al\.| & [A-Z][\w\-]+| and [A-Z][\w\-]+)?,? \(?(?:19|20)\d\d\b|"
                      r"\bet al\.|\b(?i:the paper)\b|\bTable \d|\bFigure \d|\bFig\. \d")
PRINTED = re.compile(r"\bprinted\b|\bthis run\b|\bthe run above\b|\bshown above\b")
ASSERTED = re.compile(r"\basserted\b|\bchecked (?:above|below|by an assert)\b")
EXACT = re.compile(r"\bclosed form\b|\bexactly\b|\bby construction\b|\bby definition\b|\bexact\b")
TIMING = re.compile(r"\d\s(?:s|ms)\b|\dms\b|\b(?:seconds?|minutes?|hours?)\b|\btime per\b|\bfaster\b|\bslower\b|"
                    r"\bcosts? about\b|\btraining time\b|\bwall[- ]clock\b|\btimed\b|\b(?:its|the|AE's|VAE's) time\b")
MACHINE = re.compile(r"AMD EPYC|Intel|Xeon|H100|H200|Apple|GPU|BENCHMARKS")


@dataclass(frozen=True)
class Claim:
    """A number in the prose that nothing backs: the notebook cell (0-based index), the token and its sentence."""
    cell: int
    token: str
    sentence: str
    why: str

    def __str__(self) -> str:
        return f"cell {self.cell}: {self.token!r} ({self.why}) in: {self.sentence[:150]}"


def _math_number(m) -> str:
    """A math span as prose: a number it states (``$G\\approx0.9$`` -> `` ≈0.9 ``, ``$10^{-6}$`` -> `` 1e-6 ``) stays
    visible to the checks; any other formula goes."""
    body = m.group(0).strip("$")
    body = re.sub(r"10\^\{?([−-]?\d+)\}?", lambda p: "1e" + p.group(1).replace("−", "-"), body)
    approx = re.search(r"(?:\\approx|≈)\s*([−-]?\d[\d.,]*(?:e-?\d+)?)\b", body)
    if approx:
        lhs = re.sub(r"\\[a-zA-Z]+|\be\b", " ", body[:approx.start()])      # commands (\\sigma, \\ln) and e
        if not re.search(r"[A-Za-z]", lhs) or float(approx.group(1).replace(",", "").replace("−", "-")) == 0:
            return " "                                   # a constant (σ(−6) ≈ 0.0025, log₂e ≈ 1.44) or "≈ 0"
        return f" ≈ {approx.group(1)} "
    if re.fullmatch(r"\s*[−-]?\d[\d.,]*(?:e-?\d+)?\s*", body):
        return f" {body.strip()} "
    return " "


def _clean(text: str) -> str:
    text = _FENCE.sub(" ", text)
    text = _MATH.sub(_math_number, text)
    for rx in (_CODE, _LINK, _TAG):
        text = rx.sub(" ", text)
    return text


def _paren(sentence: str, start: int) -> int | None:
    """The index of the "(" that encloses position ``start`` of ``sentence``, or None."""
    depth = 0
    for i in range(start - 1, -1, -1):
        if sentence[i] == ")":
            depth += 1
        elif sentence[i] == "(":
            if depth == 0:
                return i
            depth -= 1
    return None


def _cited(sentence: str, start: int, end: int) -> bool:
    """Whether the number at ``[start, end)`` is a paper's: a citation in its parenthetical or in the sentence before
    that parenthetical; for a number outside parentheses, in the sentence outside them or in the next one."""
    open_at = _paren(sentence, start)
    if open_at is None:                    # the sentence outside parentheses, and the parenthetical that follows
        outside = re.sub(r"\([^()]*\)", " ", sentence)
        after = re.search(r"\([^()]*\)", sentence[end:])
        return bool(CITATION.search(outside) or (after and CITATION.search(after.group(0))))
    depth, close_at = 0, len(sentence)
    for i in range(end, len(sentence)):
        if sentence[i] == "(":
            depth += 1
        elif sentence[i] == ")":
            if depth == 0:
                close_at = i
                break
            depth -= 1
    return bool(CITATION.search(sentence[open_at:close_at]) or CITATION.search(sentence[:open_at]))


def _clause(sentence: str, start: int, end: int) -> str:
    """The part of ``sentence`` around ``[start, end)`` up to the enclosing parentheses, a ";" or the ends."""
    depth, left = 0, 0
    for i in range(start - 1, -1, -1):
        ch = sentence[i]
        if ch == ")":
            depth += 1
        elif ch == "(":
            if depth == 0:
                left = i + 1
                break
            depth -= 1
        elif ch == ";" and depth == 0:
            left = i + 1
            break
    depth, right = 0, len(sentence)
    for i in range(end, len(sentence)):
        ch = sentence[i]
        if ch == "(":
            depth += 1
        elif ch == ")":
            if depth == 0:
                right = i
                break
            depth -= 1
        elif ch == ";" and depth == 0:
            right = i
            break
    return sentence[left:right]


def _numbers(token: str) -> list[str]:
    return [n.replace(",", "") for n in re.findall(r"\d[\d,]*(?:\.\d+)?(?:e-?\d+)?", token)]


def _in(number: str, code: str) -> bool:
    """Whether ``number`` appears as a literal in ``code`` ("3" in "x > 3 * y", not in "0.3" or "32")."""
    variants = {number}
    if "." in number:
        variants.add(number.rstrip("0").rstrip("."))          # 0.10 -> 0.1
    if number.startswith("0."):
        variants.add(number[1:])                               # 0.5 -> .5
    try:
        k = round(math.log10(float(number)))
        if k >= 1 and float(number) == 10 ** k:
            variants |= {f"1e-{k}", f"1e{k}"}                  # 100,000 times smaller <-> 1e-5
    except ValueError:
        pass
    return any(re.search(rf"(?<![\d.]){re.escape(v)}(?![\d])(?!\.\d)", code) for v in variants if v)


def _fraction(value: float) -> str:
    """``0.8`` -> ``"0.8"``, ``1.1`` -> ``"1.1"``: a number as an assert writes it."""
    return f"{value:.6f}".rstrip("0").rstrip(".")


def _backs(number: str, asserts: str, percent: bool, within: bool = False) -> bool:
    """Whether ``asserts`` hold ``number``; a percentage as an assert writes it: 80 % as 0.8, "within 10 %" as 0.1,
    1.1 or 0.9 (the number itself is not enough: "5" is in many asserts, "0.05" is a claim)."""
    if not percent:
        return _in(number, asserts)
    f = float(number) / 100
    return any(_in(_fraction(v), asserts) for v in ((f, 1 + f, 1 - f) if within else (f,)) if v > 0)


def assert_lines(nb) -> str:
    """Every line that holds an ``assert`` in ``nb`` (its code cells and the python code of its solutions), without
    its comment: a number in a comment is not checked."""
    out = []
    for cell in nb["cells"]:
        src = _source(cell)
        blocks = [src] if cell["cell_type"] == "code" else re.findall(r"```python\n(.*?)```", src, re.S)
        for block in blocks:
            out += [line.split("#", 1)[0] for line in block.splitlines() if "assert" in line.split("#", 1)[0]]
    return "\n".join(out)


def _source(cell) -> str:
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def _is_exercises(text: str) -> bool:
    return bool(re.match(r"#+ Exercises\s*$", text.splitlines()[0] if text else ""))


def unbacked_in_text(text: str, asserts: str, cell: int = 0) -> list[Claim]:
    """The measurement-like numbers of one markdown text that nothing backs (see the module's rules)."""
    found, seen = [], set()
    for raw in _SENTENCES.split(_clean(text)):
        s = " ".join(raw.split())
        if not s or re.match(r"\|\s*-", s):
            continue
        spans = []
        for rx in TOKENS:
            for m in rx.finditer(s):
                if any(a <= m.start() < b or m.start() <= a < m.end() for a, b in spans):
                    continue                          # one claim, one report (the widest token wins: TOKENS order)
                spans.append((m.start(), m.end()))
                token = m.group(0).strip()
                nums = _numbers(token)
                if nums and all(_YEAR.match(n) for n in nums):
                    continue
                quantified = re.match(_QUANT, token, re.I) is not None
                if not quantified and (_SETTING.match(s[m.end():]) or (nums and _DEFINES.search(s[:m.start()]))):
                    continue
                if _CONSTANT.search(s[:m.start()]):
                    continue
                clause = _clause(s, m.start(), m.end())
                timing = bool(TIMING.search(token) or TIMING.search(" ".join(s[m.end():].split()[:4]))
                              or TIMING.search(" ".join(s[:m.start()].split()[-5:])))
                if timing:
                    if PRINTED.search(s) or MACHINE.search(clause):
                        continue
                    why = "a timing: print it, or give the range with the machines it was measured on"
                else:
                    if _cited(s, m.start(), m.end()) or EXACT.search(s) or PRINTED.search(s):
                        continue
                    percent = "%" in token or "per cent" in token
                    within = token.lower().startswith("within")
                    if nums and all(_backs(n, asserts, percent, within) for n in nums):
                        continue
                    if not nums and ASSERTED.search(s):
                        continue
                    why = ("no assert in this notebook holds " + " / ".join(nums) if nums else
                           "a number in words: say it is asserted (and assert it) or printed")
                key = (token, s)
                if key not in seen:
                    seen.add(key)
                    found.append(Claim(cell, token, s, why))
    return found


def unbacked_numbers(nb, asserts_from=None) -> list[Claim]:
    """The unbacked measurement numbers of ``nb``'s markdown cells (its exercises' list excepted). ``asserts_from``:
    a function ``(cell) -> str`` giving the assert lines that back a cell (default: the notebook's own)."""
    own = assert_lines(nb)
    out = []
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] != "markdown":
            continue
        text = _source(cell)
        if _is_exercises(text):
            continue
        asserts = asserts_from(cell) if asserts_from else own
        if asserts is None:
            continue
        out += unbacked_in_text(text, asserts, i)
    return out


# -- 2. the provenance of stored solution outputs ---------------------------------------------------------------

PROVENANCE = re.compile(r"^\*Printed on (?P<machine>[^,*]+), (?P<threads>\d+) threads?, seed (?P<seed>\d+); "
                        r"another CPU, thread count or seed changes the digits:\*$")
_REVEAL = re.compile(r"<details>\s*<summary>\s*<b>Solution (\d+)</b>.*?</summary>(.*?)</details>", re.S)
_BLOCK = re.compile(r"^```(\w*)\n(.*?)^```\s*$", re.S | re.M)


def provenance_line(machine: str, threads: int, seed: int) -> str:
    """The line that precedes every stored output block: ``*Printed on AMD EPYC, 1 thread, seed 0; another CPU,
    thread count or seed changes the digits:*``."""
    return (f"*Printed on {machine}, {threads} thread{'s' if threads != 1 else ''}, seed {seed}; another CPU, "
            "thread count or seed changes the digits:*")


@dataclass(frozen=True)
class OutputBlock:
    """One stored output block of a worked solution: the solution's number, the line before the block (where
    the provenance belongs) and the block's text."""
    solution: int
    line_before: str
    text: str


def stored_output_blocks(nb) -> list[OutputBlock]:
    """Every plain fenced block (not ```python) inside a notebook's solution reveals."""
    out = []
    for cell in nb["cells"]:
        if cell["cell_type"] != "markdown":
            continue
        for m in _REVEAL.finditer(_source(cell)):
            body = m.group(2)
            for b in _BLOCK.finditer(body):
                if b.group(1):
                    continue
                before = [line for line in body[:b.start()].splitlines() if line.strip()]
                out.append(OutputBlock(int(m.group(1)), before[-1] if before else "", b.group(2)))
    return out


def missing_provenance(nb) -> list[OutputBlock]:
    """The stored output blocks not preceded by a :data:`PROVENANCE` line."""
    return [b for b in stored_output_blocks(nb) if not PROVENANCE.match(b.line_before.strip())]


# -- 3. warnings in a cell's outputs ----------------------------------------------------------------------------

WARNING = re.compile(r"\b\w*Warning\b(?!s)|No artists with labels|\bwarn\(|RuntimeWarning")
EXPECTED = re.compile(r"#\s*expected warning:\s*\S")


def output_warnings(outputs, source: str = "") -> list[str]:
    """The warning lines on stderr in a cell's ``outputs`` (nbformat output dicts), unless the cell's ``source``
    says why one is expected (``# expected warning: <why>``)."""
    if EXPECTED.search(source or ""):
        return []
    lines = []
    for out in outputs or []:
        if out.get("output_type") != "stream" or out.get("name") != "stderr":
            continue
        text = out.get("text", "")
        text = "".join(text) if isinstance(text, list) else text
        lines += [line.strip() for line in text.splitlines() if WARNING.search(line)]
    return lines


# -- the collection -----------------------------------------------------------------------------------------------

def _home_of(cell) -> str | None:
    """The home notebook of a revision-notebook cell generated from another notebook (``answer:AE-4`` -> ``02``)."""
    key = cell.get("metadata", {}).get("aelib", {}).get("generated", "")
    kind, _, arg = key.partition(":")
    if kind == "answer":
        return syllabus.question(arg).home
    if kind == "selfcheck":
        return arg
    return None


def collection_claims(paths) -> dict[str, list[Claim]]:
    """Unbacked numbers by notebook number for the notebooks ``paths``. A generated answer cell of the revision
    notebook is checked against its home notebook's asserts and reported under the home's number; the corrections
    table row by row, each against its question's home."""
    books = {p.name[:2]: json.loads(p.read_text(encoding="utf-8")) for p in paths}
    asserts = {n: assert_lines(nb) for n, nb in books.items()}
    out = {n: [] for n in books}
    for number, nb in books.items():
        homes = {}

        def backing(cell, number=number):
            if cell.get("metadata", {}).get("aelib", {}).get("generated") == "corrections":
                return None                            # checked row by row above
            home = _home_of(cell) if number == "15" else None
            if home is None:
                return asserts[number]
            return asserts.get(home)                   # None: the home is not among ``paths``

        for i, cell in enumerate(nb["cells"]):
            key = cell.get("metadata", {}).get("aelib", {}).get("generated", "")
            if number == "15" and key == "corrections":
                for row in _source(cell).splitlines()[2:]:
                    qid = row.strip("| ").split(" | ")[0]
                    home = syllabus.question(qid).home
                    if home in asserts:
                        out[home] += unbacked_in_text(row, asserts[home], i)
                continue
            if number == "15" and _home_of(cell):
                homes[i] = _home_of(cell)
        found = unbacked_numbers(nb, backing)
        for c in found:
            where = homes.get(c.cell, number)
            out.setdefault(where, []).append(c if where == number else
                                             Claim(c.cell, c.token, c.sentence, f"{c.why}; in notebook 15"))
    return out


def main(argv=None) -> int:
    """``python -m aelib.course.claims [NN ...]``: list the unbacked numbers and the stored outputs without
    provenance of the notebooks (all by default)."""
    import argparse
    parser = argparse.ArgumentParser(prog="python -m aelib.course.claims", description=main.__doc__.split(": ", 1)[1])
    parser.add_argument("only", nargs="*", help="notebook number prefixes (default: all)")
    args = parser.parse_args(argv)
    paths = syllabus.selected_paths(args.only)
    bad = 0
    for number, claims in sorted(collection_claims(paths).items()):
        for c in claims:
            print(f"{number} {c}")
        bad += len(claims)
    for p in paths:
        for b in missing_provenance(json.loads(p.read_text(encoding="utf-8"))):
            print(f"{p.name[:2]} solution {b.solution}: stored output without the provenance line")
            bad += 1
    print(f"{bad} problems")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
