import numpy as np
import pytest
import torch

from aelib import metrics
from aelib.models import Autoencoder


def test_reconstruction_errors_for_functions_and_models():
    x = np.random.rand(5, 4).astype(np.float32)
    assert np.allclose(metrics.reconstruction_errors(lambda v: v, x), 0)
    assert np.allclose(metrics.reconstruction_errors(lambda v: v * 0, x), (x ** 2).sum(1), rtol=1e-6)
    assert np.allclose(metrics.reconstruction_errors(lambda v: v * 0, x, target=np.zeros_like(x)), 0)
    ae = Autoencoder(4, (), 2)
    expected = ((ae(torch.from_numpy(x)).detach().numpy() - x) ** 2).sum(1)
    assert np.allclose(metrics.reconstruction_errors(ae, x), expected, atol=1e-6)
    with pytest.raises(ValueError, match="differs"):
        metrics.reconstruction_errors(ae, x, target=x[:2])


def test_perturbation_gain_of_identity_projection_and_constant():
    x = np.random.rand(400, 20).astype(np.float32)
    assert metrics.perturbation_gain(lambda v: v, x) == pytest.approx(1.0)
    P = np.zeros((20, 20), dtype=np.float32)
    P[:5, :5] = np.eye(5)
    assert metrics.perturbation_gain(lambda v: v @ P, x) == pytest.approx(5 / 20, abs=0.02)
    assert metrics.perturbation_gain(lambda v: np.zeros_like(v), x) == 0.0
    with pytest.raises(ValueError, match="positive"):
        metrics.perturbation_gain(lambda v: v, x, eps=0)


def test_psnr():
    a = np.zeros((2, 4))
    b = np.full((2, 4), 0.1)
    assert np.allclose(metrics.psnr(b, a), 20.0)
    assert np.isinf(metrics.psnr(a, a)).all()
    with pytest.raises(ValueError, match="shapes differ"):
        metrics.psnr(a, a[:1])
