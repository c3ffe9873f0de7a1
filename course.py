"""Install, open and test the collection: one command each, the same on Linux, macOS and Windows.

    python3 course.py install    # a virtual environment in .venv with what the notebooks need
    python3 course.py open       # JupyterLab with this folder as its root and notebook 00 open
    python3 course.py test       # the test tools, then pytest (any arguments go to pytest)
    python3 course.py python ... # the environment's python, e.g. -m aelib.data

On Windows, type ``py`` instead of ``python3``. This file uses the standard library only and runs on any Python:
on one older than 3.11 it looks for a newer one and otherwise says how to get one. It never activates the
environment (it runs the environment's own python), so PowerShell's execution policy does not matter.
On Linux it installs PyTorch's CPU build (about 190 MB) instead of PyPI's CUDA build (several GB).
``AELIB_VENV=DIR`` puts the environment in DIR instead of .venv. docs/install.md gives the same steps by hand.
"""
from __future__ import print_function

import os
import platform
import subprocess
import sys
import time

MIN_PYTHON = (3, 11)
TESTED_PYTHON = "3.11"
CANDIDATES = ("3.11", "3.12", "3.13")              # tried in this order when an older Python runs this file
TORCH = "2.13.0"                                   # as pinned in requirements.txt
CPU_INDEX = "https://download.pytorch.org/whl/cpu"
ROOT = os.path.dirname(os.path.abspath(__file__))
FIRST_NOTEBOOK = os.path.join("notebooks", "00_start_here.ipynb")
USAGE = """usage: python3 course.py COMMAND   (on Windows: py course.py COMMAND)

commands:
  install [--tools] [--torch-from-pypi]
            create .venv (Python 3.11 or newer) and install what the notebooks need; on Linux, PyTorch's
            CPU build first. --tools adds the test, benchmark and reading-copy tools; --torch-from-pypi takes
            PyPI's torch instead (on Linux the CUDA build, several GB, for an NVIDIA GPU)
  open [--classic] [JUPYTER OPTIONS]
            start JupyterLab (--classic: Notebook 7) with this folder as its root and notebook 00 open
  test [PYTEST ARGUMENTS]
            install the test tools into .venv, then run pytest (e.g. python3 course.py test -m "not slow")
  python [ARGUMENTS]
            run the environment's python, e.g. python3 course.py python -m aelib.data

AELIB_VENV=DIR puts the environment in DIR instead of .venv."""


def say(text):
    """Print a line of this script's own output, marked so that it stands out among pip's."""
    print("[course.py] " + text)
    sys.stdout.flush()


# ------------------------------------------------------------------------------------------------ which Python

def os_release(path="/etc/os-release"):
    """``{ID, VERSION_ID, ...}`` of a Linux distribution ({} where the file does not exist)."""
    out = {}
    try:
        with open(path) as f:
            for line in f:
                if "=" in line:
                    key, value = line.rstrip("\n").split("=", 1)
                    out[key] = value.strip('"')
    except (IOError, OSError):
        pass
    return out


def python_advice(version, system, release=None):
    """None if ``version`` (a tuple) is new enough; else what to do, for ``system`` (platform.system()) and, on
    Linux, the distribution (``release`` as :func:`os_release` returns it)."""
    if tuple(version[:2]) >= MIN_PYTHON:
        return None
    lines = ["The collection needs Python 3.11 or newer (its pinned packages, numpy 2.4 among them, have no "
             "release for Python %d.%d), and no newer Python was found on this computer." % tuple(version[:2])]
    if system == "Windows":
        lines += ["Install Python 3.11 or newer from https://www.python.org/downloads/windows/ (or run "
                  "'winget install Python.Python.3.12'), then, in a new PowerShell window:",
                  "    py -3.12 course.py install"]
    elif system == "Darwin":
        lines += ["Install Python 3.11 or newer from https://www.python.org/downloads/macos/ (or run "
                  "'brew install python@3.12'), then:",
                  "    python3.12 course.py install"]
    else:
        release = release or {}
        distro = release.get("ID", "")
        if distro == "ubuntu" and release.get("VERSION_ID", "") < "23.04":
            how = "sudo apt install python3.11 python3.11-venv"
        elif distro in ("ubuntu", "debian"):
            how = "sudo apt install python3 python3-venv   (if that gives an older Python: pyenv or conda)"
        elif distro in ("fedora", "rhel", "centos", "rocky", "almalinux"):
            how = "sudo dnf install python3.11"
        else:
            how = "your distribution's python3.11 package, or pyenv, or conda"
        lines += ["Install Python 3.11 or newer: " + how, "then:", "    python3.11 course.py install"]
    lines.append("(The collection is tested with Python %s.)" % TESTED_PYTHON)
    return "\n".join(lines)


