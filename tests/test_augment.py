"""The augmentation library: per-graph correctness on Data and Batch, edit accounting, rates,
determinism. Property tests use tiny random batches; statistical tests use MUTAG."""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch_geometric.data import Batch, Data
from torch_geometric.utils import k_hop_subgraph, to_undirected

import graphssl.augment as A
from graphssl.augment import functional as F
from graphssl.data import validate

# New edges get edge_attr rows of -1, so kept edges (id >= 0) and added ones can be told apart.
MARK_NEW = lambda num, generator: torch.full((num, 2), -1.0)  # noqa: E731

AUGMENTATIONS = {
    "identity": A.Identity(),
    "drop_edges": A.DropEdges(0.4),
    "drop_edges_undirected": A.DropEdges(0.4, undirected=True),
    "mask_columns": A.MaskFeatures(0.4),
    "drop_nodes": A.DropNodes(0.4),
    "drop_nodes_exact": A.DropNodes(0.4, exact=True),
    "mask_nodes": A.MaskNodes(0.4, value=-1.0),
    "mask_nodes_exact": A.MaskNodes(0.4, value=-1.0, exact=True),
    "dropout_features": A.DropoutFeatures(0.4),
    "shuffle_features": A.ShuffleFeatures(),
    "add_edges": A.AddEdges(0.5, edge_attr_fn=MARK_NEW),
    "add_edges_undirected": A.AddEdges(0.5, undirected=True, edge_attr_fn=MARK_NEW),
    "add_edges_self_loops": A.AddEdges(0.5, self_loops=True, edge_attr_fn=MARK_NEW),
    "perturb_edges": A.PerturbEdges(0.4, edge_attr_fn=MARK_NEW),
    "drop_edges_adaptive": A.DropEdgesAdaptive(0.4),
    "drop_edges_pagerank": A.DropEdgesAdaptive(0.4, centrality="pagerank"),
    "rw_subgraph": A.RandomWalkSubgraph(0.5),
    "rw_subgraph_restart": A.RandomWalkSubgraph(0.7, restart_p=0.3),
    "ego_net": A.EgoNet(1),
    "random_choice": A.RandomChoice([A.DropNodes(0.3), A.PerturbEdges(0.3, edge_attr_fn=MARK_NEW)]),
    "random_choice_per_graph": A.RandomChoice(
        [A.DropNodes(0.3), A.PerturbEdges(0.3, edge_attr_fn=MARK_NEW), A.Identity()],
        k=2,
        per_graph=True,
    ),
    "compose": A.Compose(
        [A.DropNodes(0.3), A.AddEdges(0.5, edge_attr_fn=MARK_NEW), A.DropEdges(0.3)]
    ),
}
FEATURE_AUGS = {
    "mask_columns",
    "mask_nodes",
    "mask_nodes_exact",
    "dropout_features",
    "shuffle_features",
}


def _graph(n: int, e: int, gen: torch.Generator) -> Data:
    edge_index = torch.randint(0, n, (2, e), generator=gen)  # self-loops and multi-edges
    return Data(
        x=torch.rand(n, 3, generator=gen) + 0.1,
        edge_index=edge_index,
        edge_attr=torch.rand(e, 2, generator=gen),
        train_mask=torch.rand(n, generator=gen) < 0.5,
    )


def _tag(graphs: list[Data]) -> list[Data]:
    """Encodes the original (batch-wide) node id in ``y`` and edge id in ``edge_attr[:, 0]``."""
    nodes = edges = 0
    for g in graphs:
        g.y = torch.arange(nodes, nodes + g.num_nodes)
        g.edge_attr[:, 0] = torch.arange(edges, edges + g.edge_index.size(1)).float()
        nodes, edges = nodes + g.num_nodes, edges + g.edge_index.size(1)
    return graphs


graphs_strategy = st.lists(st.tuples(st.integers(1, 8), st.integers(0, 14)), min_size=1, max_size=4)


def _make(sizes: list[tuple[int, int]], seed: int, as_batch: bool) -> Data:
    gen = torch.Generator().manual_seed(seed)
    graphs = _tag([_graph(n, e, gen) for n, e in sizes])
    if len(graphs) == 1 and not as_batch:
        return graphs[0]
    return Batch.from_data_list(graphs)


