"""Config files (one per method and dataset) and the learning-rate schedules."""

import math

import pytest
import torch

from graphssl.experiment import config_dir, list_presets, load_config, parse_overrides
from graphssl.methods import build_method
from graphssl.methods.registry import list_methods
from graphssl.train import lr_factor

CONFIGURED = [m for m in list_methods() if config_dir(m).is_dir()]


@pytest.mark.parametrize("method", CONFIGURED)
def test_every_config_file_builds_its_method(method):
    for preset in [None, *list_presets(method)]:
        cfg = load_config(method, "unknown-dataset", preset)
        assert {"model", "train", "data", "eval"} <= set(cfg)
        assert cfg["train"]["epochs"] > 0 and cfg["train"]["lr"] > 0
        lr_factor(cfg["train"].get("schedule"), 0, 10, cfg["train"].get("warmup_epochs", 0))
        model = build_method(method, 16, total_steps=10, **cfg["model"])
        assert sum(p.numel() for p in model.parameters()) > 0


def test_dataset_file_overrides_defaults():
    cfg = load_config("grace", "Cora")
    assert cfg["train"]["epochs"] == 400 and cfg["eval"]["split"] == "public"
    assert load_config("grace", "Amazon-Photo")["model"]["tau"] == 0.3
    # a dataset without a file gets the defaults
    assert load_config("grace", "MyGraph") == load_config("grace", "nothing-here")


def test_unknown_preset_and_method_are_errors():
    with pytest.raises(ValueError, match="No preset 'nope'"):
        load_config("grace", "Cora", preset="nope")
    with pytest.raises(ValueError, match="Unknown method"):
        load_config("no-such-method", "Cora")


def test_overrides_parse_json_values():
    assert parse_overrides(["model.tau=0.3", "train.schedule=cosine"]) == {
        "model": {"tau": 0.3},
        "train": {"schedule": "cosine"},
    }


def test_lr_schedules():
    assert lr_factor(None, 5, 10) == 1.0
    # GraphMAE's cosine: 1 at the start, 1/2 half-way, ~0 at the end
    assert lr_factor("cosine", 0, 100) == 1.0
    assert lr_factor("cosine", 50, 100) == pytest.approx(0.5)
    assert lr_factor("cosine", 99, 100) < 1e-3
    # BGRL's warm-up then cosine
    ramp = [lr_factor("warmup_cosine", e, 100, warmup_epochs=10) for e in range(10)]
    assert ramp == pytest.approx([(e + 1) / 10 for e in range(10)])
    assert lr_factor("warmup_cosine", 10, 100, 10) == 1.0
    assert lr_factor("warmup_cosine", 55, 100, 10) == pytest.approx(0.5)
    with pytest.raises(ValueError, match="Unknown lr schedule"):
        lr_factor("step", 0, 10)


def test_pretrain_follows_the_schedule(cora, monkeypatch):
    from graphssl.train import pretrain

    model = build_method("grace", cora.num_features, hidden=16, proj_hidden=16)
    lrs = []
    original = torch.optim.Adam.step

    def step(self, *args, **kwargs):
        lrs.append(self.param_groups[0]["lr"])
        return original(self, *args, **kwargs)

    monkeypatch.setattr(torch.optim.Adam, "step", step)
    pretrain(model, cora, epochs=4, lr=0.1, schedule="cosine", device="cpu", progress=False)
    assert lrs == pytest.approx([0.1 * 0.5 * (1 + math.cos(math.pi * e / 4)) for e in range(4)])
