import pytest

from aelib import revision, syllabus


def test_every_question_is_answered_linked_and_has_marking_points():
    for q in syllabus.questions():
        answer = syllabus.exam_answer(q.id)             # read from the home notebook
        assert answer.startswith(f"**{q.id} ({q.marks} marks).") and len(answer) > 200
        assert len(q.points) >= 3 and q.evidence
        assert syllabus.notebook(q.home).exists
    fixed = {c["question"] for c in syllabus.corrections()}
    assert {"AE-2", "AE-3", "AE-5", "AE-6", "VAE-1", "VAE-3", "VAE-7", "VAE-10"} <= fixed
    for c in syllabus.corrections():
        assert all(syllabus.notebook(n.strip()).exists for n in c["notebook"].split(","))


def test_markdown_keeps_math_for_mathjax():
    html = revision.markdown_html("**bold** and $q_\\phi(z\\mid x)$ and $$a_1 * b_2$$")
    assert "<strong>bold</strong>" in html and "$q_\\phi(z\\mid x)$" in html and "$$a_1 * b_2$$" in html


def test_answer_card_toggle():
    card = revision.AnswerCard("VAE-4")
    assert not card.shown and card.body.value == ""
    card.toggle.value = True
    assert card.shown and "reparameteris" in card.body.value and "notebook 09" in card.body.value
    card.toggle.value = False
    assert card.body.value == "" and card.toggle.description == "show the model answer"


def test_draw_paper_is_seeded_and_follows_the_pattern():
    p = revision.draw_paper(3)
    assert p == revision.draw_paper(3) and len(set(p)) == 5
    assert [syllabus.question(q).marks for q in p] == [2, 2, 5, 5, 10]
    assert any(revision.draw_paper(s) != p for s in range(10))
    with pytest.raises(ValueError, match="not enough"):
        revision.draw_paper(0, pattern=(2,) * 6)


def test_mock_exam_reveals_only_after_an_answer():
    exam = revision.MockExam(seed=1)
    assert len(exam.answers) == 5 and all(b.disabled for b in exam.reveals)
    assert "Write your answer first" in exam.reveal(0)
    exam.answers[0].value = "An autoencoder learns a code by reconstructing its input."
    assert not exam.reveals[0].disabled
    exam.reveals[0].click()
    assert "Marking points" in exam.keys[0].value and "Model answer" in exam.keys[0].value
    exam.seed.value = 7
    exam.new.click()
    assert exam.paper == revision.draw_paper(7) and exam.keys[0].value == ""
