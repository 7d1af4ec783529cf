"""Decorrelation objectives on two views: Barlow Twins (G-BT), VICReg and CCA-SSG."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from graphssl.objectives.precision import full_precision


def _check_pair(z1: Tensor, z2: Tensor) -> None:
    if z1.dim() != 2 or z1.shape != z2.shape:
        raise ValueError(
            f"z1 and z2 must both be [N, dim] with the same shape "
            f"(got {tuple(z1.shape)} and {tuple(z2.shape)})"
        )
    if z1.size(0) < 2:
        raise ValueError("needs at least 2 rows to estimate per-dimension statistics")


def _standardize(z: Tensor, eps: float) -> Tensor:
    return (z - z.mean(0)) / (z.std(0) + eps)


def _off_diagonal(m: Tensor) -> Tensor:
    n = m.size(0)
    return m.flatten()[:-1].view(n - 1, n + 1)[:, 1:].flatten()


@full_precision
def barlow_twins_loss(
    z1: Tensor, z2: Tensor, lambd: float | None = None, eps: float = 1e-15
) -> Tensor:
    r"""Barlow Twins on standardised columns (G-BT, Bielak et al. 2022).

    .. math::
        C = \tilde z_1^\top \tilde z_2 / N, \quad
        \mathcal{L} = \sum_i (1 - C_{ii})^2 + \lambda \sum_{i \ne j} C_{ij}^2

    Args:
        z1, z2: ``[N, D]`` embeddings of two views.
        lambd: off-diagonal weight; G-BT's default ``1 / D``.
        eps: added to the column std.
    """
    _check_pair(z1, z2)
    n, d = z1.shape
    lambd = 1.0 / d if lambd is None else lambd
    c = _standardize(z1, eps).t() @ _standardize(z2, eps) / n
    on = (1 - torch.diagonal(c)).pow(2).sum()
    off = _off_diagonal(c).pow(2).sum()
    return on + lambd * off


@full_precision
def vicreg_loss(
    z1: Tensor,
    z2: Tensor,
    sim_weight: float = 25.0,
    var_weight: float = 25.0,
    cov_weight: float = 1.0,
    gamma: float = 1.0,
    eps: float = 1e-4,
) -> Tensor:
    r"""VICReg (Bardes et al. 2022): invariance (MSE) + variance hinge + covariance penalty.

    Args:
        z1, z2: ``[N, D]``.
        sim_weight, var_weight, cov_weight: the three terms' weights (paper: 25, 25, 1).
        gamma: target standard deviation of each dimension.
        eps: numerical floor inside the square root.
    """
    _check_pair(z1, z2)
    n, d = z1.shape
    invariance = F.mse_loss(z1, z2)

    def variance(z: Tensor) -> Tensor:
        return F.relu(gamma - torch.sqrt(z.var(0) + eps)).mean()

    def covariance(z: Tensor) -> Tensor:
        zc = z - z.mean(0)
        cov = zc.t() @ zc / (n - 1)
        return _off_diagonal(cov).pow(2).sum() / d

    return (
        sim_weight * invariance
        + var_weight * (variance(z1) + variance(z2))
        + cov_weight * (covariance(z1) + covariance(z2))
    )


@full_precision
def cca_ssg_loss(z1: Tensor, z2: Tensor, lambd: float = 1e-3, eps: float = 0.0) -> Tensor:
    r"""CCA-SSG (Zhang et al., 2021): invariance between standardised views plus a soft
    whitening constraint on each.

    .. math::
        \tilde z = \frac{z - \mu}{\sigma \sqrt{N}}, \quad
        \mathcal{L} = -\operatorname{tr}(\tilde z_1^\top \tilde z_2)
            + \lambda \left(\|\tilde z_1^\top \tilde z_1 - I\|_F^2
                          + \|\tilde z_2^\top \tilde z_2 - I\|_F^2\right)

    The invariance term is the reference implementation's: it equals half the paper's
    :math:`\|\tilde z_1 - \tilde z_2\|_F^2` up to a constant, and the published
    :math:`\lambda` values were tuned for it.

    Args:
        z1, z2: ``[N, D]``.
        lambd: weight of the decorrelation terms (paper: 1e-3 on Cora).
        eps: added to the column std.
    """
    _check_pair(z1, z2)
    n, d = z1.shape
    a = _standardize(z1, eps) / n**0.5
    b = _standardize(z2, eps) / n**0.5
    eye = torch.eye(d, device=z1.device, dtype=z1.dtype)
    invariance = -(a * b).sum()
    decorrelation = (a.t() @ a - eye).pow(2).sum() + (b.t() @ b - eye).pow(2).sum()
    return invariance + lambd * decorrelation
