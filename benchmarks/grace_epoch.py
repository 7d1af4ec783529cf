"""GRACE seconds per epoch, graphssl side by side with PyGCL, in one run on one machine.

    .venv/bin/python benchmarks/grace_epoch.py --datasets Cora Photo --epochs 20 --warmup 3 \\
        --root ../shared/datasets --peers-venv .venv-peers --device cpu

graphssl's GRACE runs in this process; PyGCL's (``benchmarks/_peer_grace.py``) in a subprocess of
the peers venv (made by ``../shared/peers/setup-peers.sh .venv-peers``; skipped, with a
message, when that venv is absent). Both use the same sizes and rates (``_peer_grace.CONFIGS``:
GRACE paper for Cora, GCA for Amazon-Photo), the same data (PyG, ``T.NormalizeFeatures()``), the
same thread count, and the same timing loop (``_peer_grace.time_epochs``): ``warmup`` untimed
epochs, then ``epochs`` timed full steps (augmentation + forward + loss + backward + optimizer
step), with ``torch.cuda.synchronize()`` around each on CUDA.

Prints a table (median s/epoch of each, the ratio graphssl/PyGCL, whose target is <= 1.0, and
the peak memory of each) and writes a JSON results file (``--out``, default
``benchmarks/results/grace_epoch_<device>.json``) naming the machine.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import torch

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _peer_grace import (  # noqa: E402
    DEFAULT_COMPAT_DIR,
    get_config,
    load_pyg,
    memory_report,
    start_memory,
    time_epochs,
)

PEER_SCRIPT = HERE / "_peer_grace.py"


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return ""


def _cpu_counters() -> tuple[float, float, float]:
    """(wall, machine-wide busy CPU seconds, CPU seconds of this process and its waited-for
    children); the busy figure is read from /proc/stat (0.0 where that is unavailable)."""
    busy = 0.0
    try:
        with open("/proc/stat") as f:
            vals = [int(v) for v in f.readline().split()[1:9]]
        busy = (sum(vals) - vals[3] - vals[4]) / os.sysconf("SC_CLK_TCK")  # minus idle, iowait
    except (OSError, ValueError):
        pass
    t = os.times()
    return time.perf_counter(), busy, t.user + t.system + t.children_user + t.children_system


def other_load(before: tuple[float, float, float]) -> dict:
    """CPU time that OTHER processes used on this machine since ``before``, in CPU seconds and
    as a fraction of the machine's capacity over that time (0 = we had the machine alone)."""
    wall0, busy0, own0 = before
    wall1, busy1, own1 = _cpu_counters()
    others = max(0.0, (busy1 - busy0) - (own1 - own0))
    capacity = max(1e-9, (wall1 - wall0) * (os.cpu_count() or 1))
    return {"other_cpu_s": others, "other_cpu_frac": others / capacity}


def machine_info(device: torch.device, threads: int) -> dict:
    import torch_geometric

    info = {
        "processor": platform.processor(),
        "cpu_model": _cpu_model(),
        "machine": platform.machine(),
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        "cpu_affinity": len(os.sched_getaffinity(0)),
        "threads": threads,
        "python": platform.python_version(),
        "torch": torch.__version__,
        "torch_geometric": torch_geometric.__version__,
        "device": str(device),
    }
    if device.type == "cuda":
        info["cuda_device"] = torch.cuda.get_device_name(device)
        info["cuda_version"] = torch.version.cuda
    return info


def load_graphssl_data(name: str, root: str, scratch: str):
    """graphssl's own loader when it exists, else PyG from a scratch copy (same as the peer)."""
    import torch_geometric.transforms as T
    from torch_geometric.data import Data

    try:
        from graphssl.data import load_dataset
    except ImportError:
        return load_pyg(name, root, scratch), "torch_geometric (graphssl.data not available)"
    out = load_dataset(name, root, cache_dir=scratch, transform=T.NormalizeFeatures())
    if not isinstance(out, Data):  # the dataset (PyG datasets forward attributes: no hasattr)
        out = out[0]
    return out, "graphssl.data.load_dataset"


