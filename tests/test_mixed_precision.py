"""Mixed precision: pretrain(amp=True) runs the step under bfloat16 autocast, GCN layers work
there, and every objective still computes its loss in float32."""

from __future__ import annotations

import pytest
import torch
from test_objectives import LOSSES

from graphssl.data import make_csbm
from graphssl.encoders import NodeEncoder
from graphssl.methods import GRACE
from graphssl.objectives import info_nce
from graphssl.train import pretrain

# every objective of graphssl.objectives, as (z1, z2) -> loss
PAIR_LOSSES = {
    **LOSSES,
    "info_nce": lambda a, b: info_nce(a, b, 0.5),
    "info_nce_tiled": lambda a, b: info_nce(a, b, 0.5, chunk_size=16),
}


def _pair(seed: int = 0, n: int = 64, d: int = 16) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    z1 = torch.randn(n, d, generator=g) + 3.0  # nearly parallel rows, as at initialisation
    return z1, z1 + 0.1 * torch.randn(n, d, generator=g)


@pytest.mark.parametrize("name", sorted(PAIR_LOSSES))
def test_objectives_ignore_autocast(name):
    loss = PAIR_LOSSES[name]
    z1, z2 = _pair()
    expected = loss(z1, z2)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        got = loss(z1, z2)
    assert got.dtype == torch.float32
    assert got.item() == expected.item()  # the same float32 computation, not a bf16 one


@pytest.mark.parametrize("name", sorted(PAIR_LOSSES))
def test_bfloat16_inputs_give_the_float32_loss_of_their_values(name):
    loss = PAIR_LOSSES[name]
    z1, z2 = (z.bfloat16() for z in _pair(1))
    z1.requires_grad_()
    got = loss(z1, z2)
    assert got.dtype == torch.float32
    # rel 1e-3: the jsd / triplet wrappers reduce or flip their bf16 inputs before the call
    assert got.item() == pytest.approx(loss(z1.float(), z2.float()).item(), rel=1e-3)
    got.backward()
    assert z1.grad is not None and z1.grad.dtype == torch.bfloat16


def test_amp_gradient_matches_float32_on_cora(cora):
    """GRACE's first step on Cora, where the embeddings are nearly parallel: under bfloat16
    autocast every parameter's gradient stays close to the float32 one (with the InfoNCE
    similarities in bfloat16 the projection head's gradient was nearly orthogonal to it)."""
    torch.manual_seed(0)
    model = GRACE.from_config(cora.num_features, hidden=128, proj_hidden=128, tau=0.4)
    grads = []
    for amp in (False, True):
        model.zero_grad()
        torch.manual_seed(1)  # the same views on both sides
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=amp):
            loss = model.loss(cora)
        loss.backward()
        grads.append({n: p.grad.flatten().clone() for n, p in model.named_parameters()})
    for name, g32 in grads[0].items():
        cos = torch.nn.functional.cosine_similarity(g32, grads[1][name], dim=0)
        assert cos > 0.99, (name, float(cos))


def test_sparse_gcn_layers_run_under_autocast():
    data = make_csbm(num_nodes=200, seed=0)
    torch.manual_seed(0)
    enc = NodeEncoder("gcn", data.num_features, 32, 16)
    assert enc.sparse
    ref = enc(data.x, data.edge_index)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out = enc(data.x, data.edge_index)
    # the linear maps ran in bfloat16 (rounded), the aggregation in float32
    assert out.dtype == torch.float32 and not torch.equal(out, ref)
    torch.testing.assert_close(out, ref, rtol=0.05, atol=0.02)


def test_amp_with_sparse_features_matches_float32_on_cora(cora):
    """BGRL's Coauthor-CS model (GCN 512-256, BatchNorm, PReLU) on Cora's features stored
    sparse: under autocast the first GCN layer runs in float32 (no bfloat16 sparse product on
    the CPU) and the layers after it in bfloat16; the first step's loss and every parameter's
    gradient stay close to the float32 ones with dense features."""
    from graphssl.experiment import load_config
    from graphssl.methods import build_method

    torch.manual_seed(0)
    cfg = load_config("bgrl", "CS")["model"]
    model = build_method("bgrl", cora.num_features, **{**cfg, "total_steps": 10})
    sparse = cora.clone()
    sparse.x = cora.x.to_sparse_csr()
    dtypes = {}
    hooks = [
        model.encoder.gnn.convs[i].lin.register_forward_hook(
            lambda mod, args, out, i=i: dtypes.__setitem__(i, out.dtype)
        )
        for i in (0, 1)
    ]
    losses, grads = [], []
    for data, amp in ((cora, False), (sparse, True)):
        model.zero_grad()
        model.generator = torch.Generator().manual_seed(1)  # the same views on both sides
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=amp):
            loss = model.loss(data)
        loss.backward()
        losses.append(loss.item())
        grads.append(  # the EMA target encoder has no gradient
            {n: p.grad.flatten().clone() for n, p in model.named_parameters() if p.requires_grad}
        )
    for hook in hooks:
        hook.remove()
    # the amp side's linear maps: on the sparse features float32, after them bfloat16
    assert dtypes == {0: torch.float32, 1: torch.bfloat16}
    assert losses[1] == pytest.approx(losses[0], rel=0.02)
    before_norm = {"encoder.gnn.convs.0.bias", "encoder.gnn.convs.1.bias"}
    before_norm.add("predictor.mlp.lins.0.bias")
    for name, g32 in grads[0].items():
        if name in before_norm:
            # a bias right before a BatchNorm has no gradient (the norm removes any shift):
            # rounding noise on both sides
            assert max(g32.norm(), grads[1][name].norm()) < 1e-3, name
            continue
        cos = torch.nn.functional.cosine_similarity(g32, grads[1][name], dim=0)
        assert cos > 0.99, (name, float(cos))


class _Recording(GRACE):
    def loss(self, data):
        self.autocast_seen = torch.is_autocast_enabled("cpu"), torch.get_autocast_dtype("cpu")
        return super().loss(data)


@pytest.mark.parametrize("amp", [False, True])
def test_pretrain_amp_runs_the_step_under_bfloat16_autocast(amp):
    data = make_csbm(num_nodes=300, seed=0)
    torch.manual_seed(0)
    model = _Recording.from_config(data.num_features, hidden=16, proj_hidden=16)
    history = pretrain(
        model, data, epochs=30, lr=0.01, seed=0, device="cpu", progress=False, amp=amp
    )
    assert model.autocast_seen[0] is amp
    if amp:
        assert model.autocast_seen[1] == torch.bfloat16
    assert history[-1]["loss"] < history[0]["loss"] - 0.05
    assert all(p.dtype == torch.float32 for p in model.parameters())
    assert not torch.is_autocast_enabled("cpu")  # switched off again after the step
