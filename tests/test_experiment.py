"""Config files (one per method and dataset) and the learning-rate schedules."""

import json
import math
import os
import platform
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from graphssl.experiment import config_dir, list_presets, load_config, parse_overrides
from graphssl.methods import build_method
from graphssl.methods.registry import list_methods
from graphssl.train import lr_factor

CONFIGURED = [m for m in list_methods() if config_dir(m).is_dir()]
REPO = Path(__file__).resolve().parents[1]


def test_node_methods_of_the_table_have_configs():
    for method in ["dgi", "grace", "gca", "mvgrl", "bgrl", "gbt", "cca-ssg", "graphmae"]:
        assert method in CONFIGURED, f"{method} has no experiments/configs/{method}/"


def test_pubmed_configs_exist_for_the_public_split_methods():
    for method in ["dgi", "grace", "mvgrl", "bgrl", "cca-ssg", "graphmae"]:
        assert "pubmed" in list_presets(method), f"{method} has no PubMed config"
        assert load_config(method, "PubMed")["eval"]["split"] == "public"


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
    # a dataset without a file gets the method's defaults
    default = json.loads((config_dir("grace") / "default.json").read_text())
    mine = load_config("grace", "MyGraph")
    for section in ("model", "train", "eval"):
        assert default[section] and default[section].items() <= mine[section].items()


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


@pytest.mark.parametrize(
    "raw, value",
    [
        ("False", False),  # Python spelling: not the string "False", which reads as true
        ("TRUE", True),
        ("None", None),
        ("false", False),
        (".001", 0.001),  # not JSON, still a number
        ("1e-3", 0.001),
        ("10", 10),
        ("[0.2, 0.4]", [0.2, 0.4]),
        ("gcn", "gcn"),
        ('"10"', "10"),  # quoted: the text
    ],
)
def test_override_values(raw, value):
    from graphssl.experiment import override_value

    got = override_value(raw)
    assert got == value and type(got) is type(value)


def test_config_entries_nothing_reads_are_refused():
    """A misspelt key in a config file or a --set would otherwise change nothing."""
    from graphssl.experiment import check_config, merge_config

    cfg = load_config("grace", "Cora")
    check_config("grace", cfg)
    for typo, expected in [
        ({"model": {"taus": 0.3}}, "model.taus (did you mean 'tau'?)"),
        ({"train": {"epoch": 5}}, "train.epoch (did you mean 'epochs'?)"),
        ({"eval": {"num_split": 3}}, "eval.num_split (did you mean 'num_splits'"),
        ({"data": {"sparse": True}}, "data.sparse"),
        ({"trian": {"lr": 0.1}}, "section 'trian'"),
    ]:
        with pytest.raises(ValueError) as err:
            check_config("grace", merge_config(cfg, typo))
        assert expected in str(err.value)
    # an option of another method is not one of this method's
    with pytest.raises(ValueError, match="model.momentum"):
        check_config("grace", merge_config(cfg, {"model": {"momentum": 0.9}}))
    check_config("grace", merge_config(cfg, {"model": {"_why": "notes pass"}}))
    # and build_method refuses them too, for library users
    with pytest.raises(ValueError, match="grace does not take model.taus"):
        build_method("grace", 16, taus=0.3)


@pytest.mark.parametrize("method", CONFIGURED)
def test_every_shipped_config_entry_is_read(method):
    from graphssl.experiment import check_config

    for preset in [None, *list_presets(method)]:
        check_config(method, load_config(method, "unknown-dataset", preset))


