"""Exam revision: answer cards with a "show the model answer" toggle, and a mock exam.

Everything shown comes from :mod:`aelib.syllabus`: the questions, marking points and evidence from
``syllabus.json``, the full-mark answers from the notebooks themselves (:func:`aelib.syllabus.exam_answer`).
"""
from __future__ import annotations

import random
import re

from . import syllabus

_MATH = re.compile(r"(\$\$.+?\$\$|\$[^$\n]+?\$)", re.S)


def markdown_html(text: str) -> str:
    """Markdown to HTML for an ``ipywidgets.HTMLMath``, leaving ``$...$`` and ``$$...$$`` untouched for MathJax."""
    import mistune
    spans = []

    def keep(m):
        spans.append(m.group(0))
        return f"MATHSPAN{len(spans) - 1}END"

    html = mistune.html(_MATH.sub(keep, text))
    return re.sub(r"MATHSPAN(\d+)END", lambda m: spans[int(m.group(1))], html)


def _where(q) -> str:
    nb = syllabus.notebook(q.home)
    return f'<a href="{nb.file}" target="_blank">notebook {nb.number}: {nb.title}</a>'


class AnswerCard:
    """One question with its marks, a toggle that reveals the model answer, where it is demonstrated, and the
    measured evidence. ``shown`` tells whether the answer is visible; ``answer_html`` is what is shown."""

    def __init__(self, qid: str):
        import ipywidgets as widgets
        self.question = syllabus.question(qid)
        q = self.question
        self.answer_html = (markdown_html(syllabus.exam_answer(qid))
                            + f"<p><i>Demonstrated in {_where(q)}. Evidence: {q.evidence}.</i></p>")
        self.toggle = widgets.ToggleButton(description="show the model answer", value=False, icon="eye")
        self.body = widgets.HTMLMath()
        self.toggle.observe(lambda change: self._update(), names="value")
        self.widget = widgets.VBox([widgets.HTMLMath(f"<b>{q.id}</b> ({q.marks} marks). {q.question}"),
                                    self.toggle, self.body])
        self.widget.add_class("aelib-answer-card")
        self._update()

    @property
    def shown(self) -> bool:
        return bool(self.toggle.value)

    def _update(self):
        self.body.value = self.answer_html if self.toggle.value else ""
        self.toggle.description = "hide the model answer" if self.toggle.value else "show the model answer"

    def _ipython_display_(self):
        from IPython.display import display
        display(self.widget)


def draw_paper(seed: int, pattern=(2, 2, 5, 5, 10)) -> list[str]:
    """A random mock paper: question ids with the given marks (default two 2-mark, two 5-mark, one 10-mark),
    no question twice. The same seed gives the same paper."""
    rng = random.Random(seed)
    pool = {m: [q.id for q in syllabus.questions() if q.marks == m] for m in set(pattern)}
    paper = []
    for m in pattern:
        choices = [qid for qid in pool[m] if qid not in paper]
        if not choices:
            raise ValueError(f"not enough {m}-mark questions for the pattern {pattern}")
        paper.append(rng.choice(choices))
    return paper


class MockExam:
    """A drawn paper: for each question a text box; its "reveal marking points" button is enabled once the
    student has written an answer (at least ``min_chars`` characters), and shows the marking points and the
    model answer. ``draw(seed)`` draws a new paper."""

    def __init__(self, seed: int = 0, min_chars: int = 20):
        import ipywidgets as widgets
        self.min_chars = min_chars
        self.seed = widgets.IntText(value=seed, description="paper #", layout=widgets.Layout(width="12em"))
        self.new = widgets.Button(description="draw this paper", button_style="primary")
        self.new.on_click(lambda b: self.draw(self.seed.value))
        self.box = widgets.VBox()
        self.widget = widgets.VBox([widgets.HBox([self.seed, self.new]), self.box])
        self.widget.add_class("aelib-mock-exam")
        self.draw(seed)

    def draw(self, seed: int) -> None:
        import ipywidgets as widgets
        self.paper = draw_paper(seed)
        self.answers, self.reveals, self.keys = [], [], []
        rows = [widgets.HTML(f"<b>Mock paper #{seed}</b>: {sum(syllabus.question(q).marks for q in self.paper)} marks. "
                             "Write each answer, then reveal its marking points.")]
        for i, qid in enumerate(self.paper):
            q = syllabus.question(qid)
            text = widgets.Textarea(placeholder="your answer", layout=widgets.Layout(width="95%", height="6em"))
            button = widgets.Button(description="reveal marking points", disabled=True)
            key = widgets.HTMLMath()
            text.observe(lambda change, b=button: setattr(b, "disabled", len(change["new"].strip()) < self.min_chars),
                         names="value")
            button.on_click(lambda b, i=i: self.reveal(i))
            self.answers.append(text); self.reveals.append(button); self.keys.append(key)
            rows += [widgets.HTMLMath(f"<b>Q{i + 1}. {q.id}</b> ({q.marks} marks). {q.question}"), text, button, key]
        self.box.children = rows

    def reveal(self, i: int) -> str:
        """Show question ``i``'s marking points and model answer (only once an answer is written)."""
        if len(self.answers[i].value.strip()) < self.min_chars:
            self.keys[i].value = f"Write your answer first (at least {self.min_chars} characters)."
            return self.keys[i].value
        q = syllabus.question(self.paper[i])
        points = "".join(f"<li>{markdown_html(p)}</li>" for p in q.points)
        self.keys[i].value = (f"<b>Marking points</b> (one mark or more each):<ul>{points}</ul>"
                              f"<b>Model answer</b> ({_where(q)}):" + markdown_html(syllabus.exam_answer(q.id)))
        return self.keys[i].value

    def _ipython_display_(self):
        from IPython.display import display
        display(self.widget)
