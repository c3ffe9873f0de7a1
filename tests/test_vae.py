import math

import numpy as np
import pytest
import torch
from torch.distributions import Bernoulli, Normal, kl_divergence

from aelib import training, vae
from aelib.vae import VAE


def test_shapes_and_errors():
    m = VAE(784, (64,), 3)
    x = torch.rand(5, 784)
    logits, mu, logvar, z = m(x)
    assert logits.shape == (5, 784) and mu.shape == logvar.shape == z.shape == (5, 3)
    assert m.reconstruct(x).shape == (5, 784)
    with pytest.raises(ValueError, match="flatten"):
        m.encode(torch.rand(5, 28, 28))
    with pytest.raises(ValueError, match=r"\(batch, 3\)"):
        m.decode(torch.rand(5, 2))
    with pytest.raises(ValueError, match="positive integer"):
        VAE(latent_dim=0)


def test_kl_matches_torch_distributions():
    mu, logvar = torch.randn(4, 6), torch.randn(4, 6)
    ref = kl_divergence(Normal(mu, (0.5 * logvar).exp()), Normal(0.0, 1.0))
    assert torch.allclose(vae.kl_standard_normal(mu, logvar), ref, atol=1e-5)
    assert torch.allclose(vae.kl_standard_normal(torch.zeros(2, 3), torch.zeros(2, 3)), torch.zeros(2, 3))


def test_likelihood_matches_torch_bernoulli():
    logits, x = torch.randn(3, 10), torch.rand(3, 10).round()
    assert torch.allclose(vae.log_likelihood(logits, x), Bernoulli(logits=logits).log_prob(x).sum(-1), atol=1e-5)
    assert torch.allclose(VAE(10, (4,), 2).log_likelihood(logits, x), vae.log_likelihood(logits, x))


def test_reparameterize_has_the_right_moments_and_passes_gradients():
    mu = torch.full((20000, 1), 2.0, requires_grad=True)
    logvar = torch.full((20000, 1), math.log(0.25), requires_grad=True)
    z = VAE.reparameterize(mu, logvar)
    zd = z.detach()
    assert abs(float(zd.mean()) - 2.0) < 0.02 and abs(float(zd.std()) - 0.5) < 0.02
    z.sum().backward()
    assert mu.grad is not None and torch.allclose(mu.grad, torch.ones_like(mu))


@pytest.fixture(scope="module")
def trained():
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    x = (rng.random((512, 20)) < np.linspace(0.1, 0.9, 20)).astype(np.float32)
    m = VAE(20, (32,), 2)
    h = training.fit(m, x, vae.vae_loss(), epochs=30, lr=3e-3, batch_size=64, progress=False, device="cpu")
    return m, x, h


def test_fit_lowers_the_negative_elbo_and_logs_terms(trained):
    m, x, h = trained
    assert set(h.train) == {"loss", "recon", "kl", "elbo"}
    assert h.train["loss"][-1] < h.train["loss"][0]
    e = vae.elbo(m, x)
    assert e["elbo"] == pytest.approx(-(e["recon"] + e["kl"]))


def test_iwae_bound_is_above_the_elbo_and_rises_with_k(trained):
    m, x, _ = trained
    torch.manual_seed(1)
    l1 = float(vae.iwae_bound(m, x, k=1).mean())
    l10 = float(vae.iwae_bound(m, x, k=10).mean())
    l100 = float(vae.iwae_bound(m, x, k=100).mean())
    assert abs(l1 - vae.elbo(m, x)["elbo"]) < 0.3
    assert l1 < l10 + 0.05 and l10 < l100 + 0.05 and l1 < l100   # monotone up to Monte Carlo noise
    with pytest.raises(ValueError, match="at least 1"):
        vae.iwae_bound(m, x, k=0)


def test_sample(trained):
    m, _, _ = trained
    s = vae.sample(m, 7, seed=0)
    assert s.shape == (7, 20) and 0 <= s.min() and s.max() <= 1
    assert np.array_equal(s, vae.sample(m, 7, seed=0))
    b = vae.sample(m, 7, mean=False, seed=0)
    assert set(np.unique(b)) <= {0.0, 1.0}
    assert np.allclose(vae.sample(m, 3, temperature=0.0), vae.sample(m, 1, temperature=0.0))
    with pytest.raises(ValueError):
        vae.sample(m, 0)
    with pytest.raises(ValueError, match="beta"):
        vae.vae_loss(-1)


def test_interpolate_linear_and_spherical():
    a, b = np.array([1.0, 0.0]), np.array([0.0, 1.0])
    lin = vae.interpolate(a, b, 5)
    assert lin.shape == (5, 2) and np.allclose(lin[0], a) and np.allclose(lin[-1], b)
    assert np.allclose(lin[2], [0.5, 0.5])
    sph = vae.interpolate(a, b, 5, "spherical")
    assert np.allclose(np.linalg.norm(sph, axis=1), 1.0, atol=1e-6)     # stays on the circle
    assert np.allclose(sph[0], a) and np.allclose(sph[-1], b, atol=1e-6)
    assert np.allclose(vae.interpolate(a, a, 3, "spherical"), [a, a, a])
    assert np.allclose(vae.interpolate(a, b, method="spherical", ts=[0.5]), sph[2])   # any positions
    with pytest.raises(ValueError, match="unknown method"):
        vae.interpolate(a, b, 3, "cubic")
    with pytest.raises(ValueError, match="differ in shape"):
        vae.interpolate(a, np.zeros(3))


def test_iwae_loss_trains_and_k1_matches_the_elbo(trained):
    m, x, _ = trained
    xt = torch.tensor(x[:256])
    torch.manual_seed(0)
    l1 = float(vae.iwae_loss(1)(m, xt)["bound"])
    assert abs(l1 - vae.elbo(m, x[:256])["elbo"]) < 1.0
    out = vae.iwae_loss(5)(m, xt)
    out["loss"].backward()
    assert m.mu_head.weight.grad is not None and float(out["bound"]) > l1 - 0.5
    with pytest.raises(ValueError, match="at least 1"):
        vae.iwae_loss(0)


def test_posterior_mean_is_the_encoders_mean_in_batches_as_numpy():
    import numpy as np
    import torch
    from aelib.vae import VAE
    torch.manual_seed(0)
    model = VAE(784, (32,), 3)
    x = np.random.default_rng(0).random((25, 784), dtype=np.float32)
    mu = model.posterior_mean(x, batch_size=10)                 # three batches
    with torch.no_grad():
        expected = model.encode(torch.from_numpy(x))[0].numpy()
    assert isinstance(mu, np.ndarray) and mu.shape == (25, 3)
    assert np.allclose(mu, expected, atol=1e-6)


def test_posterior_gives_mu_and_logvar_for_the_whole_set_as_numpy():
    torch.manual_seed(0)
    model = VAE(12, (8,), 3)
    x = np.random.default_rng(0).random((25, 12)).astype(np.float32)
    mu, logvar = model.posterior(x, batch_size=10)            # three batches
    with torch.no_grad():
        mu_t, logvar_t = model.encode(torch.as_tensor(x))
    assert mu.shape == logvar.shape == (25, 3) and isinstance(mu, np.ndarray)
    assert np.allclose(mu, mu_t.numpy(), atol=1e-6) and np.allclose(logvar, logvar_t.numpy(), atol=1e-6)
    assert np.allclose(mu, model.posterior_mean(x))
