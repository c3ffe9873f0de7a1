import time

import numpy as np
import pytest
import torch

from aelib.models import Autoencoder
from aelib.widgets import ImageBrowser, LatentExplorer


def test_latent_explorer_decodes_the_slider_point():
    torch.manual_seed(0)
    ae = Autoencoder(784, (16,), 2)
    codes = np.random.randn(300, 2).astype(np.float32)
    w = LatentExplorer(ae.decode, codes, np.arange(300) % 10)
    first_png, first_map = w.png, w.map_png
    w.x_slider.value = w.x_slider.max          # a test sets .value: the callback runs
    assert w.z[0] == pytest.approx(w.x_slider.max)
    expected = ae.decode(torch.tensor([w.z], dtype=torch.float32)).detach().numpy().reshape(28, 28)
    assert np.allclose(w.decoded, expected, atol=1e-6)
    assert w.png != first_png and w.map_png != first_map
    assert w.image.value == w.png and "nearest real code" in w.label.value
    assert w.seconds < 1.0


def test_latent_explorer_with_a_numpy_decoder_and_no_codes():
    w = LatentExplorer(lambda z: np.tile(z[:, :1], (1, 64)) / 3 + 0.5, image_shape=(8, 8))
    assert w.extent == (-3.0, 3.0, -3.0, 3.0)
    w.x_slider.value = 1.5
    assert np.allclose(w.decoded, 1.0)


def test_latent_explorer_rejects_codes_that_are_not_2d():
    with pytest.raises(ValueError, match="code_dim=2"):
        LatentExplorer(lambda z: z, np.zeros((10, 3)))


def test_image_browser_swaps_pictures_and_captions():
    frames = {k: np.full((4, 4), k / 10) for k in (2, 4, 8)}
    b = ImageBrowser(frames, {k: f"k={k}" for k in frames}, description="k")
    assert b.value == 2 and b.caption == "k=2"
    first = b.png
    b.control.value = 8
    assert b.value == 8 and b.caption == "k=8" and b.png != first and b.image.value == b.png
    d = ImageBrowser(frames, control="dropdown", value=4)
    assert d.value == 4
    with pytest.raises(ValueError, match="at least one frame"):
        ImageBrowser({})


def test_figure_controls_redraw_on_change():
    import ipywidgets as w
    from aelib.widgets import FigureControls

    def draw(fig, a, kind):
        ax = fig.add_subplot()
        ax.plot([0, 1], [0, a])
        return f"{kind}: a={a}"

    fc = FigureControls(draw, {"a": w.FloatSlider(value=1, min=0, max=2), "kind": w.Dropdown(options=["x", "y"])})
    first = fc.png
    fc.controls[0].value = 2.0
    assert fc.values == {"a": 2.0, "kind": "x"} and fc.caption == "x: a=2.0" and fc.png != first
    fc.controls[1].value = "y"
    assert fc.caption.startswith("y") and fc.image.value == fc.png and len(fc.fig.axes) == 1
    with pytest.raises(ValueError, match="at least one control"):
        FigureControls(draw, {})


def _counting_controls(**kw):
    import ipywidgets as w
    from aelib.widgets import FigureControls
    drawn = []

    def draw(fig, a, kind):
        drawn.append((a, kind))
        fig.add_subplot().plot([0, 1], [0, a])
        return f"{kind}: a={a}"
    fc = FigureControls(draw, {"a": w.IntSlider(value=1, min=0, max=3),
                               "kind": w.Dropdown(options=["x", "y", "z"])}, **kw)
    return fc, drawn


def test_figure_controls_keep_pictures_and_know_the_next_moves():
    fc, drawn = _counting_controls()
    first = fc.png
    fc.controls[0].value = 2
    assert not fc.cached and len(drawn) == 2
    fc.controls[0].value = 1                        # seen before: the kept picture, no drawing
    assert fc.cached and fc.png == first and fc.image.value == first and len(drawn) == 2
    assert fc.neighbours() == [{"a": 2, "kind": "x"}, {"a": 0, "kind": "x"}]   # the slider moved last
    fc.controls[1].value = "y"                      # now the dropdown: its neighbouring choices
    assert fc.neighbours() == [{"a": 1, "kind": "z"}, {"a": 1, "kind": "x"}]
    fc.cache_clear()
    fc.controls[1].value = "x"
    assert not fc.cached


def test_figure_controls_prefetch_the_next_moves_while_the_kernel_is_idle():
    import asyncio

    async def session():
        fc, drawn = _counting_controls()
        fc.controls[0].value = 2                    # a change handled inside a running event loop
        await asyncio.sleep(1.0)                    # the kernel is idle: the neighbours get drawn
        assert {(3, "x"), (1, "x")} <= set(drawn) and (2, "y") not in drawn   # the slider's next values
        fc.controls[0].value = 3                    # the next step is ready
        assert fc.cached and fc.caption == "x: a=3"
        no_prefetch, drawn_too = _counting_controls(prefetch=False)
        no_prefetch.controls[0].value = 2
        await asyncio.sleep(0.3)
        assert drawn_too == [(1, "x"), (2, "x")]
    asyncio.run(session())


