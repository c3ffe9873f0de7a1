import numpy as np
import pytest
import torch
import torch.nn.functional as F

from aelib import runtime, training
from aelib.models import Autoencoder


def mse(model, x):
    return F.mse_loss(model(x), x)


def test_fit_lowers_the_loss_and_records_history():
    rng = np.random.default_rng(0)  # data on a 3-D subspace: a 4-D code can learn it
    x = (1 / (1 + np.exp(-rng.normal(size=(256, 3)) @ rng.normal(size=(3, 16))))).astype(np.float32)
    runtime.seed_everything(0)
    ae = Autoencoder(16, (8,), 4)
    h = training.fit(ae, x, mse, epochs=15, batch_size=32, lr=1e-2, x_val=x[:64], progress=False, device="cpu")
    assert len(h.train["loss"]) == 15 and len(h.val["loss"]) == 15
    assert h.train["loss"][-1] < 0.3 * h.train["loss"][0]
    assert h.seconds > 0 and h.epochs == 15 and "epochs" in repr(h)


def test_fit_logs_extra_terms_and_passes_labels():
    x = torch.rand(40, 6)
    y = torch.arange(40) % 2
    seen = {}

    def loss(model, batch):
        xb, yb = batch
        seen["y"] = yb
        rec = F.mse_loss(model(xb), xb)
        return {"loss": rec, "recon": rec.detach(), "one": torch.tensor(1.0)}

    h = training.fit(Autoencoder(6, (), 2), x, loss, y_train=y, x_val=x, y_val=y, epochs=2, progress=False)
    assert set(h.train) == {"loss", "recon", "one"} and h.val["one"] == [1.0, 1.0]
    assert seen["y"].dtype == torch.int64


def test_divergence_gives_a_clear_error():
    x = torch.rand(64, 8)

    def exploding(model, x):
        return F.mse_loss(model(x), x) * float("inf")

    with pytest.raises(training.TrainingDiverged, match=r"diverged at epoch 1.*Lower the learning rate"):
        training.fit(Autoencoder(8, (4,), 2), x, exploding, epochs=3, progress=False)


def test_a_too_large_learning_rate_diverges_with_the_error():
    torch.manual_seed(0)
    x = torch.randn(256, 8) * 100
    ae = Autoencoder(8, (64,), 8, output="linear")
    with pytest.raises(training.TrainingDiverged, match="lr=1e\\+06"):
        training.fit(ae, x, mse, epochs=50, lr=1e6, optimizer="sgd", progress=False)


def test_fit_is_reproducible_for_a_seed():
    x = torch.rand(100, 10)
    losses = []
    for _ in range(2):
        runtime.seed_everything(3)
        ae = Autoencoder(10, (6,), 3)
        losses.append(training.fit(ae, x, mse, epochs=3, seed=3, progress=False).train["loss"])
    assert losses[0] == losses[1]


@pytest.mark.parametrize("kwargs,match", [
    (dict(epochs=0), "at least 1"), (dict(optimizer="rmsprop"), "unknown optimizer"),
])
def test_fit_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        training.fit(Autoencoder(4, (), 2), torch.rand(8, 4), mse, progress=False, **kwargs)


def test_fit_empty_data():
    with pytest.raises(ValueError, match="empty"):
        training.fit(Autoencoder(4, (), 2), torch.rand(0, 4), mse, progress=False)


def test_live_plot_outside_a_notebook_is_off_and_history_plots(monkeypatch):
    made = []

    class Recorder:
        def __init__(self, *a, **k):
            made.append(a)

        def update(self, *a, **k):
            pass

        close = update
    monkeypatch.setattr(training, "LivePlot", Recorder)
    h = training.fit(Autoencoder(4, (), 2), torch.rand(8, 4), mse, epochs=2, progress=False)
    assert made == []                          # live=None outside a notebook: no live plot
    training.fit(Autoencoder(4, (), 2), torch.rand(8, 4), mse, epochs=1, progress=False, live=True)
    assert len(made) == 1
    from aelib.plots import loss_curves
    ax = loss_curves({"a": h, "b": h})
    assert len(ax.lines) == 2


