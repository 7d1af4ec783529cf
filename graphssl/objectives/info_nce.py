r"""InfoNCE / NT-Xent between two views of the same nodes, as in GRACE.

For the :math:`N` anchors :math:`u_i` of view 1 (rows of ``z1`` after L2 normalisation) and
their positives :math:`v_i` in view 2, with temperature :math:`\tau`:

.. math::
    \ell(u_i, v_i) = -\log \frac{e^{u_i^\top v_i / \tau}}
        {\sum_{j} e^{u_i^\top v_j / \tau} + \sum_{j \ne i} e^{u_i^\top u_j / \tau}}

The loss is :math:`\frac{1}{2N}\sum_i \ell(u_i, v_i) + \ell(v_i, u_i)` (symmetric), with the
intra-view negatives :math:`u_j` (GRACE) or without them (``intra_view_negatives=False``).

With ``chunk_size`` set, the :math:`N \times N` similarity matrices are never materialised: the
forward pass keeps only each row's log-sum-exp, and the backward pass recomputes the
similarities tile by tile (on the CPU tiles of at most 1024 x 1024, which stay in its cache; a
``chunk`` of more anchors is cut into several), so memory is :math:`O(N + \text{chunk} \cdot
\text{tile})` in both passes. With ``chunk_size=None`` on a graph too large for one dense
block, the same tiles are computed, and kept for the backward pass while all of them fit in
``_KEEP_BYTES`` (2 GiB: up to about 16k nodes in float32), which saves the recomputation (a
quarter of the matmul work) at the same values bit for bit.

Precision: the loss is computed in float32 (float64 for float64 inputs), also for bfloat16 /
float16 inputs and under ``torch.autocast`` (:func:`~.precision.full_precision`). Bfloat16
similarity matmuls would run about 4x faster on a CPU with AVX512-BF16, but they destroy the
gradient where the nodes' embeddings are nearly parallel, as at initialisation (GRACE's first
step on Cora: the projection head's gradient came out nearly orthogonal to the float32 one),
since the signal lies in similarity differences below bfloat16's resolution (2^-8 near 1).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from graphssl.objectives.precision import full_precision

_MIN_TAU_FLOAT32 = 0.05
# Elements per similarity tile of the chunked path. CPU: 2^20 float32 = 4 MiB, which stays
# in cache, where one [chunk, N] block (hundreds of MiB at N = 35k) makes every elementwise
# pass a trip to memory (measured 2.5x slower per block on a 2-core EPYC). GPUs: large tiles,
# as every tile costs kernel launches.
_TILE_ELEMENTS = {"cpu": 1 << 20, "accelerator": 1 << 26}
# chunk_size=None: dense (the N x N similarities kept for the backward pass) up to this many
# nodes, else blocks of _AUTO_CHUNK anchors. On the CPU the tiles are faster from a few
# thousand nodes on (N = 7650, d = 128, one thread: 2.8 s against 4.3 s dense for forward +
# backward); on a GPU dense is kept up to 16384 nodes.
_DENSE_MAX = {"cpu": 4096, "accelerator": 16384}
_AUTO_CHUNK = {"cpu": 1024, "accelerator": 4096}
# chunk_size=None above _DENSE_MAX: the forward pass's exp tiles are kept for the backward pass
# when they take at most this many bytes (about 2 N^2 elements: N = 7650 in float32 is 0.45 GiB,
# N = 13752 1.4 GiB), instead of being recomputed: on the 2-core EPYC, forward + backward at
# N = 7650, d = 256 took 1.3-1.4 s against 1.7-1.8 s, and 2.5-2.7 s against 3.4 s at N = 13752,
# d = 128. An explicit chunk_size keeps memory O(N + chunk * tile) and recomputes.
_KEEP_BYTES = 2 << 30


def _device_kind(x: Tensor) -> str:
    return "cpu" if x.device.type == "cpu" else "accelerator"


def _check_inputs(z1: Tensor, z2: Tensor, tau: float) -> None:
    if z1.dim() != 2 or z1.shape != z2.shape:
        raise ValueError(
            f"z1 and z2 must both be [num_nodes, dim] with the same shape "
            f"(got {tuple(z1.shape)} and {tuple(z2.shape)})"
        )
    if z1.size(0) < 2:
        raise ValueError("InfoNCE needs at least 2 nodes (one positive and one negative)")
    if tau <= 0:
        raise ValueError(f"tau must be > 0 (got {tau})")


def _exp_sim(a: Tensor, b: Tensor, tau: float, above: int | None = None) -> Tensor:
    """``exp((a @ b^T - 1) / tau)`` ``[len(a), len(b)]`` in one buffer; with ``above`` only
    the entries ``(i, j)`` with ``j - i >= above`` are kept, the others zeroed."""
    shift = torch.tensor(-1.0 / tau, dtype=a.dtype, device=a.device)
    e = torch.addmm(shift, a, b.t(), alpha=1.0 / tau).exp_()
    if above is not None and above > 1 - a.size(0):
        e.triu_(above)
    return e


def _tiles(n: int, rows: slice, tile_elements: int) -> list[slice]:
    """Column ranges covering ``0..n`` for the anchor rows ``rows``: one range when all
    rows are in the block (the dense path), else tiles of about ``tile_elements``."""
    height = rows.stop - rows.start
    if height >= n:
        return [slice(0, n)]
    width = max(1, tile_elements // height)
    return [slice(s, min(s + width, n)) for s in range(0, n, width)]


def _tile_pairs(
    n: int, chunk: int, intra: bool, tile_elements: int
) -> list[tuple[slice, slice, int | None]]:
    """The tiles ``(rows, cols, above)`` of one pass. The cross-view similarities need every
    tile (``above=None``). The intra-view ones are symmetric, so only pairs ``j > i`` are
    visited, each once for both of its anchors: tiles that reach above the diagonal, with
    ``above`` the first kept diagonal of the tile (:func:`_exp_sim`).

    Blocks of ``chunk < n`` anchors are cut into tiles of at most ``sqrt(tile_elements)``
    rows, about square: a tall thin tile's similarity product runs at half the rate of a
    square one of the same size (``[4096, d] @ [d, 256]`` at 73 GFLOP/s against 167 for
    ``[1024, d] @ [d, 1024]``, d = 256, on the 2-core EPYC)."""
    if chunk < n:
        chunk = min(chunk, max(1, math.isqrt(tile_elements)))
    pairs: list[tuple[slice, slice, int | None]] = []
    for start in range(0, n, chunk):
        rows = slice(start, min(start + chunk, n))
        for cols in _tiles(n, rows, tile_elements):
            pairs.append((rows, cols, None))
            if intra and cols.stop > rows.start + 1:
                pairs.append((rows, cols, rows.start - cols.start + 1))
    return pairs


def _kept_bytes(pairs: list[tuple[slice, slice, int | None]], element_size: int) -> int:
    """Bytes of the exp tiles of ``pairs`` (an intra-view pair holds one tile per view)."""
    elements = sum(
        (rows.stop - rows.start) * (cols.stop - cols.start) * (1 if above is None else 2)
        for rows, cols, above in pairs
    )
    return elements * element_size


class _InfoNCE(torch.autograd.Function):
    """Fused InfoNCE with a hand-written backward, over tiles of ``chunk`` anchor rows.

    Cosine similarities are at most 1, so ``exp((s - 1) / tau)`` lies in (0, 1] and the
    denominators need no running max. ``S_vu = S_uv^T`` is computed once: the view-2 anchors'
    denominators are column sums of the view-1 tiles; likewise each intra-view pair
    ``{i, j}`` is computed once and counted for both anchors. With a single row block, or
    when all tiles fit in ``keep_bytes``, the ``exp`` tiles are kept for the backward pass;
    otherwise they are computed and recomputed one ``[chunk, tile]`` tile at a time, so memory
    stays ``O(N + chunk * tile)``.
    """

    @staticmethod
    def forward(
        ctx, u: Tensor, v: Tensor, tau: float, chunk: int, intra: bool, keep_bytes: int = 0
    ) -> Tensor:
        n = u.size(0)
        den_u = u.new_zeros(n)
        den_v = u.new_zeros(n)
        pairs = _tile_pairs(n, chunk, intra, _TILE_ELEMENTS[_device_kind(u)])
        keep = chunk >= n or _kept_bytes(pairs, u.element_size()) <= keep_bytes
        kept: list[Tensor] = []
        for rows, cols, above in pairs:
            if above is None:  # u_i . v_j: anchor u_i (rows) and anchor v_j (columns)
                e = _exp_sim(u[rows], v[cols], tau)
                den_u[rows] += e.sum(1)
                den_v[cols] += e.sum(0)
                kept += [e] if keep else []
                continue
            for a, den in ((u, den_u), (v, den_v)):
                e = _exp_sim(a[rows], a[cols], tau, above)
                den[rows] += e.sum(1)
                den[cols] += e.sum(0)
                kept += [e] if keep else []
        pos = (u * v).sum(-1)
        # -log(exp(pos / tau) / den) with den scaled by exp(-1 / tau)
        loss = (den_u.log() + den_v.log() + 2 * (1.0 - pos) / tau).mean() / 2
        ctx.save_for_backward(u, v, den_u, den_v)
        ctx.tau, ctx.pairs, ctx.kept = tau, pairs, kept
        return loss

    @staticmethod
    def backward(ctx, grad_out: Tensor):
        u, v, den_u, den_v = ctx.saved_tensors
        tau, kept = ctx.tau, iter(ctx.kept)
        n = u.size(0)
        scale = grad_out / (2 * n * tau)
        inv_u, inv_v = scale / den_u, scale / den_v
        grad_u = v * (-2 * scale)
        grad_v = u * (-2 * scale)
        # The weight of pair (i, j) is its softmax weight for anchor i plus that for anchor j.
        for rows, cols, above in ctx.pairs:
            if above is None:
                e = next(kept) if ctx.kept else _exp_sim(u[rows], v[cols], tau)
                w = (inv_u[rows, None] + inv_v[None, cols]).mul_(e)
                grad_u[rows] += w @ v[cols]
                grad_v[cols] += w.t() @ u[rows]
                continue
            for a, g, inv in ((u, grad_u, inv_u), (v, grad_v, inv_v)):
                e = next(kept) if ctx.kept else _exp_sim(a[rows], a[cols], tau, above)
                w = (inv[rows, None] + inv[None, cols]).mul_(e)
                g[rows] += w @ a[cols]
                g[cols] += w.t() @ a[rows]
        return grad_u, grad_v, None, None, None, None


@full_precision
def info_nce(
    z1: Tensor,
    z2: Tensor,
    tau: float = 0.5,
    *,
    intra_view_negatives: bool = True,
    chunk_size: int | None = None,
    keep_gib: float | None = None,
) -> Tensor:
    r"""Symmetric InfoNCE (NT-Xent) between two views, GRACE's objective.

    Row ``i`` of ``z1`` and row ``i`` of ``z2`` are the positive pair; every other row of
    ``z2`` (and of ``z1`` with ``intra_view_negatives``) is a negative.

    Args:
        z1: ``[N, dim]`` embeddings (projections) of view 1; normalised inside.
        z2: ``[N, dim]`` embeddings of view 2.
        tau: temperature.
        intra_view_negatives: also use the other nodes of the anchor's own view as negatives.
        chunk_size: compute blockwise over ``chunk_size`` anchors at a time (in tiles of at most
            1024 x 1024 on the CPU, 8192 x 8192 on a GPU), with memory ``O(N + chunk_size * tile)``
            in the forward and the backward pass (the similarities are recomputed in the backward
            pass); ``chunk_size >= N`` computes the dense ``N x N`` similarities once and keeps
            them. ``None``: dense up to 4096 nodes on the CPU (16384 on a GPU), else blocks of 1024
            anchors (4096 on a GPU), the faster choice measured here, whose tiles are kept for the
            backward pass while they fit in 2 GiB (the same values as recomputing them, faster).
        keep_gib: memory (GiB) the blockwise path may spend keeping its ``exp`` tiles, about
            ``2 N^2`` elements, for the backward pass instead of recomputing them: all of them
            are kept when they fit, else none. ``None``: 2 with ``chunk_size=None``, 0 (memory
            ``O(N + chunk_size * tile)``) with an explicit ``chunk_size``. Coauthor-CS
            (``N = 18333``) needs 2.5 GiB in float32; an epoch of GRACE there took 11-13 s
            keeping them against 17-20 s recomputing them on the 2-core EPYC.

    Returns:
        The scalar loss (mean over the ``2N`` anchors); float32 for bfloat16 / float16
        inputs (see :func:`~graphssl.objectives.precision.full_precision`).
    """
    _check_inputs(z1, z2, tau)
    if chunk_size is not None and chunk_size < 1:
        raise ValueError(f"chunk_size must be >= 1 (got {chunk_size})")
    if keep_gib is not None and not keep_gib >= 0:
        raise ValueError(f"keep_gib must be >= 0 (got {keep_gib})")
    dtype = z1.dtype
    if tau < _MIN_TAU_FLOAT32 and dtype != torch.float64:
        # exp(-2 / tau) underflows in float32 below this temperature: compute in float64.
        z1, z2 = z1.double(), z2.double()
    u, v = F.normalize(z1, dim=-1), F.normalize(z2, dim=-1)
    n, kind = u.size(0), _device_kind(u)
    keep_bytes = 0 if chunk_size is not None else _KEEP_BYTES
    if keep_gib is not None:
        keep_bytes = int(keep_gib * 2**30)
    if chunk_size is None:
        chunk_size = n if n <= _DENSE_MAX[kind] else _AUTO_CHUNK[kind]
    chunk = min(int(chunk_size), n)
    loss = _InfoNCE.apply(u, v, float(tau), chunk, intra_view_negatives, keep_bytes)
    return loss.to(dtype)


class InfoNCE(nn.Module):
    """Module form of :func:`info_nce`."""

    def __init__(
        self,
        tau: float = 0.5,
        intra_view_negatives: bool = True,
        chunk_size: int | None = None,
        keep_gib: float | None = None,
    ) -> None:
        super().__init__()
        self.tau = tau
        self.intra_view_negatives = intra_view_negatives
        self.chunk_size = chunk_size
        self.keep_gib = keep_gib

    def forward(self, z1: Tensor, z2: Tensor) -> Tensor:
        return info_nce(
            z1,
            z2,
            self.tau,
            intra_view_negatives=self.intra_view_negatives,
            chunk_size=self.chunk_size,
            keep_gib=self.keep_gib,
        )

    def extra_repr(self) -> str:
        return (
            f"tau={self.tau}, intra_view_negatives={self.intra_view_negatives}, "
            f"chunk_size={self.chunk_size}, keep_gib={self.keep_gib}"
        )
