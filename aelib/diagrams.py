"""Diagrams drawn by code (matplotlib boxes and arrows; no image files): the architectures and graphs that a
chapter would otherwise describe in words.

Each function draws into a new figure (or the given axes) and returns the figure. Boxes are deterministic
computations, circles random variables (shaded: observed); red arrows are where gradients flow.
"""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Circle, FancyArrowPatch, FancyBboxPatch

from .plots import PALETTE

BLUE, ORANGE, GREEN, PINK = PALETTE[0], PALETTE[1], PALETTE[2], PALETTE[3]
GRADIENT = "#C00000"
ADDED = "#FFE08A"          # what a diagram marks as new (ae_and_vae: the VAE's additions)


def _canvas(ax, size, xlim, ylim, title=""):
    if ax is None:
        fig, ax = plt.subplots(figsize=size)
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    ax.set_aspect("equal")
    ax.set_axis_off()
    if title:
        ax.set_title(title)
    return ax


def box(ax, xy, text, width=1.6, height=0.8, color="#DDDDDD", fontsize=13):
    """A rounded box centred at ``xy`` (data units) with ``text``: a deterministic computation."""
    x, y = xy
    ax.add_patch(FancyBboxPatch((x - width / 2, y - height / 2), width, height,
                                boxstyle="round,pad=0.05,rounding_size=0.15", fc=color, ec="black", lw=1.4))
    ax.text(x, y, text, ha="center", va="center", fontsize=fontsize)


def node(ax, xy, text, observed=False, radius=0.45, fontsize=14):
    """A circle centred at ``xy`` with ``text``: a random variable, shaded if observed."""
    ax.add_patch(Circle(xy, radius, fc="#BBBBBB" if observed else "white", ec="black", lw=1.6))
    ax.text(*xy, text, ha="center", va="center", fontsize=fontsize)


def arrow(ax, a, b, color="black", text="", style="-|>", lw=1.6, dashed=False, rad=0.0, fontsize=11,
          shrink=24):
    """An arrow from point ``a`` to point ``b`` (data units), optionally labelled at its middle."""
    ax.add_patch(FancyArrowPatch(a, b, arrowstyle=style, mutation_scale=16, color=color, lw=lw,
                                 linestyle="--" if dashed else "-", shrinkA=shrink, shrinkB=shrink,
                                 connectionstyle=f"arc3,rad={rad}"))
    if text:
        ax.text((a[0] + b[0]) / 2, (a[1] + b[1]) / 2 + 0.3, text, ha="center", va="bottom", fontsize=fontsize,
                color=color)


def autoencoder(ax=None, d="784", k="k"):
    """The autoencoder: input x (``d`` numbers) -> encoder f -> code h (``k`` numbers) -> decoder g ->
    reconstruction x̂, and the loss comparing x̂ with x. Returns the figure."""
    ax = _canvas(ax, (11, 3.2), (-0.5, 11.5), (-1.6, 1.9))
    widths = {0.6: 2.6, 5.5: 1.0, 10.4: 2.6}          # the layers' heights: wide input, narrow code
    for x, h in widths.items():
        ax.add_patch(FancyBboxPatch((x - 0.3, -h / 2), 0.6, h, boxstyle="round,pad=0.02", fc="#EEEEEE", ec="black"))
    ax.text(0.6, -1.55, f"input $x$\n({d} numbers)", ha="center", va="top", fontsize=12)
    ax.text(5.5, -0.75, f"code $h=f(x)$\n({k} numbers)", ha="center", va="top", fontsize=12)
    ax.text(10.4, -1.55, f"reconstruction\n$\\hat x=g(h)$", ha="center", va="top", fontsize=12)
    for (x0, x1), name, color in (((0.9, 5.2), "encoder $f$", BLUE), ((5.8, 10.1), "decoder $g$", ORANGE)):
        h0, h1 = (1.3, 0.5) if x0 < 5 else (0.5, 1.3)
        ax.fill([x0, x1, x1, x0], [-h0, -h1, h1, h0], color=color, alpha=0.25, ec=color, lw=1.5)
        ax.text((x0 + x1) / 2, 0, name, ha="center", va="center", fontsize=14)
    arrow(ax, (0.6, 1.45), (10.4, 1.45), color=GRADIENT, style="<|-|>", shrink=6,
          text="")
    ax.text(5.5, 1.55, r"loss $L(x,\hat x)$, e.g. $\Vert x-\hat x\Vert^2$: trains $f$ and $g$ together",
            ha="center", va="bottom", fontsize=12, color=GRADIENT)
    return ax.figure


