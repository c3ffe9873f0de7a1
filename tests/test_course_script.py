"""course.py, the README's install, open and test commands: it runs on an old Python long enough to say what to
do, picks the right torch build per platform, opens Jupyter at the repository with notebook 00, and CI runs the
README's commands word for word."""
import ast
import importlib.util
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "course.py"
spec = importlib.util.spec_from_file_location("course_script", SCRIPT)
course = importlib.util.module_from_spec(spec)
spec.loader.exec_module(course)
COMMANDS = ["python3 course.py install", "python3 course.py open", "python3 course.py test"]


def test_the_script_parses_on_old_pythons_so_it_can_say_what_to_do():
    """No f-strings, annotations or other syntax newer than Python 3.4's (it avoids Python 2's gaps too): the
    version check must run before anything else can fail."""
    source = SCRIPT.read_text(encoding="utf-8")
    ast.parse(source, feature_version=(3, 4))
    with pytest.raises(SyntaxError):
        ast.parse('x = f"{1}"', feature_version=(3, 4))          # the check above would catch an f-string
    assert "from __future__ import print_function" in source
    assert source.isascii(), "non-ASCII text would fail in a Windows console's code page"
    assert not source.startswith("#!"), "a /usr/bin/env shebang makes Windows' py launcher search PATH first"


def run_with_old_python(tmp_path, path, *args):
    code = ("import sys, runpy; sys.version_info = (3, 9, 6, 'final', 0); "
            f"sys.argv = ['course.py'] + {list(args)!r}; runpy.run_path({str(SCRIPT)!r}, run_name='__main__')")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AELIB_")}
    env.update(PATH=path, AELIB_VENV=str(tmp_path / "venv"))
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)


def test_an_old_python_without_a_newer_one_gets_the_fix_and_changes_nothing(tmp_path):
    out = run_with_old_python(tmp_path, str(tmp_path / "empty"), "install")
    assert out.returncode == 1, out.stdout + out.stderr
    assert "needs Python 3.11 or newer" in out.stderr and "course.py install" in out.stderr
    assert not (tmp_path / "venv").exists()


def test_an_old_python_hands_over_to_a_newer_one_it_finds(tmp_path):
    fake = tmp_path / "bin"
    fake.mkdir()
    log = tmp_path / "called"
    (fake / "python3.12").write_text(f'#!/bin/sh\necho "$@" >> {log}\nexit 0\n')
    (fake / "python3.12").chmod(0o755)
    out = run_with_old_python(tmp_path, str(fake), "open")
    assert out.returncode == 0, out.stdout + out.stderr
    assert "using " + str(fake / "python3.12") in out.stdout
    assert log.read_text().splitlines()[-1] == f"{SCRIPT} open"


@pytest.mark.parametrize("system, release, fix", [
    ("Windows", None, "py -3.12 course.py install"),
    ("Darwin", None, "brew install python@3.12"),
    ("Linux", {"ID": "ubuntu", "VERSION_ID": "22.04"}, "sudo apt install python3.11 python3.11-venv"),
    ("Linux", {"ID": "fedora", "VERSION_ID": "38"}, "sudo dnf install python3.11"),
    ("Linux", {}, "pyenv"),
])
def test_the_python_advice_names_the_fix_per_platform(system, release, fix):
    advice = course.python_advice((3, 10, 12), system, release)
    assert "needs Python 3.11 or newer" in advice and "3.10" in advice and fix in advice
    assert course.python_advice((3, 11, 0), system, release) is None
    assert course.python_advice((3, 13, 1), system, release) is None


def test_find_python_prefers_the_tested_version_and_checks_that_it_runs():
    found = {"python3.11": "/x/python3.11", "python3.12": "/x/python3.12"}
    assert course.find_python("Linux", found.get, lambda cmd: True) == ["/x/python3.11"]
    assert course.find_python("Linux", found.get, lambda cmd: cmd[0] != "/x/python3.11") == ["/x/python3.12"]
    assert course.find_python("Linux", {}.get, lambda cmd: True) is None
    assert course.find_python("Windows", {"py": "C:/py.exe"}.get, lambda cmd: cmd[1] == "-3.12") == ["py", "-3.12"]


@pytest.mark.parametrize("system, machine, translated, plan", [
    ("Linux", "x86_64", False, "cpu-index"), ("Linux", "aarch64", False, "cpu-index"),
    ("Darwin", "arm64", False, "pypi"), ("Windows", "AMD64", False, "pypi"),
    ("Darwin", "x86_64", False, "stop"), ("Darwin", "x86_64", True, "stop"),
])
def test_torch_plan_per_platform(system, machine, translated, plan):
    got, why = course.torch_plan(system, machine, translated)
    assert got == plan and why
    if (system, translated) == ("Darwin", False) and plan == "stop":
        assert "Intel Mac" in why and "Colab" in why and "docs/install.md" in why
    if translated:
        assert "Rosetta" in why and "arm64" in why


