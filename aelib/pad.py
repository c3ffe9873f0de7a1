"""Draw your own digit: a drawing pad, the conversion of its strokes to the collection's image format, and a
widget that shows what a chapter's model makes of the drawing, live.

Three layers, each usable alone:

* :func:`image_from_strokes` turns strokes (the pen's path, in pad pixels) into one image as the collection
  stores them: 784 float32 values in [0, 1], drawn and normalised the way MNIST's digits were (the ink's
  bounding box scaled into 20x20 keeping its aspect ratio, anti-aliased, then centred in 28x28 by its centre
  of mass), with a stroke about as wide and soft as MNIST's. :func:`check_image` checks an image given
  directly.
* :class:`DrawingPad` (an ``anywidget`` widget; its JavaScript and CSS are ``aelib/static/drawing_pad.*``):
  a 28x28 canvas shown large, drawn with a mouse, a pen or a finger, with Undo and Clear buttons and a text
  label. It sends its strokes to the kernel while you draw (at most every ``throttle_ms``, and never more than
  one update waiting for the kernel) and once when the pen lifts.
* :class:`PadExplorer`: one or two pads next to a picture and a caption that a chapter's ``show`` function
  makes from the drawn image(s) on every change, with a keyboard path (type a test image's number) and a still
  picture of what the model sees, which is also what a static copy of the notebook shows.

For the ``show`` functions, pictures drawn once and then changed in milliseconds (:class:`LiveFigure`): your
digit's code among the test set's, with q(z|x)'s ellipses on the prior (:class:`LatentFigure`), its score
against a detector's histograms and threshold (:class:`ScoreFigure`), and named rows of images with notes, for
denoisers or interpolation paths (:class:`ImageRows`).

The pad sends strokes, not pixels: a few hundred numbers per update instead of 784 (or a PNG), Undo is
dropping the last stroke, and the rasterisation that decides what the model sees (stroke width, blur, MNIST's
normalisation) happens once, here, in Python, where it is tested, instead of being written again in JavaScript.

Example (a chapter with an encoder ``enc`` and a decoder ``dec`` on 784-pixel images)::

    def show(x):                     # x: (784,) in [0, 1]
        x_hat = dec(enc(x[None]))[0]
        return tile(np.stack([x, x_hat]), ncols=2), "your digit and its reconstruction"
    PadExplorer(show, x_test, start=0)
"""
from __future__ import annotations

import io
import time
from pathlib import Path

import ipywidgets as widgets
import numpy as np
import traitlets
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Circle, Ellipse
from PIL import Image as PILImage
from PIL import ImageDraw
from scipy import ndimage

from .plots import array_png, latent_scatter
from .widgets import _Widget

SIDE = 28                 # the pad and the images: 28x28 pixels
BOX = 20                  # MNIST's digits: the ink's bounding box scaled into 20x20 ...
CENTRE = 14.0             # ... then centred by mass on pixel (14, 14) (row, column; measured mean 13.99, 14.00)
PEN = 2.9                 # stroke width in output pixels and BLUR (sigma, output pixels) after anti-aliasing:
BLUR = 0.3                # a drawn 0, 1 or 7 gets the ink, pixels > 0.5 and pixels > 0 of MNIST's (within 15 %)
SUPERSAMPLE = 8           # strokes are drawn at 8x and averaged down (anti-aliasing)
MAX_ZOOM = 8.0            # a scribble smaller than (20 - PEN) / 8 = 2.1 pad pixels is not blown up further
STATIC = Path(__file__).resolve().parent / "static"


class EmptyPadError(ValueError):
    """The pad has no ink: nothing drawn and no test image loaded."""


EMPTY_MESSAGE = "the pad is empty: draw a digit, or pick a test image"


def check_image(x, name: str = "image") -> np.ndarray:
    """Check one image given directly and return it as float32 ``(784,)``.

    ``x``: 784 values in [0, 1], shaped ``(784,)``, ``(1, 784)`` or ``(28, 28)``. Raises ValueError saying what
    is wrong (shape, NaN, values outside [0, 1]) and what to change.
    """
    a = np.asarray(x, dtype=np.float32)
    if a.size != SIDE * SIDE or a.shape not in ((784,), (1, 784), (28, 28)):
        raise ValueError(f"expected 784 values in [0, 1] ((784,) or (28, 28)), got {name} of shape {a.shape}: "
                         "pass one 28x28 image, e.g. x_test[i]")
    a = a.reshape(SIDE * SIDE)
    if not np.isfinite(a).all():
        raise ValueError(f"expected 784 values in [0, 1], got {name} with {int((~np.isfinite(a)).sum())} NaN or "
                         "infinite values")
    lo, hi = float(a.min()), float(a.max())
    if lo < -1e-6 or hi > 1 + 1e-6:
        hint = ": divide by 255" if hi > 1.5 else ""
        raise ValueError(f"expected 784 values in [0, 1], got {name} with values from {lo:.3g} to {hi:.3g}{hint}")
    return np.clip(a, 0.0, 1.0)