def test_dataset_aliases_load_the_datasets_config():
    from graphssl.experiment import config_key, recorded_config

    for alias in ("CS", "cs", "Coauthor-CS", "CoauthorCS"):
        assert config_key(alias) == "cs"
        assert load_config("grace", alias) == load_config("grace", "CS")
    assert config_key("AmazonPhoto") == "photo" and config_key("MyGraph") == "mygraph"
    # the run folder's config.json records canonical names: `physics` resumes `Physics`
    recorded = recorded_config("GRACE", "coauthor-physics", 0, {"model": {}})
    assert (recorded["method"], recorded["dataset"]) == ("grace", "Physics")


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
    # a warm-up longer than the run (BGRL_Pytorch's fixed 1000 epochs, BGRL CiteSeer's 50)
    # never reaches the full rate
    cfg = load_config("bgrl", "CiteSeer")["train"]
    epochs, warmup = cfg["epochs"], cfg["warmup_epochs"]
    assert (epochs, warmup) == (50, 1000)
    ramp = [lr_factor("warmup_cosine", e, epochs, warmup) for e in range(epochs)]
    assert ramp == pytest.approx([(e + 1) / 1000 for e in range(50)]) and max(ramp) == 0.05
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


def test_resume_with_another_config_is_refused(tmp_path, datasets_root):
    from graphssl.experiment import run_pretraining

    small = {"model": {"hidden": 8, "proj_hidden": 8}, "train": {"epochs": 2}}
    kwargs = dict(root=str(datasets_root), device="cpu", progress=False, out=tmp_path, resume=True)
    first = run_pretraining("grace", "Cora", overrides=small, **kwargs)
    assert first["epochs"] == 2 and first["peak_rss_gib"] > 0
    # same config: resumes (nothing left to train) and gives the same embedding's accuracy
    again = run_pretraining("grace", "Cora", overrides=small, **kwargs)
    assert again["accuracy"]["mean"] == first["accuracy"]["mean"]
    other = {"model": {"hidden": 8, "proj_hidden": 8, "tau": 0.9}, "train": {"epochs": 2}}
    with pytest.raises(ValueError, match="another config"):
        run_pretraining("grace", "Cora", overrides=other, **kwargs)


