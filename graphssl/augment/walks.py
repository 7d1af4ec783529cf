"""Random walks and subgraph sampling in plain torch (no torch-cluster / pyg-lib), vectorised
over every graph of a batch and runnable on any device."""

from __future__ import annotations

import torch
from torch import Tensor

from graphssl.augment.functional import _check_prob, _ptr, _rand, graph_index

__all__ = ["ego_net", "k_hop_nodes", "random_walk", "random_walk_subgraph", "to_csr"]


def to_csr(edge_index: Tensor, num_nodes: int) -> tuple[Tensor, Tensor]:
    r"""Compressed sparse rows of ``edge_index`` ``[2, num_edges]``.

    Returns:
        ``(row_ptr, col)``: ``row_ptr`` ``[num_nodes + 1]`` and the targets sorted by source
        ``[num_edges]``; the out-neighbours of ``i`` are ``col[row_ptr[i]:row_ptr[i + 1]]``.
    """
    row, col = edge_index
    order = torch.sort(row, stable=True)[1]
    row_ptr = torch.zeros(num_nodes + 1, dtype=torch.long, device=edge_index.device)
    row_ptr[1:] = torch.bincount(row, minlength=num_nodes).cumsum(0)
    return row_ptr, col[order]


def random_walk(
    row_ptr: Tensor,
    col: Tensor,
    start: Tensor,
    walk_length: int,
    *,
    restart_p: float = 0.0,
    generator: torch.Generator | None = None,
) -> Tensor:
    r"""Uniform random walks on a CSR graph, all walks advanced together.

    A walk at a node without out-neighbours stays there. With ``restart_p > 0`` every step
    returns to the walk's start with that probability (random walk with restart, as in GCC).

    Args:
        row_ptr: ``[num_nodes + 1]`` (see :func:`to_csr`).
        col: ``[num_edges]``.
        start: start node of every walk ``[num_walks]``.
        walk_length: number of steps.
        restart_p: restart probability per step.
        generator: source of randomness.

    Returns:
        the visited nodes ``[num_walks, walk_length + 1]`` (column 0 is ``start``).
    """
    _check_prob(restart_p, "restart_p")
    if walk_length < 0:
        raise ValueError(f"walk_length must be >= 0 (got {walk_length})")
    walks = [start]
    cur = start
    last = max(col.numel() - 1, 0)
    for _ in range(walk_length):
        lo = row_ptr[cur]
        deg = row_ptr[cur + 1] - lo
        u = _rand(cur.numel(), start.device, generator, dtype=torch.float64)
        offset = torch.floor(u * deg).long().clamp_max((deg - 1).clamp_min(0))
        if col.numel() > 0:
            nxt = torch.where(deg > 0, col[(lo + offset).clamp_max(last)], cur)
        else:
            nxt = cur
        if restart_p > 0:
            restart = _rand(cur.numel(), start.device, generator) < restart_p
            nxt = torch.where(restart, start, nxt)
        walks.append(nxt)
        cur = nxt
    return torch.stack(walks, dim=1)


def _random_centres(ptr: Tensor, generator: torch.Generator | None) -> Tensor:
    """One uniformly random node per (non-empty) graph ``[num_graphs]``."""
    counts = ptr[1:] - ptr[:-1]
    u = _rand(counts.numel(), ptr.device, generator, dtype=torch.float64)
    return ptr[:-1] + torch.floor(u * counts).long().clamp_max((counts - 1).clamp_min(0))


