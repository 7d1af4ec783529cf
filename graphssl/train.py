"""The pretraining loop: device, seeding, optimiser, progress, evaluation, checkpoint/resume."""

from __future__ import annotations

import math
import os
import random
import tempfile
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from torch_geometric.data import Data
from tqdm.auto import tqdm

from graphssl.data import validate


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """``"auto"`` is CUDA when available, else CPU; anything else is passed to torch."""
    if isinstance(device, torch.device):
        return device
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    dev = torch.device(device)
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device '{device}' was asked for but CUDA is not available")
    return dev


def seed_everything(seed: int) -> None:
    """Seeds Python, NumPy and torch (all devices)."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def _rng_state(method: nn.Module) -> dict[str, Any]:
    """The global RNG states and that of ``method.generator`` (the generator its views draw
    from, when one is set), for a resumed run to draw what an uninterrupted one would."""
    state: dict[str, Any] = {"torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    generator = getattr(method, "generator", None)
    if isinstance(generator, torch.Generator):
        state["method_generator"] = generator.get_state()
    return state


def _set_rng_state(state: dict[str, Any], method: nn.Module) -> None:
    # RNG states are CPU byte tensors; a checkpoint loaded onto a GPU holds them there
    torch.set_rng_state(state["torch"].cpu())
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all([s.cpu() for s in state["cuda"]])
    generator = getattr(method, "generator", None)
    saved = state.get("method_generator")
    if isinstance(generator, torch.Generator) != (saved is not None):
        raise ValueError(
            "the checkpoint was written by a method "
            + ("with" if saved is not None else "without")
            + " its own generator (method.generator) and this one has "
            + ("none" if saved is not None else "one")
            + "; resuming would draw other views than the interrupted run"
        )
    if saved is not None:
        generator.set_state(saved.cpu())


def _write_atomic(path: str | os.PathLike, write: Callable[[Any], None]) -> None:
    """Calls ``write(file)`` on a temporary file beside ``path``, then renames it to ``path``,
    so a crash or a kill mid-write never leaves a truncated file there."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def save_checkpoint(path: str | os.PathLike, state: dict[str, Any]) -> None:
    """Writes ``state`` with :func:`torch.save` atomically (temp file + rename), so a crash
    mid-write never leaves a truncated checkpoint behind."""
    _write_atomic(path, lambda f: torch.save(state, f))


def write_text_atomic(path: str | os.PathLike, text: str) -> None:
    """Writes ``text`` (UTF-8) to ``path`` atomically, as :func:`save_checkpoint` does: a
    results file is either whole or absent (a truncated one would be skipped as done)."""
    _write_atomic(path, lambda f: f.write(text.encode()))


def load_checkpoint(path: str | os.PathLike, map_location: Any = "cpu") -> dict[str, Any]:
    """Loads a checkpoint written by :func:`save_checkpoint` (``weights_only=True``)."""
    return torch.load(path, map_location=map_location, weights_only=True)


def checkpoint_epoch(path: str | os.PathLike) -> int:
    """The last finished epoch of the checkpoint at ``path``; its tensors are memory-mapped,
    not read."""
    return int(torch.load(path, map_location="cpu", weights_only=True, mmap=True)["epoch"])


def make_optimizer(
    params: Iterable[nn.Parameter], name: str = "adam", lr: float = 1e-3, weight_decay: float = 0.0
) -> torch.optim.Optimizer:
    """``"adam"``, ``"adamw"`` or ``"sgd"``."""
    name = name.lower()
    if name == "adam":
        return torch.optim.Adam(params, lr=lr, weight_decay=weight_decay)
    if name == "adamw":
        return torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay)
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr, weight_decay=weight_decay, momentum=0.9)
    raise ValueError(f"Unknown optimizer '{name}'; choose adam, adamw or sgd")


