"""Augmentations on batches with unusual content: edge attributes that differ per graph, empty
graphs, keys added by an augmentation, graphs without features, ``int32`` indices; plus the
heat-kernel coefficients for large ``t`` and Hu et al.'s node-masking count. Tiny graphs only."""

from __future__ import annotations

import math

import pytest
import torch
from torch_geometric.data import Batch, Data

import graphssl.augment as A
from graphssl.augment import batching as B
from graphssl.augment import functional as F


def _gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _ring(n: int) -> torch.Tensor:
    i = torch.arange(n)
    j = (i + 1) % n
    return torch.stack([torch.cat([i, j]), torch.cat([j, i])])


def _featured_ring(n: int, f: int = 3) -> Data:
    return Data(x=torch.arange(n * f, dtype=torch.float).view(n, f), edge_index=_ring(n))


def _empty() -> Data:
    return Data(x=torch.zeros(0, 3), edge_index=torch.zeros(2, 0, dtype=torch.long))


class _Tagged(Data):
    """A graph-level ``tag`` that ``Batch`` increments by 10 per graph (a custom ``__inc__``)."""

    def __inc__(self, key, value, *args, **kwargs):
        return 10 if key == "tag" else super().__inc__(key, value, *args, **kwargs)


# ---------------------------------------------------------------------------------------------
# New edges copy attributes from an edge of their own graph.
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "aug", [A.AddEdges(0.5), A.AddEdges(1.0, undirected=True), A.PerturbEdges(0.5)]
)
def test_new_edges_copy_attributes_within_their_graph(aug):
    graphs = [
        Data(
            x=torch.zeros(6, 1),
            edge_index=_ring(6),
            edge_attr=torch.full((12, 2), float(g + 1)),
            edge_weight=torch.full((12,), 10.0 * (g + 1)),
        )
        for g in range(3)
    ]
    batch = Batch.from_data_list(graphs)
    for seed in range(10):
        view, edits = aug.with_edits(batch, _gen(seed))
        assert int(edits.edges_added.sum()) > 0
        for g, part in enumerate(view.to_data_list()):
            assert torch.equal(part.edge_attr, torch.full_like(part.edge_attr, g + 1.0)), seed
            assert torch.equal(part.edge_weight, torch.full_like(part.edge_weight, 10.0 * (g + 1)))


def test_new_edges_copy_within_their_graph_when_edges_are_not_grouped():
    # Edges of graphs 0 and 1 interleaved; edge_attr = graph id + 1.
    data = Data(
        x=torch.zeros(6, 1),
        edge_index=torch.tensor([[0, 3, 1, 4, 2, 5], [1, 4, 2, 5, 0, 3]]),
        edge_attr=torch.tensor([[1.0], [2.0], [1.0], [2.0], [1.0], [2.0]]),
        batch=torch.tensor([0, 0, 0, 1, 1, 1]),
    )
    for seed in range(10):
        view = A.AddEdges(1.0)(data, _gen(seed))
        assert view.edge_index.size(1) == 12
        graph = view.batch[view.edge_index[0]]
        assert torch.equal(view.edge_attr.view(-1), (graph + 1).float())


# ---------------------------------------------------------------------------------------------
# Empty graphs get no centre (EgoNet, RandomWalkSubgraph).
# ---------------------------------------------------------------------------------------------


def test_ego_net_skips_empty_graphs():
    batch = Batch.from_data_list([_featured_ring(4), _empty(), _featured_ring(4)])
    for seed in range(10):
        view = A.EgoNet(num_hops=0)(batch, _gen(seed))
        assert view.ptr.diff().tolist() == [1, 0, 1]
        assert [d.num_nodes for d in view.to_data_list()] == [1, 0, 1]
    mask, centres = A.ego_net(
        batch.edge_index, 0, num_nodes=batch.num_nodes, batch=batch.batch, generator=_gen()
    )
    assert batch.batch[centres].tolist() == [0, 2]
    assert torch.equal(mask.nonzero().view(-1), centres)


