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
import os
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
    DEFAULT_COMPAT_DIR,
    get_config,
    memory_report,
    start_memory,
    time_epochs,
)
from _peer_node_methods import METHODS, get_settings, one_off  # noqa: E402
from grace_epoch import (  # noqa: E402
    _fmt_mem,
    _fmt_time,
    alternate_sides,
    load_graphssl_data,
    machine_info,
    merge_rounds,
    peer_python,
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


def print_table(rows: list[dict], device: torch.device) -> None:
    head = [
        "method",
        "graphssl s/epoch [min-max]",
        "PyGCL s/epoch [min-max]",
        "ratio",
        "graphssl peak RSS MiB",
        "PyGCL peak RSS MiB",
    ]
    if device.type == "cuda":
        head += ["graphssl CUDA max MiB", "PyGCL CUDA max MiB"]
    table = [head]
    for row in rows:
        g, p = row["graphssl"], row["pygcl"]
        ratio = row.get("ratio")
        line = [
            row["method"],
            _fmt_time(g),
            _fmt_time(p),
            "n/a" if ratio is None else f"{ratio:.2f}",
            _fmt_mem(g, "peak_rss_mb"),
            _fmt_mem(p, "peak_rss_mb"),
        ]
        if device.type == "cuda":
            line += [_fmt_mem(g, "cuda_max_allocated_mb"), _fmt_mem(p, "cuda_max_allocated_mb")]
        table.append(line)
    widths = [max(len(r[i]) for r in table) for i in range(len(head))]
    for i, r in enumerate(table):
        print("  ".join(c.ljust(w) for c, w in zip(r, widths)))
        if i == 0:
            print("  ".join("-" * w for w in widths))
    print("ratio = graphssl median / PyGCL median (target <= 1.0); [min-max] over timed epochs")
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
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--methods", nargs="+", default=list(METHODS), choices=METHODS)
    p.add_argument("--dataset", default="Photo", help="Photo (Amazon-Photo) or Cora")
    p.add_argument("--epochs", type=int, default=20, help="timed epochs per side and method")
    p.add_argument("--warmup", type=int, default=3, help="untimed epochs before them")
    p.add_argument(
        "--root",
        default=os.environ.get("GRAPHSSL_DATA", str(HERE.parents[1] / "shared" / "datasets")),
    )
    p.add_argument("--peers-venv", default=".venv-peers")
    p.add_argument(
        "--peer-python",
        default=None,
        help="interpreter for the PyGCL side instead of <peers-venv>/bin/python "
        "(e.g. python3 on the GPU machine, with PyGCL on PYTHONPATH)",
    )
    p.add_argument("--device", default="cpu")
    p.add_argument("--threads", type=int, default=None, help="torch threads (default: all cores)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="alternate graphssl / PyGCL this many times per method; timings are pooled",
    )
    p.add_argument(
        "--time-budget",
        type=float,
        default=None,
        help="stop a side once its timed epochs add up to this many seconds (>= 3 epochs)",
    )
    p.add_argument(
        "--compat-dir",
        default=os.environ.get("PEER_COMPAT_DIR", DEFAULT_COMPAT_DIR),
        help="folder with peer_compat.py",
    )
    p.add_argument("--skip-peer", action="store_true")
    p.add_argument("--skip-graphssl", action="store_true")
    p.add_argument("--out", default=None, help="results JSON path")
    args = p.parse_args(argv)

    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        p.error("--device cuda but torch.cuda.is_available() is False")
    if args.threads is None:
        args.threads = len(os.sched_getaffinity(0))
    torch.set_num_threads(args.threads)
    args.dataset = get_config(args.dataset)["name"]  # validates the name early

    peer_py = peer_python(args)
    run_peers = not args.skip_peer
    if run_peers and shutil.which(peer_py) is None:
        print(
            f"[node_methods] peers venv not found ({peer_py} missing): skipping PyGCL. "
            f"Create it with ../shared/peers/setup-peers.sh {args.peers_venv}",
            file=sys.stderr,
        )
        run_peers = False

    info = machine_info(device, args.threads)
    info["loadavg_start"] = os.getloadavg()
    print(
        f"[node_methods] {info['cpu_model'] or info['processor']} | {info['cpu_count']} CPUs | "
        f"{args.threads} threads | torch {info['torch']} | device {device}"
        + (f" ({info['cuda_device']})" if "cuda_device" in info else "")
        + f" | {args.dataset}",
        file=sys.stderr,
    )
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
    info["loadavg_end"] = os.getloadavg()

    print()
    print_table(rows, device)
    busy = [
        f"{row['method']}/{side}: {row[side]['other_cpu_frac']:.0%}"
        for row in rows
        for side in ("graphssl", "pygcl")
        if row[side] and row[side].get("other_cpu_frac", 0.0) > 0.05
    ]
    if busy:
        print(
            "note: other processes used part of this machine's CPU during "
            + ", ".join(busy)
            + "; those timings are noisy, rerun on an idle machine"
        )

    out = Path(args.out or HERE / "results" / f"node_methods_{device.type}.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    result = {
        "benchmark": "node_methods",
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": info,
        "args": dict(vars(args)),
        "wall_s": time.perf_counter() - t_start,
        "results": rows,
    }
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"results written to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
