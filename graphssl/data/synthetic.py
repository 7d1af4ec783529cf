"""Synthetic graphs that need no files: the contextual stochastic block model (CSBM).

A CSBM plants balanced classes, draws edges mostly within classes (``homophily``) and gives each
node a noisy Gaussian feature around its class mean. The defaults make raw features alone weakly
informative while the graph structure is strongly informative, so neighbourhood aggregation (and
hence a good self-supervised GNN embedding) clearly beats a linear model on raw features:

==========================================  =========
logistic regression on (default split)      accuracy
==========================================  =========
raw features ``x``                          ~ 60 %
2-hop mean aggregation of ``x``             ~ 99 %
==========================================  =========
"""

from __future__ import annotations

import torch
from torch import Tensor
from torch_geometric.data import Data
from torch_geometric.utils import coalesce, remove_self_loops, to_undirected

from graphssl.data.splits import random_split

__all__ = ["make_csbm"]


def make_csbm(
    num_nodes: int = 2000,
    num_classes: int = 4,
    num_features: int = 64,
    avg_degree: float = 10.0,
    homophily: float = 0.8,
    feature_noise: float = 0.6,
    seed: int = 0,
) -> Data:
    r"""Samples a contextual stochastic block model graph.

    * Classes: ``num_nodes`` nodes in ``num_classes`` balanced classes (sizes differ by at most
      one), assigned in random order.
    * Edges: ``num_nodes * avg_degree / 2`` undirected node pairs are drawn; each starts at a
      uniformly random node and, with probability ``homophily``, ends at a random node of the same
      class, else at a random node of another class. Self loops and duplicates are removed, and
      ``edge_index`` is symmetric and coalesced. So each node has on average about
      ``avg_degree`` neighbours, a fraction ``homophily`` of them in its own class.
    * Features: ``x = mu[y] + feature_noise * N(0, I)``, where the class means ``mu`` are random
      unit vectors in ``num_features`` dimensions.

    Args:
        num_nodes: number of nodes.
        num_classes: number of planted classes (at least 2).
        num_features: feature dimension.
        avg_degree: expected number of neighbours per node.
        homophily: expected fraction of a node's edges inside its class, in ``[0, 1]``.
        feature_noise: standard deviation of the Gaussian feature noise.
        seed: seeds a private :class:`torch.Generator`; the result depends only on the arguments.

    Returns:
        A :class:`~torch_geometric.data.Data` with ``x`` ``[num_nodes, num_features]``
        (``float32``), ``edge_index`` ``[2, num_edges]``, ``y`` ``[num_nodes]`` and the boolean
        masks ``train_mask`` / ``val_mask`` / ``test_mask`` of a 10/10/80 random split drawn with
        the same ``seed``.
    """
    _check_args(num_nodes, num_classes, num_features, avg_degree, homophily, feature_noise)
    generator = torch.Generator().manual_seed(int(seed))
    y = torch.randperm(num_nodes, generator=generator) % num_classes
    edge_index = _sample_edges(y, num_classes, avg_degree, homophily, generator)
    x = _sample_features(y, num_classes, num_features, feature_noise, generator)

    data = Data(x=x, edge_index=edge_index, y=y)
    split = random_split(num_nodes, 0.1, 0.1, seed=seed)
    data.train_mask, data.val_mask, data.test_mask = split.masks(num_nodes)
    return data


def _check_args(
    num_nodes: int,
    num_classes: int,
    num_features: int,
    avg_degree: float,
    homophily: float,
    feature_noise: float,
) -> None:
    if num_classes < 2:
        raise ValueError(f"num_classes must be >= 2, got {num_classes}.")
    if num_nodes < 10 * num_classes:
        raise ValueError(
            f"num_nodes={num_nodes} is too small for {num_classes} classes and a 10/10/80 split; "
            f"use at least {10 * num_classes}."
        )
    if num_features < 1:
        raise ValueError(f"num_features must be >= 1, got {num_features}.")
    if not 0.0 < avg_degree < num_nodes - 1:
        raise ValueError(f"avg_degree must be in (0, num_nodes - 1), got {avg_degree}.")
    if not 0.0 <= homophily <= 1.0:
        raise ValueError(f"homophily must be in [0, 1], got {homophily}.")
    if feature_noise < 0.0:
        raise ValueError(f"feature_noise must be >= 0, got {feature_noise}.")


def _sample_edges(
    y: Tensor,
    num_classes: int,
    avg_degree: float,
    homophily: float,
    generator: torch.Generator,
) -> Tensor:
    r"""Draws ``[2, num_edges]`` symmetric, coalesced edges without self loops."""
    num_nodes = y.numel()
    num_pairs = round(num_nodes * avg_degree / 2)
    # Nodes grouped by class: class ``c`` owns ``members[start[c] : start[c] + size[c]]``.
    members = torch.argsort(y, stable=True)
    size = torch.bincount(y, minlength=num_classes)
    start = torch.cumsum(size, 0) - size

    src = torch.randint(num_nodes, (num_pairs,), generator=generator)
    same = torch.rand(num_pairs, generator=generator) < homophily
    shift = torch.randint(1, num_classes, (num_pairs,), generator=generator)
    dst_class = torch.where(same, y[src], (y[src] + shift) % num_classes)
    offset = (torch.rand(num_pairs, generator=generator) * size[dst_class]).long()
    dst = members[start[dst_class] + offset.clamp_max(size[dst_class] - 1)]

    edge_index, _ = remove_self_loops(torch.stack([src, dst]))
    edge_index = to_undirected(edge_index, num_nodes=num_nodes)
    return coalesce(edge_index, num_nodes=num_nodes)


def _sample_features(
    y: Tensor,
    num_classes: int,
    num_features: int,
    feature_noise: float,
    generator: torch.Generator,
) -> Tensor:
    r"""Draws ``[num_nodes, num_features]`` features around random unit class means."""
    means = torch.randn(num_classes, num_features, generator=generator)
    means = means / means.norm(dim=1, keepdim=True).clamp_min(1e-12)
    noise = torch.randn(y.numel(), num_features, generator=generator)
    return means[y] + feature_noise * noise
