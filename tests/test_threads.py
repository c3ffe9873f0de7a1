"""The thread policy holds whichever of torch and aelib a notebook imports first, and can be overridden."""
import json
import os
import subprocess
import sys

import pytest

from aelib import threads

PROBE = """
import json, sys
first = sys.argv[1]
if first == "torch":
    import torch, numpy
    import aelib
else:
    import aelib
    import torch, numpy
import sklearn.neighbors  # scikit-learn's OpenMP runtime, loaded after aelib
from threadpoolctl import threadpool_info
print(json.dumps(dict(torch=torch.get_num_threads(),
                      pools=sorted({p["num_threads"] for p in threadpool_info()}))))
"""


def probe(first, **env):
    clean = {k: v for k, v in os.environ.items()
             if k not in ("AELIB_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}
    clean.update(env)
    out = subprocess.run([sys.executable, "-c", PROBE, first], env=clean, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.slow
@pytest.mark.parametrize("first", ["torch", "aelib"])
def test_one_thread_by_default_whatever_is_imported_first(first):
    got = probe(first)
    assert got == {"torch": 1, "pools": [1]}


@pytest.mark.slow
def test_aelib_threads_overrides_and_auto_leaves_the_default():
    assert probe("torch", AELIB_THREADS="2")["torch"] == 2
    default = probe("torch", AELIB_THREADS="auto")["torch"]
    assert default == json.loads(subprocess.run(
        [sys.executable, "-c", "import torch; print(torch.get_num_threads())"], capture_output=True, text=True,
        env={k: v for k, v in os.environ.items() if not k.endswith("NUM_THREADS")}).stdout)


@pytest.mark.slow
def test_a_users_omp_num_threads_is_respected():
    assert probe("aelib", OMP_NUM_THREADS="2")["torch"] == 2


@pytest.mark.parametrize("bad", ["0", "-1", "two", "1.5"])
def test_a_bad_value_names_the_variable(monkeypatch, bad):
    monkeypatch.setenv("AELIB_THREADS", bad)
    with pytest.raises(ValueError, match="AELIB_THREADS must be a whole number"):
        threads.configured_threads()


def test_describe_names_the_override(monkeypatch):
    monkeypatch.delenv("AELIB_THREADS", raising=False)
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    assert threads.apply_thread_policy() == 1
    assert "AELIB_THREADS" in threads.describe() and threads.describe().startswith("1 torch thread")
