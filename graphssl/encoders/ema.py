"""Helpers for target networks updated by exponential moving average (BGRL, BYOL)."""

from __future__ import annotations

import copy
import math

import torch
from torch import nn


def frozen_copy(module: nn.Module) -> nn.Module:
    """A deep copy of ``module`` whose parameters take no gradient."""
    target = copy.deepcopy(module)
    for p in target.parameters():
        p.requires_grad_(False)
    return target


@torch.no_grad()
def ema_update(target: nn.Module, online: nn.Module, momentum: float) -> None:
    r"""``target <- momentum * target + (1 - momentum) * online`` for every parameter; buffers
    (e.g. batch-norm statistics) are copied from ``online``."""
    if not 0.0 <= momentum <= 1.0:
        raise ValueError(f"momentum must be in [0, 1] (got {momentum})")
    for t, o in zip(target.parameters(), online.parameters(), strict=True):
        t.lerp_(o, 1.0 - momentum)
    for t, o in zip(target.buffers(), online.buffers(), strict=True):
        t.copy_(o)


def cosine_momentum(step: int, total_steps: int, base: float = 0.99, final: float = 1.0) -> float:
    r"""BYOL/BGRL's schedule: ``final - (final - base) * (cos(pi * step / total) + 1) / 2``,
    from ``base`` at step 0 to ``final`` at ``total_steps``."""
    if total_steps <= 0:
        raise ValueError(f"total_steps must be > 0 (got {total_steps})")
    progress = min(max(step / total_steps, 0.0), 1.0)
    return final - (final - base) * (math.cos(math.pi * progress) + 1) / 2
