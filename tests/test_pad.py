"""The drawing pad, kernel side: strokes to MNIST-like images, bad input, and the widget's callback path driven
by setting its traits in Python as the browser does."""
import json

import numpy as np
import pytest
from scipy import ndimage

from aelib import pad as padlib
from aelib.pad import EmptyPadError, check_image, image_from_strokes
from aelib.plots import array_png

RING = [[[14 + 7 * np.cos(a), 14 + 9 * np.sin(a)] for a in np.linspace(0, 2 * np.pi, 40)]]
ONE = [[[14, 4], [13, 24]]]
SEVEN = [[[6, 5], [21, 5], [12, 24]]]


def _box(img):
    rows = np.where(img.max(1) > 0.5)[0]
    cols = np.where(img.max(0) > 0.5)[0]
    return rows[0], rows[-1], cols[0], cols[-1]


@pytest.mark.parametrize("strokes", [RING, ONE, SEVEN, [[[2, 2], [6, 3]], [[4, 1], [4, 6]]]],
                         ids=["zero", "one", "seven", "small cross in a corner"])
def test_strokes_become_an_mnist_like_image(strokes):
    x = image_from_strokes(strokes)
    assert x.shape == (784,) and x.dtype == np.float32
    assert 0.0 <= x.min() and x.max() <= 1.0 and x.max() > 0.99          # the stroke's core is full ink
    img = x.reshape(28, 28)
    cy, cx = ndimage.center_of_mass(img)
    assert abs(cy - 14) < 0.3 and abs(cx - 14) < 0.3                      # centred by mass, as MNIST's
    r0, r1, c0, c1 = _box(img)
    assert max(r1 - r0, c1 - c0) + 1 <= 20 and max(r1 - r0, c1 - c0) + 1 >= 17   # the ink fills a 20x20 box
    frame = img.sum() - img[1:-1, 1:-1].sum()
    assert frame < 0.02 * img.sum()          # hardly any ink on the edge (a 7, heavy on top, reaches the bottom
                                             # rows after centring by mass, as 68 % of MNIST's 7s do)


def test_stroke_width_and_ink_like_mnist_digits_of_the_same_class(tmp_cache):
    from aelib import data
    x, y = data.load("mnist")
    for strokes, digit in ((RING, 0), (ONE, 1), (SEVEN, 7)):
        drawn = image_from_strokes(strokes)
        real = x[y == digit]
        for measure in (lambda a: a.sum(-1), lambda a: (a > 0.5).sum(-1), lambda a: (a > 0.004).sum(-1)):
            ratio = float(measure(drawn)) / float(measure(real).mean())
            assert 0.8 < ratio < 1.25, (digit, ratio)


def test_aspect_ratio_is_kept_and_a_drawing_is_the_same_wherever_and_however_big_it_was_drawn():
    tall = image_from_strokes(ONE).reshape(28, 28)
    r0, r1, c0, c1 = _box(tall)
    assert r1 - r0 >= 17 and c1 - c0 <= 4                                  # a 1 stays thin, not stretched
    small_in_corner = [[[2 + (p[0] - 6) / 3, 2 + (p[1] - 5) / 3] for p in SEVEN[0]]]
    assert np.abs(image_from_strokes(small_in_corner) - image_from_strokes(SEVEN)).max() < 0.02


def test_a_dot_and_points_outside_the_pad():
    dot = image_from_strokes([[[10, 10]]])
    assert dot.max() > 0.9 and (dot > 0.5).sum() < 200
    outside = image_from_strokes([[[-5, 14], [40, 14]]])                  # dragged past both edges
    assert np.array_equal(outside, image_from_strokes([[[0, 14], [28, 14]]]))


def test_a_loaded_test_image_round_trips_and_strokes_go_on_top_where_they_were_drawn():
    rng = np.random.default_rng(0)
    test = rng.random(784).astype(np.float32) * 0.5
    assert np.array_equal(image_from_strokes([], background=test), test)
    assert np.array_equal(image_from_strokes([[]], background=test.reshape(28, 28)), test)
    drawn = image_from_strokes([[[3, 3], [3, 10]]], background=test).reshape(28, 28)
    assert (drawn >= test.reshape(28, 28) - 1e-7).all()                  # nothing of the test image is lost
    assert drawn[3:10, 3].min() > 0.95 and np.allclose(drawn[:, 10:], test.reshape(28, 28)[:, 10:])


