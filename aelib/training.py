"""One training loop for every notebook: progress bar, live loss curve, history, device, seeding.

The loss is a function ``loss_fn(model, batch)``, written in the chapter that teaches it (or taken from
:mod:`aelib.vae` once a chapter has checked it against its own), that returns a scalar tensor, or a dict of scalar tensors with a ``"loss"`` entry (the one minimised; the others,
e.g. ``"recon"`` and ``"kl"``, are logged). ``batch`` is a tensor ``(b, d)`` of inputs, or the tuple
``(x, y)`` when labels are passed to :func:`fit`.

The seed: every notebook calls :func:`seed_everything`; the environment variable ``AELIB_SEED``
overrides the notebook's default seed, so a lecturer can show another run of the same notebook with
``AELIB_SEED=3 jupyter lab``.
"""
from __future__ import annotations

import math
import os
import random
import time
import warnings
from dataclasses import dataclass, field

import numpy as np
import torch


class TrainingDiverged(RuntimeError):
    """The loss became NaN or infinite during :func:`fit`."""


class TrainingWarning(UserWarning):
    """:func:`fit` finished, but the loss rose far above the untrained model's or stopped moving."""


DIVERGED_FACTOR = 10.0      # a final epoch's loss this many times the untrained model's counts as diverged
STALL_RTOL = 1e-6           # the last 3 epochs' losses within this relative distance count as stalled


def _check_inputs(x, name: str) -> None:
    """Refuse integer images (uint8 pixels) and NaN/inf values, naming the fix."""
    dtype = getattr(x, "dtype", None)
    if dtype is not None and not (np.issubdtype(dtype, np.floating) if isinstance(dtype, np.dtype)
                                  else getattr(dtype, "is_floating_point", False)):
        raise ValueError(f"{name} has dtype {dtype}: the models take float images in [0, 1]. Convert it first, "
                         f"e.g. {name} = {name}.astype(np.float32) / 255 for 0-255 pixels")
    values = x if isinstance(x, torch.Tensor) else torch.as_tensor(np.asarray(x))
    bad = ~torch.isfinite(values)
    if bool(bad.any()):
        rows = torch.nonzero(bad.reshape(len(values), -1).any(1)).flatten()
        raise ValueError(f"{name} holds {int(bad.sum())} NaN or infinite values (in {len(rows)} rows, the first "
                         f"is row {int(rows[0])}): the data, not the learning rate, is the problem. Drop those rows "
                         f"or replace the values, e.g. np.nan_to_num({name}).")


def _loss_scalar(out) -> torch.Tensor:
    loss = out["loss"] if isinstance(out, dict) else None
    if loss is None:
        raise ValueError("loss_fn returned a dict without a 'loss' entry: put the quantity to minimise under 'loss'")
    if not isinstance(loss, torch.Tensor) or loss.numel() != 1:
        shape = tuple(loss.shape) if isinstance(loss, torch.Tensor) else type(loss).__name__
        raise ValueError(f"loss_fn must return one number (a scalar tensor), got {shape}: average or sum the "
                         "per-example losses, e.g. F.mse_loss(model(x), x) or ((model(x) - x) ** 2).sum(1).mean()")
    return loss.reshape(())


def _warn_if_diverged_or_stalled(losses: list, lr: float, start: float) -> None:
    """Warn when the mean training loss ended far above where it started, or stopped moving altogether.

    ``losses``: the epochs' mean training losses; ``start``: the loss of the first batch before any step
    (the untrained model's).
    Stopped: the last three epochs' mean losses equal to within ``STALL_RTOL``, which a model that still learns
    never shows (its parameters, and so its epoch means, keep changing); dead ReLUs or saturated sigmoids do.
    """
    if not losses:
        return
    last = losses[-1]
    if last > DIVERGED_FACTOR * abs(start) and last - start > 1e-12:
        warnings.warn(f"training diverged: the loss rose from {start:.4g} (untrained) to {last:.4g} (epoch "
                      f"{len(losses)}). Lower the learning rate (lr={lr:g} now; try {lr / 10:g}) and train again.",
                      TrainingWarning, stacklevel=3)
        return
    tail = losses[-3:]
    if len(losses) >= 3 and all(abs(v - tail[0]) <= STALL_RTOL * max(abs(tail[0]), 1e-12) for v in tail):
        flat_from = next(i for i in range(len(losses)) if all(
            abs(v - tail[0]) <= STALL_RTOL * max(abs(tail[0]), 1e-12) for v in losses[i:]))
        warnings.warn(f"the loss stopped moving at {last:.6g} (epochs {flat_from + 1}-{len(losses)} all alike): the model "
                      f"no longer learns. Usually a learning rate far too large has killed or saturated its units "
                      f"(ReLUs that output 0, a sigmoid stuck at 0 or 1): lower it (lr={lr:g} now; try "
                      f"{lr / 100:g}) and rebuild the model.", TrainingWarning, stacklevel=3)


