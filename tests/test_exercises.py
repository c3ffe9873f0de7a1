"""Worked solutions: hidden in a reveal under each chapter's exercises, extracted as code for the test run."""
import nbformat
import pytest

from aelib.course import exercises, syllabus


def _nb(*sources):
    return nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(s) for s in sources])


EXERCISES = "## Exercises\n1. Do this.\n2. Then that,\n   over two lines.\n"
SOLUTIONS = ("## Solutions\n\n<details><summary><b>Solution 1</b>: this</summary>\n\n```python\nx = 1\nassert x == 1\n```\n\n"
             "It works because.\n\n</details>\n\n<details><summary><b>Solution 2</b>: that</summary>\n\n"
             "```python\ny = 2\n```\n\nMore.\n\n```python\nassert y == 2\n```\n\n</details>\n")


def test_exercises_and_solutions_are_read_from_the_markdown():
    nb = _nb("# Title", EXERCISES, SOLUTIONS)
    assert exercises.exercises(nb) == ["Do this.", "Then that, over two lines."]
    sols = exercises.solutions(nb)
    assert [s.number for s in sols] == [1, 2]
    assert sols[0].code == "x = 1\nassert x == 1"
    assert sols[1].code == "y = 2\n\nassert y == 2"           # every code block of the reveal, in order


def test_a_solution_outside_a_reveal_or_without_code_is_refused():
    with pytest.raises(ValueError, match="Solution 1.*no python code"):
        exercises.solutions(_nb(EXERCISES, "<details><summary><b>Solution 1</b>: x</summary>\n\nText.\n\n</details>"))
    with pytest.raises(ValueError, match="twice"):
        exercises.solutions(_nb(EXERCISES, SOLUTIONS, SOLUTIONS))


def test_no_exercises_no_solutions():
    nb = _nb("# Title", "Text.")
    assert exercises.exercises(nb) == [] and exercises.solutions(nb) == []


def test_every_solved_notebook_solves_every_exercise_and_hides_it():
    """A chapter has either no solutions yet or one per exercise, each inside a closed <details> (readable without a
    kernel: JupyterLab, Notebook 7, VS Code and the reading copy render it as a reveal)."""
    solved = 0
    for path in syllabus.notebook_paths():
        nb = nbformat.read(path, as_version=4)
        sols = exercises.solutions(nb)
        if not sols:
            continue
        solved += 1
        assert [s.number for s in sols] == list(range(1, len(exercises.exercises(nb)) + 1)), path.name
        cell = next(c for c in nb.cells if c.cell_type == "markdown" and "<b>Solution 1</b>" in c.source)
        assert "<details open" not in cell.source, path.name
        long = [line for s in sols for line in s.code.splitlines() if len(line) > 100]
        assert not long, f"{path.name}: solution code lines over 100 characters: {long}"
    assert solved >= 1
