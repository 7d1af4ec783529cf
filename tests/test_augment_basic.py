"""The spine's two augmentations: edge dropping and feature-column masking."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch_geometric.data import Batch, Data
from torch_geometric.utils import to_undirected

from graphssl.augment import (
    Compose,
    DropEdges,
    Identity,
    MaskFeatures,
    drop_edges,
    mask_feature_columns,
)
from graphssl.data import validate


def _graph(n=30, e=80, f=6, seed=0):
    g = torch.Generator().manual_seed(seed)
    ei = to_undirected(torch.randint(0, n, (2, e), generator=g), num_nodes=n)
    return Data(
        x=torch.rand(n, f, generator=g) + 0.1,
        edge_index=ei,
        edge_attr=torch.arange(ei.size(1)).float()[:, None],
        y=torch.arange(n),
    )


def test_drop_edges_rate_within_three_sigma(cora):
    p, draws = 0.3, 20
    m = cora.edge_index.size(1)
    kept = sum(drop_edges(cora.edge_index, p)[0].size(1) for _ in range(draws))
    mean_dropped = 1 - kept / (draws * m)
    sigma = (p * (1 - p) / (draws * m)) ** 0.5
    assert abs(mean_dropped - p) < 3 * sigma


def test_drop_edges_keeps_attr_aligned_and_is_seeded():
    data = _graph()
    g1, g2 = torch.Generator().manual_seed(5), torch.Generator().manual_seed(5)
    a = DropEdges(0.5)(data, g1)
    b = DropEdges(0.5)(data, g2)
    assert torch.equal(a.edge_index, b.edge_index)
    idx = a.edge_attr.view(-1).long()
    assert torch.equal(data.edge_index[:, idx], a.edge_index)
    assert a.edge_index.size(1) < data.edge_index.size(1)
    validate(a)


def test_drop_edges_undirected_keeps_pairs():
    data = _graph()
    out, _, keep = drop_edges(
        data.edge_index, 0.5, undirected=True, generator=torch.Generator().manual_seed(1)
    )
    assert 0 < keep.sum() < keep.numel()
    assert torch.equal(to_undirected(out, num_nodes=30), out.unique(dim=1))


def test_input_is_not_mutated():
    data = _graph()
    before = (data.x.clone(), data.edge_index.clone())
    view = Compose([DropEdges(0.5), MaskFeatures(0.5)])(data)
    assert torch.equal(data.x, before[0]) and torch.equal(data.edge_index, before[1])
    assert view.x is not data.x
    assert Identity()(data).x is data.x


def test_mask_columns_zeroes_whole_columns_per_graph():
    batch = Batch.from_data_list([_graph(seed=s) for s in range(4)])
    gen = torch.Generator().manual_seed(0)
    view = MaskFeatures(0.5)(batch, gen)
    _, mask = mask_feature_columns(
        batch.x, 0.5, batch=batch.batch, generator=torch.Generator().manual_seed(0)
    )
    assert mask.shape == (4, 6)
    for graph in range(4):
        rows = view.x[batch.batch == graph]
        assert torch.equal((rows == 0).all(0), mask[graph])
    assert not (mask == mask[0]).all()  # graphs draw their own columns


@settings(max_examples=40, deadline=None)
@given(p=st.floats(0.0, 1.0), n=st.integers(1, 25), e=st.integers(0, 60), seed=st.integers(0, 999))
def test_views_always_validate(p, n, e, seed):
    g = torch.Generator().manual_seed(seed)
    data = Data(
        x=torch.rand(n, 3, generator=g), edge_index=torch.randint(0, n, (2, e), generator=g)
    )
    view = Compose([DropEdges(p), MaskFeatures(p)])(data, g)
    validate(view)
    assert view.edge_index.size(1) <= e
    if p == 0.0:
        assert torch.equal(view.edge_index, data.edge_index) and torch.equal(view.x, data.x)
    if p == 1.0:
        assert view.edge_index.size(1) == 0 and (view.x == 0).all()


def test_bad_probability_and_generator_device():
    with pytest.raises(ValueError, match="probability"):
        DropEdges(1.5)
    with pytest.raises(ValueError, match="probability"):
        mask_feature_columns(torch.rand(3, 2), -0.1)
    if torch.cuda.is_available():
        with pytest.raises(ValueError, match="generator"):
            drop_edges(
                torch.zeros(2, 3, dtype=torch.long), 0.5, generator=torch.Generator(device="cuda")
            )


def test_drop_edges_keeps_every_edge_attribute_aligned():
    data = _graph()
    data.edge_weight = torch.arange(data.edge_index.size(1)).float()
    view = DropEdges(0.5)(data, torch.Generator().manual_seed(3))
    assert torch.equal(view.edge_weight, view.edge_attr.view(-1))
    assert torch.equal(data.edge_index[:, view.edge_weight.long()], view.edge_index)
