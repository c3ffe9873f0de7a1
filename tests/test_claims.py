"""The text is true on the reader's machine (aelib.course.claims): every number in the prose that reports a measurement
is asserted or printed, every stored solution output says where it was produced, and no cell's outputs carry a
warning that nobody expected."""
import json
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from aelib.course import claims, exercises, syllabus

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def _md(*texts, code=()):
    cells = [nbformat.v4.new_markdown_cell(t) for t in texts] + [nbformat.v4.new_code_cell(c) for c in code]
    return json.loads(nbformat.writes(nbformat.v4.new_notebook(cells=cells)))


def tokens(nb):
    return [c.token for c in claims.unbacked_numbers(nb)]


# -- 1. numbers in the prose ------------------------------------------------------------------------------------

def test_a_measured_number_must_be_asserted_or_printed():
    assert tokens(_md("The VAE costs about 1.1x the AE's time per step.")) == ["about 1.1x"]   # a timing
    assert tokens(_md("The bit error fell from about 0.13 to 0.105.")) == ["about 0.13 to 0.105"]
    assert tokens(_md("Its ELBO is lower by 3-6 nats.", code=["assert gap > 1"])) == ["by 3-6 nats"]
    assert tokens(_md("Its ELBO is lower by 1-6 nats.", code=["assert 1 < gap < 6"])) == []     # the asserted range
    assert tokens(_md("The confidence is 0.71 (printed above).")) == []
    assert tokens(_md("About a third of the units stay active.")) == ["About a third"]
    assert tokens(_md("About a third of the units stay active (asserted: 5 to 16).", code=["assert 5 <= n <= 16"])) == []
    assert tokens(_md("The classifier is about 93.5 % accurate.")) == ["about 93.5 %"]
    assert tokens(_md("It was sure of about 5 % of them.", code=["assert a > b + 5"])) == ["about 5 %"]
    assert tokens(_md("About 0.28.", code=["assert a > b + 0.1   # measured ~0.28"])) == ["About 0.28"]
    assert tokens(_md("More than 80 % pass, within 10 % of B's.", code=["assert g > 0.8 and d < 1.1 * b"])) == []


def test_timings_need_the_printed_value_or_the_machines():
    assert tokens(_md("Training takes 4.2 s.", code=["assert t < 4.2"])) != []     # an assert does not back a time
    assert tokens(_md("Training took the time printed above, 4.2 s here.")) == []
    assert tokens(_md("Each trains for 8 epochs (about a second each on a laptop CPU).")) == ["about a second"]
    assert tokens(_md("A 9 is close to 4s and 7s; a 20×20 grid.")) == []          # digits, not seconds
    assert tokens(_md("A step takes 0.9-1.2 times the AE's time (AMD EPYC and Intel Xeon, 2 cores).")) == []


def test_papers_constants_settings_and_exercises_are_not_measurements():
    assert tokens(_md("Burda et al. (2016) report about −87 to −85 nats on the full MNIST.")) == []
    assert tokens(_md("The paper's best (≈3.3 % error with 100 labels).")) == []
    assert tokens(_md("VAE samples blur (here two to three times the GAN's share), unlike hierarchical VAEs (NVAE, "
                      "Vahdat & Kautz 2020).")) == ["two to three times"]     # a citation elsewhere does not back it
    assert tokens(_md("Their autoencoder reached about a quarter of PCA's error (their Figure 2).")) == []
    assert tokens(_md("Its minimum is ln 2 ≈ 0.693 nats, exactly the entropy.")) == []
    assert tokens(_md("Train for 15 epochs on 100 labels, hiding 70 % of its pixels, above 0.5.")) == []
    assert tokens(_md("The ratio is 55.5 in closed form.")) == []
    assert tokens(_md("## Exercises\n1. Repeat with 0.37 of the data.")) == []
    assert tokens(_md("A formula is not a claim: $x^2 + 1$, `x = 0.4`, $\\sigma(-6)\\approx 0.0025$.")) == []
    assert tokens(_md("But a measured value in maths is: $G \\approx 0.9$.")) == ["≈ 0.9"]


def test_the_revision_notebook_is_checked_against_each_answers_home():
    fifteen = _md("intro")
    cell = nbformat.v4.new_markdown_cell("**AE-4** ... the ratio is about 0.13 here.")
    cell.metadata["aelib"] = {"generated": "answer:AE-4"}
    fifteen["cells"].append(json.loads(json.dumps(cell)))
    home = _md("text", code=["assert bits < 0.13"])
    asserts = {"02": claims.assert_lines(home), "15": ""}
    found = claims.unbacked_numbers(fifteen, lambda c: asserts[claims._home_of(c) or "15"])
    assert found == []
    found = claims.unbacked_numbers(fifteen, lambda c: "" if claims._home_of(c) else asserts["15"])
    assert [c.token for c in found] == ["about 0.13"]


