r"""InfoNCE / NT-Xent between two views of the same nodes, as in GRACE.

For the :math:`N` anchors :math:`u_i` of view 1 (rows of ``z1`` after L2 normalisation) and
their positives :math:`v_i` in view 2, with temperature :math:`\tau`:

.. math::
    \ell(u_i, v_i) = -\log \frac{e^{u_i^\top v_i / \tau}}
        {\sum_{j} e^{u_i^\top v_j / \tau} + \sum_{j \ne i} e^{u_i^\top u_j / \tau}}

The loss is :math:`\frac{1}{2N}\sum_i \ell(u_i, v_i) + \ell(v_i, u_i)` (symmetric), with the
intra-view negatives :math:`u_j` (GRACE) or without them (``intra_view_negatives=False``).

With ``chunk_size`` set, the :math:`N \times N` similarity matrices are never materialised:
the forward pass keeps only each row's log-sum-exp, and the backward pass recomputes the
similarities block by block, so memory is :math:`O(N \cdot \text{chunk})` in both passes.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

_MIN_TAU_FLOAT32 = 0.05


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


class _InfoNCE(torch.autograd.Function):
    """Fused InfoNCE with a hand-written backward, over blocks of ``chunk`` anchor rows.

    Cosine similarities are bounded by ``1 / tau``, so ``exp(s - 1 / tau)`` lies in (0, 1]
    and the denominators need no running max. ``S_vu = S_uv^T`` is computed once: the
    view-2 anchors' denominators are column sums of the view-1 blocks. With a single block
    the ``exp`` matrices are kept for the backward pass; with several they are recomputed
    block by block, so memory stays ``O(N * chunk)``.
    """

    @staticmethod
    def _block(u: Tensor, v: Tensor, rows: slice, tau: float, intra: bool):
        shift = 1.0 / tau
        e_uv = torch.exp(u[rows] @ v.t() / tau - shift)
        if not intra:
            return e_uv, None, None
        diag = torch.arange(rows.stop - rows.start, device=u.device)
        e_uu = torch.exp(u[rows] @ u.t() / tau - shift)
        e_vv = torch.exp(v[rows] @ v.t() / tau - shift)
        e_uu[diag, diag + rows.start] = 0.0
        e_vv[diag, diag + rows.start] = 0.0
        return e_uv, e_uu, e_vv

    @staticmethod
    def forward(ctx, u: Tensor, v: Tensor, tau: float, chunk: int, intra: bool) -> Tensor:
        n = u.size(0)
        den_u = u.new_zeros(n)
        den_v = u.new_zeros(n)
        blocks = [slice(s, min(s + chunk, n)) for s in range(0, n, chunk)]
        kept = None
        for rows in blocks:
            e_uv, e_uu, e_vv = _InfoNCE._block(u, v, rows, tau, intra)
            den_u[rows] += e_uv.sum(1)
            den_v += e_uv.sum(0)
            if intra:
                den_u[rows] += e_uu.sum(1)
                den_v[rows] += e_vv.sum(1)
            if len(blocks) == 1:
                kept = (e_uv, e_uu, e_vv)
        pos = (u * v).sum(-1) / tau
        loss = (den_u.log() + den_v.log() + 2.0 / tau - 2 * pos).mean() / 2
        ctx.save_for_backward(u, v, den_u, den_v)
        ctx.tau, ctx.intra, ctx.blocks, ctx.kept = tau, intra, blocks, kept
        return loss

    @staticmethod
    def backward(ctx, grad_out: Tensor):
        u, v, den_u, den_v = ctx.saved_tensors
        tau, intra = ctx.tau, ctx.intra
        n = u.size(0)
        scale = grad_out / (2 * n * tau)
        grad_u = v * (-2 * scale)
        grad_v = u * (-2 * scale)
        for rows in ctx.blocks:
            e_uv, e_uu, e_vv = ctx.kept or _InfoNCE._block(u, v, rows, tau, intra)
            # Softmax weights of anchor u_i over v_j plus those of anchor v_j over u_i.
            w_uv = e_uv * (scale / den_u[rows, None]) + e_uv * (scale / den_v[None, :])
            grad_u[rows] += w_uv @ v
            grad_v += w_uv.t() @ u[rows]
            if intra:
                w_uu = e_uu * (scale / den_u[rows, None])
                w_vv = e_vv * (scale / den_v[rows, None])
                grad_u[rows] += w_uu @ u
                grad_u += w_uu.t() @ u[rows]
                grad_v[rows] += w_vv @ v
                grad_v += w_vv.t() @ v[rows]
        ctx.kept = None
        return grad_u, grad_v, None, None, None


def info_nce(
    z1: Tensor,
    z2: Tensor,
    tau: float = 0.5,
    *,
    intra_view_negatives: bool = True,
    chunk_size: int | None = None,
) -> Tensor:
    r"""Symmetric InfoNCE (NT-Xent) between two views, GRACE's objective.

    Row ``i`` of ``z1`` and row ``i`` of ``z2`` are the positive pair; every other row of
    ``z2`` (and of ``z1`` with ``intra_view_negatives``) is a negative.

    Args:
        z1: ``[N, dim]`` embeddings (projections) of view 1; normalised inside.
        z2: ``[N, dim]`` embeddings of view 2.
        tau: temperature.
        intra_view_negatives: also use the other nodes of the anchor's own view as negatives.
        chunk_size: compute blockwise over ``chunk_size`` anchors at a time, with memory
            ``O(N * chunk_size)`` in the forward and the backward pass (the similarities are
            recomputed in the backward pass). ``None`` computes the dense ``N x N``
            similarities once and keeps them (fastest for small ``N``).

    Returns:
        The scalar loss (mean over the ``2N`` anchors).
    """
    _check_inputs(z1, z2, tau)
    if chunk_size is not None and chunk_size < 1:
        raise ValueError(f"chunk_size must be >= 1 (got {chunk_size})")
    dtype = z1.dtype
    if tau < _MIN_TAU_FLOAT32 and dtype != torch.float64:
        # exp(-2 / tau) underflows in float32 below this temperature: compute in float64.
        z1, z2 = z1.double(), z2.double()
    u, v = F.normalize(z1, dim=-1), F.normalize(z2, dim=-1)
    chunk = u.size(0) if chunk_size is None else min(int(chunk_size), u.size(0))
    return _InfoNCE.apply(u, v, float(tau), chunk, intra_view_negatives).to(dtype)


class InfoNCE(nn.Module):
    """Module form of :func:`info_nce`."""

    def __init__(
        self, tau: float = 0.5, intra_view_negatives: bool = True, chunk_size: int | None = None
    ) -> None:
        super().__init__()
        self.tau = tau
        self.intra_view_negatives = intra_view_negatives
        self.chunk_size = chunk_size

    def forward(self, z1: Tensor, z2: Tensor) -> Tensor:
        return info_nce(
            z1,
            z2,
            self.tau,
            intra_view_negatives=self.intra_view_negatives,
            chunk_size=self.chunk_size,
        )

    def extra_repr(self) -> str:
        return (
            f"tau={self.tau}, intra_view_negatives={self.intra_view_negatives}, "
            f"chunk_size={self.chunk_size}"
        )