def lr_factor(schedule: str | None, epoch: int, epochs: int, warmup_epochs: int = 0) -> float:
    r"""The learning-rate multiplier at the start of ``epoch`` (0-based) of ``epochs``.

    - ``None`` / ``"constant"``: 1.
    - ``"cosine"``: :math:`\tfrac12(1 + \cos(\pi e / E))` (GraphMAE).
    - ``"warmup_cosine"``: linear warm-up over ``warmup_epochs``, then cosine decay to 0
      over the rest (BGRL).
    """
    if schedule in (None, "constant"):
        return 1.0
    if schedule == "cosine":
        return 0.5 * (1.0 + math.cos(math.pi * epoch / max(epochs, 1)))
    if schedule == "warmup_cosine":
        if epoch < warmup_epochs:
            return (epoch + 1) / warmup_epochs
        span = max(epochs - warmup_epochs, 1)
        return 0.5 * (1.0 + math.cos(math.pi * (epoch - warmup_epochs) / span))
    raise ValueError(f"Unknown lr schedule '{schedule}'; choose constant, cosine or warmup_cosine")


def _steps(data: Data | Iterable[Data]) -> Iterable[Data]:
    return [data] if isinstance(data, Data) else data


def pretrain(
    method: nn.Module,
    data: Data | Iterable[Data],
    *,
    epochs: int,
    lr: float = 1e-3,
    weight_decay: float = 0.0,
    optimizer: str = "adam",
    schedule: str | None = None,
    warmup_epochs: int = 0,
    device: str | torch.device = "auto",
    seed: int | None = None,
    patience: int = 0,
    eval_every: int = 0,
    eval_fn: Callable[[nn.Module], dict[str, float]] | None = None,
    checkpoint: str | os.PathLike | None = None,
    checkpoint_every: int = 0,
    checkpoint_every_seconds: float = 0.0,
    resume: bool = False,
    progress: bool = True,
    amp: bool = False,
) -> list[dict[str, float]]:
    r"""Trains ``method`` without labels for ``epochs`` epochs.

    One epoch is one step on ``data`` when it is a single graph (full batch), or one pass
    over it when it is an iterable of batches (e.g. a ``DataLoader``). Each step calls
    ``method.loss(batch)``, backpropagates, steps the optimiser and then ``method.update()``
    when the method has one (EMA targets).

    Args:
        method: a graphssl method (``loss(batch) -> Tensor``, optional ``update()``).
        data: a graph or an iterable of batches; moved to ``device`` step by step.
        epochs: number of epochs.
        lr, weight_decay, optimizer: the optimiser.
        schedule, warmup_epochs: learning-rate schedule over the epochs (see
            :func:`lr_factor`): ``None``, ``"cosine"`` or ``"warmup_cosine"``.
        device: ``"auto"`` (CUDA when present), ``"cpu"``, ``"cuda"``, ``"cuda:1"``...
        seed: seeds Python, NumPy and torch first (``None`` leaves the RNGs as they are).
        patience: with ``patience > 0``, stop once the epoch loss has not improved for
            ``patience`` epochs and restore the weights of the best-loss epoch (DGI's and
            MVGRL's early stopping on the training loss).
        eval_every: call ``eval_fn(method)`` every this many epochs (and after the last);
            its returned metrics are added to the history.
        checkpoint: path of a checkpoint file written every ``checkpoint_every`` epochs and
            at the end (atomic write).
        checkpoint_every_seconds: also write it after the first epoch that ends at least this
            many seconds after the last write (0: off), so that a run killed without warning
            (a job's time limit) loses at most about this much work, however slow its epochs.
        resume: continue from ``checkpoint`` when it exists (model, optimiser, the global RNG
            states, ``method.generator``'s if it has one, and history are restored, so the
            result equals an uninterrupted run).
        progress: show a progress bar with the loss.
        amp: mixed precision: each step's ``method.loss`` runs under bfloat16 autocast on
            ``device``: linear maps and matmuls in bfloat16, while the weights, optimiser
            state and gradients stay float32 (no loss scaling needed) and every graphssl
            objective computes its loss in float32
            (:func:`~graphssl.objectives.precision.full_precision`), so that the gradient
            stays close to the float32 one (tested on GRACE's first step on Cora).

    Returns:
        The history: one dict per epoch with ``epoch``, ``loss``, ``time`` and any metrics.
    """
    if epochs < 0:
        raise ValueError(f"epochs must be >= 0 (got {epochs})")
    if resume and checkpoint is None:
        raise ValueError("resume=True needs a checkpoint path")
    if not checkpoint_every_seconds >= 0:
        raise ValueError(f"checkpoint_every_seconds must be >= 0 (got {checkpoint_every_seconds})")
    dev = resolve_device(device)
    if isinstance(data, Data):
        validate(data)
        data = data.to(dev)
    if seed is not None:
        seed_everything(seed)
    method.to(dev)
    opt = make_optimizer(method.parameters(), optimizer, lr, weight_decay)
    lr_factor(schedule, 0, epochs, warmup_epochs)  # unknown names fail before training
    if patience < 0:
        raise ValueError(f"patience must be >= 0 (got {patience})")
    history: list[dict[str, float]] = []
    start_epoch = 1
    best: dict[str, Any] = {"loss": math.inf, "epoch": 0, "model": None}
    stopped = False
    if resume and checkpoint is not None and Path(checkpoint).exists():
        state = load_checkpoint(checkpoint, map_location=dev)
        method.load_state_dict(state["model"])
        opt.load_state_dict(state["optimizer"])
        _set_rng_state(state["rng"], method)
        history = list(state["history"])
        start_epoch = int(state["epoch"]) + 1
        if start_epoch - 1 > epochs:
            raise ValueError(
                f"checkpoint {checkpoint} is at epoch {start_epoch - 1}, past epochs={epochs}"
            )
        best = state.get("best", best)
        stopped = bool(state.get("stopped", False))

    def save(epoch: int) -> None:
        if checkpoint is not None:
            save_checkpoint(
                checkpoint,
                {
                    "model": method.state_dict(),
                    "optimizer": opt.state_dict(),
                    "epoch": epoch,
                    "rng": _rng_state(method),
                    "history": history,
                    "best": best,
                    "stopped": stopped,
                },
            )

    update = getattr(method, "update", None)
    last_save = time.monotonic()
    bar = tqdm(
        range(start_epoch, 1 if stopped else epochs + 1),
        disable=not progress,
        desc="pretrain",
        initial=start_epoch - 1,
        total=epochs,
        dynamic_ncols=True,
    )
    for epoch in bar:
        method.train()
        for group in opt.param_groups:
            group["lr"] = lr * lr_factor(schedule, epoch - 1, epochs, warmup_epochs)
        t0 = time.perf_counter()
        total, count = 0.0, 0
        for batch in _steps(data):
            batch = batch.to(dev)
            opt.zero_grad(set_to_none=True)
            with torch.autocast(dev.type, dtype=torch.bfloat16, enabled=amp):
                loss = method.loss(batch)
            if not torch.isfinite(loss):
                raise FloatingPointError(
                    f"loss became {loss.item()} at epoch {epoch}, step {count + 1}; lower the "
                    f"learning rate or check the inputs (the last checkpoint, if any, is kept)"
                )
            loss.backward()
            opt.step()
            if callable(update):
                update()
            total += float(loss.detach())
            count += 1
        record: dict[str, float] = {
            "epoch": epoch,
            "loss": total / max(count, 1),
            "time": time.perf_counter() - t0,
        }
        if eval_fn is not None and eval_every > 0 and (epoch % eval_every == 0 or epoch == epochs):
            record.update(eval_fn(method))
        history.append(record)
        bar.set_postfix(
            {
                k: f"{v:.4g}"
                for k, v in record.items()
                if k not in ("epoch", "time") and isinstance(v, float) and math.isfinite(v)
            }
        )
        if patience > 0:
            if record["loss"] < best["loss"]:
                best = {"loss": record["loss"], "epoch": epoch, "model": _cpu_state(method)}
            elif epoch - best["epoch"] >= patience:
                method.load_state_dict(best["model"])
                stopped = True
                save(epoch)
                if progress:
                    bar.write(
                        f"early stop at epoch {epoch}: best loss {best['loss']:.4g} at epoch "
                        f"{best['epoch']} (weights restored)"
                    )
                break
        due = checkpoint_every > 0 and epoch % checkpoint_every == 0
        late = 0 < checkpoint_every_seconds <= time.monotonic() - last_save
        if due or late:
            save(epoch)
            last_save = time.monotonic()
    if checkpoint is not None and not stopped and (not history or history[-1]["epoch"] == epochs):
        save(epochs)
    return history


def _cpu_state(module: nn.Module) -> dict[str, Any]:
    """A copy of ``module``'s state dict on the CPU (for keeping the best weights)."""
    return {k: v.detach().to("cpu", copy=True) for k, v in module.state_dict().items()}
