"""The command-line tools take --help, refuse unknown arguments, never rewrite a tracked file unless that is
their documented job, and fail loudly when they cannot find the notebooks."""
import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TOOLS = ["aelib.course.syllabus", "aelib.course.site", "aelib.course.bench", "aelib.data"]


def run(module, *args, cwd=ROOT, **env):
    full = {k: v for k, v in os.environ.items() if k != "AELIB_NOTEBOOKS"}
    full.update(env)
    return subprocess.run([sys.executable, "-m", module, *args], cwd=cwd, env=full, capture_output=True, text=True,
                          timeout=120)


def digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("module", TOOLS)
def test_help_prints_usage_and_changes_nothing(module, tmp_path):
    before = {p: digest(ROOT / p) for p in ("README.md", "BENCHMARKS.md")}
    site_before = (ROOT / "site").exists()
    out = run(module, "--help", AELIB_CACHE=str(tmp_path / "cache"))
    assert out.returncode == 0 and "usage:" in out.stdout, out.stderr
    assert {p: digest(ROOT / p) for p in before} == before
    assert (ROOT / "site").exists() == site_before and not (tmp_path / "cache").exists()


@pytest.mark.parametrize("module", TOOLS)
def test_unknown_arguments_are_refused(module, tmp_path):
    out = run(module, "--frobnicate", AELIB_CACHE=str(tmp_path / "cache"))
    assert out.returncode == 2 and "unrecognized arguments: --frobnicate" in out.stderr


def test_syllabus_check_reports_without_writing():
    before = digest(ROOT / "README.md")
    out = run("aelib.course.syllabus", "--check")
    assert out.returncode == 0 and "map current" in out.stdout, out.stdout + out.stderr
    assert digest(ROOT / "README.md") == before


@pytest.mark.parametrize("module", ["aelib.course.site", "aelib.course.bench"])
def test_without_notebooks_the_tools_fail_loudly(module, tmp_path, monkeypatch):
    """Outside the collection (a non-editable install run from elsewhere) they must not 'succeed' with 0 pages."""
    from aelib.course import bench, site, syllabus
    monkeypatch.setattr(syllabus, "NOTEBOOK_DIR", tmp_path / "nowhere")
    monkeypatch.delenv("AELIB_NOTEBOOKS", raising=False)
    monkeypatch.chdir(tmp_path)
    main = {"aelib.course.site": site.main, "aelib.course.bench": bench.main}[module]
    assert main(["--output", str(tmp_path / "out")]) == 2
    assert not (tmp_path / "out").exists()
    with pytest.raises(FileNotFoundError, match="set AELIB_NOTEBOOKS"):
        syllabus.notebook_paths()