def _as_strokes(strokes) -> list[np.ndarray]:
    """Validate strokes and return them as float64 ``(m, 2)`` arrays (x, y in pad pixels), empty ones dropped."""
    if isinstance(strokes, (str, bytes)) or not hasattr(strokes, "__iter__"):
        raise ValueError(f"strokes must be a list of strokes, each a list of [x, y] points in pad pixels "
                         f"(0 to {SIDE}), got {type(strokes).__name__}")
    out = []
    for i, stroke in enumerate(strokes):
        try:
            a = np.asarray(stroke, dtype=np.float64)
        except (TypeError, ValueError):
            raise ValueError(f"stroke {i} is not a list of [x, y] points in pad pixels: {str(stroke)[:60]}") from None
        if a.size == 0:
            continue
        if a.ndim != 2 or a.shape[1] != 2:
            raise ValueError(f"stroke {i} must be a list of [x, y] points in pad pixels (0 to {SIDE}), got an "
                             f"array of shape {a.shape}")
        if not np.isfinite(a).all():
            raise ValueError(f"stroke {i} has NaN or infinite coordinates")
        out.append(np.clip(a, 0.0, float(SIDE)))
    return out


def _render(strokes: list[np.ndarray], transform, pen: float) -> np.ndarray:
    """Draw ``strokes`` (after ``transform``: pad pixels -> output pixels) as white lines ``pen`` output pixels
    wide with round ends and joints, anti-aliased; return float32 ``(28, 28)`` in [0, 1] (before blur)."""
    k = SUPERSAMPLE
    canvas = PILImage.new("L", (SIDE * k, SIDE * k), 0)
    draw = ImageDraw.Draw(canvas)
    r = pen * k / 2
    for s in strokes:
        p = transform(s) * k
        pts = [tuple(q) for q in p]
        if len(pts) > 1:
            draw.line(pts, fill=255, width=max(1, int(round(pen * k))), joint="curve")
        for x, y in (pts[0], pts[-1]) if len(pts) > 1 else pts[:1]:
            draw.ellipse((x - r, y - r, x + r, y + r), fill=255)
    small = canvas.resize((SIDE, SIDE), PILImage.BOX)
    return np.asarray(small, dtype=np.float32) / 255.0


def _soften(img: np.ndarray, blur: float) -> np.ndarray:
    if blur > 0:
        img = ndimage.gaussian_filter(img, blur, mode="constant")
        peak = float(img.max())
        if peak > 0:                                       # keep the stroke's core at full ink, as MNIST's
            img = img / max(peak, 1e-6) * min(1.0, peak / 0.85)
    return np.clip(img, 0.0, 1.0)


def image_from_strokes(strokes, background=None, pen: float = PEN, blur: float = BLUR) -> np.ndarray:
    """The image a pad's strokes make, in the collection's format: float32 ``(784,)`` in [0, 1] (28x28, row major).

    Arguments:
        strokes: a list of strokes, each a list of ``[x, y]`` points in pad pixels: x from 0 (left) to 28
            (right), y from 0 (top) to 28 (bottom); a stroke of one point is a dot. Points outside the pad are
            moved to its edge.
        background: optional ``(784,)`` image in [0, 1] the pad started from (a test image): the strokes are
            then drawn on top of it where they were made (the brightest of the two wins), and nothing is moved,
            so the picture stays in the test image's frame. Without it, the ink is normalised as MNIST's digits
            were: its bounding box scaled to fit 20x20 pixels keeping the aspect ratio (at most ``MAX_ZOOM`` x),
            anti-aliased, then moved so that its centre of mass is on pixel (14, 14).
        pen: the stroke's width in output pixels (2.9 with the default blur gives strokes as wide as MNIST's).
        blur: the Gaussian blur's sigma in output pixels, after anti-aliasing.

    Raises :class:`EmptyPadError` (a ValueError) when there is neither ink nor background, and ValueError for
    strokes that are not lists of [x, y] points or a background that is not 784 values in [0, 1].
    """
    lines = _as_strokes(strokes)
    back = None if background is None or len(background) == 0 else check_image(background, "background")
    if not lines:
        if back is None or not back.any():
            raise EmptyPadError(EMPTY_MESSAGE)
        return back.copy()
    if back is not None:
        ink = _soften(_render(lines, lambda p: p, pen), blur)
        return np.maximum(back, ink.reshape(-1)).astype(np.float32)
    pts = np.concatenate(lines)
    lo, hi = pts.min(0), pts.max(0)
    extent = float((hi - lo).max())
    zoom = MAX_ZOOM if extent <= 0 else min((BOX - pen) / extent, MAX_ZOOM)
    middle = (lo + hi) / 2

    def place(shift):
        return lambda p: (p - middle) * zoom + shift
    img = _soften(_render(lines, place(np.array([CENTRE, CENTRE]) + 0.5), pen), blur)
    cy, cx = ndimage.center_of_mass(img)               # row, column in pixel indices
    shift = np.array([CENTRE, CENTRE]) + 0.5 + (CENTRE - np.array([cx, cy]))
    img = _soften(_render(lines, place(shift), pen), blur)
    return img.reshape(-1).astype(np.float32)


try:
    import anywidget
except ImportError:                                     # conversion and checks work without it
    anywidget = None


def _require_anywidget():
    if anywidget is None:
        raise ImportError("the drawing pad needs the package anywidget: pip install anywidget "
                          "(it is in requirements.txt)")


