"""Seconds per epoch of graphssl's pretraining in float32 and in bfloat16 mixed precision.

Each (method, dataset) is built from its published config (``graphssl/configs``) and trained
with :func:`graphssl.train.pretrain` for ``--warmup + --epochs`` epochs, once with
``amp=False`` and once with ``amp=True``, from the same initial weights, the two sides
alternating ``--rounds`` times; the per-epoch times come from pretrain's history. Where the
config sets ``data.sparse_features`` (Coauthor-CS and Physics) both sides take the sparse
features, and under amp the GCN layer on them runs in float32. Printed:
median s/epoch of each side and the ratio amp / float32 (below 1: mixed precision is faster),
with the loss after the last epoch of each side as a check that both train alike. Written:
``benchmarks/results/mixed_precision_<device>.json`` (machine, arguments, every epoch's time).

    .venv/bin/python benchmarks/mixed_precision.py --runs bgrl:CiteSeer grace:Photo \\
        --epochs 3 --warmup 1 --root ../shared/datasets --device cpu
"""

from __future__ import annotations

import argparse
import copy
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import torch
import torch_geometric.transforms as T

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from grace_epoch import machine_info  # noqa: E402

from graphssl.data import load_dataset  # noqa: E402
from graphssl.experiment import load_config, use_sparse_features  # noqa: E402
from graphssl.methods import build_method  # noqa: E402
from graphssl.train import pretrain, resolve_device  # noqa: E402


def time_side(model, data, train_cfg: dict, epochs: int, amp: bool, device) -> dict:
    """Trains a copy of ``model`` for ``epochs`` epochs and returns its per-epoch times."""
    history = pretrain(
        copy.deepcopy(model),
        data,
        epochs=epochs,
        lr=train_cfg["lr"],
        weight_decay=train_cfg.get("weight_decay", 0.0),
        optimizer=train_cfg.get("optimizer", "adam"),
        device=device,
        seed=0,
        progress=False,
        amp=amp,
    )
    return {"times_s": [h["time"] for h in history], "loss_last": history[-1]["loss"]}


def build_run(spec: str, root: str | None, cache_dir: str | None, total_steps: int):
    """``(method, dataset, cfg, ds, model)`` of ``method:dataset`` from its published config,
    the model's initial weights drawn under seed 0."""
    method, dataset = spec.split(":")
    cfg = load_config(method, dataset)
    transform = T.NormalizeFeatures() if cfg["data"].get("normalize_features") else None
    ds = load_dataset(dataset, root, cache_dir=cache_dir, transform=transform)
    torch.manual_seed(0)
    model = build_method(method, ds.num_features, **{"total_steps": total_steps, **cfg["model"]})
    return method, dataset, cfg, ds, model


def run(spec: str, args: argparse.Namespace, device, scratch: str) -> dict:
    total = args.warmup + args.epochs
    method, dataset, cfg, ds, model = build_run(spec, args.root, scratch, total)
    data = use_sparse_features(ds[0], cfg, model)  # both sides, where the config sets it
    sides: dict[str, list[dict]] = {"float32": [], "amp": []}
    for _ in range(args.rounds):
        for name, amp in (("float32", False), ("amp", True)):
            sides[name].append(time_side(model, data, cfg["train"], total, amp, device))
    sparse = data.x.layout != torch.strided
    out = {"method": method, "dataset": dataset, "sparse_features": sparse, "config": cfg}
    out.update(summarize_sides(sides, args.warmup))
    out["ratio"] = out["amp"]["median_s"] / out["float32"]["median_s"]
    return out


def summarize_sides(sides: dict[str, list[dict]], warmup: int) -> dict[str, dict]:
    """Per side: median / min / max s/epoch over every round's epochs after ``warmup``, the
    last loss of each round, and the rounds' raw :func:`time_side` records."""
    out = {}
    for name, runs in sides.items():
        timed = [t for r in runs for t in r["times_s"][warmup:]]
        out[name] = {
            "median_s": statistics.median(timed),
            "min_s": min(timed),
            "max_s": max(timed),
            "loss_last": [r["loss_last"] for r in runs],
            "runs": runs,
        }
    return out


def compare_main(
    benchmark: str,
    doc: str,
    default_runs: list[str],
    run_spec: Callable[[str, argparse.Namespace, torch.device, str], dict],
    describe: Callable[[dict], str],
    argv: list[str] | None = None,
) -> int:
    """The command line of a two-sided per-epoch benchmark (this one, ``sparse_features.py``):
    parses ``--runs`` and the timing options, runs ``run_spec`` per ``method:dataset`` with a
    scratch dataset cache, prints ``describe(row)`` per row and writes
    ``results/<benchmark>_<device>.json`` (or ``--out``) with the machine and every row."""
    p = argparse.ArgumentParser(description=doc.split("\n")[0])
    p.add_argument("--runs", nargs="+", default=default_runs)
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--warmup", type=int, default=1)
    p.add_argument("--rounds", type=int, default=1)
    p.add_argument("--root", default=None, help="data root (default: $GRAPHSSL_DATA)")
    p.add_argument("--device", default="auto")
    p.add_argument("--out", default=None)
    args = p.parse_args(argv)
    if args.epochs < 1 or args.rounds < 1 or args.warmup < 0:
        p.error("--epochs and --rounds must be >= 1, --warmup >= 0")
    device = resolve_device(args.device)
    t0 = time.perf_counter()
    rows = []
    with tempfile.TemporaryDirectory(prefix=f"{benchmark}_") as scratch:
        for spec in args.runs:
            row = run_spec(spec, args, device, scratch)
            rows.append(row)
            print(describe(row), flush=True)
    result = {
        "benchmark": benchmark,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": machine_info(device, torch.get_num_threads()),
        "args": vars(args),
        "wall_s": time.perf_counter() - t0,
        "results": rows,
    }
    out = Path(args.out or HERE / "results" / f"{benchmark}_{device.type}.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1, default=str))
    print(f"wrote {out}")
    return 0


def describe_sides(
    row: dict,
    first: str,
    second: str,
    info: str = "",
    side_info: Callable[[dict], str] = lambda side: "",
) -> str:
    """The printed line of a two-sided row: each side's median s/epoch (with ``side_info`` of
    it), the ratio ``second`` / ``first`` and each side's last loss."""
    a, b = row[first], row[second]
    return (
        f"{row['method']:>9} {row['dataset']:<10} {info}{first} {a['median_s']:.3f} s/epoch"
        f"{side_info(a)}  {second} {b['median_s']:.3f} s/epoch{side_info(b)}  "
        f"ratio {row['ratio']:.2f}  last loss {a['loss_last'][-1]:.5f} / {b['loss_last'][-1]:.5f}"
    )


def describe(row: dict) -> str:
    info = "sparse x  " if row.get("sparse_features") else ""
    return describe_sides(row, "float32", "amp", info=info)


def main(argv: list[str] | None = None) -> int:
    default_runs = ["bgrl:CiteSeer", "grace:Photo", "gbt:Photo", "bgrl:CS"]
    return compare_main("mixed_precision", __doc__, default_runs, run, describe, argv)


if __name__ == "__main__":
    raise SystemExit(main())