@pytest.mark.parametrize("aug", [A.EgoNet(num_hops=0), A.RandomWalkSubgraph(0.5)])
def test_trailing_and_leading_empty_graphs(aug):
    for graphs, expected in [
        ([_featured_ring(4), _empty()], [1 if isinstance(aug, A.EgoNet) else 2, 0]),
        ([_empty(), _featured_ring(4)], [0, 1 if isinstance(aug, A.EgoNet) else 2]),
        ([_empty(), _empty()], [0, 0]),
    ]:
        view, edits = aug.with_edits(Batch.from_data_list(graphs), _gen(0))
        assert view.ptr.diff().tolist() == expected
        assert edits.nodes_dropped.tolist() == [g.num_nodes - k for g, k in zip(graphs, expected)]


def test_random_centres_draws_are_unchanged_without_empty_graphs():
    from graphssl.augment.walks import _random_centres

    ptr = torch.tensor([0, 4, 9, 12])
    u = torch.rand(3, generator=_gen(5), dtype=torch.float64)
    expected = ptr[:-1] + torch.floor(u * ptr.diff()).long()
    assert torch.equal(_random_centres(ptr, _gen(5)), expected)


# ---------------------------------------------------------------------------------------------
# Per-graph RandomChoice / select_graphs / merge_graphs keep one increment per graph.
# ---------------------------------------------------------------------------------------------


def test_per_graph_choice_with_an_added_node_key():
    batch = Batch.from_data_list([_featured_ring(n) for n in (3, 4, 5, 6)])
    choice = A.RandomChoice(
        [A.MaskNodes(0.5, mask_key="m"), A.MaskNodes(0.9, mask_key="m")], per_graph=True
    )
    for seed in range(8):
        view = choice(batch, _gen(seed))
        assert all(inc.size(0) == 4 for inc in view._inc_dict.values() if inc is not None)
        parts = view.to_data_list()
        assert [d.m.numel() for d in parts] == [3, 4, 5, 6]
        assert torch.equal(torch.cat([d.m for d in parts]), view.m)


def _tagged_batch() -> Batch:
    graphs = [
        _Tagged(x=torch.ones(n, 2), edge_index=_ring(n), tag=torch.tensor([100 + g]))
        for g, n in enumerate((3, 4, 5, 6))
    ]
    return Batch.from_data_list(graphs)


def test_select_graphs_keeps_the_increments_of_the_selected_graphs():
    batch = _tagged_batch()
    assert batch.tag.tolist() == [100, 111, 122, 133]
    sub = B.select_graphs(batch, torch.tensor([False, True, False, True]))
    assert sub._inc_dict["tag"].tolist() == [10, 30]
    assert sub._inc_dict["x"].numel() == 2
    assert [int(d.tag) for d in sub.to_data_list()] == [101, 103]
    assert [d.num_nodes for d in sub.to_data_list()] == [4, 6]


def test_merge_graphs_puts_increments_in_graph_order():
    batch = _tagged_batch()
    choice = A.RandomChoice([A.Identity(), A.DropEdges(0.0)], per_graph=True)
    for seed in range(8):
        view = choice(batch, _gen(seed))
        assert view._inc_dict["tag"].tolist() == [0, 10, 20, 30]
        assert [int(d.tag) for d in view.to_data_list()] == [100, 101, 102, 103]


# ---------------------------------------------------------------------------------------------
# MaskFeatures on a plain Data with ``batch``.
# ---------------------------------------------------------------------------------------------


def test_mask_features_on_data_with_batch():
    batch = torch.tensor([0, 0, 0, 1, 1, 1])
    x = torch.arange(24, dtype=torch.float).view(6, 4) + 1
    data = Data(x=x, edge_index=torch.tensor([[0, 1, 3, 4], [1, 0, 4, 3]]), batch=batch)
    view, edits = A.MaskFeatures(0.5).with_edits(data, _gen(3))
    expected, mask = F.mask_feature_columns(x, 0.5, batch=batch, num_graphs=2, generator=_gen(3))
    assert torch.equal(view.x, expected)
    assert edits.features_masked.tolist() == (mask.sum(1) * 3).tolist()
    assert edits.num_graphs == 2