def test_image_browser_with_two_axes():
    axes = {"width": [4, 16], "reg": ["none", "l1"]}
    frames = {(w, r): np.full((3, 3), w / 20 + (r == "l1") * 0.1) for w in axes["width"] for r in axes["reg"]}
    b = ImageBrowser(frames, {k: f"{k}" for k in frames}, axes=axes)
    assert b.value == (4, "none") and len(b.controls) == 2
    assert type(b.controls[0]).__name__ == "SelectionSlider" and type(b.controls[1]).__name__ == "Dropdown"
    b.controls[1].value = "l1"
    assert b.value == (4, "l1") and b.caption == "(4, 'l1')"
    b.controls[0].value = 16
    assert b.value == (16, "l1") and b.png == b._png[(16, "l1")]
    with pytest.raises(ValueError, match="lack 1 combinations"):
        ImageBrowser({k: v for k, v in frames.items() if k != (16, "l1")}, axes=axes)


def test_denoising_explorer_corrupts_runs_models_and_reports_psnr():
    from aelib.widgets import DenoisingExplorer
    imgs = np.random.default_rng(0).random((5, 64)).astype(np.float32)
    w = None   # the "oracle" denoiser returns the clean image the widget is showing
    w = DenoisingExplorer(imgs, {"copy": lambda n, k: n, "clean": lambda n, k: imgs[[w.index.value if w else 0]]},
                          {"gaussian": 0.6, "masking": 0.8}, image_shape=(8, 8))
    assert set(w.psnr) == {"noisy", "copy", "clean"} and np.isinf(w.psnr["clean"])
    assert w.psnr["copy"] == pytest.approx(w.psnr["noisy"], abs=0.5)   # the copy is clipped to [0, 1]
    first = w.png
    w.level.value = 0.6
    assert w.png != first and w.caption.startswith("gaussian noise, level 0.60")
    w.kind.value = "masking"                       # the level slider's range follows the noise type
    assert w.level.max == 0.8 and w.caption.startswith("masking")
    assert set(np.unique(w.noisy)) - set(np.unique(imgs[0])) <= {0.0}
    w.index.value = 3
    assert np.isinf(w.psnr["clean"]) and len(w.controls) == 3
    with pytest.raises(ValueError, match="unknown noise"):
        DenoisingExplorer(imgs, {"copy": lambda n, k: n}, {"pink": 0.5}, image_shape=(8, 8))


def test_interpolation_explorer_paths_and_t():
    from aelib.widgets import InterpolationExplorer
    imgs = np.stack([np.full(64, v, dtype=np.float32) for v in (0.0, 1.0, 0.5)])
    fade = lambda a, b, ts: (1 - ts[:, None]) * a + ts[:, None] * b
    calls = []

    def counted(a, b, ts):
        calls.append(len(ts))
        return fade(a, b, ts)

    w = InterpolationExplorer(imgs, {"fade": fade, "counted": counted}, labels=[7, 1, 3], image_shape=(8, 8), frames=5)
    assert w.rows["fade"].shape == (5, 64) and np.allclose(w.current["fade"], 0.5)
    assert "a 7 to a 1" in w.caption
    calls.clear()
    w.t.value = 1.0                                  # only t moved: one frame per method, paths kept
    assert calls == [1] and np.allclose(w.current["fade"], 1.0)
    w.b.value = 2                                    # an endpoint moved: the paths are recomputed
    assert calls == [1, 5, 1] and np.allclose(w.rows["fade"][-1], 0.5) and np.allclose(w.current["fade"], 0.5)
    with pytest.raises(ValueError, match="at least one path"):
        InterpolationExplorer(imgs, {})


def test_reset_shown_puts_displayed_widgets_back_where_the_class_first_saw_them(capsys):
    from aelib import widgets as aw
    frames = {i: np.full((4, 4), i / 9) for i in range(10)}
    shown = ImageBrowser(frames, description="digit")
    never_shown = ImageBrowser(frames, description="digit")
    shown.control.value = 3                    # set before display: this is the default the class sees
    shown._ipython_display_()
    shown.control.value = 7                    # a Checks cell moves it
    never_shown.control.value = 5
    assert aw.reset_shown() == 1
    assert shown.value == 3 and shown.png == shown._png[3] and shown.image.value == shown.png  # picture follows
    assert never_shown.control.value == 5
    assert aw.reset_shown() == 0               # nothing left to move


def test_still_shows_the_picture_the_controls_show_first(monkeypatch, capsys):
    """The static picture of a FigureControls comes from the widget itself, so it cannot show other values than
    the controls start at (04 once drew strength 2 above a slider at 1)."""
    import ipywidgets as ipw
    import matplotlib.pyplot as plt
    from aelib.widgets import FigureControls
    seen = []

    def draw(fig, beta, kind):
        seen.append((beta, kind))
        fig.add_subplot().plot([0, beta])
        return f"<b>{kind}</b>, beta {beta}"
    w = FigureControls(draw, {"beta": ipw.FloatSlider(value=2.0, min=0, max=4),
                              "kind": ipw.Dropdown(options=["plain", "leaky"], value="plain")},
                       figsize=(5, 2), prefetch=False)
    shown = []
    monkeypatch.setattr(plt, "show", lambda *a, **k: shown.append(plt.gcf()))
    assert w.still() is None                             # nothing echoed under the cell
    assert seen[-1] == (2.0, "plain") and capsys.readouterr().out.strip() == "plain, beta 2.0"
    assert tuple(shown[0].get_size_inches()) == (5, 2)
    plt.close("all")
    w.controls[0].value = 3.0                            # later: the still follows wherever the controls are
    w.still()
    assert seen[-1] == (3.0, "plain")
    plt.close("all")
