"""Reusable widgets. Pictures are ``ipywidgets.Image`` fed PNG bytes: a slider move costs milliseconds.

Each widget keeps the state its callback computed (``.png``, ``.decoded``, ``.z``, ``.caption``), so
tests can set a control's ``.value`` and check what the reader would see, without a browser.
Every widget has a CSS class (``aelib-…``) so browser tests can find it.
"""
from __future__ import annotations

import asyncio
import html
import itertools
import time
from collections import OrderedDict

import ipywidgets as widgets
import numpy as np
import torch
from IPython.display import display
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from .data import NOISES, corrupt
from .hints import hint
from .metrics import psnr
from .plots import array_png, canvas_png, latent_scatter, show_figure, tile
from .runtime import batched_numpy, to_numpy


def error_html(err: BaseException) -> str:
    """The message a widget shows in place of its caption when its callback failed (for a name the notebook
    has not made yet, with the cell to run first: :func:`aelib.hints.hint`)."""
    more = hint(err)
    more = f"<br>{html.escape(more)}" if more else ""
    return (f'<div class="aelib-widget-error" style="color:#b00020;font-weight:bold">This picture did not update: '
            f'{type(err).__name__}: {html.escape(str(err))}{more}</div>')


class _Widget:
    """What every aelib widget shares: display as its ``widget`` box, and callbacks whose errors are shown.

    An exception inside a callback would otherwise go to JupyterLab's log console and leave a frozen picture
    with no sign: :meth:`_guarded` catches it, keeps it as ``error`` and shows it in the widget's caption
    (the HTML widget named by ``_message``). The next successful update clears it.
    """

    error = None
    _message = "html"

    def _guarded(self, fn, *args, **kwargs) -> None:
        try:
            fn(*args, **kwargs)
        except Exception as err:  # shown to the reader instead of vanishing into a log
            self.error = err
            getattr(self, self._message).value = error_html(err)
        else:
            self.error = None

    def _ipython_display_(self):
        if getattr(self, "_first_shown", None) is None:
            self._first_shown = [c.value for c in self.controls]
            _SHOWN.append(self)
        display(self.widget)

    def reset(self) -> None:
        """Put the controls back at the values they had when the widget was first displayed (each change runs
        its callback, so the picture follows). A widget never displayed is left as it is."""
        for control, value in zip(self.controls, getattr(self, "_first_shown", None) or []):
            if control.value != value:
                control.value = value


_SHOWN: list = []


def reset_shown() -> int:
    """Put every widget displayed so far in this kernel back as it was first shown; return how many moved.

    For a lecturer who has dragged sliders during a class and wants every picture back at its start without
    running the notebook again; the tests call it too, after they move each notebook's controls
    (tests/widget_checks.py), and check that nothing is left moved.
    """
    moved = 0
    for w in _SHOWN:
        before = [c.value for c in w.controls]
        w.reset()
        moved += before != [c.value for c in w.controls]
    return moved


