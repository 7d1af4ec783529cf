"""The rest of the augmentation library: GCA adaptive feature masking, eigenvector centrality
and diffusion views (PPR, heat kernel) against closed forms. Small graphs only (< 30 s)."""

from __future__ import annotations

import copy
import math
import pickle

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from test_augment import _check_view, _make, _snapshot, graphs_strategy
from torch_geometric.data import Batch, Data

import graphssl.augment as A
from graphssl.augment import functional as F
from graphssl.data import validate


def _gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _within(observed: float, expected: float, variance: float) -> bool:
    return abs(observed - expected) <= 3 * math.sqrt(variance) + 1e-9


@pytest.fixture(scope="module")
def mutag(datasets_root):
    from graphssl.data import load_dataset

    return Batch.from_data_list(list(load_dataset("MUTAG", datasets_root)))


# ---------------------------------------------------------------------------------------------
# Centrality.
# ---------------------------------------------------------------------------------------------


def test_eigenvector_centrality_matches_networkx_per_graph(mutag):
    import networkx as nx
    from torch_geometric.utils import to_networkx

    graphs = mutag.to_data_list()[:20]
    small = Batch.from_data_list(graphs)
    c = A.eigenvector_centrality(
        small.edge_index, small.num_nodes, batch=small.batch, tol=1e-9, max_iters=2000
    )
    for g, graph in enumerate(graphs):
        ref = nx.eigenvector_centrality_numpy(to_networkx(graph))
        ref = torch.tensor([ref[i] for i in range(graph.num_nodes)], dtype=torch.float32).abs()
        assert torch.allclose(c[small.batch == g], ref, atol=1e-4), g
    # One graph alone gives the same vector as inside the batch.
    alone = A.eigenvector_centrality(
        graphs[3].edge_index, graphs[3].num_nodes, tol=1e-9, max_iters=2000
    )
    assert torch.allclose(alone, c[small.batch == 3], atol=1e-5)


def test_eigenvector_centrality_edgeless_and_bipartite():
    c = A.eigenvector_centrality(torch.zeros(2, 0, dtype=torch.long), 4)
    assert torch.allclose(c, torch.full((4,), 0.5))
    star = torch.tensor([[0, 0, 0, 1, 2, 3], [1, 2, 3, 0, 0, 0]])  # bipartite: power iteration
    c = A.eigenvector_centrality(star, 4, tol=1e-10, max_iters=1000)  # on A alone oscillates
    expected = torch.tensor([math.sqrt(0.5)] + [math.sqrt(1 / 6)] * 3)
    assert torch.allclose(c, expected, atol=1e-5)


def test_drop_edges_adaptive_eigenvector(mutag):
    aug = A.DropEdgesAdaptive(0.3, centrality="eigenvector")
    view, edits = aug.with_edits(mutag, _gen())
    validate(view)
    assert int(edits.edges_removed.sum()) == mutag.edge_index.size(1) - view.edge_index.size(1)
    assert 0.2 < float(edits.edges_removed.sum()) / mutag.edge_index.size(1) < 0.4


# ---------------------------------------------------------------------------------------------
# GCA adaptive feature masking.
# ---------------------------------------------------------------------------------------------


def _gca_feature_probs(x, c, p, p_tau):
    """GCA's ``feature_drop_weights_dense`` + ``drop_feature_weighted_2`` for one graph."""
    w = torch.log(x.abs().double().t() @ c.double() + 1.0)
    s = (w.max() - w) / (w.max() - w.mean())
    return (s / s.mean() * p).clamp(max=p_tau)


def test_mask_features_adaptive_matches_gca_on_one_graph(cora):
    x = cora.x[:, :300]
    c = F.degree_centrality(cora.edge_index, cora.num_nodes)
    expected = _gca_feature_probs(x, c, 0.3, 0.7)
    score = F.feature_weights_adaptive(x, c)
    probs = F.adaptive_drop_probs(score.view(-1), 0.3, p_tau=0.7)
    assert torch.allclose(probs.double(), expected, atol=1e-6)
    u = torch.rand(1, 300, generator=_gen(2))
    out, mask = A.mask_features_adaptive(x, 0.3, centrality=c, generator=_gen(2))
    assert torch.equal(mask, u < probs.view(1, -1))
    assert torch.equal(out, x * (~mask).float())
    # Binary weights: presence instead of magnitude.
    binary = F.feature_weights_adaptive(x, c, binary=True)
    assert torch.allclose(binary[0], torch.log1p((x != 0).double().t() @ c.double()))