def ae_and_vae(ax=None):
    """The autoencoder above the VAE, the VAE's additions shaded (:data:`ADDED`): a second encoder head for
    log σ², the sample z = μ + σ·ε with ε ~ N(0, I), and the KL term of the loss. Everything else (the
    encoder's body, the decoder, the reconstruction term) is the autoencoder's. ``ax``: two axes, or None for a
    new figure. Returns the figure."""
    if ax is None:
        fig, axes = plt.subplots(2, 1, figsize=(10, 5.4), gridspec_kw={"height_ratios": [2.2, 4.6]})
    else:
        axes = ax
    a = _canvas(axes[0], None, (-0.3, 12.3), (-0.9, 1.3), "autoencoder: one code per image")
    for xy, text, width, color in (((0.5, 0.4), "$x$", 0.8, "#DDDDDD"), ((2.6, 0.4), "encoder", 1.9, "#CFE3F3"),
                                   ((5.4, 0.4), "code $h$", 1.5, "#DDDDDD"), ((8.3, 0.4), "decoder", 1.9, "#F6DCCB"),
                                   ((10.9, 0.4), "$\\hat x$", 0.8, "#DDDDDD")):
        box(a, xy, text, width=width, height=0.8, color=color)
    for x0, x1 in ((0.95, 1.6), (3.6, 4.6), (6.2, 7.3), (9.3, 10.45)):
        arrow(a, (x0, 0.4), (x1, 0.4), shrink=1)
    a.text(5.7, -0.3, "loss: reconstruction error", ha="center", va="top", fontsize=12)
    v = _canvas(axes[1], None, (-0.3, 12.3), (-1.5, 3.1), "VAE: the same, plus three things (shaded: added)")
    box(v, (0.5, 1), "$x$", width=0.8, height=0.8)
    box(v, (2.6, 1), "encoder\nbody", width=1.9, height=1.1, color="#CFE3F3")
    box(v, (4.6, 1.75), "$\\mu$", width=1.1, height=0.6)
    box(v, (4.6, 0.25), "$\\log\\sigma^2$", width=1.3, height=0.6, color=ADDED)
    box(v, (7.0, 1), "$z=\\mu+\\sigma\\varepsilon$", width=2.1, height=0.8, color=ADDED)
    node(v, (7.0, 2.55), "$\\varepsilon$", radius=0.38)
    v.text(7.5, 2.55, "$\\sim\\mathcal{N}(0,I)$", ha="left", va="center", fontsize=12)
    box(v, (9.4, 1), "decoder", width=1.7, height=1.1, color="#F6DCCB")
    box(v, (11.4, 1), "$\\hat x$", width=0.8, height=0.8)
    kl = "KL$(\\mathcal{N}(\\mu,\\sigma^2)\\,\\|\\,\\mathcal{N}(0,I))$"
    box(v, (4.6, -1.0), kl, width=3.6, height=0.6, color=ADDED)
    for a0, a1 in (((0.95, 1), (1.6, 1)), ((3.6, 1.3), (4.0, 1.7)), ((3.6, 0.7), (3.9, 0.3)), ((5.2, 1.7), (5.9, 1.2)),
                   ((5.3, 0.3), (5.9, 0.8)), ((7.0, 2.15), (7.0, 1.45)), ((8.1, 1), (8.5, 1)), ((10.3, 1), (10.95, 1)),
                   ((4.6, -0.05), (4.6, -0.65))):
        arrow(v, a0, a1, shrink=1)
    v.text(9.4, -1.0, "loss: reconstruction + KL = −ELBO", ha="center", va="center", fontsize=12)
    return axes[0].figure


