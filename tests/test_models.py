import pytest
import torch

from aelib.models import Autoencoder, mlp


def test_autoencoder_shapes():
    ae = Autoencoder(784, (64, 16), 2)
    x = torch.rand(5, 784)
    assert ae.encode(x).shape == (5, 2)
    out = ae(x)
    assert out.shape == (5, 784) and 0 <= out.min() and out.max() <= 1


def test_linear_autoencoder_is_two_linear_maps():
    ae = Autoencoder(64, (), 8, activation="linear", output="linear")
    assert [type(m).__name__ for m in ae.encoder] == ["Linear"]
    assert [type(m).__name__ for m in ae.decoder] == ["Linear"]
    assert sum(p.numel() for p in ae.parameters()) == 64 * 8 + 8 + 8 * 64 + 64


def test_mlp_activations():
    net = mlp([3, 4, 2], "tanh", "sigmoid")
    assert [type(m).__name__ for m in net] == ["Linear", "Tanh", "Linear", "Sigmoid"]


@pytest.mark.parametrize("kwargs,match", [
    (dict(code_dim=0), "positive integer"),
    (dict(hidden=(0,)), "positive integer"),
    (dict(code_dim=2.5), "positive integer"),
    (dict(activation="swish"), "unknown activation"),
])
def test_bad_sizes_and_names(kwargs, match):
    with pytest.raises(ValueError, match=match):
        Autoencoder(**kwargs)


def test_wrong_input_shape_says_to_flatten():
    ae = Autoencoder(784, (32,), 2)
    with pytest.raises(ValueError, match="flatten"):
        ae(torch.rand(3, 28, 28))
    with pytest.raises(ValueError, match=r"\(batch, 2\)"):
        ae.decode(torch.rand(3, 5))


def test_squared_error_is_the_per_image_sum_averaged_over_the_batch():
    from aelib.models import squared_error
    torch.manual_seed(0)
    model = Autoencoder(6, (4,), 2)
    x = torch.rand(5, 6)
    loss = squared_error(model, x)
    assert loss.shape == () and loss.requires_grad
    with torch.no_grad():
        expected = sum(float(((model(x[i:i + 1]) - x[i:i + 1]) ** 2).sum()) for i in range(5)) / 5
    assert abs(loss.item() - expected) < 1e-5
    loss.backward()                                          # a training loss: gradients reach the weights
    assert all(p.grad is not None for p in model.parameters())
