import json
import re

import pytest

from aelib.course import revision, selfcheck, syllabus


def _cells(nb):
    return json.loads(nb.path.read_text(encoding="utf-8"))["cells"]


def test_every_topic_notebook_has_a_selfcheck_with_valid_questions():
    for nb in syllabus.notebooks():
        if not nb.exists or nb.number in ("00", "15"):
            continue
        qs = selfcheck.questions_for(nb.number)
        assert len(qs) >= 2, nb.number
        for q in qs:
            assert q["prompt"] and q["explanation"]
            if "options" in q:
                assert 0 <= q["answer"] < len(q["options"]) <= len(selfcheck.LETTERS)
            else:
                assert isinstance(q["answer"], (int, float)) and q["tolerance"] >= 0
        cells = _cells(nb)
        keys = [c.get("metadata", {}).get("aelib", {}).get("generated") for c in cells]
        at = [i for i, k in enumerate(keys) if k == f"selfcheck:{nb.number}"]
        assert len(at) == 1, f"{nb.file} shows no self-check (or more than one)"
        assert cells[at[0]]["cell_type"] == "markdown"
        answer = max(i for i, c in enumerate(cells) if "## The exam answer" in "".join(c["source"]))
        assert at[0] > answer, f"{nb.file}: the self-check must follow the exam answer"


def test_selfcheck_markdown_hides_each_answer_behind_a_reveal():
    text = selfcheck.markdown("02")
    qs = selfcheck.questions_for("02")
    assert text.startswith("## Self-check")
    blocks = re.findall(r"<details><summary>Answer (\d)</summary>\n\n(.+?)\n\n</details>", text, re.S)
    assert [int(n) for n, _ in blocks] == list(range(1, len(qs) + 1))
    for (n, body), q in zip(blocks, qs):
        assert q["explanation"].split()[0] in body
        prompt_at, answer_at = text.index(f"**{n}.**"), text.index(f"<summary>Answer {n}<")
        assert prompt_at < answer_at                     # the question comes first, its answer after
    numeric = next(q for q in qs if "options" not in q)
    assert selfcheck.answer_text(numeric) == "about 203 (anything within ± 40 counts)"
    choice = next(q for q in qs if "options" in q)
    assert selfcheck.answer_text(choice).startswith(f"({selfcheck.LETTERS[choice['answer']]}) ")
    # each question's options are listed between its prompt and its (hidden) answer
    for n, q in enumerate(qs, start=1):
        between = text[text.index(f"**{n}.**"):text.index(f"<summary>Answer {n}<")]
        assert ("- (a) " in between) == ("options" in q), (n, between)


def test_generated_cells_match_their_sources():
    """The self-checks, the revision answers and the corrections table are written by aelib.course.revision; a
    notebook edited by hand, or a source changed without rerunning it, is caught here."""
    stale = {p.name: revision.stale_cells(p) for p in syllabus.notebook_paths()}
    assert not any(stale.values()), f"run python -m aelib.course.revision: {stale}"


def test_unknown_notebook():
    with pytest.raises(KeyError, match="notebooks with one"):
        selfcheck.questions_for("99")
    with pytest.raises(KeyError, match="unknown generated cell"):
        revision.generated("nothing:1")
