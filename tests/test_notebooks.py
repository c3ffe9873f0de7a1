"""The collection's structure: every notebook declares the questions it answers, quotes them, holds their exam
answers, and is stored without outputs; the README's map agrees with the syllabus data."""
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from aelib.course import syllabus

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
IDS = {q.id for q in syllabus.questions()}


def load(path):
    return json.loads(path.read_text(encoding="utf-8"))


def md_cells(nb):
    return ["".join(c["source"]) if isinstance(c["source"], list) else c["source"]
            for c in nb["cells"] if c["cell_type"] == "markdown"]


def test_there_are_notebooks_and_each_is_in_the_syllabus_list():
    assert NOTEBOOKS, "no notebooks found"
    listed = {n.file for n in syllabus.notebooks()}
    for p in NOTEBOOKS:
        assert p.name in listed, f"{p.name} is not listed in aelib/course/syllabus.json"
    assert (ROOT / "notebooks" / "00_start_here.ipynb").exists()


def recorded(path, root=ROOT):
    """The notebook as git records it (the index, i.e. what a commit would store), or None outside a
    git checkout or for a file git does not track. A notebook that a student ran and saved holds outputs
    in the working tree; that is normal use, not a defect of the repository."""
    rel = path.relative_to(root).as_posix()
    try:
        out = subprocess.run(["git", "-C", str(root), "show", f":{rel}"], capture_output=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return json.loads(out.stdout.decode("utf-8")) if out.returncode == 0 else None


def has_outputs(nb):
    return any(c.get("outputs") or c.get("execution_count") is not None
               for c in nb["cells"] if c["cell_type"] == "code")


def stored_outputs(path, root=ROOT):
    """Where the stored notebook holds outputs ("git's index" or "the file"), or None if it holds none."""
    nb = recorded(path, root)
    where = "git's index"
    if nb is None:                                   # not a git checkout (e.g. an unpacked archive)
        nb, where = load(path), "the file"
    return where if has_outputs(nb) else None


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_stored_without_outputs(path):
    where = stored_outputs(path)
    assert where is None, (f"{path.name} holds outputs in {where}: clear them before committing "
                           "(nbstripout as a git filter does it for you; see the README)")


def _a_stripped_notebook() -> dict:
    """A small notebook as the repository stores them: code cells without outputs. Built here, not read from
    notebooks/, whose working files hold outputs once a reader has run and saved them."""
    import nbformat
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# A chapter"),
                                         nbformat.v4.new_code_cell("print('hi')")])
    return json.loads(nbformat.writes(nb))


def test_a_saved_notebook_with_outputs_keeps_pytest_green(tmp_path):
    """Run-and-save in JupyterLab writes outputs into the working file: the check reads git's index."""
    repo = tmp_path / "repo"
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    nb = _a_stripped_notebook()
    (repo / "n.ipynb").write_text(json.dumps(nb), encoding="utf-8")
    subprocess.run(["git", "-C", str(repo), "add", "n.ipynb"], check=True)
    for c in nb["cells"]:                          # what a run-and-save leaves in the working file
        if c["cell_type"] == "code":
            c["execution_count"] = 1
            c["outputs"] = [{"output_type": "stream", "name": "stdout", "text": "hi\n"}]
    (repo / "n.ipynb").write_text(json.dumps(nb), encoding="utf-8")
    assert has_outputs(load(repo / "n.ipynb")) and stored_outputs(repo / "n.ipynb", repo) is None
    subprocess.run(["git", "-C", str(repo), "add", "n.ipynb"], check=True)     # staging them is the defect
    assert stored_outputs(repo / "n.ipynb", repo) == "git's index"
    outside = tmp_path / "unpacked"                  # no git: the file itself is what is stored
    outside.mkdir()
    (outside / "n.ipynb").write_text(json.dumps(nb), encoding="utf-8")
    assert stored_outputs(outside / "n.ipynb", outside) == "the file"


