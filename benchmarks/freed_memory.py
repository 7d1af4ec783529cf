"""Seconds per epoch of graphssl's pretraining with glibc's default allocator settings and
with :func:`graphssl.experiment.reuse_freed_memory`.

glibc maps every block of more than 32 MiB afresh and unmaps it when freed, so on graphs of
more than 16,384 nodes each ``[N, 512]`` float tensor costs its page faults again at every
allocation; ``reuse_freed_memory`` keeps such blocks in the heap for reuse. The setting is
process-wide and cannot be undone, so each side of each round trains in a process of its own
(this script, run with ``--side``), the two sides alternating ``--rounds`` times; each builds
the (method, dataset) from its published config (sparse features where the config asks),
with the same initial weights and seed, and trains it with :func:`graphssl.train.pretrain`
for ``--warmup + --epochs`` epochs, with ``THP_MEM_ALLOC_ENABLE=1`` as the experiments run.
Printed: median s/epoch of each side, the ratio reuse / default (below 1: reusing is faster),
the peak RSS of each side and the loss after the last epoch (equal: the arithmetic is the
same). Written: ``benchmarks/results/freed_memory_<device>.json``.

    .venv/bin/python benchmarks/freed_memory.py --runs bgrl:CS bgrl:Computers \\
        --epochs 5 --warmup 2 --rounds 2 --root ../shared/datasets --device cpu
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
SIDES = ("default", "reuse")


def run(spec: str, args: argparse.Namespace, device, scratch: str) -> dict:
    """Both sides of one ``method:dataset``, each round's sides in processes of their own."""
    from mixed_precision import summarize_sides

    from graphssl.experiment import load_config

    method, dataset = spec.split(":")
    sides: dict[str, list[dict]] = {side: [] for side in SIDES}
    for _ in range(args.rounds):
        for side in SIDES:
            sides[side].append(_run_side(side, spec, args, device, scratch))
    out = {"method": method, "dataset": dataset, "config": load_config(method, dataset)}
    out.update(summarize_sides(sides, args.warmup))
    for side in SIDES:
        out[side]["peak_rss_gib"] = max(r["peak_rss_gib"] for r in sides[side])
    out["ratio"] = out["reuse"]["median_s"] / out["default"]["median_s"]
    return out


def _run_side(side: str, spec: str, args: argparse.Namespace, device, scratch: str) -> dict:
    cmd = [sys.executable, __file__, "--side", side, "--spec", spec, "--cache-dir", scratch]
    cmd += ["--epochs", str(args.warmup + args.epochs), "--device", str(device)]
    if args.root:
        cmd += ["--root", args.root]
    env = dict(os.environ, PYTHONPATH=f"{REPO}{os.pathsep}{os.environ.get('PYTHONPATH', '')}")
    env.setdefault("THP_MEM_ALLOC_ENABLE", "1")
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        raise RuntimeError(f"{spec} side {side} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def train_side(argv: list[str]) -> int:
    """One side in this process: prints one JSON line with its per-epoch times, last loss,
    peak RSS and whether it reused freed memory."""
    p = argparse.ArgumentParser()
    p.add_argument("--side", choices=SIDES, required=True)
    p.add_argument("--spec", required=True)
    p.add_argument("--epochs", type=int, required=True)
    p.add_argument("--root", default=None)
    p.add_argument("--cache-dir", default=None)
    p.add_argument("--device", default="cpu")
    args = p.parse_args(argv)

    from graphssl.experiment import reuse_freed_memory

    if args.side == "reuse" and not reuse_freed_memory():
        raise SystemExit("reuse_freed_memory() did not apply (not glibc?)")
    import torch
    from mixed_precision import build_run, time_side

    from graphssl.experiment import environment, peak_rss_gib, use_sparse_features

    _, _, cfg, ds, model = build_run(args.spec, args.root, args.cache_dir, args.epochs)
    data = use_sparse_features(ds[0], cfg, model)
    row = time_side(model, data, cfg["train"], args.epochs, False, torch.device(args.device))
    reusing = environment()["reuse_freed_memory"]
    print(json.dumps({**row, "peak_rss_gib": peak_rss_gib(), "reuse_freed_memory": reusing}))
    return 0


def describe(row: dict) -> str:
    from mixed_precision import describe_sides

    return describe_sides(
        row, "default", "reuse", side_info=lambda side: f" ({side['peak_rss_gib']:.2f} GiB)"
    )


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if "--side" in argv:
        return train_side(argv)
    sys.path.insert(0, str(HERE))
    from mixed_precision import compare_main

    return compare_main("freed_memory", __doc__, ["bgrl:CS", "bgrl:Computers"], run, describe, argv)


if __name__ == "__main__":
    sys.path.insert(0, str(HERE))
    raise SystemExit(main())
