"""Node classification with frozen self-supervised embeddings (linear probe), per method,
dataset and seed, with each method's published hyperparameters: one file per (method,
dataset), ``experiments/configs/<method>/<dataset>.json`` (the same files as
``graphssl/configs``, which the CLI reads).

Each (method, dataset or preset, seed) run writes
``results/node/<method>/<preset>/seed<k>.json``; a run whose file exists is skipped, so an
interrupted reproduction resumes where it stopped, and a run cut off mid-training resumes
from its last checkpoint (``--runs-dir``, every ``train.checkpoint_every`` epochs).
Then the table in ``docs/results.md`` is regenerated from every results file
(``experiments/results_table.py``).

    python experiments/node_classification.py --methods grace --datasets Cora Photo \
        --seeds 0 1 2 3 4 --root ../shared/datasets --device auto
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import time
from pathlib import Path

import torch

from graphssl.experiment import (
    config_key,
    load_config,
    merge_config,
    parse_overrides,
    probe_embeddings,
    run_pretraining,
    training_config,
)

REPO = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--methods", nargs="+", default=["grace"])
    parser.add_argument("--datasets", nargs="+", default=["Cora", "Photo"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2, 3, 4])
    parser.add_argument("--root", default=None, help="data root (default: $GRAPHSSL_DATA)")
    parser.add_argument("--cache-dir", default=None)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--results", default=str(REPO / "results" / "node"))
    parser.add_argument(
        "--preset", help="a config file of experiments/configs/<method>/ other than the dataset's"
    )
    parser.add_argument(
        "--runs-dir",
        default=str(REPO / "runs" / "node"),
        help="checkpoints per run (<runs-dir>/<method>/<preset>/seed<k>/); an interrupted run "
        "resumes from its checkpoint",
    )
    parser.add_argument(
        "--set",
        nargs="*",
        default=[],
        metavar="SECTION.KEY=VALUE",
        help="config overrides, recorded in the results files (needs --tag)",
    )
    parser.add_argument(
        "--tag", help="results folder name instead of the dataset's (for runs with --set)"
    )
    parser.add_argument(
        "--reprobe",
        action="store_true",
        help="probe the saved embeddings of existing runs again under the config's current "
        "eval section (pretraining config unchanged); no training",
    )
    parser.add_argument("--no-table", action="store_true", help="don't regenerate the docs")
    args = parser.parse_args(argv)
    if args.set and not args.tag:
        parser.error("--set changes the published config: name the results folder with --tag")

    for method, dataset, seed in itertools.product(args.methods, args.datasets, args.seeds):
        folder = args.tag or args.preset or config_key(dataset)
        path = Path(args.results) / method / folder / f"seed{seed}.json"
        run_dir = Path(args.runs_dir) / method / folder / f"seed{seed}"
        if args.reprobe:
            reprobe(path, run_dir, method, dataset, args)
            continue
        if path.exists():
            print(f"skip {path} (exists)")
            continue
        t0 = time.perf_counter()
        result = run_pretraining(
            method,
            dataset,
            root=args.root,
            cache_dir=args.cache_dir,
            seed=seed,
            device=args.device,
            progress=True,
            preset=args.preset,
            overrides=parse_overrides(args.set),
            out=run_dir,
            resume=True,
        )
        result["wall_seconds"] = time.perf_counter() - t0
        result["command"] = " ".join(
            ["python", "experiments/node_classification.py", *sys.argv[1:]]
        )
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(result, indent=2))
        acc = result["accuracy"]
        print(
            f"{method} {dataset} seed {seed}: {acc['mean']:.2f} ± {acc['std']:.2f} "
            f"({result['train_seconds']:.0f} s on {result['device']})",
            flush=True,
        )
    if not args.no_table:
        from results_table import write_results_page

        write_results_page(Path(args.results), REPO / "docs" / "results.md")
    return 0


def reprobe(path: Path, run_dir: Path, method: str, dataset: str, args: argparse.Namespace):
    """Re-evaluates a finished run's saved embeddings under the current ``eval`` config and
    rewrites its results file (the previous accuracy is kept under ``reprobed``)."""
    from graphssl.data import load_dataset

    if not path.exists() or not (run_dir / "embeddings.pt").exists():
        print(f"reprobe: skip {path} (no results file or no {run_dir / 'embeddings.pt'})")
        return
    result = json.loads(path.read_text())
    cfg = merge_config(load_config(method, dataset, args.preset), parse_overrides(args.set))
    if training_config(result["config"]) != training_config(cfg):
        raise SystemExit(
            f"reprobe: {path} was pretrained with another config than the current one; "
            f"rerun it instead"
        )
    ds = load_dataset(dataset, args.root, cache_dir=args.cache_dir)
    z = torch.load(run_dir / "embeddings.pt", map_location="cpu", weights_only=True)
    probe, info = probe_embeddings(ds, z, cfg["eval"], result["seed"])
    previous = {k: result.get(k) for k in ("accuracy", "probe")} | {
        "eval": result["config"]["eval"]
    }
    result.update(accuracy=probe.to_dict(), probe=info)
    result["config"]["eval"] = cfg["eval"]
    result.setdefault("reprobed", []).append(
        {
            "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "command": " ".join(["python", "experiments/node_classification.py", *sys.argv[1:]]),
            "previous": previous,
        }
    )
    path.write_text(json.dumps(result, indent=2))
    print(
        f"reprobe {method} {dataset} seed {result['seed']}: "
        f"{previous['accuracy']['mean']:.2f} -> {probe.mean:.2f} ({info['scalings']})"
    )


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    sys.exit(main())
