"""Seconds per epoch of five node-level methods, graphssl side by side with PyGCL's examples.

    .venv/bin/python benchmarks/node_methods.py --methods grace bgrl gbt dgi mvgrl \\
        --dataset Photo --epochs 20 --warmup 3 --root ../shared/datasets \\
        --peers-venv .venv-peers --device cpu

For each method, graphssl's model (``graphssl.methods.build_method``) runs in this process and
PyGCL's example model (``benchmarks/_peer_node_methods.py``) in a subprocess of the peers venv
(skipped, with a message, when that venv is absent). Both use the same sizes and rates
(``_peer_node_methods.SETTINGS``), the same data (PyG Amazon-Photo, ``T.NormalizeFeatures()``),
the same thread count and the same timing loop (``_peer_grace.time_epochs``): ``warmup``
untimed epochs, then ``epochs`` timed full-batch steps (augmentation + forward + loss + backward
+ optimizer step + EMA update where the method has one), with ``torch.cuda.synchronize()``
around each on CUDA. MVGRL's diffusion is computed once before timing on both sides and reported
on its own.

Prints a table (median s/epoch of each, the ratio graphssl/PyGCL, whose target is <= 1.0, and
the peak memory of each) and writes a JSON results file (``--out``, default
``benchmarks/results/node_methods_<device>.json``) naming the machine.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _peer_grace import (  # noqa: E402
    get_config,
    memory_report,
    start_memory,
    time_epochs,
)
from _peer_node_methods import METHODS, get_settings, one_off  # noqa: E402
from grace_epoch import (  # noqa: E402
    add_comparison_args,
    alternate_sides,
    load_graphssl_data,
    merge_rounds,
    peer_python,
    report_comparison,
    start_comparison,
    write_results,
)

PEER_SCRIPT = HERE / "_peer_node_methods.py"


def graphssl_config(method: str) -> dict:
    """The ``from_config`` keywords of graphssl's ``method`` for the shared ``SETTINGS``.

    The layer types that each PyGCL example fixes are spelled out here: GCN everywhere; PReLU
    for BGRL, G-BT, DGI and MVGRL; BatchNorm in BGRL's and G-BT's encoders.
    """
    s = get_settings(method)
    views = {k: s[k] for k in ("drop_edge", "drop_feature") if k in s}
    if method == "grace":
        return dict(
            conv="gcn",
            hidden=s["hidden"],
            proj_hidden=s["proj"],
            num_layers=s["num_layers"],
            activation=s["act"],
            tau=s["tau"],
            **views,
        )
    if method == "bgrl":
        return dict(
            conv="gcn",
            hidden=s["hidden"],
            out=s["hidden"],
            num_layers=s["num_layers"],
            pred_hidden=s["pred_hidden"],
            momentum=s["momentum"],
            total_steps=None,  # constant momentum, as the example
            **views,
        )
    if method == "gbt":
        return dict(
            conv="gcn",
            hidden=s["hidden"],
            out=s["out"],
            num_layers=s["num_layers"],
            activation="prelu",
            norm="batch_norm",
            **views,
        )
    if method == "dgi":
        return dict(conv="gcn", hidden=s["hidden"], num_layers=s["num_layers"], activation="prelu")
    if method == "mvgrl":
        return dict(
            conv="gcn",
            hidden=s["hidden"],
            num_layers=s["num_layers"],
            activation="prelu",
            alpha=s["alpha"],
            eps=s["eps"],
        )
    raise ValueError(f"Unknown method '{method}'")


def run_graphssl(method: str, args: argparse.Namespace, device: torch.device, seed: int) -> dict:
    import graphssl
    from graphssl.methods import build_method

    settings = get_settings(method)
    config = graphssl_config(method)
    torch.manual_seed(seed)
    scratch = tempfile.mkdtemp(prefix="node_methods_graphssl_")
    try:
        data, loader = load_graphssl_data(args.dataset, args.root, scratch)
        data = data.to(device)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    mem0 = start_memory(device)  # peaks from here on: model, optimizer and training steps

    model = build_method(method, data.num_features, **config).to(device)
    params = [p for p in model.parameters() if p.requires_grad]  # not BGRL's EMA target
    opt = torch.optim.Adam(params, lr=settings["lr"], weight_decay=settings["weight_decay"])
    extra = {}
    if method == "mvgrl":  # the cached diffusion, once, before timing
        report, mem0 = one_off(
            lambda: {"edges": model.diffusion_view(data).edge_index.size(1)}, device
        )
        extra = {f"diffusion_{k}": v for k, v in report.items()}

    def step() -> torch.Tensor:
        model.train()
        loss = model.loss(data)
        opt.zero_grad()
        loss.backward()
        opt.step()
        model.update()  # BGRL's EMA update; a no-op for the others
        return loss.detach()

    timing = time_epochs(step, args.epochs, args.warmup, device, args.time_budget)
    return {
        "library": "graphssl",
        "version": getattr(graphssl, "__version__", None),
        "method": method,
        "config": config,
        "loader": loader,
        "dataset": args.dataset,
        "num_nodes": data.num_nodes,
        "num_edges": data.num_edges,
        "num_features": data.num_features,
        "num_parameters": sum(p.numel() for p in params),
        "threads": torch.get_num_threads(),
        "device": str(device),
        **extra,
        **timing,
        **mem0,
        **memory_report(device),
    }


def run_peer(method: str, args: argparse.Namespace, seed: int) -> dict:
    cmd = [
        peer_python(args),
        str(PEER_SCRIPT),
        "--method",
        method,
        "--dataset",
        args.dataset,
        "--root",
        args.root,
        "--epochs",
        str(args.epochs),
        "--warmup",
        str(args.warmup),
        "--threads",
        str(args.threads),
        "--device",
        args.device,
        "--seed",
        str(seed),
        "--compat-dir",
        args.compat_dir,
    ]
    if args.time_budget is not None:
        cmd += ["--time-budget", str(args.time_budget)]
    # The peer script imports neither graphssl nor anything of this venv; the environment passes
    # through unchanged (on the GPU machine PYTHONPATH is what finds PyGCL's wheel).
    proc = subprocess.run(cmd, capture_output=True, text=True)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        tail = "\n".join(proc.stderr.strip().splitlines()[-15:])
        return {"error": f"peer run failed (exit {proc.returncode})", "stderr_tail": tail}
    return json.loads(lines[-1])


def merge(runs: list[dict]) -> dict | None:
    """``grace_epoch.merge_rounds`` (timings pooled, memory peaks maxed), plus the one-off
    diffusion time of every round (its median in ``diffusion_seconds``)."""
    out = merge_rounds(runs)
    ok = [r for r in runs if "median_s" in r and "diffusion_seconds" in r]
    if out is not None and ok:
        out["diffusion_seconds_rounds"] = [r["diffusion_seconds"] for r in ok]
        out["diffusion_seconds"] = statistics.median(out["diffusion_seconds_rounds"])
        out["diffusion_peak_rss_mb"] = max(r["diffusion_peak_rss_mb"] for r in ok)
    return out


def print_diffusion(rows: list[dict]) -> None:
    """MVGRL's one-off diffusion time and memory of each side."""
    for row in rows:
        sides = [
            f"{label} {r['diffusion_seconds']:.2f} s ({r['diffusion_edges']:,} edges, "
            f"peak RSS {r['diffusion_peak_rss_mb']:.0f} MiB)"
            for label, r in (("graphssl", row["graphssl"]), ("PyGCL", row["pygcl"]))
            if r and "diffusion_seconds" in r
        ]
        if sides:
            print(f"{row['method']} diffusion, once before training: " + "; ".join(sides))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--methods", nargs="+", default=list(METHODS), choices=METHODS)
    p.add_argument("--dataset", default="Photo", help="Photo (Amazon-Photo) or Cora")
    add_comparison_args(p, "method")
    args = p.parse_args(argv)
    args.dataset = get_config(args.dataset)["name"]  # validates the name early
    device, run_peers, info = start_comparison(p, args, "node_methods", args.dataset)

    rows = []
    t_start = time.perf_counter()
    for method in args.methods:
        row: dict = {
            "method": method,
            "settings": get_settings(method),
            "graphssl_config": graphssl_config(method),
        }
        row.update(
            alternate_sides(
                "node_methods",
                method,
                args,
                lambda seed, method=method: run_graphssl(method, args, device, seed),
                (lambda seed, method=method: run_peer(method, args, seed)) if run_peers else None,
                merge,
            )
        )
        rows.append(row)
    wall_s = time.perf_counter() - t_start
    report_comparison(rows, device, "method")
    print_diffusion(rows)
    write_results(rows, args, device, info, wall_s, "node_methods")
    print("then: python benchmarks/readme_tables.py (the README's table of this file)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