def test_the_saved_notebook_check_holds_after_a_reader_saves_notebook_00(tmp_path, monkeypatch):
    """The test above must not depend on the state of the working files: after "run all" and "save" on
    notebook 00 (outputs in the working file, not staged), it still passes."""
    saved = load(NOTEBOOKS[0])
    for c in saved["cells"]:
        if c["cell_type"] == "code":
            c["execution_count"] = 1
            c["outputs"] = [{"output_type": "stream", "name": "stdout", "text": "ran\n"}]
    ran = tmp_path / "saved" / NOTEBOOKS[0].name
    ran.parent.mkdir()
    ran.write_text(json.dumps(saved), encoding="utf-8")
    monkeypatch.setattr(sys.modules[__name__], "NOTEBOOKS", [ran] + NOTEBOOKS[1:])
    test_a_saved_notebook_with_outputs_keeps_pytest_green(tmp_path / "check")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_declares_quotes_and_answers_its_questions(path):
    nb = load(path)
    meta = nb["metadata"].get("aelib")
    assert meta is not None and "answers" in meta, f"{path.name}: metadata.aelib.answers is missing"
    answers = meta["answers"]
    assert set(answers) <= IDS, f"{path.name}: unknown ids {set(answers) - IDS}"
    number = path.name[:2]
    for qid in answers:
        assert syllabus.question(qid).home == number, f"{path.name} answers {qid}, whose home is another notebook"
    mds = md_cells(nb)
    assert nb["cells"][0]["cell_type"] == "markdown" and mds[0].startswith("# ")
    opening = re.sub(r"\n>(?! ?\*\*|\n) ?", " ", mds[0])   # a quote may be wrapped over several "> " lines
    for qid in answers:
        assert syllabus.quote(qid) in opening, f"{path.name}: the first cell must quote {qid} exactly as the syllabus"
        answer_heading = f"**{qid} ({syllabus.question(qid).marks} marks)."
        assert any(answer_heading in m for m in mds[1:]), f"{path.name}: no exam answer for {qid}"
    for qid in meta.get("mentions", []):
        assert qid in IDS


def test_each_question_has_exactly_one_home_that_answers_it():
    declared = {}
    for p in NOTEBOOKS:
        for qid in load(p)["metadata"]["aelib"]["answers"]:
            declared.setdefault(qid, []).append(p.name)
    for q in syllabus.questions():
        home = syllabus.notebook(q.home)
        if home.exists:
            assert declared.get(q.id) == [home.file], f"{q.id}: answered by {declared.get(q.id)}, home {home.file}"
        else:
            assert q.id not in declared


def test_readme_map_agrees_with_the_syllabus():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split(syllabus.MAP_START, 1)[1].split(syllabus.MAP_END, 1)[0].strip()
    assert section == syllabus.readme_section("notebooks/"), "README map is stale: run python -m aelib.course.syllabus"
    for n in syllabus.notebooks():
        if n.exists:
            assert f"notebooks/{n.file}" in readme, f"README does not link {n.file}"


def test_update_readme_fills_the_section(tmp_path):
    p = tmp_path / "README.md"
    p.write_text(f"intro\n{syllabus.MAP_START}\nold\n{syllabus.MAP_END}\nend\n")
    assert syllabus.update_readme(p) is True
    assert "| AE-1 | 2 |" in p.read_text() and p.read_text().endswith("end\n")
    assert syllabus.update_readme(p) is False
    p.write_text("no markers")
    with pytest.raises(ValueError, match="no <!-- map:start -->"):
        syllabus.update_readme(p)


CODE_LINE, PROSE_LINE = 100, 120


def source(cell):
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_lines_fit_a_projected_screen(path):
    """Code lines of at most 100 characters can be read whole in JupyterLab's presentation mode at 1280x720
    (the browser test checks that nothing overflows); prose lines stay under 120 characters in the source.
    Tables and display equations are one line each by necessity and are exempt."""
    long = []
    for i, cell in enumerate(load(path)["cells"]):
        in_display = False
        for line in source(cell).splitlines():
            if cell["cell_type"] == "code" and len(line) > CODE_LINE:
                long.append(f"cell {i} (code, {len(line)} chars): {line[:60]}...")
            if cell["cell_type"] == "markdown":
                stripped = line.strip()
                if stripped.startswith("$$") and not (stripped.endswith("$$") and len(stripped) > 2):
                    in_display = not in_display
                exempt = in_display or stripped.startswith(("|", "$$", "<")) or stripped.endswith("$$")
                if len(line) > PROSE_LINE and not exempt:
                    long.append(f"cell {i} (markdown, {len(line)} chars): {line[:60]}...")
    assert not long, "\n".join(long)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_one_exam_answer_per_cell_and_headings_in_markdown(path):
    """Each exam answer is its own cell (one screen to project and discuss); section headings such as
    '## Checks' are markdown, not comments inside code."""
    from aelib.course.syllabus import _ANSWER_START
    for i, cell in enumerate(load(path)["cells"]):
        lines = source(cell).splitlines()
        if cell["cell_type"] == "markdown":
            starts = [line[:20] for line in lines if _ANSWER_START.match(line)]
            assert len(starts) <= 1, f"cell {i} holds {len(starts)} exam answers: {starts}"
        else:
            assert not any(line.startswith("# ##") for line in lines), f"cell {i}: a heading inside a code cell"
