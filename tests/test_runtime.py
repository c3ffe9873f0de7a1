import numpy as np
import pytest
import torch

from aelib import runtime
from aelib.models import Autoencoder



def test_aelib_seed_overrides_the_default(monkeypatch):
    monkeypatch.setenv("AELIB_SEED", "5")
    assert runtime.get_seed(0) == 5 and runtime.seed_everything() == 5
    assert runtime.seed_everything(11) == 11
    monkeypatch.setenv("AELIB_SEED", "five")
    with pytest.raises(ValueError, match="AELIB_SEED must be an integer"):
        runtime.get_seed()


def test_choose_device(monkeypatch):
    assert runtime.choose_device("cpu").type == "cpu"
    monkeypatch.setenv("AELIB_DEVICE", "CPU")
    assert runtime.choose_device() == torch.device("cpu")
    monkeypatch.delenv("AELIB_DEVICE")
    expected = "cuda" if torch.cuda.is_available() else "cpu"          # never MPS unless asked for
    assert runtime.choose_device().type == expected
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert runtime.choose_device() == torch.device("cpu")


@pytest.mark.parametrize("name, message", [
    ("cuda", "AELIB_DEVICE='cuda' but (this torch is a CPU-only build|torch sees no CUDA GPU)"),
    ("tpu", "AELIB_DEVICE='tpu' is not a device torch knows"),
    ("meta", "AELIB_DEVICE='meta': the notebooks run on cpu, cuda or mps"),
    ("gpu", "AELIB_DEVICE='gpu' is not a device torch knows"),
    ("mps", "AELIB_DEVICE='mps' but Apple MPS is not available"),
])
def test_a_device_this_machine_lacks_names_the_variable(monkeypatch, name, message):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    monkeypatch.setenv("AELIB_DEVICE", name)
    with pytest.raises(ValueError, match=message) as err:
        runtime.choose_device()
    assert "unset AELIB_DEVICE" in str(err.value)


def test_in_notebook_accepts_a_subclassed_kernel_shell(monkeypatch):
    """Colab's shell subclasses ipykernel's ZMQInteractiveShell: the live plot must work there too."""
    import IPython
    from ipykernel.zmqshell import ZMQInteractiveShell

    class ColabLikeShell(ZMQInteractiveShell):
        pass

    fake = ColabLikeShell.__new__(ColabLikeShell)            # an instance, without starting a kernel
    monkeypatch.setattr(IPython, "get_ipython", lambda: fake)
    assert runtime.in_notebook()
    monkeypatch.setattr(IPython, "get_ipython", lambda: object())   # e.g. terminal IPython
    assert not runtime.in_notebook()
    monkeypatch.setattr(IPython, "get_ipython", lambda: None)
    assert not runtime.in_notebook()


def test_batched_numpy_runs_batched_without_grad():
    ae = Autoencoder(5, (), 2)
    x = np.random.rand(2500, 5).astype(np.float32)
    z = runtime.batched_numpy(ae.encode, x, batch_size=1000)
    assert z.shape == (2500, 2) and isinstance(z, np.ndarray)
    assert np.allclose(z, runtime.to_numpy(ae.encode(torch.from_numpy(x))), atol=1e-6)


def test_on_puts_data_where_the_model_is():
    import numpy as np
    import torch
    from aelib import runtime
    model = torch.nn.Linear(3, 2)
    t = runtime.on(model, np.ones((4, 3), dtype=np.float64))
    assert t.dtype == torch.float32 and t.device == next(model.parameters()).device and t.shape == (4, 3)
    labels = runtime.on(model, np.arange(4))                  # integers stay integers (labels, indices)
    assert labels.dtype == torch.int64