@pytest.mark.parametrize("strokes, background", [([], None), ([[]], None), ([], []), ([], np.zeros(784))])
def test_an_empty_pad_says_what_to_do(strokes, background):
    with pytest.raises(EmptyPadError, match="the pad is empty: draw a digit, or pick a test image"):
        image_from_strokes(strokes, background)


@pytest.mark.parametrize("strokes, message", [
    ("abc", "strokes must be a list of strokes"),
    (5, "strokes must be a list of strokes"),
    ([[[1, 2, 3]]], r"stroke 0 must be a list of \[x, y\] points"),
    ([[[1, 2]], [[1, "a"]]], r"stroke 1 is not a list of \[x, y\] points"),
    ([[[1, float("nan")]]], "stroke 0 has NaN"),
])
def test_bad_strokes_get_a_clear_message(strokes, message):
    with pytest.raises(ValueError, match=message):
        image_from_strokes(strokes)


@pytest.mark.parametrize("x, message", [
    (np.zeros(783), r"expected 784 values in \[0, 1\].*shape \(783,\)"),
    (np.zeros((2, 784)), r"shape \(2, 784\)"),
    (np.full(784, 255.0), r"values from 255 to 255: divide by 255"),
    (np.full(784, -0.5), r"values from -0.5 to -0.5"),
    (np.full(784, np.nan), "784 NaN or infinite"),
])
def test_images_given_directly_are_checked(x, message):
    with pytest.raises(ValueError, match=message):
        check_image(x)
    with pytest.raises(ValueError, match=message):
        image_from_strokes([], background=x)


def test_check_image_accepts_the_collections_shapes():
    x = np.linspace(0, 1, 784, dtype=np.float32)
    for shaped in (x, x[None], x.reshape(28, 28), x.astype(np.float64)):
        out = check_image(shaped)
        assert out.shape == (784,) and out.dtype == np.float32 and np.allclose(out, x)


def test_conversion_is_fast():
    import time
    strokes = [[[6 + i * 0.1, 5 + i * 0.15] for i in range(120)], SEVEN[0], RING[0]]
    image_from_strokes(strokes)
    t0 = time.perf_counter()
    for _ in range(20):
        image_from_strokes(strokes)
    assert (time.perf_counter() - t0) / 20 < 0.02                          # tens of updates a second


# ---- the widgets (need anywidget) --------------------------------------------------------------------------

anywidget = pytest.importorskip("anywidget", reason="the drawing pad widget needs anywidget")
from aelib.pad import DrawingPad, PadExplorer  # noqa: E402


def _images(n=5):
    rng = np.random.default_rng(1)
    return (rng.random((n, 784)) * np.linspace(0.2, 1, n)[:, None]).astype(np.float32)


def browser_sends(pad, strokes):
    """Set the traits as the browser does for one update: the strokes and its update counter, together."""
    with pad.hold_trait_notifications():
        pad.strokes = strokes
        pad.sent = pad.sent + 1


def test_pad_ships_its_javascript_and_css_and_syncs_json():
    p = DrawingPad(label="Your digit")
    state = p.get_state()
    assert "export default { render }" in state["_esm"] and "pointerdown" in state["_esm"]
    assert ".aelib-pad-canvas" in state["_css"] and "touch-action: none" in state["_css"]
    assert state["label"] == "Your digit" and state["size"] == 280 and state["strokes"] == []
    json.dumps({k: v for k, v in state.items() if k not in ("layout",)}, default=str)
    for path in (padlib.STATIC / "drawing_pad.js", padlib.STATIC / "drawing_pad.css"):
        assert path.is_file()


