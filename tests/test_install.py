"""The install paths agree with each other: pyproject's ranges, requirements.txt's pins, Binder's set-up, and a
regular (non-editable) install that a Colab or JupyterHub user gets. pyproject declares everything the code
imports, in ranges that keep Colab's own kernel packages; the students' install holds no test tools."""
import ast
import importlib.metadata
import json
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


PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
PROJECT = PYPROJECT["project"]
STUDENT_PINS = pins(ROOT / "requirements.txt")
PINS = {**STUDENT_PINS, **pins(ROOT / "requirements-test.txt")}
TEST_TOOLS = {"pytest", "nbval", "playwright", "jupyter-server-mathjax"}
# What Google Colab's runtime pins (google-colab's own requirements): ipykernel 5.5.6 until 2024, 6.17.1 since;
# pip must find them inside pyproject's ranges, or `pip install` would replace the kernel package of a live runtime.
COLAB = {"ipykernel": ["5.5.6", "6.17.1"], "ipython": ["7.34.0"], "ipywidgets": ["7.7.1"], "numpy": ["2.0.2"],
         "traitlets": ["5.7.1"],
         "torch": ["2.6.0", "2.8.0"], "matplotlib": ["3.10.0"], "tqdm": ["4.67.1"]}


@pytest.mark.parametrize("dep", PROJECT["dependencies"] + PROJECT["optional-dependencies"]["test"])
def test_every_declared_range_admits_the_tested_pin(dep):
    req = Requirement(dep)
    name = canonicalize_name(req.name)
    assert name in PINS, f"{req.name} is declared in pyproject.toml but not pinned in requirements.txt"
    assert req.specifier.contains(PINS[name]), f"requirements.txt pins {req.name}=={PINS[name]}, outside {dep}"


def test_requirements_install_from_pypi_alone_and_pin_the_python_they_need():
    for name in ("requirements.txt", "requirements-test.txt"):
        text = (ROOT / name).read_text(encoding="utf-8")
        assert not re.search(r"^\s*--(extra-)?index-url", text, re.M), f"{name} must install from PyPI alone"
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


def test_the_students_install_holds_no_test_tools_and_the_test_file_adds_them():
    assert not TEST_TOOLS & set(STUDENT_PINS), "test tools belong in requirements-test.txt"
    test_file = (ROOT / "requirements-test.txt").read_text(encoding="utf-8")
    assert "-r requirements.txt" in test_file.splitlines()
    assert TEST_TOOLS <= set(pins(ROOT / "requirements-test.txt"))
    assert canonicalize_name("anywidget") in STUDENT_PINS and STUDENT_PINS["anywidget"] == "0.11.0"


@pytest.mark.parametrize("name", sorted(COLAB))
def test_the_declared_ranges_keep_colabs_own_packages(name):
    declared = {canonicalize_name(Requirement(d).name): Requirement(d) for d in PROJECT["dependencies"]}
    for version in COLAB[name]:
        assert declared[name].specifier.contains(version), f"{declared[name]} would replace Colab's {name} {version}"


def _imports(path: Path) -> set[str]:
    """The top-level module names that a Python file or a notebook's code cells import."""
    if path.suffix == ".ipynb":
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        code = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
        code = "\n".join(line for line in code.splitlines() if not line.lstrip().startswith(("%", "!")))
    else:
        code = path.read_text(encoding="utf-8")
    out = set()
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.Import):
            out |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            out.add(node.module.split(".")[0])
    return out


def _distributions(modules: set[str]) -> set[str]:
    """The installed distributions that provide ``modules`` (the standard library and aelib left out)."""
    provided = importlib.metadata.packages_distributions()
    out = set()
    for m in modules - set(sys.stdlib_module_names) - {"aelib", "__future__"}:
        assert m in provided, f"{m} is imported but no installed distribution provides it"
        out |= {canonicalize_name(d) for d in provided[m]}
    return out


def test_pyproject_declares_everything_aelib_and_the_notebooks_import():
    """The helpers and the notebooks need the dependencies; the course machinery may also use the test extra."""
    deps = {canonicalize_name(Requirement(d).name) for d in PROJECT["dependencies"]}
    extra = {canonicalize_name(Requirement(d).name) for d in PROJECT["optional-dependencies"]["test"]}
    helpers = set().union(*(_imports(p) for p in (ROOT / "aelib").glob("*.py")),
                          *(_imports(p) for p in (ROOT / "notebooks").glob("*.ipynb")))
    missing = _distributions(helpers) - deps
    assert not missing, f"imported by aelib or a notebook but not in pyproject's dependencies: {sorted(missing)}"
    course = set().union(*(_imports(p) for p in (ROOT / "aelib" / "course").glob("*.py")))
    missing = _distributions(course) - deps - extra
    assert not missing, f"imported by aelib.course but not declared in pyproject: {sorted(missing)}"