SEED_ENV = "AELIB_SEED"
SEED_LIMIT = 2**32          # NumPy's legacy seeding takes 0 <= seed < 2**32


def _check_seed(seed, source: str) -> int:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise ValueError(f"{source} must be a whole number from 0 to {SEED_LIMIT - 1}, got {seed!r}")
    if not 0 <= int(seed) < SEED_LIMIT:
        raise ValueError(f"{source} must be a whole number from 0 to {SEED_LIMIT - 1} (2**32 - 1), got {seed}")
    return int(seed)


def get_seed(default: int = 0) -> int:
    """``AELIB_SEED`` from the environment if set, else ``default``: a whole number 0 <= seed < 2**32.

    Raises:
        ValueError: naming ``AELIB_SEED`` if it is not a whole number in that range.
    """
    raw = os.environ.get(SEED_ENV, "").strip()
    if not raw:
        return _check_seed(default, "the default seed")
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"{SEED_ENV} must be an integer from 0 to {SEED_LIMIT - 1}, got {raw!r}") from None
    return _check_seed(value, SEED_ENV)


def seed_everything(seed: int | None = None) -> int:
    """Seed Python, NumPy and PyTorch (all devices); return the seed used.

    ``seed=None`` means ``get_seed(0)``: ``AELIB_SEED`` or 0. A seed is a whole number 0 <= seed < 2**32.
    """
    seed = get_seed(0) if seed is None else _check_seed(seed, "seed")
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    return seed


DEVICE_ENV = "AELIB_DEVICE"


def choose_device(prefer: str | None = None) -> torch.device:
    """The device to train on: CUDA if available, else the CPU; ``prefer`` or ``AELIB_DEVICE`` overrides.

    Apple's MPS is used only when asked for (``AELIB_DEVICE=mps``): the notebooks' asserts were measured on
    the CPU, MPS has never run them, and these small models gain little from it. ``prefer`` (or the environment variable
    ``AELIB_DEVICE``) may be ``"cpu"``, ``"cuda"``, ``"cuda:N"`` or ``"mps"`` (case-insensitive).

    Raises:
        ValueError: for a device name torch does not know, or one this machine does not have (e.g. ``cuda``
            without a CUDA build of torch and a GPU), naming where the choice came from and how to fix it.
    """
    source = "choose_device(prefer=...)" if prefer else DEVICE_ENV
    prefer = (prefer or os.environ.get(DEVICE_ENV, "")).strip() or None
    if prefer is None:
        return torch.device("cuda") if torch.cuda.is_available() else torch.device("cpu")
    fix = (f"unset {DEVICE_ENV} (the default picks CUDA if available, else the CPU), or set it to "
           "cpu, cuda, cuda:N or mps")
    try:
        dev = torch.device(prefer.lower())
    except RuntimeError:
        raise ValueError(f"{source}={prefer!r} is not a device torch knows: {fix}") from None
    if dev.type == "cpu":
        return dev
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            why = ("this torch is a CPU-only build" if torch.version.cuda is None
                   else "torch sees no CUDA GPU on this machine")
            raise ValueError(f"{source}={prefer!r} but {why}: {fix}")
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise ValueError(f"{source}={prefer!r} but this machine has {torch.cuda.device_count()} CUDA "
                             f"device(s): {fix}")
        return dev
    if dev.type == "mps":
        mps = getattr(torch.backends, "mps", None)
        if mps is None or not mps.is_available():
            raise ValueError(f"{source}={prefer!r} but Apple MPS is not available here: {fix}")
        return dev
    raise ValueError(f"{source}={prefer!r}: the notebooks run on cpu, cuda or mps, not {dev.type!r}: {fix}")