def _node_classification_script(tmp_path, datasets_root):
    """``experiments/node_classification.py``'s ``main`` and the arguments of a one-seed
    GRACE Cora run writing under ``tmp_path``."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "experiments"))
    from node_classification import main

    args = ["--methods", "grace", "--datasets", "Cora", "--seeds", "0", "--device", "cpu"]
    args += ["--root", str(datasets_root), "--results", str(tmp_path / "results")]
    args += ["--runs-dir", str(tmp_path / "runs"), "--no-table"]
    return main, args


def test_node_classification_script_writes_and_skips(tmp_path, datasets_root, capsys):
    main, args = _node_classification_script(tmp_path, datasets_root)
    tiny = ["--set", "train.epochs=2", "model.hidden=8", "model.proj_hidden=8", "--tag", "tiny"]
    with pytest.raises(SystemExit):  # --set without --tag
        main(args + tiny[:-2])
    assert main(args + tiny) == 0
    written = json.loads((tmp_path / "results/grace/tiny/seed0.json").read_text())
    assert written["config"]["train"]["epochs"] == 2 and written["wall_seconds"] > 0
    assert 0 < written["median_seconds_per_epoch"] <= written["train_seconds"]
    assert (tmp_path / "runs/grace/tiny/seed0/checkpoint.pt").exists()
    assert main(args + tiny) == 0
    assert "skip" in capsys.readouterr().out
    # probing the saved embeddings again under the current eval config, without training
    assert main(args + tiny + ["--reprobe"]) == 0
    again = json.loads((tmp_path / "results/grace/tiny/seed0.json").read_text())
    assert again["reprobed"][0]["previous"]["accuracy"] == written["accuracy"]
    assert again["accuracy"]["mean"] == written["accuracy"]["mean"]  # same config, same probe
    assert again["wall_seconds"] == written["wall_seconds"]
    assert again["embedding_mean_cosine"] == pytest.approx(written["embedding_mean_cosine"])
    # a run pretrained with another config cannot be re-probed as this one
    with pytest.raises(SystemExit):
        main(args + ["--set", "train.epochs=3", "model.hidden=8", "model.proj_hidden=8"]
             + ["--tag", "tiny", "--reprobe"])  # fmt: skip
    # nor can a seed of another config join it: refused before any training
    longer = ["--set", "train.epochs=3", "model.hidden=8", "model.proj_hidden=8", "--tag", "tiny"]
    with pytest.raises(SystemExit, match="seed0.json \\(training config differs\\)"):
        main(args + longer + ["--seeds", "0", "1"])
    assert not (tmp_path / "results/grace/tiny/seed1.json").exists()
    capsys.readouterr()
    assert main(args + longer) == 0  # only seed 0, which exists: skipped, saying so
    assert "made with another training config than asked for" in capsys.readouterr().out


def test_node_classification_script_names_and_folders(tmp_path, datasets_root, capsys):
    """Names in any spelling are recorded canonically; one --tag cannot hold two datasets; a
    --results folder elsewhere leaves docs/results.md alone; --set may be repeated."""
    main, args = _node_classification_script(tmp_path, datasets_root)
    docs = os.path.getmtime(REPO / "docs" / "results.md")
    i = args.index("--datasets")
    spelled = args[: i + 1] + ["cora"] + args[i + 2 :]
    spelled[spelled.index("--methods") + 1] = "GRACE"
    assert "--no-table" in spelled
    spelled.remove("--no-table")
    tiny = ["--set", "train.epochs=2", "--set", "model.hidden=8", "model.proj_hidden=8"]
    assert main(spelled + tiny + ["--tag", "tiny"]) == 0
    written = json.loads((tmp_path / "results/grace/tiny/seed0.json").read_text())
    assert (written["method"], written["dataset"]) == ("grace", "Cora")
    assert written["config"]["train"]["epochs"] == 2 and written["config"]["model"]["hidden"] == 8
    assert os.path.getmtime(REPO / "docs" / "results.md") == docs
    assert "docs/results.md not regenerated" in capsys.readouterr().out
    two = args[: i + 1] + ["Cora", "CiteSeer"] + args[i + 2 :]
    with pytest.raises(SystemExit):
        main(two + tiny + ["--tag", "tiny2"])
    with pytest.raises(SystemExit):  # a typo is refused before anything trains
        main(args + ["--set", "train.epoch=2", "--tag", "typo"])
    assert not (tmp_path / "runs/grace/typo").exists()


def test_node_classification_script_refuses_stale_checkpoints_before_training(
    tmp_path, datasets_root
):
    """A seed whose run folder holds another config's checkpoint stops the script before any
    seed trains, not when its turn comes."""
    main, args = _node_classification_script(tmp_path, datasets_root)
    tiny = ["--set", "train.epochs=2", "model.hidden=8", "model.proj_hidden=8", "--tag", "tiny"]
    assert main(args + tiny) == 0
    (tmp_path / "results/grace/tiny/seed0.json").unlink()  # seed 0 pending, checkpoint kept
    other = args[:5] + ["1", "0"] + args[6:]  # --seeds 1 0: seed 1 would train first
    with pytest.raises(SystemExit, match="another config") as err:
        main(other + tiny[:-2] + ["model.tau=0.9", "--tag", "tiny"])
    assert "grace/tiny/seed0" in str(err.value)
    assert not (tmp_path / "runs/grace/tiny/seed1").exists()
    assert main(args + tiny) == 0  # the same config still resumes it


def test_results_page_is_generated_from_results_files(tmp_path):
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "experiments"))
    from results_table import write_results_page

    def result(
        method, dataset, folder, seed, acc, rss, epochs=None, gpu=None, cosine=None, **extra
    ):
        path = tmp_path / "results" / method / folder / f"seed{seed}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        record = {
            "method": method,
            "dataset": dataset,
            "seed": seed,
            "device": "cpu",
            "config": {"eval": {"split": "random"}, "train": {"epochs": epochs}},
            "accuracy": {"mean": acc, "num_runs": 20},
            "probe": {"scalings": ["raw"], "early_stopping": True},
            "seconds_per_epoch": 1.5,
            "wall_seconds": 90.0,
            "peak_rss_gib": rss,
            "environment": {"git_commit": "abc1234"},
        }
        if cosine is not None:  # results files from before the collapse check have none
            record["embedding_mean_cosine"] = cosine
        if gpu is not None:
            record.update(device="cuda", seconds_per_epoch=0.02, wall_seconds=30.0)
            record["environment"]["cuda_device"] = gpu
        record.update(extra)
        path.write_text(json.dumps(record))

    result("graphmae", "CiteSeer", "citeseer", 0, 73.0, 1.0)
    result("graphmae", "CiteSeer", "citeseer", 1, 72.0, 1.5)
    result("grace", "Physics", "physics_50ep", 0, 94.5, 7.25, train_seconds=60.0)
    result("bgrl", "CiteSeer", "citeseer_untrained", 0, 71.0, 1.0, epochs=0)
    # resumed before files recorded it: its wall time (90 s) covers only the last process
    result("bgrl", "Cora", "cora_gcn", 0, 81.0, 1.0, epochs=100, train_seconds=200.0)
    result("gbt", "CS", "cs", 0, 93.0, 3.0, gpu="GPU X")
    result("gbt", "CS", "cs", 1, 92.0, 1.0, gpu="GPU X", cosine=0.9999)
    result("gbt", "CS", "cs", 2, 93.0, 1.0, cosine=0.4)
    result("gca", "Photo", "photo", 0, 88.0, 1.0, epochs=10)
    result("gca", "Photo", "photo_lr0.001_prelu", 0, 92.3, 1.0, epochs=10)
    result("gca", "Photo", "photo_untrained", 0, 85.0, 1.0, epochs=0)
    result("dgi", "Cora", "cora", 0, 80.0, 1.0, epochs=10, final_loss=1.25, cosine=0.3)
    result("mvgrl", "Cora", "cora", 0, 83.0, 1.0, epochs=10, median_seconds_per_epoch=0.5)
    halves = {"scalings": ["l2"], "solver": "lbfgs", "cv": "halves"}
    result("bgrl", "Photo", "photo_bgrl_eval", 0, 93.5, 1.0, epochs=10, probe=halves)
    protocols = {"command": "python experiments/probe_protocols.py", "runs": []}
    for seed, (ours, theirs) in enumerate([(89.5, 90.0), (89.0, 89.7)]):
        protocols["runs"].append(
            {"method": "bgrl", "dataset": "Computers", "seed": seed}
            | {"reprobed": {"mean": ours}, "bgrl": {"mean": theirs}}
        )
    (tmp_path / "protocols").mkdir()
    (tmp_path / "protocols" / "bgrl_eval.json").write_text(json.dumps(protocols))
    out = tmp_path / "results.md"
    write_results_page(tmp_path / "results", out)
    text = out.read_text()
    row = next(line for line in text.splitlines() if "| graphmae | CiteSeer |" in line)
    cells = [c.strip() for c in row.split("|")[1:-1]]
    assert cells[4] == "**72.50 ± 0.50**" and cells[5] == "2"  # mean ± std over seeds
    assert cells[8] == "73.4" and cells[9] == "-0.90" and cells[10] == "yes"
    assert "best-val step" in cells[7] and cells[13] == "1.5"  # probe, peak RSS
    physics = next(line for line in text.splitlines() if "| grace | Physics |" in line)
    assert "| 95.0 | -0.50 | **no** |" in physics and "| 7.2 |" in physics
    assert "72.50 / 73.4 (2 of 5 seeds)" in text  # the matrix cell
    assert "**94.50 ± –** | 1 |" in physics  # one seed: no spread to show
    # a variant folder is held to its dataset's published number; an untrained encoder is
    # shown beside it as a reference, never as a reproduction
    variant = next(line for line in text.splitlines() if "| `cora_gcn` |" in line)
    assert "| 82.7 | -1.70 | **no** |" in variant
    assert variant.split("|")[13].strip() == "–"  # its wall time is not known
    assert physics.split("|")[13].strip() == "90"
    untrained = next(line for line in text.splitlines() if "| `citeseer_untrained` |" in line)
    assert "| 71.1 | -0.10 | untrained (reference) |" in untrained
    assert "not run yet / 71.1" in text  # it does not fill the cell
    # a cell whose own config has not run, but a variant has, says so and lists the variant
    assert "not run yet / 82.7 (variants run: see below)" in text
    not_run = next(line for line in text.splitlines() if line.startswith("- bgrl / cora: "))
    assert "variants run: `cora_gcn`: 81.00 (not within 1.0; seeds: 1)" in not_run
    # the number it is held to is listed with its source, though its own config has not run
    assert "- bgrl / cora: 82.7 — GraphMAE README, public split" in text
    # seeds trained on different devices: timings per device, never pooled
    mixed = next(line for line in text.splitlines() if "| gbt | CS |" in line)
    assert "| 0.020 / 1.500 | 30 / 90 | 3.0 | GPU X ×2 / cpu ×1 |" in mixed
    assert "| 3 (1 collapsed) |" in mixed  # a seed whose embeddings collapsed is counted
    assert "**72.50 ± 0.50** | 2 |" in row
    # a cell below the bar says what is known of why, and lists its variants' numbers
    listed = [line for line in text.splitlines() if line.startswith("- ") and " ✗: " in line]
    below = {line.split(" ✗")[0]: line for line in listed}
    assert set(below) == {"- dgi / cora", "- gca / photo"}
    assert "one seed fell far below the others" in below["- gca / photo"]
    # with each seed's numbers from its file
    assert below["- gca / photo"].endswith(
        ". Per seed: seed 0: 88.00; tried: `photo_lr0.001_prelu`: 92.30 (within 1.0; seeds: 1)."
    )
    assert below["- dgi / cora"].endswith(
        ": no diagnosis recorded yet. Per seed: seed 0: 80.00 (final loss 1.25, mean cosine "
        "0.30); no variant tried yet."
    )
    # the cells with no results are listed with their configs' epoch counts
    assert "- bgrl / citeseer: 50 epochs (`experiments/configs/bgrl/citeseer.json`)" in text
    assert "- bgrl / photo: 10000 epochs" in text and "graphmae / citeseer: 300 epochs" not in text
    # s/epoch: a run's median epoch time where its file has one (a pause does not move it)
    assert "| 0.500 |" in next(line for line in text.splitlines() if "| mvgrl | Cora |" in line)
    bgrl_eval = next(line for line in text.splitlines() if "| `photo_bgrl_eval` |" in line)
    assert "| l2 + wd on random halves of train, refit, L-BFGS |" in bgrl_eval
    # the probe-protocol check, from experiments/probe_protocols.py's file
    assert "| bgrl | Computers | 1 | 89.00 | 89.70 | +0.70 |" in text
    assert "over these\n2 runs BGRL's evaluation gives +0.60 points on average" in text
    # one results folder, one config: seeds trained or probed otherwise are refused
    result("dgi", "Cora", "cora", 1, 81.0, 1.0, epochs=20)
    with pytest.raises(ValueError, match="another training config"):
        write_results_page(tmp_path / "results", out)


def test_resume_for_more_epochs_continues_the_run(tmp_path, datasets_root):
    """A run with a constant learning rate extended from 2 to 3 epochs is the 3-epoch run."""
    import json

    from graphssl.experiment import run_pretraining

    def small(epochs):
        return {"model": {"hidden": 8, "proj_hidden": 8}, "train": {"epochs": epochs}}

    kwargs = dict(root=str(datasets_root), device="cpu", progress=False, resume=True)
    run_pretraining("grace", "Cora", overrides=small(2), out=tmp_path / "a", **kwargs)
    extended = run_pretraining("grace", "Cora", overrides=small(3), out=tmp_path / "a", **kwargs)
    fresh = run_pretraining("grace", "Cora", overrides=small(3), out=tmp_path / "b", **kwargs)
    assert extended["epochs"] == 3 and extended["final_loss"] == fresh["final_loss"]
    assert extended["accuracy"]["mean"] == fresh["accuracy"]["mean"]
    history = json.loads((tmp_path / "a" / "metrics.json").read_text())["history"]
    assert [h["epoch"] for h in history] == [1, 2, 3]
    assert extended["resumed_from_epoch"] == 2 and fresh["resumed_from_epoch"] == 0
    # the wall time of a resumed run counts the epochs trained before the resume
    checkpoint = tmp_path / "a" / "checkpoint.pt"
    state = torch.load(checkpoint, weights_only=True)
    for record in state["history"]:
        record["time"] = 1000.0
    torch.save(state, checkpoint)
    longer = run_pretraining("grace", "Cora", overrides=small(4), out=tmp_path / "a", **kwargs)
    assert longer["resumed_from_epoch"] == 3
    assert 3000.0 < longer["wall_seconds"] < 3000.0 + fresh["wall_seconds"] + 60
    with pytest.raises(ValueError, match="another config"):  # fewer epochs than were run
        run_pretraining("grace", "Cora", overrides=small(2), out=tmp_path / "a", **kwargs)


def test_resume_for_more_epochs_is_refused_when_a_schedule_depends_on_them():
    from graphssl.experiment import continues_run
    from graphssl.methods import build_method

    def cfg(epochs, **train):
        return {"model": {"hidden": 8}, "train": {"epochs": epochs, "lr": 0.01, **train}}

    grace = build_method("grace", 5, hidden=8, proj_hidden=8, total_steps=3)
    bgrl = build_method("bgrl", 5, hidden=8, out=8, pred_hidden=8, total_steps=3)
    assert continues_run(cfg(2), cfg(3, checkpoint_every=1), grace)
    assert continues_run(cfg(3), cfg(3, checkpoint_every_seconds=5), bgrl)  # bookkeeping only
    assert not continues_run(cfg(2), cfg(3), bgrl)  # cosine EMA over the total steps
    assert not continues_run(cfg(2, schedule="cosine"), cfg(3, schedule="cosine"), grace)
    assert not continues_run(cfg(2), {**cfg(3), "model": {"hidden": 16}}, grace)
    # fewer epochs: only from a checkpoint that has not gone past them
    assert continues_run(cfg(4), cfg(2), grace, trained_epochs=2)
    assert not continues_run(cfg(4), cfg(2), grace, trained_epochs=3)
    assert not continues_run(cfg(4), cfg(2), grace)  # checkpoint epoch unknown
    assert not continues_run(cfg(4), cfg(2), bgrl, trained_epochs=2)


def test_a_longer_run_stopped_at_its_checkpoint_is_the_shorter_run(tmp_path, datasets_root):
    """The checkpoint at epoch 2 of a run asked to go for 4 epochs, finished as a 2-epoch
    run, gives the fresh 2-epoch run's numbers."""
    import json

    from graphssl.experiment import run_pretraining

    def small(epochs):
        return {"model": {"hidden": 8, "proj_hidden": 8}, "train": {"epochs": epochs}}

    kwargs = dict(root=str(datasets_root), device="cpu", progress=False, resume=True)
    fresh = run_pretraining("grace", "Cora", overrides=small(2), out=tmp_path / "a", **kwargs)
    # the folder now looks like a 4-epoch run interrupted after its epoch-2 checkpoint
    config = json.loads((tmp_path / "a" / "config.json").read_text())
    config["train"]["epochs"] = 4
    (tmp_path / "a" / "config.json").write_text(json.dumps(config))
    stopped = run_pretraining("grace", "Cora", overrides=small(2), out=tmp_path / "a", **kwargs)
    assert stopped["epochs"] == 2 and stopped["final_loss"] == fresh["final_loss"]
    assert stopped["accuracy"]["mean"] == fresh["accuracy"]["mean"]