def find_python(system, which=None, runs=None):
    """A command (a list) that starts a Python 3.11 or newer on this computer, or None.

    ``which(name)`` finds a program on the PATH and ``runs(cmd)`` says whether a command runs; both are for tests.
    """
    which = which or _which
    runs = runs or _runs
    for version in CANDIDATES:
        if system == "Windows":
            cmd = ["py", "-" + version]
            if which("py") and runs(cmd + ["-c", "import sys; sys.exit(sys.version_info < (3, 11))"]):
                return cmd
        else:
            path = which("python" + version)
            if path and runs([path, "-c", "import sys; sys.exit(sys.version_info < (3, 11))"]):
                return [path]
    return None


def _which(name):
    for folder in os.environ.get("PATH", "").split(os.pathsep):
        for ext in ("", ".exe"):
            path = os.path.join(folder, name + ext)
            if os.path.isfile(path) and os.access(path, os.X_OK):
                return path
    return None


def _runs(cmd):
    try:
        with open(os.devnull, "w") as null:
            return subprocess.call(cmd, stdout=null, stderr=null) == 0
    except OSError:
        return False


# ------------------------------------------------------------------------------------------------ which torch

def rosetta():
    """True when this Python is an x86_64 build running under Rosetta on an Apple-silicon Mac."""
    try:
        out = subprocess.check_output(["sysctl", "-n", "sysctl.proc_translated"], stderr=subprocess.STDOUT)
        return out.strip() == b"1"
    except (OSError, subprocess.CalledProcessError):
        return False


def torch_plan(system, machine, translated=False):
    """How to install torch here: ``("cpu-index", why)``, ``("pypi", why)`` or ``("stop", what to do instead)``."""
    machine = machine.lower()
    if system == "Linux":
        return "cpu-index", ("Linux: PyPI's torch is the CUDA build (several GB with NVIDIA's libraries); these "
                             "models train on the CPU, so PyTorch's CPU build (about 190 MB) comes first")
    if system == "Darwin" and machine in ("x86_64", "i386"):
        if translated:
            return "stop", ("This Python is an Intel (x86_64) build running under Rosetta on an Apple-silicon Mac. "
                            "Use a native arm64 Python (python.org's macOS installer is universal; Homebrew's in "
                            "/opt/homebrew is native), then run the same command with it.")
        return "stop", ("This is an Intel Mac. PyTorch publishes no Intel-Mac (macOS x86_64) build newer than "
                        "torch 2.2 (2024), so the tested torch==%s cannot be installed here, and torch 2.2 does "
                        "not run with the NumPy 2 that the other pins need. What works: open the collection in a "
                        "browser on Google Colab or Binder (the badges at the top of the README: nothing to "
                        "install), or use a Linux or Windows computer. docs/install.md, 'Intel Macs', has "
                        "the details." % TORCH)
    return "pypi", "%s %s: PyPI's torch wheel is the CPU build" % (system, machine)


def install_commands(python, plan, tools=False, requirements_dir=ROOT):
    """The pip commands that ``install`` runs with the environment's ``python``, for a torch ``plan``."""
    commands = []
    if plan == "cpu-index":
        # --no-deps: only the torch wheel comes from PyTorch's index; its dependencies come from PyPI with the
        # rest. One retry and a 20 s timeout bound the wait where the index cannot be reached.
        commands.append([python, "-m", "pip", "install", "--no-deps", "--retries", "1", "--timeout", "20",
                         "--index-url", CPU_INDEX, "torch==" + TORCH])
    req = "requirements-test.txt" if tools else "requirements.txt"
    commands.append([python, "-m", "pip", "install", "-r", os.path.join(requirements_dir, req)])
    return commands