def test_mask_features_adaptive_per_graph_and_rate(mutag):
    c = F.degree_centrality(mutag.edge_index, mutag.num_nodes)
    score = F.feature_weights_adaptive(mutag.x, c, batch=mutag.batch)
    assert score.shape == (mutag.num_graphs, mutag.x.size(1))
    for g in (0, 11, 150):  # each graph's weights from its own nodes only
        part = mutag.batch == g
        assert torch.allclose(score[g], F.feature_weights_adaptive(mutag.x[part], c[part])[0])
    group = torch.arange(mutag.num_graphs).repeat_interleave(mutag.x.size(1))
    probs = F.adaptive_drop_probs(score.view(-1), 0.3, group=group).double()
    assert float(probs.max()) <= 0.7 + 1e-6
    aug, draws, total = A.MaskFeaturesAdaptive(0.3), 10, 0
    for s in range(draws):
        view, edits = aug.with_edits(mutag, _gen(s))
        masked = (view.x == 0) & (mutag.x != 0)
        # whole columns per graph: a masked column is zero on every node of its graph
        total += int(edits.features_masked.sum())
        assert int(masked.sum()) <= int(edits.features_masked.sum())
    n_g = torch.bincount(mutag.batch).double().repeat_interleave(mutag.x.size(1))
    assert _within(
        total,
        draws * float((probs * n_g).sum()),
        draws * float((probs * (1 - probs) * n_g**2).sum()),
    )


@pytest.mark.parametrize("centrality", ["degree", "pagerank", "eigenvector"])
@settings(max_examples=15, deadline=None)
@given(sizes=graphs_strategy, seed=st.integers(0, 10_000), as_batch=st.booleans())
def test_adaptive_views_are_well_formed(centrality, sizes, seed, as_batch):
    data = _make(sizes, seed, as_batch)
    before = _snapshot(data)
    for aug in (A.MaskFeaturesAdaptive(0.5, centrality), A.DropEdgesAdaptive(0.5, centrality)):
        view, edits = aug.with_edits(data, _gen(seed))
        _check_view(data, view, edits, repr(aug))
        again = aug(data, _gen(seed))
        assert torch.equal(again.x, view.x) and torch.equal(again.edge_index, view.edge_index)
    assert all(torch.equal(before[k], data[k]) for k in before), "input was mutated"


def test_adaptive_arguments_are_checked():
    with pytest.raises(ValueError):
        A.MaskFeaturesAdaptive(0.3, centrality="closeness")
    with pytest.raises(ValueError):
        A.MaskFeaturesAdaptive(1.3)
    with pytest.raises(ValueError, match="data.x"):
        A.MaskFeaturesAdaptive(0.3)(Data(edge_index=torch.tensor([[0], [1]]), num_nodes=2))


def _count_calls(monkeypatch, name):
    calls = []
    original = getattr(F, name)

    def spy(*args, **kwargs):
        calls.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(F, name, spy)
    return calls


def test_adaptive_probabilities_are_computed_once_per_graph(cora, monkeypatch):
    # Full-batch training hands the same graph every step: the adaptive drop probabilities
    # (centrality, feature weights) are computed at the first step only, and the views are
    # those of the functional path, step after step, bit for bit.
    data = Data(x=cora.x.clone(), edge_index=cora.edge_index.clone(), num_nodes=cora.num_nodes)
    c = F.degree_centrality(data.edge_index, data.num_nodes)
    feature_calls = _count_calls(monkeypatch, "feature_mask_probs_adaptive")
    edge_calls = _count_calls(monkeypatch, "edge_drop_probs_adaptive")
    mask_aug, drop_aug = A.MaskFeaturesAdaptive(0.3, binary=True), A.DropEdgesAdaptive(0.4)
    g_aug, g_ref = _gen(7), _gen(7)
    for _ in range(3):
        x_view = mask_aug(data, g_aug).x
        e_view = drop_aug(data, g_aug).edge_index
        x_ref, _ = A.mask_features_adaptive(data.x, 0.3, centrality=c, binary=True, generator=g_ref)
        e_ref, _ = A.drop_edges_adaptive(
            data.edge_index, 0.4, num_nodes=data.num_nodes, generator=g_ref
        )
        assert torch.equal(x_view, x_ref) and torch.equal(e_view, e_ref)
    # 1 per transform, +3 per functional call above
    assert len(feature_calls) == len(edge_calls) == 1 + 3

    def calls_now():
        mask_aug(data, _gen(0)), drop_aug(data, _gen(0))
        return len(feature_calls), len(edge_calls)

    data.x.mul_(2.0)  # modified in place: the feature probabilities are computed again
    assert calls_now() == (5, 4)
    data.edge_index = data.edge_index.flip(0)  # another tensor: both computed again
    assert calls_now() == (6, 5)
    mask_aug.p = drop_aug.p = 0.2  # another setting: both computed again
    assert calls_now() == (7, 6)
    assert calls_now() == (7, 6)
    # copies start empty; inference-mode tensors (no version counter) are never reused
    for clone in (copy.deepcopy(mask_aug), pickle.loads(pickle.dumps(mask_aug))):
        assert "_probs" not in repr(clone) and clone._probs._value is None
        assert torch.equal(clone(data, _gen(3)).x, mask_aug(data, _gen(3)).x)
    with torch.inference_mode():
        frozen = Data(x=cora.x.clone(), edge_index=cora.edge_index.clone())
        before = len(feature_calls)
        for _ in range(2):
            mask_aug(frozen, _gen(0))
        assert len(feature_calls) == before + 2


