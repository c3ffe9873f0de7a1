"""Figures: image grids (tiled into one array: fast), reconstructions, latent scatters, loss curves.

Images are rows ``(n, h*w)`` or arrays ``(n, h, w)`` with values in [0, 1].
"""
from __future__ import annotations

import io
import re
import time

import matplotlib
import matplotlib.patheffects as pe
import matplotlib.pyplot as plt
import numpy as np
from IPython.display import HTML, Image, display
from PIL import Image as PILImage

from .runtime import to_numpy

# Okabe & Ito's colour-blind-safe palette (its yellow last: it fades on a washed-out projector), then two of
# Paul Tol's, so that ten digits get ten distinguishable colours; markers repeat the distinction for print.
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#882255",
           "#999933", "#7F7F7F")
DIGIT_COLORS = PALETTE
DIGIT_MARKERS = "os^vDP*Xph"

# One figure style for the collection, sized for a projector at 1280x720: text of 12-14 pt on figures drawn
# 100 dpi (so 17-19 px at full size), lines 2.2 pt wide, the palette above.
STYLE = {
    "font.size": 13, "axes.titlesize": 14, "axes.labelsize": 13, "xtick.labelsize": 12, "ytick.labelsize": 12,
    "legend.fontsize": 11, "legend.title_fontsize": 12, "figure.titlesize": 15,
    "lines.linewidth": 2.2, "lines.markersize": 7, "axes.linewidth": 1.1, "patch.linewidth": 1.1,
    "axes.prop_cycle": matplotlib.cycler(color=PALETTE), "figure.dpi": 100, "savefig.dpi": 100,
    "legend.framealpha": 0.85, "axes.titlepad": 8,
}


MAX_WIDTH_IN = 11.0      # widest figure aelib draws: 1,100 px at 100 dpi, full size in a projected notebook


def use_style() -> None:
    """Apply :data:`STYLE` to matplotlib (done when ``aelib.plots`` is imported; call again after
    ``plt.rcdefaults()``)."""
    matplotlib.rcParams.update(STYLE)


use_style()


def _as_images(images, image_shape=None) -> np.ndarray:
    x = to_numpy(images).astype(np.float32, copy=False)
    if x.ndim == 3:
        return x
    if x.ndim == 1:
        x = x[None]
    if x.ndim != 2:
        raise ValueError(f"expected images as (n, h*w) or (n, h, w), got shape {x.shape}")
    if image_shape is None:
        side = int(round(np.sqrt(x.shape[1])))
        if side * side != x.shape[1]:
            raise ValueError(f"rows of length {x.shape[1]} are not square images: pass image_shape=(h, w)")
        image_shape = (side, side)
    if int(np.prod(image_shape)) != x.shape[1]:
        raise ValueError(f"image_shape {tuple(image_shape)} does not match rows of length {x.shape[1]}")
    return x.reshape(len(x), *image_shape)


def tile(images, image_shape=None, ncols: int | None = None, pad: int = 1, pad_value: float = 1.0) -> np.ndarray:
    """Tile ``n`` images into one 2-D array (rows of ``ncols``), separated by ``pad`` pixels.

    Returns float32 ``(rows*(h+pad)-pad, ncols*(w+pad)-pad)``; empty cells are ``pad_value``.
    """
    x = _as_images(images, image_shape)
    n, h, w = x.shape
    if n == 0:
        raise ValueError("no images to tile")
    ncols = min(n, ncols or int(np.ceil(np.sqrt(n))))
    nrows = int(np.ceil(n / ncols))
    out = np.full((nrows * (h + pad) - pad, ncols * (w + pad) - pad), pad_value, dtype=np.float32)
    for i in range(n):
        r, c = divmod(i, ncols)
        out[r * (h + pad):r * (h + pad) + h, c * (w + pad):c * (w + pad) + w] = x[i]
    return out


def array_png(img: np.ndarray, scale: int = 4) -> bytes:
    """PNG bytes of a 2-D array in [0, 1] (grey) or an RGB(A) uint8 array, upscaled ``scale``x, nearest."""
    a = np.asarray(img)
    if a.dtype != np.uint8:
        a = (np.clip(a, 0, 1) * 255).round().astype(np.uint8)
    pil = PILImage.fromarray(a)
    if scale != 1:
        pil = pil.resize((pil.width * scale, pil.height * scale), PILImage.NEAREST)
    buf = io.BytesIO()
    pil.save(buf, format="PNG", compress_level=1)
    return buf.getvalue()


