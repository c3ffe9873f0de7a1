"""Measurements the notebooks assert on. Images are rows ``(n, d)`` with values in [0, 1]."""
from __future__ import annotations

import math

import numpy as np
import torch

from .runtime import batched_numpy


def _rows(x, name: str = "x") -> np.ndarray:
    x = np.asarray(x, dtype=np.float32)
    if x.ndim != 2:
        raise ValueError(f"{name} must be rows of flattened images (n, d), got shape {x.shape}: "
                         f"{'for one image pass x[None]' if x.ndim == 1 else 'flatten them, x.reshape(len(x), -1)'}")
    return x


def _reconstruct(model_or_fn, x):
    if isinstance(model_or_fn, torch.nn.Module) or isinstance(getattr(model_or_fn, "__self__", None), torch.nn.Module):
        return batched_numpy(model_or_fn, x)
    return np.asarray(model_or_fn(x))


def reconstruction_errors(model_or_fn, x, target=None) -> np.ndarray:
    """Squared error per image, summed over its ``d`` pixels: ``(n,)``.

    ``model_or_fn`` maps ``(n, d) -> (n, d)`` (a model, run without gradients, or any function of numpy rows).
    ``target`` (default ``x``) is what the output is compared with, e.g. the clean images when ``x`` is noisy.
    """
    x = _rows(x)
    target = x if target is None else _rows(target, "target")
    if target.shape != x.shape:
        raise ValueError(f"target shape {target.shape} differs from input shape {x.shape}")
    return ((_reconstruct(model_or_fn, x) - target) ** 2).sum(axis=1)


def perturbation_gain(model_or_fn, x, eps: float = 0.05, seed: int = 0) -> float:
    """How much of a small random change of the input comes out of the reconstruction.

    ``G = sum ||r(x + e) - r(x)||^2 / sum ||e||^2`` with ``e ~ N(0, eps^2 I)``, over the rows of ``x (n, d)``.
    The identity map has ``G = 1``; a projection onto a ``k``-dimensional subspace has ``G ~ k / d``; a model that
    ignores directions off the data (a denoising or contractive AE) has ``G`` near 0. Unitless.
    """
    if not (math.isfinite(eps) and eps > 0):
        raise ValueError(f"eps must be a positive finite number, got {eps}")
    x = _rows(x)
    e = np.random.default_rng(seed).normal(0.0, eps, x.shape).astype(np.float32)
    return float(((_reconstruct(model_or_fn, x + e) - _reconstruct(model_or_fn, x)) ** 2).sum() / (e ** 2).sum())


def psnr(x, reference) -> np.ndarray:
    """Peak signal-to-noise ratio per image in dB, for data range 1: ``10 log10(1 / MSE)``, shape ``(n,)``.

    ``x`` and ``reference``: a batch of images ``(n, d)`` or ``(n, h, w)``. Identical images give ``inf``.
    """
    x, reference = np.asarray(x, dtype=np.float64), np.asarray(reference, dtype=np.float64)
    if x.ndim < 2:
        raise ValueError(f"psnr takes a batch of images (n, d), got shape {x.shape}: for one image pass x[None]")
    if x.shape != reference.shape:
        raise ValueError(f"shapes differ: {x.shape} and {reference.shape}")
    mse = ((x - reference) ** 2).reshape(len(x), -1).mean(axis=1)
    with np.errstate(divide="ignore"):
        return 10 * np.log10(1.0 / mse)