def test_linux_takes_only_the_torch_wheel_from_the_cpu_index_then_the_pinned_requirements():
    pins = (ROOT / "requirements.txt").read_text(encoding="utf-8")
    assert f"\ntorch=={course.TORCH}\n" in pins
    first, second = course.install_commands("py", "cpu-index")
    assert first[:4] == ["py", "-m", "pip", "install"] and "--no-deps" in first
    assert first[first.index("--index-url") + 1] == "https://download.pytorch.org/whl/cpu"
    assert first[-1] == f"torch=={course.TORCH}"
    assert int(first[first.index("--retries") + 1]) <= 1 and int(first[first.index("--timeout") + 1]) <= 30
    assert second == ["py", "-m", "pip", "install", "-r", str(ROOT / "requirements.txt")]
    assert course.install_commands("py", "pypi") == [second]
    assert course.install_commands("py", "pypi", tools=True)[0][-1] == str(ROOT / "requirements-test.txt")


def test_the_environment_is_run_directly_never_activated(tmp_path):
    assert course.venv_python("V", "Windows") == os.path.join("V", "Scripts", "python.exe")
    assert course.venv_python("V", "Linux") == os.path.join("V", "bin", "python")
    env = course.venv_env(str(tmp_path), "Linux")
    assert env["PATH"].startswith(os.path.join(str(tmp_path), "bin")) and env["VIRTUAL_ENV"] == str(tmp_path)
    assert "Activate.ps1" not in SCRIPT.read_text(encoding="utf-8").replace("Activate.ps1'", "")


def test_open_makes_the_repository_the_root_and_opens_notebook_00():
    cmd = course.jupyter_command("py", extra=["--no-browser"])
    assert cmd[:3] == ["py", "-m", "jupyterlab"] and f"--ServerApp.root_dir={ROOT}" in cmd
    assert cmd[-1] == str(ROOT / "notebooks" / "00_start_here.ipynb") and "--no-browser" in cmd
    assert course.jupyter_command("py", classic=True)[2] == "notebook"
    assert "--allow-root" in course.jupyter_command("py", as_root=True) and "--allow-root" not in cmd
    assert course.jupyter_command("py", extra=["--allow-root"], as_root=True).count("--allow-root") == 1


def test_the_python_command_runs_the_environments_python(tmp_path):
    env = dict(os.environ, AELIB_VENV=sys.prefix)
    out = subprocess.run([sys.executable, str(SCRIPT), "python", "-c", "import sys; print(sys.prefix)"], env=env,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and out.stdout.strip() == sys.prefix, out.stderr
    env["AELIB_VENV"] = str(tmp_path / "none")
    out = subprocess.run([sys.executable, str(SCRIPT), "python", "-c", "pass"], env=env, capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 1 and "run 'python3 course.py install' first" in out.stdout


def test_unknown_commands_print_the_usage():
    out = subprocess.run([sys.executable, str(SCRIPT), "frobnicate"], capture_output=True, text=True, timeout=30)
    assert out.returncode == 2 and "usage: python3 course.py COMMAND" in out.stdout
    out = subprocess.run([sys.executable, str(SCRIPT), "install", "--frobnicate"], capture_output=True,
                         text=True, timeout=30)
    assert out.returncode == 2 and "usage:" in out.stdout


def test_the_readme_shows_the_commands_and_ci_runs_them_word_for_word():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    first_screen = readme[:readme.index("## The notebooks")]
    for command in COMMANDS:
        assert command in first_screen, command
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    ci_lines = [line.strip() for line in ci.splitlines()]
    assert "python3 course.py install" in ci_lines and "python3 course.py test" in ci_lines
    assert ci_lines.index("python3 course.py install") < ci_lines.index("python3 course.py test")
    assert re.search(r"^export AELIB_VENV=", ci, re.M), "CI needs a fresh environment, not a developer's .venv"


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_open_serves_the_repository_and_opens_notebook_00(tmp_path):
    """`python3 course.py open`, measured: the server's root is the repository (so notebooks' links to ../aelib/
    open) and the page it opens is notebook 00."""
    port, token = _free_port(), "t" + os.urandom(8).hex()
    env = {k: v for k, v in os.environ.items() if k != "AELIB_VENV"}
    env.update(AELIB_VENV=sys.prefix, JUPYTER_RUNTIME_DIR=str(tmp_path / "rt"),
               JUPYTERLAB_WORKSPACES_DIR=str(tmp_path / "ws"))
    args = ["--no-browser", "--ip=127.0.0.1", f"--port={port}", "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={token}"]
    proc = subprocess.Popen([sys.executable, str(SCRIPT), "open"] + args, env=env, cwd=tmp_path,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.time() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/contents?token={token}", timeout=5) as r:
                    listing = {item["name"] for item in json.load(r)["content"]}
                break
            except OSError:
                assert proc.poll() is None and time.time() < deadline, "the server did not start"
                time.sleep(0.5)
        assert {"notebooks", "aelib", "README.md"} <= listing
        # what the browser is sent to: the server writes the file-to-run page beside its generic one
        pages = {p.name: p.read_text(encoding="utf-8") for p in (tmp_path / "rt").glob("jpserver-*open.html")}
        assert any(f"/lab/tree/notebooks/00_start_here.ipynb?token={token}" in text for text in pages.values()), \
            pages
    finally:                                          # the script and the Jupyter server it started
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
