"""The thread policy: one CPU thread per kernel, for torch, BLAS and OpenMP, unless you say otherwise.

Why. The models in this collection are small, so a second thread buys little: notebook 09 ran its
"run all" in 18 s with one thread and 24 s with the default two on a 2-core AMD EPYC. In company it
is decisive: two copies of notebook 09 training at once with the default threads took 173 s and 176 s
each, against 23.5 s alone (the OpenMP workers of each kernel spin-wait on the cores the other needs;
PyTorch issues #19163 and #98836); with one thread each, 1.05-1.27x their time alone (BENCHMARKS.md). A student with two notebooks open, a lecturer whose
browser is busy, a JupyterHub whose users share cores and a one-CPU Binder pod all hit that case.

The policy, applied when ``aelib`` is imported (so it holds whether a notebook imports torch before
or after aelib):

* ``AELIB_THREADS=N`` (a whole number >= 1): use N threads; ``AELIB_THREADS=auto``: leave every
  library at its own default (all cores), which is faster only on a machine with nothing else to do;
* else, if ``OMP_NUM_THREADS`` is set, it is respected (you or your platform chose it);
* else one thread.

It sets ``torch.set_num_threads`` (if torch is imported), limits the BLAS and OpenMP pools already
loaded (threadpoolctl), and sets ``OMP_NUM_THREADS``, ``OPENBLAS_NUM_THREADS`` and
``MKL_NUM_THREADS`` where unset, so libraries loaded later (scikit-learn's OpenMP) follow it too.
"""
from __future__ import annotations

import os
import sys

ENV = "AELIB_THREADS"
_ENV_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
_applied: dict = {}


def configured_threads() -> int | None:
    """The number of threads the policy asks for; ``None`` means "leave the libraries' defaults".

    Reads ``AELIB_THREADS`` (a whole number >= 1, or ``auto``), else ``OMP_NUM_THREADS``, else 1.

    Raises:
        ValueError: if ``AELIB_THREADS`` is neither ``auto`` nor a whole number >= 1, naming the variable.
    """
    raw = os.environ.get(ENV, "").strip()
    if raw:
        if raw.lower() == "auto":
            return None
        try:
            n = int(raw)
        except ValueError:
            n = 0
        if n < 1:
            raise ValueError(f"{ENV} must be a whole number of threads >= 1, or 'auto' (every core), "
                             f"got {raw!r}; unset it for the default of one thread")
        return n
    omp = os.environ.get("OMP_NUM_THREADS", "").strip()
    if omp.isdigit() and int(omp) >= 1:
        return int(omp)
    return 1


def apply_thread_policy() -> int | None:
    """Apply :func:`configured_threads` to torch, BLAS and OpenMP; return the number applied (or None).

    Safe to call again (it re-reads the environment). Called once by ``import aelib``.
    """
    n = configured_threads()
    _applied.clear()
    _applied["threads"] = n
    if n is None:
        return None
    for var in _ENV_VARS:
        os.environ.setdefault(var, str(n))
    if "torch" in sys.modules:
        torch = sys.modules["torch"]
        if torch.get_num_threads() != n:
            torch.set_num_threads(n)
    if any(m in sys.modules for m in ("numpy", "scipy", "sklearn", "torch")):
        try:
            from threadpoolctl import threadpool_limits
        except ImportError:  # pragma: no cover - scikit-learn brings threadpoolctl
            return n
        threadpool_limits(limits=n)
    return n


def describe() -> str:
    """One line for an environment check: the threads in use and how to change them."""
    n = _applied.get("threads", "not applied")
    try:
        import torch
        now = torch.get_num_threads()
    except ImportError:  # pragma: no cover
        now = "?"
    how = ("AELIB_THREADS=auto" if n is None else f"policy {n}")
    return (f"{now} torch thread(s) of {os.cpu_count()} cores ({how}; set AELIB_THREADS=N or =auto "
            "before starting Jupyter to change it)")
