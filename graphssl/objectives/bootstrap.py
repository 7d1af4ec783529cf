"""Bootstrap (BYOL / BGRL) loss: predict the target view's embedding."""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor

from graphssl.objectives.precision import full_precision


@full_precision
def bootstrap_loss(prediction: Tensor, target: Tensor) -> Tensor:
    r"""``2 - 2 cos(prediction, target)``, averaged over rows; the target gets no gradient.

    It is 0 when each prediction points the same way as its target and 4 when opposite, so
    minimising it aligns them (PyGCL's ``BootstrapLatent`` returns ``+cos``, the wrong sign).

    Args:
        prediction: ``[N, dim]`` online predictions.
        target: ``[N, dim]`` target-network embeddings (detached inside).
    """
    if prediction.shape != target.shape:
        raise ValueError(
            f"prediction and target must have the same shape "
            f"(got {tuple(prediction.shape)} and {tuple(target.shape)})"
        )
    cos = F.cosine_similarity(prediction, target.detach(), dim=-1)
    return (2 - 2 * cos).mean()
