import json
from pathlib import Path

import pytest

from aelib import selfcheck, syllabus
from aelib.selfcheck import SelfCheck

ROOT = Path(__file__).resolve().parent.parent


def test_every_topic_notebook_has_a_selfcheck_with_valid_questions():
    for nb in syllabus.notebooks():
        if not nb.exists or nb.number in ("00", "15"):
            continue
        qs = selfcheck.questions_for(nb.number)
        assert len(qs) >= 2, nb.number
        for q in qs:
            assert q["prompt"] and q["explanation"]
            if "options" in q:
                assert 0 <= q["answer"] < len(q["options"])
            else:
                assert isinstance(q["answer"], (int, float)) and q["tolerance"] >= 0
        cells = json.loads(nb.path.read_text(encoding="utf-8"))["cells"]
        sources = ["".join(c["source"]) for c in cells]
        at = [i for i, s in enumerate(sources) if f'SelfCheck.for_notebook("{nb.number}")' in s]
        assert at, f"{nb.file} shows no self-check"
        answer = max(i for i, s in enumerate(sources) if "## The exam answer" in s)
        assert at[0] > answer, f"{nb.file}: the self-check must follow the exam answer"


def test_multiple_choice_right_and_wrong_feedback():
    q = {"prompt": "p", "options": ["a", "b", "c"], "answer": 1, "explanation": "because."}
    w = SelfCheck([q, {"prompt": "n", "answer": 58, "tolerance": 5, "explanation": "ratio."}])
    assert w.check(0) is False and "first" in w.feedback[0]          # nothing chosen yet
    w.inputs[0].value = 2
    assert w.check(0) is False and "the answer is <b>b</b>" in w.feedback[0] and "because." in w.feedback[0]
    w.inputs[0].value = 1
    w.buttons[0].click()                                             # the button does the same
    assert w.correct[0] is True and w.outputs[0].value.startswith("✔ Right.")
    w.inputs[1].value = "60"
    assert w.check(1) is True
    w.inputs[1].value = "100"
    assert w.check(1) is False and "about <b>58</b>" in w.feedback[1]
    w.inputs[1].value = "lots"
    assert w.check(1) is False and "Type a number" in w.feedback[1]


def test_unknown_notebook_and_empty():
    with pytest.raises(KeyError, match="notebooks with one"):
        selfcheck.questions_for("99")
    with pytest.raises(ValueError):
        SelfCheck([])
