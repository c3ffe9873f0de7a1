import os
import time

import numpy as np
import pytest

from aelib.course import bench, probe, report
from aelib.widgets import ImageBrowser, LatentExplorer


def test_table_formats_results_and_flags_misses():
    results = [dict(notebook="a.ipynb", seconds=12.0, cpu_s=11.5, error=None, peak_mb=500.0,
                    widgets=[dict(name="w", kind="ImageBrowser", ms=0.4, moves=3, figure=False),
                             dict(name="f", kind="FigureControls", ms=250.0, moves=2, figure=True)]),
               dict(notebook="b.ipynb", seconds=45.0, cpu_s=44.0, error="AssertionError: x", peak_mb=1500.0,
                    widgets=[])]
    results[0].update(cells=[dict(index=2, seconds=4.0, line="fit(model)", figure=False)], first_figure_s=7.5,
                      first_output_s=0.9)
    text = report.table(results, 12.5, ["## extra", "line"], baseline_s=0.3)
    # 12 s = 40 baseline epochs (<= 100); its longest cell 4 s = 13 epochs (<= 35); first figure 7.5 s = 25 (> 20)
    assert ("| a.ipynb | 12.0 | 40 | yes | 4.0 (cell 2) | 13 | yes | 0.9 | 7.5 | 25 | **no** | 11.5 | 500 | yes | ok |"
            in text)
    assert ("| b.ipynb | 45.0 | 150 | **no** |  |  |  |  |  |  |  | 44.0 | 1500 | **no** | error: AssertionError: x |"
            in text)
    assert "| **all 2 notebooks** | **57** | **190** | yes (1,300) |" in text
    assert "| a.ipynb | `f` | FigureControls | 250.0 | 2 | < 200 ms: **no** |" in text
    assert "| a.ipynb | `w` | ImageBrowser | 0.4 | 3 | < 50 ms: yes |" in text
    assert "12.5 ms" in text and text.rstrip().endswith("line") and "0.300 s" in text
    plain = report.table(results, 12.5)                     # without a baseline epoch: seconds only
    assert "| a.ipynb | 12.0 |  |  | 4.0 (cell 2) |  |  | 0.9 | 7.5 |  |  |" in plain
    assert "cores" in report.machine() and "## GPU" in text and "GPU" in report.gpu_note()


def test_other_runs_are_read_from_the_reports_beside_it(tmp_path):
    """A report names the runs on other machines kept beside it, with their speed, instead of a typed-in number."""
    (tmp_path / "BENCHMARKS-amd.md").write_text(
        "# Benchmarks\n\nMachine: AMD EPYC, 2 cores, 24 GiB RAM, CPU only; Python 3.11.7, torch 2.13.0+cpu.\n\n"
        "The machine's speed: one epoch ... took **0.184 s** in this run.\n")
    (tmp_path / "BENCHMARKS-cuda.md").write_text("# Benchmarks on a CUDA GPU\n\nno baseline here\n")
    (tmp_path / "BENCHMARKS.md").write_text("Machine: X; y\n took **0.100 s**\n")
    others = report.other_runs(tmp_path / "BENCHMARKS.md")
    assert others == [("BENCHMARKS-amd.md", "AMD EPYC, 2 cores", 0.184)]
    text = report.table([], 1.0, baseline_s=0.2, others=others)
    assert "**0.200 s** in this run ([BENCHMARKS-amd.md](BENCHMARKS-amd.md): AMD EPYC, 2 cores, 0.184 s)." in text
    assert "Intel Xeon: 0.163" not in report.table([], 1.0, baseline_s=0.2)


