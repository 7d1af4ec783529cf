r"""Node classification with frozen self-supervised embeddings (linear probe), per method,
dataset and seed, with each method's published hyperparameters: one file per (method,
dataset), ``experiments/configs/<method>/<dataset>.json`` (the same files as
``graphssl/configs``, which the CLI reads).

Each (method, dataset or preset, seed) run writes
``results/node/<method>/<preset>/seed<k>.json``; a run whose file exists is skipped, so an
interrupted reproduction resumes where it stopped, and a run cut off mid-training resumes
from its last checkpoint (``--runs-dir``, every ``train.checkpoint_every`` epochs and every
``train.checkpoint_every_seconds`` of training).
Then the table in ``docs/results.md`` is regenerated from every results file
(``experiments/results_table.py``).

    python experiments/node_classification.py --methods grace --datasets Cora Photo \
        --seeds 0 1 2 3 4 --root ../shared/datasets --device auto
"""

from __future__ import annotations

import os

# Transparent huge pages for the CPU allocator's blocks of 2 MiB and more. PyTorch reads this
# once, at its first allocation, which importing torch_geometric already makes: so here, before
# any import. InfoNCE keeps hundreds of MiB of similarity tiles per step, and their page
# faults cost about 7% of a GCA Amazon-Photo epoch on the 2-core VM here (1.84-1.92 s
# against 1.98-2.06 s, with the variable set from the start).
os.environ.setdefault("THP_MEM_ALLOC_ENABLE", "1")

import argparse
import itertools
import json
import shutil
import sys
import time
from pathlib import Path

import torch

from graphssl.data import canonical_name
from graphssl.experiment import (
    ConfigMismatchError,
    check_config,
    config_difference,
    config_key,
    continues_run,
    load_config,
    merge_config,
    parse_overrides,
    probe_embeddings,
    recorded_config,
    reuse_freed_memory,
    run_pretraining,
    training_config,
)
from graphssl.methods import get_method
from graphssl.train import checkpoint_epoch, write_text_atomic

