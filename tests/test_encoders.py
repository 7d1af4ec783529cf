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


def test_the_norm_after_the_last_layer_is_per_graph_of_a_batch():
    """With act_last, the last norm (here LayerNorm, per graph by default) sees each graph of
    a batch on its own, as the norms between layers do: a graph's embedding does not depend
    on the graphs batched with it."""
    b = _batch()
    torch.manual_seed(0)
    enc = NodeEncoder("gcn", 5, 16, 8, norm="layer_norm", act_last=True)
    together = enc(b.x, b.edge_index, batch=b.batch)
    first = b.get_example(0)
    alone = enc(first.x, first.edge_index, batch=torch.zeros(first.num_nodes, dtype=torch.long))
    torch.testing.assert_close(together[b.batch == 0], alone)


def test_bilinear_discriminator_starts_as_dgi_does():
    """Xavier-uniform of nn.Bilinear's [1, d, d] weight (DGI's and MVGRL's init), zero bias."""
    from graphssl.encoders import BilinearDiscriminator

    torch.manual_seed(0)
    d = 64
    disc = BilinearDiscriminator(d)
    bound = (6 / (d * d + d)) ** 0.5
    assert disc.weight.abs().max() <= bound and disc.weight.abs().max() > 0.9 * bound
    assert float(disc.bias.detach()) == 0.0


@pytest.mark.parametrize(
    ("conv", "norm"), [("gcn", None), ("gcn", "batch_norm"), ("gat", None), ("sage", None)]
)
def test_act_per_layer_gives_each_layer_its_own_prelu(conv, norm):
    # Same initial slopes: the same function as one shared PReLU; then each slope is a
    # parameter of its own layer only, and each gets its own gradient.
    b = _batch()
    kw = {"act": "prelu", "act_last": True, "norm": norm, "num_layers": 3}
    torch.manual_seed(0)
    shared = NodeEncoder(conv, 5, 16, 8, **kw)
    torch.manual_seed(0)
    own = NodeEncoder(conv, 5, 16, 8, act_per_layer=True, **kw)
    assert num_parameters(own) == num_parameters(shared) + 2
    torch.testing.assert_close(own(b.x, b.edge_index), shared(b.x, b.edge_index))
    own.layer_acts[0].weight.data.fill_(0.9)
    moved = own(b.x, b.edge_index)
    assert not torch.allclose(moved, shared(b.x, b.edge_index))
    moved.square().sum().backward()
    grads = [act.weight.grad for act in own.layer_acts]
    assert all(g is not None and g.abs().sum() > 0 for g in grads)
    assert len({float(g.sum()) for g in grads}) == 3


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


def test_sparse_gcn_aggregation_equals_messages():
    from torch_geometric.data import Batch, Data

    from graphssl.encoders import NodeEncoder

    torch.manual_seed(0)
    graphs = [
        Data(x=torch.randn(5, 6), edge_index=torch.tensor([[0, 1, 1, 2, 3], [1, 0, 2, 1, 3]])),
        Data(x=torch.randn(1, 6), edge_index=torch.empty(2, 0, dtype=torch.long)),
        Data(x=torch.randn(4, 6), edge_index=torch.tensor([[0, 0, 2, 2], [1, 1, 3, 0]])),
    ]
    batch = Batch.from_data_list(graphs)
    weight = torch.rand(batch.num_edges)
    dense = NodeEncoder("gcn", 6, 8, 4, num_layers=2, act="prelu", act_last=True, sparse=False)
    sparse = NodeEncoder("gcn", 6, 8, 4, num_layers=2, act="prelu", act_last=True)
    sparse.load_state_dict(dense.state_dict())
    assert sparse.sparse and not dense.sparse
    for w in (None, weight):
        x1 = batch.x.clone().requires_grad_()
        x2 = batch.x.clone().requires_grad_()
        out1 = dense(x1, batch.edge_index, edge_weight=w)
        out2 = sparse(x2, batch.edge_index, edge_weight=w)
        assert torch.allclose(out1, out2, atol=1e-6)
        out1.square().sum().backward()
        out2.square().sum().backward()
        assert torch.allclose(x1.grad, x2.grad, atol=1e-6)
        g1 = dict(dense.named_parameters())
        for name, p in sparse.named_parameters():
            assert torch.allclose(p.grad, g1[name].grad, atol=1e-5), name
        dense.zero_grad()
        sparse.zero_grad()
    with pytest.raises(ValueError, match="gcn"):
        NodeEncoder("gat", 6, 8, sparse=True)


def test_sparse_gcn_passes_gradients_to_edge_weights():
    from graphssl.encoders import NodeEncoder

    torch.manual_seed(0)
    x, ei = torch.randn(4, 3), torch.tensor([[0, 1, 2, 3, 0], [1, 2, 3, 0, 2]])
    w1 = torch.rand(5, requires_grad=True)
    w2 = w1.detach().clone().requires_grad_()
    dense = NodeEncoder("gcn", 3, 2, num_layers=1, sparse=False)
    sparse = NodeEncoder("gcn", 3, 2, num_layers=1)
    sparse.load_state_dict(dense.state_dict())
    dense(x, ei, edge_weight=w1).sum().backward()
    sparse(x, ei, edge_weight=w2).sum().backward()
    assert torch.allclose(w1.grad, w2.grad, atol=1e-6)


def test_projection_head_is_linear_act_linear_with_its_norm():
    """GRACE's head is Linear -> ELU -> Linear; BGRL's predictor puts a BatchNorm before its
    activation: the outputs equal those layers applied by hand."""
    torch.manual_seed(0)
    x = torch.randn(5, 4)
    head = ProjectionHead(4, 6, 3, act="elu").eval()
    first, second = head.mlp.lins  # PyG's MLP
    expected = second(torch.nn.functional.elu(first(x)))
    torch.testing.assert_close(head(x), expected)
    bn_head = ProjectionHead(4, 6, 3, act="prelu", norm="batch_norm").train()
    first, second = bn_head.mlp.lins
    prelu = bn_head.mlp.act
    assert isinstance(prelu, torch.nn.PReLU)
    h = first(x)
    h = (h - h.mean(0)) / torch.sqrt(h.var(0, unbiased=False) + 1e-5)  # fresh BatchNorm
    torch.testing.assert_close(bn_head(x), second(prelu(h)), rtol=1e-4, atol=1e-5)
