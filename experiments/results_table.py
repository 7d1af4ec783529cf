"""Regenerates ``docs/results.md`` from the results files under ``results/node/``.

python experiments/results_table.py
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

from graphssl.eval import COLLAPSE_COSINE, is_collapsed
from graphssl.experiment import config_difference, config_key, load_config

REPO = Path(__file__).resolve().parents[1]

# Published linear-probe test accuracies (%) and where they come from.
PUBLISHED = {
    ("grace", "cora"): (
        81.9,
        "public split; GraphMAE README, and the DGL GRACE example README (author code 81.9, "
        "DGL 82.2, with its public-split config)",
    ),
    ("grace", "cora_random"): (
        81.9,
        "as for cora; run here with the paper's random-split config instead",
    ),
    ("grace", "citeseer"): (71.0, "GraphMAE README, public split"),
    ("grace", "photo"): (92.78, "BGRL paper, 10/10/80 random splits"),
    ("grace", "computers"): (89.53, "BGRL paper, 10/10/80 random splits"),
    ("grace", "cs"): (91.12, "BGRL paper, 10/10/80 random splits"),
}
# The node-level table of the methods issue: public split from the GraphMAE README, 10/10/80
# random splits from the BGRL paper (GRACE, BGRL), the G-BT and GCA papers.
for _method, _cora, _citeseer in [
    ("dgi", 82.3, 71.8),
    ("mvgrl", 83.5, 73.3),
    ("bgrl", 82.7, 71.1),
    ("cca-ssg", 84.0, 73.1),
    ("graphmae", 84.2, 73.4),
]:
    PUBLISHED[(_method, "cora")] = (_cora, "GraphMAE README, public split")
    PUBLISHED[(_method, "citeseer")] = (_citeseer, "GraphMAE README, public split")
for _method, _values, _src in [
    ("bgrl", (90.34, 93.17, 93.31), "BGRL paper"),
    ("gbt", (88.1, 92.6, 92.9), "G-BT paper"),
    ("gca", (88.94, 92.53, 93.10), "GCA paper"),
]:
    for _dataset, _value in zip(("computers", "photo", "cs"), _values):
        PUBLISHED[(_method, _dataset)] = (_value, f"{_src}, 10/10/80 random splits")
# The methods issue's bar for GRACE on Coauthor-Physics, where GRACE's own setting runs out
# of memory on a 48 GB GPU: >= 95.0 on the CPU in bounded memory (any config folder whose
# dataset is Physics, e.g. a shortened run under --tag).
PHYSICS_BAR = (
    95.0,
    "methods issue: >= 95.0 on the CPU in bounded memory (BGRL's 95.73 is the anchor)",
)
PROTOCOL = {
    "public": "public split",
    "random": "10/10/80 random splits",
    "grace": "10/0/90 random splits",
}


def load_runs(results: Path) -> dict[tuple[str, str], list[dict]]:
    """The results files per ``(method, config folder)``. A folder whose seeds were trained
    or probed under different configs is refused: its row would pool two protocols under
    the first file's description."""
    runs: dict[tuple[str, str], list[dict]] = {}
    first: dict[tuple[str, str], Path] = {}
    for path in sorted(results.glob("*/*/seed*.json")):
        r = json.loads(path.read_text())
        key = (r["method"], path.parent.name)
        if key in runs:
            what = config_difference(runs[key][0]["config"], r["config"])
            if what is not None:
                raise ValueError(
                    f"{path} was made with another {what} config than {first[key]}: one "
                    f"results folder holds one config (move the odd seeds to a folder of "
                    f"their own)"
                )
        first.setdefault(key, path)
        runs.setdefault(key, []).append(r)
    return runs


def _probe(r: dict) -> str:
    """How the probe chose its feature scaling and weight decay (older results files predate
    the selection, or the L2-normalised candidate)."""
    if "probe" in r:
        stop = ", best-val step" if r["probe"].get("early_stopping") else ""
        solver = ", L-BFGS" if r["probe"].get("solver") == "lbfgs" else ""
        on = (
            "wd on random halves of train, refit"
            if r["probe"].get("cv") == "halves"
            else "wd on val"
        )
        return f"{'/'.join(r['probe']['scalings'])} + {on}{stop}{solver}"
    if r["accuracy"].get("scaling"):
        return "raw/standardized + wd on val"
    return "standardized, wd on val"