def _snapshot(data: Data) -> dict[str, torch.Tensor]:
    return {k: v.clone() for k, v in data.items() if isinstance(v, torch.Tensor)}


def _per_graph(index: torch.Tensor, num_graphs: int) -> torch.Tensor:
    return torch.bincount(index, minlength=num_graphs)


def _check_view(
    data: Data, view: Data, edits: A.Edits, name: str, exact_edges: bool = True
) -> None:
    validate(view, name=name)
    is_batch = isinstance(data, Batch)
    num_graphs = data.num_graphs if is_batch else 1
    batch = data.batch if is_batch else torch.zeros(data.num_nodes, dtype=torch.long)
    assert edits.num_graphs == num_graphs
    assert all(int(v.min()) >= 0 for v in edits.to_dict().values())
    if is_batch:
        assert isinstance(view, Batch) and view.num_graphs == num_graphs
        parts = view.to_data_list()  # slices kept in sync
        assert [p.num_nodes for p in parts] == _per_graph(view.batch, num_graphs).tolist()
        for part in parts:
            validate(part)
    # Nodes: y holds the original id; node attributes stay aligned.
    orig = view.y
    view_batch = view.batch if is_batch else torch.zeros(view.num_nodes, dtype=torch.long)
    assert torch.equal(orig, orig.sort().values) and orig.unique().numel() == orig.numel()
    assert torch.equal(batch[orig], view_batch)
    assert torch.equal(view.train_mask, data.train_mask[orig])
    assert (_per_graph(view_batch, num_graphs) >= 1).all()
    dropped = _per_graph(batch, num_graphs) - _per_graph(view_batch, num_graphs)
    assert torch.equal(edits.nodes_dropped, dropped)
    # Edges: kept edges join the same (relabelled) nodes as before; new edges are marked -1.
    eid = view.edge_attr[:, 0].long()
    kept, new = eid >= 0, eid == -1
    assert bool((kept | new).all())
    assert eid[kept].unique().numel() == int(kept.sum())
    assert torch.equal(orig[view.edge_index[:, kept]], data.edge_index[:, eid[kept]])
    assert torch.equal(view.edge_attr[kept, 1], data.edge_attr[eid[kept], 1])
    edge_graph = view_batch[view.edge_index[0]]
    orig_edge_graph = batch[data.edge_index[0]]
    added = _per_graph(edge_graph[new], num_graphs)
    removed = _per_graph(orig_edge_graph, num_graphs) - _per_graph(edge_graph[kept], num_graphs)
    if exact_edges:
        assert torch.equal(edits.edges_added, added)
        assert torch.equal(edits.edges_removed, removed)
    else:  # a chain may remove edges it added: the sums bound the net change from above
        assert torch.equal(edits.edges_added - edits.edges_removed, added - removed)
        assert bool((edits.edges_added >= added).all())
    # Features: replaced rows and changed entries are counted.
    before = data.x[orig]
    replaced_rows = (view.x != before).all(1)  # features are distinct, so no coincidences
    changed_entries = (view.x != before).sum(1)
    assert torch.equal(_per_graph(view_batch[replaced_rows], num_graphs), edits.nodes_masked)
    per_graph_entries = torch.zeros(num_graphs, dtype=torch.long).index_add_(
        0, view_batch, changed_entries
    )
    assert torch.equal(per_graph_entries, edits.features_masked)


@pytest.mark.parametrize("name", list(AUGMENTATIONS))
@settings(max_examples=25, deadline=None)
@given(sizes=graphs_strategy, seed=st.integers(0, 10_000), as_batch=st.booleans())
def test_views_are_well_formed_and_edits_match(name, sizes, seed, as_batch):
    aug = AUGMENTATIONS[name]
    data = _make(sizes, seed, as_batch)
    before = _snapshot(data)
    view, edits = aug.with_edits(data, torch.Generator().manual_seed(seed))
    after = _snapshot(data)
    assert before.keys() == after.keys()
    assert all(torch.equal(before[k], after[k]) for k in before), "input was mutated"
    _check_view(data, view, edits, name, exact_edges=name != "compose")
    if name not in FEATURE_AUGS:
        assert torch.equal(view.x, data.x[view.y])
    # Same seed, same view; __call__ gives the same view as with_edits.
    again = aug(data, torch.Generator().manual_seed(seed))
    assert torch.equal(again.edge_index, view.edge_index) and torch.equal(again.x, view.x)
    assert torch.equal(again.edge_attr, view.edge_attr)


