"""InfoNCE: the fused dense and blockwise versions against a plain-autograd reference."""

from __future__ import annotations

import importlib
import math
from unittest import mock

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from graphssl.objectives import InfoNCE, info_nce

# the module (its name is shadowed by the function in graphssl.objectives)
info_nce_module = importlib.import_module("graphssl.objectives.info_nce")


def reference_info_nce(z1, z2, tau, intra=True):
    """GRACE's loss written the obvious way (N x N matrices, autograd)."""
    u, v = F.normalize(z1, dim=-1), F.normalize(z2, dim=-1)
    eye = torch.eye(u.size(0), dtype=torch.bool)

    def semi(a, b):
        between = torch.exp(a @ b.t() / tau)
        den = between.sum(1)
        if intra:
            den = den + torch.exp(a @ a.t() / tau).masked_fill(eye, 0).sum(1)
        return -torch.log(between.diag() / den)

    return (semi(u, v) + semi(v, u)).mean() / 2


def test_hand_computed_value():
    # Two nodes, orthogonal views: every similarity is 0 or 1, so the loss is closed-form.
    z1 = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    z2 = z1.clone()
    tau = 0.5
    # anchor u_0: positive exp(1/tau); negatives: v_1 -> exp(0), u_1 -> exp(0)
    expected = -math.log(math.exp(2) / (math.exp(2) + 2))
    assert info_nce(z1, z2, tau).item() == pytest.approx(expected, rel=1e-6)
    no_intra = -math.log(math.exp(2) / (math.exp(2) + 1))
    assert info_nce(z1, z2, tau, intra_view_negatives=False).item() == pytest.approx(
        no_intra, rel=1e-6
    )


