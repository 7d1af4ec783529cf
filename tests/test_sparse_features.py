"""Sparse CSR node features (``data.sparse_features``): column masking, GCA's feature weights
and the methods that accept them give what the dense features give."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch_geometric.data import Batch

from graphssl.augment import functional as F
from graphssl.experiment import config_dir, load_config, use_sparse_features
from graphssl.methods import build_method


def _gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _sparse_copy(data):
    out = data.clone()
    out.x = out.x.to_sparse_csr()
    return out


@pytest.fixture(scope="module")
def mutag(datasets_root):
    from graphssl.data import load_dataset

    return Batch.from_data_list(list(load_dataset("MUTAG", datasets_root)))


@settings(max_examples=50, deadline=None)
@given(
    n=st.integers(1, 20),
    f=st.integers(1, 12),
    graphs=st.integers(1, 4),
    density=st.floats(0.0, 1.0),
    seed=st.integers(0, 999),
)
def test_scale_feature_columns_sparse_equals_dense(n, f, graphs, density, seed):
    g = _gen(seed)
    x = torch.rand(n, f, generator=g) * (torch.rand(n, f, generator=g) < density)
    batch = torch.randint(0, graphs, (n,), generator=g).sort().values
    scale = torch.rand(graphs, f, generator=g)
    for b, s in ((None, scale[:1]), (batch, scale)):
        dense = F.scale_feature_columns(x, s, b)
        sparse = F.scale_feature_columns(x.to_sparse_csr(), s, b)
        assert sparse.layout == torch.sparse_csr
        assert torch.equal(sparse.to_dense(), dense)
        # hand check: entry (i, j) is x[i, j] * scale[graph of i, j]
        rows = torch.zeros(n, dtype=torch.long) if b is None else b
        assert torch.equal(dense, x * s[rows])


def test_mask_feature_columns_sparse_draws_the_same_mask(cora, mutag):
    for x, batch, graphs in ((cora.x, None, None), (mutag.x, mutag.batch, mutag.num_graphs)):
        dense, mask = F.mask_feature_columns(
            x, 0.4, batch=batch, num_graphs=graphs, generator=_gen(3)
        )
        sparse, mask_s = F.mask_feature_columns(
            x.to_sparse_csr(), 0.4, batch=batch, num_graphs=graphs, generator=_gen(3)
        )
        assert torch.equal(mask, mask_s) and mask.any()
        assert sparse.layout == torch.sparse_csr
        assert torch.equal(sparse.to_dense(), dense)
        # the sparsity pattern is kept: masked entries are stored zeros
        assert sparse.values().numel() == int((x != 0).sum())


def test_gca_feature_weights_and_masking_sparse_equal_dense(cora, mutag):
    c = F.degree_centrality(cora.edge_index, cora.num_nodes)
    xs = cora.x.to_sparse_csr()
    for binary in (False, True):
        dense = F.feature_weights_adaptive(cora.x, c, binary=binary)
        sparse = F.feature_weights_adaptive(xs, c, binary=binary)
        assert torch.allclose(sparse, dense, rtol=1e-12, atol=1e-12)
    out, mask = F.mask_features_adaptive(cora.x, 0.3, centrality=c, generator=_gen(1))
    out_s, mask_s = F.mask_features_adaptive(xs, 0.3, centrality=c, generator=_gen(1))
    assert torch.equal(mask, mask_s) and torch.equal(out_s.to_dense(), out)
    # per graph of a batch
    cm = F.degree_centrality(mutag.edge_index, mutag.num_nodes)
    kw = {"batch": mutag.batch, "num_graphs": mutag.num_graphs}
    dense = F.feature_weights_adaptive(mutag.x, cm, **kw)
    sparse = F.feature_weights_adaptive(mutag.x.to_sparse_csr(), cm, **kw)
    assert torch.allclose(sparse, dense, rtol=1e-12, atol=1e-12)


def test_other_sparse_layouts_are_refused():
    x = torch.eye(4).to_sparse()  # COO
    with pytest.raises(ValueError, match="sparse_csr"):
        F.mask_feature_columns(x, 0.5)
    with pytest.raises(ValueError, match="sparse_csr"):
        F.feature_weights_adaptive(x, torch.ones(4))


@pytest.mark.parametrize("method", ["grace", "gca", "bgrl", "gbt", "cca-ssg", "gae"])
def test_method_loss_and_gradient_same_with_sparse_features(cora, method):
    # GAE has no published configs: its defaults
    kwargs = load_config(method, "Cora")["model"] if config_dir(method).is_dir() else {}
    model = build_method(method, cora.num_features, **{"total_steps": 3, **kwargs})
    assert model.supports_sparse_features
    sparse = _sparse_copy(cora)
    losses, grads = [], []
    for data in (cora, sparse):
        model.zero_grad()
        model.generator = _gen(7)  # the same views (GAE: negative edges) for both
        loss = model.loss(data)
        loss.backward()
        losses.append(loss.detach())
        grads.append(
            torch.cat([p.grad.flatten() for p in model.parameters() if p.grad is not None])
        )
    assert torch.allclose(losses[0], losses[1], rtol=1e-4, atol=1e-5)
    # float rounding only: the sparse product sums in another order
    assert (grads[0] - grads[1]).norm() <= 1e-3 * grads[0].norm()
    assert torch.allclose(model.embed(cora), model.embed(sparse), rtol=1e-4, atol=1e-5)


def test_use_sparse_features_checks_the_method(cora):
    cfg = {"data": {"sparse_features": True}, "train": {}}
    grace = build_method("grace", cora.num_features, hidden=8, proj_hidden=8)
    out = use_sparse_features(cora, cfg, grace)
    assert out.x.layout == torch.sparse_csr and cora.x.layout == torch.strided  # not mutated
    assert use_sparse_features(cora, {"data": {}, "train": {}}, grace) is cora
    with pytest.raises(ValueError, match="does not accept sparse"):
        use_sparse_features(cora, cfg, build_method("dgi", cora.num_features, hidden=8))
    # with amp too: the GCN layer on the sparse features runs in float32 (test_mixed_precision)
    out = use_sparse_features(cora, {**cfg, "train": {"amp": True}}, grace)
    assert out.x.layout == torch.sparse_csr


@pytest.mark.parametrize("conv", ["sage", "gin", "gat"])
def test_encoders_that_cannot_take_sparse_features_say_so(conv):
    from graphssl.data import make_csbm
    from graphssl.encoders import NodeEncoder

    data = make_csbm(num_nodes=50, seed=0)
    enc = NodeEncoder(conv, data.num_features, 8)
    xs = data.x.to_sparse_csr()
    if conv == "gat":  # GAT takes them in float32, not under autocast
        torch.testing.assert_close(enc(xs, data.edge_index), enc(data.x, data.edge_index))
        with torch.autocast("cpu", dtype=torch.bfloat16):
            with pytest.raises(ValueError, match="under autocast"):
                enc(xs, data.edge_index)
    else:
        with pytest.raises(ValueError, match="cannot take sparse node features"):
            enc(xs, data.edge_index)
    with pytest.raises(ValueError, match="sparse_csr"):
        enc(data.x.to_sparse(), data.edge_index)  # COO


def test_pretraining_run_with_sparse_features(datasets_root):
    from graphssl.experiment import run_pretraining

    def run(sparse, amp=False):
        over = {
            "model": {"hidden": 16, "proj_hidden": 16},
            "train": {"epochs": 3, "amp": amp},
            "data": {"sparse_features": sparse},
        }
        return run_pretraining(
            "grace", "Cora", root=str(datasets_root), device="cpu", progress=False, overrides=over
        )

    dense, sparse = run(False), run(True)
    assert abs(sparse["final_loss"] - dense["final_loss"]) < 1e-3
    assert abs(sparse["accuracy"]["mean"] - dense["accuracy"]["mean"]) < 1.0
    # in bfloat16 mixed precision: close to the float32 run, not equal
    sparse_amp = run(True, amp=True)
    assert sparse_amp["config"]["train"]["amp"] is True
    assert abs(sparse_amp["final_loss"] - dense["final_loss"]) < 0.05
    assert abs(sparse_amp["accuracy"]["mean"] - dense["accuracy"]["mean"]) < 2.0


def test_validate_reports_non_finite_sparse_features(cora):
    from graphssl.data import validate

    data = _sparse_copy(cora)
    validate(data)
    values = data.x.values().clone()
    values[5] = float("nan")
    data.x = torch.sparse_csr_tensor(
        data.x.crow_indices(), data.x.col_indices(), values, data.x.shape
    )
    with pytest.raises(ValueError, match="1 non-finite"):
        validate(data)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_sparse_features_train_on_cuda(cora):
    """The Coauthor configs' CSR features on a GPU: masks, the sparse first layer and its
    backward (cuSPARSE) give the dense path's loss and gradient."""
    model = build_method("gca", cora.num_features, hidden=16, proj_hidden=16).cuda()
    dense = cora.to("cuda")
    sparse = _sparse_copy(dense)
    grads = []
    for data in (dense, sparse):
        model.zero_grad()
        model.generator = torch.Generator(device="cuda").manual_seed(3)
        model.loss(data).backward()
        grads.append(
            torch.cat([p.grad.flatten() for p in model.parameters() if p.grad is not None])
        )
    assert (grads[0] - grads[1]).norm() <= 1e-3 * grads[0].norm()