def test_node_classification_script_continues_a_shorter_run(tmp_path, datasets_root):
    main, args = _node_classification_script(tmp_path, datasets_root)
    small = ["model.hidden=8", "model.proj_hidden=8"]
    assert main(args + ["--set", "train.epochs=2", *small, "--tag", "two"]) == 0
    with pytest.raises(SystemExit):  # nothing to continue from
        main(args + ["--set", "train.epochs=3", *small, "--tag", "x", "--continue-from", "nope"])
    cont = ["--set", "train.epochs=3", *small, "--tag", "three", "--continue-from", "two"]
    assert main(args + cont) == 0
    three = json.loads((tmp_path / "results/grace/three/seed0.json").read_text())
    metrics = json.loads((tmp_path / "runs/grace/three/seed0/metrics.json").read_text())
    two = json.loads((tmp_path / "runs/grace/two/seed0/metrics.json").read_text())
    assert three["epochs"] == 3 and metrics["history"][:2] == two["history"]
    with pytest.raises(SystemExit):  # another model config is not a continuation
        main(args + ["--set", "train.epochs=3", "model.hidden=16", "model.proj_hidden=8"]
             + ["--tag", "other", "--continue-from", "two"])  # fmt: skip
    assert not (tmp_path / "runs/grace/other/seed0/checkpoint.pt").exists()
    # fewer epochs than the checkpoint has trained: refused, and nothing copied is left behind
    with pytest.raises(SystemExit, match="another config"):
        main(
            args + ["--set", "train.epochs=2", *small, "--tag", "back", "--continue-from", "three"]
        )
    assert not (tmp_path / "runs/grace/back/seed0/checkpoint.pt").exists()
    # ... and found before any training when the run folder is the command's own
    (tmp_path / "results/grace/three/seed0.json").unlink()
    with pytest.raises(SystemExit, match="checkpoints made with another config"):
        main(args + ["--set", "train.epochs=2", *small, "--tag", "three"])
    # a checkpoint at epoch 2 of a 4-epoch run is not stale for a 2-epoch run: it finishes
    config = json.loads((tmp_path / "runs/grace/two/seed0/config.json").read_text())
    config["train"]["epochs"] = 4
    (tmp_path / "runs/grace/two/seed0/config.json").write_text(json.dumps(config))
    (tmp_path / "results/grace/two/seed0.json").unlink()
    assert main(args + ["--set", "train.epochs=2", *small, "--tag", "two"]) == 0
    assert json.loads((tmp_path / "results/grace/two/seed0.json").read_text())["epochs"] == 2


