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
        the visited nodes ``[num_walks, walk_length + 1]`` (column 0 is ``start``; a
        transposed view of a step-major buffer).
    """
    _check_prob(restart_p, "restart_p")
    if walk_length < 0:
        raise ValueError(f"walk_length must be >= 0 (got {walk_length})")
    lo, deg, col = _with_sink_loops(row_ptr, col)
    steps = _walk(lo, deg, col, start, start, walk_length, restart_p, generator)
    return torch.cat([start.view(1, -1), steps]).t()


def _walk(
    lo: Tensor,
    deg: Tensor,
    col: Tensor,
    cur: Tensor,
    origin: Tensor,
    num_steps: int,
    restart_p: float,
    generator: torch.Generator | None,
) -> Tensor:
    """``num_steps`` steps of the walks at ``cur`` ``[W]`` (restarting to ``origin``), on a
    neighbour list without sinks (:func:`_with_sink_loops`). Returns ``[num_steps, W]``."""
    num = cur.numel()
    # All draws at once, step-major: u[t] moves every walk at step t.
    u = _rand(num_steps * num, cur.device, generator, dtype=torch.float64).view(num_steps, num)
    restart = None
    if restart_p > 0:
        restart = _rand(num_steps * num, cur.device, generator).view(num_steps, num) < restart_p
    out = torch.empty(num_steps, num, dtype=torch.long, device=cur.device)
    for t in range(num_steps):
        d = deg[cur]
        cur = col[lo[cur] + torch.minimum((u[t] * d).long(), d - 1)]
        if restart is not None:
            cur = torch.where(restart[t], origin, cur)
        out[t] = cur
    return out


def _with_sink_loops(row_ptr: Tensor, col: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """``(start, degree, col)`` of every node's neighbour list, where a node without
    out-neighbours gets itself as its only neighbour (so a walk stays there)."""
    num_nodes = row_ptr.numel() - 1
    lo, deg = row_ptr[:-1], row_ptr.diff()
    sink = deg == 0
    if bool(sink.any()):
        nodes = torch.arange(num_nodes, device=row_ptr.device)
        lo = torch.where(sink, col.numel() + nodes, lo)
        deg = torch.where(sink, 1, deg)
        col = torch.cat([col, nodes])
    return lo, deg, col


def _random_centres(ptr: Tensor, generator: torch.Generator | None) -> Tensor:
    """One uniformly random node per non-empty graph, in graph order ``[num_non_empty]``
    (a graph without nodes gets none)."""
    counts = ptr[1:] - ptr[:-1]
    non_empty = counts > 0
    start, counts = ptr[:-1][non_empty], counts[non_empty]
    u = _rand(counts.numel(), ptr.device, generator, dtype=torch.float64)
    return start + torch.floor(u * counts).long().clamp_max(counts - 1)


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

    ``num_walks`` walks start at the seed of every non-empty graph; nodes are taken in the
    order the walks first reach them until ``max(1, floor(keep_ratio * n_g))`` are kept. A
    graph whose seed component is smaller, or that the walks do not cover in ``walk_length``
    steps, keeps fewer nodes (GraphCL also stops when the component is exhausted).

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
    first, never = _first_visits(
        edge_index, batch, target, seeds, walk_length, restart_p, generator
    )
    # Rank nodes by first visit within their graph (unvisited last): one sort of the keys
    # (graph, first visit), unique within a graph except for the unvisited.
    order = torch.sort(batch * (never + 1) + first, stable=True)[1]
    rank = torch.empty_like(order)
    rank[order] = torch.arange(num_nodes, device=device) - ptr[batch[order]]
    return (first < never) & (rank < target[batch])


def _first_visits(
    edge_index: Tensor,
    batch: Tensor,
    target: Tensor,
    seeds: Tensor,
    walk_length: int,
    restart_p: float,
    generator: torch.Generator | None,
    check_every: int = 24,
) -> tuple[Tensor, int]:
    """First visit time of every node by the walks from ``seeds`` ``[W]`` (time ``t * W + w``
    for walk ``w`` at step ``t``; ``never`` when unvisited) and ``never``.

    Every ``check_every`` steps, the walks of graphs that are done stop: those that reached
    ``target`` nodes, or whose visited nodes have no edge to an unvisited node (the seed's
    component is exhausted). Further steps could not change which nodes come first, so the
    result is that of walking ``walk_length`` steps."""
    num_nodes, num_walks = batch.numel(), seeds.numel()
    row_ptr, col = to_csr(edge_index, num_nodes)
    lo, deg, col = _with_sink_loops(row_ptr, col)
    never = (walk_length + 1) * num_walks
    walker = torch.arange(num_walks, device=seeds.device)
    first = torch.full((num_nodes,), never, dtype=torch.long, device=seeds.device)
    first.scatter_reduce_(0, seeds, walker, reduce="amin")
    cur, origin, step = seeds, seeds, 0
    while step < walk_length and cur.numel() > 0:
        num_steps = min(check_every, walk_length - step)
        walks = _walk(lo, deg, col, cur, origin, num_steps, restart_p, generator)
        steps = torch.arange(step + 1, step + 1 + num_steps, device=seeds.device)
        times = steps.view(-1, 1) * num_walks + walker.view(1, -1)
        first.scatter_reduce_(0, walks.reshape(-1), times.reshape(-1), reduce="amin")
        step += num_steps
        if step >= walk_length:
            break
        active = ~_done(first < never, edge_index, batch, target)[batch[origin]]
        cur, origin, walker = walks[-1][active], origin[active], walker[active]
    return first, never


def _done(visited: Tensor, edge_index: Tensor, batch: Tensor, target: Tensor) -> Tensor:
    """Graphs ``[num_graphs]`` whose visited nodes reach ``target`` or cannot grow."""
    num_graphs = target.numel()
    count = torch.bincount(batch[visited], minlength=num_graphs)
    src, dst = edge_index
    frontier = visited[src] & ~visited[dst]
    open_ = torch.bincount(batch[src[frontier]], minlength=num_graphs) > 0
    return (count >= target) | ~open_


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
        ``(node_mask, centres)``: the kept nodes ``[num_nodes]`` and the centres of the
        non-empty graphs, in graph order ``[num_non_empty_graphs]`` (a graph without nodes
        keeps none and has no centre).
    """
    batch, num_graphs = graph_index(num_nodes, batch, num_graphs, edge_index.device)
    _, ptr = _ptr(batch, num_graphs)
    centres = _random_centres(ptr, generator)
    mask = k_hop_nodes(edge_index, num_hops, centres, num_nodes=num_nodes, flow=flow)
    return mask, centres