NUMBERS = [p.name[:2] for p in NOTEBOOKS]


@pytest.fixture(scope="module")
def collection():
    return claims.collection_claims(NOTEBOOKS)


@pytest.mark.parametrize("number", NUMBERS)
def test_every_measured_number_is_asserted_or_printed(number, collection):
    """A number in a notebook's markdown (and in the revision notebook's copy of its answers, evidence and
    corrections) that reports a measurement is an asserted range or a printed value (aelib.course.claims)."""
    found = collection.get(number, [])
    assert not found, f"notebook {number}: numbers nothing backs:\n" + "\n".join(map(str, found))


# -- 2. stored solution outputs ---------------------------------------------------------------------------------

SOLVED = "<details><summary><b>Solution 1</b>: x</summary>\n\n```python\nprint(1)\n```\n\n{line}```\n1\n```\n\n</details>"


def test_a_stored_output_block_says_where_it_was_produced():
    line = claims.provenance_line("AMD EPYC", 1, 0)
    assert claims.PROVENANCE.match(line)
    assert [b.solution for b in claims.missing_provenance(_md(SOLVED.format(line="")))] == [1]
    assert claims.missing_provenance(_md(SOLVED.format(line=line + "\n\n"))) == []
    assert claims.stored_output_blocks(_md(SOLVED.format(line=""))) [0].text == "1\n"


def test_refreshing_outputs_writes_them_with_their_provenance():
    body = "\n\n```python\nprint(1)\n```\n\nText.\n\n```\nold\n```\n\nMore.\n\n"
    line = claims.provenance_line("CPU X", 2, 7)
    new = exercises._with_outputs(body, ["1\n"], line)
    assert f"Text.\n\n{line}\n\n```\n1\n```\n\nMore." in new
    assert exercises._with_outputs(new, ["2\n"], line).count(line) == 1       # rewritten, not repeated


@pytest.mark.parametrize("number", NUMBERS)
def test_every_stored_solution_output_says_where_it_was_produced(number):
    path = next(p for p in NOTEBOOKS if p.name.startswith(number))
    missing = claims.missing_provenance(json.loads(path.read_text(encoding="utf-8")))
    assert not missing, (f"{path.name}: solutions {sorted({b.solution for b in missing})} store outputs without the "
                         f"line that says where they came from: python -m aelib.course.exercises --outputs {number}")


def test_no_solution_intro_claims_one_seed_for_all_outputs():
    for path in NOTEBOOKS:
        text = path.read_text(encoding="utf-8")
        assert "Printed numbers are from seed 0" not in text, path.name


# -- 3. warnings in the outputs -----------------------------------------------------------------------------------

def test_warnings_on_stderr_are_found_unless_expected():
    warn = [{"output_type": "stream", "name": "stderr",
             "text": "/tmp/x.py:3: RuntimeWarning: invalid value encountered in divide\n  y = a / b\n"}]
    legend = [{"output_type": "stream", "name": "stderr",
               "text": "No artists with labels found to put in legend.  Note that artists whose label start ...\n"}]
    progress = [{"output_type": "stream", "name": "stderr", "text": "epochs: 100%|██████████| 9/9\n"},
                {"output_type": "stream", "name": "stdout", "text": "UserWarning is a word in the text\n"}]
    assert claims.output_warnings(warn) == ["/tmp/x.py:3: RuntimeWarning: invalid value encountered in divide"]
    assert len(claims.output_warnings(legend)) == 1
    assert claims.output_warnings(progress) == []
    assert claims.output_warnings(warn, "x = f()  # expected warning: the demo divides by zero") == []


@pytest.mark.slow
def test_nbval_fails_a_cell_whose_outputs_carry_a_warning(tmp_path):
    """The conftest hook sees the outputs nbval collected: a cell that warns fails, the same cell with the marker
    passes, and nothing runs twice."""
    cells = ["import warnings\nwarnings.warn('careful', RuntimeWarning)",
             "import warnings\nwarnings.warn('careful', RuntimeWarning)  # expected warning: the test asks for it",
             "print('fine')"]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    nbformat.write(nb, tmp_path / "99_warns.ipynb")
    shutil.copy(ROOT / "conftest.py", tmp_path / "conftest.py")
    out = subprocess.run([sys.executable, "-m", "pytest", "--nbval-lax", "-p", "no:cacheprovider", "-q", "-rA",
                          "99_warns.ipynb"], cwd=tmp_path, capture_output=True, text=True, timeout=300,
                         env={**__import__("os").environ, "PYTHONPATH": str(ROOT)})
    assert "1 failed, 2 passed" in out.stdout, out.stdout[-3000:]
    assert "a warning in the outputs" in out.stdout and "RuntimeWarning: careful" in out.stdout

