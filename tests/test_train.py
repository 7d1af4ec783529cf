"""The pretraining loop: checkpoint/resume equals an uninterrupted run; atomic writes."""

from __future__ import annotations

import pytest
import torch

from graphssl.data import make_csbm
from graphssl.methods import GRACE
from graphssl.train import load_checkpoint, pretrain, resolve_device, save_checkpoint


def _model(data):
    torch.manual_seed(0)
    return GRACE.from_config(data.num_features, hidden=16, proj_hidden=16)


CUDA = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")


@pytest.mark.parametrize("device", ["cpu", pytest.param("cuda", marks=CUDA)])
def test_resume_matches_uninterrupted_run(tmp_path, device):
    """Also on a GPU, where the checkpoint (RNG states included) is loaded onto the device.
    There scatter-adds are not deterministic, hence the looser tolerance."""
    rel = 1e-6 if device == "cpu" else 1e-3
    data = make_csbm(num_nodes=300, seed=0)
    full = _model(data)
    h_full = pretrain(full, data, epochs=8, seed=3, device=device, progress=False)

    ckpt = tmp_path / "ckpt.pt"
    part = _model(data)
    pretrain(part, data, epochs=4, seed=3, device=device, progress=False, checkpoint=ckpt)
    resumed = _model(data)  # a fresh process would rebuild the model like this
    torch.manual_seed(123)  # whatever the RNG state is now, resume restores the saved one
    h_res = pretrain(
        resumed, data, epochs=8, seed=3, device=device, progress=False, checkpoint=ckpt, resume=True
    )
    assert [h["epoch"] for h in h_res] == list(range(1, 9))
    assert [h["loss"] for h in h_res] == pytest.approx([h["loss"] for h in h_full], rel=rel)
    for a, b in zip(full.state_dict().values(), resumed.state_dict().values()):
        torch.testing.assert_close(a, b, rtol=rel, atol=rel)
    assert load_checkpoint(ckpt)["epoch"] == 8


def test_resume_restores_the_methods_own_generator(tmp_path):
    """A method whose views draw from ``method.generator`` (not the global RNG): the resumed
    run draws the same views as the uninterrupted one (without its state in the checkpoint
    it would restart that generator's stream and train on other views)."""

    def model(data):
        m = _model(data)
        m.generator = torch.Generator().manual_seed(7)
        return m

    data = make_csbm(num_nodes=200, seed=0)
    full = model(data)
    h_full = pretrain(full, data, epochs=6, seed=3, progress=False)
    ckpt = tmp_path / "ckpt.pt"
    pretrain(model(data), data, epochs=3, seed=3, progress=False, checkpoint=ckpt)
    resumed = model(data)
    h_res = pretrain(resumed, data, epochs=6, seed=3, progress=False, checkpoint=ckpt, resume=True)
    assert [h["loss"] for h in h_res] == pytest.approx([h["loss"] for h in h_full], rel=1e-6)
    assert torch.equal(resumed.generator.get_state(), full.generator.get_state())

    # a checkpoint of a run with its own generator, resumed by a method without one
    with pytest.raises(ValueError, match="own generator"):
        pretrain(_model(data), data, epochs=6, progress=False, checkpoint=ckpt, resume=True)


def test_write_text_atomic_replaces_whole_or_not_at_all(tmp_path, monkeypatch):
    from graphssl import train

    path = tmp_path / "sub" / "results.json"
    train.write_text_atomic(path, '{"a": 1}')
    train.write_text_atomic(path, '{"a": 2}')
    assert path.read_text() == '{"a": 2}'

    def killed(*args):  # the process dies before the rename
        raise KeyboardInterrupt

    monkeypatch.setattr(train.os, "replace", killed)
    with pytest.raises(KeyboardInterrupt):
        train.write_text_atomic(path, '{"a": 3, "truncat')
    assert path.read_text() == '{"a": 2}'
    assert [p.name for p in path.parent.iterdir()] == ["results.json"]  # no temp file left