# ------------------------------------------------------------------------------------------------ the venv

def venv_dir():
    """Where the environment lives: ``$AELIB_VENV``, else ``.venv`` beside this file."""
    return os.path.abspath(os.path.expanduser(os.environ.get("AELIB_VENV") or os.path.join(ROOT, ".venv")))


def venv_python(venv, system=None):
    """The environment's own python executable."""
    if (system or platform.system()) == "Windows":
        return os.path.join(venv, "Scripts", "python.exe")
    return os.path.join(venv, "bin", "python")


def venv_env(venv, system=None):
    """os.environ as an activated environment has it: its scripts first on PATH, VIRTUAL_ENV set."""
    env = dict(os.environ)
    scripts = os.path.dirname(venv_python(venv, system))
    env["PATH"] = scripts + os.pathsep + env.get("PATH", "")
    env["VIRTUAL_ENV"] = venv
    env.pop("PYTHONHOME", None)
    return env


def jupyter_command(python, classic=False, extra=(), as_root=False):
    """The command that starts JupyterLab (or Notebook 7) with the repository as its root and notebook 00 open.

    The root is given explicitly: given only a file, Jupyter makes the file's own folder (notebooks/) its root,
    and the notebooks' links to ../aelib/ could not open. ``as_root`` (a root user, as in a container) adds the
    --allow-root that Jupyter otherwise refuses to start without."""
    app = "notebook" if classic else "jupyterlab"
    extra = list(extra) + (["--allow-root"] if as_root and "--allow-root" not in extra else [])
    return [python, "-m", app, "--ServerApp.root_dir=" + ROOT] + extra + [os.path.join(ROOT, FIRST_NOTEBOOK)]


def run(cmd, env=None):
    """Run ``cmd`` from the repository's folder, showing it first; its exit code."""
    say("$ " + " ".join(cmd))
    return subprocess.call(cmd, cwd=ROOT, env=env)


def venv_python_version(python):
    """(major, minor) of the environment's python, or None if it does not run."""
    try:
        out = subprocess.check_output([python, "-c", "import sys; print('%d %d' % sys.version_info[:2])"])
    except (OSError, subprocess.CalledProcessError):
        return None
    return tuple(int(x) for x in out.split())


def ensure_venv(venv, create):
    """The environment's python, checked; created first when ``create``. None (after saying why) on failure."""
    python = venv_python(venv)
    if not os.path.exists(python):
        if not create:
            say("no environment in %s yet: run 'python3 course.py install' first (Windows: 'py course.py "
                "install')" % venv)
            return None
        say("creating the environment %s with Python %s" % (venv, platform.python_version()))
        if subprocess.call([sys.executable, "-m", "venv", venv]) != 0:
            say("could not create it. On Debian and Ubuntu the venv module is a package of its own: "
                "sudo apt install python%d.%d-venv, then run this again." % sys.version_info[:2])
            return None
    version = venv_python_version(python)
    if version is None or version < MIN_PYTHON:
        say("the environment %s %s: delete that folder and run 'install' again" % (
            venv, "does not run" if version is None else "has Python %d.%d, older than 3.11" % version))
        return None
    return python


def torch_installed(python):
    """The torch version installed in the environment ("2.13.0+cpu"), or None."""
    try:
        out = subprocess.check_output([python, "-c", "import importlib.metadata as m; print(m.version('torch'))"],
                                      stderr=subprocess.STDOUT)
    except (OSError, subprocess.CalledProcessError):
        return None
    return out.decode().strip()


# ------------------------------------------------------------------------------------------------ commands