def test_sampling_with_given_probabilities(cora):
    e = cora.edge_index
    kept, keep = A.drop_edges_with_probs(e, torch.zeros(e.size(1)))
    assert torch.equal(kept, e) and bool(keep.all())
    kept, keep = A.drop_edges_with_probs(e, torch.ones(e.size(1)))
    assert kept.shape == (2, 0) and not bool(keep.any())
    half = torch.full((e.size(1),), 0.5)
    _, keep = A.drop_edges_with_probs(e, half, generator=_gen(1))
    n = e.size(1)
    assert _within(float(keep.sum()), n / 2, n / 4)
    with pytest.raises(ValueError, match="num_edges"):
        A.drop_edges_with_probs(e, half[:-1])
    # per-graph column probabilities: graph 0 loses every column, graph 1 none
    x = torch.rand(5, 3) + 0.1
    batch = torch.tensor([0, 0, 1, 1, 1])
    probs = torch.tensor([[1.0, 1.0, 1.0], [0.0, 0.0, 0.0]])
    out, mask = A.mask_feature_columns_with_probs(x, probs, batch=batch)
    assert torch.equal(mask, probs.bool())
    assert torch.equal(out[:2], torch.zeros(2, 3)) and torch.equal(out[2:], x[2:])
    with pytest.raises(ValueError, match="probs"):
        A.mask_feature_columns_with_probs(x, probs)  # two rows need a batch
    with pytest.raises(ValueError, match="probs"):
        A.mask_feature_columns_with_probs(x, torch.zeros(1, 4))


# ---------------------------------------------------------------------------------------------
# Diffusion.
# ---------------------------------------------------------------------------------------------


def _dense_transition(edge_index, n, normalization):
    """``T`` built densely from its definition (self-loops added)."""
    a = torch.zeros(n, n, dtype=torch.float64)
    a.index_put_((edge_index[1], edge_index[0]), torch.ones(edge_index.size(1)).double(), True)
    a += torch.eye(n, dtype=torch.float64)
    if normalization == "sym":
        d = a.sum(1).pow(-0.5)
        return d[:, None] * a * d[None, :]
    if normalization == "row":
        return a / a.sum(1, keepdim=True)
    return a / a.sum(0, keepdim=True)


def _to_dense(edge_index, weight, n):
    s = torch.zeros(n, n, dtype=torch.float64)
    s[edge_index[1], edge_index[0]] = weight.double()
    return s


@pytest.fixture(scope="module")
def small(mutag):
    return mutag.to_data_list()[5]


@pytest.mark.parametrize("normalization", ["sym", "col", "row"])
def test_ppr_matches_dense_inverse(small, normalization):
    n, alpha = small.num_nodes, 0.2
    t = _dense_transition(small.edge_index, n, normalization)
    exact = alpha * torch.linalg.inv(torch.eye(n, dtype=torch.float64) - (1 - alpha) * t)
    ei, w = A.ppr_diffusion(
        small.edge_index, n, alpha, eps=None, tol=1e-7, normalization=normalization
    )
    assert torch.allclose(_to_dense(ei, w, n), exact, atol=1e-5)
    assert torch.allclose(
        A.diffusion.transition_matrix(small.edge_index, n, normalization=normalization)
        .to_dense()
        .double(),
        t,
        atol=1e-6,
    )
    s = _to_dense(ei, w, n)
    if normalization == "col":
        assert torch.allclose(s.sum(0), torch.ones(n, dtype=torch.float64), atol=1e-5)
    if normalization == "row":
        assert torch.allclose(s.sum(1), torch.ones(n, dtype=torch.float64), atol=1e-5)
    if normalization == "sym":
        assert torch.allclose(s, s.t(), atol=1e-6)