def test_probe_device_is_checked_before_training_and_recorded(tmp_path, datasets_root):
    """An unusable ``probe_device`` is refused before any epoch runs (no checkpoint is
    written); with CUDA, a CUDA run probed on the CPU records where its probe ran."""
    from graphssl.experiment import run_pretraining

    small = {"model": {"hidden": 8, "proj_hidden": 8}, "train": {"epochs": 2}}
    kwargs = dict(root=str(datasets_root), progress=False, overrides=small)
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA is not available"):
            run_pretraining(
                "grace",
                "Cora",
                device="cpu",
                probe_device="cuda",
                out=tmp_path,
                resume=True,
                **kwargs,
            )
        assert not (tmp_path / "checkpoint.pt").exists()
        same = run_pretraining("grace", "Cora", device="cpu", probe_device="cpu", **kwargs)
        assert "device" not in same["probe"] and same["accuracy"]["mean"] > 20  # chance: 14
        return
    result = run_pretraining("grace", "Cora", device="cuda", probe_device="cpu", **kwargs)
    assert result["device"] == "cuda" and result["probe"]["device"] == "cpu"


_FAULTS_PER_ALLOCATION = """
import resource, sys
import torch
from graphssl.experiment import environment, reuse_freed_memory
assert environment()["reuse_freed_memory"] is False
if sys.argv[1] == "reuse":
    assert reuse_freed_memory()
    assert environment()["reuse_freed_memory"] is True  # results files record it
def touch():  # a fresh 64 MiB block, written through: above glibc's largest mmap threshold
    torch.empty(16 * 2**20).fill_(1.0)
for _ in range(3):  # the heap settles
    touch()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(10):
    touch()
print((resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / 10)
"""


