"""GRACE end to end on a real graph, and the method contract."""

from __future__ import annotations

import torch

from graphssl.data import public_split
from graphssl.eval import linear_probe
from graphssl.methods import GRACE, build_method, get_method, list_methods
from graphssl.train import pretrain


def test_registry():
    assert "grace" in list_methods()
    assert get_method("GRACE") is GRACE
    m = build_method("grace", 10, hidden=8, proj_hidden=4)
    assert isinstance(m, GRACE)


def test_grace_on_cora_beats_raw_features(cora):
    # Short run with the paper's Cora settings: the loss falls and the frozen embedding beats
    # the same probe on the raw features by a wide margin.
    torch.manual_seed(0)
    model = GRACE.from_config(cora.num_features, hidden=128, proj_hidden=128, tau=0.4)
    history = pretrain(
        model, cora, epochs=40, lr=5e-4, weight_decay=1e-5, seed=0, device="cpu", progress=False
    )
    assert history[-1]["loss"] < history[0]["loss"] - 0.2
    split = public_split(cora)
    ssl = linear_probe(model.embed(cora), cora.y, split)
    raw = linear_probe(cora.x, cora.y, split)
    assert ssl.mean > raw.mean + 10.0, (ssl, raw)
    assert ssl.mean > 72.0


def test_embed_is_deterministic_and_detached(cora):
    model = GRACE.from_config(cora.num_features, hidden=16, proj_hidden=16)
    z1, z2 = model.embed(cora), model.embed(cora)
    assert torch.equal(z1, z2) and not z1.requires_grad and z1.shape == (cora.num_nodes, 16)
    assert model.training  # embed restores the mode


def test_chunked_loss_equals_dense(cora):
    torch.manual_seed(0)
    model = GRACE.from_config(cora.num_features, hidden=16, proj_hidden=16)
    g = torch.Generator()
    model.generator = g.manual_seed(1)
    dense = model.loss(cora)
    model.chunk_size = 500
    model.generator = g.manual_seed(1)
    chunked = model.loss(cora)
    torch.testing.assert_close(dense, chunked, rtol=1e-5, atol=1e-6)
    # keep_gib (from the config) keeps the chunks' similarity tiles: the same loss and gradient
    kept_model = GRACE.from_config(
        cora.num_features, hidden=16, proj_hidden=16, chunk_size=500, keep_gib=1.0
    )
    kept_model.load_state_dict(model.state_dict())
    assert kept_model.keep_gib == 1.0
    kept_model.generator = g.manual_seed(1)
    kept = kept_model.loss(cora)
    assert torch.equal(kept, chunked)
    grads = torch.autograd.grad(chunked, list(model.parameters()))
    kept_grads = torch.autograd.grad(kept, list(kept_model.parameters()))
    for a, b in zip(grads, kept_grads):
        assert torch.equal(a, b)


def test_bgrl_encoder_option(cora):
    # norm / norm_kwargs / act_per_layer build BGRL's encoder (a BatchNorm with momentum 0.99
    # and a PReLU of its own after each GCN layer); GRACE's own encoder has neither.
    model = GRACE.from_config(
        cora.num_features,
        hidden=16,
        proj_hidden=16,
        activation="prelu",
        norm="batch_norm",
        norm_kwargs={"momentum": 0.99},
        act_per_layer=True,
    )
    norms = [m for m in model.encoder.modules() if isinstance(m, torch.nn.BatchNorm1d)]
    prelus = [m for m in model.encoder.modules() if isinstance(m, torch.nn.PReLU)]
    assert [n.momentum for n in norms] == [0.99, 0.99] and len(prelus) == 2
    plain = GRACE.from_config(cora.num_features, hidden=16, proj_hidden=16)
    assert not any(isinstance(m, torch.nn.BatchNorm1d) for m in plain.encoder.modules())
    model.loss(cora).backward()  # training mode: batch statistics, gradients reach the norms
    assert norms[0].weight.grad is not None and norms[0].weight.grad.abs().sum() > 0
    z1, z2 = model.embed(cora), model.embed(cora)  # eval mode: running statistics
    assert torch.equal(z1, z2) and z1.shape == (cora.num_nodes, 16)