def test_pad_undo_clear_and_load_as_the_kernel_sees_them():
    images = _images()
    p = DrawingPad(image=images[2])
    assert np.array_equal(p.image(), images[2])                           # a loaded test image round-trips
    browser_sends(p, [[[3, 3], [3, 10]]])
    browser_sends(p, [[[3, 3], [3, 10]], [[20, 20], [25, 25]]])
    two = p.image()
    assert two.reshape(28, 28)[22, 22] > 0.9 and p.done == p.sent == 2    # the kernel acknowledged both
    p.undo()                                                              # the Undo button: drop the last one
    assert p.strokes == [[[3, 3], [3, 10]]]
    assert np.allclose(p.image().reshape(28, 28)[22, 22], images[2].reshape(28, 28)[22, 22], atol=1e-4)
    p.undo()
    assert np.allclose(p.image(), images[2], atol=1e-4)                    # back to the test image
    p.undo()                                                              # nothing left to undo: no change
    assert np.allclose(p.image(), images[2], atol=1e-4)
    p.clear()
    assert p.strokes == [] and p.background == []
    with pytest.raises(EmptyPadError):
        p.image()
    p.load(images[4])
    assert p.strokes == [] and np.allclose(p.image(), images[4], atol=1e-4)


def test_pad_calls_back_once_per_change_then_acknowledges():
    p = DrawingPad()
    calls = []
    p.on_draw(lambda: calls.append((p.sent, p.done)))
    browser_sends(p, [[[5, 5], [9, 20]]])
    assert calls == [(1, 0)] and p.done == 1          # called before the acknowledgement, once for two traits
    browser_sends(p, [[[5, 5], [9, 20]]])              # the same strokes again: acknowledged, nothing redrawn
    assert len(calls) == 1 and p.done == 2
    p.strokes = [[[1, 1]]]                             # from Python (a test, a chapter): called too
    assert len(calls) == 2


def _explorer(**kw):
    seen = []

    def show(*xs):
        seen.append([x.copy() for x in xs])
        pic = np.concatenate([x.reshape(28, 28) for x in xs], axis=1)
        return pic, f"{len(xs)} image(s), ink {sum(float(x.sum()) for x in xs):.1f}"
    return PadExplorer(show, _images(), **kw), seen


def test_explorer_shows_the_drawn_digit_and_follows_every_update():
    ex, seen = _explorer(start=1, labels=np.arange(5))
    assert len(seen) == 1 and np.allclose(seen[0][0], _images()[1], atol=1e-4)
    first_png, first_caption = ex.png, ex.caption
    assert ex.picture.value == ex.png and ex.html.value == ex.caption and ex.previews[0].value
    browser_sends(ex.pads[0], [[[2, 2], [2, 20]]])                      # a stroke on top of test image 1
    assert len(seen) == 2 and ex.png != first_png and ex.caption != first_caption
    assert np.allclose(ex.inputs[0], image_from_strokes([[[2, 2], [2, 20]]], _images()[1]))
    browser_sends(ex.pads[0], [[[2, 2], [2, 20]], [[10, 5], [18, 5]]])
    assert len(seen) == 3 and ex.error is None and ex.seconds < 1.0


def test_explorer_keyboard_path_loads_a_test_image_by_number():
    ex, seen = _explorer(start=0)
    browser_sends(ex.pads[0], [[[2, 2], [2, 20]]])
    ex.index[0].value = 3                                               # typed "3", Enter
    assert ex.pads[0].strokes == [] and np.allclose(ex.inputs[0], _images()[3], atol=1e-4)
    browser_sends(ex.pads[0], [[[2, 2], [2, 20]]])
    ex.pads[0].clear()
    assert "pad is empty" in ex.caption and "aelib-pad-stale" in ex.picture._dom_classes
    assert ex.error is None and "aelib-widget-error" not in ex.caption  # empty is not an error
    n = len(seen)
    ex.index[0].value = 3                                               # the same number: no change event ...
    assert len(seen) == n
    ex.load_buttons[0].click()                                          # ... so the load button does it
    assert len(seen) == n + 1 and "aelib-pad-stale" not in ex.picture._dom_classes


