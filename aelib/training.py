"""One training loop for every notebook: :func:`fit` (progress bar, live loss curve, history), and the cost of a step.

The loss is a function ``loss_fn(model, batch)``, written in the chapter that teaches it (or taken from
:mod:`aelib.vae` once a chapter has checked it against its own), that returns a scalar tensor, or a dict of scalar tensors with a ``"loss"`` entry (the one minimised; the others,
e.g. ``"recon"`` and ``"kl"``, are logged). ``batch`` is a tensor ``(b, d)`` of inputs, or the tuple
``(x, y)`` when labels are passed to :func:`fit`.

The optimiser is :func:`make_optimizer`'s (fused Adam by default). Seeds, devices and tensor conversion are
:mod:`aelib.runtime`'s; the live loss curve is :class:`aelib.plots.LivePlot`.
"""
from __future__ import annotations

import copy
import math
import time
import warnings
from dataclasses import dataclass, field

import numpy as np
import torch
from tqdm.auto import tqdm

from . import threads
from .plots import LivePlot
from .runtime import as_tensor, choose_device, get_seed, in_notebook


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


FROZEN_SHARE = 0.9          # a flat tail warns only if this share of the gradient entries is exactly zero


def _frozen_share(model, loss_fn, batch, labels) -> float:
    """The share of the model's gradient entries that are exactly zero for one ``batch`` (0 to 1).

    Dead ReLUs and saturated sigmoids pass no gradient at all (the share is near 1); a model that converged, or
    whose learning rate a schedule took to zero, still has gradients almost everywhere. Runs ``loss_fn`` once more
    with the random streams saved and restored (a VAE's loss draws noise), so the caller's later draws are
    unchanged; the model's own gradients are cleared afterwards."""
    params = [p for p in model.parameters() if p.requires_grad]
    if not params:
        return 0.0
    devices = [p.device for p in params if p.device.type == "cuda"][:1]
    with torch.random.fork_rng(devices=devices), torch.enable_grad():
        for p in params:
            p.grad = None
        out = loss_fn(model, batch if labels else batch[0])
        _loss_scalar(out if isinstance(out, dict) else {"loss": out}).backward()
    zero = sum(int((p.grad == 0).sum()) if p.grad is not None else p.numel() for p in params)
    for p in params:
        p.grad = None
    return zero / sum(p.numel() for p in params)