def test_mask_features_without_x_is_a_clear_error():
    data = Data(edge_index=_ring(3), num_nodes=3)
    with pytest.raises(ValueError, match="MaskFeatures needs node features"):
        A.MaskFeatures(0.5)(data, _gen())


# ---------------------------------------------------------------------------------------------
# Older augmentations that only implement ``apply``.
# ---------------------------------------------------------------------------------------------


class _Legacy(A.Augmentation):
    def apply(self, data, generator):
        data.x = data.x * 2
        return data


def test_random_choice_accepts_an_apply_only_augmentation():
    graph = _featured_ring(4)
    view = A.RandomChoice([_Legacy()])(graph, _gen())
    assert torch.equal(view.x, graph.x * 2)
    view = A.RandomChoice([_Legacy(), A.Identity()], k=2)(graph, _gen())
    assert torch.equal(view.x, graph.x * 2)
    with pytest.raises(NotImplementedError, match="does not report edits"):
        A.RandomChoice([_Legacy()]).with_edits(graph, _gen())


# ---------------------------------------------------------------------------------------------
# Batches without node features: the per-graph node counts that to_data_list reads.
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "aug",
    [
        A.DropNodes(0.5),
        A.RandomWalkSubgraph(0.5),
        A.RandomChoice([A.DropNodes(0.5), A.DropEdges(0.3)], per_graph=True),
    ],
)
def test_featureless_batch_node_counts(aug):
    batch = Batch.from_data_list([Data(edge_index=_ring(n), num_nodes=n) for n in (5, 4, 6, 3)])
    for seed in range(6):
        view = aug(batch, _gen(seed))
        parts = view.to_data_list()
        assert [d.num_nodes for d in parts] == view.ptr.diff().tolist()
        assert view.num_nodes == int(view.ptr[-1])
        for d in parts:
            assert d.edge_index.numel() == 0 or int(d.edge_index.max()) < d.num_nodes
    assert [d.num_nodes for d in batch.to_data_list()] == [5, 4, 6, 3]  # input untouched


# ---------------------------------------------------------------------------------------------
# int32 edge indices.
# ---------------------------------------------------------------------------------------------


def test_undirected_drop_edges_int32_pairs_do_not_collide():
    # With int32 keys lo * 70000 + hi, the pairs (61356, 61356) and (0, 14060) overflow onto
    # the same key and were always kept or dropped together.
    ei = torch.tensor([[61356, 0, 0], [61356, 14060, 69999]], dtype=torch.int32)
    ei = torch.cat([ei, ei.flip(0)], 1)
    together = 0
    for seed in range(50):
        out, _, keep = F.drop_edges(ei, 0.5, undirected=True, generator=_gen(seed))
        _, _, keep64 = F.drop_edges(ei.long(), 0.5, undirected=True, generator=_gen(seed))
        assert torch.equal(keep, keep64)
        assert torch.equal(keep[:3], keep[3:])  # both directions together
        assert out.dtype == torch.int32  # the functional API keeps the input's dtype
        together += int(keep[0] == keep[1])
    assert together < 50


@pytest.mark.parametrize(
    "aug",
    [
        A.DropEdges(0.3),
        A.DropEdges(0.3, undirected=True),
        A.DropEdgesAdaptive(0.3),
        A.AddEdges(0.5),
        A.PerturbEdges(0.3),
        A.DropNodes(0.3),
    ],
)
def test_edge_index_of_a_view_is_int64(aug):
    graphs = [_featured_ring(n) for n in (6, 5)]
    for g in graphs:
        g.edge_index = g.edge_index.int()
    for data in (graphs[0], Batch.from_data_list(graphs)):
        view = aug(data, _gen())
        assert view.edge_index.dtype == torch.int64


# ---------------------------------------------------------------------------------------------
# Heat-kernel coefficients.
# ---------------------------------------------------------------------------------------------