@pytest.fixture(scope="module")
def mutag(datasets_root):
    from graphssl.data import load_dataset

    dataset = load_dataset("MUTAG", datasets_root)
    return Batch.from_data_list(list(dataset))


def _gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _within(observed: float, expected: float, variance: float) -> bool:
    return abs(observed - expected) <= 3 * math.sqrt(variance) + 1e-9


# ---------------------------------------------------------------------------------------------
# Rates.
# ---------------------------------------------------------------------------------------------


def test_drop_nodes_rate(mutag):
    p, draws = 0.3, 10
    n = torch.bincount(mutag.batch).double()
    expected = draws * float((p * n - p**n).sum())
    variance = draws * float((n * p * (1 - p)).sum())
    aug = A.DropNodes(p)
    dropped = sum(int(aug.with_edits(mutag, _gen(s))[1].nodes_dropped.sum()) for s in range(draws))
    assert _within(dropped, expected, variance)


def test_drop_nodes_exact_counts_and_one_survivor():
    batch = Batch.from_data_list([_graph(n, 2 * n, _gen(n)) for n in (1, 2, 5, 10)])
    _, edits = A.DropNodes(0.5, exact=True).with_edits(batch, _gen())
    assert edits.nodes_dropped.tolist() == [0, 1, 2, 5]
    view = A.DropNodes(1.0)(batch, _gen())
    assert view.num_nodes == 4 and view.ptr.tolist() == [0, 1, 2, 3, 4]


def test_mask_nodes_rate_token_and_mask(mutag):
    p, draws = 0.15, 10
    cat = mutag.clone()
    cat.x = torch.stack([mutag.x.argmax(1), torch.zeros_like(mutag.batch)], dim=1)
    aug = A.MaskNodes(p, token=119, mask_key="node_mask")
    total = 0
    for s in range(draws):
        view = aug(cat, _gen(s))
        mask = view.node_mask
        assert (view.x[mask] == torch.tensor([119, 0])).all()
        assert torch.equal(view.x[~mask], cat.x[~mask])
        total += int(mask.sum())
    n = draws * mutag.num_nodes
    assert _within(total, n * p, n * p * (1 - p))
    assert "node_mask" not in cat


def test_dropout_features_rate_and_rescale(cora):
    p = 0.3
    x = cora.x[:500] + 0.01
    out, mask = F.dropout_features(x, p, rescale=True, generator=_gen())
    n = x.numel()
    assert _within(float(mask.sum()), n * p, n * p * (1 - p))
    assert torch.equal(out == 0, mask)
    assert torch.allclose(out[~mask], x[~mask] / (1 - p))
    plain, _ = F.dropout_features(x, p, generator=_gen())
    assert torch.allclose(plain[~mask], x[~mask])


def test_shuffle_features_permutes_within_each_graph(mutag):
    view, edits = A.ShuffleFeatures().with_edits(mutag, _gen())
    for g in (0, 7, 100):
        rows, orig = view.x[mutag.batch == g], mutag.x[mutag.batch == g]
        assert torch.equal(rows.sort(0).values, orig.sort(0).values)
    perm = F.shuffle_nodes(mutag.batch, mutag.num_nodes, generator=_gen())
    assert torch.equal(mutag.batch[perm], mutag.batch)
    assert torch.equal(perm.sort().values, torch.arange(mutag.num_nodes))
    assert int(edits.nodes_masked.sum()) > 0.5 * mutag.num_nodes


