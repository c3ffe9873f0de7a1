import pytest
from aelib.course import syllabus


def test_twenty_questions_with_valid_marks_and_homes():
    qs = syllabus.questions()
    assert [q.id for q in qs] == [f"AE-{i}" for i in range(1, 11)] + [f"VAE-{i}" for i in range(1, 11)]
    assert {q.marks for q in qs} == {2, 5, 10}
    numbers = {n.number for n in syllabus.notebooks()}
    assert all(q.home in numbers for q in qs)
    assert all(q.question and q.syllabus_answer for q in qs)
    assert "| Δ" not in syllabus.question("VAE-10").syllabus_answer  # the OCR table is dropped


def test_quote_and_map():
    assert syllabus.quote("AE-4").startswith("> **AE-4** (5 marks). Discuss two common loss functions")
    table = syllabus.map_table()
    assert table.count("\n| ") == 20 and "AE-1 " in table


def test_unknown_ids():
    import pytest
    with pytest.raises(KeyError, match="the ids are"):
        syllabus.question("AE-11")


def test_notebooks_are_found_without_an_editable_install(tmp_path, monkeypatch):
    """A regular `pip install` (Colab, a hub image) puts aelib far from the notebooks: the kernel's folder,
    or AELIB_NOTEBOOKS, must still find them, else the map would call every notebook "planned"."""
    real = syllabus.NOTEBOOK_DIR
    monkeypatch.setattr(syllabus, "NOTEBOOK_DIR", tmp_path / "site-packages" / "notebooks")
    monkeypatch.delenv("AELIB_NOTEBOOKS", raising=False)
    monkeypatch.chdir(tmp_path)
    assert not syllabus.notebook("01").exists
    monkeypatch.chdir(real)                          # a kernel started in the notebooks folder
    assert syllabus.notebook("01").exists and syllabus.notebook_dir() == real
    monkeypatch.chdir(real.parent)                   # or in the repository's root
    assert syllabus.notebook("01").exists
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("AELIB_NOTEBOOKS", str(real))
    assert syllabus.notebook("01").exists


def test_selected_paths_filter_by_prefix_and_refuse_a_prefix_that_matches_nothing():
    assert [p.name[:2] for p in syllabus.selected_paths(["00", "15"])] == ["00", "15"]
    assert syllabus.selected_paths() == syllabus.notebook_paths()
    with pytest.raises(FileNotFoundError, match="no notebook name starts with 99"):
        syllabus.selected_paths(["99"])