def cmd_install(args):
    """``install``: the environment, torch (the CPU build on Linux), then requirements.txt."""
    unknown = [a for a in args if a not in ("--tools", "--torch-from-pypi")]
    if unknown:
        print(USAGE)
        return 2
    system, machine = platform.system(), platform.machine()
    plan, why = torch_plan(system, machine, translated=system == "Darwin" and rosetta())
    if plan == "stop":
        say(why)
        return 1
    if "--torch-from-pypi" in args:
        plan, why = "pypi", "--torch-from-pypi: torch from PyPI"
    started = time.time()
    python = ensure_venv(venv_dir(), create=True)
    if python is None:
        return 1
    have = torch_installed(python)
    if plan == "cpu-index" and have and have.split("+")[0] == TORCH:
        plan, why = "pypi", "torch %s is already installed" % have
    say("torch: " + why)
    for cmd in install_commands(python, plan, tools="--tools" in args):
        if run(cmd) != 0:
            if "--index-url" in cmd:
                say("PyTorch's CPU build could not be fetched from %s (pip says why above). Try again later, or "
                    "take PyPI's build instead, which on Linux is the CUDA build (several GB): "
                    "python3 course.py install --torch-from-pypi" % CPU_INDEX)
            else:
                say("pip could not install the requirements (its message is above); nothing else was changed "
                    "outside %s" % venv_dir())
            return 1
    build = subprocess.check_output([python, "-c", "import torch; print(torch.__version__, torch.version.cuda "
                                     "or 'none', torch.cuda.is_available())"]).decode().split()
    say("installed in %.0f s: torch %s (%s), in %s" % (
        time.time() - started, build[0], "CPU build" if build[1] == "none" else "CUDA %s build" % build[1],
        venv_dir()))
    say("next: python3 course.py open   (Windows: py course.py open)")
    return 0


def cmd_open(args):
    """``open``: JupyterLab (or Notebook 7 with --classic) at the repository, notebook 00 open."""
    python = ensure_venv(venv_dir(), create=False)
    if python is None:
        return 1
    classic = "--classic" in args
    extra = [a for a in args if a != "--classic"]
    say("starting Jupyter with %s as its root; stop it with Ctrl+C (twice)" % ROOT)
    try:
        as_root = hasattr(os, "geteuid") and os.geteuid() == 0
        return run(jupyter_command(python, classic, extra, as_root), env=venv_env(venv_dir()))
    except KeyboardInterrupt:
        return 0


def cmd_test(args):
    """``test``: the test tools (requirements-test.txt) into the environment, then pytest with ``args``."""
    python = ensure_venv(venv_dir(), create=False)
    if python is None:
        return 1
    env = venv_env(venv_dir())
    if run([python, "-m", "pip", "install", "-q", "-r", os.path.join(ROOT, "requirements-test.txt")], env) != 0:
        say("pip could not install the test tools (its message is above)")
        return 1
    return run([python, "-m", "pytest"] + list(args), env)


def cmd_python(args):
    """``python``: the environment's own python with ``args`` (the tools: ``-m aelib.course.site``, ...)."""
    python = ensure_venv(venv_dir(), create=False)
    if python is None:
        return 1
    return subprocess.call([python] + list(args), env=venv_env(venv_dir()))


COMMANDS = {"install": cmd_install, "open": cmd_open, "test": cmd_test, "python": cmd_python}


def main(argv):
    """Check the Python (re-running with a newer one where one exists), then run the command."""
    if not argv or argv[0] not in COMMANDS:
        print(USAGE)
        return 0 if argv and argv[0] in ("-h", "--help", "help") else 2
    if sys.version_info[:2] < MIN_PYTHON:
        newer = None if os.environ.get("AELIB_COURSE_REEXEC") else find_python(platform.system())
        if newer:
            say("Python %d.%d runs this file; the collection needs 3.11 or newer: using %s" % (
                sys.version_info[0], sys.version_info[1], " ".join(newer)))
            env = dict(os.environ, AELIB_COURSE_REEXEC="1")
            return subprocess.call(newer + [os.path.abspath(__file__)] + list(argv), env=env)
        print(python_advice(sys.version_info, platform.system(), os_release()), file=sys.stderr)
        return 1
    return COMMANDS[argv[0]](argv[1:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
