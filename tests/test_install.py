"""The install paths agree with each other: pyproject's ranges, requirements.txt's pins, Binder's set-up, and a
regular (non-editable) install that a Colab or JupyterHub user gets."""
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent


def pins(path):
    """``{name: version}`` of the ``name==version`` lines of a requirements file."""
    out = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if "==" in line and not line.startswith("-"):
            req = Requirement(line)
            out[canonicalize_name(req.name)] = str(req.specifier).removeprefix("==")
    return out


PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
PINS = pins(ROOT / "requirements.txt")


@pytest.mark.parametrize("dep", PROJECT["dependencies"] + PROJECT["optional-dependencies"]["test"])
def test_every_declared_range_admits_the_tested_pin(dep):
    req = Requirement(dep)
    name = canonicalize_name(req.name)
    assert name in PINS, f"{req.name} is declared in pyproject.toml but not pinned in requirements.txt"
    assert req.specifier.contains(PINS[name]), f"requirements.txt pins {req.name}=={PINS[name]}, outside {dep}"


def test_requirements_install_from_pypi_alone_and_pin_the_python_they_need():
    text = (ROOT / "requirements.txt").read_text(encoding="utf-8")
    assert not re.search(r"^\s*--(extra-)?index-url", text, re.M), "requirements.txt must install from PyPI alone"
    assert PINS["torch"] == "2.13.0"
    assert SpecifierSet(PROJECT["requires-python"]) == SpecifierSet(">=3.11")
    assert f"{sys.version_info.major}.{sys.version_info.minor}" in ("3.11", "3.12", "3.13")


def test_binder_uses_cpu_torch_the_same_pins_and_a_python_the_pins_allow():
    req = (ROOT / "binder" / "requirements.txt").read_text(encoding="utf-8")
    assert "--extra-index-url https://download.pytorch.org/whl/cpu" in req
    assert f"torch=={PINS['torch']}+cpu" in req and "-r ../requirements.txt" in req
    runtime = (ROOT / "binder" / "runtime.txt").read_text(encoding="utf-8").strip()
    version = runtime.removeprefix("python-")
    assert runtime.startswith("python-") and SpecifierSet(PROJECT["requires-python"]).contains(version + ".0")
    post = ROOT / "binder" / "postBuild"
    assert os.access(post, os.X_OK) and "python -m aelib.data" in post.read_text(encoding="utf-8")


def test_licences_cover_code_and_teaching_text():
    assert (ROOT / "LICENSE").read_text(encoding="utf-8").startswith("MIT License")
    content = (ROOT / "LICENSE-CONTENT").read_text(encoding="utf-8")
    assert "Creative Commons Attribution 4.0 International" in content and len(content) > 15_000


@pytest.mark.slow
def test_a_regular_install_imports_and_finds_the_notebooks_from_their_folder(tmp_path):
    """What `pip install ./repo` gives on Colab or a hub: aelib in site-packages, its JSON data included,
    the notebooks found from the kernel's folder."""
    target = tmp_path / "site"
    build = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation",
                            "--no-compile", "--target", str(target), str(ROOT)], capture_output=True, text=True,
                           env=dict(os.environ, PIP_NO_INDEX="1"))
    if build.returncode != 0 and "setuptools" in build.stderr:
        pytest.skip("setuptools is not installed in this environment: cannot build without the network")
    assert build.returncode == 0, build.stderr[-2000:]
    code = ("import aelib, sys; from aelib import data; from aelib.course import selfcheck, site, syllabus; "
            "assert aelib.__file__.startswith(sys.argv[1]), aelib.__file__; "
            "assert selfcheck.questions_for('01') and (site.ASSETS / 'README.md').exists(); "
            "print(len(syllabus.questions()), syllabus.notebook('01').exists)")
    env = {k: v for k, v in os.environ.items() if k != "AELIB_NOTEBOOKS"}
    env["PYTHONPATH"] = str(target)
    run = subprocess.run([sys.executable, "-c", code, str(target)], cwd=ROOT / "notebooks", env=env,
                         capture_output=True, text=True)
    assert run.returncode == 0 and run.stdout.split() == ["20", "True"], run.stderr[-2000:]
