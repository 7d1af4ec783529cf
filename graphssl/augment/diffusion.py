"""Graph diffusion views (MVGRL): personalised PageRank and heat kernel, sparsified.

A diffusion :math:`S = \\sum_{k \\ge 0} \\theta_k T^k` of a transition matrix :math:`T` is computed
by a truncated series of sparse products, a block of columns at a time, and sparsified per
block by a threshold ``eps`` and / or the ``top_k`` largest entries of every column. No dense
``N x N`` matrix and no inverse is formed: memory is ``O(N * chunk_size)``, time
``O(num_terms * num_edges * N)`` for one graph of ``N`` nodes, and for a batch of small graphs
``O(num_terms * num_edges * max_g n_g)``: columns of every graph advance together, because
:math:`T` of a batch is block-diagonal (no edge between two graphs).

Conventions: :math:`A_{ij}` is the weight of the edge ``(j, i)`` (messages flow from source
``j`` to target ``i``, as in PyG), and a diffusion entry :math:`S_{ij}` becomes the edge
``(j, i)`` with weight :math:`S_{ij}`. PyG's ``torch_geometric.transforms.GDC`` computes the same
matrices, but densely (``exact=True``) or with numba (approximate PPR only); neither fits here.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from graphssl.augment.functional import _ptr, graph_index

__all__ = [
    "diffusion",
    "heat_coefficients",
    "heat_diffusion",
    "ppr_coefficients",
    "ppr_diffusion",
    "transition_matrix",
]

NORMALIZATIONS = ("sym", "col", "row")


def transition_matrix(
    edge_index: Tensor,
    num_nodes: int,
    *,
    edge_weight: Tensor | None = None,
    normalization: str = "sym",
    self_loops: bool = True,
) -> Tensor:
    r"""The normalised adjacency :math:`T`, a coalesced sparse COO ``[num_nodes, num_nodes]``.

    With :math:`\tilde A = A + I` (``self_loops``; existing self-loops are kept and one of
    weight 1 is added to every node), :math:`d_i = \sum_j \tilde A_{ij}` and
    :math:`D = \mathrm{diag}(d)`:

    - ``"sym"``: :math:`D^{-1/2} \tilde A D^{-1/2}` (GCN, MVGRL);
    - ``"col"``: :math:`\tilde A D_{out}^{-1}`, every column sums to 1 (a random walk's step);
    - ``"row"``: :math:`D^{-1} \tilde A`, every row sums to 1 (mean aggregation).

    Rows / columns of nodes without edges stay zero.
    """
    if normalization not in NORMALIZATIONS:
        raise ValueError(f"normalization must be one of {NORMALIZATIONS} (got {normalization!r})")
    device = edge_index.device
    src, dst = edge_index
    w = (
        torch.ones(src.numel(), device=device)
        if edge_weight is None
        else edge_weight.to(torch.float32).view(-1)
    )
    if self_loops:
        loop = torch.arange(num_nodes, device=device)
        src, dst = torch.cat([src, loop]), torch.cat([dst, loop])
        w = torch.cat([w, torch.ones(num_nodes, device=device)])
    d_in = torch.zeros(num_nodes, device=device).index_add_(0, dst, w)
    if normalization == "sym":
        inv = d_in.pow(-0.5).masked_fill(d_in == 0, 0.0)
        w = inv[dst] * w * inv[src]
    elif normalization == "row":
        w = w / d_in[dst].masked_fill(d_in[dst] == 0, 1.0)
    else:
        d_out = torch.zeros(num_nodes, device=device).index_add_(0, src, w)
        w = w / d_out[src].masked_fill(d_out[src] == 0, 1.0)
    mat = torch.sparse_coo_tensor(
        torch.stack([dst, src]), w, (num_nodes, num_nodes), check_invariants=False
    )
    return mat.coalesce()


def ppr_coefficients(alpha: float, tol: float) -> Tensor:
    r""":math:`\theta_k = \alpha (1 - \alpha)^k` for :math:`k = 0 .. K`, with :math:`K` the first
    index where the tail :math:`(1 - \alpha)^{K+1}` is below ``tol`` ``[K + 1]`` (float64)."""
    if not 0.0 < alpha <= 1.0:
        raise ValueError(f"alpha must be in (0, 1] (got {alpha})")
    num = 1 if alpha == 1.0 else max(1, math.ceil(math.log(tol) / math.log(1.0 - alpha)))
    k = torch.arange(num, dtype=torch.float64)
    return alpha * (1.0 - alpha) ** k


HEAT_MAX_TERMS = 10_001


def heat_coefficients(t: float, tol: float) -> Tensor:
    r""":math:`\theta_k = e^{-t} t^k / k!` (a Poisson distribution) up to the first :math:`K`
    where the remaining mass is below ``tol`` ``[K + 1]`` (float64).

    The terms are computed in log space, :math:`\exp(-t + k \log t - \log k!)`, so they stay
    right where :math:`e^{-t}` alone underflows (``t > 745``). Raises ``ValueError`` when the
    tail is still above ``tol`` after ``HEAT_MAX_TERMS`` terms (``t > 9,600`` for ``tol=1e-4``):
    each term costs one sparse product per block of columns."""
    if not t >= 0.0:
        raise ValueError(f"t must be >= 0 (got {t})")
    log_t = math.log(t) if t > 0.0 else -math.inf
    coeffs, total = [], 0.0
    for k in range(HEAT_MAX_TERMS):
        term = math.exp(-t + k * log_t - math.lgamma(k + 1)) if k > 0 else math.exp(-t)
        coeffs.append(term)
        total += term
        if 1.0 - total < tol:
            return torch.tensor(coeffs, dtype=torch.float64)
    raise ValueError(
        f"the heat kernel's series for t={t} needs more than {HEAT_MAX_TERMS} terms to get its "
        f"tail below tol={tol}; use a smaller t or a larger tol"
    )


def diffusion(
    edge_index: Tensor,
    num_nodes: int,
    coefficients: Tensor,
    *,
    edge_weight: Tensor | None = None,
    batch: Tensor | None = None,
    num_graphs: int | None = None,
    normalization: str = "sym",
    self_loops: bool = True,
    top_k: int | None = None,
    eps: float | None = 1e-4,
    chunk_size: int = 1024,
) -> tuple[Tensor, Tensor]:
    r"""The sparsified diffusion :math:`S = \sum_k \theta_k T^k`, per graph of a batch.

    Args:
        edge_index: ``[2, num_edges]``; no edge may join two graphs of a batch.
        num_nodes: number of nodes.
        coefficients: :math:`\theta_0 .. \theta_K` ``[K + 1]``.
        edge_weight: optional ``[num_edges]``.
        batch: optional sorted graph id of every node ``[num_nodes]``.
        num_graphs: number of graphs.
        normalization: ``"sym"``, ``"col"`` or ``"row"`` (see :func:`transition_matrix`).
        self_loops: add a self-loop of weight 1 to every node before normalising.
        top_k: keep the ``top_k`` largest entries of every column :math:`S_{:, j}` (the
            out-edges of node ``j``; ties broken by index).
        eps: drop entries below ``eps``; ``None`` keeps every non-zero entry.
        chunk_size: columns per block (per graph for a batch); bounds memory to
            ``[num_nodes, chunk_size]`` floats.

    Returns:
        ``(edge_index, edge_weight)``: edge ``(j, i)`` with weight :math:`S_{ij}`,
        ``[2, nnz]`` and ``[nnz]``, sorted by source ``j`` (so grouped by graph).
    """
    if top_k is not None and (not isinstance(top_k, int) or top_k < 1):
        raise ValueError(f"top_k must be a positive integer or None (got {top_k!r})")
    if eps is not None and eps < 0:
        raise ValueError(f"eps must be >= 0 or None (got {eps})")
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be >= 1 (got {chunk_size})")
    device = edge_index.device
    batch, num_graphs = graph_index(num_nodes, batch, num_graphs, device)
    _check_within_graphs(edge_index, batch)
    mat = transition_matrix(
        edge_index,
        num_nodes,
        edge_weight=edge_weight,
        normalization=normalization,
        self_loops=self_loops,
    )
    counts, ptr = _ptr(batch, num_graphs)
    local = torch.arange(num_nodes, device=device) - ptr[batch]  # position within its graph
    width = int(counts.max()) if num_nodes > 0 else 0
    theta = coefficients.to(device=device, dtype=torch.float32)
    rows, cols, vals = [], [], []
    for start in range(0, width, chunk_size):
        stop = min(start + chunk_size, width)
        # Column c of the block is the unit vector of node ptr[g] + start + c, for every g.
        block = torch.zeros(num_nodes, stop - start, device=device)
        inside = (local >= start) & (local < stop)
        block[inside, (local - start)[inside]] = 1.0
        out = _series(mat, block, theta)
        i, c, v = _sparsify_block(out, batch, ptr, start, top_k, eps)
        rows.append(i)
        cols.append(c)
        vals.append(v)
    if not rows:
        return edge_index.new_zeros(2, 0), torch.zeros(0, device=device)
    i, j, v = torch.cat(rows), torch.cat(cols), torch.cat(vals)
    order = torch.sort(j * max(num_nodes, 1) + i)[1]  # by source, then target
    return torch.stack([j[order], i[order]]), v[order]


def _check_within_graphs(edge_index: Tensor, batch: Tensor) -> None:
    if edge_index.numel() > 0 and bool((batch[edge_index[0]] != batch[edge_index[1]]).any()):
        raise ValueError("edge_index has edges between two graphs of the batch")


def _series(mat: Tensor, block: Tensor, theta: Tensor) -> Tensor:
    r""":math:`\sum_k \theta_k T^k X` for a dense block :math:`X` ``[N, b]`` (Horner-free:
    one sparse product per term)."""
    power = block
    out = theta[0] * block
    for coef in theta[1:]:
        power = mat @ power
        out.add_(power, alpha=float(coef))
    return out


def _sparsify_block(
    out: Tensor,
    batch: Tensor,
    ptr: Tensor,
    start: int,
    top_k: int | None,
    eps: float | None,
) -> tuple[Tensor, Tensor, Tensor]:
    """Entries ``(i, j, S_ij)`` of a block kept by the threshold and the per-column top-k.

    ``out[i, c]`` is :math:`S_{i, j}` with ``j = ptr[batch[i]] + start + c``.
    """
    keep = out > (eps if eps is not None else 0.0)
    i, c = keep.nonzero(as_tuple=True)
    v = out[i, c]
    j = ptr[batch[i]] + start + c
    if top_k is not None and j.numel() > 0:
        order = torch.sort(v, descending=True, stable=True)[1]
        order = order[torch.sort(j[order], stable=True)[1]]  # by column, largest first
        counts = torch.bincount(j[order])
        first = counts.cumsum(0) - counts
        rank = torch.arange(order.numel(), device=out.device) - first[j[order]]
        order = order[rank < top_k]
        i, j, v = i[order], j[order], v[order]
    return i, j, v


def ppr_diffusion(
    edge_index: Tensor,
    num_nodes: int,
    alpha: float = 0.2,
    *,
    tol: float = 1e-4,
    **kwargs,
) -> tuple[Tensor, Tensor]:
    r"""Personalised PageRank diffusion :math:`S = \alpha (I - (1 - \alpha) T)^{-1} =
    \sum_k \alpha (1 - \alpha)^k T^k`, sparsified (MVGRL's PPR view).

    The series is cut once the remaining mass :math:`(1 - \alpha)^{K+1}` is below ``tol``
    (so every entry is within ``tol`` of the exact inverse for ``"col"`` / ``"row"``, and
    within ``tol`` in spectral norm for ``"sym"``). Keyword arguments as :func:`diffusion`
    (``edge_weight``, ``batch``, ``num_graphs``, ``normalization``, ``self_loops``, ``top_k``,
    ``eps``, ``chunk_size``).

    Returns:
        ``(edge_index, edge_weight)``: ``[2, nnz]`` and ``[nnz]``.
    """
    return diffusion(edge_index, num_nodes, ppr_coefficients(alpha, tol), **kwargs)


def heat_diffusion(
    edge_index: Tensor,
    num_nodes: int,
    t: float = 5.0,
    *,
    tol: float = 1e-4,
    **kwargs,
) -> tuple[Tensor, Tensor]:
    r"""Heat-kernel diffusion :math:`S = \exp(-t (I - T)) = \sum_k e^{-t} \frac{t^k}{k!} T^k`,
    sparsified (MVGRL's heat view; the matrix exponential, as GDC computes it).

    The series is cut once the Poisson tail is below ``tol``. Keyword arguments as
    :func:`diffusion`.

    Returns:
        ``(edge_index, edge_weight)``: ``[2, nnz]`` and ``[nnz]``.
    """
    return diffusion(edge_index, num_nodes, heat_coefficients(t, tol), **kwargs)
