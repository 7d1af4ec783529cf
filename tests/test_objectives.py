"""Objectives: hand-computed values on tiny inputs, gradcheck in float64, and direction."""

from __future__ import annotations

import math

import pytest
import torch

from graphssl.objectives import (
    barlow_twins_loss,
    bootstrap_loss,
    cca_ssg_loss,
    jsd_loss,
    sce_loss,
    triplet_margin_loss,
    vicreg_loss,
)

Z = torch.tensor([[1.0, 1.0], [-1.0, -1.0]])


def test_hand_computed_values():
    assert jsd_loss(torch.zeros(3), torch.zeros(2)).item() == pytest.approx(2 * math.log(2))
    # softplus(-2) + softplus(1), and twice DGI's BCE over the concatenated scores
    pos, neg = torch.tensor([2.0]), torch.tensor([1.0])
    assert jsd_loss(pos, neg).item() == pytest.approx(math.log1p(math.exp(-2)) + math.log1p(math.e))
    bce = torch.nn.functional.binary_cross_entropy_with_logits(
        torch.cat([pos, neg]), torch.tensor([1.0, 0.0])
    )
    assert jsd_loss(pos, neg).item() == pytest.approx(2 * bce.item())
    e1, e2 = torch.tensor([[1.0, 0.0]]), torch.tensor([[0.0, 1.0]])
    assert bootstrap_loss(e1, e2).item() == pytest.approx(2.0)
    assert bootstrap_loss(e1, e1).item() == pytest.approx(0.0, abs=1e-7)
    assert bootstrap_loss(e1, -e1).item() == pytest.approx(4.0)
    # Columns standardise to +-1/sqrt(2): C = 0.5 everywhere -> 2 * 0.25 + (1/2) * 2 * 0.25
    assert barlow_twins_loss(Z, Z).item() == pytest.approx(0.75)
    # a = +-0.5 everywhere: -tr(a^T b) = -1; a^T a - I has squared norm 1 per view
    assert cca_ssg_loss(Z, Z, lambd=1.0).item() == pytest.approx(1.0)
    # std sqrt(2) > 1: no variance hinge; cov = 2 everywhere: off-diagonal 2 * 4 / D per view
    assert vicreg_loss(Z, Z).item() == pytest.approx(8.0)
    assert sce_loss(e1, e2).item() == pytest.approx(1.0)
    x = torch.tensor([[1.0, 1.0]])
    assert sce_loss(x, e1).item() == pytest.approx((1 - 1 / math.sqrt(2)) ** 2)
    a, p = torch.zeros(1, 2), torch.tensor([[1.0, 0.0]])
    assert triplet_margin_loss(a, p, torch.tensor([[3.0, 0.0]])).item() == 0.0
    assert triplet_margin_loss(a, p, torch.tensor([[1.5, 0.0]])).item() == pytest.approx(0.5)


LOSSES = {
    "jsd": lambda a, b: jsd_loss(a.sum(1), b.sum(1)),
    "bootstrap": lambda a, b: bootstrap_loss(a, b.detach()),
    "barlow": barlow_twins_loss,
    "vicreg": vicreg_loss,
    "cca": lambda a, b: cca_ssg_loss(a, b, lambd=0.1),
    "sce": sce_loss,
    "triplet": lambda a, b: triplet_margin_loss(a, b, b.flip(0), margin=10.0),
}


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_gradcheck(name):
    g = torch.Generator().manual_seed(0)
    a = torch.randn(6, 4, dtype=torch.float64, generator=g, requires_grad=True)
    b = torch.randn(6, 4, dtype=torch.float64, generator=g, requires_grad=name != "bootstrap")
    assert torch.autograd.gradcheck(LOSSES[name], (a, b))


@pytest.mark.parametrize("name", ["bootstrap", "barlow", "vicreg", "cca", "sce"])
def test_aligned_views_score_better(name):
    g = torch.Generator().manual_seed(1)
    z = torch.randn(64, 8, generator=g)
    near = z + 0.05 * torch.randn(64, 8, generator=g)
    far = torch.randn(64, 8, generator=g)
    assert LOSSES[name](z, near) < LOSSES[name](z, far)


def test_bootstrap_descends_towards_the_target():
    g = torch.Generator().manual_seed(2)
    target = torch.randn(16, 8, generator=g)
    pred = torch.randn(16, 8, generator=g, requires_grad=True)
    opt = torch.optim.Adam([pred], lr=0.1)
    first = bootstrap_loss(pred, target).item()
    for _ in range(100):
        opt.zero_grad()
        bootstrap_loss(pred, target).backward()
        opt.step()
    assert bootstrap_loss(pred, target).item() < 0.1 * first


def test_errors():
    with pytest.raises(ValueError, match="shape"):
        barlow_twins_loss(torch.randn(4, 3), torch.randn(4, 2))
    with pytest.raises(ValueError, match="2 rows"):
        vicreg_loss(torch.randn(1, 3), torch.randn(1, 3))
    with pytest.raises(ValueError, match="positive"):
        jsd_loss(torch.zeros(0), torch.zeros(2))
    with pytest.raises(ValueError, match="alpha"):
        sce_loss(torch.randn(2, 2), torch.randn(2, 2), alpha=0.5)