@pytest.mark.slow
def test_run_notebook_measures_time_memory_and_widgets(tmp_path):
    import nbformat
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("import numpy as np\nfrom aelib.widgets import ImageBrowser\n"
                                  "b = ImageBrowser({k: np.zeros((3, 3)) + k / 3 for k in range(3)})"),
        nbformat.v4.new_code_cell("import time\ntime.sleep(0.4)"),
        nbformat.v4.new_code_cell("import matplotlib.pyplot as plt\nplt.plot([0, 1])\nplt.show()"),
        nbformat.v4.new_markdown_cell("## Exercises\n1. Sleep.\n2. Fail."),
        nbformat.v4.new_markdown_cell("<details><summary><b>Solution 1</b></summary>\n\n```python\nimport time\n"
                                      "time.sleep(0.3)\n```\n\n</details>\n\n<details><summary><b>Solution 2"
                                      "</b></summary>\n\n```python\nassert False, 'no'\n```\n\n</details>"),
    ])
    path = tmp_path / "t.ipynb"
    nbformat.write(nb, path)
    r = bench.run_notebook(path, timeout=120)
    assert r["error"] is None and r["seconds"] > 0 and r["peak_mb"] > 10
    assert 0 < r["cpu_s"] < r["seconds"] + 5
    assert [w["name"] for w in r["widgets"]] == ["b"] and r["widgets"][0]["moves"] == 2
    cells = r["cells"]                                   # every code cell, timed on its own
    assert [c["index"] for c in cells] == [0, 1, 2] and [c["figure"] for c in cells] == [False, False, True]
    assert cells[1]["seconds"] >= 0.4 and cells[1]["line"] == "import time"
    assert r["first_figure_s"] >= sum(c["seconds"] for c in cells[:2]) and r["first_figure_s"] <= r["seconds"]
    assert r["first_output_s"] <= r["first_figure_s"]    # the first cell shows nothing, the third a plot
    lines = report.profile_lines(r, baseline_s=0.2)
    rows = [l for l in lines if l.startswith("| ") and l.split("|")[1].strip().isdigit()]
    assert len(rows) == 3 and any(l.startswith("| 1 | import time | 0.4") for l in rows)
    seconds = [float(l.split("|")[3]) for l in rows]
    assert seconds == sorted(seconds, reverse=True)      # slowest first
    assert lines[0].startswith("### t.ipynb:") and "baseline epochs" in lines[0]
    (one, two) = r["solutions"]                          # timed after the notebook, each on its own
    assert one["number"] == 1 and one["seconds"] >= 0.3 and one["error"] is None
    assert two["error"] == "AssertionError: no at `assert False, 'no'`" and r["error"] is None


@pytest.mark.slow
def test_run_all_time_leaves_out_the_benchmarks_own_widget_timing(tmp_path):
    # the probe that times the widgets runs after the notebook: its seconds are not the notebook's
    import nbformat
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "import time\nimport ipywidgets as widgets\nfrom aelib.widgets import FigureControls\n"
        "def draw(fig, k=0):\n    time.sleep(0.25)\n    fig.subplots().plot([0, k])\n"
        "slow = FigureControls(draw, {'k': widgets.IntSlider(value=0, min=0, max=4)}, prefetch=False)")])
    path = tmp_path / "w.ipynb"
    nbformat.write(nb, path)
    r = bench.run_notebook(path, timeout=120)
    (w,) = r["widgets"]
    probe_s = w["ms"] * w["moves"] / 1000
    assert w["moves"] >= 4 and probe_s > 1.0                 # the widget benchmark took over a second ...
    cell_s = r["cells"][0]["seconds"]
    assert cell_s >= 0.25 and r["seconds"] < cell_s + 0.5    # ... which run-all does not count
    assert r["cpu_s"] < r["seconds"] + 0.5


@pytest.mark.slow
def test_run_notebook_reports_errors(tmp_path):
    import nbformat
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("assert 1 == 2, 'boom'")])
    path = tmp_path / "e.ipynb"
    nbformat.write(nb, path)
    r = bench.run_notebook(path, timeout=120)
    assert r["error"] == "AssertionError: boom at `assert 1 == 2, 'boom'`"   # the cell's own exception and line