def in_notebook() -> bool:
    """True inside a Jupyter kernel (where a live plot and a widget progress bar make sense).

    Any kernel shell counts, subclasses too (Google Colab's shell subclasses ipykernel's); a terminal
    IPython or a plain Python process does not.
    """
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover
        return False
    ip = get_ipython()
    if ip is None:
        return False
    try:
        from ipykernel.zmqshell import ZMQInteractiveShell
    except ImportError:  # pragma: no cover - no ipykernel, so no kernel
        return False
    return isinstance(ip, ZMQInteractiveShell)


def as_tensor(x, device=None, dtype=torch.float32) -> torch.Tensor:
    """A numpy array or tensor as a tensor on ``device`` (default: :func:`choose_device`)."""
    device = choose_device() if device is None else torch.device(device)
    if isinstance(x, torch.Tensor):
        return x.to(device=device, dtype=dtype if x.is_floating_point() else x.dtype)
    arr = np.asarray(x)
    t = torch.from_numpy(np.ascontiguousarray(arr))
    return t.to(device=device, dtype=dtype if np.issubdtype(arr.dtype, np.floating) else t.dtype)


def to_numpy(t) -> np.ndarray:
    """A tensor (on any device, with or without grad) as a numpy array."""
    if isinstance(t, torch.Tensor):
        return t.detach().cpu().numpy()
    return np.asarray(t)


def model_device(model: torch.nn.Module) -> torch.device:
    """The device of a model's first parameter (CPU for a model without parameters)."""
    for p in model.parameters():
        return p.device
    return torch.device("cpu")


def apply(fn, x, batch_size: int = 1000, device=None) -> np.ndarray:
    """Run ``fn`` (e.g. ``model.encode``) over ``x`` in batches without gradients; return numpy.

    ``x``: array or tensor ``(n, d)``; the result is ``fn``'s output for all rows, concatenated on axis 0.
    The batches go to ``device`` (default: the device of ``fn``'s model if it is a bound method, else
    :func:`choose_device`).
    """
    if device is None:
        owner = getattr(fn, "__self__", fn)
        device = model_device(owner) if isinstance(owner, torch.nn.Module) else choose_device()
    out = []
    with torch.no_grad():
        for i in range(0, len(x), batch_size):
            out.append(to_numpy(fn(as_tensor(x[i:i + batch_size], device))))
    return np.concatenate(out, axis=0)


@dataclass
class History:
    """What :func:`fit` measured: per-epoch means of every logged quantity, and the time taken.

    ``train["loss"][e]`` is the mean training loss of epoch ``e + 1`` (in the loss function's units);
    ``val`` has the same keys, measured after each epoch on the validation data (empty without it).
    """

    train: dict = field(default_factory=dict)
    val: dict = field(default_factory=dict)
    seconds: float = 0.0
    device: str = "cpu"
    epochs: int = 0

    def __repr__(self) -> str:
        parts = [f"{k}={v[-1]:.4g}" for k, v in self.train.items()]
        parts += [f"val_{k}={v[-1]:.4g}" for k, v in self.val.items()]
        return f"History({self.epochs} epochs, {self.seconds:.1f} s on {self.device}: {', '.join(parts)})"


class LivePlot:
    """A loss curve that redraws in place in a notebook (a PNG updated through a display id).

    Redraws at most every ``interval`` seconds so that it costs little; :meth:`close` draws the last state.
    """

    def __init__(self, title: str = "", interval: float = 0.5):
        from IPython.display import display, HTML
        self.title, self.interval, self._last = title, interval, 0.0
        self._handle = display(HTML("<i>training&hellip;</i>"), display_id=True)

    def update(self, history: History, epochs: int, force: bool = False) -> None:
        now = time.perf_counter()
        if not force and now - self._last < self.interval:
            return
        self._last = now
        from IPython.display import Image
        from .plots import loss_curves, figure_png
        import matplotlib.pyplot as plt
        fig, ax = plt.subplots(figsize=(7, 3.2), dpi=100)     # 700x320 px: legible when projected
        loss_curves(history, ax=ax, keys=("loss",))
        ax.set_xlim(0.5, max(epochs, 1) + 0.5)
        ax.set_title(self.title or "training loss")
        png = figure_png(fig)
        plt.close(fig)
        self._handle.update(Image(png))

    def close(self, history: History, epochs: int) -> None:
        self.update(history, epochs, force=True)


