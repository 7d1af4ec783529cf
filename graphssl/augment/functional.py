"""Functional core of graphssl's augmentations: tensors in, tensors out.

Every function draws its randomness from the ``generator`` it is given (or the global RNG
when ``None``), never mutates its inputs and runs on the device of its inputs.
"""

from __future__ import annotations

import torch
from torch import Tensor


def _check_prob(p: float, name: str = "p") -> None:
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"{name} must be a probability in [0, 1] (got {p})")


def _uniform(
    shape: tuple[int, ...], device: torch.device, generator: torch.Generator | None
) -> Tensor:
    if generator is not None and generator.device.type != torch.device(device).type:
        raise ValueError(
            f"generator lives on '{generator.device}' but the data is on '{device}'; "
            f"create it with torch.Generator(device='{device}')"
        )
    return torch.rand(shape, device=device, generator=generator)


def drop_edges(
    edge_index: Tensor,
    p: float = 0.5,
    *,
    edge_attr: Tensor | None = None,
    undirected: bool = False,
    generator: torch.Generator | None = None,
) -> tuple[Tensor, Tensor | None, Tensor]:
    r"""Removes each edge independently with probability ``p``.

    Args:
        edge_index: ``[2, num_edges]``.
        p: drop probability.
        edge_attr: optional ``[num_edges, *]``, kept aligned with the surviving edges.
        undirected: keep or drop both directions ``(i, j)`` and ``(j, i)`` of an undirected
            pair together (``edge_index`` must then hold both directions of every edge).
        generator: source of randomness.

    Returns:
        ``(edge_index, edge_attr, keep)``: the kept edges ``[2, num_kept]``, their attributes
        and the boolean keep mask ``[num_edges]`` over the input edges.
    """
    _check_prob(p)
    num_edges = edge_index.size(1)
    if p == 0.0 or num_edges == 0:
        keep = torch.ones(num_edges, dtype=torch.bool, device=edge_index.device)
    elif undirected:
        row, col = edge_index
        lo, hi = torch.minimum(row, col), torch.maximum(row, col)
        # One draw per unordered pair: index pairs by their (lo, hi) key.
        key = lo * (int(hi.max()) + 1) + hi
        uniq, inverse = torch.unique(key, return_inverse=True)
        keep = (_uniform((uniq.numel(),), edge_index.device, generator) >= p)[inverse]
    else:
        keep = _uniform((num_edges,), edge_index.device, generator) >= p
    edge_index = edge_index[:, keep]
    if edge_attr is not None:
        edge_attr = edge_attr[keep]
    return edge_index, edge_attr, keep


def mask_feature_columns(
    x: Tensor,
    p: float = 0.5,
    *,
    batch: Tensor | None = None,
    num_graphs: int | None = None,
    generator: torch.Generator | None = None,
) -> tuple[Tensor, Tensor]:
    r"""Zeroes whole feature columns with probability ``p`` (GRACE's feature masking).

    The same columns are zeroed for every node of a graph; in a batch each graph draws its
    own columns.

    Args:
        x: node features ``[num_nodes, num_features]``.
        p: probability that a column is masked.
        batch: optional graph index of each node ``[num_nodes]``.
        num_graphs: number of graphs (default: ``batch.max() + 1``).
        generator: source of randomness.

    Returns:
        ``(x, mask)``: the masked copy of ``x`` and the boolean column mask
        ``[num_graphs, num_features]`` (``True`` = masked).
    """
    _check_prob(p)
    if x.dim() != 2:
        raise ValueError(f"x must be [num_nodes, num_features] (got shape {tuple(x.shape)})")
    if batch is None:
        num_graphs = 1
    elif num_graphs is None:
        num_graphs = int(batch.max()) + 1 if batch.numel() > 0 else 1
    mask = _uniform((num_graphs, x.size(1)), x.device, generator) < p
    if not mask.any():
        return x.clone(), mask
    keep = (~mask).to(x.dtype)
    x = x * (keep if batch is None else keep[batch])
    return x, mask
