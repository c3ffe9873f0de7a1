"""What the benchmark runs inside a notebook's kernel after run-all: the kernel's peak memory and the latency of
every aelib widget the notebook shows (each control moved, the time to its new picture). :mod:`aelib.course.bench`
sends a short cell that imports these and prints their result as one JSON line.
"""
from __future__ import annotations

import sys
import time

import numpy as np


def maxrss_mb(maxrss: float, platform: str | None = None) -> float:
    """``getrusage().ru_maxrss`` in MB: the unit is kilobytes on Linux and bytes on macOS (``"darwin"``)."""
    platform = sys.platform if platform is None else platform
    return maxrss / 2**20 if platform == "darwin" else maxrss / 1024


def peak_memory_mb() -> float:
    """This process's peak resident memory in MB, on Linux, macOS and Windows (where ``resource`` is missing)."""
    try:
        import resource
    except ImportError:                      # Windows: psutil's peak working set
        import psutil
        info = psutil.Process().memory_info()
        return getattr(info, "peak_wset", info.rss) / 2**20
    return maxrss_mb(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def _moves(control, n: int = 9) -> list:
    """Values to step a control through: ``n`` points across a slider's range, or every option's index."""
    if hasattr(control, "index") and hasattr(control, "options"):
        return [("index", i) for i in range(len(control.options))]
    if hasattr(control, "min") and hasattr(control, "max"):
        vals = np.linspace(control.min, control.max, n)
        if isinstance(control.value, (int, np.integer)) and not isinstance(control.value, bool):
            vals = sorted({int(round(v)) for v in vals})
        return [("value", v) for v in vals]
    if isinstance(control.value, bool):
        return [("value", not control.value), ("value", control.value)]
    return []


def benchmark_widgets(namespace: dict) -> list[dict]:
    """Time every aelib widget found in ``namespace`` (e.g. a notebook's ``globals()``).

    For each object with a ``controls`` list, every control is stepped through its range; the time for the
    callback to finish (the new picture computed) is recorded. Controls are put back afterwards.
    Returns ``[{"name", "kind", "ms" (median per change), "moves", "figure" (redraws a matplotlib figure)}]``.
    """
    results = []
    for name, obj in list(namespace.items()):
        if name.startswith("_") or isinstance(obj, type) or not hasattr(obj, "controls") or not hasattr(obj, "widget"):
            continue
        times = []
        if hasattr(obj, "cache_clear"):
            obj.cache_clear()                       # first draws, not pictures kept from before
        for control in obj.controls:
            attr = "index" if hasattr(control, "index") and hasattr(control, "options") else "value"
            original = getattr(control, attr)
            for key, v in _moves(control):
                if getattr(control, key) == v:
                    continue
                t0 = time.perf_counter()
                setattr(control, key, v)
                times.append((time.perf_counter() - t0) * 1000)
            setattr(control, attr, original)
        if times:
            classes = [c for c in getattr(obj.widget, "_dom_classes", ()) if c.startswith("aelib-")]
            results.append(dict(name=name, kind=type(obj).__name__, ms=float(np.median(times)), moves=len(times),
                                figure=bool(getattr(obj, "redraws_figure", False)),
                                css=classes[-1] if classes else ""))
    return results