def reparameterisation(ax=None):
    """The VAE's computation graph twice: sampling z ~ N(μ, σ²) directly (no gradient reaches μ and σ through
    the random node), and reparameterised, z = μ + σ·ε with ε ~ N(0, 1) (the path from the loss to μ, σ and
    the encoder is deterministic). Red dashed arrows: gradients. Returns the figure."""
    if ax is None:
        fig, axes = plt.subplots(1, 2, figsize=(12, 4.4))
    else:
        axes = ax
    titles = ("sampling: the gradient stops at the random node", "reparameterised: it flows to μ and σ")
    grad = dict(color=GRADIENT, dashed=True, shrink=1)
    for j, a in enumerate(axes):
        _canvas(a, None, (-0.45, 8.3), (-0.2, 4.9), titles[j])
        box(a, (0.55, 2), "encoder\n$q_\\phi$", width=1.5, height=1.3, color="#CFE3F3")
        box(a, (2.6, 3.2), "$\\mu$", width=0.8, height=0.7)
        box(a, (2.6, 0.8), "$\\sigma$", width=0.8, height=0.7)
        box(a, (7.3, 2), "decoder\n$p_\\theta$, loss", width=1.6, height=1.3, color="#F6DCCB")
        arrow(a, (1.3, 2.3), (2.2, 3.1), shrink=1); arrow(a, (1.3, 1.7), (2.2, 0.9), shrink=1)
        if j == 0:
            node(a, (4.6, 2), "$z$")
            a.text(4.6, 2.6, "$z\\sim\\mathcal{N}(\\mu,\\sigma^2)$", ha="center", fontsize=12)
            arrow(a, (3.0, 3.1), (4.2, 2.2), shrink=1); arrow(a, (3.0, 0.9), (4.2, 1.8), shrink=1)
            arrow(a, (5.05, 2), (6.45, 2), shrink=1)
            arrow(a, (6.45, 1.6), (5.1, 1.6), **grad)
            a.text(5.3, 1.25, "✗ no gradient through\na random draw", ha="center", va="top", fontsize=12,
                   color=GRADIENT)
        else:
            box(a, (4.6, 2), "$z=\\mu+\\sigma\\varepsilon$", width=1.9, height=0.8)
            node(a, (4.6, 4.1), "$\\varepsilon$")
            a.text(5.15, 4.1, "$\\sim\\mathcal{N}(0,1)$", ha="left", va="center", fontsize=12)
            arrow(a, (4.6, 3.65), (4.6, 2.45), shrink=1)
            arrow(a, (3.0, 3.1), (3.6, 2.35), shrink=1); arrow(a, (3.0, 0.9), (3.6, 1.65), shrink=1)
            arrow(a, (5.6, 2.15), (6.45, 2.15), shrink=1)
            arrow(a, (6.45, 1.7), (5.6, 1.7), **grad)
            arrow(a, (3.75, 1.55), (3.05, 0.6), rad=-0.3, **grad)
            arrow(a, (3.75, 2.45), (3.05, 3.45), rad=0.3, **grad)
            arrow(a, (2.2, 0.6), (1.1, 1.3), rad=-0.3, **grad)
            arrow(a, (2.2, 3.4), (1.1, 2.7), rad=0.3, **grad)
    return axes[0].figure


def m2_model(ax=None):
    """Kingma et al.'s M2: the generative model (y and z independent, both parents of x) beside the inference
    model (q(y|x), then q(z|x, y)). Returns the figure."""
    if ax is None:
        fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    else:
        axes = ax
    _canvas(axes[0], None, (-0.5, 4.5), (-0.8, 3.6), "generative model $p_\\theta$")
    _canvas(axes[1], None, (-0.5, 4.5), (-0.8, 3.6), "inference model $q_\\phi$")
    for a in axes:
        node(a, (0.8, 2.8), "$y$")
        node(a, (3.2, 2.8), "$z$")
        node(a, (2.0, 0.4), "$x$", observed=True)
    g = axes[0]
    arrow(g, (0.8, 2.8), (2.0, 0.4)); arrow(g, (3.2, 2.8), (2.0, 0.4))
    g.text(2.0, 3.35, "$p(y)=\\mathrm{Cat}(1/10)$,  $p(z)=\\mathcal{N}(0,I)$", ha="center", fontsize=12)
    g.text(2.0, -0.55, "$p_\\theta(x\\mid y,z)$: which digit, how written", ha="center", fontsize=12)
    q = axes[1]
    arrow(q, (2.0, 0.4), (0.8, 2.8), color=BLUE, text="")
    arrow(q, (2.0, 0.4), (3.2, 2.8), color=GREEN)
    arrow(q, (0.8, 2.8), (3.2, 2.8), color=GREEN)
    q.text(0.2, 1.5, "classifier\n$q_\\phi(y\\mid x)$", ha="center", fontsize=12, color=BLUE)
    q.text(3.85, 1.5, "encoder\n$q_\\phi(z\\mid x,y)$", ha="center", fontsize=12, color=GREEN)
    q.text(2.0, -0.55, "$y$ observed for labelled $x$, summed over otherwise", ha="center", fontsize=12)
    return axes[0].figure