@pytest.mark.skipif(
    not sys.platform.startswith("linux") or platform.libc_ver()[0] != "glibc",
    reason="mallopt is glibc's",
)
def test_reuse_freed_memory_stops_page_faults_on_large_blocks():
    def faults(mode: str) -> float:
        out = subprocess.run(
            [sys.executable, "-c", _FAULTS_PER_ALLOCATION, mode],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "THP_MEM_ALLOC_ENABLE": "0"},
        )
        return float(out.stdout.split()[-1])

    default, reused = faults("default"), faults("reuse")
    assert default > 1000  # each 64 MiB block mapped afresh: thousands of 4 KiB pages
    assert reused < 0.05 * default


@pytest.mark.parametrize(
    "bad_eval, message",
    [
        ({"split": "randm"}, "split kind"),
        ({"scalings": ["l3"]}, "feature scaling"),
        ({"solver": "sgd"}, "solver"),
        ({"cv": "loo"}, "cross-validation scheme"),
        ({"num_splits": 0}, "num_splits"),
    ],
)
def test_a_bad_eval_section_fails_before_the_pretraining(
    tmp_path, datasets_root, monkeypatch, bad_eval, message
):
    """The probe's options are checked before any epoch: a typo in eval must not cost the
    training it would be read after."""
    import graphssl.experiment as experiment

    def no_training(*args, **kwargs):
        raise AssertionError("pretrain ran before the eval section was checked")

    monkeypatch.setattr(experiment, "pretrain", no_training)
    with pytest.raises(ValueError, match=message):
        experiment.run_pretraining(
            "grace", "Cora", root=str(datasets_root), progress=False, overrides={"eval": bad_eval}
        )