def test_explorer_with_an_empty_start_and_a_failing_show():
    def show(x):
        if x.sum() > 30:
            raise RuntimeError("too much ink for this chapter")
        return array_png(x.reshape(28, 28)), "ok"
    ex = PadExplorer(show, _images(), start=None)
    assert "pad is empty" in ex.caption and ex.error is None
    ex.pads[0].strokes = [[[14, 14]]]
    assert ex.caption == "ok" and ex.picture.value == ex.png
    ex.pads[0].strokes = RING
    assert isinstance(ex.error, RuntimeError)
    assert "aelib-widget-error" in ex.html.value and "too much ink" in ex.html.value


def test_two_pads_side_by_side_give_show_two_images():
    ex, seen = _explorer(start=(0, 4))
    assert len(ex.pads) == 2 and len(seen[-1]) == 2 and ex.pads[0].size == 224
    assert [p.label for p in ex.pads] == ["Digit A", "Digit B"]
    ex.pads[1].strokes = ONE
    assert np.allclose(seen[-1][0], _images()[0], atol=1e-4)
    assert np.allclose(seen[-1][1], image_from_strokes(ONE, _images()[4]))
    ex.pads[0].clear()
    assert "Digit A" in ex.caption and "empty" in ex.caption


def test_explorer_reset_puts_back_the_starting_pictures():
    from aelib import widgets as aw
    ex, seen = _explorer(start=(2, None))
    ex._first_shown = [c.value for c in ex.controls]  # as when displayed
    aw._SHOWN.append(ex)
    ex.pads[0].strokes = ONE
    ex.index[1].value = 3
    try:
        assert aw.reset_shown() >= 1
    finally:
        aw._SHOWN.remove(ex)
    assert ex.pads[0].strokes == [] and np.allclose(ex.pads[0].image(), _images()[2], atol=1e-4)
    assert ex.pads[1].background == [] and ex.index[1].value == 0


@pytest.mark.parametrize("kw, message", [
    ({"start": 9}, "start index 9 is not a test image: pick 0 to 4"),
    ({"start": (0, 1, 2)}, "one or two pads"),
])
def test_explorer_rejects_bad_arguments(kw, message):
    with pytest.raises(ValueError, match=message):
        PadExplorer(lambda x: (x, ""), _images(), **kw)
    with pytest.raises(ValueError, match=r"shape \(n, 784\)"):
        PadExplorer(lambda x: (x, ""), np.zeros((3, 64)))


def test_live_figure_redraws_only_its_moving_artists():
    import time

    from matplotlib.figure import Figure

    from aelib.pad import LiveFigure
    fig = Figure(figsize=(6, 3), dpi=100)
    ax, ax2 = fig.subplots(1, 2)
    rng = np.random.default_rng(0)
    ax.scatter(*rng.normal(size=(2, 3000)), s=3)
    ax.set_xlim(-4, 4)
    ax.set_ylim(-4, 4)
    point, = ax.plot([], [], "X", ms=14, color="crimson")
    recon = ax2.imshow(np.zeros((28, 28)), cmap="gray", vmin=0, vmax=1)
    live = LiveFigure(fig, [point, recon])
    first = live.rgba().copy()
    assert first.shape == (300, 600, 4)
    point.set_data([2.0], [2.0])
    recon.set_data(np.ones((28, 28)))
    t0 = time.perf_counter()
    png = live.png()
    seconds = time.perf_counter() - t0
    moved = live.rgba()
    assert png[:4] == b"\x89PNG" and not np.array_equal(first, moved)
    x, y = ax.transData.transform((2.0, 2.0))
    assert tuple(moved[int(round(300 - y)), int(round(x)), :3]) != (255, 255, 255)     # the marker is there
    point.set_data([], [])
    recon.set_data(np.zeros((28, 28)))
    assert np.array_equal(live.rgba(), first)                      # the background is restored, not drawn over
    assert seconds < 0.1


def test_reading_copy_assets_put_anywidgets_front_end_beside_the_pages(tmp_path):
    from aelib.pad import copy_reading_copy_assets
    written = copy_reading_copy_assets(tmp_path / "site")
    assert written == [tmp_path / "site" / "anywidget.js"]
    text = written[0].read_text(encoding="utf-8")
    assert 'define(["@jupyter-widgets/base"]' in text          # an AMD module for the HTML manager's require.js