def _layer(ax, x, height, text="", color="#EEEEEE", below=""):
    """A layer drawn as a rounded bar centred at (x, 0); ``text`` inside, ``below`` under it."""
    ax.add_patch(FancyBboxPatch((x - 0.22, -height / 2), 0.44, height, boxstyle="round,pad=0.02", fc=color,
                                ec="black", lw=1.2))
    if text:
        ax.text(x, 0, text, ha="center", va="center", fontsize=12, rotation=90)
    if below:
        ax.text(x, -height / 2 - 0.15, below, ha="center", va="top", fontsize=11)


def layerwise_pretraining(ax=None):
    """Greedy layer-wise pretraining in three panels: train a shallow autoencoder on x; train the next on its
    codes h1 (the first layer frozen); unroll the stack into a deep encoder and a mirrored decoder and fine-tune
    everything. Returns the figure."""
    if ax is None:
        fig, axes = plt.subplots(1, 3, figsize=(13, 3.8), gridspec_kw={"width_ratios": [1, 1, 1.7]})
    else:
        axes = ax
    titles = ("1. train layer 1 on $x$", "2. train layer 2 on $h_1$", "3. unroll, then fine-tune all")
    for a, t in zip(axes, titles):
        a.set_axis_off()
        a.set_ylim(-2.4, 1.7)
        a.set_title(t)
    a = axes[0]
    a.set_xlim(-0.5, 3.5)
    for x, h, lab in ((0.3, 2.4, "$x$"), (1.5, 1.5, "$h_1$"), (2.7, 2.4, "$\\hat x$")):
        _layer(a, x, h, below=lab, color="#CFE3F3" if lab == "$h_1$" else "#EEEEEE")
    arrow(a, (0.55, 0), (1.25, 0), shrink=1, color=BLUE); arrow(a, (1.75, 0), (2.45, 0), shrink=1, color=ORANGE)
    a = axes[1]
    a.set_xlim(-0.5, 3.5)
    for x, h, lab in ((0.3, 1.5, "$h_1$"), (1.5, 0.9, "$h_2$"), (2.7, 1.5, "$\\hat h_1$")):
        _layer(a, x, h, below=lab, color="#CFE3F3" if lab != "$\\hat h_1$" else "#EEEEEE")
    arrow(a, (0.55, 0), (1.25, 0), shrink=1, color=BLUE); arrow(a, (1.75, 0), (2.45, 0), shrink=1, color=ORANGE)
    a.text(0.3, 1.05, "frozen\ninput", ha="center", va="bottom", fontsize=10)
    a = axes[2]
    a.set_xlim(-0.5, 6.2)
    layers = ((0.3, 2.4, "$x$"), (1.4, 1.5, "$h_1$"), (2.5, 0.9, "$h_2$"), (3.6, 1.5, "$h_1'$"), (4.7, 2.4, "$\\hat x$"))
    for x, h, lab in layers:
        _layer(a, x, h, below=lab, color="#CFE3F3" if lab in ("$h_1$", "$h_2$") else "#EEEEEE")
    for (x0, _, _), (x1, _, _) in zip(layers, layers[1:]):
        arrow(a, (x0 + 0.25, 0), (x1 - 0.25, 0), shrink=1, color=BLUE if x1 <= 2.5 else ORANGE)
    a.text(1.4, 1.35, "encoder", ha="center", fontsize=11, color=BLUE)
    a.text(4.15, 1.35, "decoder (mirror)", ha="center", fontsize=11, color=ORANGE)
    arrow(a, (4.7, -1.85), (0.3, -1.85), color=GRADIENT, dashed=True, shrink=1)
    a.text(2.5, -1.95, "backpropagation through all layers", ha="center", va="top", fontsize=11,
           color=GRADIENT)
    return axes[0].figure