REPO = Path(__file__).resolve().parents[1]
DEFAULT_RESULTS = REPO / "results" / "node"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--methods", nargs="+", default=["grace"])
    parser.add_argument("--datasets", nargs="+", default=["Cora", "Photo"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2, 3, 4])
    parser.add_argument("--root", default=None, help="data root (default: $GRAPHSSL_DATA)")
    parser.add_argument("--cache-dir", default=None)
    parser.add_argument("--device", default="auto")
    parser.add_argument(
        "--probe-device",
        default=None,
        help="device of the linear probe (default: --device); cpu where several runs share a GPU",
    )
    parser.add_argument("--results", default=str(DEFAULT_RESULTS))
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
        action="extend",
        default=[],
        metavar="SECTION.KEY=VALUE",
        help="config overrides, recorded in the results files (needs --tag); may be repeated",
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
    parser.add_argument(
        "--continue-from",
        metavar="FOLDER",
        help="start each run from the checkpoint of the same method and seed under this "
        "runs folder (e.g. a shorter run's --tag), to continue it for more train.epochs "
        "where no schedule depends on them",
    )
    parser.add_argument("--no-table", action="store_true", help="don't regenerate the docs")
    args = parser.parse_args(argv)
    if args.set and not args.tag:
        parser.error("--set changes the published config: name the results folder with --tag")
    if (args.tag or args.preset) and len(set(map(config_key, args.datasets))) > 1:
        parser.error(
            "--tag and --preset name one results folder per method: give one dataset "
            "(several would write their seeds into the same folder)"
        )
    try:  # canonical names, as the results and config files record them
        args.methods = [get_method(m).method_name for m in args.methods]
        args.datasets = [canonical_name(d, args.root) for d in args.datasets]
        for method, dataset in itertools.product(args.methods, args.datasets):
            check_config(method, requested_config(args, method, dataset))
    except ValueError as err:
        parser.error(str(err))
    if args.continue_from and (args.reprobe or not args.tag):
        parser.error("--continue-from needs a --tag of its own and trains (no --reprobe)")

    if not args.reprobe:
        mixed = mixed_folders(args)
        if mixed:
            raise SystemExit(
                "these results folders hold seeds made with another config than the one asked "
                "for now; new seeds there would pool two protocols in one cell. Use another "
                "--tag (or --reprobe, where only the eval section changed):\n  "
                + "\n  ".join(mixed)
            )
    if not args.reprobe and not args.continue_from:
        stale = stale_checkpoints(args)
        if stale:
            raise SystemExit(
                "these run folders hold checkpoints made with another config; delete or move "
                "them, or name another --runs-dir or --tag:\n  "
                + "\n  ".join(str(s) for s in stale)
            )
    reuse_freed_memory()  # faster CPU steps with tensors over 32 MiB: benchmarks/freed_memory.py
    for method, dataset, seed in itertools.product(args.methods, args.datasets, args.seeds):
        path, run_dir = run_paths(args, method, dataset, seed)
        if args.reprobe:
            reprobe(path, run_dir, method, dataset, args)
            continue
        if path.exists():
            what = config_difference(
                json.loads(path.read_text())["config"], requested_config(args, method, dataset)
            )
            note = "" if what is None else f", made with another {what} config than asked for"
            print(f"skip {path} (exists{note})")
            continue
        copied = args.continue_from is not None and copy_checkpoint(
            Path(args.runs_dir) / method / args.continue_from / run_dir.name, run_dir
        )
        try:
            result = run_pretraining(
                method,
                dataset,
                root=args.root,
                cache_dir=args.cache_dir,
                seed=seed,
                device=args.device,
                probe_device=args.probe_device,
                progress=True,
                preset=args.preset,
                overrides=parse_overrides(args.set),
                out=run_dir,
                resume=True,
            )
        except ConfigMismatchError as err:
            if copied:  # don't leave another run's checkpoint behind in this folder
                for name in ("config.json", "checkpoint.pt"):
                    (run_dir / name).unlink(missing_ok=True)
                raise SystemExit(f"--continue-from {args.continue_from}: {err}") from err
            raise
        result["command"] = " ".join(
            ["python", "experiments/node_classification.py", *sys.argv[1:]]
        )
        write_text_atomic(path, json.dumps(result, indent=2))
        acc = result["accuracy"]
        print(
            f"{method} {dataset} seed {seed}: {acc['mean']:.2f} ± {acc['std']:.2f} "
            f"({result['train_seconds']:.0f} s on {result['device']})",
            flush=True,
        )
    if args.no_table:
        return 0
    if Path(args.results).resolve() != DEFAULT_RESULTS.resolve():
        print(f"docs/results.md not regenerated: it is the table of {DEFAULT_RESULTS}")
        return 0
    from results_table import write_results_page

    write_results_page(DEFAULT_RESULTS, REPO / "docs" / "results.md")
    return 0


def run_paths(args: argparse.Namespace, method: str, dataset: str, seed: int) -> tuple[Path, Path]:
    """The results file and the run folder (checkpoint, embeddings) of one seed."""
    folder = args.tag or args.preset or config_key(dataset)
    return (
        Path(args.results) / method / folder / f"seed{seed}.json",
        Path(args.runs_dir) / method / folder / f"seed{seed}",
    )


def requested_config(args: argparse.Namespace, method: str, dataset: str) -> dict:
    """The config the command line asks for: the method's config for ``dataset`` (or
    ``--preset``) with the ``--set`` overrides."""
    return merge_config(load_config(method, dataset, args.preset), parse_overrides(args.set))