def test_peak_memory_units_on_linux_macos_and_windows(monkeypatch):
    assert probe.maxrss_mb(2048, "linux") == 2.0            # kilobytes on Linux
    assert probe.maxrss_mb(2 * 2**20, "darwin") == 2.0      # bytes on macOS
    assert 10 < probe.peak_memory_mb() < 10_000
    import builtins
    real_import = builtins.__import__

    def no_resource(name, *args, **kwargs):                  # Windows has no resource module
        if name == "resource":
            raise ImportError("No module named 'resource'")
        return real_import(name, *args, **kwargs)
    monkeypatch.setattr(builtins, "__import__", no_resource)
    assert 10 < probe.peak_memory_mb() < 10_000


@pytest.mark.slow
def test_bench_imports_without_the_resource_module():
    import subprocess
    import sys
    code = "import sys; sys.modules['resource'] = None; import aelib.course.bench; print(aelib.course.report.machine())"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0 and "cores" in out.stdout, out.stderr


def test_hub_capacity_model():
    assert report.hub_capacity(20.0, 500.0, 30) == (2, 30 * 500 / 1024)      # 600 core-s in 300 s
    assert report.hub_capacity(20.0, 500.0, 100)[0] == 7                       # ceil(2000 / 300)
    assert report.hub_capacity(0.1, 100.0, 1)[0] == 1
    assert report.hub_capacity(20.0, 500.0, 30, contention=1.3)[0] == 3          # ceil(780 / 300)
    assert report.predicted_wall(20.0, 22.0, 4, 2) == 40.0
    assert report.predicted_wall(5.0, 22.0, 2, 2) == 22.0                      # never faster than alone


def test_together_and_capacity_sections():
    alone = dict(notebook="n.ipynb", seconds=20.0, cpu_s=19.0, peak_mb=400.0, error=None)
    two = [dict(alone, seconds=s) for s in (21.0, 25.0)]
    four = [dict(alone, seconds=s, peak_mb=410.0) for s in (40.0, 41.0, 39.0, 42.0)]
    text = "\n".join(report.together_section(alone, {2: two, 4: four}))
    assert "| 2 | 21.0, 25.0 | 1.25 | < 1.3x: yes |" in text
    assert "| 4 | 40.0, 41.0, 39.0, 42.0 | 2.10 |" in text
    cap = "\n".join(report.capacity_section([alone], (alone, four)))
    # predicted max(20, 4 x 19 / cores); measured 42 s: the contention factor enters the table
    cores = os.cpu_count()
    factor = max(1.0, 42.0 / max(20.0, 4 * 19.0 / cores))
    assert f"ceil({factor:.2f} x N x CPU seconds" in cap and "slowest **42.0 s**" in cap
    assert f"| n.ipynb | 19.0 | 400 | {report.hub_capacity(19.0, 400.0, 30, contention=factor)[0]}, 12 |" in cap
    plain = "\n".join(report.capacity_section([alone]))
    assert "| n.ipynb | 19.0 | 400 | 2, 12 | 7, 39 | 13, 78 |" in plain


@pytest.mark.slow
def test_run_together_starts_kernels_at_once(tmp_path):
    import nbformat
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("import time; t = time.time()\nprint(t)")])
    path = tmp_path / "t.ipynb"
    nbformat.write(nb, path)
    import time
    t = time.time()
    rs = bench.run_together(path, 2, delay=8.0)
    assert len(rs) == 2 and all(r["error"] is None for r in rs)
    starts = sorted(r["started"] for r in rs)
    assert starts[0] >= t + 7.9 and starts[1] - starts[0] < 1.0      # both began at the agreed moment


def test_a_failed_notebook_is_reported_by_its_cells_exception():
    from nbclient.exceptions import CellExecutionError
    err = CellExecutionError("An error occurred while executing the following cell:\n...", "RuntimeError",
                             "Expected all tensors to be on the same device\nmore")
    assert bench._error_line(err) == "RuntimeError: Expected all tensors to be on the same device"
    assert bench._error_line(ValueError("bad\nvalue")) == "ValueError: bad"
    # an assert without a message: the line that failed, from IPython's coloured traceback
    tb = ("\x1b[0;31mAssertionError\x1b[0m\nCell In[3], line 5\n      3 x = 1\n"
          "\x1b[0;32m----> 5\x1b[0m \x1b[38;5;28;01massert\x1b[39;00m gain < 0.3\n")
    assert bench._error_line(CellExecutionError(tb, "AssertionError", "")) == "AssertionError:  at `assert gain < 0.3`"