class LatentExplorer(_Widget):
    """Move a point in a 2-D latent space with two sliders; see where it is and what it decodes to.

    Arguments:
        decode: maps codes ``(n, 2)`` to images ``(n, h*w)`` in [0, 1]: a model's ``decode`` method
            (run without gradients on the model's device) or any function of a numpy array.
        codes: optional ``(n, 2)`` codes of real images, drawn as a coloured map behind the point.
        labels: optional ``(n,)`` digit labels for the colours.
        image_shape: ``(h, w)`` of one decoded image.
        extent: ``(xmin, xmax, ymin, ymax)`` of the sliders and the map (default: the codes' range
            plus a margin, or [-3, 3]^2).
        start: the first point ``(z1, z2)``; default the centre of ``extent``.
        title: shown above the map.

    Attributes after each move: ``z`` (the point), ``decoded`` (``(h, w)`` array), ``png`` (the decoded
    picture's PNG bytes), ``map_png`` (the map's), ``seconds`` (the update's duration).
    """

    def __init__(self, decode, codes=None, labels=None, image_shape=(28, 28), extent=None, start=None,
                 title: str = "latent space", map_pixels: int = 380, scale: int = 7):
        self._decode_fn = decode
        self.image_shape = tuple(image_shape)
        self.codes = None if codes is None else to_numpy(codes)
        self.labels = None if labels is None else to_numpy(labels)
        if self.codes is not None and (self.codes.ndim != 2 or self.codes.shape[1] != 2):
            raise ValueError(f"LatentExplorer needs 2-D codes of shape (n, 2), got {self.codes.shape}: "
                             f"train a model with code_dim=2")
        if self.codes is not None and not np.isfinite(self.codes).all():
            bad = int((~np.isfinite(self.codes)).any(1).sum())
            raise ValueError(f"{bad} of the {len(self.codes)} codes are NaN or infinite: the model that made them "
                             "diverged or was given NaN inputs. Retrain it (a lower learning rate), or drop those rows")
        self.collapsed = False
        if extent is None:
            if self.codes is not None and len(self.codes):
                lo, hi = np.percentile(self.codes, [0.5, 99.5], axis=0)
                flat = (hi - lo) <= 1e-6 * np.maximum(1.0, np.abs(lo))   # all codes (nearly) equal on an axis
                self.collapsed = bool(flat.any())
                lo, hi = np.where(flat, lo - 1.0, lo), np.where(flat, hi + 1.0, hi)
                pad = 0.1 * (hi - lo)
                extent = (lo[0] - pad[0], hi[0] + pad[0], lo[1] - pad[1], hi[1] + pad[1])
            else:
                extent = (-3.0, 3.0, -3.0, 3.0)
        if self.collapsed:
            title += " (codes all equal: collapsed)"
        self.extent = tuple(float(e) for e in extent)
        if not (self.extent[0] < self.extent[1] and self.extent[2] < self.extent[3]):
            raise ValueError(f"extent must be (xmin, xmax, ymin, ymax) with min < max, got {self.extent}")
        self.scale = scale
        self._background, self._to_pixel = self._draw_map(title, map_pixels)
        x0, x1, y0, y1 = self.extent
        start = start if start is not None else ((x0 + x1) / 2, (y0 + y1) / 2)
        step = (x1 - x0) / 100
        self.x_slider = widgets.FloatSlider(value=start[0], min=x0, max=x1, step=step, description="z₁",
                                            continuous_update=True, readout_format=".2f")
        self.y_slider = widgets.FloatSlider(value=start[1], min=y0, max=y1, step=(y1 - y0) / 100,
                                            description="z₂", continuous_update=True, readout_format=".2f")
        self.map_image = widgets.Image(format="png")
        self.image = widgets.Image(format="png")
        self.label = widgets.HTML()
        self._message = "label"
        self.map_image.add_class("aelib-latent-map")
        self.image.add_class("aelib-latent-decoded")
        for s in (self.x_slider, self.y_slider):
            s.add_class("aelib-latent-slider")
            s.observe(self._on_change, names="value")
        self.widget = widgets.HBox([
            self.map_image,
            widgets.VBox([self.image, self.label, self.x_slider, self.y_slider]),
        ])
        self.widget.add_class("aelib-latent-explorer")
        self.update()

    def _draw_map(self, title, pixels):
        dpi = 100
        fig = Figure(figsize=(pixels / dpi, pixels / dpi), dpi=dpi)
        FigureCanvasAgg(fig)
        ax = fig.add_axes((0.21, 0.14, 0.75, 0.77))     # room for tick labels like -15 and z1, z2 at 12-13 pt
        if self.codes is not None:
            latent_scatter(self.codes, self.labels, ax=ax, s=6, alpha=0.6)
        ax.set_xlim(self.extent[0], self.extent[1])
        ax.set_ylim(self.extent[2], self.extent[3])
        ax.set_title(title, fontsize=13)
        fig.canvas.draw()
        rgba = np.asarray(fig.canvas.buffer_rgba()).copy()
        height = rgba.shape[0]
        trans = ax.transData

        def to_pixel(x, y):
            px, py = trans.transform((x, y))
            return int(round(px)), int(round(height - py))
        return rgba, to_pixel

    def _marker(self, z):
        img = self._background.copy()
        c, r = self._to_pixel(*z)
        h, w = img.shape[:2]
        red = np.array([220, 20, 60, 255], dtype=np.uint8)
        for d in range(-9, 10):
            for t in (-1, 0, 1):
                if 0 <= r + t < h and 0 <= c + d < w and abs(d) > 2:
                    img[r + t, c + d] = red
                if 0 <= r + d < h and 0 <= c + t < w and abs(d) > 2:
                    img[r + d, c + t] = red
        return img

    def decode(self, z) -> np.ndarray:
        """Decode one point ``(2,)`` to an image ``(h, w)``."""
        z = np.asarray(z, dtype=np.float32).reshape(1, 2)
        fn = self._decode_fn
        owner = getattr(fn, "__self__", None)
        if isinstance(owner, torch.nn.Module) or isinstance(fn, torch.nn.Module):
            out = batched_numpy(fn, z)
        else:
            out = np.asarray(fn(z))
        return np.asarray(out, dtype=np.float32).reshape(self.image_shape)

    def update(self) -> None:
        """Recompute the picture for the sliders' current values."""
        t0 = time.perf_counter()
        self.z = (float(self.x_slider.value), float(self.y_slider.value))
        self.decoded = self.decode(self.z)
        self.png = array_png(self.decoded, scale=self.scale)
        self.map_png = array_png(self._marker(self.z), scale=1)
        self.image.value = self.png
        self.map_image.value = self.map_png
        text = f"z = ({self.z[0]:+.2f}, {self.z[1]:+.2f})"
        if self.collapsed:
            text += ("<br>every code is the same on at least one axis: the encoder ignores its input there "
                     "(the map shows a window of ±1 around it)")
        if self.codes is not None and self.labels is not None and len(self.codes):
            i = int(np.argmin(((self.codes - np.array(self.z)) ** 2).sum(1)))
            text += f"<br>nearest real code: a <b>{int(self.labels[i])}</b>"
        self.label.value = text
        self.seconds = time.perf_counter() - t0

    def _on_change(self, change) -> None:
        self._guarded(self.update)

    @property
    def controls(self) -> list:
        """The controls a reader moves (for tests and the benchmark)."""
        return [self.x_slider, self.y_slider]


