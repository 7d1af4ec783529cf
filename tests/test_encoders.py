"""Encoders: shapes, activation after the last layer, readouts, heads."""

from __future__ import annotations

import pytest
import torch
from torch_geometric.data import Batch, Data

from graphssl.encoders import GraphEncoder, NodeEncoder, ProjectionHead, num_parameters, readout


def _batch():
    g = torch.Generator().manual_seed(0)
    graphs = []
    for n in (4, 6, 3):
        ei = torch.randint(0, n, (2, 2 * n), generator=g)
        graphs.append(
            Data(
                x=torch.randn(n, 5, generator=g),
                edge_index=ei,
                edge_attr=torch.randn(2 * n, 2, generator=g),
            )
        )
    return Batch.from_data_list(graphs)


@pytest.mark.parametrize("conv", ["gcn", "gat", "sage", "gin"])
def test_node_encoder_shapes(conv):
    b = _batch()
    enc = NodeEncoder(conv, 5, 16, 8, num_layers=3)
    out = enc(b.x, b.edge_index, batch=b.batch)
    assert out.shape == (b.num_nodes, 8)
    out.sum().backward()
    assert all(p.grad is not None for p in enc.parameters() if p.requires_grad)


def test_act_last_applies_the_activation():
    b = _batch()
    torch.manual_seed(0)
    plain = NodeEncoder("gcn", 5, 16, 8, act="relu")
    torch.manual_seed(0)
    last = NodeEncoder("gcn", 5, 16, 8, act="relu", act_last=True)
    a, c = plain(b.x, b.edge_index), last(b.x, b.edge_index)
    assert (a < 0).any() and (c >= 0).all()
    torch.testing.assert_close(a.relu(), c)


def test_gat_uses_edge_features_and_gcn_ignores_them():
    b = _batch()
    gat = NodeEncoder("gat", 5, 8, 8, edge_dim=2)
    assert not torch.allclose(
        gat(b.x, b.edge_index, b.edge_attr), gat(b.x, b.edge_index, b.edge_attr * 3)
    )
    gcn = NodeEncoder("gcn", 5, 8, 8)
    torch.testing.assert_close(gcn(b.x, b.edge_index, b.edge_attr), gcn(b.x, b.edge_index))


@pytest.mark.parametrize("kind", ["sum", "mean", "max"])
def test_graph_encoder_readouts(kind):
    b = _batch()
    enc = GraphEncoder(NodeEncoder("gin", 5, 8, 8), readout=kind)
    g, h = enc(b.x, b.edge_index, batch=b.batch, return_nodes=True)
    assert g.shape == (3, 8)
    first = h[b.batch == 0]
    expected = {"sum": first.sum(0), "mean": first.mean(0), "max": first.max(0).values}[kind]
    torch.testing.assert_close(g[0], expected)


def test_heads_and_errors():
    head = ProjectionHead(8, 4, 8)
    assert head(torch.randn(5, 8)).shape == (5, 8)
    assert num_parameters(head) == 8 * 4 + 4 + 4 * 8 + 8
    with pytest.raises(ValueError, match="conv"):
        NodeEncoder("transformer", 5, 8)
    with pytest.raises(ValueError, match="readout"):
        GraphEncoder(NodeEncoder("gcn", 5, 8), readout="median")
    with pytest.raises(ValueError, match="readout"):
        readout(torch.randn(3, 2), None, "median")


def test_bilinear_discriminator_scores_each_node_against_its_graph():
    from graphssl.encoders import BilinearDiscriminator

    torch.manual_seed(0)
    d = BilinearDiscriminator(8)
    h, s = torch.randn(10, 8), torch.randn(3, 8)
    batch = torch.tensor([0, 0, 1, 1, 1, 2, 2, 2, 2, 2])
    expected = torch.stack([h[i] @ d.weight @ s[batch[i]] for i in range(10)]) + d.bias
    assert torch.allclose(d(h, s, batch), expected, atol=1e-5)
    assert torch.allclose(d(h, s[:1]), torch.stack([h[i] @ d.weight @ s[0] for i in range(10)]))
