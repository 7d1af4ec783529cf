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
    _check_generator(device, generator)
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
        row, col = edge_index.long()  # the key below overflows int32
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
        x: node features ``[num_nodes, num_features]``, dense or ``torch.sparse_csr`` (the
            result has the same layout; see :func:`scale_feature_columns`).
        p: probability that a column is masked.
        batch: optional graph index of each node ``[num_nodes]``.
        num_graphs: number of graphs (default: ``batch.max() + 1``).
        generator: source of randomness.

    Returns:
        ``(x, mask)``: the masked copy of ``x`` and the boolean column mask
        ``[num_graphs, num_features]`` (``True`` = masked).
    """
    _check_prob(p)
    _check_features(x)
    if batch is None:
        num_graphs = 1
    elif num_graphs is None:
        num_graphs = int(batch.max()) + 1 if batch.numel() > 0 else 1
    mask = _uniform((num_graphs, x.size(1)), x.device, generator) < p
    if not mask.any():
        return x.clone(), mask
    return scale_feature_columns(x, (~mask).to(x.dtype), batch), mask


def _check_features(x: Tensor) -> None:
    if x.layout not in (torch.strided, torch.sparse_csr):
        raise ValueError(
            f"x must be a dense or a torch.sparse_csr tensor (got layout {x.layout}); "
            f"convert it with x.to_dense() or x.to_sparse_csr()"
        )
    if x.dim() != 2:
        raise ValueError(f"x must be [num_nodes, num_features] (got shape {tuple(x.shape)})")


def _csr_rows(x: Tensor) -> Tensor:
    """Row index ``[nnz]`` of every stored entry of the sparse CSR matrix ``x``."""
    crow = x.crow_indices()
    rows = torch.arange(x.size(0), device=x.device)
    return rows.repeat_interleave(crow.diff(), output_size=x.values().numel())


def scale_feature_columns(x: Tensor, scale: Tensor, batch: Tensor | None = None) -> Tensor:
    r"""Multiplies feature column ``f`` of every node of graph ``g`` by ``scale[g, f]``.

    For sparse bag-of-words features (Coauthor: 0.4-0.9% non-zeros), ``x`` may be a
    ``torch.sparse_csr`` tensor: the result keeps its sparsity pattern (masked entries become
    stored zeros), so a column mask costs ``O(nnz)`` instead of ``O(N * F)`` and the
    encoder's first linear map stays a sparse product.

    Args:
        x: node features ``[num_nodes, num_features]``, dense or sparse CSR.
        scale: ``[num_graphs, num_features]`` (``[1, num_features]`` without ``batch``).
        batch: optional graph id of every node ``[num_nodes]``.

    Returns:
        ``[num_nodes, num_features]`` in the layout of ``x``.
    """
    if x.layout != torch.sparse_csr:
        return x * (scale if batch is None else scale[batch])
    col = x.col_indices()
    factor = scale[0, col] if batch is None else scale[batch[_csr_rows(x)], col]
    return torch.sparse_csr_tensor(
        x.crow_indices(), col, x.values() * factor, x.shape, check_invariants=False
    )


# --------------------------------------------------------------------------------------------
# Per-graph helpers (a single graph is a batch of one).
# --------------------------------------------------------------------------------------------


def _check_generator(device: torch.device, generator: torch.Generator | None) -> None:
    if generator is not None and generator.device.type != torch.device(device).type:
        raise ValueError(
            f"generator lives on '{generator.device}' but the data is on '{device}'; "
            f"create it with torch.Generator(device='{device}')"
        )


def _rand(
    n: int, device: torch.device, generator: torch.Generator | None, dtype=torch.float32
) -> Tensor:
    _check_generator(device, generator)
    return torch.rand(n, device=device, generator=generator, dtype=dtype)


def _randperm(n: int, device: torch.device, generator: torch.Generator | None) -> Tensor:
    _check_generator(device, generator)
    return torch.randperm(n, device=device, generator=generator)


def graph_index(
    num_nodes: int,
    batch: Tensor | None,
    num_graphs: int | None,
    device: torch.device,
) -> tuple[Tensor, int]:
    r"""Returns ``(batch, num_graphs)``: the graph id of every node ``[num_nodes]`` (all zeros
    for a single graph) and the number of graphs."""
    if batch is None:
        return torch.zeros(num_nodes, dtype=torch.long, device=device), 1
    if batch.numel() != num_nodes:
        raise ValueError(f"batch has {batch.numel()} entries but there are {num_nodes} nodes")
    if num_graphs is None:
        num_graphs = int(batch.max()) + 1 if batch.numel() > 0 else 1
    return batch, num_graphs


def _ptr(batch: Tensor, num_graphs: int) -> tuple[Tensor, Tensor]:
    """Node counts ``[num_graphs]`` and offsets ``[num_graphs + 1]`` of a sorted ``batch``."""
    counts = torch.bincount(batch, minlength=num_graphs)
    ptr = torch.zeros(num_graphs + 1, dtype=torch.long, device=batch.device)
    ptr[1:] = counts.cumsum(0)
    return counts, ptr


def count_per_graph(mask: Tensor, group: Tensor, num_graphs: int) -> Tensor:
    r"""Counts ``True`` entries of ``mask`` ``[n]`` per graph, given the graph of every entry
    ``group`` ``[n]``. Returns ``[num_graphs]`` long."""
    return torch.bincount(group[mask], minlength=num_graphs)


def random_rank(
    group: Tensor, num_groups: int, generator: torch.Generator | None = None
) -> tuple[Tensor, Tensor]:
    r"""Ranks the items of every group in a uniformly random order, in one pass.

    Args:
        group: group id of every item ``[n]`` (need not be sorted).
        num_groups: number of groups.

    Returns:
        ``(rank, counts)``: the 0-based rank of every item within its group ``[n]`` (each
        group's ranks are a random permutation of ``0 .. size - 1``) and the group sizes
        ``[num_groups]``.
    """
    n = group.numel()
    order = _grouped_random_order(group, num_groups, generator)
    counts = torch.bincount(group, minlength=num_groups)
    start = counts.cumsum(0) - counts
    rank = torch.empty_like(order)
    rank[order] = torch.arange(n, device=group.device) - start[group[order]]
    return rank, counts


def _grouped_random_order(
    group: Tensor, num_groups: int, generator: torch.Generator | None
) -> Tensor:
    """The items ``[n]`` grouped by ``group`` (groups in order), each group in the order of
    one uniformly random permutation of all items.

    One ``randperm`` and one sort of the unique keys ``group * n + position in the
    permutation`` (nearly sorted when ``group`` is, as in a ``Batch``); no sort at all for a
    single group."""
    n = group.numel()
    perm = _randperm(n, group.device, generator)
    if num_groups <= 1:
        return perm
    position = torch.empty_like(perm)
    position[perm] = torch.arange(n, device=group.device)
    return torch.sort(group * n + position)[1]


def sample_per_group(group: Tensor, k: Tensor, generator: torch.Generator | None = None) -> Tensor:
    r"""A uniformly random subset of exactly ``k[g]`` items of every group ``g``, in one pass.

    The same subset as ``random_rank(group, ...)[0] < k[group]`` for the same generator state,
    without materialising the ranks.

    Args:
        group: group id of every item ``[n]``.
        k: items to take per group ``[num_groups]`` (at most the group's size).

    Returns:
        ``[n]`` bool, ``True`` = sampled.
    """
    n = group.numel()
    order = _grouped_random_order(group, k.numel(), generator)
    counts = torch.bincount(group, minlength=k.numel())
    start = counts.cumsum(0) - counts
    sorted_group = group if _is_sorted(group) else group[order]
    position = torch.arange(n, device=group.device)
    mask = torch.zeros(n, dtype=torch.bool, device=group.device)
    mask[order[position < (start + k)[sorted_group]]] = True
    return mask


def _is_sorted(values: Tensor) -> bool:
    return values.numel() < 2 or bool((values[1:] >= values[:-1]).all())


def _sample_nodes(
    p: float,
    batch: Tensor,
    num_graphs: int,
    exact: bool,
    generator: torch.Generator | None,
    at_least_one: bool = False,
) -> Tensor:
    """Boolean mask ``[num_nodes]`` of sampled nodes: each with probability ``p``, or exactly
    ``floor(p * n_g)`` of graph ``g`` when ``exact``. With ``at_least_one`` every non-empty
    graph has a sampled node: ``exact`` then takes ``min(floor(p * n_g) + 1, n_g)`` nodes,
    and independent draws also take the node with the lowest draw of every graph."""
    if exact:
        counts = torch.bincount(batch, minlength=num_graphs)
        k = torch.floor(p * counts.double()).long()
        if at_least_one:
            k = torch.minimum(k + 1, counts)
        return sample_per_group(batch, k, generator)
    u = _rand(batch.numel(), batch.device, generator)
    mask = u < p
    if at_least_one:
        lowest = torch.full((num_graphs,), 2.0, device=u.device)
        lowest = lowest.scatter_reduce(0, batch, u, reduce="amin")
        mask = mask | (u == lowest[batch])
    return mask


# --------------------------------------------------------------------------------------------
# Nodes.
# --------------------------------------------------------------------------------------------


def drop_nodes(
    edge_index: Tensor,
    p: float = 0.2,
    *,
    num_nodes: int,
    batch: Tensor | None = None,
    num_graphs: int | None = None,
    exact: bool = False,
    generator: torch.Generator | None = None,
) -> tuple[Tensor, Tensor, Tensor]:
    r"""Drops nodes with their incident edges, keeping at least one node per graph.

    Each node is dropped with probability ``p``; when that would empty a graph, its node with
    the highest draw survives (so graph ``g`` of ``n_g`` nodes loses ``p n_g - p^{n_g}`` nodes
    on average). With ``exact=True`` graph ``g`` loses exactly
    ``min(floor(p n_g), n_g - 1)`` nodes chosen uniformly (GraphCL's ``dropN``).

    Args:
        edge_index: ``[2, num_edges]``.
        p: drop probability (or fraction with ``exact``).
        num_nodes: number of nodes.
        batch: optional sorted graph id of every node ``[num_nodes]``.
        num_graphs: number of graphs (default: ``batch.max() + 1``).
        exact: drop an exact fraction per graph instead of independent draws.
        generator: source of randomness.

    Returns:
        ``(edge_index, node_mask, edge_mask)``: the surviving edges relabelled to the kept
        nodes ``[2, num_kept_edges]``, the kept nodes ``[num_nodes]`` and the kept edges
        ``[num_edges]`` (boolean masks, ``True`` = kept).
    """
    _check_prob(p)
    device = edge_index.device
    batch, num_graphs = graph_index(num_nodes, batch, num_graphs, device)
    if exact:
        counts = torch.bincount(batch, minlength=num_graphs)
        k = torch.minimum(torch.floor(p * counts.double()).long(), counts - 1)
        node_mask = ~sample_per_group(batch, k, generator)
    else:
        u = _rand(num_nodes, device, generator)
        best = torch.full((num_graphs,), -1.0, device=device)
        best = best.scatter_reduce(0, batch, u, reduce="amax")
        node_mask = (u >= p) | (u == best[batch])
    edge_index, edge_mask = _induced(edge_index, node_mask)
    return edge_index, node_mask, edge_mask


def _induced(edge_index: Tensor, node_mask: Tensor) -> tuple[Tensor, Tensor]:
    """Edges between kept nodes, relabelled to the kept nodes' order, and the kept-edge mask."""
    edge_mask = node_mask[edge_index[0]] & node_mask[edge_index[1]]
    new_id = torch.cumsum(node_mask, 0) - 1
    return new_id[edge_index[:, edge_mask]], edge_mask


# --------------------------------------------------------------------------------------------
# Features.
# --------------------------------------------------------------------------------------------


def mask_nodes(
    x: Tensor,
    p: float = 0.15,
    *,
    value: float | Tensor = 0.0,
    token: int | None = None,
    batch: Tensor | None = None,
    num_graphs: int | None = None,
    exact: bool = False,
    generator: torch.Generator | None = None,
    at_least_one: bool = False,
) -> tuple[Tensor, Tensor]:
    r"""Replaces whole feature rows of random nodes (attribute masking, Hu et al. 2020).

    By default every node is masked independently with probability ``p`` (a graph may have
    none masked), or with ``exact`` exactly ``floor(p n_g)`` nodes of graph ``g`` (none for
    ``p n_g < 1``). Hu et al.'s ``MaskAtom`` masks ``int(n_g p + 1)`` nodes of every
    molecule, always at least one: ``exact=True, at_least_one=True``.

    Args:
        x: node features ``[num_nodes, num_features]`` (floating or categorical integers).
        p: probability that a node is masked (fraction per graph with ``exact``).
        value: what a masked row becomes: a scalar, or a ``[num_features]`` row.
        token: for categorical features: write this mask token index into column 0 and
            ``value`` into the other columns (Hu et al.: atom type ``119``).
        batch: optional graph id of every node ``[num_nodes]`` (needed with ``exact``).
        num_graphs: number of graphs.
        exact: mask exactly ``floor(p n_g)`` nodes of graph ``g``.
        generator: source of randomness.
        at_least_one: mask at least one node of every non-empty graph: with ``exact``,
            ``min(floor(p n_g) + 1, n_g)`` nodes (Hu et al.'s count); otherwise a graph whose
            draws masked nothing masks its node with the lowest draw.

    Returns:
        ``(x, mask)``: the masked copy of ``x`` and the masked nodes ``[num_nodes]`` (bool).
    """
    _check_prob(p)
    if x.dim() != 2:
        raise ValueError(f"x must be [num_nodes, num_features] (got shape {tuple(x.shape)})")
    batch, num_graphs = graph_index(x.size(0), batch, num_graphs, x.device)
    row = torch.as_tensor(value, dtype=x.dtype, device=x.device).expand(x.size(1)).clone()
    if token is not None:
        if x.size(1) == 0:
            raise ValueError("token needs at least one feature column")
        row[0] = token
    mask = _sample_nodes(p, batch, num_graphs, exact, generator, at_least_one)
    x = x.clone()
    x[mask] = row
    return x, mask


def dropout_features(
    x: Tensor,
    p: float = 0.2,
    *,
    rescale: bool = False,
    generator: torch.Generator | None = None,
) -> tuple[Tensor, Tensor]:
    r"""Zeroes every feature entry independently with probability ``p`` (feature dropout).

    Args:
        x: node features ``[num_nodes, num_features]``.
        p: probability that an entry is zeroed.
        rescale: multiply the kept entries by ``1 / (1 - p)`` (as :func:`torch.nn.functional.
            dropout`), so the expected value of every entry is unchanged.
        generator: source of randomness.

    Returns:
        ``(x, mask)``: the perturbed copy and the zeroed entries ``[num_nodes, num_features]``
        (bool, ``True`` = dropped).
    """
    _check_prob(p)
    if not x.is_floating_point():
        raise TypeError(f"feature dropout needs floating point features (got {x.dtype})")
    mask = _rand(x.numel(), x.device, generator).view_as(x) < p
    scale = 1.0 / (1.0 - p) if rescale and p < 1.0 else 1.0
    x = x.masked_fill(mask, 0.0)
    return (x * scale if scale != 1.0 else x), mask


def shuffle_nodes(
    batch: Tensor | None,
    num_nodes: int,
    *,
    num_graphs: int | None = None,
    device: torch.device | None = None,
    generator: torch.Generator | None = None,
) -> Tensor:
    r"""A random permutation of the nodes within each graph (one vectorised pass).

    Returns:
        ``perm`` ``[num_nodes]``: node ``i`` takes the features of node ``perm[i]``, which is in
        the same graph as ``i``.
    """
    device = batch.device if batch is not None else device
    batch, num_graphs = graph_index(num_nodes, batch, num_graphs, device)
    rank, counts = random_rank(batch, num_graphs, generator)
    order = torch.sort(batch, stable=True)[1]  # the nodes of every graph, in order
    start = counts.cumsum(0) - counts
    return order[start[batch] + rank]


def shuffle_features(
    x: Tensor,
    *,
    batch: Tensor | None = None,
    num_graphs: int | None = None,
    generator: torch.Generator | None = None,
) -> tuple[Tensor, Tensor]:
    r"""Permutes the feature rows among the nodes of each graph (DGI's corruption).

    Args:
        x: node features ``[num_nodes, *]``.
        batch: optional graph id of every node ``[num_nodes]``.
        num_graphs: number of graphs.
        generator: source of randomness.

    Returns:
        ``(x, perm)``: ``x[perm]`` and the permutation ``[num_nodes]`` (within each graph).
    """
    perm = shuffle_nodes(
        batch, x.size(0), num_graphs=num_graphs, device=x.device, generator=generator
    )
    return x[perm], perm


# --------------------------------------------------------------------------------------------
# Edges.
# --------------------------------------------------------------------------------------------


def sample_edges(
    num_per_graph: Tensor,
    ptr: Tensor,
    *,
    self_loops: bool = False,
    generator: torch.Generator | None = None,
) -> Tensor:
    r"""Draws ``num_per_graph[g]`` uniformly random node pairs inside every graph ``g``.

    Args:
        num_per_graph: how many edges to draw per graph ``[num_graphs]``; graphs of one node
            get none unless ``self_loops``.
        ptr: node offsets of the graphs ``[num_graphs + 1]`` (nodes of a graph contiguous).
        self_loops: allow ``(i, i)``.
        generator: source of randomness.

    Returns:
        the new edges ``[2, num_new]``, grouped by graph in graph order.
    """
    counts = ptr[1:] - ptr[:-1]
    num = torch.where(counts >= (1 if self_loops else 2), num_per_graph, 0)
    graph = torch.repeat_interleave(torch.arange(counts.numel(), device=ptr.device), num)
    total = graph.numel()
    u = _rand(2 * total, ptr.device, generator, dtype=torch.float64).view(2, total)
    n = counts[graph]
    src = torch.floor(u[0] * n).long().clamp_max(n - 1)
    if self_loops:
        dst = torch.floor(u[1] * n).long().clamp_max(n - 1)
    else:  # uniform over the other n - 1 nodes
        dst = (src + 1 + torch.floor(u[1] * (n - 1)).long().clamp_max(n - 2)) % n
    return torch.stack([src, dst]) + ptr[graph]


def _edge_graph(edge_index: Tensor, batch: Tensor) -> Tensor:
    return batch[edge_index[0]] if edge_index.numel() > 0 else edge_index.new_zeros(0)


def add_edges(
    edge_index: Tensor,
    p: float = 0.2,
    *,
    num_nodes: int,
    batch: Tensor | None = None,
    num_graphs: int | None = None,
    self_loops: bool = False,
    undirected: bool = False,
    generator: torch.Generator | None = None,
) -> tuple[Tensor, Tensor]:
    r"""Adds ``floor(p E_g)`` random edges inside every graph ``g`` of ``E_g`` edges (never
    between two graphs).

    Args:
        edge_index: ``[2, num_edges]``.
        p: edges to add, as a fraction of each graph's edges.
        num_nodes: number of nodes.
        batch: optional sorted graph id of every node ``[num_nodes]``.
        num_graphs: number of graphs.
        self_loops: allow new self-loops.
        undirected: add ``floor(p E_g / 2)`` pairs in both directions.
        generator: source of randomness.

    Returns:
        ``(edge_index, added)``: the input edges followed by the new ones
        ``[2, num_edges + num_added]``, and the new edges ``[2, num_added]``.
    """
    _check_prob(p)
    batch, num_graphs = graph_index(num_nodes, batch, num_graphs, edge_index.device)
    _, ptr = _ptr(batch, num_graphs)
    e_g = torch.bincount(_edge_graph(edge_index, batch), minlength=num_graphs)
    k = torch.floor(p * e_g.double()).long()
    added = sample_edges(
        k // 2 if undirected else k, ptr, self_loops=self_loops, generator=generator
    )
    if undirected:
        added = torch.stack([added, added.flip(0)], dim=2).reshape(2, -1)  # (i,j),(j,i) adjacent
    return torch.cat([edge_index, added], dim=1), added


def perturb_edges(
    edge_index: Tensor,
    p: float = 0.2,
    *,
    num_nodes: int,
    batch: Tensor | None = None,
    num_graphs: int | None = None,
    self_loops: bool = False,
    generator: torch.Generator | None = None,
) -> tuple[Tensor, Tensor, Tensor]:
    r"""Drops ``k_g = floor(p E_g)`` random edges of every graph ``g`` and adds ``k_g`` random
    ones inside it (GraphCL's ``permE``).

    Args:
        edge_index: ``[2, num_edges]``.
        p: fraction of each graph's edges to replace.
        num_nodes: number of nodes.
        batch: optional sorted graph id of every node ``[num_nodes]``.
        num_graphs: number of graphs.
        self_loops: allow new self-loops.
        generator: source of randomness.

    Returns:
        ``(edge_index, keep, added)``: the kept edges followed by the new ones, the kept-edge
        mask ``[num_edges]`` and the new edges ``[2, num_added]``. A graph of one node loses
        ``k_g`` edges (self-loops) and gains none unless ``self_loops``.
    """
    _check_prob(p)
    batch, num_graphs = graph_index(num_nodes, batch, num_graphs, edge_index.device)
    keep, added = _perturb_plan(edge_index, p, batch, num_graphs, self_loops, generator)
    return torch.cat([edge_index[:, keep], added], dim=1), keep, added


def _perturb_plan(
    edge_index: Tensor,
    p: float,
    batch: Tensor,
    num_graphs: int,
    self_loops: bool,
    generator: torch.Generator | None,
) -> tuple[Tensor, Tensor]:
    """The kept-edge mask ``[num_edges]`` and the new edges ``[2, num_added]`` of
    :func:`perturb_edges`, without assembling the result."""
    _, ptr = _ptr(batch, num_graphs)
    edge_graph = _edge_graph(edge_index, batch)
    e_g = torch.bincount(edge_graph, minlength=num_graphs)
    k = torch.floor(p * e_g.double()).long()
    keep = ~sample_per_group(edge_graph, k, generator)
    return keep, sample_edges(k, ptr, self_loops=self_loops, generator=generator)


def sample_edge_attr(
    edge_attr: Tensor, num: int, generator: torch.Generator | None = None
) -> tuple[Tensor, Tensor]:
    r"""Draws ``num`` rows of ``edge_attr`` ``[num_edges, *]`` uniformly with replacement (the
    empirical distribution of edge features; zeros when there are no edges).

    Returns:
        ``(rows, index)``: the rows ``[num, *]`` and the edges they were copied from ``[num]``
        (``-1`` when there was nothing to copy).
    """
    m = edge_attr.size(0)
    if m == 0:
        index = torch.full((num,), -1, dtype=torch.long, device=edge_attr.device)
        return edge_attr.new_zeros((num, *edge_attr.shape[1:])), index
    u = _rand(num, edge_attr.device, generator, dtype=torch.float64)
    index = torch.floor(u * m).long().clamp_max(m - 1)
    return edge_attr[index], index


def degree_centrality(edge_index: Tensor, num_nodes: int) -> Tensor:
    r"""Node degree in the undirected version of the graph ``[num_nodes]`` (float)."""
    from torch_geometric.utils import degree, to_undirected

    return degree(to_undirected(edge_index, num_nodes=num_nodes)[1], num_nodes)


def pagerank_centrality(
    edge_index: Tensor, num_nodes: int, damping: float = 0.85, num_iters: int = 10
) -> Tensor:
    r"""PageRank by power iteration, as GCA computes it (``[num_nodes]``, unnormalised: every
    node starts at 1, so graphs of a batch do not interact)."""
    from torch_geometric.utils import degree

    row, col = edge_index
    deg_out = degree(row, num_nodes).clamp_min(1.0)
    x = torch.ones(num_nodes, device=edge_index.device)
    for _ in range(num_iters):
        msg = torch.zeros_like(x).index_add_(0, col, x[row] / deg_out[row])
        x = (1 - damping) * x + damping * msg
    return x


def adaptive_drop_probs(
    score: Tensor,
    p: float,
    *,
    group: Tensor | None = None,
    num_graphs: int | None = None,
    p_tau: float = 0.7,
) -> Tensor:
    r"""GCA's drop probabilities from an importance score per item (edge or feature).

    With ``w = (s_max - s) / (s_max - s_mean)`` (per graph, so ``mean(w) = 1``) the drop
    probability is ``min(w * p, p_tau)``: important items (high ``s``) are dropped less. When
    all scores of a graph are equal every item gets ``min(p, p_tau)``.

    Args:
        score: importance ``s`` of every item ``[n]`` (e.g. log centrality).
        p: mean drop probability.
        group: graph of every item ``[n]`` (default: one graph).
        num_graphs: number of graphs.
        p_tau: cap on any single probability.

    Returns:
        drop probability of every item ``[n]``.
    """
    _check_prob(p)
    _check_prob(p_tau, "p_tau")
    group, num_graphs = graph_index(score.numel(), group, num_graphs, score.device)
    score = score.double()
    s_max = torch.full((num_graphs,), float("-inf"), dtype=score.dtype, device=score.device)
    s_max = s_max.scatter_reduce(0, group, score, reduce="amax")[group]
    s_sum = torch.zeros(num_graphs, dtype=score.dtype, device=score.device).index_add_(
        0, group, score
    )
    s_mean = (s_sum / torch.bincount(group, minlength=num_graphs).clamp_min(1))[group]
    span = s_max - s_mean
    flat = span <= 1e-12 * s_max.abs().clamp_min(1.0)
    w = torch.where(flat, torch.ones_like(score), (s_max - score) / torch.where(flat, 1.0, span))
    return (w * p).clamp(max=p_tau).to(torch.float32)


def drop_edges_adaptive(
    edge_index: Tensor,
    p: float = 0.3,
    *,
    num_nodes: int,
    centrality: str | Tensor = "degree",
    p_tau: float = 0.7,
    batch: Tensor | None = None,
    num_graphs: int | None = None,
    generator: torch.Generator | None = None,
) -> tuple[Tensor, Tensor]:
    r"""Drops edges with GCA's centrality-adaptive probabilities (Zhu et al. 2021): those of
    :func:`edge_drop_probs_adaptive`, drawn by :func:`drop_edges_with_probs`.

    Args:
        edge_index: ``[2, num_edges]``.
        p: mean drop probability.
        num_nodes: number of nodes.
        centrality: ``"degree"``, ``"pagerank"``, ``"eigenvector"`` (per graph, see
            :func:`eigenvector_centrality`), or node centralities ``[num_nodes]`` (positive).
        p_tau: cap on any edge's drop probability.
        batch: optional graph id of every node ``[num_nodes]``.
        num_graphs: number of graphs.
        generator: source of randomness.

    Returns:
        ``(edge_index, keep)``: the kept edges and the kept-edge mask ``[num_edges]``.
    """
    probs = edge_drop_probs_adaptive(
        edge_index,
        p,
        num_nodes=num_nodes,
        centrality=centrality,
        p_tau=p_tau,
        batch=batch,
        num_graphs=num_graphs,
    )
    return drop_edges_with_probs(edge_index, probs, generator=generator)


def edge_drop_probs_adaptive(
    edge_index: Tensor,
    p: float = 0.3,
    *,
    num_nodes: int,
    centrality: str | Tensor = "degree",
    p_tau: float = 0.7,
    batch: Tensor | None = None,
    num_graphs: int | None = None,
) -> Tensor:
    r"""GCA's drop probability of every edge ``[num_edges]``: the importance of edge ``(i, j)``
    is ``log c_j`` of its target's centrality ``c`` (PageRank: 200 power iterations, as GCA's
    edge weights take), and edge ``e`` of graph ``g`` is dropped
    with probability ``min(w_e / mean_g(w) * p, p_tau)`` (see :func:`adaptive_drop_probs`),
    normalised within each graph of a batch. The arguments are those of
    :func:`drop_edges_adaptive`."""
    _check_prob(p)
    _check_prob(p_tau, "p_tau")
    batch, num_graphs = graph_index(num_nodes, batch, num_graphs, edge_index.device)
    # PageRank: 200 iterations here, as GCA's pr_drop_weights runs (its feature weights: 10)
    c = node_centrality(
        edge_index, num_nodes, centrality, batch=batch, num_graphs=num_graphs, pagerank_iters=200
    )
    if edge_index.size(1) == 0:
        return torch.zeros(0, dtype=torch.float32, device=edge_index.device)
    score = torch.log(c[edge_index[1]].clamp_min(1e-12))
    return adaptive_drop_probs(
        score, p, group=batch[edge_index[0]], num_graphs=num_graphs, p_tau=p_tau
    )


def drop_edges_with_probs(
    edge_index: Tensor, probs: Tensor, *, generator: torch.Generator | None = None
) -> tuple[Tensor, Tensor]:
    r"""Drops edge ``e`` with probability ``probs[e]``, independently.

    Args:
        edge_index: ``[2, num_edges]``.
        probs: drop probability of every edge ``[num_edges]``.
        generator: source of randomness.

    Returns:
        ``(edge_index, keep)``: the kept edges and the kept-edge mask ``[num_edges]``.
    """
    if probs.shape != (edge_index.size(1),):
        raise ValueError(
            f"probs must have shape [num_edges] = [{edge_index.size(1)}] (got {list(probs.shape)})"
        )
    keep = _rand(probs.numel(), edge_index.device, generator) >= probs
    return edge_index[:, keep], keep


def eigenvector_centrality(
    edge_index: Tensor,
    num_nodes: int,
    *,
    batch: Tensor | None = None,
    num_graphs: int | None = None,
    max_iters: int = 100,
    tol: float = 1e-6,
) -> Tensor:
    r"""Eigenvector centrality by power iteration, per graph of a batch (``[num_nodes]``).

    Iterates :math:`c \leftarrow (A + I) c`, :math:`A_{ij} = 1` for an edge ``(j, i)`` (a node is
    central when central nodes point to it, as ``networkx.eigenvector_centrality``), and
    normalises every graph's vector to unit Euclidean norm after each step. The shift by
    :math:`I` keeps the iteration from oscillating on bipartite graphs (trees, rings of even
    length) without changing the eigenvectors. Stops after ``max_iters`` steps or once no entry
    moves by more than ``tol``. A graph without edges gets ``1 / sqrt(n_g)`` on every node.

    Args:
        edge_index: ``[2, num_edges]``.
        num_nodes: number of nodes.
        batch: optional graph id of every node ``[num_nodes]``.
        num_graphs: number of graphs.
        max_iters: most power-iteration steps.
        tol: convergence tolerance (max absolute change of an entry).

    Returns:
        the centrality of every node ``[num_nodes]`` (float, non-negative, unit norm per graph).
    """
    device = edge_index.device
    batch, num_graphs = graph_index(num_nodes, batch, num_graphs, device)
    row, col = edge_index
    c = _unit_per_graph(torch.ones(num_nodes, device=device), batch, num_graphs)
    for _ in range(max_iters):
        nxt = c.index_add(0, col, c[row])
        nxt = _unit_per_graph(nxt, batch, num_graphs)
        done = bool((nxt - c).abs().max() <= tol) if num_nodes > 0 else True
        c = nxt
        if done:
            break
    return c


def _unit_per_graph(c: Tensor, batch: Tensor, num_graphs: int) -> Tensor:
    """Scales every graph's entries of ``c`` ``[num_nodes]`` to unit Euclidean norm."""
    sq = torch.zeros(num_graphs, dtype=c.dtype, device=c.device).index_add_(0, batch, c * c)
    return c / sq.sqrt().clamp_min(1e-30)[batch]


def node_centrality(
    edge_index: Tensor,
    num_nodes: int,
    centrality: str | Tensor,
    *,
    batch: Tensor | None = None,
    num_graphs: int | None = None,
    pagerank_iters: int = 10,
) -> Tensor:
    r"""Node centrality ``[num_nodes]`` by name (``"degree"``, ``"pagerank"`` with
    ``pagerank_iters`` power iterations, ``"eigenvector"``) or passed through when already a
    tensor of shape ``[num_nodes]``."""
    if isinstance(centrality, Tensor):
        if centrality.shape != (num_nodes,):
            raise ValueError(
                f"centrality must have shape [num_nodes] = [{num_nodes}] "
                f"(got {list(centrality.shape)})"
            )
        return centrality
    if centrality == "degree":
        return degree_centrality(edge_index, num_nodes)
    if centrality == "pagerank":
        return pagerank_centrality(edge_index, num_nodes, num_iters=pagerank_iters)
    if centrality == "eigenvector":
        return eigenvector_centrality(edge_index, num_nodes, batch=batch, num_graphs=num_graphs)
    raise ValueError(
        f"centrality must be 'degree', 'pagerank', 'eigenvector' or a tensor (got {centrality!r})"
    )


def feature_weights_adaptive(
    x: Tensor,
    centrality: Tensor,
    *,
    batch: Tensor | None = None,
    num_graphs: int | None = None,
    binary: bool = False,
) -> Tensor:
    r"""GCA's feature importance per graph: :math:`s_{g,f} = \log(1 + \sum_{u \in g}
    |x_{u,f}| \, c_u)`. GCA's main code takes the log without the 1, which makes an all-zero
    column ``-inf`` and then every drop probability NaN; its ``fix-normalization`` branch adds
    the 1, as here (that branch adds it to the edges' ``log c`` too, which
    :func:`edge_drop_probs_adaptive` does not: it follows the main code there).

    Args:
        x: node features ``[num_nodes, num_features]``, dense or sparse CSR.
        centrality: node centrality ``c`` ``[num_nodes]``.
        batch: optional graph id of every node ``[num_nodes]``.
        num_graphs: number of graphs.
        binary: use :math:`[x_{u,f} \neq 0]` instead of :math:`|x_{u,f}|` (GCA's choice for
            bag-of-words features).

    Returns:
        ``[num_graphs, num_features]`` (float64).
    """
    _check_features(x)
    batch, num_graphs = graph_index(x.size(0), batch, num_graphs, x.device)
    total = torch.zeros(num_graphs, x.size(1), dtype=torch.float64, device=x.device)
    if x.layout == torch.sparse_csr:  # O(nnz): only the stored entries contribute
        rows, values = _csr_rows(x), x.values()
        mag = (values != 0).double() if binary else values.abs().double()
        weighted = mag * centrality.double()[rows]
        return torch.log1p(total.index_put_((batch[rows], x.col_indices()), weighted, True))
    mag = (x != 0).double() if binary else x.abs().double()
    weighted = mag * centrality.double().view(-1, 1)
    return torch.log1p(total.index_add_(0, batch, weighted))


def mask_features_adaptive(
    x: Tensor,
    p: float = 0.3,
    *,
    centrality: Tensor,
    p_tau: float = 0.7,
    batch: Tensor | None = None,
    num_graphs: int | None = None,
    binary: bool = False,
    generator: torch.Generator | None = None,
) -> tuple[Tensor, Tensor]:
    r"""GCA's adaptive feature masking (Zhu et al. 2021): zeroes whole feature columns, the
    columns that matter less to central nodes more often.

    With the importance :math:`s_{g,f}` of :func:`feature_weights_adaptive`, column ``f`` of
    graph ``g`` is masked with probability
    :math:`\min\big(\frac{\max_f s_{g,f} - s_{g,f}}{\max_f s_{g,f} - \mathrm{mean}_f s_{g,f}}
    \, p,\ p_\tau\big)` (see :func:`adaptive_drop_probs`), drawn per graph of a batch; every
    node of the graph loses the same columns.

    Args:
        x: node features ``[num_nodes, num_features]``, dense or sparse CSR.
        p: mean masking probability (before the cap).
        centrality: node centrality ``[num_nodes]`` (see :func:`node_centrality`).
        p_tau: cap on any column's probability.
        batch: optional graph id of every node ``[num_nodes]``.
        num_graphs: number of graphs.
        binary: weigh presence (``x != 0``) instead of magnitude.
        generator: source of randomness.

    Returns:
        ``(x, mask)``: the masked copy of ``x`` and the boolean column mask
        ``[num_graphs, num_features]`` (``True`` = masked).
    """
    probs = feature_mask_probs_adaptive(
        x, p, centrality=centrality, p_tau=p_tau, batch=batch, num_graphs=num_graphs, binary=binary
    )
    return mask_feature_columns_with_probs(x, probs, batch=batch, generator=generator)


def feature_mask_probs_adaptive(
    x: Tensor,
    p: float = 0.3,
    *,
    centrality: Tensor,
    p_tau: float = 0.7,
    batch: Tensor | None = None,
    num_graphs: int | None = None,
    binary: bool = False,
) -> Tensor:
    r"""GCA's masking probability of every feature column of every graph
    ``[num_graphs, num_features]`` (see :func:`mask_features_adaptive`, whose arguments these
    are)."""
    _check_prob(p)
    _check_prob(p_tau, "p_tau")
    _check_features(x)
    batch, num_graphs = graph_index(x.size(0), batch, num_graphs, x.device)
    score = feature_weights_adaptive(
        x, centrality, batch=batch, num_graphs=num_graphs, binary=binary
    )
    group = torch.arange(num_graphs, device=x.device).repeat_interleave(x.size(1))
    return adaptive_drop_probs(
        score.view(-1), p, group=group, num_graphs=num_graphs, p_tau=p_tau
    ).view(num_graphs, x.size(1))


def mask_feature_columns_with_probs(
    x: Tensor,
    probs: Tensor,
    *,
    batch: Tensor | None = None,
    generator: torch.Generator | None = None,
) -> tuple[Tensor, Tensor]:
    r"""Zeroes feature column ``f`` of every node of graph ``g`` with probability
    ``probs[g, f]``, independently per graph and column.

    Args:
        x: node features ``[num_nodes, num_features]``, dense or sparse CSR.
        probs: ``[num_graphs, num_features]``.
        batch: graph id of every node ``[num_nodes]``; may be left out for one graph.
        generator: source of randomness.

    Returns:
        ``(x, mask)``: the masked copy of ``x`` and the boolean column mask
        ``[num_graphs, num_features]`` (``True`` = masked).
    """
    _check_features(x)
    if probs.dim() != 2 or probs.size(1) != x.size(1) or (batch is None and probs.size(0) != 1):
        raise ValueError(
            f"probs must be [num_graphs, num_features = {x.size(1)}], with one row without "
            f"batch (got {list(probs.shape)})"
        )
    mask = _rand(probs.numel(), x.device, generator).view_as(probs) < probs
    # one graph: the column scale broadcasts over the nodes (no [N, F] gather)
    batch = None if probs.size(0) == 1 else batch
    return scale_feature_columns(x, (~mask).to(x.dtype), batch), mask
