"""Collapse check for learned embeddings: do they all point the same way?"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

#: Mean pairwise cosine above which :func:`run_pretraining <graphssl.experiment.run_pretraining>`
#: calls a pretraining collapsed. Non-negative embeddings sit far below it: GCA's ReLU
#: embeddings of Amazon-Photo at 0.37-0.41, Cora's bag-of-words features under 0.2. It judges
#: the final embeddings only: a run that collapsed and recovered partly passes (GCA Photo
#: seed 3: loss at log(2N - 1) from epoch 30 to 1610, cosine 0.80 at epoch 2000).
COLLAPSE_COSINE = 0.99


def mean_cosine_similarity(z: Tensor) -> float:
    r"""The mean cosine similarity over all ordered pairs of distinct rows of ``z``, exactly,
    in :math:`O(Nd)`: with :math:`u_i = z_i / \lVert z_i \rVert`,
    :math:`\sum_{i \ne j} u_i^\top u_j = \lVert \sum_i u_i \rVert^2 - \sum_i \lVert u_i \rVert^2`.

    Near 1 when the embeddings have collapsed onto one direction (for InfoNCE that is the
    loss sitting at :math:`\log(2N - 1)`); a zero row counts as cosine 0 with every row.

    Args:
        z: embeddings, shape ``[N, d]`` with ``N >= 2``.

    Returns:
        a float in ``[-1/(N-1), 1]``.
    """
    if z.dim() != 2 or z.size(0) < 2:
        raise ValueError(f"expected embeddings of shape [N >= 2, d], got {tuple(z.shape)}")
    if not torch.isfinite(z).all():
        raise ValueError("the embeddings hold NaN or infinite values")
    u = F.normalize(z.detach().to(torch.float64), dim=1)
    n = u.size(0)
    pairs = u.sum(0).square().sum() - u.square().sum()
    return (pairs / (n * (n - 1))).item()


def is_collapsed(cosine: float) -> bool:
    """Whether a mean pairwise cosine (:func:`mean_cosine_similarity`) marks embeddings as
    collapsed: above :data:`COLLAPSE_COSINE`."""
    return cosine > COLLAPSE_COSINE
