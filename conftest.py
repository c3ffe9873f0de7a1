import os
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")


@pytest.fixture
def tmp_cache(tmp_path, monkeypatch):
    """A fresh, empty data cache folder for one test."""
    from aelib import data
    monkeypatch.setenv("AELIB_CACHE", str(tmp_path / "cache"))
    data._MEMO.clear()
    yield tmp_path / "cache"
    data._MEMO.clear()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the test item, so fixtures can tell whether the test failed
    (the browser tests save a screenshot then)."""
    outcome = yield
    rep = outcome.get_result()
    setattr(item, "rep_" + rep.when, rep)


# Notebooks whose outputs still carry a known warning, with the reason; the warnings check below skips them.
KNOWN_WARNINGS: dict[str, str] = {}    # notebook file -> why its warnings are left (none today)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    """A notebook cell (and each widget check or worked solution run after the notebook) fails when its outputs carry
    a warning on stderr, unless the cell says why one is expected (``# expected warning: <why>``): the outputs nbval
    collected while it ran the cell, so nothing runs twice (``aelib.course.claims.output_warnings``)."""
    result = yield
    outputs, cell = getattr(item, "test_outputs", None), getattr(item, "cell", None)
    if outputs is not None and cell is not None and item.path.name not in KNOWN_WARNINGS:
        from aelib.course.claims import output_warnings
        found = output_warnings(outputs, cell.source)
        if found:
            raise AssertionError(f"{item.path.name}, {item.name}: a warning in the outputs (fix its cause, or say why "
                                 "it is expected with a comment '# expected warning: <why>'):\n  " + "\n  ".join(found))
    return result


@pytest.fixture(scope="session")
def reading_copy(tmp_path_factory):
    """The reading copy of notebooks 00, 09 (equations) and 15, built once per test run: ``(folder, exit code)``."""
    from aelib.course import site
    out = tmp_path_factory.mktemp("site")
    return out, site.main(["00", "09", "15", "--output", str(out)])


def _followups(nbfile) -> list[tuple[str, str]]:
    """``(name, code)`` to run in a notebook's kernel after its last cell: its widget checks, then every worked
    solution of its exercises (``aelib.course.exercises``), as a student runs them after the chapter."""
    import nbformat

    from aelib.course import exercises
    from tests.widget_checks import RESET, WIDGET_CHECKS
    number = nbfile.path.name[:2]
    out = [("widget checks", WIDGET_CHECKS[number] + RESET)] if number in WIDGET_CHECKS else []
    nb = nbformat.read(nbfile.path, as_version=4)
    return out + [(f"solution {s.number}", s.code) for s in exercises.solutions(nb)]


def pytest_collection_modifyitems(config, items):
    """After each notebook's last cell, items that run more code in the same nbval kernel (the widget checks
    of ``widget_checks.py``). Every notebook item counts as slow: ``pytest -m "not slow"`` is the unit tests
    alone."""
    from collections import defaultdict

    import nbformat
    from nbval.plugin import IPyNbCell
    out, last = [], {}
    for item in items:
        out.append(item)
        if item.path.suffix == ".ipynb" and isinstance(item, IPyNbCell):
            last[item.parent] = len(out)
    for nbfile, pos in sorted(last.items(), key=lambda kv: -kv[1]):
        extra = [IPyNbCell.from_parent(nbfile, name=name, cell_num=1000 + i, cell=nbformat.v4.new_code_cell(code),
                                       options=defaultdict(bool, check=False))
                 for i, (name, code) in enumerate(_followups(nbfile))]
        out[pos:pos] = extra
    items[:] = out
    slow = pytest.mark.slow
    for item in items:
        if item.path.suffix == ".ipynb":
            item.add_marker(slow)
