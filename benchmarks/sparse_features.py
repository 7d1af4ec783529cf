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
import sys
from pathlib import Path

import torch
import torch_geometric.transforms as T

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from mixed_precision import compare_main, summarize_sides, time_side  # noqa: E402

from graphssl.data import load_dataset  # noqa: E402
from graphssl.experiment import load_config, use_sparse_features  # noqa: E402
from graphssl.methods import build_method  # noqa: E402


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


def describe(row: dict) -> str:
    dense, sparse = row["dense"], row["sparse"]
    return (
        f"{row['method']:>9} {row['dataset']:<10} density {row['density']:.4f}  "
        f"dense {dense['median_s']:.3f} s/epoch  sparse {sparse['median_s']:.3f} s/epoch  "
        f"ratio {row['ratio']:.2f}  last loss {dense['loss_last'][-1]:.5f} / "
        f"{sparse['loss_last'][-1]:.5f}"
    )


def main(argv: list[str] | None = None) -> int:
    default_runs = ["bgrl:CS", "grace:CS", "grace:Physics"]
    return compare_main("sparse_features", __doc__, default_runs, run, describe, argv)


if __name__ == "__main__":
    raise SystemExit(main())
