from aelib import bench


def test_table_formats_results_and_flags_misses():
    results = [dict(notebook="a.ipynb", seconds=12.0, error=None, peak_mb=500.0,
                    widgets=[dict(name="w", kind="ImageBrowser", ms=0.4, moves=3, figure=False),
                             dict(name="f", kind="FigureControls", ms=250.0, moves=2, figure=True)]),
               dict(notebook="b.ipynb", seconds=45.0, error="AssertionError: x", peak_mb=1500.0, widgets=[])]
    text = bench.table(results, 12.5, ["## extra", "line"])
    assert "| a.ipynb | 12.0 | yes | 500 | yes | ok |" in text
    assert "| b.ipynb | 45.0 | **no** | 1500 | **no** | error: AssertionError: x |" in text
    assert "| a.ipynb | `f` | FigureControls | 250.0 | 2 | < 200 ms: **no** |" in text
    assert "| a.ipynb | `w` | ImageBrowser | 0.4 | 3 | < 50 ms: yes |" in text
    assert "**57**" in text and "12.5 ms" in text and text.rstrip().endswith("line")
    assert "cores" in bench.machine() and "## GPU" in text and "GPU" in bench.gpu_note()


def test_run_notebook_measures_time_memory_and_widgets(tmp_path):
    import nbformat
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("import numpy as np\nfrom aelib.widgets import ImageBrowser\n"
                                  "b = ImageBrowser({k: np.zeros((3, 3)) + k / 3 for k in range(3)})"),
    ])
    path = tmp_path / "t.ipynb"
    nbformat.write(nb, path)
    r = bench.run_notebook(path, timeout=120)
    assert r["error"] is None and r["seconds"] > 0 and r["peak_mb"] > 10
    assert [w["name"] for w in r["widgets"]] == ["b"] and r["widgets"][0]["moves"] == 2


def test_run_notebook_reports_errors(tmp_path):
    import nbformat
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("assert 1 == 2, 'boom'")])
    path = tmp_path / "e.ipynb"
    nbformat.write(nb, path)
    r = bench.run_notebook(path, timeout=120)
    assert r["error"] is not None and "CellExecutionError" in r["error"]