# ---- the chapters' live figures: a latent point, a score, rows of images ------------------------------------

def _pixel(fig, ax, x, y):
    """The (row, column) pixel of data point (x, y) in ``ax`` of a figure drawn at its own size."""
    px, py = ax.transData.transform((x, y))
    return int(round(fig.bbox.height - py)), int(round(px))


def _inked(rgba, row, col, r=2):
    """Whether the pixels around (row, col) are not all white (something is drawn there)."""
    return (rgba[row - r:row + r + 1, col - r:col + r + 1, :3] < 200).any()


def test_latent_figure_moves_the_point_and_shows_the_reconstruction():
    from aelib.pad import LatentFigure
    rng = np.random.default_rng(0)
    codes, labels = rng.normal(size=(500, 2)).astype(np.float32), np.arange(500) % 10
    lf = LatentFigure(codes, labels, titles=["test codes"], image_title="its reconstruction")
    assert lf.fig.get_figwidth() * lf.fig.dpi <= 700                     # beside a pad at 1280x720
    first = lf.show([0.5, -0.5], image=np.zeros(784))
    assert first[:4] == b"\x89PNG" and lf.z.shape == (1, 2) and lf.outside == [False]
    png = lf.show(np.array([1.5, 1.0]), image=np.ones((28, 28)))
    assert png != first and np.allclose(lf.z, [[1.5, 1.0]])
    rgba = lf.rgba()
    ax, ax_img = lf.axes[0], lf.image_axes
    assert _inked(rgba, *_pixel(lf.fig, ax, 1.5, 1.0))                     # the cross is where the code is
    assert tuple(rgba[_pixel(lf.fig, ax_img, 14, 14)][:3]) == (255, 255, 255)   # an all-ink reconstruction
    lf.show([40.0, 0.0])                                                   # far outside the window
    x0, x1 = ax.get_xlim()
    assert lf.outside == [True] and lf.points[0].get_xdata()[0] == pytest.approx(x1)