class ImageBrowser(_Widget):
    """Browse precomputed pictures with a slider or dropdown: a change only swaps PNG bytes (under 1 ms).

    Arguments:
        frames: ``{option: 2-D array in [0, 1]}`` (e.g. from :func:`aelib.plots.tile`), in slider order;
            with ``axes``, keyed by tuples of options instead, one entry per combination.
        captions: optional ``{key: html}`` shown under the picture.
        description: the control's label (one control).
        control: ``"slider"`` or ``"dropdown"`` (one control).
        value: the first key shown (default the first).
        axes: optional ``{name: [options]}`` for several controls, e.g. ``{"width": [4, 16], "noise": ["none", "l1"]}``:
            one control per axis (a slider for numbers, a dropdown otherwise); frames are keyed by tuples.
        scale: pixel upscaling of the pictures.
        css: an extra CSS class for the widget (for browser tests).

    Attributes: ``value`` (the current key), ``png``, ``caption``.
    """

    def __init__(self, frames: dict, captions: dict | None = None, description: str = "",
                 control: str = "slider", value=None, axes: dict | None = None, scale: int = 3, css: str = ""):
        if not frames:
            raise ValueError("ImageBrowser needs at least one frame")
        self._png = {k: array_png(np.asarray(v), scale=scale) for k, v in frames.items()}
        self._captions = dict(captions or {})
        if control not in ("slider", "dropdown"):
            raise ValueError(f"control must be 'slider' or 'dropdown', got {control!r}")
        if axes:
            missing = [k for k in _product(axes) if k not in self._png]
            if missing:
                raise ValueError(f"frames lack {len(missing)} combinations of the axes, e.g. {missing[0]}")
            self._controls = []
            for name, options in axes.items():
                numeric = all(isinstance(o, (int, float)) and not isinstance(o, bool) for o in options)
                cls = widgets.SelectionSlider if numeric else widgets.Dropdown
                self._controls.append(cls(options=list(options), description=name))
        else:
            self.options = list(frames)
            cls = widgets.SelectionSlider if control == "slider" else widgets.Dropdown
            self._controls = [cls(options=self.options, description=description)]
        self._axes = axes
        if value is not None:
            for c, v in zip(self._controls, value if axes else (value,)):
                c.value = v
        self.control = self._controls[0]
        self.image = widgets.Image(format="png")
        self.html = widgets.HTML()
        for c in self._controls:
            c.observe(lambda change: self._guarded(self.update), names="value")
        self.widget = widgets.VBox([widgets.HBox(self._controls), self.image, self.html])
        self.widget.add_class("aelib-image-browser")
        if css:
            self.widget.add_class(css)
        self.update()

    def update(self) -> None:
        """Show the picture and caption for the controls' current values."""
        vals = tuple(c.value for c in self._controls)
        self.value = vals if self._axes else vals[0]
        self.png = self._png[self.value]
        self.caption = self._captions.get(self.value, "")
        self.image.value = self.png
        self.html.value = self.caption

    @property
    def controls(self) -> list:
        """The controls a reader moves (for tests and the benchmark)."""
        return list(self._controls)