def _mean_losses(model, loss_fn, data, batch_size, labels) -> dict:
    sums: dict = {}
    n = len(data[0])
    with torch.no_grad():
        for i in range(0, n, batch_size):
            batch = tuple(d[i:i + batch_size] for d in data)
            out = loss_fn(model, batch if labels else batch[0])
            out = out if isinstance(out, dict) else {"loss": out}
            b = len(batch[0])
            for k, v in out.items():
                sums[k] = sums.get(k, 0.0) + float(v) * b
    return {k: v / n for k, v in sums.items()}


def seconds_per_step(runs: dict, x, batch_size: int = 100, steps: int = 20, rounds: int = 5,
                     lr: float = 1e-3, device=None) -> dict:
    """The cost of one training step (forward, loss, backward, Adam update) of several models, timed in turns.

    Arguments:
        runs: ``{name: (model, loss_fn)}``, ``loss_fn(model, batch)`` as for :func:`fit` (a tensor or a dict with
            ``"loss"``). Each model is copied first: the originals are not changed.
        x: training inputs ``(n, d)``; the same ``batch_size`` rows are used for every step.
        steps, rounds: each round times ``steps`` steps of every model, one model after the other, so that a
            machine that speeds up or slows down during the measurement affects all of them alike.

    Returns ``{name: median over the rounds of the seconds per step}``.
    """
    import copy
    if steps < 1 or rounds < 1:
        raise ValueError(f"steps and rounds must be at least 1, got {steps} and {rounds}")
    batch = as_tensor(x[:batch_size], device)
    state = {}
    for name, (model, loss_fn) in runs.items():
        twin = copy.deepcopy(model).to(batch.device).train()
        state[name] = (twin, loss_fn, torch.optim.Adam(twin.parameters(), lr=lr))
    times: dict = {name: [] for name in runs}

    def step(twin, loss_fn, opt):
        out = loss_fn(twin, batch)
        loss = _loss_scalar(out if isinstance(out, dict) else {"loss": out})
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    for name, args in state.items():                      # one untimed warm-up step each
        step(*args)
    for _ in range(rounds):
        for name, args in state.items():
            if batch.device.type == "cuda":
                torch.cuda.synchronize()
            t0 = time.perf_counter()
            for _ in range(steps):
                step(*args)
            if batch.device.type == "cuda":
                torch.cuda.synchronize()
            times[name].append((time.perf_counter() - t0) / steps)
    return {name: float(np.median(t)) for name, t in times.items()}


