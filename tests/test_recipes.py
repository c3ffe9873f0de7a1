"""aelib.recipes: the collection's training recipes for the VAE and its autoencoder twin."""
import numpy as np
import pytest
import torch

from aelib import recipes, vae


def test_the_model_file_holds_the_model_and_the_recipes_their_own():
    """vae.py no longer imports the training loop or the autoencoder; the recipes live in aelib.recipes."""
    import ast
    from pathlib import Path
    tree = ast.parse(Path(vae.__file__).read_text())
    imported = {a.name for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) for a in n.names}
    assert not {"fit", "Autoencoder"} & imported
    assert recipes.FAST_RECIPE["hidden"] == (256,) and recipes.BASELINE_RECIPE["hidden"] == (400,)


def test_train_with_recipe_builds_from_the_seed_and_lets_arguments_override():
    x = (np.random.default_rng(0).random((40, 6)) > 0.5).astype(np.float32)
    built = []

    def build(d, hidden):
        built.append((d, hidden))
        return vae.VAE(d, hidden, 2)
    recipe = dict(recipes.FAST_RECIPE, hidden=(5,), epochs=3)
    m1, h1 = recipes.train_with_recipe(build, vae.vae_loss(), x, recipe, seed=3, fit_kwargs=dict(progress=False))
    m2, h2 = recipes.train_with_recipe(build, vae.vae_loss(), x, recipe, seed=3, fit_kwargs=dict(progress=False))
    assert built == [(6, (5,)), (6, (5,))] and h1.epochs == 3 and recipe["hidden"] == (5,)   # recipe not changed
    assert h1.train["loss"] == h2.train["loss"]                # same seed, same run
    _, h3 = recipes.train_with_recipe(build, vae.vae_loss(), x, recipe, seed=3,
                                      fit_kwargs=dict(progress=False, epochs=1))
    assert h3.epochs == 1


def test_train_vae_uses_the_recipe_and_overrides():
    x = (np.random.default_rng(0).random((64, 12)) > 0.5).astype(np.float32)
    m, h = recipes.train_vae(x, latent_dim=3, recipe=dict(recipes.FAST_RECIPE, epochs=2), seed=0, progress=False)
    assert m.hidden == (256,) and m.latent_dim == 3 and h.epochs == 2
    m2, h2 = recipes.train_vae(x, latent_dim=2, seed=0, epochs=1, progress=False)
    assert h2.epochs == 1 and m2.input_dim == 12


def test_train_autoencoder_is_the_vaes_twin_without_kl_and_noise():
    from aelib.models import Autoencoder
    x = (np.random.default_rng(0).random((64, 12)) > 0.5).astype(np.float32)
    recipe = dict(recipes.FAST_RECIPE, epochs=2)
    m, h = recipes.train_autoencoder(x, code_dim=3, recipe=recipe, seed=0, x_val=x, progress=False)
    assert isinstance(m, Autoencoder) and m.hidden == (256,) and m.code_dim == 3 and m.input_dim == 12
    assert h.epochs == 2 and len(h.val["loss"]) == 2
    xt = torch.as_tensor(x)
    with torch.no_grad():                 # logits out; the loss is the VAE's Bernoulli NLL, nats per image
        nll = recipes.reconstruction_nll(m, xt)
        assert float(nll) == pytest.approx(float(-vae.log_likelihood(m(xt), xt).mean()))
    assert h.val["loss"][-1] == pytest.approx(float(nll), rel=1e-5)
    again, _ = recipes.train_autoencoder(x, code_dim=3, recipe=recipe, seed=0, progress=False)
    assert all(torch.equal(a, b) for a, b in zip(m.state_dict().values(), again.state_dict().values()))
    m2, h2 = recipes.train_autoencoder(x, code_dim=2, seed=0, epochs=1, progress=False)   # overrides the recipe
    assert h2.epochs == 1 and m2.code_dim == 2 and not h2.val


