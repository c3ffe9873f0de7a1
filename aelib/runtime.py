"""The bottom layer: seeds, devices, tensor <-> numpy, and batched inference. Imports only numpy and torch.

The seed: every notebook calls :func:`seed_everything`; the environment variable ``AELIB_SEED``
overrides the notebook's default seed, so a lecturer can show another run of the same notebook with
``AELIB_SEED=3 jupyter lab``. The device: :func:`choose_device` picks CUDA when torch sees a GPU, else the CPU;
``AELIB_DEVICE`` overrides it.
"""
from __future__ import annotations

import os
import random

import numpy as np
import torch


SEED_ENV = "AELIB_SEED"
SEED_LIMIT = 2**32          # NumPy's legacy seeding takes 0 <= seed < 2**32


def _check_seed(seed, source: str) -> int:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise ValueError(f"{source} must be a whole number from 0 to {SEED_LIMIT - 1}, got {seed!r}")
    if not 0 <= int(seed) < SEED_LIMIT:
        raise ValueError(f"{source} must be a whole number from 0 to {SEED_LIMIT - 1} (2**32 - 1), got {seed}")
    return int(seed)


def get_seed(default: int = 0) -> int:
    """``AELIB_SEED`` from the environment if set, else ``default``: a whole number 0 <= seed < 2**32.

    Raises:
        ValueError: naming ``AELIB_SEED`` if it is not a whole number in that range.
    """
    raw = os.environ.get(SEED_ENV, "").strip()
    if not raw:
        return _check_seed(default, "the default seed")
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"{SEED_ENV} must be an integer from 0 to {SEED_LIMIT - 1}, got {raw!r}") from None
    return _check_seed(value, SEED_ENV)


def seed_everything(seed: int | None = None) -> int:
    """Seed Python, NumPy and PyTorch (all devices); return the seed used.

    ``seed=None`` means ``get_seed(0)``: ``AELIB_SEED`` or 0. A seed is a whole number 0 <= seed < 2**32.
    """
    seed = get_seed(0) if seed is None else _check_seed(seed, "seed")
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    return seed


DEVICE_ENV = "AELIB_DEVICE"


def choose_device(prefer: str | None = None) -> torch.device:
    """The device to train on: CUDA if available, else the CPU; ``prefer`` or ``AELIB_DEVICE`` overrides.

    Apple's MPS is used only when asked for (``AELIB_DEVICE=mps``): the notebooks' asserts were measured on
    the CPU, MPS has never run them, and these small models gain little from it. ``prefer`` (or the environment variable
    ``AELIB_DEVICE``) may be ``"cpu"``, ``"cuda"``, ``"cuda:N"`` or ``"mps"`` (case-insensitive).

    Raises:
        ValueError: for a device name torch does not know, or one this machine does not have (e.g. ``cuda``
            without a CUDA build of torch and a GPU), naming where the choice came from and how to fix it.
    """
    source = "choose_device(prefer=...)" if prefer else DEVICE_ENV
    prefer = (prefer or os.environ.get(DEVICE_ENV, "")).strip() or None
    if prefer is None:
        return torch.device("cuda") if torch.cuda.is_available() else torch.device("cpu")
    fix = (f"unset {DEVICE_ENV} (the default picks CUDA if available, else the CPU), or set it to "
           "cpu, cuda, cuda:N or mps")
    try:
        dev = torch.device(prefer.lower())
    except RuntimeError:
        raise ValueError(f"{source}={prefer!r} is not a device torch knows: {fix}") from None
    if dev.type == "cpu":
        return dev
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            why = ("this torch is a CPU-only build" if torch.version.cuda is None
                   else "torch sees no CUDA GPU on this machine")
            raise ValueError(f"{source}={prefer!r} but {why}: {fix}")
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise ValueError(f"{source}={prefer!r} but this machine has {torch.cuda.device_count()} CUDA "
                             f"device(s): {fix}")
        return dev
    if dev.type == "mps":
        mps = getattr(torch.backends, "mps", None)
        if mps is None or not mps.is_available():
            raise ValueError(f"{source}={prefer!r} but Apple MPS is not available here: {fix}")
        return dev
    raise ValueError(f"{source}={prefer!r}: the notebooks run on cpu, cuda or mps, not {dev.type!r}: {fix}")


def in_notebook() -> bool:
    """True inside a Jupyter kernel (where a live plot and a widget progress bar make sense).

    Any kernel shell counts, subclasses too (Google Colab's shell subclasses ipykernel's); a terminal
    IPython or a plain Python process does not.
    """
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover
        return False
    ip = get_ipython()
    if ip is None:
        return False
    try:
        from ipykernel.zmqshell import ZMQInteractiveShell
    except ImportError:  # pragma: no cover - no ipykernel, so no kernel
        return False
    return isinstance(ip, ZMQInteractiveShell)


def as_tensor(x, device=None, dtype=torch.float32) -> torch.Tensor:
    """A numpy array or tensor as a tensor on ``device`` (default: :func:`choose_device`)."""
    device = choose_device() if device is None else torch.device(device)
    if isinstance(x, torch.Tensor):
        return x.to(device=device, dtype=dtype if x.is_floating_point() else x.dtype)
    arr = np.asarray(x)
    t = torch.from_numpy(np.ascontiguousarray(arr))
    return t.to(device=device, dtype=dtype if np.issubdtype(arr.dtype, np.floating) else t.dtype)


def to_numpy(t) -> np.ndarray:
    """A tensor (on any device, with or without grad) as a numpy array."""
    if isinstance(t, torch.Tensor):
        return t.detach().cpu().numpy()
    return np.asarray(t)


def model_device(model: torch.nn.Module) -> torch.device:
    """The device of a model's first parameter (CPU for a model without parameters)."""
    for p in model.parameters():
        return p.device
    return torch.device("cpu")


def on(model: torch.nn.Module, x, dtype=torch.float32) -> torch.Tensor:
    """``x`` (array, list or tensor) as a ``dtype`` tensor on ``model``'s device: what a model is called with.
    ``runtime.on(model, x)`` is ``as_tensor(x, model_device(model), dtype)``."""
    return as_tensor(x, model_device(model), dtype)


def batched_numpy(fn, x, batch_size: int = 1000, device=None) -> np.ndarray:
    """``fn``'s outputs for every row of ``x`` as one numpy array: inference in batches, without gradients.

    For evaluation and pictures, e.g. ``batched_numpy(model.encode, x_test)``: the rows go through ``fn``
    ``batch_size`` at a time under ``torch.no_grad()`` (memory stays small), and the outputs come back on the CPU.

    ``x``: array or tensor ``(n, d)``; the result is ``fn``'s output for all rows, concatenated on axis 0.
    The batches go to ``device`` (default: the device of ``fn``'s model if it is a bound method, else
    :func:`choose_device`).
    """
    if device is None:
        owner = getattr(fn, "__self__", fn)
        device = model_device(owner) if isinstance(owner, torch.nn.Module) else choose_device()
    out = []
    with torch.no_grad():
        for i in range(0, len(x), batch_size):
            out.append(to_numpy(fn(as_tensor(x[i:i + batch_size], device))))
    return np.concatenate(out, axis=0)