def test_cosine_schedule_ends_near_zero_and_bad_schedule():
    x = torch.rand(50, 6)
    seen = []
    ae = Autoencoder(6, (), 2)

    def loss(model, xb):
        return F.mse_loss(model(xb), xb)

    # the learning rate is read back from the parameters' movement: the last epoch barely moves them
    h = training.fit(ae, x, loss, epochs=5, lr=0.05, schedule="cosine", progress=False,
                     on_epoch=lambda e, hist: seen.append([p.detach().clone() for p in ae.parameters()]))
    first = sum(float((a - b).abs().sum()) for a, b in zip(seen[1], seen[0]))
    last = sum(float((a - b).abs().sum()) for a, b in zip(seen[4], seen[3]))
    assert last < 0.2 * first and h.epochs == 5
    with pytest.raises(ValueError, match="unknown schedule"):
        training.fit(ae, x, loss, schedule="step", progress=False)


def test_seconds_per_step_times_models_in_turns_and_leaves_them_untouched():
    torch.manual_seed(0)
    small, big = Autoencoder(32, (8,), 2), Autoencoder(32, (512, 512), 2)
    before = [p.detach().clone() for p in small.parameters()]
    x = torch.rand(400, 32)
    cost = training.seconds_per_step({"small": (small, mse), "big": (big, mse)}, x, steps=5, rounds=3)
    assert set(cost) == {"small", "big"} and all(v > 0 for v in cost.values())
    assert cost["big"] > cost["small"]                          # far more arithmetic per step
    assert all(torch.equal(a, b) for a, b in zip(before, small.parameters()))
    with pytest.raises(ValueError, match="steps and rounds"):
        training.seconds_per_step({"small": (small, mse)}, x, steps=0)


def test_fused_adam_is_the_default_on_the_cpu_and_takes_the_same_steps(monkeypatch):
    made = []
    real = torch.optim.Adam

    def spy(params, **kw):
        made.append(kw.get("fused"))
        return real(params, **kw)

    monkeypatch.setattr(torch.optim, "Adam", spy)
    x = torch.rand(64, 12)
    weights = {}
    for fused in (None, False):
        runtime.seed_everything(0)
        ae = Autoencoder(12, (8,), 3)
        training.fit(ae, x, mse, epochs=3, batch_size=16, lr=1e-2, progress=False, device="cpu", fused=fused)
        weights[fused] = torch.cat([p.detach().flatten() for p in ae.parameters()])
    assert made == [True, None]                        # default: fused; False: PyTorch's plain Adam
    assert torch.allclose(weights[None], weights[False], atol=1e-5)   # 12 steps: the same update to rounding
    with pytest.raises(ValueError, match="fused=True needs optimizer 'adam' or 'adamw'"):
        training.fit(Autoencoder(12, (8,), 3), x, mse, optimizer="sgd", fused=True, progress=False, device="cpu")


def test_make_optimizer_names_and_fused_default():
    p = [torch.nn.Parameter(torch.zeros(3))]
    assert isinstance(training.make_optimizer(p, "sgd", lr=0.1, momentum=0.9, device="cpu"), torch.optim.SGD)
    adam = training.make_optimizer(p, "adam", lr=1e-3, betas=(0.5, 0.999), device="cpu")
    assert adam.defaults["fused"] and adam.defaults["betas"] == (0.5, 0.999)
    assert not training.make_optimizer(p, "adamw", fused=False, device="cpu").defaults["fused"]
    with pytest.raises(ValueError, match="unknown optimizer 'rmsprop'"):
        training.make_optimizer(p, "rmsprop")


def test_make_optimizer_falls_back_to_plain_adam_without_the_fused_kernel(monkeypatch):
    real = torch.optim.Adam

    def old_torch_adam(params, **kw):                    # torch < 2.4 refuses fused=True for CPU tensors
        if kw.get("fused"):
            raise RuntimeError("`fused=True` requires all the params to be floating point Tensors of supported devices")
        return real(params, **kw)

    monkeypatch.setattr(torch.optim, "Adam", old_torch_adam)
    p = [torch.nn.Parameter(torch.zeros(3))]
    opt = training.make_optimizer(iter(p), "adam", lr=1e-3, device="cpu")   # a generator, as model.parameters()
    assert not opt.defaults["fused"] and opt.param_groups[0]["params"][0] is p[0]
    with pytest.raises(RuntimeError, match="fused=True"):
        training.make_optimizer(p, "adam", fused=True, device="cpu")       # asked for explicitly: the error shows