def figure_png(fig, dpi=None, tight: bool = True) -> bytes:
    """PNG bytes of a matplotlib figure. ``tight=True`` crops to the drawn content (an extra layout pass);
    widgets that redraw often pass ``tight=False`` and lay out the figure themselves."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight" if tight else None,
                pil_kwargs={"compress_level": 1})
    return buf.getvalue()


def fixed_margins(fig, wspace: float = 0.3, left: float = 0.07, right: float = 0.985, bottom: float = 0.16,
                  top: float = 0.88) -> None:
    """Lay out a row of panels with fixed margins (fractions of the figure) instead of ``tight_layout``.

    A figure widget redraws on every slider move, and ``tight_layout`` measures every label first (an extra
    layout pass, tens of ms); these margins leave room for 12-13 pt tick labels, an axis label below and a
    title above each panel on figures 3-4 inches high. ``wspace``: the gap between panels, as a fraction of
    a panel's width.
    """
    fig.subplots_adjust(left=left, right=right, bottom=bottom, top=top, wspace=wspace)


def canvas_png(fig) -> bytes:
    """PNG bytes of a figure with an Agg canvas, at the figure's own size and dpi, as drawn (no cropping).

    Renders once and encodes the canvas (fast PNG settings): about a quarter cheaper than ``savefig``, which
    renders the figure again. For widgets that redraw often."""
    fig.canvas.draw()
    rgba = np.asarray(fig.canvas.buffer_rgba())
    buf = io.BytesIO()
    PILImage.fromarray(rgba[..., :3]).save(buf, format="PNG", compress_level=1)
    return buf.getvalue()


def show_images(images, image_shape=None, ncols: int | None = None, title: str = "", ax=None, scale: float = 0.5):
    """Show images as one tiled picture (one ``imshow``: fast). Returns the axes.

    A new figure is at most :data:`MAX_WIDTH_IN` inches wide (1,100 px), so that a class sees it at full size
    on a 1280-pixel projector; a wider grid is drawn smaller, keeping its proportions."""
    t = tile(images, image_shape, ncols)
    if ax is None:
        width, height = t.shape[1] * scale / 14, t.shape[0] * scale / 14
        shrink = min(1.0, MAX_WIDTH_IN / width)
        _, ax = plt.subplots(figsize=(max(2, width * shrink), max(1, height * shrink)))
    ax.imshow(t, cmap="gray", vmin=0, vmax=1, interpolation="nearest")
    ax.set_axis_off()
    if title:
        ax.set_title(title)
    return ax


def code_grid(lo, hi, n: int = 12) -> np.ndarray:
    """An ``n`` x ``n`` grid of 2-D codes over the box ``lo``..``hi`` (each a pair: z1, z2), as ``(n*n, 2)``
    float32 rows in reading order: z1 grows left to right, z2 falls top to bottom, so that decoding the rows
    and tiling them ``n`` per row (``show_images(..., ncols=n)``) lays the pictures out like the latent plane."""
    z1 = np.linspace(lo[0], hi[0], n)
    z2 = np.linspace(hi[1], lo[1], n)
    return np.stack(np.meshgrid(z1, z2), -1).reshape(-1, 2).astype(np.float32)


def show_figure(draw, figsize=(8, 3), **values) -> str:
    """Draw ``draw(fig, **values)`` into a new figure and show it, with its caption printed as plain text.

    The static picture above a :class:`aelib.widgets.FigureControls` made from the same ``draw``: it shows the
    widget's default values, and it is what a reader without a kernel (a saved or exported notebook) sees.
    Returns the caption (``""`` if ``draw`` returns none); figsize in inches."""

    fig = plt.figure(figsize=figsize)
    caption = draw(fig, **values) or ""
    if caption:
        print(re.sub(r"<[^>]+>", "", caption))
    plt.show()
    return caption


def show_reconstructions(rows: dict, image_shape=None, n: int = 10, title: str = ""):
    """Rows of images, one row per entry of ``rows`` (e.g. ``{"input": x, "AE": x_hat}``), first ``n`` each.

    Returns the figure; each row is labelled on the left.
    """
    names = list(rows)
    shrink = min(1.0, MAX_WIDTH_IN / (n * 0.75))
    fig, axes = plt.subplots(len(names), 1, figsize=(n * 0.75 * shrink, (0.85 * len(names)) * shrink + 0.3),
                             squeeze=False)
    for ax, name in zip(axes[:, 0], names):
        ax.imshow(tile(_as_images(rows[name], image_shape)[:n], ncols=n), cmap="gray", vmin=0, vmax=1,
                  interpolation="nearest")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_ylabel(name, rotation=0, ha="right", va="center")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def latent_scatter(z, labels=None, ax=None, title: str = "", s: float = 4, alpha: float = 0.7):
    """Scatter 2-D codes ``z (n, 2)`` coloured by digit label ``(n,)``, with a legend. Returns the axes."""
    z = to_numpy(z)
    if z.ndim != 2 or z.shape[1] != 2:
        raise ValueError(f"latent_scatter needs 2-D codes of shape (n, 2), got {z.shape}: "
                         f"train with code_dim=2, or project first (e.g. PCA)")
    if ax is None:
        _, ax = plt.subplots(figsize=(4.5, 4.5))
    if labels is None:
        ax.scatter(z[:, 0], z[:, 1], s=s, alpha=alpha)
    else:
        labels = to_numpy(labels)
        for c in np.unique(labels):
            m = labels == c
            ax.scatter(z[m, 0], z[m, 1], s=s, alpha=alpha, color=DIGIT_COLORS[int(c) % 10],
                       marker=DIGIT_MARKERS[int(c) % 10], linewidths=0, label=str(c))
        label_clusters(ax, z, labels)
    ax.set_xlabel("$z_1$")
    ax.set_ylabel("$z_2$")
    if title:
        ax.set_title(title)
    return ax


def label_clusters(ax, z, labels, fontsize: float | None = None) -> None:
    """Write each class's label at the median of its codes, in its colour with a white outline.

    ``z (n, 2)``, ``labels (n,)``. Unlike a legend box, the labels name the clusters where they are and cover
    no points that matter.
    """
    z, labels = np.asarray(z), np.asarray(labels)
    for c in np.unique(labels):
        cx, cy = np.median(z[labels == c], axis=0)
        ax.text(cx, cy, str(c), color=DIGIT_COLORS[int(c) % 10], fontsize=fontsize or STYLE["font.size"] + 3,
                fontweight="bold", ha="center", va="center",
                path_effects=[pe.withStroke(linewidth=3.5, foreground="white")])


def loss_curves(histories, ax=None, keys=("loss",), logy: bool = False):
    """Plot per-epoch curves from one :class:`~aelib.training.History` or a dict ``{name: History}``.

    Training curves are solid, validation curves dashed. Returns the axes.
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 3))
    if not isinstance(histories, dict):
        histories = {"": histories}
    for i, (name, h) in enumerate(histories.items()):
        color = PALETTE[i % len(PALETTE)]
        for key in keys:
            for split, style in (("train", "-"), ("val", "--")):
                values = getattr(h, split).get(key)
                if values:
                    label = " ".join(s for s in (name, key if len(keys) > 1 else "", split) if s)
                    ax.plot(range(1, len(values) + 1), values, style, color=color, label=label)
    ax.set_xlabel("epoch")
    ax.set_ylabel(keys[0] if len(keys) == 1 else "value")
    if logy:
        ax.set_yscale("log")
    if ax.get_legend_handles_labels()[0]:
        ax.legend()
    return ax