def vae_and_gan(ax=None):
    """A VAE beside a GAN: the VAE encodes x to q(z|x) and decodes back, trained on the ELBO (it has an
    encoder and a likelihood bound); the GAN's generator maps prior noise to images that a discriminator
    tells from real ones (no encoder, no likelihood). Returns the figure."""
    if ax is None:
        fig, axes = plt.subplots(1, 2, figsize=(13, 3.6))
    else:
        axes = ax
    a = _canvas(axes[0], None, (-0.3, 8.2), (-0.9, 2.6), "VAE: encode, sample, decode")
    box(a, (0.5, 1), "$x$", width=0.8, height=0.8)
    box(a, (2.3, 1), "encoder\n$q_\\phi(z\\mid x)$", width=1.9, height=1.1, color="#CFE3F3")
    node(a, (4.2, 1), "$z$")
    box(a, (6.0, 1), "decoder\n$p_\\theta(x\\mid z)$", width=1.9, height=1.1, color="#F6DCCB")
    box(a, (7.6, 1), "$\\hat x$", width=0.7, height=0.8)
    for x0, x1 in ((0.9, 1.35), (3.25, 3.75), (4.65, 5.05), (6.95, 7.25)):
        arrow(a, (x0, 1), (x1, 1), shrink=1)
    a.text(4.0, -0.1, "loss: −ELBO = reconstruction + KL(q(z|x) ‖ p(z))\n"
                      "gives an encoder and a bound on log p(x)", ha="center", va="top", fontsize=11)
    g = _canvas(axes[1], None, (-0.3, 8.4), (-0.9, 2.6), "GAN: generate, then be judged")
    node(g, (0.5, 1.6), "$z$")
    g.text(0.5, 0.95, "$\\sim p(z)$", ha="center", va="top", fontsize=11)
    box(g, (2.3, 1.6), "generator\n$G(z)$", width=1.7, height=1.1, color="#F6DCCB")
    box(g, (4.3, 1.6), "fake $x$", width=1.2, height=0.7)
    box(g, (4.3, 0.2), "real $x$", width=1.2, height=0.7)
    box(g, (6.25, 0.9), "discriminator\n$D(x)$", width=2.3, height=1.1, color="#DDEEDD")
    g.text(7.55, 0.9, "real\nor\nfake?", ha="left", va="center", fontsize=11)
    for a0, a1 in (((0.95, 1.6), (1.45, 1.6)), ((3.15, 1.6), (3.7, 1.6)), ((4.9, 1.5), (5.1, 1.2)),
                   ((4.9, 0.3), (5.1, 0.6))):
        arrow(g, a0, a1, shrink=1)
    g.text(3.2, -0.3, "no encoder, no likelihood:\n$G$ and $D$ play a minimax game", ha="center", va="top",
           fontsize=11)
    return axes[0].figure


def interpolation_paths(ax=None, angle_deg: float = 90.0):
    """Linear against spherical interpolation between two codes on the shell where Gaussian samples live
    (radius about √k in k dimensions): the straight line cuts through the low-norm interior (at its middle the
    norm is cos(θ/2) of the shell's), the great-circle path (slerp) stays on the shell. Two random codes in many
    dimensions are nearly orthogonal, hence the default angle θ of 90 degrees. Returns the figure."""
    ax = _canvas(ax, (6, 5.6), (-1.6, 1.6), (-1.3, 1.55),
                 "two codes on the shell where $\\mathcal{N}(0,I)$ puts its samples")
    t = np.linspace(0, 2 * np.pi, 400)
    for r, lw in ((1.12, 0.6), (0.88, 0.6)):
        ax.plot(r * np.cos(t), r * np.sin(t), color="grey", lw=lw)
    ax.fill(np.r_[1.12 * np.cos(t), 0.88 * np.cos(t[::-1])], np.r_[1.12 * np.sin(t), 0.88 * np.sin(t[::-1])],
            color="#DDDDDD", lw=0)
    half = np.radians(angle_deg) / 2
    a, b = np.array([np.cos(np.pi / 2 + half), np.sin(np.pi / 2 + half)]), \
        np.array([np.cos(np.pi / 2 - half), np.sin(np.pi / 2 - half)])
    ax.plot([a[0], b[0]], [a[1], b[1]], color=ORANGE, lw=2.5, label="linear: $(1-t)z_0+tz_1$")
    arc = np.linspace(np.pi / 2 + half, np.pi / 2 - half, 100)
    ax.plot(np.cos(arc), np.sin(arc), color=BLUE, lw=2.5, label="spherical (slerp)")
    mid = (a + b) / 2
    ax.plot(*mid, "o", color=ORANGE)
    ax.text(0, mid[1] - 0.12, f"linear midpoint: norm × {np.cos(half):.2f}", ha="center", va="top", fontsize=11,
            color=ORANGE)
    for p, name in ((a, "$z_0$"), (b, "$z_1$")):
        ax.plot(*p, "ko")
        ax.text(p[0] * 1.2, p[1] * 1.1, name, ha="center", fontsize=13)
    ax.text(0, -0.25, "low-norm interior:\nrarely sampled", ha="center", va="top", fontsize=10, color="grey")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=2, fontsize=10, frameon=False)
    return ax.figure
