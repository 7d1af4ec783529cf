"""Objectives: hand-computed values on tiny inputs, gradcheck in float64, and direction."""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

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


# Two different views, N = 3 != D = 2, non-default weights: every term of every loss counts.
# The references below are written with plain Python lists and math, independent of the
# library's tensor code.
V1 = [[1.0, 0.0], [0.0, 1.0], [2.0, 2.0]]
V2 = [[0.0, 1.0], [1.0, 1.0], [3.0, 0.0]]


def _columns(z):
    return [list(col) for col in zip(*z)]


def _mean(xs):
    return sum(xs) / len(xs)


def _std(xs):  # unbiased, as torch.std and the reference implementations
    m = _mean(xs)
    return math.sqrt(sum((x - m) ** 2 for x in xs) / (len(xs) - 1))


def _standardized(z):
    cols = [[(x - _mean(c)) / _std(c) for x in c] for c in _columns(z)]
    return [list(row) for row in zip(*cols)]


def _gram(a, b, scale):  # a^T b * scale, [D, D]
    d = len(a[0])
    return [
        [sum(ra[i] * rb[j] for ra, rb in zip(a, b)) * scale for j in range(d)] for i in range(d)
    ]


def _cos(u, v):
    dot = sum(x * y for x, y in zip(u, v))
    return dot / math.sqrt(sum(x * x for x in u) * sum(y * y for y in v))


def test_hand_computed_values_on_two_different_views():
    z1, z2 = torch.tensor(V1), torch.tensor(V2)
    n, d = 3, 2
    # Barlow Twins: C = z1~^T z2~ / N, default lambda = 1 / D
    c = _gram(_standardized(V1), _standardized(V2), 1 / n)
    on = sum((1 - c[i][i]) ** 2 for i in range(d))
    off = sum(c[i][j] ** 2 for i in range(d) for j in range(d) if i != j)
    assert barlow_twins_loss(z1, z2).item() == pytest.approx(on + off / d, rel=1e-5)
    # CCA-SSG: a = z~ / sqrt(N); -tr(a^T b) + lambda (||a^T a - I||^2 + ||b^T b - I||^2)
    a = [[x / math.sqrt(n) for x in row] for row in _standardized(V1)]
    b = [[x / math.sqrt(n) for x in row] for row in _standardized(V2)]
    inv = -sum(x * y for ra, rb in zip(a, b) for x, y in zip(ra, rb))

    def whitening(m):
        g = _gram(m, m, 1.0)
        return sum((g[i][j] - (i == j)) ** 2 for i in range(d) for j in range(d))

    expected = inv + 0.5 * (whitening(a) + whitening(b))
    assert cca_ssg_loss(z1, z2, lambd=0.5).item() == pytest.approx(expected, rel=1e-5)
    # VICReg with gamma = 1.2: column stds of V1 are 1.0, 1.0 (hinged) and of V2 1.53, 0.58
    mse = _mean([(x - y) ** 2 for ra, rb in zip(V1, V2) for x, y in zip(ra, rb)])

    def hinge(z):
        return _mean([max(0.0, 1.2 - math.sqrt(_std(col) ** 2 + 1e-4)) for col in _columns(z)])

    def cov(z):
        cols = [[x - _mean(col) for x in col] for col in _columns(z)]
        rows = [list(r) for r in zip(*cols)]
        g = _gram(rows, rows, 1 / (n - 1))
        return sum(g[i][j] ** 2 for i in range(d) for j in range(d) if i != j) / d

    expected = 2.0 * mse + 3.0 * (hinge(V1) + hinge(V2)) + 0.5 * (cov(V1) + cov(V2))
    got = vicreg_loss(z1, z2, sim_weight=2.0, var_weight=3.0, cov_weight=0.5, gamma=1.2)
    assert got.item() == pytest.approx(expected, rel=1e-5)
    # SCE, bootstrap and triplet are means over the rows
    sce = _mean([(1 - _cos(u, v)) ** 3 for u, v in zip(V1, V2)])
    assert sce_loss(z1, z2, alpha=3.0).item() == pytest.approx(sce, rel=1e-5)
    boot = _mean([2 - 2 * _cos(u, v) for u, v in zip(V1, V2)])
    assert bootstrap_loss(z1, z2).item() == pytest.approx(boot, rel=1e-5)
    neg = [[1.0, 1.0], [0.0, 0.0], [2.0, 0.0]]

    def dist(u, v):
        return math.dist(u, v)

    trip = _mean([max(0.0, dist(u, v) - dist(u, w) + 0.5) for u, v, w in zip(V1, V2, neg)])
    got = triplet_margin_loss(z1, z2, torch.tensor(neg), margin=0.5)
    assert got.item() == pytest.approx(trip, rel=1e-5) and trip > 0


def test_bootstrap_target_gets_no_gradient():
    prediction = torch.tensor(V1, requires_grad=True)
    target = torch.tensor(V2, requires_grad=True)
    bootstrap_loss(prediction, target).backward()
    assert target.grad is None and prediction.grad.abs().sum() > 0


_views = st.integers(0, 2**31 - 1).map(
    lambda seed: torch.randn(2, 7, 4, generator=torch.Generator().manual_seed(seed))
)


@settings(max_examples=25, deadline=None)
@given(views=_views, name=st.sampled_from(["barlow", "vicreg", "cca", "sce", "bootstrap"]))
def test_losses_ignore_the_order_of_the_nodes(views, name):
    z1, z2 = views
    perm = torch.randperm(7, generator=torch.Generator().manual_seed(0))
    a, b = LOSSES[name](z1, z2), LOSSES[name](z1[perm], z2[perm])
    torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)


@settings(max_examples=25, deadline=None)
@given(views=_views, name=st.sampled_from(["barlow", "vicreg", "cca"]))
def test_symmetric_losses_ignore_which_view_is_first(views, name):
    z1, z2 = views
    torch.testing.assert_close(LOSSES[name](z1, z2), LOSSES[name](z2, z1), rtol=1e-4, atol=1e-5)


@settings(max_examples=25, deadline=None)
@given(
    views=_views,
    scale=st.floats(0.1, 10.0),
    shift=st.floats(-5.0, 5.0),
    name=st.sampled_from(["barlow", "cca"]),
)
def test_standardising_losses_ignore_affine_maps_of_the_columns(views, scale, shift, name):
    z1, z2 = views
    a, b = LOSSES[name](z1, z2), LOSSES[name](z1 * scale + shift, z2)
    torch.testing.assert_close(a, b, rtol=1e-3, atol=1e-4)


@settings(max_examples=25, deadline=None)
@given(views=_views, scale=st.floats(0.1, 10.0))
def test_cosine_losses_are_bounded_and_ignore_the_scale_of_the_rows(views, scale):
    z1, z2 = views
    boot, sce = bootstrap_loss(z1, z2), sce_loss(z1, z2, alpha=3.0)
    assert 0.0 <= boot.item() <= 4.0 and 0.0 <= sce.item() <= 8.0
    torch.testing.assert_close(bootstrap_loss(z1 * scale, z2), boot, rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(sce_loss(z1, z2 * scale, alpha=3.0), sce, rtol=1e-4, atol=1e-5)
    assert jsd_loss(z1.sum(1), z2.sum(1)).item() >= 0.0
