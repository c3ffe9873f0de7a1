"""Self-check questions: a few multiple-choice or numeric questions after each notebook's exam answer.

The questions live in ``selfchecks.json`` beside this file, keyed by notebook number, so they are written
once and tested once. A question is ``{"prompt", "options", "answer", "explanation"}`` (multiple choice:
``answer`` is the index of the right option) or ``{"prompt", "answer", "tolerance", "explanation"}``
(numeric: right if within ``tolerance`` of ``answer``).
"""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

_DATA = Path(__file__).with_name("selfchecks.json")


@lru_cache(maxsize=1)
def _load() -> dict:
    return json.loads(_DATA.read_text(encoding="utf-8"))


def questions_for(number: str) -> list[dict]:
    """The self-check questions of notebook ``number`` (e.g. ``"03"``)."""
    data = _load()
    if number not in data:
        raise KeyError(f"no self-check for notebook {number!r}; notebooks with one: {', '.join(sorted(data))}")
    return data[number]


def grade(question: dict, response) -> tuple[bool, str]:
    """``(correct, feedback_html)`` for a response: an option index (multiple choice) or a number."""
    if response is None or response == "":
        return False, "Choose or type an answer first."
    if "options" in question:
        ok = int(response) == int(question["answer"])
        right = question["options"][question["answer"]]
        head = "Right." if ok else f"Not quite: the answer is <b>{right}</b>."
    else:
        try:
            value = float(response)
        except (TypeError, ValueError):
            return False, "Type a number."
        ok = abs(value - float(question["answer"])) <= float(question.get("tolerance", 0))
        head = "Right." if ok else f"Not quite: the answer is about <b>{question['answer']}</b>."
    return ok, f"{'✔' if ok else '✘'} {head} {question['explanation']}"


class SelfCheck:
    """Widgets for a list of questions: each has a control (radio buttons or a number box), a Check button
    and a feedback line. ``check(i)`` grades question ``i`` (what the button does); ``feedback[i]`` and
    ``correct[i]`` hold the result."""

    def __init__(self, questions: list[dict], title: str = "Self-check"):
        import ipywidgets as widgets
        if not questions:
            raise ValueError("SelfCheck needs at least one question")
        self.questions = questions
        self.inputs, self.outputs, self.buttons = [], [], []
        self.feedback, self.correct = [""] * len(questions), [None] * len(questions)
        rows = [widgets.HTMLMath(f"<b>{title}</b>: answer, then press Check.")]
        for i, q in enumerate(questions):
            if "options" in q:
                ctrl = widgets.RadioButtons(options=[(o, k) for k, o in enumerate(q["options"])], value=None,
                                            layout=widgets.Layout(width="auto"))
            else:
                ctrl = widgets.Text(placeholder="a number", layout=widgets.Layout(width="12em"))
            button = widgets.Button(description="Check", button_style="info")
            out = widgets.HTMLMath()
            button.on_click(lambda b, i=i: self.check(i))
            self.inputs.append(ctrl); self.buttons.append(button); self.outputs.append(out)
            rows += [widgets.HTMLMath(f"{i + 1}. {q['prompt']}"), ctrl, widgets.HBox([button, out])]
        self.widget = widgets.VBox(rows)
        self.widget.add_class("aelib-selfcheck")

    @classmethod
    def for_notebook(cls, number: str) -> "SelfCheck":
        """The self-check of notebook ``number``, from ``selfchecks.json``."""
        return cls(questions_for(number), title=f"Self-check for notebook {number}")

    def check(self, i: int) -> bool:
        """Grade question ``i`` from its control's current value and show the feedback."""
        ok, text = grade(self.questions[i], self.inputs[i].value)
        self.correct[i], self.feedback[i] = ok, text
        self.outputs[i].value = text
        return ok

    def _ipython_display_(self):
        from IPython.display import display
        display(self.widget)