@pytest.mark.parametrize("normalization", ["sym", "col"])
def test_heat_matches_matrix_exponential(small, normalization):
    n, t = small.num_nodes, 5.0
    trans = _dense_transition(small.edge_index, n, normalization)
    exact = torch.linalg.matrix_exp(t * (trans - torch.eye(n, dtype=torch.float64)))
    ei, w = A.heat_diffusion(
        small.edge_index, n, t, eps=None, tol=1e-8, normalization=normalization
    )
    s = _to_dense(ei, w, n)
    assert torch.allclose(s, exact, atol=1e-5)
    if normalization == "col":
        assert torch.allclose(s.sum(0), torch.ones(n, dtype=torch.float64), atol=1e-5)
    else:
        assert torch.allclose(s, s.t(), atol=1e-6)


def test_series_truncation_bounds():
    theta = A.diffusion.ppr_coefficients(0.2, 1e-4)
    assert (1 - float(theta.sum())) <= 1e-4 and (1 - float(theta[:-1].sum())) > 1e-4
    heat = A.diffusion.heat_coefficients(5.0, 1e-4)
    assert 1 - float(heat.sum()) < 1e-4
    assert torch.allclose(heat[:3], torch.tensor([1.0, 5.0, 12.5]).double() * math.exp(-5))
    with pytest.raises(ValueError):
        A.diffusion.ppr_coefficients(0.0, 1e-4)


def test_sparsification_top_k_and_eps(small):
    n = small.num_nodes
    full_ei, full_w = A.ppr_diffusion(small.edge_index, n, eps=None, tol=1e-7)
    dense = _to_dense(full_ei, full_w, n)
    ei, w = A.ppr_diffusion(small.edge_index, n, eps=None, top_k=3, tol=1e-7)
    assert torch.equal(torch.bincount(ei[0], minlength=n), torch.full((n,), 3))
    expected = dense.topk(3, dim=0).values.sum(0)  # the 3 largest of every column
    got = torch.zeros(n, dtype=torch.float64).index_add_(0, ei[0], w.double())
    assert torch.allclose(got, expected, atol=1e-6)
    ei, w = A.ppr_diffusion(small.edge_index, n, eps=0.01, tol=1e-7)
    assert bool((w > 0.01).all()) and w.numel() == int((dense > 0.01).sum())
    # Sorted by source, so a batch's edges stay grouped by graph; chunked = unchunked.
    assert bool((ei[0].diff() >= 0).all())
    again = A.ppr_diffusion(small.edge_index, n, eps=0.01, tol=1e-7, chunk_size=4)
    assert torch.equal(again[0], ei) and torch.allclose(again[1], w)


def test_diffusion_per_graph_in_a_batch(mutag):
    lone = Data(x=torch.ones(1, 7), edge_index=torch.zeros(2, 0, dtype=torch.long))
    lone.edge_attr, lone.y = torch.zeros(0, 4), torch.zeros(1, dtype=torch.long)
    graphs = mutag.to_data_list()[:12] + [lone]  # a graph of one node, no edges
    batch = Batch.from_data_list(graphs)
    ei, w = A.ppr_diffusion(
        batch.edge_index, batch.num_nodes, batch=batch.batch, top_k=5, eps=1e-3, chunk_size=7
    )
    assert bool((batch.batch[ei[0]] == batch.batch[ei[1]]).all())
    for g, graph in enumerate(graphs):
        one_ei, one_w = A.ppr_diffusion(graph.edge_index, graph.num_nodes, top_k=5, eps=1e-3)
        sel = batch.batch[ei[0]] == g
        assert torch.equal(ei[:, sel] - batch.ptr[g], one_ei)
        assert torch.allclose(w[sel], one_w, atol=1e-6)
    bad = torch.tensor([[0], [batch.num_nodes - 1]])
    with pytest.raises(ValueError, match="between two graphs"):
        A.ppr_diffusion(bad, batch.num_nodes, batch=batch.batch)