def test_split_seed_gives_every_run_the_same_splits(datasets_root):
    from graphssl.data import load_dataset
    from graphssl.experiment import probe_splits

    ds = load_dataset("Cora", str(datasets_root))
    own = {"split": "random", "num_splits": 2}
    fixed = {**own, "split_seed": 1}
    a, b = probe_splits(ds, fixed, seed=0), probe_splits(ds, fixed, seed=3)
    assert all(torch.equal(s.train, t.train) for s, t in zip(a, b))
    assert torch.equal(a[0].test, probe_splits(ds, own, seed=1)[0].test)
    assert not torch.equal(probe_splits(ds, own, seed=0)[0].train, a[0].train)


def test_probe_protocols_script_reprobes_saved_embeddings(tmp_path, datasets_root, capsys):
    """``experiments/probe_protocols.py`` checks that re-probing a run's saved embeddings
    under its recorded eval config gives back its recorded accuracy, then probes them under
    BGRL's protocol (20/80 splits from one seed, C over 5 random halves, refit)."""
    sys.path.insert(0, str(REPO / "experiments"))
    from probe_protocols import main

    from graphssl.data import load_dataset
    from graphssl.experiment import probe_embeddings

    ds = load_dataset("Cora", str(datasets_root))
    g = torch.Generator().manual_seed(0)
    z = ds[0].x @ torch.randn(ds[0].x.size(1), 16, generator=g)  # some signal, 16 columns
    eval_cfg = {"split": "random", "num_splits": 2, "scalings": ["l2"], "solver": "lbfgs"}
    probe, _ = probe_embeddings(ds, z, eval_cfg, seed=0)
    run_dir = tmp_path / "runs/bgrl/cora/seed0"
    run_dir.mkdir(parents=True)
    torch.save(z, run_dir / "embeddings.pt")
    result = {"dataset": "Cora", "seed": 0, "config": {"eval": eval_cfg}}
    result |= {"accuracy": probe.to_dict(), "environment": {"git_commit": "abc"}}
    results = tmp_path / "results"
    (results / "bgrl/cora").mkdir(parents=True)
    (results / "bgrl/cora/seed0.json").write_text(json.dumps(result))
    out = tmp_path / "bgrl_eval.json"
    args = ["--root", str(datasets_root), "--results", str(results), "--out", str(out)]
    args += ["--runs-dir", str(tmp_path / "runs"), "--cells", "bgrl/cora"]
    assert main(args) == 0
    (entry,) = json.loads(out.read_text())["runs"]
    assert entry["reprobed"]["mean"] == pytest.approx(probe.mean)
    assert entry["bgrl"]["num_runs"] == 2 and entry["bgrl_eval"]["cv"] == "halves"
    assert entry["bgrl_eval"]["split"] == "random:0.2:0" and entry["seed"] == 0
    assert main(args) == 0 and "skip" in capsys.readouterr().out  # kept, not redone
    result["accuracy"]["mean"] += 1.0  # embeddings that are not this file's
    result["environment"]["git_commit"] = "def"
    (results / "bgrl/cora/seed0.json").write_text(json.dumps(result))
    with pytest.raises(SystemExit, match="not the recorded"):
        main(args)