def run_graphssl(name: str, args: argparse.Namespace, device: torch.device, seed: int) -> dict:
    import graphssl
    from graphssl.encoders import NodeEncoder
    from graphssl.methods import GRACE

    cfg = get_config(name)
    torch.manual_seed(seed)
    scratch = tempfile.mkdtemp(prefix="grace_epoch_graphssl_")
    try:
        data, loader = load_graphssl_data(cfg["name"], args.root, scratch)
        data = data.to(device)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    mem0 = start_memory(device)  # peaks from here on: model, optimizer and training steps

    encoder = NodeEncoder(
        "gcn",
        data.num_features,
        2 * cfg["out"],
        cfg["out"],
        num_layers=2,
        act=cfg["act"],
        act_last=True,
    )
    model = GRACE(
        encoder,
        cfg["out"],
        cfg["proj"],
        tau=cfg["tau"],
        drop_edge=cfg["drop_edge"],
        drop_feature=cfg["drop_feature"],
        chunk_size=args.chunk_size,
    ).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=cfg["lr"], weight_decay=cfg["weight_decay"])

    def step() -> torch.Tensor:
        model.train()
        loss = model.loss(data)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss.detach()

    timing = time_epochs(step, args.epochs, args.warmup, device, args.time_budget)
    return {
        "library": "graphssl",
        "version": getattr(graphssl, "__version__", None),
        "loader": loader,
        "dataset": cfg["name"],
        "num_nodes": data.num_nodes,
        "num_edges": data.num_edges,
        "num_features": data.num_features,
        "num_parameters": sum(p.numel() for p in model.parameters()),
        "chunk_size": args.chunk_size,
        "threads": torch.get_num_threads(),
        "device": str(device),
        **timing,
        **mem0,
        **memory_report(device),
    }


def peer_python(args: argparse.Namespace) -> str:
    return args.peer_python or str(Path(args.peers_venv) / "bin" / "python")


