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
from PIL import Image as PILImage
from PIL import ImageDraw
from scipy import ndimage

from .plots import array_png
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
                                         layout=widgets.Layout(width="200px"))
            box.add_class("aelib-pad-index")
            load = widgets.Button(description="load", tooltip="start this pad from the test image with that number",
                                  layout=widgets.Layout(width="70px"))
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
        self.picture.remove_class("aelib-pad-stale")
        self.html.value = self.caption
        self.seconds = time.perf_counter() - t0
