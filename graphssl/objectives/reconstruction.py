"""Reconstruction and metric losses: scaled cosine error (GraphMAE), triplet margin."""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor

from graphssl.objectives.precision import full_precision


@full_precision
def sce_loss(x: Tensor, target: Tensor, alpha: float = 2.0) -> Tensor:
    r"""Scaled cosine error (GraphMAE): ``mean((1 - cos(x_i, target_i)) ** alpha)``.

    Args:
        x: ``[N, dim]`` reconstructions (of the masked nodes).
        target: ``[N, dim]`` original features.
        alpha: sharpening exponent (>= 1).
    """
    if x.shape != target.shape:
        raise ValueError(
            f"x and target must have the same shape "
            f"(got {tuple(x.shape)} and {tuple(target.shape)})"
        )
    if alpha < 1:
        raise ValueError(f"alpha must be >= 1 (got {alpha})")
    cos = F.cosine_similarity(x, target, dim=-1)
    return (1 - cos).pow(alpha).mean()


@full_precision
def triplet_margin_loss(
    anchor: Tensor, positive: Tensor, negative: Tensor, margin: float = 1.0
) -> Tensor:
    r"""``mean(max(0, d(a, p) - d(a, n) + margin))`` with Euclidean distance ``d``.

    Args:
        anchor, positive, negative: ``[N, dim]``.
        margin: the required gap.
    """
    if not anchor.shape == positive.shape == negative.shape:
        raise ValueError("anchor, positive and negative must have the same shape")
    d_pos = (anchor - positive).norm(dim=-1)
    d_neg = (anchor - negative).norm(dim=-1)
    return F.relu(d_pos - d_neg + margin).mean()
