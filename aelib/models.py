"""Small, readable models: an MLP builder, the MLP autoencoder used across the collection, and its squared-error
loss.

Every model takes a flat batch ``(b, d)``: images are flattened rows (784 for MNIST, 64 for digits).
"""
from __future__ import annotations

import numbers
from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

ACTIVATIONS = {
    "relu": nn.ReLU,
    "sigmoid": nn.Sigmoid,
    "tanh": nn.Tanh,
    "elu": nn.ELU,
    "leaky_relu": nn.LeakyReLU,
    "linear": None,
    None: None,
}


def _activation(name):
    if name not in ACTIVATIONS:
        choices = ", ".join(repr(k) for k in ACTIVATIONS if k is not None)
        raise ValueError(f"unknown activation {name!r}: choose one of {choices}")
    cls = ACTIVATIONS[name]
    return None if cls is None else cls()


def _check_sizes(sizes: Sequence[int], what: str = "layer sizes") -> list[int]:
    sizes = list(sizes)
    if len(sizes) < 2:
        raise ValueError(f"{what} need at least an input and an output size, got {sizes}")
    for s in sizes:
        if not isinstance(s, numbers.Integral) or isinstance(s, (bool, np.bool_)) or s < 1:
            raise ValueError(f"every entry of {what} must be a positive integer, got {sizes}: "
                             f"a layer of size {s!r} cannot hold a representation")
    return [int(s) for s in sizes]


def mlp(sizes: Sequence[int], activation: str | None = "relu", out_activation: str | None = None) -> nn.Sequential:
    """A stack of ``nn.Linear`` layers ``sizes[0] -> sizes[1] -> ... -> sizes[-1]``.

    ``activation`` follows every hidden layer; ``out_activation`` (default none: linear) follows the last.
    Names: "relu", "sigmoid", "tanh", "elu", "leaky_relu", "linear" (or None).
    """
    sizes = _check_sizes(sizes)
    act, out = _activation(activation), _activation(out_activation)  # validate both names first
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(a, b))
        last = i == len(sizes) - 2
        name = out_activation if last else activation
        mod = _activation(name)
        if mod is not None:
            layers.append(mod)
    return nn.Sequential(*layers)


class Autoencoder(nn.Module):
    """An MLP autoencoder ``x -> h = f(x) -> x_hat = g(h)``.

    Arguments:
        input_dim: d, the length of a flattened input (784 for MNIST, 64 for 8x8 digits).
        hidden: sizes of the encoder's hidden layers, outermost first; the decoder mirrors them.
            ``()`` gives a single-layer encoder and decoder (with linear activations: PCA's subspace).
        code_dim: k, the size of the code h (below d: undercomplete; above d: overcomplete).
        activation: hidden-layer activation ("relu", "sigmoid", "tanh", "linear", ...).
        output: the decoder's last activation: "sigmoid" for pixels in [0, 1], "linear" for real values
            or when the loss takes logits.
        code_activation: activation on the code itself (default linear).

    Shapes: ``encode`` maps ``(b, d) -> (b, k)``, ``decode`` maps ``(b, k) -> (b, d)``.
    """

    def __init__(self, input_dim: int = 784, hidden: Sequence[int] = (256,), code_dim: int = 2,
                 activation: str | None = "relu", output: str | None = "sigmoid",
                 code_activation: str | None = None):
        super().__init__()
        hidden = list(hidden)
        sizes = _check_sizes([input_dim, *hidden, code_dim], "autoencoder sizes (input_dim, *hidden, code_dim)")
        input_dim, hidden, code_dim = sizes[0], sizes[1:-1], sizes[-1]
        self.input_dim, self.code_dim, self.hidden = input_dim, code_dim, tuple(hidden)
        self.encoder = mlp([input_dim, *hidden, code_dim], activation, code_activation)
        self.decoder = mlp([code_dim, *reversed(hidden), input_dim], activation, output)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """``(b, input_dim) -> (b, code_dim)``."""
        if x.dim() != 2 or x.shape[1] != self.input_dim:
            raise ValueError(f"expected inputs of shape (batch, {self.input_dim}), got {tuple(x.shape)}: "
                             f"flatten images to rows, e.g. x.reshape(len(x), -1)")
        return self.encoder(x)

    def decode(self, h: torch.Tensor) -> torch.Tensor:
        """``(b, code_dim) -> (b, input_dim)``."""
        if h.dim() != 2 or h.shape[1] != self.code_dim:
            raise ValueError(f"expected codes of shape (batch, {self.code_dim}), got {tuple(h.shape)}")
        return self.decoder(h)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Reconstruct: ``(b, d) -> (b, d)``."""
        return self.decode(self.encode(x))



def squared_error(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """The autoencoder's reconstruction loss, as notebook 01 writes it: ``||model(x) - x||^2`` summed over each
    image's ``d`` values, averaged over the batch. ``x``: ``(b, d)``; returns a scalar tensor (squared pixel units
    per image) with its gradient, a ``loss_fn(model, x)`` for :func:`aelib.training.fit`."""
    return ((model(x) - x) ** 2).sum(dim=1).mean()