def test_resume_from_a_checkpoint_past_the_epochs_is_refused(tmp_path):
    """A checkpoint at epoch 4 cannot be a 3-epoch run: no silent 4-epoch history."""
    data = make_csbm(num_nodes=100, seed=0)
    ckpt = tmp_path / "ckpt.pt"
    pretrain(_model(data), data, epochs=4, seed=3, progress=False, checkpoint=ckpt)
    with pytest.raises(ValueError, match="at epoch 4, past epochs=3"):
        pretrain(_model(data), data, epochs=3, progress=False, checkpoint=ckpt, resume=True)
    h = pretrain(_model(data), data, epochs=4, progress=False, checkpoint=ckpt, resume=True)
    assert len(h) == 4  # at its own epoch count it is simply finished


def test_checkpoint_every_seconds_keeps_the_epochs_before_a_crash(tmp_path):
    """A run cut off mid-way keeps every epoch that ended a checkpoint interval after the
    last write; with the interval off (and no epoch interval) nothing but the end is saved."""
    data = make_csbm(num_nodes=60, seed=0)

    def crashing(epoch_of_crash):
        model = _model(data)
        original, calls = model.loss, []

        def loss(batch):
            calls.append(1)
            if len(calls) == epoch_of_crash:
                return torch.tensor(float("nan"), requires_grad=True)
            return original(batch)

        model.loss = loss
        return model

    ckpt = tmp_path / "c.pt"
    with pytest.raises(FloatingPointError, match="epoch 4"):
        pretrain(
            crashing(4),
            data,
            epochs=6,
            progress=False,
            checkpoint=ckpt,
            checkpoint_every_seconds=1e-9,
        )
    assert load_checkpoint(ckpt)["epoch"] == 3
    h = pretrain(_model(data), data, epochs=6, progress=False, checkpoint=ckpt, resume=True)
    assert [r["epoch"] for r in h] == list(range(1, 7))

    other = tmp_path / "d.pt"
    with pytest.raises(FloatingPointError):
        pretrain(
            crashing(4),
            data,
            epochs=6,
            progress=False,
            checkpoint=other,
            checkpoint_every_seconds=3600,
        )
    assert not other.exists()
    with pytest.raises(ValueError, match="checkpoint_every_seconds"):
        pretrain(_model(data), data, epochs=1, progress=False, checkpoint_every_seconds=-1)


def test_eval_every_records_metrics():
    data = make_csbm(num_nodes=200, seed=1)
    calls = []

    def eval_fn(model):
        calls.append(1)
        return {"acc": 0.5}

    h = pretrain(
        _model(data), data, epochs=5, eval_every=2, eval_fn=eval_fn, device="cpu", progress=False
    )
    assert len(calls) == 3 and "acc" in h[1] and "acc" in h[4] and "acc" not in h[0]


def test_atomic_checkpoint_leaves_no_partial_file(tmp_path):
    path = tmp_path / "c.pt"
    save_checkpoint(path, {"a": torch.ones(2)})

    class Boom:
        def __reduce__(self):
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        save_checkpoint(path, {"a": Boom()})
    assert torch.equal(load_checkpoint(path)["a"], torch.ones(2))
    assert [p.name for p in tmp_path.iterdir()] == ["c.pt"]


def test_bad_arguments():
    data = make_csbm(num_nodes=50, seed=0)
    with pytest.raises(ValueError, match="resume"):
        pretrain(_model(data), data, epochs=1, resume=True, progress=False)
    with pytest.raises(ValueError, match="epochs"):
        pretrain(_model(data), data, epochs=-1, progress=False)
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA"):
            resolve_device("cuda")
    bad = data.clone()
    bad.edge_index = bad.edge_index.clone()
    bad.edge_index[0, 0] = 10_000
    with pytest.raises(ValueError, match="edge_index"):
        pretrain(_model(data), bad, epochs=1, progress=False)


