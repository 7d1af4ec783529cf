"""The ``graphssl`` command: ``pretrain``, ``evaluate``, ``datasets`` and ``demo``."""

from __future__ import annotations

import argparse
import json
import signal
import sys
from pathlib import Path

import torch


def _cmd_pretrain(args: argparse.Namespace) -> int:
    from graphssl.experiment import (
        parse_overrides,
        reuse_freed_memory,
        run_pretraining,
        summarize,
    )

    reuse_freed_memory()

    overrides = parse_overrides(args.set or [])
    if args.epochs is not None:
        overrides.setdefault("train", {})["epochs"] = args.epochs
    seeds = args.seeds if args.seeds else [args.seed]
    outs = [
        None if not args.out else Path(args.out) / f"seed{s}" if len(seeds) > 1 else Path(args.out)
        for s in seeds
    ]
    taken = [o for o in outs if o is not None and (o / "checkpoint.pt").exists()]
    if taken and not args.resume:
        raise ValueError(
            f"{taken[0]} holds the checkpoint of an earlier run: pass --resume to continue it, "
            f"or choose another --out (a new run there would overwrite it)"
        )
    results = []
    for seed, out in zip(seeds, outs):
        r = run_pretraining(
            args.method,
            args.dataset,
            root=args.root,
            cache_dir=args.cache_dir,
            seed=seed,
            device=args.device,
            overrides=overrides,
            out=out,
            resume=args.resume,
            progress=not args.quiet,
            raw_baseline=args.raw_baseline,
        )
        results.append(r)
        acc = r["accuracy"]
        line = (
            f"[{args.method} {args.dataset} seed {seed}] linear-probe test accuracy "
            f"{acc['mean']:.2f} ± {acc['std']:.2f} over {acc['num_runs']} split(s); "
            f"{r['seconds_per_epoch']:.3f} s/epoch on {r['device']}"
        )
        if "raw_accuracy" in r:
            line += f"; raw features {r['raw_accuracy']['mean']:.2f}"
        print(line, flush=True)
    if len(results) > 1:
        print(f"[{args.method} {args.dataset}] mean over seeds {seeds}: {summarize(results)}")
    return 0


def _cmd_evaluate(args: argparse.Namespace) -> int:
    import torch_geometric.transforms as T

    from graphssl.data import load_dataset
    from graphssl.experiment import probe_embeddings
    from graphssl.methods import build_method
    from graphssl.train import load_checkpoint, resolve_device

    ckpt = Path(args.checkpoint)
    cfg_path = ckpt.parent / "config.json"
    if not ckpt.is_file() or not cfg_path.is_file():
        raise SystemExit(
            f"error: need {ckpt} and the config.json beside it "
            f"(written by `graphssl pretrain --out`)"
        )
    cfg = json.loads(cfg_path.read_text())
    dataset = args.dataset or cfg["dataset"]
    dev = resolve_device(args.device)
    transform = T.NormalizeFeatures() if cfg["data"].get("normalize_features") else None
    ds = load_dataset(dataset, args.root, cache_dir=args.cache_dir, transform=transform)
    model = build_method(cfg["method"], ds.num_features, **cfg["model"])
    model.load_state_dict(load_checkpoint(ckpt, map_location="cpu")["model"])
    data = ds[0].to(dev)
    z = model.to(dev).embed(data)
    eval_cfg = dict(cfg["eval"], **({"split": args.split} if args.split else {}))
    result, _ = probe_embeddings(ds, z, eval_cfg, cfg["seed"])
    print(f"[{cfg['method']} {dataset}] linear-probe test accuracy {result}")
    if args.json:
        Path(args.json).write_text(json.dumps(result.to_dict(), indent=2))
    return 0


def _cmd_datasets(args: argparse.Namespace) -> int:
    from graphssl.data import default_root, list_datasets

    root = args.root or default_root()
    print(f"datasets under {root}:")
    for info in list_datasets(args.root):
        mark = "present" if info.present else "missing"
        print(f"  {info.name:<22} {info.family:<10} {info.level:<6} {mark}")
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    from graphssl.experiment import run_pretraining

    torch.set_num_threads(max(torch.get_num_threads(), 1))
    print(
        "graphssl demo: GRACE on a synthetic contextual stochastic block model (no download needed)"
    )
    r = run_pretraining(
        "grace",
        "csbm",
        seed=args.seed,
        device=args.device,
        progress=not args.quiet,
        raw_baseline=True,
    )
    ssl, raw = r["accuracy"], r["raw_accuracy"]
    print(f"linear probe on raw features:        {raw['mean']:.2f} ± {raw['std']:.2f} %")
    print(
        f"linear probe on GRACE embeddings:    {ssl['mean']:.2f} ± {ssl['std']:.2f} %  "
        f"({r['epochs']} epochs, {r['train_seconds']:.1f} s on {r['device']})"
    )
    print(f"self-supervision gained {ssl['mean'] - raw['mean']:+.2f} points")
    return 0


def build_parser() -> argparse.ArgumentParser:
    from graphssl import __version__

    parser = argparse.ArgumentParser(prog="graphssl", description=__doc__)
    parser.add_argument("--version", action="version", version=f"graphssl {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("pretrain", help="pretrain a method on a dataset and probe it")
    p.add_argument("--method", default="grace")
    p.add_argument("--dataset", default="csbm")
    p.add_argument("--root", help="data root (default: $GRAPHSSL_DATA)")
    p.add_argument("--cache-dir", help="writable cache for processed files")
    p.add_argument("--epochs", type=int, help="override the config's epochs")
    p.add_argument("--device", default="auto")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--seeds", type=int, nargs="+", help="several seeds, one run each")
    p.add_argument(
        "--set",
        nargs="+",
        action="extend",
        metavar="SECTION.KEY=VALUE",
        help="override config entries, e.g. model.tau=0.3 train.lr=0.01 (may be repeated)",
    )
    p.add_argument("--out", help="folder for config, metrics, checkpoint and embeddings")
    p.add_argument("--resume", action="store_true", help="continue from --out's checkpoint")
    p.add_argument("--raw-baseline", action="store_true", help="also probe the raw features")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_cmd_pretrain)

    p = sub.add_parser("evaluate", help="linear-probe a saved checkpoint")
    p.add_argument("--checkpoint", required=True)
    p.add_argument("--dataset", help="default: the dataset it was trained on")
    p.add_argument("--root")
    p.add_argument("--cache-dir")
    p.add_argument("--split", help="override the evaluation split (public, random, grace)")
    p.add_argument("--device", default="auto")
    p.add_argument("--json", help="write the result to this file")
    p.set_defaults(func=_cmd_evaluate)

    p = sub.add_parser("datasets", help="list known datasets and which are present")
    p.add_argument("--root")
    p.set_defaults(func=_cmd_datasets)

    p = sub.add_parser("demo", help="GRACE on the embedded synthetic graph vs raw features")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="auto")
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(func=_cmd_demo)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # `graphssl datasets | head` exits quietly
    try:
        return args.func(args)
    except (ValueError, FileNotFoundError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
