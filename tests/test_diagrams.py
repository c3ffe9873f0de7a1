import matplotlib
import matplotlib.pyplot as plt
import pytest

from aelib import diagrams


def _texts(fig):
    return " ".join(t.get_text() for ax in fig.axes for t in ax.texts) + " " + " ".join(
        ax.get_title() for ax in fig.axes)


@pytest.mark.parametrize("name, words, panels", [
    ("autoencoder", ["encoder", "decoder", "code", "784 numbers", "loss"], 1),
    ("reparameterisation", ["no gradient", "\\varepsilon", "\\mu+\\sigma", "reparameterised"], 2),
    ("m2_model", ["generative", "inference", "classifier", "q_\\phi(z\\mid x,y)"], 2),
])
def test_diagrams_draw_their_parts(name, words, panels):
    fig = getattr(diagrams, name)()
    try:
        assert len(fig.axes) == panels
        text = _texts(fig)
        for w in words:
            assert w in text, (name, w)
        fig.canvas.draw()                       # mathtext parses: a bad TeX string fails here
        assert all(not ax.axison for ax in fig.axes)
        # red arrows are the gradients; the reparameterised panel has more of them than the sampling one
        if name == "reparameterisation":
            red = [sum(1 for p in ax.patches if matplotlib.colors.same_color(p.get_edgecolor(), diagrams.GRADIENT))
                   for ax in fig.axes]
            assert red[1] > red[0] >= 1, red
    finally:
        plt.close(fig)


@pytest.mark.parametrize("name, words, panels", [
    ("layerwise_pretraining", ["train layer 1", "train layer 2", "unroll", "backpropagation", "frozen"], 3),
    ("vae_and_gan", ["encoder", "discriminator", "generator", "ELBO", "no encoder, no likelihood"], 2),
    ("interpolation_paths", ["linear midpoint: norm × 0.71", "rarely sampled"], 1),
    ("ae_and_vae", ["autoencoder", "code $h$", "$\\log\\sigma^2$", "$\\varepsilon$", "KL", "added"], 2),
])
def test_more_diagrams_draw_their_parts(name, words, panels):
    test_diagrams_draw_their_parts(name, words, panels)


def test_interpolation_midpoint_norm_is_the_cosine_of_half_the_angle():
    fig = diagrams.interpolation_paths(angle_deg=120)
    try:
        assert "norm × 0.50" in _texts(fig)
    finally:
        plt.close(fig)


def test_ae_and_vae_marks_exactly_the_three_additions():
    """The VAE panel shades what it adds to the autoencoder (the log-variance head, the sample, the KL term)
    and nothing else; the autoencoder panel has nothing shaded."""
    fig = diagrams.ae_and_vae()
    try:
        added = [sum(1 for p in ax.patches if matplotlib.colors.same_color(p.get_facecolor(), diagrams.ADDED))
                 for ax in fig.axes]
        assert added == [0, 3], added
    finally:
        plt.close(fig)
