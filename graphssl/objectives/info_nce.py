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


def _exp_sim(a: Tensor, b: Tensor, tau: float, diag_offset: int | None = None) -> Tensor:
    """``exp((a @ b^T - 1) / tau)`` in place (one ``[len(a), len(b)]`` buffer); with
    ``diag_offset`` the self-pairs ``(i, i + diag_offset)`` are zeroed."""
    e = a @ b.t()
    e.sub_(1.0).mul_(1.0 / tau).exp_()
    if diag_offset is not None:
        i = torch.arange(a.size(0), device=a.device)
        e[i, i + diag_offset] = 0.0
    return e


class _InfoNCE(torch.autograd.Function):
    """Fused InfoNCE with a hand-written backward, over blocks of ``chunk`` anchor rows.

    Cosine similarities are at most 1, so ``exp((s - 1) / tau)`` lies in (0, 1] and the
    denominators need no running max. ``S_vu = S_uv^T`` is computed once: the view-2 anchors'
    denominators are column sums of the view-1 blocks. With a single block the ``exp``
    matrices are kept for the backward pass; with several they are recomputed block by block,
    one ``[chunk, N]`` matrix at a time, so memory stays ``O(N * chunk)``.
    """

    @staticmethod
    def forward(ctx, u: Tensor, v: Tensor, tau: float, chunk: int, intra: bool) -> Tensor:
        n = u.size(0)
        den_u = u.new_zeros(n)
        den_v = u.new_zeros(n)
        blocks = [slice(s, min(s + chunk, n)) for s in range(0, n, chunk)]
        keep = len(blocks) == 1
        kept: list[Tensor] = []
        for rows in blocks:
            e_uv = _exp_sim(u[rows], v, tau)
            den_u[rows] += e_uv.sum(1)
            den_v += e_uv.sum(0)
            kept += [e_uv] if keep else []
            if intra:
                e_uu = _exp_sim(u[rows], u, tau, rows.start)
                den_u[rows] += e_uu.sum(1)
                e_vv = _exp_sim(v[rows], v, tau, rows.start)
                den_v[rows] += e_vv.sum(1)
                kept += [e_uu, e_vv] if keep else []
        pos = (u * v).sum(-1)
        # -log(exp(pos / tau) / den) with den scaled by exp(-1 / tau)
        loss = (den_u.log() + den_v.log() + 2 * (1.0 - pos) / tau).mean() / 2
        ctx.save_for_backward(u, v, den_u, den_v)
        ctx.tau, ctx.intra, ctx.blocks, ctx.kept = tau, intra, blocks, kept
        return loss

    @staticmethod
    def backward(ctx, grad_out: Tensor):
        u, v, den_u, den_v = ctx.saved_tensors
        tau, intra, kept = ctx.tau, ctx.intra, ctx.kept
        n = u.size(0)
        scale = grad_out / (2 * n * tau)
        inv_u, inv_v = scale / den_u, scale / den_v
        grad_u = v * (-2 * scale)
        grad_v = u * (-2 * scale)
        for rows in ctx.blocks:
            # Softmax weights of anchor u_i over v_j plus those of anchor v_j over u_i.
            w = inv_u[rows, None] + inv_v[None, :]
            w.mul_(kept[0] if kept else _exp_sim(u[rows], v, tau))
            grad_u[rows] += w @ v
            grad_v += w.t() @ u[rows]
            del w
            if intra:
                for a, g, inv, e in ((u, grad_u, inv_u, 1), (v, grad_v, inv_v, 2)):
                    w = kept[e] * inv[rows, None] if kept else _exp_sim(a[rows], a, tau, rows.start)
                    if not kept:
                        w.mul_(inv[rows, None])
                    g[rows] += w @ a
                    g += w.t() @ a[rows]
                    del w
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