def test_latent_figure_draws_q_of_z_as_ellipses_on_the_prior_in_several_panels():
    from aelib.pad import LatentFigure
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=(300, 2)), 0.3 * rng.normal(size=(300, 2))
    lf = LatentFigure([a, b], np.arange(300) % 10, titles=["β = 1", "β = 4"], prior=True, ellipse=True)
    assert len(lf.axes) == 2 and lf.image_axes is None
    for ax in lf.axes:                                                     # the prior's 2σ circle fits
        assert ax.get_xlim()[1] >= 3 and ax.get_ylim()[1] >= 3 and ax.get_xlim()[0] == -ax.get_xlim()[1]
    lf.show([[0.0, 0.0], [1.0, -1.0]], sigma=[[0.5, 0.2], [1.0, 1.0]])
    one, two = lf.ellipses[0]                                              # 1σ and 2σ of the first panel
    assert one.width == pytest.approx(1.0) and one.height == pytest.approx(0.4)
    assert two.width == pytest.approx(2.0) and two.height == pytest.approx(0.8)
    assert lf.ellipses[1][0].center == pytest.approx((1.0, -1.0))
    rgba = lf.rgba()
    r, c = _pixel(lf.fig, lf.axes[0], 1.0, 0.0)                            # the 2σ ellipse's right end
    assert _inked(rgba, r, c)
    with pytest.raises(ValueError, match=r"sigma.*standard deviations of q\(z\|x\)"):
        lf.show([[0.0, 0.0], [1.0, -1.0]])
    with pytest.raises(ValueError, match=r"one code per panel: expected z of shape \(2,\) or \(2, 2\)"):
        lf.show([1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="sigma must be positive"):
        lf.show([[0.0, 0.0], [1.0, -1.0]], sigma=[[0.0, 1.0], [1.0, 1.0]])


def test_latent_figure_rejects_codes_that_are_not_2d():
    from aelib.pad import LatentFigure
    with pytest.raises(ValueError, match=r"2-D codes of shape \(n, 2\)"):
        LatentFigure(np.zeros((10, 3)))
    with pytest.raises(ValueError, match="one title per panel"):
        LatentFigure([np.zeros((4, 2))] * 2, titles=["only one"])


def test_score_figure_marks_the_score_against_the_histograms_and_the_threshold():
    from aelib.pad import ScoreFigure
    rng = np.random.default_rng(2)
    normal, odd = rng.gamma(4, 5, 900), rng.gamma(9, 5, 100)
    sf = ScoreFigure({"normal": normal, "anomalies": odd}, threshold=40.0, image_title="yours | rebuilt")
    first = sf.show(12.0, image=np.zeros((28, 56)))
    assert sf.score == 12.0 and not sf.beyond
    assert sf.marker.get_xdata()[0] == pytest.approx(12.0)
    png = sf.show(55.0, image=np.ones((28, 56)))
    assert png != first and "55" in sf.label.get_text()
    rgba = sf.rgba()
    ax = sf.axes
    r, _ = _pixel(sf.fig, ax, 55.0, 0.0)
    _, c = _pixel(sf.fig, ax, 55.0, 0.0)
    assert _inked(rgba, r - 20, c, r=1)                                    # the marker line stands at 55
    sf.show(1e6)                                                           # far beyond the histograms
    assert sf.beyond and sf.marker.get_xdata()[0] == pytest.approx(ax.get_xlim()[1])
    assert "1e+06" in sf.label.get_text() or "1000000" in sf.label.get_text()
    with pytest.raises(ValueError, match="a finite number"):
        sf.show(float("nan"))
    with pytest.raises(ValueError, match="at least one set of scores"):
        ScoreFigure({}, threshold=1.0)


def test_image_rows_show_named_rows_with_notes_under_the_images():
    from aelib.pad import ImageRows
    rows = ImageRows(["gaussian 0.5", "masking 0.5"], ["noisy", "plain AE", "denoising AE"], notes=True)
    images = np.zeros((2, 3, 784), np.float32)
    first = rows.show(images, [["1 dB", "2 dB", "3 dB"], ["4 dB", "5 dB", "6 dB"]])
    images[1, 2] = 1.0
    png = rows.show(images, [["1 dB", "2 dB", "3 dB"], ["4 dB", "5 dB", "9.9 dB"]])
    assert png != first and rows.notes[1][2].get_text() == "9.9 dB"
    assert np.array_equal(rows.images, images)
    flat = rows.show(images.reshape(6, 784), [[""] * 3] * 2)               # (rows * columns, 784) works too
    assert flat[:4] == b"\x89PNG"
    with pytest.raises(ValueError, match=r"2 rows of 3 images \(784 values each\)"):
        rows.show(np.zeros((5, 784)))
    with pytest.raises(ValueError, match="one note per image"):
        rows.show(images, [["a"]])
    plain = ImageRows(["pixels", "VAE, spherical"], ["A"] + [""] * 7 + ["B"])
    assert plain.fig.get_figwidth() * plain.fig.dpi <= 700
    plain.show(np.zeros((2, 9, 784)))


def test_explorer_draw_starts_a_pad_over_with_strokes_as_a_reader_would():
    ex, seen = _explorer(start=(0, 2))
    first = ex.png
    ex.draw(ONE, pad=1)
    assert ex.pads[1].background == [] and ex.pads[1].strokes == ONE
    assert np.allclose(seen[-1][1], image_from_strokes(ONE)) and ex.png != first
    ex.draw(SEVEN, pad=1, on_top=True)                                    # on top of the 1
    assert ex.pads[1].strokes == ONE + SEVEN
    with pytest.raises(ValueError, match="pad 2 does not exist: this widget has 2 pads"):
        ex.draw(ONE, pad=2)


def test_explorer_caption_wraps_within_the_pictures_width():
    """A long caption must wrap under the picture, not widen the picture's column until it drops below the pads."""
    ex, _ = _explorer(start=0)
    width = int.from_bytes(ex.png[16:20], "big")                           # the PNG's width in pixels
    assert width == 28 * ex.scale and ex.html.layout.max_width == f"{width}px"
    ex2 = PadExplorer(lambda x: (np.zeros((28, 100)), "a caption " * 30), _images(), start=0, scale=2)
    assert ex2.html.layout.max_width == "200px"
