"""The `graphssl` command."""

from __future__ import annotations

import json

from graphssl.cli import main


def test_pretrain_writes_outputs_and_evaluate_reads_them(tmp_path, datasets_root, capsys):
    out = tmp_path / "run"
    rc = main(
        [
            "pretrain",
            "--method",
            "grace",
            "--dataset",
            "Cora",
            "--root",
            str(datasets_root),
            "--epochs",
            "3",
            "--device",
            "cpu",
            "--out",
            str(out),
            "--quiet",
            "--set",
            "model.hidden=16",
            "model.proj_hidden=16",
        ]
    )
    assert rc == 0
    assert {p.name for p in out.iterdir()} >= {
        "config.json",
        "metrics.json",
        "checkpoint.pt",
        "embeddings.pt",
    }
    config = json.loads((out / "config.json").read_text())
    assert config["model"]["hidden"] == 16 and config["train"]["epochs"] == 3
    metrics = json.loads((out / "metrics.json").read_text())
    assert len(metrics["history"]) == 3 and 0 < metrics["accuracy"]["mean"] <= 100
    printed = capsys.readouterr().out
    assert "linear-probe test accuracy" in printed

    rc = main(
        [
            "evaluate",
            "--checkpoint",
            str(out / "checkpoint.pt"),
            "--root",
            str(datasets_root),
            "--device",
            "cpu",
            "--json",
            str(tmp_path / "e.json"),
        ]
    )
    assert rc == 0
    again = json.loads((tmp_path / "e.json").read_text())
    assert abs(again["mean"] - metrics["accuracy"]["mean"]) < 1e-6


def test_pretrain_keeps_an_earlier_runs_checkpoint(tmp_path, datasets_root, capsys):
    """A second `pretrain --out` into a run folder continues it with --resume and is refused
    without (it would restart at epoch 1 and overwrite the checkpoint); repeated --set
    options all apply."""
    out = tmp_path / "run"
    args = ["pretrain", "--dataset", "Cora", "--root", str(datasets_root), "--device", "cpu"]
    args += ["--out", str(out), "--quiet", "--set", "model.hidden=8"]
    args += ["--set", "model.proj_hidden=8", "train.epochs=2"]
    assert main(args) == 0
    config = json.loads((out / "config.json").read_text())
    assert config["model"]["hidden"] == 8 and config["model"]["proj_hidden"] == 8
    before = (out / "checkpoint.pt").read_bytes()
    assert main(args) == 2
    assert "--resume" in capsys.readouterr().err
    assert (out / "checkpoint.pt").read_bytes() == before
    assert main(args + ["--resume"]) == 0  # finished: nothing more to train


def test_datasets_lists_presence(datasets_root, capsys):
    assert main(["datasets", "--root", str(datasets_root)]) == 0
    out = capsys.readouterr().out
    assert "Cora" in out and "present" in out and "PubMed" in out


def test_errors_are_reported_not_raised(tmp_path, capsys):
    rc = main(["pretrain", "--dataset", "Cora", "--root", str(tmp_path), "--quiet"])
    assert rc == 2
    assert "Cora" in capsys.readouterr().err
    rc = main(["pretrain", "--method", "nope", "--dataset", "csbm", "--quiet"])
    assert rc == 2
