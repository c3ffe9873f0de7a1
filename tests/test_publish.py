"""Everything generated from the one place that holds the repository's address (pyproject.toml) and from the
benchmark's run-all times: current in the checkout, rewritten by one command, and each notebook's Colab cell
inert outside Colab."""
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from aelib.course import publish, syllabus

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
GITHUB = publish.Settings("https://github.com/someone/ae-course", "main")


def test_the_address_is_set_in_one_place_and_nowhere_else():
    where = publish.settings()
    assert where.repository.startswith("https://") and where.branch
    files = ["README.md", "CITATION.cff", "docs/install.md", "docs/updating.md", "docs/contributing.md",
             "docs/teaching.md", "binder/requirements.txt", "course.py", ".ci/run"]
    for rel in files:
        text = (ROOT / rel).read_text(encoding="utf-8")
        for block in publish.markdown_blocks().get(rel, {}):         # generated blocks may hold it
            start, end = publish._block(block)
            text = text.split(start)[0] + text.split(end)[1]
        text = text.split(syllabus.MAP_START)[0] + text.split(syllabus.MAP_END)[-1]
        text = "\n".join(line for line in text.splitlines() if not line.startswith("repository-code:"))
        assert where.repository not in text, f"{rel} holds the address outside a generated part"


def test_every_generated_part_is_current():
    stale = publish.refresh(ROOT, write=False)
    assert not stale, f"stale: {stale}; run python -m aelib.course.syllabus"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_each_notebook_has_the_colab_cell_first_among_its_code_cells(path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    assert publish.colab_cell_is_current(path), f"{path.name}: run python -m aelib.course.syllabus"
    first_code = next(c for c in nb["cells"] if c["cell_type"] == "code")
    assert first_code["id"] == publish.COLAB_CELL_ID


def test_the_colab_cell_does_nothing_outside_colab(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("AELIB_NOTEBOOKS", raising=False)
    calls = []
    monkeypatch.setattr(subprocess, "run", lambda *a, **k: calls.append(a))
    assert "google.colab" not in sys.modules
    exec(publish.colab_cell_source(), {})
    assert calls == [] and not list(tmp_path.iterdir())
    import os
    assert "AELIB_NOTEBOOKS" not in os.environ


def test_the_colab_cell_clones_installs_once_and_points_aelib_at_the_notebooks(tmp_path, monkeypatch):
    import os
    import types
    monkeypatch.chdir(tmp_path)
    monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    monkeypatch.delenv("AELIB_NOTEBOOKS", raising=False)
    calls = []

    def fake_run(cmd, check):
        calls.append(cmd)
        if cmd[0] == "git":
            (tmp_path / cmd[-1] / "notebooks").mkdir(parents=True)
    monkeypatch.setattr(subprocess, "run", fake_run)
    code = publish.colab_cell_source(GITHUB)
    try:
        exec(code, {})
        assert calls[0][:2] == ["git", "clone"] and GITHUB.repository in calls[0]
        assert calls[1][:4] == [sys.executable, "-m", "pip", "install"] and calls[1][-1] == "./ae-course"
        assert os.environ["AELIB_NOTEBOOKS"] == str(tmp_path / "ae-course" / "notebooks")
        exec(code, {})                                # run again in the same runtime: nothing to fetch
        assert len(calls) == 2
    finally:                                          # the cell set it in this process's environment
        os.environ.pop("AELIB_NOTEBOOKS", None)
    assert all(len(line) <= 100 for line in code.splitlines())


def test_links_follow_the_address():
    assert GITHUB.github == "someone/ae-course" and GITHUB.name == "ae-course"
    assert publish.colab_url("01_x.ipynb", GITHUB) == \
        "https://colab.research.google.com/github/someone/ae-course/blob/main/notebooks/01_x.ipynb"
    assert publish.binder_url(where=GITHUB) == \
        "https://mybinder.org/v2/gh/someone/ae-course/HEAD?urlpath=lab/tree/notebooks/00_start_here.ipynb"
    assert "repo=https%3A%2F%2Fgithub.com%2Fsomeone%2Fae-course&branch=main&urlpath=lab/tree/ae-course/" in \
        publish.nbgitpuller_url(where=GITHUB)
    gitlab = publish.Settings("https://gitlab.com/someone/ae-course.git")
    assert gitlab.github is None and gitlab.name == "ae-course" and publish.colab_url("x", gitlab) is None
    assert "Colab and Binder open GitHub repositories" in publish.badges(gitlab)
    assert "These links open once" in publish.badges(publish.Settings(publish.PLACEHOLDER))
    assert "These links open once" not in publish.badges(GITHUB)


def test_settings_say_what_is_missing(tmp_path):
    with pytest.raises(FileNotFoundError, match="run this in a checkout"):
        publish.settings(tmp_path)
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n')
    with pytest.raises(ValueError, match=r"Repository under \[project.urls\]"):
        publish.settings(tmp_path)


def test_with_colab_cell_inserts_after_the_title_replaces_in_place_and_keeps_other_cells():
    nb = {"cells": [{"cell_type": "markdown", "id": "t", "metadata": {}, "source": ["# T"]},
                    {"cell_type": "code", "id": "a", "metadata": {}, "outputs": [{"x": 1}], "execution_count": 3,
                     "source": ["x = 1"]}], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    one = publish.with_colab_cell(nb, "pass")
    assert [c["id"] for c in one["cells"]] == ["t", publish.COLAB_CELL_ID, "a"]
    assert one["cells"][2] == nb["cells"][1]                         # untouched, outputs and all
    two = publish.with_colab_cell(one, "print(2)")
    assert [c["id"] for c in two["cells"]] == ["t", publish.COLAB_CELL_ID, "a"]
    assert "".join(two["cells"][1]["source"]) == "print(2)"


def test_refresh_writes_a_new_address_everywhere_and_only_there(tmp_path):
    """A copy published elsewhere: set the address once, run the refresh, and every page follows."""
    for rel in ["pyproject.toml", "README.md", "CITATION.cff", "BENCHMARKS.md", "docs", "notebooks"]:
        src = ROOT / rel
        (shutil.copytree(src, tmp_path / rel, ignore=shutil.ignore_patterns("__pycache__"))
         if src.is_dir() else shutil.copy2(src, tmp_path / rel))
    py = tmp_path / "pyproject.toml"
    py.write_text(py.read_text(encoding="utf-8").replace(publish.PLACEHOLDER, GITHUB.repository), encoding="utf-8")
    before = {p.name: json.loads(p.read_text(encoding="utf-8")) for p in (tmp_path / "notebooks").glob("*.ipynb")}
    changed = publish.refresh(tmp_path)
    assert "CITATION.cff: repository-code" in changed and "README.md: badges" in changed
    assert len([c for c in changed if c.endswith("Colab cell")]) == len(before)
    assert publish.refresh(tmp_path, write=False) == []
    assert f'repository-code: "{GITHUB.repository}"' in (tmp_path / "CITATION.cff").read_text(encoding="utf-8")
    for p in (tmp_path / "notebooks").glob("*.ipynb"):
        after = json.loads(p.read_text(encoding="utf-8"))
        assert GITHUB.repository in "".join(after["cells"][1]["source"])
        keep = [c for c in after["cells"] if c["id"] != publish.COLAB_CELL_ID]
        assert keep == [c for c in before[p.name]["cells"] if c["id"] != publish.COLAB_CELL_ID]


def test_the_map_shows_each_notebooks_run_all_time_from_the_benchmark(tmp_path):
    bench = publish.benchmark()
    assert set(bench.seconds) == {nb.file for nb in syllabus.notebooks()}
    assert bench.machine and bench.baseline_epoch_s and bench.date
    section = syllabus.readme_section()
    for nb in syllabus.notebooks():
        row = next(line for line in section.splitlines() if f"]({'notebooks/'}{nb.file})" in line)
        assert f"| {publish.seconds_text(bench.seconds[nb.file])} |" in row
        assert f"[Colab]({publish.colab_url(nb.file)})" in row
    assert bench.machine in section and f"{bench.baseline_epoch_s:g} s" in section
    fake = tmp_path / "B.md"
    fake.write_text("Measured on 2030-01-02.\nMachine: Some CPU, 4 cores; more.\n"
                    "one epoch of the baseline VAE recipe (...) took **0.2 s** in this run\n\n"
                    "| 00_a.ipynb | 6.94 | 17 |\n| 01_b.ipynb | 0.3 | 1 |\n\n"
                    "## One core\n\n| 00_a.ipynb | 9.0 | 20 |\n")
    b = publish.benchmark(fake)
    assert b.seconds == {"00_a.ipynb": 6.94, "01_b.ipynb": 0.3} and b.machine == "Some CPU, 4 cores"
    assert b.baseline_epoch_s == 0.2 and b.date == "2030-01-02"
    assert [publish.seconds_text(s) for s in (6.94, 0.3, None)] == ["7 s", "<1 s", "?"]
    assert "once `python -m aelib.course.bench`" in publish.benchmark_sentence(publish.benchmark(tmp_path / "no"))
    other = publish.benchmark_sentence(b, ["BENCHMARKS-amd.md"])
    assert "details (other machines: [BENCHMARKS-amd.md](BENCHMARKS-amd.md));" in other
    assert "other machines" not in publish.benchmark_sentence(b, [])


def test_fill_block_replaces_only_its_block_and_refuses_a_missing_one():
    text = "a\n<!-- publish:x:start -->\nold\n<!-- publish:x:end -->\nb\n"
    assert publish.fill_block(text, "x", "new") == "a\n<!-- publish:x:start -->\nnew\n<!-- publish:x:end -->\nb\n"
    with pytest.raises(ValueError, match="no <!-- publish:y:start -->"):
        publish.fill_block(text, "y", "new")