def _heat_coefficients_by_recurrence(t: float, tol: float) -> torch.Tensor:
    """The previous formula (fine while exp(-t) does not underflow)."""
    coeffs, term, total, k = [], math.exp(-t), 0.0, 0
    while True:
        coeffs.append(term)
        total += term
        if 1.0 - total < tol:
            break
        k += 1
        term *= t / k
    return torch.tensor(coeffs, dtype=torch.float64)


@pytest.mark.parametrize("t", [0.0, 0.5, 1.0, 5.0, 20.0, 100.0])
@pytest.mark.parametrize("tol", [1e-4, 1e-8])
def test_heat_coefficients_small_t_unchanged(t, tol):
    theta = A.diffusion.heat_coefficients(t, tol)
    ref = _heat_coefficients_by_recurrence(t, tol)
    assert theta.shape == ref.shape
    assert torch.allclose(theta, ref, rtol=0.0, atol=1e-12)


def test_heat_coefficients_large_t():
    theta = A.diffusion.heat_coefficients(800.0, 1e-4)
    assert abs(float(theta.sum()) - 1.0) < 1e-4
    assert int(theta.argmax()) in (799, 800)  # the Poisson mode
    assert 800 < theta.numel() < 1000
    with pytest.raises(ValueError, match="terms"):
        A.diffusion.heat_coefficients(20_000.0, 1e-4)


# ---------------------------------------------------------------------------------------------
# MaskNodes: at least one masked node per graph (Hu et al.'s count with exact=True).
# ---------------------------------------------------------------------------------------------


def _molecules() -> Batch:
    sizes = (1, 2, 3, 6, 7, 13, 20, 0)
    graphs = [
        Data(x=torch.ones(n, 2, dtype=torch.long), edge_index=torch.zeros(2, 0, dtype=torch.long))
        for n in sizes
    ]
    return Batch.from_data_list(graphs)


def test_mask_nodes_at_least_one():
    batch = _molecules()
    counts = batch.ptr.diff()
    aug = A.MaskNodes(0.15, token=119, at_least_one=True, mask_key="m")
    for seed in range(20):
        view, edits = aug.with_edits(batch, _gen(seed))
        masked = torch.bincount(view.batch[view.m], minlength=8)
        assert torch.equal(masked, edits.nodes_masked)
        assert (masked[counts > 0] >= 1).all() and masked[-1] == 0
        assert torch.equal(view.x[view.m, 0], torch.full_like(view.x[view.m, 0], 119))
    # Without the option the default draws are unchanged: some graph masks nothing.
    plain = A.MaskNodes(0.15, mask_key="m")(batch, _gen(0))
    again = F.mask_nodes(batch.x, 0.15, batch=batch.batch, num_graphs=8, generator=_gen(0))[1]
    assert torch.equal(plain.m, again)
    assert (torch.bincount(batch.batch[plain.m], minlength=8)[counts > 0] == 0).any()


def test_mask_nodes_exact_follows_hu_et_al_count():
    batch = _molecules()
    counts = batch.ptr.diff()
    hu = [min(int(n * 0.15 + 1), n) for n in counts.tolist()]  # MaskAtom: int(n * rate + 1)
    assert hu == [1, 1, 1, 1, 2, 2, 4, 0]
    for seed in range(10):
        _, mask = F.mask_nodes(
            batch.x, 0.15, batch=batch.batch, exact=True, at_least_one=True, generator=_gen(seed)
        )
        assert torch.bincount(batch.batch[mask], minlength=8).tolist() == hu
        _, mask = F.mask_nodes(batch.x, 0.15, batch=batch.batch, exact=True, generator=_gen(seed))
        assert torch.bincount(batch.batch[mask], minlength=8).tolist() == [0, 0, 0, 0, 1, 1, 3, 0]
    # p = 1 masks every node (capped at n_g).
    _, mask = F.mask_nodes(batch.x, 1.0, batch=batch.batch, exact=True, at_least_one=True)
    assert bool(mask.all())
