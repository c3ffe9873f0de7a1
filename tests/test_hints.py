"""Cells run out of order end in a message that names the cell to run first (aelib.hints)."""
import json

import nbformat
import pytest

from aelib import hints
from aelib.widgets import ImageBrowser, error_html

CHAPTER = nbformat.v4.new_notebook(cells=[
    nbformat.v4.new_markdown_cell("# A chapter\n## Setup"),
    nbformat.v4.new_code_cell("%matplotlib inline\nimport numpy as np\nfrom aelib import vae as V"),
    nbformat.v4.new_markdown_cell("## Experiment 2: a 20-D VAE"),
    nbformat.v4.new_code_cell("# train it\nvae20, hist20 = V.train_vae(x, latent_dim=20)\n"
                              "def judge(s):\n    inner = 1\n    return s"),
    nbformat.v4.new_markdown_cell("## Checks"),
    nbformat.v4.new_code_cell("for seen in range(3):\n    total = seen\nassert vae20 is not None"),
])


def test_bound_names_are_the_cells_top_level_names():
    assert hints.bound_names(CHAPTER.cells[3].source) == {"vae20", "hist20", "judge"}
    assert hints.bound_names(CHAPTER.cells[1].source) == {"np", "V"}
    assert hints.bound_names(CHAPTER.cells[5].source) == {"seen", "total"}
    assert hints.bound_names("x = (") == set()


def test_the_defining_cell_is_found_with_its_heading_and_first_line():
    cell = hints.defining_cell("vae20", json.loads(nbformat.writes(CHAPTER)))
    assert cell == {"index": 3, "heading": "Experiment 2: a 20-D VAE",
                    "line": "vae20, hist20 = V.train_vae(x, latent_dim=20)"}
    assert hints.defining_cell("inner", json.loads(nbformat.writes(CHAPTER))) is None


def test_a_name_error_names_the_cell_to_run_first(tmp_path, monkeypatch):
    path = tmp_path / "08_chapter.ipynb"
    nbformat.write(CHAPTER, path)
    monkeypatch.setenv("JPY_SESSION_NAME", str(path))
    try:
        vae20  # noqa: F821
    except NameError as err:
        text = hints.hint(err)
    assert text == ("'vae20' is made by the cell under 'Experiment 2: a 20-D VAE' that begins "
                    "`vae20, hist20 = V.train_vae(x, latent_dim=20)`: run that cell first, or "
                    "Run > Run All Above Selected Cell.")
    try:
        vae2O  # noqa: F821  (a typo: no cell makes it)
    except NameError as err:
        assert hints.hint(err) is None
    monkeypatch.delenv("JPY_SESSION_NAME")
    try:
        vae20  # noqa: F821
    except NameError as err:
        assert "run the cells above this one first" in hints.hint(err)
    assert hints.hint(ValueError("x")) is None


def test_a_widget_whose_callback_meets_a_missing_name_says_which_cell(tmp_path, monkeypatch):
    path = tmp_path / "chapter.ipynb"
    nbformat.write(CHAPTER, path)
    monkeypatch.setenv("JPY_SESSION_NAME", str(path))
    browser = ImageBrowser({0: [[0.0]], 1: [[1.0]]})

    def needs_the_model():
        return vae20  # noqa: F821

    browser._guarded(needs_the_model)
    assert isinstance(browser.error, NameError)
    assert "run that cell first" in browser.html.value and "Experiment 2" in browser.html.value
    assert "run that cell first" in error_html(browser.error)


@pytest.mark.slow
def test_in_a_kernel_the_error_of_a_cell_run_too_early_names_the_cell(tmp_path, monkeypatch):
    """The Checks cell run before the training cell, in a real kernel, as JupyterLab would start it."""
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("import aelib"),
        nbformat.v4.new_markdown_cell("## Checks"),
        nbformat.v4.new_code_cell("assert model_a is not None"),
        nbformat.v4.new_markdown_cell("## Training"),
        nbformat.v4.new_code_cell("model_a = 1"),
    ])
    path = tmp_path / "order.ipynb"
    nbformat.write(nb, path)
    monkeypatch.setenv("JPY_SESSION_NAME", str(path))
    client = NotebookClient(nb, timeout=120, kernel_name="python3")
    with pytest.raises(CellExecutionError) as caught:
        client.execute()
    shown = "\n".join(nb.cells[2].outputs[0]["traceback"])
    assert "NameError" in shown
    assert "'model_a' is made by the cell under 'Training' that begins `model_a = 1`" in shown, shown
    assert "model_a" in str(caught.value)
