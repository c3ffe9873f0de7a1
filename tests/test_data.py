import os
import stat
import time

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


def test_unwritable_cache_path_falls_back_to_parsing(tmp_path, monkeypatch):
    # a cache "folder" that is really a file cannot be written, even by root
    blocker = tmp_path / "file"
    blocker.write_text("x")
    monkeypatch.setenv("AELIB_CACHE", str(blocker / "cache"))
    data._MEMO.clear()
    try:
        x, _ = data.load("mnist")
        assert x.shape == (5000, 784)
    finally:
        data._MEMO.clear()


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