if anywidget is not None:
    class DrawingPad(anywidget.AnyWidget):
        """A 28x28 drawing pad shown ``size`` CSS pixels wide: draw with a mouse, a pen or a finger.

        Synced state (what the browser and the kernel share):
            strokes: list of strokes, each a list of ``[x, y]`` points in pad pixels (0 to 28); the last one grows
                while you draw (sent at most every ``throttle_ms`` ms, and when the pen lifts).
            background: ``[]`` or the 784 values of the picture the pad started from (a test image); the strokes
                are drawn on top of it. Clear empties both; Undo drops the last stroke.
            label: the pad's visible text label (also its aria-label).
            size: the canvas's width and height in CSS pixels; pen: the stroke width in pad pixels;
            sent, done: the browser counts its updates in ``sent``; the kernel copies ``sent`` to ``done``
                once it has handled one, so the browser never has more than one update waiting.

        ``image()`` is the current picture as float32 ``(784,)`` (see :func:`image_from_strokes`);
        ``on_draw(fn)`` calls ``fn()`` after each change of the picture, before the kernel acknowledges it.
        """

        _esm = STATIC / "drawing_pad.js"
        _css = STATIC / "drawing_pad.css"
        strokes = traitlets.List().tag(sync=True)
        background = traitlets.List().tag(sync=True)
        label = traitlets.Unicode("Draw a digit").tag(sync=True)
        size = traitlets.Int(280).tag(sync=True)
        pen = traitlets.Float(PEN).tag(sync=True)
        throttle_ms = traitlets.Int(90).tag(sync=True)
        sent = traitlets.Int(0).tag(sync=True)
        done = traitlets.Int(0).tag(sync=True)

        def __init__(self, label: str = "Draw a digit", image=None, size: int = 280, pen: float = PEN,
                     throttle_ms: int = 90, **kwargs):
            background = [] if image is None else check_image(image).tolist()
            super().__init__(label=label, size=size, pen=pen, throttle_ms=throttle_ms, background=background,
                             **kwargs)
            self._callbacks = []
            self._seen = (self.strokes, self.background)
            self._cache = None
            self.observe(self._changed, names=["strokes", "background", "sent"])

        def image(self) -> np.ndarray:
            """The pad's picture, float32 ``(784,)`` in [0, 1]. Raises :class:`EmptyPadError` for an empty pad."""
            key = (self.strokes, self.background, self.pen)
            if self._cache is None or self._cache[0] != key:
                self._cache = (key, image_from_strokes(self.strokes, self.background, pen=self.pen))
            return self._cache[1].copy()

        def on_draw(self, fn) -> None:
            """Call ``fn()`` after every change of the picture (strokes or background, from either side)."""
            self._callbacks.append(fn)

        def _changed(self, change) -> None:
            state = (self.strokes, self.background)
            if state != self._seen:
                self._seen = state
                for fn in self._callbacks:
                    fn()
            if self.done != self.sent:
                self.done = self.sent

        def load(self, image) -> None:
            """Start again from ``image`` (784 values in [0, 1], e.g. a test image): no strokes on top."""
            values = check_image(image).tolist()
            with self.hold_trait_notifications():
                self.strokes = []
                self.background = values

        def undo(self) -> None:
            """Drop the last stroke (as the Undo button does); nothing happens without strokes."""
            if self.strokes:
                self.strokes = self.strokes[:-1]

        def clear(self) -> None:
            """Empty the pad: no strokes and no background (as the Clear button does)."""
            with self.hold_trait_notifications():
                self.strokes = []
                self.background = []
else:
    class DrawingPad:                                    # pragma: no cover - only without anywidget
        """Stands in for the drawing pad where anywidget is not installed: says how to get it."""

        def __init__(self, *args, **kwargs):
            _require_anywidget()


class LiveFigure:
    """A matplotlib figure drawn once, whose few moving artists are redrawn on each update: a PNG in milliseconds.

    For a pad's ``show`` function: a latent scatter with your digit's point, a histogram with your digit's
    score, a prior's contours with q(z|x)'s ellipse, a reconstruction shown with ``imshow``. Everything but
    ``artists`` is rendered once (the slow part: thousands of points, text); each :meth:`png` restores that
    picture and draws only ``artists`` on it (matplotlib's blitting), after you have moved them with their
    ``set_data``, ``set_offsets``, ``set_xdata``, ``set_center``... .

    Arguments:
        fig: a ``matplotlib.figure.Figure`` (made with ``Figure(...)``, not ``plt.figure``, so that the notebook
            does not show it too); its axes limits must be set, as they are not recomputed for the moving artists.
        artists: the artists that move (lines, markers, patches, images, texts), already added to its axes.

    Attributes: ``fig``, ``artists``. Call :meth:`redraw_background` after changing anything else.
    """

    def __init__(self, fig, artists):
        if not isinstance(fig.canvas, FigureCanvasAgg):
            FigureCanvasAgg(fig)
        self.fig, self.artists = fig, list(artists)
        for a in self.artists:
            a.set_animated(True)
        self.redraw_background()

    def redraw_background(self) -> None:
        """Render everything but the moving artists again (after a change of limits, titles, data...)."""
        self.fig.canvas.draw()
        self._background = self.fig.canvas.copy_from_bbox(self.fig.bbox)

    def rgba(self) -> np.ndarray:
        """The picture as it is now: uint8 ``(height, width, 4)`` in pixels."""
        canvas = self.fig.canvas
        canvas.restore_region(self._background)
        for a in self.artists:
            (a.axes or self.fig).draw_artist(a)
        return np.asarray(canvas.buffer_rgba())

    def png(self) -> bytes:
        """PNG bytes of the picture as it is now (the moving artists where they are)."""
        buf = io.BytesIO()
        PILImage.fromarray(self.rgba()[..., :3]).save(buf, format="PNG", compress_level=1)
        return buf.getvalue()