@pytest.mark.parametrize("aug", [A.PPRDiffusion(0.2, top_k=4), A.HeatDiffusion(3.0, eps=1e-3)])
def test_diffusion_views_on_batches(mutag, aug):
    data = Batch.from_data_list(mutag.to_data_list()[:30])
    before = _snapshot(data)
    view, edits = aug.with_edits(data)
    validate(view)
    assert all(torch.equal(before[k], data[k]) for k in before), "input was mutated"
    assert "edge_attr" not in view and view.edge_weight.size(0) == view.edge_index.size(1)
    assert torch.equal(view.x, data.x) and torch.equal(view.batch, data.batch)
    parts = view.to_data_list()
    assert len(parts) == 30 and parts[4].edge_weight.size(0) == parts[4].edge_index.size(1)
    assert torch.equal(
        parts[4].edge_index, view.edge_index[:, view.batch[view.edge_index[0]] == 4] - view.ptr[4]
    )
    # Edits: pairs only in the original / only in the view, per graph.
    for g in (0, 4, 29):
        orig, new = data.to_data_list()[g], parts[g]
        old_pairs = set(map(tuple, orig.edge_index.t().tolist()))
        new_pairs = set(map(tuple, new.edge_index.t().tolist()))
        assert int(edits.edges_removed[g]) == sum(
            tuple(p) not in new_pairs for p in orig.edge_index.t().tolist()
        )
        assert int(edits.edges_added[g]) == len(new_pairs - old_pairs)
    # Single graph; an existing edge_weight weighs T.
    one = mutag.to_data_list()[0]
    assert aug(one).edge_index.size(1) > 0
    heavy = one.clone()
    heavy.edge_weight = torch.full((one.edge_index.size(1),), 10.0)
    assert not torch.allclose(aug(heavy).edge_weight.sum(), aug(one).edge_weight.sum())


@pytest.mark.parametrize(
    "make",
    [
        lambda: A.PPRDiffusion(0.0),
        lambda: A.PPRDiffusion(0.2, top_k=0),
        lambda: A.PPRDiffusion(0.2, eps=-1.0),
        lambda: A.HeatDiffusion(-1.0),
        lambda: A.HeatDiffusion(normalization="none"),
        lambda: A.ppr_diffusion(torch.zeros(2, 0, dtype=torch.long), 3, top_k=0),
    ],
)
def test_diffusion_arguments_are_checked(make):
    with pytest.raises(ValueError):
        make()


# ---------------------------------------------------------------------------------------------
# Fast paths added for the benchmark: same results as the general path.
# ---------------------------------------------------------------------------------------------


def test_edge_edits_keep_edges_grouped_when_input_is_not(mutag):
    small = Batch.from_data_list(mutag.to_data_list()[:6])
    shuffled = small.clone()
    perm = torch.randperm(small.edge_index.size(1), generator=_gen())
    shuffled.edge_index, shuffled.edge_attr = small.edge_index[:, perm], small.edge_attr[perm]
    for data in (small, shuffled):
        view, edits = A.PerturbEdges(0.3).with_edits(data, _gen(1))
        graph = view.batch[view.edge_index[0]]
        assert bool((graph.diff() >= 0).all()) and bool(
            (graph == view.batch[view.edge_index[1]]).all()
        )
        assert view.edge_index.size(1) == data.edge_index.size(1)
        assert torch.equal(edits.edges_removed, edits.edges_added)


def test_rw_subgraph_stops_at_an_exhausted_component():
    # A triangle (nodes 0-2) and a path of 10 nodes (3-12) in one graph: seeded in the
    # triangle, the walks can keep only its 3 nodes, however long they may walk.
    tri = torch.tensor([[0, 1, 1, 2, 2, 0], [1, 0, 2, 1, 0, 2]])
    path = torch.stack([torch.arange(3, 12), torch.arange(4, 13)])
    edge_index = torch.cat([tri, path, path.flip(0)], dim=1)
    sizes = set()
    for seed in range(12):
        mask = A.random_walk_subgraph(
            edge_index, 0.8, num_nodes=13, walk_length=10_000, generator=_gen(seed)
        )
        kept = mask.nonzero().view(-1)
        sizes.add(kept.numel())
        assert bool((kept < 3).all()) or bool((kept >= 3).all())
    assert sizes <= {3, 10} and 3 in sizes