def run_peer(name: str, args: argparse.Namespace, seed: int) -> dict:
    cmd = [
        peer_python(args),
        str(PEER_SCRIPT),
        "--dataset",
        name,
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
    if args.peer_example_forward:
        cmd.append("--example-forward")
    # The peer script imports neither graphssl nor anything of this venv; the environment passes
    # through unchanged (on the GPU machine PYTHONPATH is what finds PyGCL's wheel).
    proc = subprocess.run(cmd, capture_output=True, text=True)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        tail = "\n".join(proc.stderr.strip().splitlines()[-15:])
        return {"error": f"peer run failed (exit {proc.returncode})", "stderr_tail": tail}
    return json.loads(lines[-1])


def merge_rounds(runs: list[dict]) -> dict | None:
    """One side's result over all rounds: the timings pooled, memory peaks maxed."""
    ok = [r for r in runs if "median_s" in r]
    if not ok:
        return runs[-1] if runs else None
    times = [t for r in ok for t in r["times_s"]]
    out = dict(ok[0])
    out.update(
        rounds=len(ok),
        epochs_timed=len(times),
        times_s=times,
        median_s=statistics.median(times),
        min_s=min(times),
        max_s=max(times),
        peak_rss_mb=max(r["peak_rss_mb"] for r in ok),
        other_cpu_s=sum(r["other_cpu_s"] for r in ok),
        other_cpu_frac=max(r["other_cpu_frac"] for r in ok),
        per_round=[
            {k: r[k] for k in ("median_s", "min_s", "max_s", "peak_rss_mb", "other_cpu_frac")}
            for r in ok
        ],
    )
    if "cuda_max_allocated_mb" in ok[0]:
        out["cuda_max_allocated_mb"] = max(r["cuda_max_allocated_mb"] for r in ok)
    return out


def alternate_sides(
    prefix: str,
    name: str,
    args: argparse.Namespace,
    run_ours: Callable[[int], dict],
    run_theirs: Callable[[int], dict] | None,
    merge: Callable[[list[dict]], dict | None] | None = None,
) -> dict:
    """Runs graphssl's side and the peer's (``None``: skipped) ``args.rounds`` times,
    alternating them so that a burst of other work on the machine does not fall on one side
    only, each with the share of the CPU that other processes used; returns each side's
    merged rounds and the ratios graphssl / peer of the median and of the minimum."""
    merge = merge or merge_rounds
    runs: dict[str, list[dict]] = {"graphssl": [], "pygcl": []}
    sides = [("graphssl", None if args.skip_graphssl else run_ours), ("pygcl", run_theirs)]
    for r in range(args.rounds):
        tag = f"{name} (round {r + 1}/{args.rounds})" if args.rounds > 1 else name
        for side, run in sides:
            if run is None:
                continue
            print(f"[{prefix}] {tag}: {side} ...", file=sys.stderr, flush=True)
            before = _cpu_counters()
            res = run(args.seed + r)
            res.update(other_load(before))
            runs[side].append(res)
            if "error" in res:
                print(f"[{prefix}] {name}: {res['error']}\n{res['stderr_tail']}", file=sys.stderr)
                return _sides(runs, merge)
    return _sides(runs, merge)


def _sides(runs: dict[str, list[dict]], merge: Callable[[list[dict]], dict | None]) -> dict:
    g, q = merge(runs["graphssl"]), merge(runs["pygcl"])
    both = g is not None and q is not None and "median_s" in g and "median_s" in q
    return {
        "graphssl": g,
        "pygcl": q,
        "ratio": g["median_s"] / q["median_s"] if both else None,
        "ratio_min": g["min_s"] / q["min_s"] if both else None,
    }


def _fmt_time(r: dict | None) -> str:
    if not r or "median_s" not in r:
        return "n/a"

    def f(x: float) -> str:
        return f"{x:.3f}" if x >= 0.1 else f"{x:.4f}"

    return f"{f(r['median_s'])} [{f(r['min_s'])}-{f(r['max_s'])}]"


def _fmt_mem(r: dict | None, key: str) -> str:
    if not r or key not in r:
        return "n/a"
    return f"{r[key]:.0f}"


def print_table(rows: list[dict], device: torch.device, key: str) -> None:
    """The side-by-side table of ``rows`` (one per ``row[key]``, e.g. a dataset or a method):
    each side's median s/epoch with its range, the ratio and the memory peaks."""
    head = [
        key,
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
            row[key],
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


def add_comparison_args(p: argparse.ArgumentParser, unit: str) -> None:
    """The options every graphssl-vs-PyGCL timing script shares; ``unit`` names what one
    row of its table is (``"dataset"``, ``"method"``)."""
    p.add_argument("--epochs", type=int, default=20, help=f"timed epochs per side and {unit}")
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
        help=f"alternate graphssl / PyGCL this many times per {unit}; timings are pooled",
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


def start_comparison(
    p: argparse.ArgumentParser, args: argparse.Namespace, prefix: str, what: str = ""
) -> tuple[torch.device, bool, dict]:
    """Sets the device and thread count from ``args``, checks that the peer interpreter
    exists (else the PyGCL side is skipped, with a message) and prints the machine. Returns
    the device, whether to run the peer side, and the machine description for the results."""
    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        p.error("--device cuda but torch.cuda.is_available() is False")
    if args.threads is None:
        args.threads = len(os.sched_getaffinity(0))
    torch.set_num_threads(args.threads)

    peer_py = peer_python(args)
    run_peers = not args.skip_peer
    if run_peers and shutil.which(peer_py) is None:
        print(
            f"[{prefix}] peers venv not found ({peer_py} missing): skipping PyGCL. "
            f"Create it with ../shared/peers/setup-peers.sh {args.peers_venv}",
            file=sys.stderr,
        )
        run_peers = False

    info = machine_info(device, args.threads)
    info["loadavg_start"] = os.getloadavg()
    print(
        f"[{prefix}] {info['cpu_model'] or info['processor']} | {info['cpu_count']} CPUs | "
        f"{args.threads} threads | torch {info['torch']} | device {device}"
        + (f" ({info['cuda_device']})" if "cuda_device" in info else "")
        + (f" | {what}" if what else ""),
        file=sys.stderr,
    )
    return device, run_peers, info


def report_comparison(rows: list[dict], device: torch.device, key: str) -> None:
    """Prints the table and notes the rows whose timings other processes disturbed."""
    print()
    print_table(rows, device, key)
    busy = [
        f"{row[key]}/{side}: {row[side]['other_cpu_frac']:.0%}"
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


def write_results(
    rows: list[dict],
    args: argparse.Namespace,
    device: torch.device,
    info: dict,
    wall_s: float,
    prefix: str,
) -> Path:
    """Writes the results JSON (``args.out``, default ``results/<prefix>_<device>.json``)."""
    info["loadavg_end"] = os.getloadavg()
    out = Path(args.out or HERE / "results" / f"{prefix}_{device.type}.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    result = {
        "benchmark": prefix,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": info,
        "args": dict(vars(args)),
        "wall_s": wall_s,
        "results": rows,
    }
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"results written to {out}")
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--datasets", nargs="+", default=["Cora", "Photo"])
    add_comparison_args(p, "dataset")
    p.add_argument(
        "--chunk-size",
        type=int,
        default=None,
        help="graphssl InfoNCE chunk (default: info_nce's automatic choice)",
    )
    p.add_argument(
        "--peer-example-forward",
        action="store_true",
        help="PyGCL: also encode the unperturbed graph each step, as its example does",
    )
    args = p.parse_args(argv)
    names = [get_config(n)["name"] for n in args.datasets]  # validates the names early
    device, run_peers, info = start_comparison(p, args, "grace_epoch")

    rows = []
    t_start = time.perf_counter()
    for name in names:
        cfg = get_config(name)
        row: dict = {"dataset": name, "config": cfg}
        row.update(
            alternate_sides(
                "grace_epoch",
                name,
                args,
                lambda seed, name=name: run_graphssl(name, args, device, seed),
                (lambda seed, name=name: run_peer(name, args, seed)) if run_peers else None,
            )
        )
        rows.append(row)
    wall_s = time.perf_counter() - t_start
    report_comparison(rows, device, "dataset")
    write_results(rows, args, device, info, wall_s, "grace_epoch")
    return 0


if __name__ == "__main__":
    sys.exit(main())