class LivePlot:
    """A loss curve that redraws in place in a notebook (a PNG updated through a display id).

    Redraws at most every ``interval`` seconds so that it costs little (one redraw, a 700x320 PNG, takes a
    fraction of a second; at most one every 2 s keeps the curve live and its cost a small share of the training
    time); :meth:`close` draws the last state.
    :func:`aelib.training.fit` shows one while it trains in a notebook; ``history`` is its
    :class:`~aelib.training.History` (``history.train["loss"]``: one mean loss per epoch so far).
    """

    def __init__(self, title: str = "", interval: float = 2.0):
        self.title, self.interval, self._last = title, interval, 0.0
        self._handle = display(HTML("<i>training&hellip;</i>"), display_id=True)

    def update(self, history, epochs: int, force: bool = False) -> None:
        now = time.perf_counter()
        if not force and now - self._last < self.interval:
            return
        self._last = now
        fig, ax = plt.subplots(figsize=(7, 3.2), dpi=100)     # 700x320 px: legible when projected
        loss_curves(history, ax=ax, keys=("loss",))
        ax.set_xlim(0.5, max(epochs, 1) + 0.5)
        ax.set_title(self.title or "training loss")
        png = figure_png(fig)
        plt.close(fig)
        self._handle.update(Image(png))

    def close(self, history, epochs: int) -> None:
        self.update(history, epochs, force=True)


def reconstruction_tiles(originals, reconstructions: dict, image_shape=None, n: int = 10) -> dict:
    """For each option, one image: the first ``n`` originals (top row) above their reconstructions (bottom row).

    ``originals``: ``(m, d)`` images; ``reconstructions``: ``{option: (m, d) images}``. Returns ``{option:
    (2h, n*w) array}`` (see :func:`tile`), e.g. the frames of an :class:`aelib.widgets.ImageBrowser`.
    """
    x = np.asarray(originals)[:n]
    return {k: tile(np.concatenate([x, np.asarray(v)[:n]]), image_shape, ncols=n)
            for k, v in reconstructions.items()}