@pytest.mark.parametrize("intra", [True, False])
@pytest.mark.parametrize("tau", [0.4, 0.03])
@pytest.mark.parametrize("chunk", [None, 1, 7, 37])
@pytest.mark.parametrize("tile", [None, 20])
def test_matches_reference_value_and_gradient(intra, tau, chunk, tile):
    # tile=20: column tiles of 20 // chunk columns, so the chunked path also runs over many
    # tiles, some cutting through the diagonal (self-pairs) and some missing it
    g = torch.Generator().manual_seed(0)
    z1 = torch.randn(37, 8, dtype=torch.float64, generator=g, requires_grad=True)
    z2 = torch.randn(37, 8, dtype=torch.float64, generator=g, requires_grad=True)
    ref = reference_info_nce(z1, z2, tau, intra)
    with mock.patch.dict(info_nce_module._TILE_ELEMENTS, cpu=tile or (1 << 20)):
        got = info_nce(z1, z2, tau, intra_view_negatives=intra, chunk_size=chunk)
    assert got.item() == pytest.approx(ref.item(), rel=1e-10)
    g_ref = torch.autograd.grad(ref, (z1, z2))
    g_got = torch.autograd.grad(got, (z1, z2))
    for a, b in zip(g_ref, g_got):
        torch.testing.assert_close(a, b, rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("chunk", [None, 4])
def test_gradcheck(chunk):
    g = torch.Generator().manual_seed(1)
    z1 = torch.randn(11, 5, dtype=torch.float64, generator=g, requires_grad=True)
    z2 = torch.randn(11, 5, dtype=torch.float64, generator=g, requires_grad=True)
    assert torch.autograd.gradcheck(lambda a, b: info_nce(a, b, 0.5, chunk_size=chunk), (z1, z2))


def test_default_chunking_switches_to_tiles_on_large_graphs():
    # chunk_size=None is dense up to _DENSE_MAX nodes and blockwise above; same loss, same
    # gradient either way (here with the thresholds lowered to a 37-node graph).
    g = torch.Generator().manual_seed(3)
    z1 = torch.randn(37, 8, dtype=torch.float64, generator=g, requires_grad=True)
    z2 = torch.randn(37, 8, dtype=torch.float64, generator=g, requires_grad=True)
    ref = reference_info_nce(z1, z2, 0.5, True)
    calls = []
    original = info_nce_module._tile_pairs

    def spy(n, chunk, intra, tile_elements):
        calls.append(chunk)
        return original(n, chunk, intra, tile_elements)

    with (
        mock.patch.dict(info_nce_module._DENSE_MAX, cpu=10),
        mock.patch.dict(info_nce_module._AUTO_CHUNK, cpu=6),
        mock.patch.object(info_nce_module, "_tile_pairs", spy),
    ):
        got = info_nce(z1, z2, 0.5)
        small = info_nce(z1[:9], z2[:9], 0.5)
    assert calls == [6, 9]  # blocks of 6 anchors for 37 nodes, one dense block for 9
    assert got.item() == pytest.approx(ref.item(), rel=1e-10)
    assert small.item() == pytest.approx(reference_info_nce(z1[:9], z2[:9], 0.5, True).item())
    for a, b in zip(torch.autograd.grad(ref, (z1, z2)), torch.autograd.grad(got, (z1, z2))):
        torch.testing.assert_close(a, b, rtol=1e-8, atol=1e-10)


def _auto_blocks(z1, z2, keep_bytes, chunk_size=None, keep_gib=None):
    """info_nce with chunk_size (default None) on a 40-node graph, with the thresholds lowered
    so that None means blocks of 6 anchors in tiles of 4 columns; returns the loss, its
    gradient and how many exp tiles the forward and the backward pass computed."""
    calls = []
    original = info_nce_module._exp_sim

    def spy(*args, **kwargs):
        calls.append(1)
        return original(*args, **kwargs)

    with (
        mock.patch.dict(info_nce_module._DENSE_MAX, cpu=10),
        mock.patch.dict(info_nce_module._AUTO_CHUNK, cpu=6),
        mock.patch.dict(info_nce_module._TILE_ELEMENTS, cpu=24),
        mock.patch.object(info_nce_module, "_KEEP_BYTES", keep_bytes),
        mock.patch.object(info_nce_module, "_exp_sim", spy),
    ):
        loss = info_nce(z1, z2, 0.5, chunk_size=chunk_size, keep_gib=keep_gib)
        forward = len(calls)
        grads = torch.autograd.grad(loss, (z1, z2))
    return loss, grads, forward, len(calls) - forward


def test_auto_blocks_keep_their_tiles_within_the_memory_budget():
    # chunk_size=None above _DENSE_MAX: the exp tiles are kept for the backward pass when all
    # of them fit in _KEEP_BYTES (no recomputation), else recomputed; the loss and gradient
    # are the same bit for bit. An explicit chunk_size always recomputes (bounded memory).
    g = torch.Generator().manual_seed(5)
    z1 = torch.randn(40, 8, generator=g, requires_grad=True)
    z2 = torch.randn(40, 8, generator=g, requires_grad=True)
    pairs = info_nce_module._tile_pairs(40, 6, True, 24)
    need = info_nce_module._kept_bytes(pairs, z1.element_size())
    # float32: the 40 x 40 cross-view similarities, plus per view the tiles reaching above
    # the diagonal (at least the 40 * 39 / 2 pairs j > i, at most all 1600)
    assert 4 * (1600 + 2 * 780) <= need < 4 * (1600 + 2 * 1600)
    kept = _auto_blocks(z1, z2, need)
    recomputed = _auto_blocks(z1, z2, need - 1)
    explicit = _auto_blocks(z1, z2, 1 << 30, chunk_size=6)
    assert kept[2] == recomputed[2] == explicit[2] > 0
    assert kept[3] == 0
    assert recomputed[3] == recomputed[2] and explicit[3] == explicit[2]
    for other in (recomputed, explicit):
        assert torch.equal(kept[0], other[0])
        for a, b in zip(kept[1], other[1]):
            assert torch.equal(a, b)
    ref = reference_info_nce(z1.double(), z2.double(), 0.5, True)
    assert kept[0].item() == pytest.approx(ref.item(), rel=1e-5)


def test_keep_gib_sets_the_budget_of_kept_tiles():
    # keep_gib overrides the default budget: with an explicit chunk_size the tiles are kept
    # when they fit in it, with chunk_size=None a budget below their size recomputes them.
    g = torch.Generator().manual_seed(6)
    z1 = torch.randn(40, 8, generator=g, requires_grad=True)
    z2 = torch.randn(40, 8, generator=g, requires_grad=True)
    need = info_nce_module._kept_bytes(info_nce_module._tile_pairs(40, 6, True, 24), 4)
    default = _auto_blocks(z1, z2, 1 << 30)
    explicit_kept = _auto_blocks(z1, z2, 0, chunk_size=6, keep_gib=need / 2**30)
    explicit_short = _auto_blocks(z1, z2, 0, chunk_size=6, keep_gib=(need - 4) / 2**30)
    auto_zero = _auto_blocks(z1, z2, 1 << 30, keep_gib=0)
    assert default[3] == explicit_kept[3] == 0
    assert explicit_short[3] == explicit_short[2] > 0 and auto_zero[3] == auto_zero[2] > 0
    for other in (explicit_kept, explicit_short, auto_zero):
        assert torch.equal(default[0], other[0])
        for a, b in zip(default[1], other[1]):
            assert torch.equal(a, b)
    for bad in (-1.0, float("nan")):
        with pytest.raises(ValueError, match="keep_gib"):
            info_nce(z1, z2, 0.5, keep_gib=bad)


@settings(max_examples=40, deadline=None)
@given(n=st.integers(2, 60), chunk=st.integers(1, 70), tile=st.integers(1, 300))
def test_tiles_cover_each_pair_once_and_stay_about_square(n, chunk, tile):
    """The cross-view tiles cover every (i, j) once and the intra-view ones every pair
    j > i once; a block of fewer anchors than the graph is cut into tiles of at most
    sqrt(tile) rows (tall thin tiles multiply slowly), a single block stays dense."""
    cross, intra = torch.zeros(n, n, dtype=torch.int64), torch.zeros(n, n, dtype=torch.int64)
    for rows, cols, above in info_nce_module._tile_pairs(n, chunk, True, tile):
        if above is None:
            cross[rows, cols] += 1
        else:
            intra[rows, cols] += torch.ones(n, n, dtype=torch.int64)[rows, cols].triu(above)
        height = rows.stop - rows.start
        assert height <= (n if chunk >= n else max(1, math.isqrt(tile)))
    assert torch.equal(cross, torch.ones(n, n, dtype=torch.int64))
    assert torch.equal(intra, torch.ones(n, n, dtype=torch.int64).triu(1))


@settings(max_examples=30, deadline=None)
@given(
    n=st.integers(2, 40),
    d=st.integers(2, 16),
    chunk=st.integers(1, 50),
    tau=st.floats(0.06, 2.0),
    seed=st.integers(0, 2**16),
    tile=st.integers(1, 200),
)
def test_chunked_equals_dense_property(n, d, chunk, tau, seed, tile):
    g = torch.Generator().manual_seed(seed)
    z1 = torch.randn(n, d, generator=g, requires_grad=True)
    z2 = torch.randn(n, d, generator=g, requires_grad=True)
    dense = info_nce(z1, z2, tau)
    with mock.patch.dict(info_nce_module._TILE_ELEMENTS, cpu=tile):
        chunked = info_nce(z1, z2, tau, chunk_size=chunk)
    torch.testing.assert_close(dense, chunked, rtol=1e-5, atol=1e-5)
    gd = torch.autograd.grad(dense, (z1, z2))
    gc = torch.autograd.grad(chunked, (z1, z2))
    for a, b in zip(gd, gc):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)
    # The loss is bounded below by -log(1) = 0 and is finite.
    assert torch.isfinite(dense) and dense.item() > 0