def stale_checkpoints(args: argparse.Namespace) -> list[Path]:
    """The run folders of the seeds still to run whose checkpoint was made with another
    config, found before any training (``run_pretraining`` would refuse each only when its
    turn comes, after the seeds before it have trained). Differences that ``continues_run``
    can only judge with the model built (other epochs) are left to that later check."""
    stale = []
    for method, dataset, seed in itertools.product(args.methods, args.datasets, args.seeds):
        path, run_dir = run_paths(args, method, dataset, seed)
        previous = run_dir / "config.json"
        if path.exists() or not (run_dir / "checkpoint.pt").exists() or not previous.exists():
            continue
        resolved = recorded_config(method, dataset, seed, requested_config(args, method, dataset))
        trained = checkpoint_epoch(run_dir / "checkpoint.pt")
        if not continues_run(json.loads(previous.read_text()), resolved, None, trained):
            stale.append(run_dir)
    return stale


def mixed_folders(args: argparse.Namespace) -> list[str]:
    """The results folders where a seed still to run would join seeds of another config
    (each with what differs), found before any training."""
    mixed = []
    for method, dataset in itertools.product(args.methods, args.datasets):
        paths = [run_paths(args, method, dataset, seed)[0] for seed in args.seeds]
        if all(path.exists() for path in paths):
            continue  # nothing to run: the seeds there are only skipped
        requested = requested_config(args, method, dataset)
        folder = paths[0].parent
        for done in sorted(folder.glob("seed*.json")):
            what = config_difference(json.loads(done.read_text())["config"], requested)
            if what is not None:
                mixed.append(f"{done} ({what} config differs)")
    return mixed


def copy_checkpoint(source: Path, run_dir: Path) -> bool:
    """Seeds ``run_dir`` with ``source``'s checkpoint and config, unless a run is already
    under way there (it resumes from its own). The resume then checks that the configs
    agree up to the number of epochs (:func:`graphssl.experiment.continues_run`). Returns
    whether it copied."""
    if (run_dir / "checkpoint.pt").exists():
        return False
    if not (source / "checkpoint.pt").exists() or not (source / "config.json").exists():
        raise SystemExit(f"--continue-from: no checkpoint and config.json in {source}")
    run_dir.mkdir(parents=True, exist_ok=True)
    for name in ("config.json", "checkpoint.pt"):
        shutil.copy2(source / name, run_dir / name)
    print(f"continuing {source} in {run_dir}")
    return True


def reprobe(path: Path, run_dir: Path, method: str, dataset: str, args: argparse.Namespace):
    """Re-evaluates a finished run's saved embeddings under the current ``eval`` config and
    rewrites its results file (the previous accuracy is kept under ``reprobed``)."""
    from graphssl.data import load_dataset
    from graphssl.eval import is_collapsed, mean_cosine_similarity

    if not path.exists() or not (run_dir / "embeddings.pt").exists():
        print(f"reprobe: skip {path} (no results file or no {run_dir / 'embeddings.pt'})")
        return
    result = json.loads(path.read_text())
    cfg = requested_config(args, method, dataset)
    if training_config(result["config"]) != training_config(cfg):
        raise SystemExit(
            f"reprobe: {path} was pretrained with another config than the current one; "
            f"rerun it instead"
        )
    ds = load_dataset(dataset, args.root, cache_dir=args.cache_dir)
    z = torch.load(run_dir / "embeddings.pt", map_location="cpu", weights_only=True)
    probe, info = probe_embeddings(ds, z, cfg["eval"], result["seed"])
    cosine = mean_cosine_similarity(z)
    previous = {k: result.get(k) for k in ("accuracy", "probe")} | {
        "eval": result["config"]["eval"]
    }
    result.update(accuracy=probe.to_dict(), probe=info, embedding_mean_cosine=cosine)
    result["config"]["eval"] = cfg["eval"]
    result.setdefault("reprobed", []).append(
        {
            "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "command": " ".join(["python", "experiments/node_classification.py", *sys.argv[1:]]),
            "previous": previous,
        }
    )
    write_text_atomic(path, json.dumps(result, indent=2))
    print(
        f"reprobe {method} {dataset} seed {result['seed']}: "
        f"{previous['accuracy']['mean']:.2f} -> {probe.mean:.2f} ({info['scalings']}); "
        f"embeddings' mean cosine {cosine:.4f}" + (" (collapsed)" if is_collapsed(cosine) else "")
    )


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    sys.exit(main())