def _product(axes: dict) -> list:
    return list(itertools.product(*axes.values()))


class FigureControls(_Widget):
    """Controls that redraw one kept matplotlib figure, shown as a PNG.

    Arguments:
        draw: ``draw(fig, **values)`` draws into the (cleared) figure; it may return an html caption.
            ``values`` are the controls' current values, by the names given in ``controls``. It must depend
            on ``values`` alone: pictures are kept and reused (below).
        controls: ``{name: ipywidget}`` e.g. ``{"beta": FloatSlider(...)}``.
        figsize: inches; dpi: resolution of the PNG.
        css: an extra CSS class for the widget (for browser tests).
        prefetch: after a move, draw the pictures one step further either side of the control just moved
            (a slider's next values, a dropdown's neighbouring choices) while the kernel is idle, so that the
            next move shows a ready picture. Only inside a running kernel; off for ``False``.

    A redraw costs a few hundred milliseconds (building the axes, rendering, PNG encoding; BENCHMARKS.md has this
    machine's "Widget latency"). Each picture is
    kept (up to ``cache_size``, oldest dropped first), so values seen before come back in about a millisecond,
    and the prefetch makes the usual move, one step at a time, just as fast once the kernel has had a moment.

    Attributes after each change: ``values``, ``png``, ``caption``, ``cached`` (whether the picture was
    ready); ``fig`` is the kept figure.
    """

    redraws_figure = True
    cache_size = 64
    prefetch_delay = 0.05   # seconds of quiet after a change before the neighbours are drawn

    def __init__(self, draw, controls: dict, figsize=(8, 3), dpi: int = 80, css: str = "",
                 prefetch: bool = True):

        if not controls:
            raise ValueError("FigureControls needs at least one control")
        self._draw, self._controls, self.dpi = draw, dict(controls), dpi
        self.prefetch = prefetch
        self._cache: OrderedDict = OrderedDict()
        self._pending = None
        self._last_moved = None
        self.fig = Figure(figsize=figsize, dpi=dpi)
        FigureCanvasAgg(self.fig)
        self.image = widgets.Image(format="png")
        self.html = widgets.HTML()
        for name, c in self._controls.items():
            c.observe(lambda change, name=name: self._changed(name), names="value")
        self.widget = widgets.VBox([widgets.HBox(list(self._controls.values())), self.image, self.html])
        self.widget.add_class("aelib-figure-controls")
        if css:
            self.widget.add_class(css)
        self.update()

    @property
    def controls(self) -> list:
        """The controls a reader moves (for tests and the benchmark)."""
        return list(self._controls.values())

    def still(self) -> None:
        """Show the picture the controls show now as an ordinary figure, with its caption printed as plain text
        (what a saved or exported notebook, or a viewer without widgets, shows in place of the widget). Called
        before the widget is moved, it is exactly the widget's first picture: one source for both. Returns nothing,
        so that it can end a cell without echoing the caption."""
        show_figure(self._draw, figsize=tuple(self.fig.get_size_inches()), **self.values)

    @staticmethod
    def _key(values: dict) -> tuple:
        return tuple((k, round(v, 9) if isinstance(v, float) else v) for k, v in values.items())

    def _render(self, values: dict) -> tuple:
        self.fig.clear()
        caption = self._draw(self.fig, **values) or ""
        return canvas_png(self.fig), caption      # the draw function lays the figure out

    def _picture(self, values: dict) -> tuple:
        key = self._key(values)
        if key in self._cache:
            self._cache.move_to_end(key)
            return self._cache[key], True
        picture = self._render(values)
        self._cache[key] = picture
        while len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)
        return picture, False

    def cache_clear(self) -> None:
        """Forget the kept pictures (frees their memory; the next move draws again, as the first draw did)."""
        self._cache.clear()

    def _changed(self, name: str) -> None:
        self._last_moved = name
        self._guarded(self.update)

    def update(self) -> None:
        """Show the picture for the controls' current values (drawn now, or kept from before)."""
        self.values = {k: c.value for k, c in self._controls.items()}
        (self.png, self.caption), self.cached = self._picture(self.values)
        self.image.value = self.png
        self.html.value = self.caption
        self._schedule_prefetch()

    def neighbours(self) -> list[dict]:
        """The values one move of the last-moved control away from the current ones (its likely next move;
        none before any control has moved)."""
        if self._last_moved not in self._controls:
            return []
        return [{**self.values, self._last_moved: v} for v in _steps(self._controls[self._last_moved])]

    def _schedule_prefetch(self) -> None:
        if not self.prefetch:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:              # not inside a running kernel (tests, scripts): nothing to do
            return
        if self._pending is not None:
            self._pending.cancel()
        todo = [v for v in self.neighbours() if self._key(v) not in self._cache]

        def step():
            self._pending = None
            while todo and self._key(todo[0]) in self._cache:
                todo.pop(0)
            if not todo:
                return
            try:
                self._picture(todo.pop(0))
            except Exception:             # a neighbour that cannot be drawn is simply not kept
                return
            self._pending = loop.call_later(0.0, step)
        self._pending = loop.call_later(self.prefetch_delay, step)