def test_non_finite_loss_stops_with_a_clear_error():
    data = make_csbm(num_nodes=60, seed=0)
    model = _model(data)
    model.loss = lambda batch: torch.tensor(float("nan"), requires_grad=True)
    with pytest.raises(FloatingPointError, match="epoch 1"):
        pretrain(model, data, epochs=2, progress=False)


def test_iterable_of_batches_is_one_pass_per_epoch():
    from torch_geometric.data import Batch

    graphs = [make_csbm(num_nodes=40, seed=s) for s in range(6)]
    batches = [Batch.from_data_list(graphs[i : i + 2]) for i in range(0, 6, 2)]
    model = _model(graphs[0])
    steps = []
    original = model.loss

    def counting_loss(batch):
        steps.append(batch.num_graphs)
        return original(batch)

    model.loss = counting_loss
    history = pretrain(model, batches, epochs=2, device="cpu", progress=False)
    assert steps == [2, 2, 2, 2, 2, 2] and len(history) == 2


class _Plateau(torch.nn.Module):
    """A loss that improves for ``drop`` epochs and then stays flat."""

    def __init__(self, drop: int) -> None:
        super().__init__()
        self.w = torch.nn.Parameter(torch.zeros(1))
        self.drop, self.calls = drop, 0

    def loss(self, data):
        self.calls += 1
        level = max(self.drop - self.calls, 0)
        return self.w.sum() * 0 + float(level) + 1e-3 * self.w.square().sum()


def test_patience_stops_and_restores_best_weights(tmp_path):
    data = make_csbm(num_nodes=40, seed=0)
    model = _Plateau(drop=5)
    ckpt = tmp_path / "c.pt"
    hist = pretrain(
        model, data, epochs=100, patience=3, device="cpu", progress=False, checkpoint=ckpt
    )
    # losses 4,3,2,1,0,0,0,0: best at epoch 5, stop 3 epochs later
    assert [h["epoch"] for h in hist][-1] == 8 and len(hist) == 8
    state = load_checkpoint(ckpt)
    assert state["stopped"] and state["best"]["epoch"] == 5
    # resuming a stopped run trains no further
    again = pretrain(
        _Plateau(drop=5), data, epochs=100, patience=3, device="cpu", progress=False,
        checkpoint=ckpt, resume=True,
    )  # fmt: skip
    assert len(again) == 8
    with pytest.raises(ValueError, match="patience"):
        pretrain(model, data, epochs=1, patience=-1, device="cpu", progress=False)


def test_make_optimizer_passes_its_settings():
    from graphssl.train import make_optimizer

    params = [torch.nn.Parameter(torch.zeros(2))]
    adamw = make_optimizer(params, "AdamW", lr=0.1, weight_decay=0.01)
    assert isinstance(adamw, torch.optim.AdamW)
    assert adamw.defaults["lr"] == 0.1 and adamw.defaults["weight_decay"] == 0.01
    sgd = make_optimizer(params, "sgd", lr=0.5, weight_decay=0.2)
    assert isinstance(sgd, torch.optim.SGD)
    assert (sgd.defaults["momentum"], sgd.defaults["weight_decay"]) == (0.9, 0.2)
    assert make_optimizer(params).defaults["weight_decay"] == 0.0  # Adam, no decay
    with pytest.raises(ValueError, match="Unknown optimizer 'rmsprop'"):
        make_optimizer(params, "rmsprop")


def test_seed_everything_seeds_python_numpy_and_torch():
    import random

    import numpy as np

    from graphssl.train import seed_everything

    def draws():
        return random.random(), float(np.random.rand()), float(torch.rand(1))

    seed_everything(7)
    first = draws()
    seed_everything(7)
    assert draws() == first
    seed_everything(8)
    assert all(a != b for a, b in zip(draws(), first, strict=True))
