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
data-load time. The machine's speed is one epoch of the baseline VAE recipe, trained in the same run (timed right
before and after each notebook, :func:`run_bracketed`, since a shared machine's speed drifts), and the time
targets are set in it (each notebook at most 100 such epochs, its longest cell 35, the collection 1,300, one core
200); also under 1 GB per notebook and 50 ms per image widget. This is a measurement, never a test: nothing fails
when a target is missed.

This module runs things (kernels, the recipe race, the thread policy's runs) and holds the command line;
:mod:`aelib.course.probe` is what runs inside each kernel, and :mod:`aelib.course.report` turns the measurements
into the markdown (and holds the targets).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import re
import statistics
import sys
import time
from pathlib import Path

import torch

from .. import data, recipes, threads, vae
from . import browser, exercises, syllabus
from .report import (browser_section, capacity_section, machine, one_core_section, other_runs, policy_section,
                     profile_lines, recipe_section, slowest_cells_section, solutions_section, table, together_section)


MARK = "AELIB_BENCH_JSON:"
SETTLE_SECONDS = 1.0        # the pause after a notebook's kernel stops, before the next baseline epoch is timed


_PROBE = f"""
import json as _json
from aelib.course.probe import peak_memory_mb as _peak
try:
    from aelib.course.probe import benchmark_widgets as _bw
    _w = _bw(globals())
except Exception as _e:  # a widget that cannot be benchmarked must not hide the other numbers
    _w = [dict(name="(error)", kind=type(_e).__name__, ms=float("nan"), moves=0)]
print({MARK!r} + _json.dumps(dict(peak_mb=_peak(), widgets=_w)))
"""


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
    """Train a 20-D VAE on ``x_train`` with a recipe of :mod:`aelib.recipes` (:func:`recipes.train_with_recipe`,
    quietly); the model is put in ``state["model"]`` before training starts. Returns the :class:`History`."""
    def build(d, hidden):
        model = vae.VAE(d, hidden, 20)
        if state is not None:
            state["model"] = model
        return model
    return recipes.train_with_recipe(build, vae.vae_loss(), x_train, recipe, seed,
                                     fit_kwargs=dict(progress=False, live=False, on_epoch=on_epoch))[1]


def vae_time_to_quality(target: float = -108.0, seed: int = 0, baseline_epochs: int = 60) -> list[dict]:
    """Seconds of training for each VAE recipe to reach a test ELBO of ``target`` nats (binarised MNIST split).

    Both recipes (:data:`aelib.recipes.BASELINE_RECIPE`, trained for ``baseline_epochs``, and
    :data:`aelib.recipes.FAST_RECIPE` as it is) are trained in the same run; the test ELBO is measured after every
    epoch and that evaluation is not counted; training stops at the first epoch that reaches the target. Returns
    ``[{"recipe", "seconds" (None if the target was never reached), "epochs", "final_elbo" (the ELBO at the last
    epoch trained)}]``; the baseline's ``seconds / epochs`` is the machine's speed that the targets are set in.
    """
    split = data.load_split("mnist")
    x_train, x_test = data.binarize(split.x_train), data.binarize(split.x_test)
    races = (("baseline: 784-400-20, Adam 1e-3, batch 128", dict(recipes.BASELINE_RECIPE, epochs=baseline_epochs)),
               ("collection: 784-256-20, fused Adam 5e-3 cosine, batch 128", dict(recipes.FAST_RECIPE)))
    out = []
    for name, recipe in races:
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
    """Seconds per epoch of the baseline VAE recipe (:data:`aelib.recipes.BASELINE_RECIPE`, 4,000 binarised digits),
    training only, with torch's default threads (:func:`default_threads`), the median of ``epochs`` epochs (a
    moment of other work on the machine during one of them does not count): the machine's speed, in the unit the
    benchmark's targets use."""
    split = data.load_split("mnist")
    ends = []
    with default_threads():
        _train_recipe(dict(recipes.BASELINE_RECIPE, epochs=epochs), data.binarize(split.x_train), seed,
                      on_epoch=lambda epoch, hist: ends.append(hist.seconds))
    return statistics.median(b - a for a, b in zip([0.0] + ends, ends))


def run_bracketed(paths: list[Path], one_core: bool = False, **kwargs) -> list[dict]:
    """:func:`run_notebook` on each of ``paths`` in turn, with the baseline epoch (:func:`baseline_epoch_seconds`,
    in this process, every core) timed before the first and after each (``SETTLE_SECONDS`` after its kernel
    stopped): every result gets ``unit_s``, the mean of the two timed around it. A shared machine's speed drifts by
    more than 10 % within minutes, so a unit timed beside each notebook states it in the machine's speed of that
    moment. ``one_core``: each kernel is pinned to one core (``os.sched_setaffinity``; Linux), the unit is still
    timed on every core. ``kwargs`` go to :func:`run_notebook`."""
    cores = os.sched_getaffinity(0) if one_core else None
    before, out = baseline_epoch_seconds(), []
    for p in paths:
        print(f"running {p.name}" + (" on one core" if one_core else "") + " ...", flush=True)
        if one_core:
            os.sched_setaffinity(0, {min(cores)})         # the kernel started from here inherits it
        try:
            r = run_notebook(p, **kwargs)
        finally:
            if one_core:
                os.sched_setaffinity(0, cores)
        time.sleep(SETTLE_SECONDS)                       # the kernel that just stopped frees its memory
        after = baseline_epoch_seconds()
        r["unit_s"] = (before + after) / 2
        before = after
        print(f"  {r['seconds']:.1f} s = {r['seconds'] / r['unit_s']:.0f} baseline epochs of {r['unit_s']:.3f} s"
              + ("" if math.isnan(r.get("peak_mb", math.nan)) else f", {r['peak_mb']:.0f} MB")
              + (f", ERROR {r['error']}" if r.get("error") else "")
              + "".join(f"\n  solution {s['number']} failed: {s['error']}" for s in r.get("solutions", [])
                        if s["error"]), flush=True)
        out.append(r)
    return out


def run_policy(path: Path, rounds: int = 3) -> dict:
    """Run-all of one notebook (without solutions) alone with one thread (``AELIB_THREADS=1``) and alone with the
    adaptive policy, alternating for ``rounds`` rounds (a shared machine's speed drifts: the report compares
    medians), then by two adaptive kernels at once. Returns ``{"one": [result, ...], "alone": [result, ...],
    "together": [result, result]}`` (:func:`run_notebook` results)."""
    one, alone = [], []
    for _ in range(rounds):
        with environment(AELIB_THREADS="1"):
            one.append(run_notebook(path, solutions=False))
        with environment(AELIB_THREADS="adaptive"):
            alone.append(run_notebook(path, solutions=False))
    with environment(AELIB_THREADS="adaptive"):
        together = run_together(path, 2)
    return {"one": one, "alone": alone, "together": together}


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
        print(f"on {machine()}; each notebook in the baseline VAE epoch timed right before and after it\n",
              flush=True)
        failed = False
        for r in run_bracketed(paths, solutions=False):
            failed |= bool(r["error"])
            print("\n".join(profile_lines(r)) + (f"\n\nERROR {r['error']}" if r["error"] else "") + "\n",
                  flush=True)
        return 1 if failed else 0
    results = run_bracketed(paths)
    one_core = run_bracketed(paths, one_core=True, solutions=False) if args.one_core else []
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
    output = Path(args.output) if args.output else paths[0].parent.parent / "BENCHMARKS.md"
    report = table(results, warm_load_ms(), sections + extra, baseline_s=baseline_s, others=other_runs(output))
    output.write_text(report, encoding="utf-8")
    print(f"wrote {output}")
    return 1 if any(r["error"] for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
