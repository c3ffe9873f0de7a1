import os

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


@pytest.fixture(scope="session")
def reading_copy(tmp_path_factory):
    """The reading copy of notebooks 00, 09 (equations) and 15, built once per test run: ``(folder, exit code)``."""
    from aelib import site
    out = tmp_path_factory.mktemp("site")
    return out, site.main(["00", "09", "15", "--output", str(out)])


def pytest_collection_modifyitems(config, items):
    """Every notebook cell run by nbval counts as slow: ``pytest -m "not slow"`` is the unit tests alone."""
    slow = pytest.mark.slow
    for item in items:
        if item.path.suffix == ".ipynb":
            item.add_marker(slow)