def random_walk_subgraph(
    edge_index: Tensor,
    keep_ratio: float = 0.8,
    *,
    num_nodes: int,
    batch: Tensor | None = None,
    num_graphs: int | None = None,
    num_walks: int = 4,
    walk_length: int | None = None,
    restart_p: float = 0.0,
    generator: torch.Generator | None = None,
) -> Tensor:
    r"""Nodes of a connected subgraph grown by random walks from one random seed per graph
    (GraphCL's ``subgraph``).

    ``num_walks`` walks start at the seed of every graph; nodes are taken in the order the
    walks first reach them until ``max(1, floor(keep_ratio * n_g))`` are kept. A graph whose
    seed component is smaller, or that the walks do not cover in ``walk_length`` steps,
    keeps fewer nodes (GraphCL also stops when the component is exhausted).

    Args:
        edge_index: ``[2, num_edges]`` (use both directions for undirected graphs).
        keep_ratio: target fraction of each graph's nodes to keep.
        num_nodes: number of nodes.
        batch: optional sorted graph id of every node ``[num_nodes]``.
        num_graphs: number of graphs.
        num_walks: walks per graph.
        walk_length: steps per walk (default: twice the largest target).
        restart_p: restart probability per step (random walk with restart).
        generator: source of randomness.

    Returns:
        the kept nodes ``[num_nodes]`` (bool).
    """
    _check_prob(keep_ratio, "keep_ratio")
    if num_walks < 1:
        raise ValueError(f"num_walks must be >= 1 (got {num_walks})")
    device = edge_index.device
    batch, num_graphs = graph_index(num_nodes, batch, num_graphs, device)
    counts, ptr = _ptr(batch, num_graphs)
    target = torch.floor(keep_ratio * counts.double()).long().clamp_min(1)
    if walk_length is None:
        walk_length = 2 * int(target.max()) if num_graphs > 0 else 0
    seeds = _random_centres(ptr, generator).repeat_interleave(num_walks)
    row_ptr, col = to_csr(edge_index, num_nodes)
    walks = random_walk(row_ptr, col, seeds, walk_length, restart_p=restart_p, generator=generator)
    # First visit time of every node; a time is (step, walk), unique per visit.
    nodes = walks.t().reshape(-1)
    time = torch.arange(nodes.numel(), device=device)
    first = torch.full((num_nodes,), nodes.numel(), dtype=torch.long, device=device)
    first = first.scatter_reduce(0, nodes, time, reduce="amin")
    # Rank nodes by first visit within their graph (unvisited last).
    order = torch.sort(first, stable=True)[1]
    order = order[torch.sort(batch[order], stable=True)[1]]
    rank = torch.empty_like(order)
    rank[order] = torch.arange(num_nodes, device=device) - ptr[batch[order]]
    return (first < nodes.numel()) & (rank < target[batch])


def k_hop_nodes(
    edge_index: Tensor,
    num_hops: int,
    centres: Tensor,
    *,
    num_nodes: int,
    flow: str = "source_to_target",
) -> Tensor:
    r"""Nodes within ``num_hops`` of any of ``centres`` (the node set of PyG's
    :func:`~torch_geometric.utils.k_hop_subgraph`, as a mask).

    Args:
        edge_index: ``[2, num_edges]``.
        num_hops: number of hops.
        centres: centre nodes ``[num_centres]``.
        num_nodes: number of nodes.
        flow: ``"source_to_target"`` (nodes that reach a centre, PyG's default) or
            ``"target_to_source"`` (nodes a centre reaches).

    Returns:
        ``[num_nodes]`` bool.
    """
    if flow not in ("source_to_target", "target_to_source"):
        raise ValueError(f"flow must be 'source_to_target' or 'target_to_source' (got {flow!r})")
    if num_hops < 0:
        raise ValueError(f"num_hops must be >= 0 (got {num_hops})")
    src, dst = edge_index if flow == "source_to_target" else edge_index.flip(0)
    mask = torch.zeros(num_nodes, dtype=torch.bool, device=edge_index.device)
    mask[centres] = True
    for _ in range(num_hops):
        reached = torch.zeros_like(mask)
        reached[src[mask[dst]]] = True
        mask = mask | reached
    return mask


def ego_net(
    edge_index: Tensor,
    num_hops: int = 2,
    *,
    num_nodes: int,
    batch: Tensor | None = None,
    num_graphs: int | None = None,
    flow: str = "source_to_target",
    generator: torch.Generator | None = None,
) -> tuple[Tensor, Tensor]:
    r"""The ``num_hops``-hop ego-net around one uniformly random centre per graph.

    Returns:
        ``(node_mask, centres)``: the kept nodes ``[num_nodes]`` and the centres
        ``[num_graphs]``.
    """
    batch, num_graphs = graph_index(num_nodes, batch, num_graphs, edge_index.device)
    _, ptr = _ptr(batch, num_graphs)
    centres = _random_centres(ptr, generator)
    mask = k_hop_nodes(edge_index, num_hops, centres, num_nodes=num_nodes, flow=flow)
    return mask, centres