def _steps(control) -> list:
    """The values one step either side of a control's current value (sliders and dropdowns)."""
    options = getattr(control, "options", None)
    if options is not None:
        labels = [o[1] if isinstance(o, tuple) else o for o in options]
        i = getattr(control, "index", None)
        if i is None:
            return []
        return [labels[j] for j in (i + 1, i - 1) if 0 <= j < len(labels)]
    step = getattr(control, "step", None)
    lo, hi = getattr(control, "min", None), getattr(control, "max", None)
    if step is None or lo is None or isinstance(control.value, bool):
        return []
    v = control.value
    return [type(v)(w) for w in (v + step, v - step) if lo <= w <= hi]


class DenoisingExplorer(_Widget):
    """Pick a noise type, a noise level and a test image; see the noisy input and each model's output.

    Arguments:
        images: clean images ``(n, h*w)`` in [0, 1] to choose from.
        denoisers: ``{name: fn}`` where ``fn(noisy, kind)`` maps noisy images ``(m, h*w)`` to outputs
            ``(m, h*w)``; ``kind`` is the noise type, so a function may pick the model trained for it.
        levels: ``{kind: max_level}`` for the noise types offered (see :func:`aelib.data.corrupt`).
        image_shape: ``(h, w)``; scale: pixel upscaling; seed: the noise draw (fixed per image, so moving
            the level slider changes only the level).

    Attributes after each change: ``noisy`` ``(h*w,)``, ``outputs`` ``{name: (h*w,)}``, ``psnr``
    ``{"noisy": dB, name: dB}``, ``png``, ``caption``.
    """

    def __init__(self, images, denoisers: dict, levels: dict, image_shape=(28, 28), value=None,
                 scale: int = 4, seed: int = 0):
        unknown = set(levels) - set(NOISES)
        if unknown:
            raise ValueError(f"unknown noise types {sorted(unknown)}: choose from {', '.join(NOISES)}")
        if not denoisers:
            raise ValueError("DenoisingExplorer needs at least one denoiser")
        for kind, top in levels.items():
            if not (isinstance(top, (int, float)) and np.isfinite(top) and top > 0):
                raise ValueError(f"levels[{kind!r}] must be a positive number (the slider's maximum), got {top!r}")
            if kind != "gaussian" and top > 1:
                raise ValueError(f"levels[{kind!r}] = {top}: {kind} noise takes a fraction of the pixels, "
                                 "so its maximum must be at most 1")
        self.images = np.asarray(images, dtype=np.float32)
        self.denoisers, self.levels = dict(denoisers), dict(levels)
        self.image_shape, self.scale, self.seed = tuple(image_shape), scale, seed
        kind0 = next(iter(levels))
        self.kind = widgets.Dropdown(options=list(levels), value=kind0, description="noise")
        self.level = widgets.FloatSlider(value=levels[kind0] / 2, min=0.0, max=levels[kind0], step=levels[kind0] / 20,
                                         description="level", readout_format=".2f")
        self.index = widgets.IntSlider(value=0, min=0, max=len(self.images) - 1, description="image")
        self.image = widgets.Image(format="png")
        self.html = widgets.HTML()
        self.kind.observe(self._on_kind, names="value")
        for c in (self.level, self.index):
            c.observe(lambda change: self._guarded(self.update), names="value")
        self.widget = widgets.VBox([widgets.HBox([self.kind, self.level, self.index]), self.image, self.html])
        self.widget.add_class("aelib-denoising-explorer")
        self.update()

    def _on_kind(self, change) -> None:
        mx = self.levels[self.kind.value]
        with self.level.hold_trait_notifications():
            self.level.max, self.level.step = mx, mx / 20
            self.level.value = min(self.level.value, mx)
        self._guarded(self.update)

    @property
    def controls(self) -> list:
        """The controls a reader moves (for tests and the benchmark)."""
        return [self.kind, self.level, self.index]

    def update(self) -> None:
        """Corrupt the chosen image, run every denoiser, and show the row with PSNRs."""
        clean = self.images[self.index.value][None]
        kind, level = self.kind.value, float(self.level.value)
        self.noisy = corrupt(clean, kind, level, seed=self.seed + int(self.index.value))[0]
        self.outputs = {name: np.clip(np.asarray(fn(self.noisy[None], kind), dtype=np.float32)[0], 0, 1)
                        for name, fn in self.denoisers.items()}
        self.psnr = {"noisy": float(psnr(self.noisy[None], clean)[0])}
        self.psnr.update({name: float(psnr(out[None], clean)[0]) for name, out in self.outputs.items()})
        row = np.stack([clean[0], np.clip(self.noisy, 0, 1), *self.outputs.values()])
        self.png = array_png(tile(row, self.image_shape, ncols=len(row), pad=2), scale=self.scale)
        self.image.value = self.png
        names = ["clean", f"noisy ({self.psnr['noisy']:.1f} dB)"] + [f"{n} ({self.psnr[n]:.1f} dB)" for n in self.outputs]
        self.caption = f"{kind} noise, level {level:.2f}. Left to right: " + " | ".join(names)
        self.html.value = self.caption