def test_pyproject_uses_an_spdx_licence_with_its_files_and_a_setuptools_that_reads_them():
    assert PROJECT["license"] == "MIT AND CC-BY-4.0"
    assert all((ROOT / f).is_file() for f in PROJECT["license-files"])
    assert set(PROJECT["license-files"]) == {"LICENSE", "LICENSE-CONTENT"}
    (setuptools,) = [Requirement(r) for r in PYPROJECT["build-system"]["requires"] if r.startswith("setuptools")]
    assert setuptools.specifier == SpecifierSet(">=77"), "PEP 639's license and license-files need setuptools 77"
    assert not any(c.startswith("License ::") for c in PROJECT.get("classifiers", [])), "classifiers clash with it"


def test_the_version_agrees_in_pyproject_the_changelog_and_the_citation():
    import yaml
    version = PROJECT["version"]
    changelog = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    assert re.search(r"^## (\S+)", changelog, re.M).group(1) == version, "CHANGELOG.md's newest entry"
    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf-8"))
    assert cff["version"] == version and cff["cff-version"] == "1.2.0" and cff["authors"]
    assert cff["license"] == ["MIT", "CC-BY-4.0"] and cff["title"] in (ROOT / "README.md").read_text(encoding="utf-8")
    assert cff["repository-code"] == PROJECT["urls"]["Repository"]


def test_every_relative_link_in_the_readme_and_docs_leads_to_a_file():
    pages = [ROOT / "README.md", ROOT / "CHANGELOG.md", *sorted((ROOT / "docs").glob("*.md"))]
    assert {p.name for p in pages} >= {"install.md", "teaching.md", "contributing.md", "updating.md"}
    for page in pages:
        text = page.read_text(encoding="utf-8")
        targets = re.findall(r"\]\(([^)\s]+)\)", text) + re.findall(r'src="([^"]+)"', text)
        for target in targets:
            if re.match(r"[a-z]+:", target) or target.startswith("#"):
                continue
            assert (page.parent / target.split("#")[0]).exists(), f"{page.name} links to missing {target}"
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for doc in ("docs/install.md", "docs/teaching.md", "docs/contributing.md", "docs/updating.md",
                "CHANGELOG.md", "CITATION.cff"):
        assert f"]({doc})" in readme, f"the README does not link {doc}"


def test_the_readme_pictures_have_alt_text_and_stay_small():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    first_screen = readme[:readme.index("## The notebooks")]
    images = re.findall(r'<img [^>]*src="(docs/images/[^"]+\.png)"[^>]*>', first_screen)
    assert 2 <= len(images) <= 3, images
    for tag in re.findall(r"<img [^>]*>", first_screen):
        alt = re.search(r'alt="([^"]*)"', tag)
        assert alt and len(alt.group(1)) > 30, f"alt text that says what the picture shows: {tag}"
    for image in images:
        assert (ROOT / image).stat().st_size < 250_000, f"{image} is larger than a README picture needs"


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
    (meta,) = target.glob("aelib-*.dist-info/METADATA")
    text = meta.read_text(encoding="utf-8")
    assert "License-Expression: MIT AND CC-BY-4.0" in text and "License-File: LICENSE-CONTENT" in text
    for asset in (ROOT / "aelib" / "static").glob("*.*"):          # the drawing pad's script and style
        assert (target / "aelib" / "static" / asset.name).exists(), f"{asset.name} is not in the package"
    code = ("import aelib, sys; from aelib import data; from aelib.course import selfcheck, site, syllabus; "
            "assert aelib.__file__.startswith(sys.argv[1]), aelib.__file__; "
            "assert selfcheck.questions_for('01') and (site.ASSETS / 'README.md').exists(); "
            "print(len(syllabus.questions()), syllabus.notebook('01').exists)")
    env = {k: v for k, v in os.environ.items() if k != "AELIB_NOTEBOOKS"}
    env["PYTHONPATH"] = str(target)
    run = subprocess.run([sys.executable, "-c", code, str(target)], cwd=ROOT / "notebooks", env=env,
                         capture_output=True, text=True)
    assert run.returncode == 0 and run.stdout.split() == ["20", "True"], run.stderr[-2000:]
