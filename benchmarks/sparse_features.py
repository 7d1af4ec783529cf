"""Seconds per epoch of graphssl's pretraining with dense and with sparse CSR node features.

Bag-of-words features are mostly zeros (Coauthor-CS 0.9 %, Coauthor-Physics 0.4 %); with
``data.sparse_features`` the views' column masks and the encoder's first linear map work on
the stored entries only (:func:`graphssl.experiment.use_sparse_features`). Each (method,
dataset) is built from its published config and trained with :func:`graphssl.train.pretrain`
for ``--warmup + --epochs`` epochs, once with the dense ``x`` and once with ``x`` in
``torch.sparse_csr`` form, from the same initial weights and the same views (same seed), the
two sides alternating ``--rounds`` times. Printed: median s/epoch of each side, the ratio
sparse / dense (below 1: sparse is faster), and the loss after the last epoch of each side (equal
up to float rounding). Written: ``benchmarks/results/sparse_features_<device>.json``.

    .venv/bin/python benchmarks/sparse_features.py --runs bgrl:CS grace:CS grace:Physics \\
        --epochs 3 --warmup 1 --root ../shared/datasets --device cpu
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import torch
import torch_geometric.transforms as T

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from grace_epoch import machine_info  # noqa: E402
from mixed_precision import summarize_sides, time_side  # noqa: E402

from graphssl.data import load_dataset  # noqa: E402
from graphssl.experiment import load_config, use_sparse_features  # noqa: E402
from graphssl.methods import build_method  # noqa: E402
from graphssl.train import resolve_device  # noqa: E402


def run(spec: str, args: argparse.Namespace, device, scratch: str) -> dict:
    method, dataset = spec.split(":")
    cfg = load_config(method, dataset)
    transform = T.NormalizeFeatures() if cfg["data"].get("normalize_features") else None
    ds = load_dataset(dataset, args.root, cache_dir=scratch, transform=transform)
    torch.manual_seed(0)
    total = args.warmup + args.epochs
    model = build_method(method, ds.num_features, **{"total_steps": total, **cfg["model"]})
    dense = ds[0]
    sparse_cfg = {**cfg, "data": {**cfg["data"], "sparse_features": True}}
    sparse = use_sparse_features(dense, sparse_cfg, model)
    density = sparse.x.values().numel() / dense.x.numel()
    sides: dict[str, list[dict]] = {"dense": [], "sparse": []}
    for _ in range(args.rounds):
        for name, data in (("dense", dense), ("sparse", sparse)):
            sides[name].append(time_side(model, data, cfg["train"], total, False, device))
    out = {"method": method, "dataset": dataset, "density": density, "config": cfg}
    out.update(summarize_sides(sides, args.warmup))
    out["ratio"] = out["sparse"]["median_s"] / out["dense"]["median_s"]
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--runs", nargs="+", default=["bgrl:CS", "grace:CS", "grace:Physics"])
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
    with tempfile.TemporaryDirectory(prefix="sparse_features_") as scratch:
        for spec in args.runs:
            row = run(spec, args, device, scratch)
            rows.append(row)
            dense, sparse = row["dense"], row["sparse"]
            print(
                f"{row['method']:>9} {row['dataset']:<10} density {row['density']:.4f}  "
                f"dense {dense['median_s']:.3f} s/epoch  sparse {sparse['median_s']:.3f} s/epoch  "
                f"ratio {row['ratio']:.2f}  last loss {dense['loss_last'][-1]:.5f} / "
                f"{sparse['loss_last'][-1]:.5f}",
                flush=True,
            )
    result = {
        "benchmark": "sparse_features",
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": machine_info(device, torch.get_num_threads()),
        "args": vars(args),
        "wall_s": time.perf_counter() - t0,
        "results": rows,
    }
    out = Path(args.out or HERE / "results" / f"sparse_features_{device.type}.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1, default=str))
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