class InterpolationExplorer(_Widget):
    """Pick two images and a position t between them; see each method's path and its frame at t.

    Arguments:
        images: ``(n, h*w)`` images to pick the endpoints from (by index).
        paths: ``{name: fn(x_a, x_b, ts)}`` where ``x_a``, ``x_b`` are ``(h*w,)`` images, ``ts`` a 1-D array in
            [0, 1], and the result ``(len(ts), h*w)`` images: e.g. a crossfade in pixel space, or decode(lerp of codes).
        labels: optional ``(n,)`` labels shown in the caption.
        frames: how many path frames each row shows; start: ``(a, b)`` indices.

    Attributes after each change: ``rows`` ``{name: (frames, h*w)}`` (the paths), ``current``
    ``{name: (h*w,)}`` (the frames at ``t``), ``png``, ``caption``. Moving only ``t`` recomputes one frame per method.
    """

    def __init__(self, images, paths: dict, labels=None, image_shape=(28, 28), frames: int = 9,
                 start=(0, 1), scale: int = 3):
        if not paths:
            raise ValueError("InterpolationExplorer needs at least one path function")
        self.images = np.asarray(images, dtype=np.float32)
        self.paths, self.labels = dict(paths), None if labels is None else np.asarray(labels)
        self.image_shape, self.n_frames, self.scale = tuple(image_shape), frames, scale
        n = len(self.images) - 1
        self.a = widgets.IntSlider(value=start[0], min=0, max=n, description="image A")
        self.b = widgets.IntSlider(value=start[1], min=0, max=n, description="image B")
        self.t = widgets.FloatSlider(value=0.5, min=0.0, max=1.0, step=0.05, description="t")
        self.image = widgets.Image(format="png")
        self.html = widgets.HTML()
        self.a.observe(lambda c: self._guarded(self.update, endpoints=True), names="value")
        self.b.observe(lambda c: self._guarded(self.update, endpoints=True), names="value")
        self.t.observe(lambda c: self._guarded(self.update, endpoints=False), names="value")
        self.widget = widgets.VBox([widgets.HBox([self.a, self.b, self.t]), self.image, self.html])
        self.widget.add_class("aelib-interpolation-explorer")
        self.update(endpoints=True)

    @property
    def controls(self) -> list:
        """The controls a reader moves (for tests and the benchmark)."""
        return [self.a, self.b, self.t]

    def update(self, endpoints: bool = True) -> None:
        """Recompute the paths (if the endpoints changed) and the frames at t; redraw."""
        xa, xb = self.images[self.a.value], self.images[self.b.value]
        ts = np.linspace(0.0, 1.0, self.n_frames)
        if endpoints or not hasattr(self, "rows"):
            self.rows = {name: np.asarray(fn(xa, xb, ts), dtype=np.float32) for name, fn in self.paths.items()}
        t = float(self.t.value)
        self.current = {name: np.asarray(fn(xa, xb, np.array([t])), dtype=np.float32)[0]
                        for name, fn in self.paths.items()}
        h, w = self.image_shape
        blank = np.ones((1, h * w), dtype=np.float32)
        rows = [np.concatenate([self.rows[k], blank, self.current[k][None]]) for k in self.paths]
        self.png = array_png(tile(np.concatenate(rows), self.image_shape, ncols=self.n_frames + 2), scale=self.scale)
        self.image.value = self.png
        lab = "" if self.labels is None else f" (a {self.labels[self.a.value]} to a {self.labels[self.b.value]})"
        self.caption = (f"image {self.a.value} to image {self.b.value}{lab}. Rows, top to bottom: "
                        + ", ".join(self.paths) + f"; the last column is the frame at t = {t:.2f}")
        self.html.value = self.caption
