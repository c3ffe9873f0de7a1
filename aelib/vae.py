"""The variational autoencoder shared by notebooks 08-14.

Model: prior ``p(z) = N(0, I)``; decoder ``p_theta(x|z)`` = independent Bernoulli pixels with logits
``decoder(z)`` (images in [0, 1], binarised or grey); encoder ``q_phi(z|x) = N(mu(x), diag exp(logvar(x)))``. All losses are **per image, in nats**
(summed over pixels and latent dimensions, averaged over the batch).

Notebook 08 writes the negative ELBO (with the closed-form KL term) and a training step by hand and checks
the step against :func:`aelib.recipes.train_vae`, and its autoencoder's loss against
:func:`aelib.recipes.reconstruction_nll`; notebook 09
writes the reparameterisation trick; notebook 11 writes the sampler and slerp and checks them against
:func:`sample` and :func:`interpolate`.
"""
from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from .models import _check_sizes, mlp
from .runtime import as_tensor, batched_numpy, model_device, to_numpy


class VAE(nn.Module):
    """An MLP VAE: ``x (b, d) -> (mu, logvar) (b, k) -> z -> logits (b, d)``.

    Arguments:
        input_dim: d (784 for MNIST).
        hidden: encoder hidden sizes, outermost first; the decoder mirrors them.
        latent_dim: k, the size of z.
        activation: hidden activation (default "relu").

    The decoder's pixels are Bernoulli (the likelihood of every chapter that uses this class); notebook 13's
    M2 writes its own model with a Gaussian decoder for real-valued features.
    """

    def __init__(self, input_dim: int = 784, hidden: Sequence[int] = (400,), latent_dim: int = 20,
                 activation: str = "relu"):
        super().__init__()
        sizes = _check_sizes([input_dim, *hidden, latent_dim], "VAE sizes (input_dim, *hidden, latent_dim)")
        input_dim, hidden, latent_dim = sizes[0], sizes[1:-1], sizes[-1]
        self.input_dim, self.latent_dim, self.hidden = input_dim, latent_dim, tuple(hidden)
        last = hidden[-1] if hidden else input_dim
        self.body = mlp([input_dim, *hidden], activation, activation) if hidden else nn.Identity()
        self.mu_head = nn.Linear(last, latent_dim)
        self.logvar_head = nn.Linear(last, latent_dim)
        self.decoder = mlp([latent_dim, *reversed(hidden), input_dim], activation, None)

    def encode(self, x: torch.Tensor):
        """``(b, d) -> (mu, logvar)``, each ``(b, k)``: the parameters of q(z|x)."""
        if x.dim() != 2 or x.shape[1] != self.input_dim:
            raise ValueError(f"expected inputs of shape (batch, {self.input_dim}), got {tuple(x.shape)}: "
                             f"flatten images to rows")
        h = self.body(x)
        return self.mu_head(h), self.logvar_head(h)

    @staticmethod
    def reparameterize(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
        """``z = mu + sigma * eps`` with ``eps ~ N(0, I)``: a sample of q(z|x) that gradients pass through."""
        return mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """``(b, k) -> (b, d)`` logits: the parameters of p(x|z) (its mean is ``sigmoid(logits)``)."""
        if z.dim() != 2 or z.shape[1] != self.latent_dim:
            raise ValueError(f"expected codes of shape (batch, {self.latent_dim}), got {tuple(z.shape)}")
        return self.decoder(z)

    def decode_mean(self, z: torch.Tensor) -> torch.Tensor:
        """The mean image of p(x|z), ``(b, d)`` in [0, 1] (what is usually shown as a 'sample')."""
        return torch.sigmoid(self.decode(z))

    def forward(self, x: torch.Tensor):
        """``x -> (logits, mu, logvar, z)`` with one reparameterised sample z per input."""
        mu, logvar = self.encode(x)
        z = self.reparameterize(mu, logvar)
        return self.decode(z), mu, logvar, z

    def reconstruct(self, x: torch.Tensor) -> torch.Tensor:
        """The decoder mean at the posterior mean: ``sigmoid(decode(mu(x)))``, ``(b, d)``."""
        return self.decode_mean(self.encode(x)[0])

    def posterior_mean(self, x, batch_size: int = 1000) -> np.ndarray:
        """The mean of q(z|x) for every row of ``x`` (array or tensor ``(n, d)``), as numpy ``(n, k)``.

        Batched, without gradients, on the model's device: the codes one plots, classifies or decodes. It replaces
        ``runtime.batched_numpy(lambda x: vae.encode(x)[0], x, device=runtime.model_device(vae))``."""
        return batched_numpy(lambda b: self.encode(b)[0], x, batch_size=batch_size, device=model_device(self))

    def posterior(self, x, batch_size: int = 1000) -> tuple[np.ndarray, np.ndarray]:
        """``(mu, logvar)`` of q(z|x) for every row of ``x`` (array or tensor ``(n, d)``), each numpy ``(n, k)``.

        Batched, without gradients, on the model's device: the whole-set block a chapter needs to draw each
        image's posterior (an ellipse of spread ``exp(logvar / 2)`` around ``mu``) or to measure the KL per unit."""
        both = batched_numpy(lambda b: torch.cat(self.encode(b), dim=1), x, batch_size=batch_size,
                             device=model_device(self))
        return both[:, :self.latent_dim], both[:, self.latent_dim:]

    def log_likelihood(self, logits: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """``log p(x|z)`` per image ``(b,)`` in nats, for decoder output ``logits`` ``(b, d)``."""
        return log_likelihood(logits, x)


def log_likelihood(logits: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """``log p(x|z)`` per image ``(b,)`` in nats under independent Bernoulli pixels: ``-BCE(logits, x)`` summed
    over the ``d`` pixels. ``logits``, ``x``: ``(..., d)``, ``x`` in [0, 1] (a grey value is a soft target)."""
    return -nn.functional.binary_cross_entropy_with_logits(logits, x, reduction="none").sum(-1)


def kl_standard_normal(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """``KL(N(mu, diag exp(logvar)) || N(0, I))`` per dimension ``(b, k)``, in nats:
    ``0.5 * (mu^2 + sigma^2 - log sigma^2 - 1)``. Sum over the last axis for the total."""
    return 0.5 * (mu ** 2 + logvar.exp() - logvar - 1)


def elbo_terms(model: VAE, x: torch.Tensor, beta: float = 1.0) -> dict:
    """One-sample ELBO terms, means over the batch, in nats per image.

    Returns ``{"loss": recon + beta * kl, "recon": -E_q log p(x|z), "kl": KL(q(z|x) || p(z)),
    "elbo": -(recon + kl)}`` (``loss`` keeps its gradient; the others are detached).
    """
    logits, mu, logvar, _ = model(x)
    recon = -model.log_likelihood(logits, x).mean()
    kl = kl_standard_normal(mu, logvar).sum(-1).mean()
    return {"loss": recon + beta * kl, "recon": recon.detach(), "kl": kl.detach(), "elbo": -(recon + kl).detach()}


def vae_loss(beta: float = 1.0):
    """A ``loss_fn(model, x)`` for :func:`aelib.training.fit`: the negative ELBO with KL weight ``beta``."""
    if beta < 0:
        raise ValueError(f"beta must be >= 0, got {beta}")
    return lambda model, x: elbo_terms(model, x, beta)


def log_weights(model: VAE, x: torch.Tensor, k: int) -> torch.Tensor:
    """Importance log-weights ``log p(x, z_i) - log q(z_i|x)`` for ``k`` reparameterised samples per image:
    ``(k, b)``. Differentiable (wrap in ``torch.no_grad()`` to evaluate only)."""
    mu, logvar = model.encode(x)
    std = torch.exp(0.5 * logvar)
    z = mu + std * torch.randn((k, *mu.shape), device=mu.device)                      # (k, b, latent)
    log_q = (-0.5 * ((z - mu) / std) ** 2 - 0.5 * logvar - 0.5 * math.log(2 * math.pi)).sum(-1)
    log_prior = (-0.5 * z ** 2 - 0.5 * math.log(2 * math.pi)).sum(-1)
    logits = model.decode(z.reshape(-1, model.latent_dim)).reshape(k, len(x), -1)
    log_lik = model.log_likelihood(logits, x.expand(k, *x.shape))
    return log_lik + log_prior - log_q


def iwae_loss(k: int = 5):
    """A ``loss_fn(model, x)`` for :func:`aelib.training.fit`: the negative importance-weighted bound ``-L_k``
    (Burda et al. 2016), with ``k`` samples per image; ``k = 1`` is the ordinary negative ELBO. Costs about
    ``k`` times a VAE step in the decoder. Also logs ``"bound"`` (``L_k``, nats per image)."""
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")

    def loss(model, x):
        bound = (torch.logsumexp(log_weights(model, x, k), 0) - math.log(k)).mean()
        return {"loss": -bound, "bound": bound.detach()}
    return loss


@torch.no_grad()
def iwae_bound(model: VAE, x, k: int = 50, batch_size: int | None = None) -> torch.Tensor:
    """The importance-weighted bound ``L_k`` per image ``(n,)`` in nats (Burda et al. 2016).

    ``L_1`` is the ELBO; ``L_k`` rises with ``k`` towards ``log p(x)``. A large-``k`` value is the usual
    estimate of the log-likelihood. ``x``: array or tensor ``(n, d)``. Images are processed in batches of
    ``batch_size`` (default: about 10,000 decoded samples at a time, ~30 MB of logits for MNIST).
    """
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    x = as_tensor(x, model_device(model))
    batch_size = batch_size or max(1, 10_000 // k)
    out = []
    for i in range(0, len(x), batch_size):
        lw = log_weights(model, x[i:i + batch_size], k)
        out.append(torch.logsumexp(lw, 0) - math.log(k))
    return torch.cat(out).cpu()


@torch.no_grad()
def elbo(model: VAE, x, batch_size: int = 500) -> dict:
    """Test-set ELBO and its terms, means in nats per image (one posterior sample per image)."""
    x = as_tensor(x, model_device(model))
    sums = {"elbo": 0.0, "recon": 0.0, "kl": 0.0}
    for i in range(0, len(x), batch_size):
        t = elbo_terms(model, x[i:i + batch_size])
        for key in sums:
            sums[key] += float(t[key]) * len(x[i:i + batch_size])
    return {key: v / len(x) for key, v in sums.items()}


@torch.no_grad()
def sample(model: VAE, n: int, temperature: float = 1.0, mean: bool = True, seed: int | None = None):
    """Draw ``n`` images: ``z ~ N(0, temperature^2 I)``, decoded to the mean of p(x|z) (``mean=True``) or to a
    Bernoulli sample of it. Returns numpy ``(n, d)`` in [0, 1]."""
    if n < 1 or not math.isfinite(temperature) or temperature < 0:
        raise ValueError(f"need n >= 1 and a finite temperature >= 0, got n={n}, temperature={temperature}")
    g = None if seed is None else torch.Generator().manual_seed(seed)
    z = (temperature * torch.randn(n, model.latent_dim, generator=g)).to(model_device(model))
    p = model.decode_mean(z)
    if not mean:
        p = torch.bernoulli(p.cpu(), generator=g)
    return to_numpy(p)


def interpolate(z0, z1, steps: int = 9, method: str = "linear", ts=None):
    """Points from ``z0`` to ``z1`` (each ``(k,)``, numpy or tensor): ``(steps, k)`` numpy float32, at ``steps``
    evenly spaced positions, or at the positions ``ts`` (values in [0, 1]) when given.

    ``"linear"``: ``(1 - t) z0 + t z1``. ``"spherical"`` (slerp, Shoemake 1985; White 2016 for generative
    models): moves along the great circle, so intermediate points keep a norm typical of Gaussian samples
    instead of passing near the origin, a region the prior makes atypical in high dimensions.
    """
    a, b = to_numpy(z0).astype(np.float64).ravel(), to_numpy(z1).astype(np.float64).ravel()
    if a.shape != b.shape:
        raise ValueError(f"endpoints differ in shape: {a.shape} and {b.shape}")
    if ts is None and steps < 2:
        raise ValueError(f"steps must be at least 2, got {steps}")
    t = (np.linspace(0.0, 1.0, steps) if ts is None else np.asarray(ts, dtype=np.float64).ravel())[:, None]
    if method == "linear":
        out = (1 - t) * a + t * b
    elif method == "spherical":
        cos = np.clip(a @ b / (np.linalg.norm(a) * np.linalg.norm(b) + 1e-12), -1.0, 1.0)
        omega = np.arccos(cos)
        if omega < 1e-6:
            out = (1 - t) * a + t * b
        else:
            out = (np.sin((1 - t) * omega) * a + np.sin(t * omega) * b) / np.sin(omega)
    else:
        raise ValueError(f"unknown method {method!r}: choose 'linear' or 'spherical'")
    return out.astype(np.float32)