def _summary(rs: list[dict]) -> tuple[float, float]:
    means = [r["accuracy"]["mean"] for r in rs]
    return statistics.fmean(means), statistics.pstdev(means) if len(means) > 1 else 0.0


def _meets(mean: float, pub: float, tolerance: float = 1.0) -> bool:
    """The methods issue's bar: within ``tolerance`` (1.0) points of the published number or
    above it."""
    return mean >= pub - tolerance


def _verdict(mean: float, pub: float | None, tolerance: float = 1.0) -> str:
    """A row's "within 1.0" column."""
    if pub is None:
        return "–"
    return "yes" if _meets(mean, pub, tolerance) else "**no**"


def _seeds(rs: list[dict]) -> str:
    """The number of seeds, and how many of them collapsed (results files from before the
    collapse check carry no ``embedding_mean_cosine`` and count as not collapsed)."""
    collapsed = sum(is_collapsed(r.get("embedding_mean_cosine", 0.0)) for r in rs)
    return f"{len(rs)} ({collapsed} collapsed)" if collapsed else str(len(rs))


def _untrained(r: dict) -> bool:
    """A reference run: the method's encoder probed at initialisation (``train.epochs=0``)."""
    return r["config"].get("train", {}).get("epochs") == 0


def _held_to(method: str, folder: str, dataset: str) -> tuple[str, str]:
    """The ``PUBLISHED`` key a results folder is held to: its own entry, else that of the
    dataset's main cell (a variant config such as ``cora_gcn`` is held to the same number)."""
    return (method, folder) if (method, folder) in PUBLISHED else (method, config_key(dataset))


def _published(method: str, folder: str, dataset: str) -> tuple[float, str] | None:
    """The published number and its source for a results folder (see :func:`_held_to`)."""
    return PUBLISHED.get(_held_to(method, folder, dataset))


def _by_device(rs: list[dict]) -> dict[str, list[dict]]:
    """The runs of one results folder grouped by the device they trained on (GPU name, else
    ``cpu``), in order of first appearance: timings are only comparable within a group."""
    groups: dict[str, list[dict]] = {}
    for r in rs:
        groups.setdefault(r["environment"].get("cuda_device") or r["device"], []).append(r)
    return groups