def test_add_and_perturb_counts_per_graph(mutag):
    e_g = torch.bincount(mutag.batch[mutag.edge_index[0]], minlength=mutag.num_graphs)
    k = torch.floor(0.2 * e_g.double()).long()
    view, edits = A.PerturbEdges(0.2).with_edits(mutag, _gen())
    assert torch.equal(edits.edges_removed, k) and torch.equal(edits.edges_added, k)
    assert view.edge_index.size(1) == mutag.edge_index.size(1)
    validate(view)
    # Empirical edge features: every new row is one of the batch's bond types.
    bond_types = mutag.edge_attr.unique(dim=0)
    assert (view.edge_attr[:, None, :] == bond_types[None]).all(-1).any(-1).all()
    view, edits = A.AddEdges(0.2, undirected=True).with_edits(mutag, _gen())
    assert torch.equal(edits.edges_added, 2 * (k // 2)) and int(edits.edges_removed.sum()) == 0
    added = view.edge_index.size(1) - mutag.edge_index.size(1)
    assert added == int(edits.edges_added.sum())
    assert view.to_data_list()[3].edge_index.size(1) == int(e_g[3] + edits.edges_added[3])


def test_new_edges_never_self_loops_unless_asked():
    ptr = torch.tensor([0, 1, 3, 8])
    edges = F.sample_edges(torch.tensor([5, 50, 50]), ptr, generator=_gen())
    assert edges.size(1) == 100 and bool((edges[0] != edges[1]).all())
    loops = F.sample_edges(torch.tensor([5, 0, 0]), ptr, self_loops=True, generator=_gen())
    assert loops.tolist() == [[0] * 5, [0] * 5]


def _gca_reference(edge_index, p, p_tau, u):
    """GCA's ``drop_edge_weights(degree)`` + ``drop_edge_weighted`` for one graph."""
    from torch_geometric.utils import degree

    deg = degree(to_undirected(edge_index)[1])
    s = torch.log(deg[edge_index[1]])
    w = (s.max() - s) / (s.max() - s.mean())
    w = (w / w.mean() * p).clamp(max=p_tau)
    return u >= w


def test_adaptive_drop_matches_gca_and_is_per_graph(mutag):
    one = mutag.to_data_list()[0]
    u = torch.rand(one.edge_index.size(1), generator=_gen(3))
    _, keep = F.drop_edges_adaptive(one.edge_index, 0.4, num_nodes=one.num_nodes, generator=_gen(3))
    assert torch.equal(keep, _gca_reference(one.edge_index, 0.4, 0.7, u))
    # In a batch: probabilities normalised per graph (mean p before the cap); rate within 3 sd.
    batch = mutag.batch
    score = torch.log(F.degree_centrality(mutag.edge_index, mutag.num_nodes)[mutag.edge_index[1]])
    group = batch[mutag.edge_index[0]]
    uncapped = F.adaptive_drop_probs(score, 0.1, group=group, p_tau=1.0).double()
    means = torch.zeros(mutag.num_graphs, dtype=torch.double).index_add_(0, group, uncapped)
    means = means / torch.bincount(group)
    assert torch.allclose(means, torch.full_like(means, 0.1), atol=1e-6)
    probs = F.adaptive_drop_probs(score, 0.3, group=group, num_graphs=mutag.num_graphs).double()
    assert float(probs.max()) <= 0.7 + 1e-6
    draws = 10
    removed = sum(
        int(A.DropEdgesAdaptive(0.3).with_edits(mutag, _gen(s))[1].edges_removed.sum())
        for s in range(draws)
    )
    assert _within(removed, draws * float(probs.sum()), draws * float((probs * (1 - probs)).sum()))


def test_pagerank_edge_weights_take_200_iterations_as_gca():
    """GCA's pr_drop_weights runs PageRank for 200 iterations (its feature weights: 10), far
    from converged after 10 at damping 0.85."""
    g = torch.Generator().manual_seed(0)
    edge_index = torch.randint(0, 60, (2, 400), generator=g)
    pr200 = F.pagerank_centrality(edge_index, 60, num_iters=200)
    pr10 = F.pagerank_centrality(edge_index, 60, num_iters=10)
    assert not torch.allclose(pr10, pr200, rtol=1e-3)
    probs = F.edge_drop_probs_adaptive(edge_index, 0.3, num_nodes=60, centrality="pagerank")
    expected = F.edge_drop_probs_adaptive(edge_index, 0.3, num_nodes=60, centrality=pr200)
    torch.testing.assert_close(probs, expected)


# ---------------------------------------------------------------------------------------------
# Walks and subgraphs.
# ---------------------------------------------------------------------------------------------


def test_random_walk_follows_edges():
    edge_index = torch.tensor([[0, 0, 1, 2, 3], [1, 2, 2, 0, 3]])  # node 4 is a sink
    row_ptr, col = A.to_csr(edge_index, 5)
    start = torch.tensor([0, 1, 2, 3, 4] * 20)
    walks = A.random_walk(row_ptr, col, start, 6, generator=_gen())
    assert walks.shape == (100, 7) and torch.equal(walks[:, 0], start)
    adj = torch.zeros(5, 5, dtype=torch.bool)
    adj[edge_index[0], edge_index[1]] = True
    adj[4, 4] = True  # a walk stays at a sink
    assert adj[walks[:, :-1], walks[:, 1:]].all()
    restarted = A.random_walk(row_ptr, col, start, 6, restart_p=1.0, generator=_gen())
    assert torch.equal(restarted, start[:, None].expand(-1, 7))


def test_rw_subgraph_is_connected_and_hits_target(mutag):
    from scipy.sparse.csgraph import connected_components
    from torch_geometric.utils import to_scipy_sparse_matrix

    view, edits = A.RandomWalkSubgraph(0.8, walk_length=200).with_edits(mutag, _gen())
    n = torch.bincount(mutag.batch)
    kept = torch.bincount(view.batch)
    target = torch.floor(0.8 * n.double()).long()
    assert (kept <= target).all() and (kept == target).float().mean() > 0.95
    for part in view.to_data_list()[:40]:
        adj = to_scipy_sparse_matrix(part.edge_index, num_nodes=part.num_nodes)
        assert connected_components(adj, directed=False)[0] == 1
    assert torch.equal(edits.nodes_dropped, n - kept)


def test_ego_net_matches_pyg_k_hop(mutag):
    small = Batch.from_data_list(mutag.to_data_list()[:10])
    mask, centres = A.ego_net(
        small.edge_index, 2, num_nodes=small.num_nodes, batch=small.batch, generator=_gen()
    )
    assert torch.equal(small.batch[centres], torch.arange(10))
    subset, *_ = k_hop_subgraph(centres, 2, small.edge_index, num_nodes=small.num_nodes)
    assert torch.equal(mask.nonzero().view(-1), subset)


# ---------------------------------------------------------------------------------------------
# Combinators, determinism, devices and errors.
# ---------------------------------------------------------------------------------------------


def test_compose_sums_edits(mutag):
    parts = [A.DropNodes(0.2), A.PerturbEdges(0.2), A.MaskNodes(0.2)]
    _, total = A.Compose(parts).with_edits(mutag, _gen(1))
    gen, view, expected = _gen(1), mutag, A.Edits.zeros(mutag.num_graphs)
    for aug in parts:
        view, edits = aug.with_edits(view, gen)
        expected = expected + edits
    for key, value in total.to_dict().items():
        assert torch.equal(value, expected.to_dict()[key])
    assert torch.equal(
        total.structural, total.edges_removed + total.edges_added + total.nodes_dropped
    )


def test_random_choice_picks_k_and_is_seeded(mutag):
    augs = [A.DropNodes(0.3), A.AddEdges(0.3), A.MaskNodes(0.3)]
    choice = A.RandomChoice(augs, k=2)
    seen = set()
    for s in range(12):
        _, e = choice.with_edits(mutag, _gen(s))
        used = (
            int(e.nodes_dropped.sum()) > 0,
            int(e.edges_added.sum()) > 0,
            int(e.nodes_masked.sum()) > 0,
        )
        assert sum(used) == 2
        seen.add(used)
    assert len(seen) == 3
    a, b = choice(mutag, _gen(5)), choice(mutag, _gen(5))
    assert torch.equal(a.x, b.x) and torch.equal(a.edge_index, b.edge_index)


def test_global_rng_when_no_generator():
    data = _make([(6, 12), (4, 5)], 0, True)
    aug = A.Compose([A.DropNodes(0.3), A.PerturbEdges(0.3), A.ShuffleFeatures()])
    torch.manual_seed(11)
    a = aug(data)
    torch.manual_seed(11)
    b = aug(data)
    assert torch.equal(a.x, b.x) and torch.equal(a.edge_index, b.edge_index)
    # and the global seed is what it draws from: other seeds give other views
    views = []
    for seed in range(12, 17):
        torch.manual_seed(seed)
        views.append(aug(data))
    assert any(
        v.x.shape != a.x.shape
        or not torch.equal(v.x, a.x)
        or not torch.equal(v.edge_index, a.edge_index)
        for v in views
    )


def test_random_choice_per_graph(mutag):
    augs = [A.DropNodes(0.5, exact=True), A.AddEdges(0.5), A.MaskNodes(1.0, value=-1.0)]
    view, edits = A.RandomChoice(augs, k=1, per_graph=True).with_edits(mutag, _gen())
    validate(view)
    used = torch.stack(
        [edits.nodes_dropped > 0, edits.edges_added > 0, edits.nodes_masked > 0], dim=1
    )
    assert (used.sum(1) == 1).all() and used.any(0).all()  # one per graph, all three used
    assert torch.equal(view.y, mutag.y)  # graph-level labels stay with their graphs
    parts, originals = view.to_data_list(), mutag.to_data_list()
    for g in (0, 5, 77, 187):
        part, orig = parts[g], originals[g]
        assert part.num_nodes == orig.num_nodes - int(edits.nodes_dropped[g])
        assert part.edge_index.size(1) == part.edge_attr.size(0)
        if used[g, 1]:
            assert torch.equal(part.edge_index[:, : orig.edge_index.size(1)], orig.edge_index)
        if used[g, 2]:
            assert (part.x == -1).all()
    again = A.RandomChoice(augs, k=1, per_graph=True)(mutag, _gen())
    assert torch.equal(again.x, view.x) and torch.equal(again.edge_index, view.edge_index)


def test_select_and_merge_graphs_round_trip(mutag):
    mask = torch.rand(mutag.num_graphs, generator=_gen()) < 0.4
    first, rest = A.batching.select_graphs(mutag, mask), A.batching.select_graphs(mutag, ~mask)
    validate(first)
    assert first.num_graphs == int(mask.sum()) and torch.equal(first.y, mutag.y[mask])
    assert torch.equal(first.to_data_list()[0].x, mutag.to_data_list()[int(mask.nonzero()[0])].x)
    ids = [mask.nonzero().view(-1), (~mask).nonzero().view(-1)]
    merged = A.batching.merge_graphs([first, rest], ids, mutag.num_graphs)
    for key in ("x", "edge_index", "edge_attr", "y", "batch", "ptr"):
        assert torch.equal(merged[key], mutag[key]), key
    for key, value in mutag._slice_dict.items():
        assert torch.equal(merged._slice_dict[key], value), key


@pytest.mark.parametrize(
    "make",
    [
        lambda: A.DropNodes(1.2),
        lambda: A.MaskNodes(-0.1),
        lambda: A.DropoutFeatures(2.0),
        lambda: A.AddEdges(1.5),
        lambda: A.PerturbEdges(-1.0),
        lambda: A.DropEdgesAdaptive(0.3, p_tau=1.3),
        lambda: A.DropEdgesAdaptive(0.3, centrality="eigen"),
        lambda: A.RandomWalkSubgraph(1.5),
        lambda: A.RandomWalkSubgraph(0.5, num_walks=0),
        lambda: A.EgoNet(-1),
        lambda: A.EgoNet(1, flow="sideways"),
        lambda: A.RandomChoice([A.Identity()], k=2),
        lambda: A.RandomChoice([]),
        lambda: A.random_walk(torch.zeros(2, dtype=torch.long), torch.zeros(0), torch.zeros(1), -1),
    ],
)
def test_bad_arguments_raise_value_error(make):
    with pytest.raises(ValueError):
        make()


def test_feature_augmentations_need_x_and_shapes_are_checked():
    data = Data(edge_index=torch.tensor([[0], [1]]), num_nodes=2)
    for aug in (A.MaskNodes(0.5), A.DropoutFeatures(0.5), A.ShuffleFeatures()):
        with pytest.raises(ValueError, match="data.x"):
            aug(data)
    with pytest.raises(ValueError, match="centrality"):
        A.drop_edges_adaptive(data.edge_index, 0.3, num_nodes=2, centrality=torch.ones(3))


def test_edits_add_checks_sizes():
    with pytest.raises(ValueError, match="graph"):
        A.Edits.zeros(2) + A.Edits.zeros(3)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_runs_on_cuda_and_is_seeded():
    data = _make([(6, 12), (1, 0), (5, 9)], 0, True).to("cuda")
    for name, aug in AUGMENTATIONS.items():
        a, ea = aug.with_edits(data, torch.Generator("cuda").manual_seed(0))
        b = aug(data, torch.Generator("cuda").manual_seed(0))
        validate(a, name=name)
        assert a.x.device.type == "cuda" and ea.edges_removed.device.type == "cuda"
        assert torch.equal(a.edge_index, b.edge_index) and torch.equal(a.x, b.x)