def test_browser_section_puts_end_to_end_latency_beside_the_kernel_side_time():
    results = [{"notebook": "04.ipynb", "widgets": [dict(name="ex", kind="FigureControls", ms=180.0, moves=6,
                                                        figure=True, css="aelib-ex")]}]
    browser_results = [{"notebook": "04.ipynb", "widgets": [
        {"css": "aelib-ex", "ms": [60.0, 70.0, 300.0], "paced_ms": [55.0, 65.0]},
        {"css": "aelib-img", "ms": [120.0, 130.0], "paced_ms": []}]}]
    lines = report.browser_section(results, browser_results)
    row = next(line for line in lines if "`aelib-ex`" in line)
    assert "| FigureControls | 180 | 70 | 60 | 300 | < 250 ms: yes |" in row
    row = next(line for line in lines if "`aelib-img`" in line)
    assert "< 100 ms: **no**" in row                    # an image widget is held to 100 ms
    pads = [{"notebook": "06.ipynb", "widgets": [{"css": "aelib-pad-score", "ms": [50.0, 60.0, 240.0],
                                                  "paced_ms": []}]}]
    row = next(line for line in report.browser_section(results, pads) if "`aelib-pad-score`" in line)
    assert "| drawing pad (a stroke) |  | 60 |  | 240 | < 250 ms: yes |" in row   # a pad: the figure target


def test_benchmark_widgets_times_every_control_and_restores_it():
    frames = {k: np.full((4, 4), k / 10) for k in (2, 4, 8)}
    b = ImageBrowser(frames)
    def slow_decoder(z):                      # 5 ms per decode: the timings must see it
        time.sleep(0.005)
        return np.zeros((len(z), 64))
    w = LatentExplorer(slow_decoder, image_shape=(8, 8))
    before = (b.value, w.z)
    res = {r["name"]: r for r in probe.benchmark_widgets({"b": b, "w": w, "other": 3, "ImageBrowser": ImageBrowser})}
    assert set(res) == {"b", "w"}
    assert res["b"]["moves"] == 2 and res["w"]["moves"] >= 16 and res["w"]["kind"] == "LatentExplorer"
    assert res["w"]["ms"] >= 5 and 0 < res["b"]["ms"] < res["w"]["ms"], res
    assert (b.value, w.z) == before


def test_solutions_section_totals_each_notebook_and_flags_failures():
    results = [dict(notebook="01_a.ipynb", seconds=30.0, solutions=[dict(number=1, seconds=2.0, error=None),
                                                                     dict(number=2, seconds=9.5, error=None)]),
               dict(notebook="02_b.ipynb", seconds=20.0, solutions=[dict(number=1, seconds=1.0, error="E: x")]),
               dict(notebook="03_c.ipynb", seconds=10.0, solutions=[])]
    text = "\n".join(report.solutions_section(results, baseline_s=0.5))
    assert "| 01_a.ipynb | 2 | 11.5 | 9.5 (solution 2) | 23 |" in text
    assert "| 02_b.ipynb | 1 | 1.0 | 1.0 (solution 1) | 2 | **failed: solution 1 (E: x)** |" in text
    assert "03_c" not in text and "**all 3 solutions** | | **12.5**" in text