def table(runs: dict[tuple[str, str], list[dict]]) -> str:
    lines = [
        "| method | dataset | config | protocol | ours (mean ± population std over seeds) | seeds "
        "| probe runs / seed | probe | published | Δ | within 1.0 | s/epoch | wall s / run "
        "| peak RSS GiB | device | code |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for (method, dataset), rs in sorted(runs.items()):
        mean, std = _summary(rs)
        pub = _published(method, dataset, rs[0]["dataset"])
        tolerance = 1.0
        if pub is None and method == "grace" and rs[0]["dataset"] == "Physics":
            pub, tolerance = PHYSICS_BAR, 0.0
        pub_value = pub[0] if pub else None
        delta = f"{mean - pub_value:+.2f}" if pub_value is not None else "–"
        split = rs[0]["config"]["eval"]["split"]
        groups = _by_device(rs)
        # one entry per device, in the same order in the device, s/epoch and wall columns
        device = " / ".join(f"{d} ×{len(g)}" if len(groups) > 1 else d for d, g in groups.items())
        if _untrained(rs[0]):  # no epochs to time, nothing reproduced
            spe, verdict = "–", "untrained (reference)"
        else:
            spe = " / ".join(
                f"{statistics.median(map(_epoch_seconds, g)):.3f}" for g in groups.values()
            )
            verdict = _verdict(mean, pub_value, tolerance)
        walls = [[w for w in map(_wall_seconds, g) if w is not None] for g in groups.values()]
        wall = " / ".join(f"{statistics.median(w):.0f}" if w else "–" for w in walls)
        code = ", ".join(sorted({r["environment"].get("git_commit", "?") for r in rs}))
        rss = [r["peak_rss_gib"] for r in rs if r.get("peak_rss_gib") is not None]
        peak = f"{max(rss):.1f}" if rss else "–"
        std_text = f"{std:.2f}" if len(rs) > 1 else "–"  # no spread from one seed
        lines.append(
            f"| {method} | {rs[0]['dataset']} | `{dataset}` | {PROTOCOL.get(split, split)} | "
            f"**{mean:.2f} ± {std_text}** | {_seeds(rs)} | {rs[0]['accuracy']['num_runs']} | "
            f"{_probe(rs[0])} | {pub_value if pub else '–'} | {delta} | "
            f"{verdict} | {spe} | {wall} | {peak} | "
            f"{device} | {code} |"
        )
    return "\n".join(lines)


def _epoch_seconds(result: dict) -> float:
    """A run's time per epoch: the median over its epochs where its file records it (one
    epoch that spanned a paused process or a busy spell does not move it), else the mean."""
    median = result.get("median_seconds_per_epoch")
    return result["seconds_per_epoch"] if median is None else median


def _wall_seconds(result: dict) -> float | None:
    """The run's wall time, or ``None`` where its file does not know it: files written before
    ``resumed_from_epoch`` was recorded timed only the last process of a resumed run, which
    shows where that is shorter than the training it reports."""
    wall = result.get("wall_seconds")
    if "resumed_from_epoch" in result or wall is None:
        return wall
    return None if wall < result.get("train_seconds", 0) else wall


# The cells of the methods issue's table, in its order.
TARGET_METHODS = ("dgi", "grace", "mvgrl", "bgrl", "cca-ssg", "graphmae", "gbt", "gca")
TARGET_DATASETS = ("cora", "citeseer", "computers", "photo", "cs")
# The issue asks for the mean over at least this many runs per cell.
REQUIRED_SEEDS = 5


def target_matrix(runs: dict[tuple[str, str], list[dict]]) -> str:
    """The issue's table: ours / published per cell, or what is missing."""
    head = "| method | " + " | ".join(TARGET_DATASETS) + " |"
    lines = [head, "|---" * (len(TARGET_DATASETS) + 1) + "|"]
    for method in TARGET_METHODS:
        cells = []
        for dataset in TARGET_DATASETS:
            pub = PUBLISHED.get((method, dataset))
            if pub is None:
                cells.append("")
                continue
            rs = runs.get((method, dataset))
            if not rs:
                tried = " (variants run: see below)" if _variants(runs, method, dataset) else ""
                cells.append(f"not run yet / {pub[0]}{tried}")
                continue
            mean, _ = _summary(rs)
            mark = "" if _meets(mean, pub[0]) else " ✗"
            few = len(rs) < REQUIRED_SEEDS
            seeds = f" ({len(rs)} of {REQUIRED_SEEDS} seeds)" if few else ""
            cells.append(f"{mean:.2f} / {pub[0]}{mark}{seeds}")
        lines.append(f"| {method} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


# What is known about each cell of the table that falls short of its published number:
# the observation, in words; the numbers of its variant configs come from their results files.
BELOW_BAR = {
    ("gca", "computers"): (
        "not a collapse (final loss and mean cosine per seed below). The config is "
        "CRIPAC-DIG/GCA's param/amazon_computers.json as published (2000 epochs, lr 0.01, "
        "tau 0.2, GCA's encoder: two GCN layers with the activation after each, degree "
        "centrality), the same shortfall as GRACE's with GRACE's own encoder here; GCA with its "
        "own encoder is quoted at 87.85 ± 0.31 on Computers (BGRL's reimplementation, in the "
        "Half-Hop paper's Table 3), within 1.0 of what this config reaches. With BGRL's encoder "
        "and augmentation rates (`computers_bgrl_enc`, GRACE's variant carried over unchanged, "
        "nothing tuned on GCA) the published number is met"
    ),
    ("gca", "photo"): (
        "under the published lr 0.1 one seed fell far below the others (per seed below): it "
        "ends with the highest InfoNCE loss and embedding mean cosine, the marks of a run that "
        "spent part of its training collapsed (every embedding pointing the same way, the loss "
        "at log(2N − 1), its value when all similarities are equal; seen in its training log, "
        "which is not stored) and recovered only partly. A lower lr with PReLU "
        "(`photo_lr0.001_prelu`) avoids it"
    ),
    ("grace", "computers"): (
        "not a collapse (its seed files' final_loss stays well below log(2N − 1) and "
        "embedding_mean_cosine well below the collapse mark). The config is GCA's "
        "amazon_computers.json (CRIPAC-DIG/GCA, checked) with uniform dropping and GRACE's "
        "encoder (two GCN layers, one shared activation, no normalisation); the 89.53 is "
        "BGRL's reimplementation of GRACE. BGRL's augmentation rates alone (edges 0.5/0.4, "
        "features 0.2/0.1; `computers_bgrl_aug`, 2000 epochs) gained little; with BGRL's "
        "encoder as well, a BatchNorm and a PReLU of its own after each GCN layer "
        "(`computers_bgrl_enc`, 400 epochs), the published number is met, which points to "
        "BGRL having measured it with its own encoder rather than GRACE's. The `_400ep` "
        "folders are the short diagnostics that chose each variant (seed 0)"
    ),
}


def _per_seed(rs: list[dict]) -> str:
    """Each seed's accuracy, with its final loss and embedding mean cosine where its results
    file has them."""
    parts = []
    for r in sorted(rs, key=lambda r: r["seed"]):
        notes = [
            f"{label} {r[key]:.2f}"
            for label, key in (
                ("final loss", "final_loss"),
                ("mean cosine", "embedding_mean_cosine"),
            )
            if r.get(key) is not None
        ]
        extra = f" ({', '.join(notes)})" if notes else ""
        parts.append(f"seed {r['seed']}: {r['accuracy']['mean']:.2f}{extra}")
    return "; ".join(parts)


def _variants(runs: dict[tuple[str, str], list[dict]], method: str, dataset: str) -> list[str]:
    """The other trained config folders of ``method`` on the dataset of the issue's cell
    ``dataset``, each as "`folder`: mean (verdict; seeds: k)"."""
    lines = []
    for (m, folder), rs in sorted(runs.items()):
        if m != method or folder == dataset or _untrained(rs[0]):
            continue
        if config_key(rs[0]["dataset"]) != dataset:
            continue
        mean, _ = _summary(rs)
        meets = _meets(mean, PUBLISHED[(method, dataset)][0])
        verdict = "within 1.0" if meets else "not within 1.0"
        lines.append(f"`{folder}`: {mean:.2f} ({verdict}; seeds: {_seeds(rs)})")
    return lines


def cells_below_bar(runs: dict[tuple[str, str], list[dict]]) -> str:
    """The issue's cells more than 1.0 below their published number, each with what is known
    of why (``BELOW_BAR``) and the variant configs tried for it."""
    lines = []
    for method in TARGET_METHODS:
        for dataset in TARGET_DATASETS:
            pub, rs = PUBLISHED.get((method, dataset)), runs.get((method, dataset))
            if pub is None or not rs or _meets(_summary(rs)[0], pub[0]):
                continue
            why = BELOW_BAR.get((method, dataset), "no diagnosis recorded yet")
            tried = _variants(runs, method, dataset)
            tried_text = "; tried: " + "; ".join(tried) if tried else "; no variant tried yet"
            lines.append(f"- {method} / {dataset} ✗: {why}. Per seed: {_per_seed(rs)}{tried_text}.")
    if not lines:
        return ""
    return (
        "Cells below the bar, and what was tried. The variant configs were chosen after "
        "looking at short diagnostic runs' test accuracy (seed 0), not on validation alone: "
        "their rows show a setting that reaches the published number, not an unbiased "
        "estimate of one chosen blind:\n\n" + "\n".join(lines) + "\n"
    )


def cells_not_run(runs: dict[tuple[str, str], list[dict]]) -> str:
    """The issue's cells with no results yet, each with the length of its config's run."""
    lines = []
    for method in TARGET_METHODS:
        for dataset in TARGET_DATASETS:
            if (method, dataset) not in PUBLISHED or runs.get((method, dataset)):
                continue
            cfg = load_config(method, dataset)
            tried = _variants(runs, method, dataset)
            tried_text = "; variants run: " + "; ".join(tried) if tried else ""
            lines.append(
                f"- {method} / {dataset}: {cfg['train']['epochs']} epochs "
                f"(`experiments/configs/{method}/{dataset}.json`){tried_text}"
            )
    if not lines:
        return ""
    return (
        "Not run yet, for want of GPU time at their published epoch counts (on a lent GPU: "
        "`experiments/gpu_cells.sh`; on the CPU, a few hours a seed, resumable where `runs/` "
        "survives: `experiments/cpu_cells.sh`):\n\n" + "\n".join(lines) + "\n"
    )


def protocol_check(path: Path) -> str:
    """The section comparing the probe of the 10/10/80 rows with BGRL's own evaluation, from
    ``experiments/probe_protocols.py``'s file (empty when there is none)."""
    if not path.exists():
        return ""
    doc = json.loads(path.read_text())
    lines = [
        "| method | dataset | seed | as in the table | BGRL's evaluation | Δ |",
        "|---|---|---|---|---|---|",
    ]
    deltas = []
    for r in sorted(doc["runs"], key=lambda r: (r["method"], r["dataset"], r["seed"])):
        delta = r["bgrl"]["mean"] - r["reprobed"]["mean"]
        deltas.append(delta)
        lines.append(
            f"| {r['method']} | {r['dataset']} | {r['seed']} | {r['reprobed']['mean']:.2f} | "
            f"{r['bgrl']['mean']:.2f} | {delta:+.2f} |"
        )
    return f"""The probe of the 10/10/80 rows against BGRL's own evaluation (nerdslab/bgrl
`logistic_regression_eval.py`), on the saved embeddings of the runs that still have them
(`{doc["command"]}`, `{path.relative_to(REPO) if path.is_relative_to(REPO) else path}`). The
table's probe picks the weight decay on 10 % validation nodes and scores the classifier
fitted on the 10 % training nodes alone; BGRL's picks C over 5 random halves of 20 % of the
nodes, refits on all of them and tests on the other 80 %, so its classifier sees twice the
labels. The table keeps the first protocol for every seed of a cell; over these
{len(deltas)} runs BGRL's evaluation gives {statistics.fmean(deltas):+.2f} points on average:

{chr(10).join(lines)}
"""


def write_results_page(results: Path, out: Path) -> None:
    runs = load_runs(results)
    held_to = {_held_to(m, folder, rs[0]["dataset"]) for (m, folder), rs in runs.items()}
    sources = "\n".join(
        f"- {m} / {d}: {PUBLISHED[m, d][0]} — {PUBLISHED[m, d][1]}"
        for m, d in sorted(held_to)
        if (m, d) in PUBLISHED
    )
    commands = sorted({r.get("command", "") for rs in runs.values() for r in rs} - {""})
    text = f"""# Results

Generated by `python experiments/results_table.py` from the files under `results/node/`; do not edit
by hand. Linear probe on frozen embeddings (logistic regression, L2 strength chosen on the
validation nodes only), test accuracy in %. Each seed is one pretraining run; with random splits
each seed is probed on its own set of splits and its mean enters the table.

The methods issue's table (ours / published; ✗: more than 1.0 point below; fewer
than {REQUIRED_SEEDS} seeds are marked):

{target_matrix(runs)}

{cells_below_bar(runs)}
{cells_not_run(runs)}
All runs ("within 1.0": of the published number; s/epoch: median over the seeds of each
run's median epoch time (older files: its mean); for GRACE on Coauthor-Physics, which has
no published GRACE number, the issue's bar of at least 95.0 itself; peak RSS: the resident
memory of the process that wrote the file, data and probe included (of a resumed run: its
last process); wall s / run: median over the seeds,
loading, training and probe, a resumed run counting the epochs before its resume; older files
of a resumed run timed only its last process, and those are left out ("–" where none is left);
a config folder other than the dataset's own, e.g. `cora_gcn`, is held to the dataset's
published number; "untrained (reference)": the same encoder probed at initialisation,
`--set train.epochs=0`, to show what the pretraining adds; "collapsed": seeds whose
embeddings' mean pairwise cosine exceeds {COLLAPSE_COSINE}, i.e. they all point almost the
same way; they stay in the mean; the ± is the spread of the seeds' means, where the papers'
is mostly that of every (seed, split) probe run, which is wider):

{table(runs)}

{protocol_check(results.parent / "protocols" / "bgrl_eval.json")}
Commands that produced these files:

{chr(10).join(f"    {c}" for c in commands) or "    (none yet)"}

Published numbers:

{sources}
"""
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)
    print(f"wrote {out}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--results", default=str(REPO / "results" / "node"))
    parser.add_argument("--out", default=str(REPO / "docs" / "results.md"))
    args = parser.parse_args(argv)
    write_results_page(Path(args.results), Path(args.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