CROSS = dict(marker="X", ms=17, color="crimson", mec="white", mew=1.5, ls="none")   # your digit, everywhere


def _image_2d(image, shape, name: str = "image") -> np.ndarray:
    """``image`` as a 2-D array of ``shape`` in [0, 1] (784 values become 28x28)."""
    a = np.asarray(image, dtype=np.float32)
    if a.size != shape[0] * shape[1]:
        raise ValueError(f"{name} must hold {shape[0]}x{shape[1]} values in [0, 1], got shape {a.shape}")
    return np.clip(a.reshape(shape), 0.0, 1.0)


class LatentFigure(LiveFigure):
    """Your digit's code in the test set's 2-D latent space: one panel per model, each the test codes coloured by
    digit with a red cross at your digit's code; optionally q(z|x) as its 1σ and 2σ ellipses (solid, dashed) over
    the prior's 1σ and 2σ circles, and a picture beside them (e.g. the reconstruction).

    Arguments:
        codes: ``(n, 2)`` codes of the test images, or a list of such arrays, one panel each (e.g. two models).
        labels: optional ``(n,)`` digit labels (the colours and the clusters' names).
        titles: one title per panel (default none).
        image_title: the title of a 28x28 picture panel on the right; ``None``: no picture panel.
        prior: draw N(0, I)'s 1σ and 2σ circles and show a square window of at least ±3 around the origin.
        ellipse: draw q(z|x)'s 1σ and 2σ ellipses around the cross (:meth:`show` then needs ``sigma``).
        extent: ``(xmin, xmax, ymin, ymax)`` for every panel; default from each panel's codes (their 0.5 to 99.5th
            percentiles and 10 % more; with ``prior``, ±max(3, the 99th percentile of |code|)).
        panel: each latent panel's side in inches (at 100 dpi, 2.7 in = 270 px; two panels fit beside a pad).

    :meth:`show` moves the cross (and ellipses, picture) and returns PNG bytes. Attributes: ``axes`` (the latent
    panels), ``image_axes``, ``points``, ``ellipses`` (per panel, ``(1σ, 2σ)``), ``z`` and ``sigma`` as last shown
    ``(panels, 2)``, ``outside`` (per panel: the code lay beyond the window and its cross stands at the edge).
    """

    def __init__(self, codes, labels=None, titles=None, image_title: str | None = None, prior: bool = False,
                 ellipse: bool = False, extent=None, panel: float = 2.7, dpi: int = 100):
        panels = [np.asarray(c, dtype=np.float64) for c in (codes if isinstance(codes, (list, tuple)) else [codes])]
        for c in panels:
            if c.ndim != 2 or c.shape[1] != 2 or not len(c):
                raise ValueError(f"LatentFigure needs 2-D codes of shape (n, 2), got {c.shape}: train a model with "
                                 "a 2-D code (code_dim=2, latent_dim=2)")
        titles = list(titles) if titles is not None else [""] * len(panels)
        if len(titles) != len(panels):
            raise ValueError(f"one title per panel: {len(panels)} panels, {len(titles)} titles")
        self.ellipse = ellipse
        left, gap, right, bottom, top = 0.62, 0.72, 0.15, 0.55, 0.42             # inches
        side = 0.8 * panel if image_title is not None else 0.0
        width = left + len(panels) * panel + (len(panels) - 1) * gap + (0.35 + side if side else 0) + right
        height = bottom + panel + top
        fig = Figure(figsize=(width, height), dpi=dpi)
        self.axes, self.points, self.ellipses, moving = [], [], [], []
        for i, (c, title) in enumerate(zip(panels, titles)):
            ax = fig.add_axes(((left + i * (panel + gap)) / width, bottom / height, panel / width, panel / height))
            latent_scatter(c, labels, ax=ax, s=5, alpha=0.6)
            if extent is not None:
                x0, x1, y0, y1 = (float(e) for e in extent)
            elif prior:
                lim = max(3.0, float(np.percentile(np.abs(c), 99)))
                x0, x1, y0, y1 = -lim, lim, -lim, lim
            else:
                lo, hi = np.percentile(c, [0.5, 99.5], axis=0)
                span = np.maximum(hi - lo, 1e-6)
                (x0, y0), (x1, y1) = lo - 0.1 * span, hi + 0.1 * span
            ax.set_xlim(x0, x1)
            ax.set_ylim(y0, y1)
            if prior:
                for r in (1, 2):
                    ax.add_patch(Circle((0, 0), r, fill=False, ls="--", lw=1.3, color="k"))
            if title:
                ax.set_title(title)
            pair = ()
            if ellipse:
                pair = (Ellipse((0, 0), 0, 0, fill=False, ec="crimson", lw=2.4),
                        Ellipse((0, 0), 0, 0, fill=False, ec="crimson", lw=1.8, ls="--"))
                for e in pair:
                    ax.add_patch(e)
            point, = ax.plot([], [], **CROSS)
            self.axes.append(ax)
            self.points.append(point)
            self.ellipses.append(pair)
            moving += [*pair, point]
        self.image_axes = self.image = None
        if side:
            x = (width - right - side) / width
            self.image_axes = fig.add_axes((x, (bottom + (panel - side) / 2) / height, side / width, side / height))
            self.image = self.image_axes.imshow(np.zeros((SIDE, SIDE)), cmap="gray", vmin=0, vmax=1)
            self.image_axes.set_axis_off()
            self.image_axes.set_title(image_title)
            moving.append(self.image)
        self.z = self.sigma = None
        self.outside = [False] * len(panels)
        super().__init__(fig, moving)

    def _per_panel(self, a, name: str) -> np.ndarray:
        n = len(self.axes)
        a = np.asarray(a, dtype=np.float64)
        if a.shape == (2,):
            a = np.repeat(a[None], n, axis=0)
        if a.shape != (n, 2):
            raise ValueError(f"one code per panel: expected {name} of shape (2,) or ({n}, 2), got {a.shape}")
        if not np.isfinite(a).all():
            raise ValueError(f"{name} has NaN or infinite values: the encoder was given a bad image or diverged")
        return a

    def show(self, z, sigma=None, image=None) -> bytes:
        """Move the cross to ``z`` (``(2,)``, or ``(panels, 2)``: one code per panel), draw q(z|x)'s ellipses for
        standard deviations ``sigma`` (same shape; needed with ``ellipse=True``), show ``image`` (784 values in
        [0, 1]) in the picture panel; return the PNG bytes. A code beyond the window is drawn at its edge."""
        z = self._per_panel(z, "z")
        if self.ellipse:
            if sigma is None:
                raise ValueError("sigma: pass the standard deviations of q(z|x) (shaped like z) to draw its ellipses")
            sigma = self._per_panel(sigma, "sigma")
            if (sigma <= 0).any():
                raise ValueError(f"sigma must be positive (standard deviations), got {sigma.tolist()}")
        for i, (ax, point) in enumerate(zip(self.axes, self.points)):
            (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
            shown = np.clip(z[i], [min(x0, x1), min(y0, y1)], [max(x0, x1), max(y0, y1)])
            self.outside[i] = bool((shown != z[i]).any())
            point.set_data([shown[0]], [shown[1]])
            for k, e in enumerate(self.ellipses[i], start=1):
                e.set_center(tuple(z[i]))
                e.set_width(2 * k * sigma[i, 0])
                e.set_height(2 * k * sigma[i, 1])
        if image is not None:
            if self.image is None:
                raise ValueError("this LatentFigure has no picture panel: make it with image_title=...")
            self.image.set_data(_image_2d(image, (SIDE, SIDE)))
        self.z, self.sigma = z, sigma
        return self.png()


class ScoreFigure(LiveFigure):
    """Your digit's score against a detector's: histograms of the test scores (density), the threshold (dashed),
    and a red line at your digit's score with its value above it; optionally a picture beside them (your digit
    and its reconstruction).

    Arguments:
        scores: ``{name: (n,) scores}``, one histogram each (e.g. the normal test digits', the anomalies').
        threshold: the detector's threshold, in the scores' units.
        xlabel: the scores' name and unit; bins: the histograms' number of bins.
        xmax: the right end of the window (default 1.1 x the larger of the threshold and the 99.5th percentile of
            all scores); a score beyond it stands at the edge, its value written with an arrow.
        image_title: the title of a picture panel on the right; image_shape: its ``(h, w)`` (default 28x56: two
            digits side by side); ``None``: no picture.
        size: the figure's ``(width, height)`` in inches.

    :meth:`show` moves the line and returns PNG bytes. Attributes: ``axes``, ``marker`` (the line), ``label`` (its
    text), ``image_axes``, ``score`` (as last shown) and ``beyond`` (it lay past the window).
    """

    def __init__(self, scores: dict, threshold: float, xlabel: str = "reconstruction error", bins: int = 40,
                 xmax: float | None = None, image_title: str | None = None, image_shape=(SIDE, 2 * SIDE),
                 size=(6.6, 3.0), dpi: int = 100):
        if not scores:
            raise ValueError("ScoreFigure needs at least one set of scores, e.g. {'normal test digits': scores}")
        sets = {k: np.asarray(v, dtype=np.float64).ravel() for k, v in scores.items()}
        every = np.concatenate(list(sets.values()))
        if not np.isfinite(every).all() or not np.isfinite(threshold):
            raise ValueError("the scores and the threshold must be finite numbers")
        self.threshold = float(threshold)
        self.xmax = float(xmax) if xmax is not None else 1.1 * max(self.threshold, float(np.percentile(every, 99.5)))
        lo = min(0.0, float(every.min()))
        fig = Figure(figsize=size, dpi=dpi)
        w, h = size
        side = 0.0 if image_title is None else min(2.4, 0.4 * w)
        right_edge = w - 0.15 - (side + 0.25 if side else 0)
        self.axes = ax = fig.add_axes((0.75 / w, 0.62 / h, (right_edge - 0.75) / w, (h - 0.62 - 0.5) / h))
        edges = np.linspace(lo, self.xmax, bins + 1)
        for name, s in sets.items():
            ax.hist(np.clip(s, lo, self.xmax), edges, alpha=0.6, density=True, label=name)
        ax.axvline(self.threshold, color="k", ls="--", lw=1.8, label="threshold")
        ax.set_xlim(lo, self.xmax)
        ax.set_xlabel(xlabel)
        ax.set_ylabel("density")
        ax.set_yticks([])
        if side:                                       # the legend under the picture, clear of the bars
            ax.legend(loc="lower left", bbox_to_anchor=(1 + 0.25 / (right_edge - 0.75), 0.0), fontsize=11,
                      frameon=False, borderaxespad=0)
        else:
            ax.legend(loc="upper right", fontsize=11)
        self.marker = ax.axvline(self.threshold, color="crimson", lw=2.6)
        self.label = ax.text(self.threshold, 1.02, "", transform=ax.get_xaxis_transform(), ha="center",
                             va="bottom", color="crimson", fontsize=13, fontweight="bold", clip_on=False)
        moving = [self.marker, self.label]
        self.image_axes = self.image = None
        if side:
            ih, iw = image_shape
            box_h = side * ih / iw
            self.image_axes = fig.add_axes(((w - 0.15 - side) / w, (h - 0.5 - box_h) / h, side / w, box_h / h))
            self.image = self.image_axes.imshow(np.zeros(image_shape), cmap="gray", vmin=0, vmax=1)
            self.image_axes.set_axis_off()
            self.image_axes.set_title(image_title, fontsize=12)
            moving.append(self.image)
        self.image_shape = tuple(image_shape)
        self.score, self.beyond = None, False
        super().__init__(fig, moving)

    def show(self, score: float, image=None, text: str = "your digit") -> bytes:
        """Put the line at ``score`` with ``text`` and its value above it, show ``image`` (``image_shape`` values in
        [0, 1]) in the picture panel; return the PNG bytes."""
        score = float(score)
        if not np.isfinite(score):
            raise ValueError(f"the score must be a finite number, got {score}")
        x0, x1 = self.axes.get_xlim()
        self.beyond = score > x1
        x = min(max(score, x0), x1)
        self.marker.set_xdata([x, x])
        self.label.set_x(x)
        self.label.set_ha("right" if x > x0 + 0.8 * (x1 - x0) else "center")
        self.label.set_text(f"{text}: {score:.4g}" + (" →" if self.beyond else ""))
        if image is not None:
            if self.image is None:
                raise ValueError("this ScoreFigure has no picture panel: make it with image_title=...")
            self.image.set_data(_image_2d(image, self.image_shape))
        self.score = score
        return self.png()


class ImageRows(LiveFigure):
    """Rows of small images with each row's name on its left and each column's title above it, redrawn in place,
    with an optional short note under every image (e.g. its PSNR): a pad's digit through several denoisers (rows:
    the noises; columns: noisy, each model's repair) or along several interpolation paths (rows: the paths).

    Arguments:
        rows: the rows' names; columns: the columns' titles (their number fixes how many images a row has;
            ``""`` for none; ``"\\n"`` breaks a long one).
        image_shape: ``(h, w)`` of one image; cell: one image's width in inches (at 100 dpi: 0.5 in = 50 px).
        notes: leave room for a note under each image.

    :meth:`show` puts new images (and notes) in and returns PNG bytes. Attributes: ``images`` as last shown
    ``(rows, columns, h*w)``, ``notes`` (the note texts, ``[row][column]``), ``picture`` (the image artist).
    """

    GAP = 2                  # pixels between images
    NOTE = 10                # pixels under each row for its notes

    def __init__(self, rows, columns, image_shape=(SIDE, SIDE), cell: float = 0.5, notes: bool = False,
                 dpi: int = 100):
        self.row_names, self.column_titles = list(rows), list(columns)
        if not self.row_names or not self.column_titles:
            raise ValueError("ImageRows needs at least one row name and one column title")
        self.shape = tuple(image_shape)
        h, w = self.shape
        self.pitch = (h + (self.NOTE if notes else self.GAP), w + self.GAP)
        nr, nc = len(self.row_names), len(self.column_titles)
        height_px, width_px = nr * self.pitch[0] - (0 if notes else self.GAP), nc * self.pitch[1] - self.GAP
        k = cell / w                                                   # inches per image pixel
        fig = Figure(figsize=(4, 3), dpi=dpi)
        ax = fig.add_axes((0, 0, 1, 1))
        self.picture = ax.imshow(np.ones((height_px, width_px)), cmap="gray", vmin=0, vmax=1,
                                 interpolation="nearest", extent=(-0.5, width_px - 0.5, height_px - 0.5, -0.5))
        ax.set_axis_off()
        names = [ax.text(-3, r * self.pitch[0] + h / 2, name, ha="right", va="center", fontsize=12)
                 for r, name in enumerate(self.row_names)]
        titles = [ax.text(c * self.pitch[1] + w / 2, -2, title, ha="center", va="bottom", fontsize=12,
                          linespacing=1.0) for c, title in enumerate(self.column_titles) if title]
        self.notes = [[ax.text(c * self.pitch[1] + w / 2, r * self.pitch[0] + h + 1, "", ha="center", va="top",
                               fontsize=11) for c in range(nc)] for r in range(nr)] if notes else []
        renderer = FigureCanvasAgg(fig).get_renderer()
        label_in = max(t.get_window_extent(renderer).width for t in names) / dpi + 0.15
        title_in = max((t.get_window_extent(renderer).height for t in titles), default=0) / dpi
        left, top, bottom = label_in, title_in + 0.1, 0.06
        width, height = left + width_px * k + 0.1, top + height_px * k + bottom
        fig.set_size_inches(width, height)
        ax.set_position((left / width, bottom / height, width_px * k / width, height_px * k / height))
        self.images = np.zeros((nr, nc, h * w), np.float32)
        super().__init__(fig, [self.picture, *(t for row in self.notes for t in row)])

    def show(self, images, notes=None) -> bytes:
        """Show ``images`` (``(rows, columns, h*w)`` or ``(rows * columns, h*w)`` values in [0, 1], row by row) with
        ``notes`` (``[row][column]`` strings, when made with ``notes=True``); return the PNG bytes."""
        nr, nc = len(self.row_names), len(self.column_titles)
        h, w = self.shape
        a = np.asarray(images, dtype=np.float32)
        if a.size != nr * nc * h * w:
            raise ValueError(f"expected {nr} rows of {nc} images ({h * w} values each), got shape {a.shape}")
        a = np.clip(a.reshape(nr, nc, h * w), 0.0, 1.0)
        if notes is not None:
            if not self.notes:
                raise ValueError("this ImageRows has no room for notes: make it with notes=True")
            if len(notes) != nr or any(len(row) != nc for row in notes):
                raise ValueError(f"one note per image: {nr} rows of {nc} strings")
        canvas = np.ones(self.picture.get_array().shape, np.float32)
        for r in range(nr):
            for c in range(nc):
                y, x = r * self.pitch[0], c * self.pitch[1]
                canvas[y:y + h, x:x + w] = a[r, c].reshape(h, w)
                if self.notes:
                    self.notes[r][c].set_text("" if notes is None else str(notes[r][c]))
        self.picture.set_data(canvas)
        self.images = a.copy()
        return self.png()


def copy_reading_copy_assets(out_dir) -> list[Path]:
    """Copy what a static HTML copy of a notebook (nbconvert with the widgets' state stored in the page, as
    ``aelib.course.site`` builds) needs to draw its pads with no network: anywidget's front end, as
    ``out_dir/anywidget.js``. Returns the files written (none without anywidget).

    The ipywidgets HTML manager loads a widget's module with require.js, which looks for ``anywidget.js`` beside
    the page before it asks ``cdn.jsdelivr.net``; anywidget's AMD build (``anywidget/nbextension/index.js``) runs
    the pad's JavaScript, stored in the page, there. The pad then shows the picture it was left with and says
    that it is live in Jupyter. Without this file the page asks the CDN (refused offline) and the pad's place
    shows an error; :class:`PadExplorer`'s still picture and sentence stand in for it.
    """
    if anywidget is None:
        return []
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    target = out / "anywidget.js"
    target.write_bytes((Path(anywidget.__file__).resolve().parent / "nbextension" / "index.js").read_bytes())
    return [target]


PAD_HELP = ("Draw with the mouse, a pen or a finger; Undo drops the last stroke, Clear empties the pad. "
            "Without a mouse: type a test image's number and press Enter (your strokes go on top of it).")
STATIC_NOTE = ("<i>Live in Jupyter: a drawing pad stands here. Draw a digit on it (mouse, pen or touch) and the "
               "picture beside it follows as you draw; or type a test image's number. Here, a still picture of "
               "what the model sees.</i>")


class PadExplorer(_Widget):
    """One or two drawing pads beside a picture that a chapter makes from the drawn digit(s), updated as you draw.

    Arguments:
        show: ``show(*images) -> (picture, caption_html)``, one ``(784,)`` float32 image in [0, 1] per pad;
            ``picture`` is PNG bytes, or a 2-D array in [0, 1] (grey) or an RGB(A) uint8 array, shown upscaled
            ``scale`` x. It runs on every change of a pad (tens of times while drawing): keep it to tens of ms
            (draw a figure's background once; decode one image).
        images: test images ``(n, 784)`` in [0, 1] that a pad can start from, by index (the keyboard path).
        start: the index of the test image each pad starts from; a tuple gives one pad per entry (two pads:
            ``start=(3, 7)``, and ``show`` takes two images); ``None`` in place of an index: an empty pad.
        labels: optional ``(n,)`` digit labels of ``images`` for the pads' captions.
        titles: each pad's text label (default "Draw a digit", or "Digit A", "Digit B").
        size: each pad's width in CSS pixels (default 280 for one pad, 224 for two); scale: upscaling of an
            array picture; css: an extra CSS class for the widget (for browser tests).

    Attributes after each change: ``inputs`` (the images given to ``show``), ``png``, ``caption``, ``seconds``
    (the update's duration); ``pads`` (the :class:`DrawingPad` widgets), ``index`` (their test-image boxes), ``load_buttons``,
    ``picture``, ``html``, ``previews`` (each pad's picture as the model sees it, 28x28 shown 3x).
    An empty pad is not an error: the caption says so and the picture is dimmed until there is ink again.
    """

    def __init__(self, show, images, start=0, labels=None, titles=None, size: int | None = None,
                 scale: int = 4, css: str = ""):
        _require_anywidget()
        self.images = np.asarray(images, dtype=np.float32)
        if self.images.ndim != 2 or self.images.shape[1] != SIDE * SIDE or len(self.images) == 0:
            raise ValueError(f"images must be test images of shape (n, 784), got {self.images.shape}")
        starts = tuple(start) if isinstance(start, (tuple, list)) else (start,)
        if not 1 <= len(starts) <= 2:
            raise ValueError(f"start gives one or two pads, got {len(starts)} entries")
        n = len(self.images)
        for s in starts:
            if s is not None and not (isinstance(s, (int, np.integer)) and 0 <= s < n):
                raise ValueError(f"start index {s!r} is not a test image: pick 0 to {n - 1}, or None for an empty pad")
        self._show, self.scale, self.starts = show, scale, starts
        self.labels = None if labels is None else np.asarray(labels)
        titles = titles or (("Draw a digit",) if len(starts) == 1 else ("Digit A", "Digit B"))
        size = size or (280 if len(starts) == 1 else 224)
        self.pads, self.index, self.load_buttons, self.previews, columns = [], [], [], [], []
        for s, title in zip(starts, titles):
            pad = DrawingPad(label=title, image=None if s is None else self.images[s], size=size)
            box = widgets.BoundedIntText(value=0 if s is None else int(s), min=0, max=n - 1,
                                         description="test image #",
                                         style={"description_width": "initial"},
                                         layout=widgets.Layout(width="175px"))
            box.add_class("aelib-pad-index")
            load = widgets.Button(description="load", tooltip="start this pad from the test image with that number",
                                  layout=widgets.Layout(width="62px"))
            load.add_class("aelib-pad-load")
            preview = widgets.Image(format="png")
            preview.add_class("aelib-pad-preview")
            box.observe(lambda change, p=pad: self._guarded(self._load, p, change["new"]), names="value")
            load.on_click(lambda _b, p=pad, b=box: self._guarded(self._load, p, b.value))
            pad.on_draw(lambda: self._guarded(self.update))
            self.pads.append(pad)
            self.index.append(box)
            self.load_buttons.append(load)
            self.previews.append(preview)
            seen = widgets.HTML('<span class="aelib-pad-seen">the model sees:</span>')
            columns.append(widgets.VBox([pad, widgets.HBox([box, load]), widgets.HBox([seen, preview])],
                                        layout=widgets.Layout(margin="0 12px 8px 0")))
            columns[-1].add_class("aelib-pad-column")
        self.picture = widgets.Image(format="png")
        self.picture.add_class("aelib-pad-picture")
        self.html = widgets.HTML()
        self.html.add_class("aelib-pad-caption")
        self.note = widgets.HTML(STATIC_NOTE)
        self.note.add_class("aelib-pad-static-note")
        help_ = widgets.HTML(f'<span style="font-size:90%">{PAD_HELP}</span>')
        help_.add_class("aelib-pad-help")
        pads_row = widgets.HBox(columns, layout=widgets.Layout(flex_flow="row wrap"))
        right = widgets.VBox([self.picture, self.html], layout=widgets.Layout(max_width="100%"))
        self.widget = widgets.VBox([self.note, widgets.HBox([pads_row, right],
                                                            layout=widgets.Layout(flex_flow="row wrap")), help_])
        self.widget.add_class("aelib-pad-explorer")
        if css:
            self.widget.add_class(css)
        self._guarded(self.update)

    @property
    def controls(self) -> list:
        """The controls a reader moves from the keyboard (the test-image boxes)."""
        return list(self.index)

    def _load(self, pad, i) -> None:
        pad.load(self.images[int(i)])

    def reset(self) -> None:
        """Each pad back at its starting picture (its first test image, or empty) and the boxes at their first
        values, as when the widget was first displayed."""
        super().reset()
        for pad, s in zip(self.pads, self.starts):
            if s is None:
                pad.clear()
            elif pad.strokes or pad.background != self.images[s].tolist():
                pad.load(self.images[s])

    def draw(self, strokes, pad: int = 0, on_top: bool = False) -> None:
        """Draw ``strokes`` (``[[x, y], ...]`` lists in pad pixels, as :func:`image_from_strokes` takes them) on pad
        number ``pad`` as a reader would: on the emptied pad (Clear, then draw), or with ``on_top`` over what it
        shows. The picture follows at once: for a chapter's checks and for tests."""
        if not 0 <= pad < len(self.pads):
            raise ValueError(f"pad {pad} does not exist: this widget has {len(self.pads)} pad"
                             f"{'s' if len(self.pads) > 1 else ''} (0 to {len(self.pads) - 1})")
        lines = [s.tolist() for s in _as_strokes(strokes)]
        p = self.pads[pad]
        if on_top:
            p.strokes = p.strokes + lines
        else:
            with p.hold_trait_notifications():
                p.strokes = lines
                p.background = []

    def update(self) -> None:
        """Convert every pad's picture, call ``show`` and display its picture and caption."""
        t0 = time.perf_counter()
        inputs, empty = [], []
        for i, (pad, preview) in enumerate(zip(self.pads, self.previews)):
            try:
                x = pad.image()
            except EmptyPadError:
                empty.append(i)
                preview.value = array_png(np.zeros((SIDE, SIDE), np.float32), scale=3)
                continue
            preview.value = array_png(x.reshape(SIDE, SIDE), scale=3)
            inputs.append(x)
        if empty:
            which = "" if len(self.pads) == 1 else f" ({', '.join(self.pads[i].label for i in empty)})"
            self.caption = f'<span class="aelib-pad-empty">The pad is empty{which}: draw a digit, or pick a test image.</span>'
            self.html.value = self.caption
            self.picture.add_class("aelib-pad-stale")
            self.error = None
            self.seconds = time.perf_counter() - t0
            return
        picture, caption = self._show(*inputs)
        if isinstance(picture, (bytes, bytearray)):
            png = bytes(picture)
        else:
            png = array_png(np.asarray(picture), scale=self.scale)
        self.inputs, self.png, self.caption = inputs, png, caption or ""
        self.picture.value = png
        width = f"{int.from_bytes(png[16:20], 'big')}px"       # a PNG's width: bytes 16-19 of its header
        if self.html.layout.max_width != width:             # the caption wraps under the picture instead of
            self.html.layout.max_width = width              # widening its column below the pads
        self.picture.remove_class("aelib-pad-stale")
        self.html.value = self.caption
        self.seconds = time.perf_counter() - t0