def test_recipe_section_reports_the_median_speed_up_and_the_baseline_epoch():
    rows = lambda base, fast: [dict(recipe="baseline", seconds=base, epochs=25, final_elbo=-107.9),
                               dict(recipe="collection", seconds=fast, epochs=19, final_elbo=-107.5)]
    lines, baseline_s = report.recipe_section({0: rows(10.0, 4.0), 1: rows(9.0, 5.0), 2: rows(11.0, 5.0)})
    text = "\n".join(lines)
    assert "**2.20x** median (2.50, 1.80, 2.20); at least 2x: yes" in text
    assert "| baseline | 1 | 9.00 | 25 | -107.9 |" in text
    assert baseline_s == pytest.approx(10.0 / 25)             # the median seconds per baseline epoch
    never = [dict(recipe="baseline", seconds=None, epochs=None, final_elbo=-120.0), rows(1, 1)[1]]
    lines, baseline_s = report.recipe_section({0: never})
    assert baseline_s is None and "not reached" in "\n".join(lines) and "Speed-up" not in "\n".join(lines)


def test_one_core_section_compares_with_all_cores_in_baseline_epochs():
    alone = [dict(notebook="a.ipynb", seconds=10.0)]
    pinned = [dict(notebook="a.ipynb", seconds=12.0, error=None)]
    text = "\n".join(report.one_core_section(alone, pinned, baseline_s=0.05))
    assert "| a.ipynb | 10.0 | 12.0 | 1.20 | 240 | **no** |" in text
    assert "| a.ipynb | 10.0 | 12.0 | 1.20 | 40 | yes |" in "\n".join(report.one_core_section(alone, pinned, 0.3))


def test_slowest_cells_section_lists_the_slowest_cells_first():
    r = dict(notebook="a.ipynb", cells=[dict(index=1, seconds=1.0, line="x = 1", figure=False),
                                        dict(index=4, seconds=6.0, line="fit(m) | g", figure=True),
                                        dict(index=2, seconds=3.0, line="plot()", figure=True)])
    text = "\n".join(report.slowest_cells_section([r], baseline_s=0.5, top=2))
    assert "| a.ipynb | cell 4 `fit(m) / g` 6.0 (12); cell 2 `plot()` 3.0 (6) |" in text and "x = 1" not in text


def test_vae_time_to_quality_stops_at_the_target_and_the_baseline_epoch_is_positive():
    rows = bench.vae_time_to_quality(target=-200.0)      # an easy target: reached within a few epochs
    assert [r["recipe"].split(":")[0] for r in rows] == ["baseline", "collection"]
    for r in rows:
        assert 0 < r["seconds"] and 1 <= r["epochs"] <= 5 and r["final_elbo"] >= -200.0   # stopped there
    assert 0 < bench.baseline_epoch_seconds(epochs=1) < 30


def test_the_policy_section_compares_one_thread_adaptive_and_two_at_once():
    def r(sec, cpu):
        return dict(notebook="12.ipynb", seconds=sec, cpu_s=cpu, error=None)
    text = "\n".join(report.policy_section({"one": [r(20.0, 20.0)], "alone": [r(15.0, 26.0)],
                                            "together": [r(21.0, 20.5), r(22.5, 22.0)]}))
    assert "| alone, adaptive | 15.0 | 26.0 | 1.33x faster | \u2265 1.2x: yes |" in text
    assert "| 2 at once, adaptive | 21.0, 22.5 | 20.5, 22.0 | 1.50x adaptive alone, 1.12x 1 thread alone |" in text
    assert "**no**" in text                                 # 1.5x adaptive alone misses 1.3x, and says so


def test_the_policy_section_takes_the_median_of_alternating_rounds():
    """On a machine whose speed drifts (a shared VM), one run each decides nothing: rounds alternate, and the
    ratios are between medians."""
    def r(sec, cpu):
        return dict(notebook="12.ipynb", seconds=sec, cpu_s=cpu, error=None)
    text = "\n".join(report.policy_section({"one": [r(31.0, 31.0), r(27.0, 27.0), r(29.0, 29.0)],
                                            "alone": [r(22.0, 33.0), r(24.0, 35.0), r(23.0, 34.0)],
                                            "together": [r(28.0, 27.0), r(29.9, 29.0)]}))
    assert "| alone, 1 thread | 31.0, 27.0, 29.0 (median 29.0) | 29.0 | 1.00 | |" in text
    assert "| alone, adaptive | 22.0, 24.0, 23.0 (median 23.0) | 34.0 | 1.26x faster | \u2265 1.2x: yes |" in text
    assert "1.30x adaptive alone, 1.03x 1 thread alone | \u2264 1.3x: yes |" in text
    assert "3 rounds" in text and "varied by up to 15 %" in text   # (31 - 27) / 27


