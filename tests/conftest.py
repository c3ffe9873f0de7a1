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
