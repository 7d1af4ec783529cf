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

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from mixed_precision import (  # noqa: E402
    build_run,
    compare_main,
    describe_sides,
    summarize_sides,
    time_side,
)

from graphssl.experiment import use_sparse_features  # noqa: E402


def run(spec: str, args: argparse.Namespace, device, scratch: str) -> dict:
    total = args.warmup + args.epochs
    method, dataset, cfg, ds, model = build_run(spec, args.root, scratch, total)
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
    return describe_sides(row, "dense", "sparse", info=f"density {row['density']:.4f}  ")


def main(argv: list[str] | None = None) -> int:
    default_runs = ["bgrl:CS", "grace:CS", "grace:Physics"]
    return compare_main("sparse_features", __doc__, default_runs, run, describe, argv)


if __name__ == "__main__":
    raise SystemExit(main())
