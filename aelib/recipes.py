"""Training recipes: how the collection trains its VAEs and their autoencoder twins, in one place.

:data:`FAST_RECIPE` is the collection's (about twice as fast to the same test ELBO as :data:`BASELINE_RECIPE`,
pytorch/examples' plain recipe: BENCHMARKS.md measures both); :func:`train_vae` and :func:`train_autoencoder` build a
model and train it with one; :func:`train_with_recipe` is what both do, for any model and loss (the benchmark uses
it too). The models and their bounds live in :mod:`aelib.vae` and :mod:`aelib.models`; the training loop in
:mod:`aelib.training`.
"""
from __future__ import annotations

import torch
from torch import nn

from .models import Autoencoder
from .runtime import get_seed
from .training import fit
from .vae import VAE, log_likelihood, vae_loss


#: The collection's VAE recipe for binarised MNIST (784-256-k, Adam at 5e-3 with a cosine decay over 30
#: epochs, batch 128, PyTorch's fused Adam kernel, :func:`fit`'s default): about twice as fast to a test ELBO of
#: -108 nats as :data:`BASELINE_RECIPE` (BENCHMARKS.md).
FAST_RECIPE = dict(hidden=(256,), lr=5e-3, batch_size=128, epochs=30, schedule="cosine")
#: The plain recipe of PyTorch's own VAE example: 784-400-k, Adam at 1e-3 (the plain optimiser, not fused),
#: batch 128, constant rate.
BASELINE_RECIPE = dict(hidden=(400,), lr=1e-3, batch_size=128, epochs=40, schedule="constant", fused=False)


def train_vae(x_train, latent_dim: int = 20, recipe: dict | None = None, seed: int | None = None,
              beta: float = 1.0, x_val=None, **fit_kwargs):
    """Build a Bernoulli :class:`VAE` and train it with a recipe (default :data:`FAST_RECIPE`).

    Returns ``(model, history)``. ``fit_kwargs`` go to :func:`aelib.training.fit` (e.g. ``title``,
    ``live``, ``on_epoch``) and override the recipe's values.
    """
    return train_with_recipe(lambda d, hidden: VAE(d, hidden, latent_dim), vae_loss(beta), x_train, recipe, seed,
                              x_val, fit_kwargs)


def train_with_recipe(build, loss_fn, x_train, recipe: dict | None = None, seed: int | None = None, x_val=None,
                      fit_kwargs: dict | None = None):
    """Seed, build ``build(d, recipe["hidden"])`` (``d``: the images' length, 784 for MNIST) and train it with
    :func:`aelib.training.fit` on ``loss_fn`` with the recipe (default :data:`FAST_RECIPE`), ``fit_kwargs``
    overriding the recipe's values. ``x_train``: ``(n, d)`` images in [0, 1]. Returns ``(model, history)``."""
    recipe = dict(FAST_RECIPE if recipe is None else recipe)
    fit_kwargs = fit_kwargs or {}
    seed = get_seed(0) if seed is None else seed
    torch.manual_seed(seed)
    model = build(784 if not hasattr(x_train, "shape") else x_train.shape[1], recipe.pop("hidden"))
    recipe.update(fit_kwargs)
    hist = fit(model, x_train, loss_fn, x_val=x_val, seed=seed, **recipe)
    return model, hist


def reconstruction_nll(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """The Bernoulli reconstruction loss of a model that outputs logits: ``-log p(x | logits)``, summed over the
    ``d`` pixels and averaged over the batch, in nats per image (a scalar). ``x``: ``(b, d)`` in [0, 1]. It is the
    VAE's reconstruction term without the sampling: the loss of :func:`train_autoencoder`."""
    return -log_likelihood(model(x), x).mean()


def train_autoencoder(x_train, code_dim: int = 20, recipe: dict | None = None, seed: int | None = None,
                      x_val=None, **fit_kwargs):
    """The autoencoder twin of :func:`train_vae`: the same size, recipe and Bernoulli loss, no KL and no noise.

    Builds ``Autoencoder(d, recipe["hidden"], code_dim, output="linear")`` (its decoder outputs logits, as
    the VAE's does) from ``seed`` and trains it with the recipe (default :data:`FAST_RECIPE`) on
    :func:`reconstruction_nll`. ``x_train``: ``(n, d)`` images in [0, 1]; ``x_val``: optional, scored after
    every epoch. Returns ``(model, history)``; ``fit_kwargs`` go to :func:`aelib.training.fit` (e.g.
    ``title``, ``live``) and override the recipe's values.
    """
    return train_with_recipe(lambda d, hidden: Autoencoder(d, hidden, code_dim, output="linear"),
                              reconstruction_nll, x_train, recipe, seed, x_val, fit_kwargs)