def fit(model: torch.nn.Module, x_train, loss_fn, *, epochs: int = 10, batch_size: int = 100,
        lr: float = 1e-3, optimizer: str = "adam", weight_decay: float = 0.0, x_val=None,
        y_train=None, y_val=None, device=None, seed: int | None = None, live: bool | None = None,
        progress: bool = True, title: str = "", on_epoch=None, schedule: str = "constant") -> History:
    """Train ``model`` by minibatch gradient descent on ``loss_fn``; return a :class:`History`.

    Arguments:
        model: any ``torch.nn.Module``; it is moved to ``device`` and left there.
        x_train: inputs, array or tensor ``(n, d)`` (any trailing shape works).
        loss_fn: ``loss_fn(model, batch) -> tensor`` or ``dict`` with a ``"loss"`` key; ``batch`` is
            the input tensor, or ``(x, y)`` when ``y_train`` is given.
        epochs, batch_size, lr: the usual; the last partial batch is kept.
        optimizer: ``"adam"``, ``"adamw"`` or ``"sgd"`` (``weight_decay`` is passed to it).
        x_val, y_val: optional validation data, scored after every epoch without gradients.
        device: default :func:`choose_device` (CUDA if available, else the CPU).
        seed: seeds the shuffling (default: :func:`get_seed`); seed the model before building it.
        live: draw a live loss curve (default: only inside a notebook).
        progress: show a progress bar (``tqdm.auto``: a widget in Jupyter, text elsewhere).
        on_epoch: optional ``on_epoch(epoch, history)`` called after every epoch.
        schedule: ``"constant"`` learning rate, or ``"cosine"``: from ``lr`` down to 0 over the epochs
            (Loshchilov & Hutter 2017), which lets a larger starting ``lr`` converge.

    Raises:
        TrainingDiverged: if the loss becomes NaN or infinite, saying at which epoch and what to lower.
        ValueError: for an empty training set, integer (e.g. uint8) or NaN/inf inputs, a loss that is not
            one number, a non-positive batch size or epoch count, or an unknown optimizer.

    Warns (:class:`TrainingWarning`) when the last epoch's loss ends over 10 times the first's (a diverging
    run that stayed finite) or stopped moving (dead or saturated units), saying what to change.
    """
    if epochs < 1 or batch_size < 1:
        raise ValueError(f"epochs and batch_size must be at least 1, got {epochs} and {batch_size}")
    if len(x_train) == 0:
        raise ValueError("x_train is empty: pass at least one training example")
    _check_inputs(x_train, "x_train")
    if x_val is not None:
        _check_inputs(x_val, "x_val")
    device = choose_device(device) if not isinstance(device, torch.device) else device
    model.to(device)
    labels = y_train is not None
    train = (as_tensor(x_train, device),) + ((as_tensor(y_train, device),) if labels else ())
    val = None
    if x_val is not None:
        if labels and y_val is None:
            raise ValueError("with y_train given, pass y_val too (or no x_val)")
        val = (as_tensor(x_val, device),) + ((as_tensor(y_val, device),) if labels else ())
    opts = {"adam": torch.optim.Adam, "adamw": torch.optim.AdamW, "sgd": torch.optim.SGD}
    if optimizer not in opts:
        raise ValueError(f"unknown optimizer {optimizer!r}: choose one of {', '.join(opts)}")
    opt = opts[optimizer](model.parameters(), lr=lr, weight_decay=weight_decay)
    if schedule not in ("constant", "cosine"):
        raise ValueError(f"unknown schedule {schedule!r}: choose 'constant' or 'cosine'")
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs) if schedule == "cosine" else None
    gen = torch.Generator().manual_seed(get_seed(0) if seed is None else seed)

    hist = History(device=str(device))
    plot = LivePlot(title) if (in_notebook() if live is None else live) else None
    from tqdm.auto import tqdm
    bar = tqdm(range(1, epochs + 1), desc=title or "epochs", disable=not progress, leave=True)
    n = len(train[0])
    start_loss = None
    t0 = time.perf_counter()
    for epoch in bar:
        model.train()
        perm = torch.randperm(n, generator=gen).to(device)
        sums: dict = {}
        for i in range(0, n, batch_size):
            idx = perm[i:i + batch_size]
            batch = tuple(d[idx] for d in train)
            out = loss_fn(model, batch if labels else batch[0])
            out = out if isinstance(out, dict) else {"loss": out}
            loss = _loss_scalar(out)
            if start_loss is None:
                start_loss = float(loss.detach())
            if not torch.isfinite(loss):
                bar.close()
                raise TrainingDiverged(
                    f"training diverged at epoch {epoch}: the loss became {float(loss.detach())}. "
                    f"Lower the learning rate (lr={lr:g} now; try {lr / 10:g}).")
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            for k, v in out.items():
                sums[k] = sums.get(k, 0.0) + float(v.detach()) * len(idx)
        if sched is not None:
            sched.step()
        for k, v in sums.items():
            hist.train.setdefault(k, []).append(v / n)
        if val is not None:
            model.eval()
            for k, v in _mean_losses(model, loss_fn, val, 1000, labels).items():
                hist.val.setdefault(k, []).append(v)
        hist.epochs = epoch
        hist.seconds = time.perf_counter() - t0
        post = {"loss": f"{hist.train['loss'][-1]:.4g}"}
        if hist.val:
            post["val"] = f"{hist.val['loss'][-1]:.4g}"
        bar.set_postfix(post)
        if plot is not None:
            plot.update(hist, epochs)
        if on_epoch is not None:
            on_epoch(epoch, hist)
    model.eval()
    if plot is not None:
        plot.close(hist, epochs)
    _warn_if_diverged_or_stalled(hist.train["loss"], lr, start_loss)
    return hist