def test_aligned_views_have_lower_loss():
    g = torch.Generator().manual_seed(2)
    z = torch.randn(64, 16, generator=g)
    noise = torch.randn(64, 16, generator=g)
    assert info_nce(z, z + 0.1 * noise, 0.5) < info_nce(z, noise, 0.5)


def test_float32_small_tau_is_finite():
    g = torch.Generator().manual_seed(3)
    z1, z2 = torch.randn(20, 4, generator=g), torch.randn(20, 4, generator=g)
    out = info_nce(z1, z2, 0.01, chunk_size=6)
    assert out.dtype == torch.float32 and torch.isfinite(out)
    ref = reference_info_nce(z1.double(), z2.double(), 0.01)
    assert out.item() == pytest.approx(ref.item(), rel=1e-4)


def test_module_and_errors():
    z = torch.randn(5, 3)
    assert InfoNCE(0.5, chunk_size=2)(z, z).item() == pytest.approx(info_nce(z, z, 0.5).item())
    with pytest.raises(ValueError, match="same shape"):
        info_nce(z, torch.randn(4, 3))
    with pytest.raises(ValueError, match="tau"):
        info_nce(z, z, 0.0)
    with pytest.raises(ValueError, match="chunk_size"):
        info_nce(z, z, 0.5, chunk_size=0)
    with pytest.raises(ValueError, match="at least 2"):
        info_nce(z[:1], z[:1])