def test_baseline_epochs_use_torchs_default_threads(monkeypatch):
    import torch
    from aelib import threads
    monkeypatch.setattr(threads, "available_cores", lambda *a, **k: 2)
    torch.set_num_threads(1)
    with bench.default_threads() as n:
        assert n == torch.get_num_threads() == 2 and threads.mode()[0] == "default"
    assert torch.get_num_threads() == 1 and os.environ.get("AELIB_THREADS") != "auto"


def test_each_notebook_is_stated_in_the_baseline_epoch_timed_beside_it():
    """A shared machine's speed drifts within minutes: a notebook's ``unit_s`` (the baseline epoch timed right
    before and after it) is its unit where present, and the collection's total is the sum of the notebooks'."""
    def r(name, sec, unit):
        return dict(notebook=name, seconds=sec, cpu_s=sec, error=None, peak_mb=400.0, widgets=[], unit_s=unit,
                    cells=[dict(index=3, seconds=sec / 2, line="fit(m)", figure=True)], first_figure_s=sec / 2,
                    first_output_s=0.5, solutions=[dict(number=1, seconds=3.0, error=None)])
    results = [r("a.ipynb", 30.0, 0.3), r("b.ipynb", 20.0, 0.25)]
    text = report.table(results, 10.0, baseline_s=0.2)
    # a: 30 s / 0.3 s = 100 epochs, half of it in one cell = 50; b: 20 s / 0.25 s = 80 (not 150 and 100 at 0.2 s)
    assert "| a.ipynb | 30.0 | 100 | yes | 15.0 (cell 3) | 50 | **no** | 0.5 | 15.0 | 50 | **no** |" in text
    assert "| b.ipynb | 20.0 | 80 | yes |" in text
    assert "| **all 2 notebooks** | **50** | **180** | yes (1,300) |" in text
    assert "timed right before and right after it" in text and "0.250-0.300 s" in text
    assert "**0.275 s** in this run" in text             # the headline: the median of the notebooks' units
    assert "0.200 s" in text                              # the race's own baseline epoch is still named
    assert "(50)" in "\n".join(report.slowest_cells_section(results, baseline_s=0.2))
    assert "| 10 |" in "\n".join(report.solutions_section(results, baseline_s=0.2))   # 3 s / 0.3 s
    pinned = [dict(notebook="a.ipynb", seconds=33.0, error=None, unit_s=0.33)]
    assert "| a.ipynb | 30.0 | 33.0 | 1.10 | 100 | yes |" in "\n".join(
        report.one_core_section(results, pinned, baseline_s=0.2))
    assert "= 100 baseline epochs" in report.profile_lines(results[0], baseline_s=0.2)[0]


def test_bench_times_the_unit_before_and_after_each_notebook(monkeypatch):
    speeds = iter([0.2, 0.3, 0.4])
    monkeypatch.setattr(bench, "baseline_epoch_seconds", lambda epochs=3, seed=0: next(speeds))
    monkeypatch.setattr(bench, "SETTLE_SECONDS", 0.0)
    ran = []
    monkeypatch.setattr(bench, "run_notebook", lambda p, **k: ran.append(p) or dict(notebook=p.name, seconds=1.0))
    from pathlib import Path
    out = bench.run_bracketed([Path("a.ipynb"), Path("b.ipynb")])
    assert [o["unit_s"] for o in out] == [pytest.approx(0.25), pytest.approx(0.35)] and len(ran) == 2
