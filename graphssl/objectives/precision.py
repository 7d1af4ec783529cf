"""The objectives' precision under mixed-precision training."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import torch
from torch import Tensor

F = TypeVar("F", bound=Callable[..., Tensor])

_LOW_PRECISION = (torch.bfloat16, torch.float16)


def _to_float32(value: Any) -> Any:
    if isinstance(value, Tensor) and value.dtype in _LOW_PRECISION:
        return value.float()
    return value


def full_precision(fn: F) -> F:
    """Runs the objective ``fn`` with autocast off and its bfloat16 / float16 tensor
    arguments cast to float32 (float32 and float64 ones are kept), as autocast does for
    PyTorch's own losses: their reductions (sums over nodes, cross-correlations, softmax
    denominators) lose the training signal in 8-bit mantissas. The loss is then float32."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Tensor:
        device = next(
            (a.device.type for a in (*args, *kwargs.values()) if isinstance(a, Tensor)), "cpu"
        )
        with torch.autocast(device, enabled=False):
            args = tuple(_to_float32(a) for a in args)
            kwargs = {k: _to_float32(v) for k, v in kwargs.items()}
            return fn(*args, **kwargs)

    return wrapper  # type: ignore[return-value]