def _warn_if_diverged_or_stalled(losses: list, lr: float, start: float, frozen=None) -> None:
    """Warn when the mean training loss ended far above where it started, or stopped moving because the model's
    units stopped passing gradients.

    ``losses``: the epochs' mean training losses; ``start``: the loss of the first batch before any step
    (the untrained model's); ``frozen``: a function returning the share of gradient entries that are exactly zero
    now (:func:`_frozen_share`), called only when the tail is flat.
    Stopped: the last three epochs' mean losses equal to within ``STALL_RTOL`` *and* at least ``FROZEN_SHARE`` of
    the gradient entries exactly zero. A flat tail alone is not enough: a model at its optimum whose learning rate a
    cosine schedule has taken to zero is flat too, and nothing is wrong with it.
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
        share = frozen() if frozen is not None else 1.0
        if share < FROZEN_SHARE:
            return                                  # converged, or the schedule ended: gradients still flow
        flat_from = next(i for i in range(len(losses)) if all(
            abs(v - tail[0]) <= STALL_RTOL * max(abs(tail[0]), 1e-12) for v in losses[i:]))
        warnings.warn(f"the loss stopped moving at {last:.6g} (epochs {flat_from + 1}-{len(losses)} all alike) and "
                      f"{share:.0%} of the gradients are exactly zero: the model no longer learns. Usually a learning "
                      f"rate far too large has killed or saturated its units (ReLUs that output 0, a sigmoid stuck "
                      f"at 0 or 1): lower it (lr={lr:g} now; try {lr / 100:g}) and rebuild the model.",
                      TrainingWarning, stacklevel=3)


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


def seconds_per_step(runs: dict, x, batch_size: int = 100, steps: int = 10, rounds: int = 5,
                     lr: float = 1e-3, device=None) -> dict:
    """The cost of one training step (forward, loss, backward, and the Adam update :func:`fit` uses, from
    :func:`make_optimizer`) of several models, timed in turns.

    Arguments:
        runs: ``{name: (model, loss_fn)}``, ``loss_fn(model, batch)`` as for :func:`fit` (a tensor or a dict with
            ``"loss"``). Each model is copied first: the originals are not changed.
        x: training inputs ``(n, d)``; the same ``batch_size`` rows are used for every step.
        steps, rounds: each round times ``steps`` steps of every model, one model after the other, so that a
            machine that speeds up or slows down during the measurement affects all of them alike. The
            defaults take about 50 steps per model.

    Returns ``{name: median over the rounds of the seconds per step}``.
    """
    if steps < 1 or rounds < 1:
        raise ValueError(f"steps and rounds must be at least 1, got {steps} and {rounds}")
    batch = as_tensor(x[:batch_size], device)
    state = {}
    for name, (model, loss_fn) in runs.items():
        twin = copy.deepcopy(model).to(batch.device).train()
        state[name] = (twin, loss_fn, make_optimizer(twin.parameters(), lr=lr, device=batch.device))  # fit's Adam
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


_OPTIMIZERS = {"adam": "Adam", "adamw": "AdamW", "sgd": "SGD"}


def make_optimizer(params, name: str = "adam", *, lr: float = 1e-3, fused: bool | None = None, device=None,
                   **kwargs) -> torch.optim.Optimizer:
    """``torch.optim.Adam``, ``AdamW`` or ``SGD`` over ``params``, with PyTorch's fused Adam kernel where it helps.

    Arguments:
        params: the parameters (``model.parameters()``) or parameter groups.
        name: ``"adam"``, ``"adamw"`` or ``"sgd"``.
        lr: the learning rate; ``kwargs`` (``weight_decay``, ``betas``, ``momentum`` ...) go to the optimiser.
        fused: one fused pass over each parameter tensor instead of a dozen elementwise operations: the same update
            to rounding, and 10-40 % off a small model's whole training step on one CPU thread (the smaller the
            model, the more of its step the optimiser is). Default: on for Adam and AdamW on the CPU and CUDA where
            this torch has the kernel (the CPU's since torch 2.4), else off; ``False`` gives the plain optimiser of
            PyTorch's examples.
        device: where the parameters live (default :func:`choose_device`); decides the default of ``fused``.

    Raises:
        ValueError: an unknown ``name``, or ``fused=True`` with SGD.
    """
    if name not in _OPTIMIZERS:
        raise ValueError(f"unknown optimizer {name!r}: choose one of {', '.join(_OPTIMIZERS)}")
    device = choose_device(device) if not isinstance(device, torch.device) else device
    if fused and name not in ("adam", "adamw"):
        raise ValueError(f"fused=True needs optimizer 'adam' or 'adamw', got {name!r}")
    cls = getattr(torch.optim, _OPTIMIZERS[name])
    if fused is None and name in ("adam", "adamw") and device.type in ("cpu", "cuda"):
        params = list(params)
        try:
            return cls(params, lr=lr, **kwargs, fused=True)
        except (RuntimeError, TypeError, ValueError):   # a torch without the fused kernel here (CPU: before 2.4)
            pass
    return cls(params, lr=lr, **kwargs, **({"fused": True} if fused else {}))


def _train_epoch(model, loss_fn, opt, train: tuple, labels: bool, batch_size: int, gen, cores, where: dict,
                 lr: float) -> dict:
    """One pass over ``train`` (a tuple of tensors, inputs first) in a random order drawn from ``gen``: a step per
    minibatch. Returns the sums over the examples of every logged quantity; ``where["batch"]`` follows the batch
    in progress and ``where["start_loss"]`` is the first batch's loss (the untrained model's, in the first epoch)."""
    model.train()
    n = len(train[0])
    perm = torch.randperm(n, generator=gen).to(train[0].device)
    sums: dict = {}
    for where["batch"], i in enumerate(range(0, n, batch_size), start=1):
        idx = perm[i:i + batch_size]
        batch = tuple(d[idx] for d in train)
        out = loss_fn(model, batch if labels else batch[0])
        out = out if isinstance(out, dict) else {"loss": out}
        loss = _loss_scalar(out)
        where.setdefault("start_loss", float(loss.detach()))
        if not torch.isfinite(loss):
            raise TrainingDiverged(f"training diverged at epoch {where['epoch']}: the loss became "
                                   f"{float(loss.detach())}. Lower the learning rate (lr={lr:g} now; try {lr / 10:g}).")
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        cores.tick()                                  # the thread policy decides again now and then
        for k, v in out.items():
            sums[k] = sums.get(k, 0.0) + float(v.detach()) * len(idx)
    return sums


def _core_cap(cores: int | None) -> int | None:
    """``cores`` capped at the cores this kernel has (:func:`aelib.threads.available_cores`); None stays None."""
    return None if cores is None else min(cores, threads.available_cores())


def fit(model: torch.nn.Module, x_train, loss_fn, *, epochs: int = 10, batch_size: int = 100,
        lr: float = 1e-3, optimizer: str = "adam", weight_decay: float = 0.0, x_val=None,
        y_train=None, y_val=None, device=None, seed: int | None = None, live: bool | None = None,
        progress: bool = True, title: str = "", on_epoch=None, schedule: str = "constant",
        fused: bool | None = None, cores: int | None = None) -> History:
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
        fused: PyTorch's fused Adam/AdamW kernel (see :func:`make_optimizer`; default on the CPU and CUDA).
        cores: the most CPU threads this run may train with (default: every core the kernel has while it trains
            alone, :mod:`aelib.threads`). ``cores=1`` trains with one thread, as code outside ``fit`` runs: a
            different number of threads adds numbers in a different order, so only then does ``fit`` give the
            very same weights as a hand-written loop on every CPU. ``AELIB_THREADS=N`` overrides it.

    Raises:
        TrainingDiverged: if the loss becomes NaN or infinite, saying at which epoch and what to lower.
        ValueError: for an empty training set, integer (e.g. uint8) or NaN/inf inputs, a loss that is not
            one number, a non-positive batch size, epoch count or ``cores``, or an unknown optimizer.

    Warns (:class:`TrainingWarning`) when the last epoch's loss ends over 10 times the first's (a diverging
    run that stayed finite), or stopped moving with its gradients gone (dead or saturated units), saying what to
    change. A model that converged, or whose schedule took the learning rate to zero, is not warned about.

    Interrupted (Kernel -> Interrupt, ``KeyboardInterrupt``): the interrupt still stops the cell, after a line that
    says at which epoch and batch; the model keeps its last step's weights, in eval mode, ready to use.
    """
    if epochs < 1 or batch_size < 1:
        raise ValueError(f"epochs and batch_size must be at least 1, got {epochs} and {batch_size}")
    if cores is not None and (not isinstance(cores, int) or cores < 1):
        raise ValueError(f"cores must be a whole number of at least 1 (or None for every core), got {cores!r}")
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
    opt = make_optimizer(model.parameters(), optimizer, lr=lr, weight_decay=weight_decay, fused=fused, device=device)
    if schedule not in ("constant", "cosine"):
        raise ValueError(f"unknown schedule {schedule!r}: choose 'constant' or 'cosine'")
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs) if schedule == "cosine" else None
    gen = torch.Generator().manual_seed(get_seed(0) if seed is None else seed)

    hist = History(device=str(device))
    plot = LivePlot(title) if (in_notebook() if live is None else live) else None
    bar = tqdm(range(1, epochs + 1), desc=title or "epochs", disable=not progress, leave=True)
    n = len(train[0])
    start_loss = None
    t0 = time.perf_counter()
    where = {"epoch": 0, "batch": 0}
    try:
        with threads.TrainingThreads(_core_cap(cores)) as policy:     # every core while training alone (aelib.threads)
            for epoch in bar:
                where["epoch"] = epoch
                sums = _train_epoch(model, loss_fn, opt, train, labels, batch_size, gen, policy, where, lr)
                if start_loss is None:
                    start_loss = where["start_loss"]
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
    except KeyboardInterrupt:                   # Kernel -> Interrupt: stop the cell, keep a usable model
        model.eval()
        bar.close()
        if plot is not None and hist.epochs:
            plot.close(hist, epochs)
        print(f"Training interrupted at epoch {where['epoch']} of {epochs} (batch {where['batch']} of "
              f"{math.ceil(n / batch_size)}): the model keeps the weights of its last step ({hist.epochs} whole "
              "epochs) and is ready to use, less trained than the text assumes. Run the cell again to train it "
              "fully.", flush=True)
        raise
    except TrainingDiverged:
        bar.close()
        raise
    model.eval()
    if plot is not None:
        plot.close(hist, epochs)
    first = tuple(d[:batch_size] for d in train)
    _warn_if_diverged_or_stalled(hist.train["loss"], lr, start_loss,
                                 frozen=lambda: _frozen_share(model, loss_fn, first, labels))
    return hist
