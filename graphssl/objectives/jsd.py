"""Jensen-Shannon / binary-discriminator loss (DGI, InfoGraph, MVGRL)."""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor

from graphssl.objectives.precision import full_precision


@full_precision
def jsd_loss(pos: Tensor, neg: Tensor) -> Tensor:
    r"""Negative Jensen-Shannon MI lower bound on discriminator scores.

    .. math::
        \mathcal{L} = \mathbb{E}_{pos}[\operatorname{softplus}(-s)]
                    + \mathbb{E}_{neg}[\operatorname{softplus}(s)]

    (InfoGraph's JSD estimator up to the constant :math:`2 \log 2`). With as many positives
    as negatives it is twice DGI's ``BCEWithLogitsLoss`` over the concatenated scores
    (positives labelled 1, negatives 0), which averages over both sets at once: the same
    gradient direction, and the same Adam steps (up to its eps) without weight decay.

    Args:
        pos: scores of positive pairs ``[P]`` (any shape).
        neg: scores of negative pairs ``[Q]`` (any shape).
    """
    if pos.numel() == 0 or neg.numel() == 0:
        raise ValueError("jsd_loss needs at least one positive and one negative score")
    return F.softplus(-pos).mean() + F.softplus(neg).mean()
