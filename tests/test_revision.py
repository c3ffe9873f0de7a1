import json

import pytest

from aelib.course import revision, syllabus


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


def test_revision_notebook_shows_every_answer_without_a_kernel():
    cells = json.loads(syllabus.notebook("15").path.read_text(encoding="utf-8"))["cells"]
    keys = [c.get("metadata", {}).get("aelib", {}).get("generated") for c in cells]
    assert sorted(k for k in keys if k and k.startswith("answer:")) == sorted(f"answer:{q.id}" for q in syllabus.questions())
    assert "corrections" in keys
    for c, k in zip(cells, keys):
        if k:
            assert c["cell_type"] == "markdown" and not c.get("outputs")
    text = revision.answer_markdown("VAE-4")
    question, hidden = text.split("<details><summary>Show the model answer</summary>")
    assert question.startswith("**VAE-4** (5 marks).") and syllabus.question("VAE-4").question.split()[0] in question
    assert "reparameteris" in hidden and "(09_reparameterisation_trick.ipynb)" in hidden and hidden.endswith("</details>")
    table = revision.corrections_markdown().splitlines()
    assert len(table) == 2 + len(syllabus.corrections()) and all(r.startswith("|") and r.endswith("|") for r in table)
    from nbconvert.filters.markdown_mistune import markdown2html_mistune     # the reading copy's renderer
    html = markdown2html_mistune(revision.corrections_markdown())
    assert html.count("<tr>") == len(table) - 1 and "q(z|x)" in html


def test_revision_cli_check_and_rewrite(tmp_path, monkeypatch, capsys):
    import shutil
    src = syllabus.notebook("03").path
    copy = tmp_path / src.name
    shutil.copy(src, copy)
    nb = json.loads(copy.read_text(encoding="utf-8"))
    cell = next(c for c in nb["cells"] if c.get("metadata", {}).get("aelib", {}).get("generated"))
    cell["source"] = ["## Self-check\n", "edited by hand"]
    copy.write_text(json.dumps(nb), encoding="utf-8")
    assert revision.stale_cells(copy) == ["selfcheck:03"]
    monkeypatch.setattr(syllabus, "notebook_paths", lambda: [copy])
    assert revision.main(["--check"]) == 1 and "stale selfcheck:03" in capsys.readouterr().out
    assert revision.main([]) == 0
    assert revision.stale_cells(copy) == [] and revision.main(["--check"]) == 0


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


def test_copied_answers_name_their_notebook_instead_of_here():
    """An answer copied into the revision notebook must not say "here", "this notebook" or "Experiment 2": there they
    would point at notebook 15. localised_answer names the home notebook instead."""
    for q in syllabus.questions():
        text = revision.localised_answer(q.id)
        assert not revision.CONTEXT_WORDS.search(text), (q.id, revision.CONTEXT_WORDS.search(text).group(0))
        assert all(len(line) <= 120 for line in text.splitlines() if not line.startswith(("|", "$$"))), q.id
    assert revision._CONTEXT[2][0].sub(r"notebook 07's \1 \2", "(recipe D: as good)") == "(notebook 07's recipe D: as good)"
    original = syllabus.exam_answer("AE-9")
    assert "here" in original and "in notebook 07" in revision.localised_answer("AE-9")
