"""A simulated Google Colab runtime: Colab's pinned kernel packages (ipykernel 6.17.1, IPython 7.34.0,
ipywidgets 7.7.1) in an environment of their own, a stand-in ``google.colab`` module loaded when the kernel starts
(as Colab's kernel has it), and no aelib. In it, notebook 00 runs from its Colab cell on (which clones the
collection and installs it with pip), then notebook 09 does the same in a fresh runtime, and its widgets are
moved by the same checks nbval runs. Pip must keep Colab's kernel packages.

The environment is a virtual environment whose own site-packages (Colab's pins) come before this test run's
(everything else, torch included), like a venv made with --system-site-packages: pip fetches only a few MB
(cached after the first run). Where PyPI cannot be reached, the test is skipped and says so.
"""
import json
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from aelib.course import publish

ROOT = Path(__file__).resolve().parent.parent
COLAB_PINS = ["ipykernel==6.17.1", "ipython==7.34.0", "ipywidgets==7.7.1"]
OFFLINE = ("NewConnectionError", "Could not fetch URL", "Max retries exceeded", "Temporary failure in name",
           "Network is unreachable", "No matching distribution found")

pytestmark = pytest.mark.slow


def _python_in(venv: Path) -> Path:
    return venv / ("Scripts/python.exe" if sys.platform == "win32" else "bin/python")


def _pip(python: Path, *args) -> subprocess.CompletedProcess:
    return subprocess.run([str(python), "-m", "pip", "--disable-pip-version-check", *args], capture_output=True,
                          text=True, timeout=600)


@pytest.fixture(scope="module")
def colab(tmp_path_factory):
    """``(python, site-packages, jupyter path, snapshot address)`` of the simulated Colab environment."""
    if not shutil.which("git"):
        pytest.skip("git is not installed: the Colab cell clones the collection with git")
    tmp = tmp_path_factory.mktemp("colab")
    venv = tmp / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = _python_in(venv)
    site = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               capture_output=True, text=True, check=True).stdout.strip())
    base = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (site / "zz_this_test_run.pth").write_text("\n".join(sorted(base)) + "\n", encoding="utf-8")
    got = _pip(python, "install", "-q", *COLAB_PINS)
    if got.returncode != 0:
        if any(marker in got.stdout + got.stderr for marker in OFFLINE):
            pytest.skip(f"Colab's kernel packages ({', '.join(COLAB_PINS)}) could not be fetched from PyPI: "
                        f"{(got.stderr.strip().splitlines() or ['?'])[-1]}")
        pytest.fail(f"pip could not install Colab's kernel packages:\n{got.stderr[-3000:]}")
    (site / "google" / "colab").mkdir(parents=True)
    (site / "google" / "colab" / "__init__.py").write_text('"""A stand-in for Colab\'s own module."""\n')
    startup = tmp / "ipython" / "profile_default" / "startup"
    startup.mkdir(parents=True)
    (startup / "00-colab.py").write_text("import google.colab  # Colab's kernel has loaded it\n")
    spec = tmp / "jupyter" / "kernels" / "colab-sim"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [str(python), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "simulated Colab", "language": "python",
        "env": {"IPYTHONDIR": str(tmp / "ipython")}}))
    # the collection as a repository to clone: the working tree, uncommitted changes included
    src = tmp / "repository"
    files = subprocess.run(["git", "-C", str(ROOT), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                           capture_output=True, check=True).stdout.decode().split("\0")
    for rel in filter(None, files):
        if (ROOT / rel).is_file():
            (src / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / rel, src / rel)
    git = ["git", "-C", str(src), "-c", "user.name=test", "-c", "user.email=test@example.org"]
    subprocess.run(["git", "init", "-q", str(src)], check=True)
    subprocess.run(git + ["add", "-A"], check=True)
    subprocess.run(git + ["commit", "-q", "-m", "snapshot"], check=True)
    return python, site, tmp / "jupyter", src.as_uri()


def run_on_colab(colab, notebook: str, extra: str, runtime: Path, monkeypatch) -> dict:
    """Run ``notebook`` from its Colab cell on, then ``extra``, in a fresh simulated runtime (as Colab gives
    each notebook); the JSON that the last cell prints."""
    import nbformat
    from nbclient import NotebookClient
    python, site, jupyter_path, address = colab
    subprocess.run([str(python), "-m", "pip", "uninstall", "-q", "-y", "aelib"], capture_output=True)
    monkeypatch.setenv("JUPYTER_PATH", str(jupyter_path))
    monkeypatch.delenv("AELIB_NOTEBOOKS", raising=False)
    nb = nbformat.read(ROOT / "notebooks" / notebook, as_version=4)
    setup = next(c for c in nb.cells if c.get("id") == publish.COLAB_CELL_ID)
    assert publish.settings().repository in setup.source
    setup.source = setup.source.replace(publish.settings().repository, address)
    report = ("import json, os, sys, aelib, ipykernel, IPython, ipywidgets\n"
              "print(json.dumps({'ipykernel': ipykernel.__version__, 'IPython': IPython.__version__, "
              "'ipywidgets': ipywidgets.__version__, 'aelib': aelib.__file__, "
              "'notebooks': os.environ.get('AELIB_NOTEBOOKS'), 'colab': 'google.colab' in sys.modules}))")
    nb.cells += [nbformat.v4.new_code_cell(extra), nbformat.v4.new_code_cell(report)]
    runtime.mkdir()
    NotebookClient(nb, kernel_name="colab-sim", timeout=600, resources={"metadata": {"path": str(runtime)}}).execute()
    return json.loads(nb.cells[-1].outputs[-1]["text"])


def check_colab_kept(state, colab, runtime):
    python, site, _, _ = colab
    assert state["colab"] is True
    assert (state["ipykernel"], state["IPython"], state["ipywidgets"]) == ("6.17.1", "7.34.0", "7.7.1"), \
        "pip replaced one of Colab's kernel packages"
    assert Path(state["aelib"]).is_relative_to(site), f"aelib came from {state['aelib']}, not the Colab install"
    assert state["notebooks"] == str(runtime / publish.CLONE_FOLDER / "notebooks")


def test_notebook_00_runs_on_colab_from_its_colab_cell(colab, tmp_path, monkeypatch):
    runtime = tmp_path / "content"
    extra = ("from aelib.course import syllabus\n"
             "assert syllabus.notebook('01').exists and 'planned' not in syllabus.map_table()")
    state = run_on_colab(colab, "00_start_here.ipynb", extra, runtime, monkeypatch)
    check_colab_kept(state, colab, runtime)


def test_a_widget_notebook_runs_and_its_widgets_move_on_colab(colab, tmp_path, monkeypatch):
    from tests.widget_checks import RESET, WIDGET_CHECKS
    runtime = tmp_path / "content"
    state = run_on_colab(colab, "09_reparameterisation_trick.ipynb", WIDGET_CHECKS["09"] + RESET, runtime,
                         monkeypatch)
    check_colab_kept(state, colab, runtime)
