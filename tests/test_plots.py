import numpy as np
import pytest

from aelib import plots


def test_tile_layout_and_padding():
    imgs = np.stack([np.full(4, i / 5) for i in range(5)])  # five 2x2 images
    t = plots.tile(imgs, (2, 2), ncols=3, pad=1)
    assert t.shape == (2 * 3 - 1, 3 * 3 - 1)
    assert t[0, 0] == 0 and t[0, 3] == pytest.approx(0.2) and t[3, 0] == pytest.approx(0.6)
    assert t[3, 6] == 1.0  # the empty sixth cell is padding


def test_tile_guesses_square_and_rejects_odd_rows():
    assert plots.tile(np.zeros((4, 784))).shape == (57, 57)
    with pytest.raises(ValueError, match="image_shape"):
        plots.tile(np.zeros((2, 10)))
    with pytest.raises(ValueError, match="does not match"):
        plots.tile(np.zeros((2, 10)), (3, 3))


def test_array_png_is_a_png_of_the_right_size():
    from io import BytesIO
    from PIL import Image
    png = plots.array_png(np.zeros((7, 5)), scale=3)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert Image.open(BytesIO(png)).size == (15, 21)


def test_figures_build():
    import matplotlib.pyplot as plt
    x = np.random.rand(12, 64)
    fig = plots.show_reconstructions({"in": x, "out": x}, (8, 8), n=6)
    assert len(fig.axes) == 2
    ax = plots.latent_scatter(np.random.randn(50, 2), np.arange(50) % 10)
    # the clusters are named where they are (no legend box over the points), in their own colours
    assert ax.get_legend() is None and sorted(t.get_text() for t in ax.texts) == [str(d) for d in range(10)]
    assert {t.get_color() for t in ax.texts} == set(plots.PALETTE)
    with pytest.raises(ValueError, match="2-D codes"):
        plots.latent_scatter(np.zeros((5, 3)))
    plots.show_images(x, (8, 8), title="t")
    plt.close("all")


def test_one_projector_style_for_every_figure():
    import matplotlib
    import matplotlib.pyplot as plt
    plt.rcdefaults()
    plots.use_style()
    rc = matplotlib.rcParams
    assert rc["font.size"] >= 12 and rc["xtick.labelsize"] >= 12 and rc["legend.fontsize"] >= 11
    assert rc["lines.linewidth"] >= 2
    assert [c["color"] for c in rc["axes.prop_cycle"]][:len(plots.PALETTE)] == list(plots.PALETTE)
    assert len(set(plots.PALETTE)) == 10 and len(set(plots.DIGIT_MARKERS)) == 10
    # the live loss curve is drawn big enough to read from the back of a room
    from aelib.plots import LivePlot
    from aelib.training import History
    from unittest import mock
    h = History(device="cpu")
    h.train["loss"] = [3.0, 2.0, 1.5]
    with mock.patch("aelib.plots.display") as disp:
        live = LivePlot("t")
        live.update(h, 3, force=True)
    png = disp.return_value.update.call_args[0][0].data
    from io import BytesIO
    from PIL import Image
    width, height = Image.open(BytesIO(png)).size
    assert width >= 600 and height >= 280, (width, height)


def test_code_grid_reads_like_the_latent_plane():
    g = plots.code_grid((-3, -1), (3, 1), n=4)
    assert g.shape == (16, 2) and g.dtype == np.float32
    assert g[0].tolist() == [-3, 1] and g[3].tolist() == [3, 1]        # top row: z2 high, z1 left to right
    assert g[-1].tolist() == [3, -1] and g[12].tolist() == [-3, -1]    # bottom row: z2 low


def test_show_figure_draws_the_defaults_and_prints_the_caption_without_html(capsys):
    import matplotlib.pyplot as plt
    seen = {}

    def draw(fig, beta=1.0, name="a"):
        seen.update(beta=beta, name=name, fig=fig)
        fig.subplots().plot([0, beta])
        return f"<b>{name}</b>: β = {beta}"

    shown = []
    real_show = plt.show
    plt.show = lambda *a, **k: shown.append(plt.gcf())
    try:
        caption = plots.show_figure(draw, figsize=(5, 2), beta=2.0)
    finally:
        plt.show = real_show
    assert caption == "<b>a</b>: β = 2.0" and capsys.readouterr().out == "a: β = 2.0\n"
    assert seen["beta"] == 2.0 and shown == [seen["fig"]]
    assert tuple(seen["fig"].get_size_inches()) == (5, 2) and seen["fig"].axes[0].lines
    plt.close("all")
    assert plots.show_figure(lambda fig: None) == ""                    # no caption: nothing printed
    assert capsys.readouterr().out == ""
    plt.close("all")


def test_reconstruction_tiles_stack_inputs_over_outputs():
    x = np.zeros((12, 64))
    frames = plots.reconstruction_tiles(x, {"a": np.ones((12, 64))}, (8, 8), n=5)
    t = frames["a"]
    assert t.shape == (17, 44) and t[0, 0] == 0 and t[9, 0] == 1


def test_fixed_margins_set_the_subplot_parameters():
    import matplotlib.pyplot as plt
    fig, _ = plt.subplots(1, 3, figsize=(10, 3.5))
    plots.fixed_margins(fig, wspace=0.35)
    p = fig.subplotpars
    assert (p.left, p.right, p.bottom, p.top, p.wspace) == (0.07, 0.985, 0.16, 0.88, 0.35)
    plt.close(fig)


def test_live_plot_redraws_at_most_every_interval_and_always_at_the_end():
    from unittest import mock
    from aelib.plots import LivePlot
    from aelib.training import History
    h = History(device="cpu")
    h.train["loss"] = [3.0, 2.0]
    with mock.patch("aelib.plots.display") as disp:
        live = LivePlot("t")                     # the default interval: 2 s
        for _ in range(5):                       # five epochs in quick succession: one redraw
            live.update(h, 5)
        assert disp.return_value.update.call_count == 1
        live.close(h, 5)                         # the final state is always drawn
        assert disp.return_value.update.call_count == 2
