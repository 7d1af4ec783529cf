"""Peer side of ``benchmarks/augment.py``: PyGCL's augmentors and DIG's ``views_fn`` on the same
batch of molecules, timed with the same loop as graphssl (``time_calls``).

Runs in the peers venv (``../shared/peers/setup-peers.sh .venv-peers``); imports nothing of
graphssl. Reads the batch that ``augment.py`` saved (``--inputs``, plain tensors) and prints one
JSON line: per augmentation and library, every call's seconds, or the error that stopped it.

    .venv-peers/bin/python benchmarks/_peer_augment.py --inputs /tmp/molecules.pt
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import torch

DEFAULT_COMPAT_DIR = str(Path(__file__).resolve().parents[2] / "shared" / "peers")


def _sync() -> None:
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        torch.cuda.synchronize()


def time_calls(
    fn: Callable[[], object], repeats: int, warmup: int, budget_s: float | None = None
) -> list[float]:
    """Seconds of each of ``repeats`` calls of ``fn`` after ``warmup`` untimed calls; stops
    early once the timed calls add up to ``budget_s`` (at least 3 are timed). CUDA work is
    synchronised before and after each call, so its time is counted."""
    for _ in range(warmup):
        fn()
    times: list[float] = []
    for _ in range(repeats):
        _sync()
        start = time.perf_counter()
        fn()
        _sync()
        times.append(time.perf_counter() - start)
        if budget_s is not None and len(times) >= 3 and sum(times) >= budget_s:
            break
    return times


def summary(times: list[float]) -> dict:
    return {"median_s": statistics.median(times), "min_s": min(times), "times_s": times}


def load_inputs(path: str):
    """The batch that ``augment.py`` saved: ``x``, ``edge_index``, ``edge_attr``, ``ptr``."""
    from torch_geometric.data import Batch, Data

    raw = torch.load(path)
    ptr, eptr = raw["ptr"].tolist(), raw["edge_ptr"].tolist()
    graphs = [
        Data(
            x=raw["x"][ptr[g] : ptr[g + 1]],
            edge_index=raw["edge_index"][:, eptr[g] : eptr[g + 1]] - ptr[g],
            edge_attr=raw["edge_attr"][eptr[g] : eptr[g + 1]],
        )
        for g in range(len(ptr) - 1)
    ]
    return Batch.from_data_list(graphs)


def patch_pygcl_sort_edge_index() -> None:
    """PyGCL's ``add_edge`` does ``sort_edge_index(edge_index)[0]``: PyG 1.x returned
    ``(edge_index, None)``, PyG 2.x returns the tensor, so ``[0]`` takes its first row and
    ``EdgeAdding`` raises ``IndexError``. This restores the old return value for PyGCL only
    (the same work as before)."""
    import GCL.augmentors.functional as GF
    from torch_geometric.utils import sort_edge_index

    GF.sort_edge_index = lambda edge_index: (sort_edge_index(edge_index), None)


def pygcl_augmentors(p: float) -> dict[str, Callable[[], object]]:
    import GCL.augmentors as A

    patch_pygcl_sort_edge_index()

    return {
        "node_drop": lambda: A.NodeDropping(pn=p),
        "subgraph": lambda: A.RWSampling(num_seeds=1000, walk_length=10),
        "edge_perturbation": lambda: A.Compose([A.EdgeRemoving(pe=p), A.EdgeAdding(pe=p)]),
        "attribute_masking": lambda: A.FeatureMasking(pf=p),
    }


def dig_views(p: float) -> dict[str, Callable[[], object]]:
    from dig.sslgraph.method.contrastive.views_fn import (
        EdgePerturbation,
        NodeAttrMask,
        RWSample,
        UniformSample,
    )

    return {
        "node_drop": lambda: UniformSample(ratio=p),
        "subgraph": lambda: RWSample(ratio=1.0 - p),
        # EdgePerturbation() with defaults (add=True, drop=False) raises UnboundLocalError: it
        # reads idx_remain, which only the drop branch assigns. So: drop and add, as GraphCL.
        "edge_perturbation": lambda: EdgePerturbation(add=True, drop=True, ratio=p),
        "attribute_masking": lambda: NodeAttrMask(mode="whole", mask_ratio=p),
    }


def dig_default_edge_perturbation(batch) -> str:
    """The error DIG's ``EdgePerturbation()`` raises with its default arguments."""
    from dig.sslgraph.method.contrastive.views_fn import EdgePerturbation

    try:
        EdgePerturbation()(batch)
    except Exception as err:  # noqa: BLE001 (we report whatever it is)
        return f"{type(err).__name__}: {err}"
    return "ran"


def run_side(
    makers: dict[str, Callable[[], object]], call: Callable, args: argparse.Namespace
) -> dict:
    out = {}
    for name, make in makers.items():
        try:
            aug = make()
            times = time_calls(lambda aug=aug: call(aug), args.repeats, args.warmup, args.budget)
            out[name] = summary(times)
        except Exception as err:  # noqa: BLE001 (a peer that cannot run is reported, not fatal)
            out[name] = {"error": f"{type(err).__name__}: {err}"}
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--inputs", required=True)
    parser.add_argument("--p", type=float, default=0.2)
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--budget", type=float, default=20.0, help="seconds per augmentation")
    parser.add_argument("--dig-repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--compat-dir", default=DEFAULT_COMPAT_DIR)
    parser.add_argument("--skip-dig", action="store_true")
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args(argv)
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    sys.path.insert(0, args.compat_dir)
    import peer_compat

    peer_compat.install()
    torch.manual_seed(args.seed)
    batch = load_inputs(args.inputs).to(args.device)
    x, edge_index = batch.x, batch.edge_index
    result = {
        "threads": torch.get_num_threads(),
        "num_graphs": batch.num_graphs,
        "device": str(batch.x.device),
    }
    result["pygcl"] = run_side(pygcl_augmentors(args.p), lambda aug: aug(x, edge_index), args)
    if not args.skip_dig:
        dig_args = argparse.Namespace(**{**vars(args), "repeats": args.dig_repeats, "warmup": 1})
        result["dig"] = run_side(dig_views(args.p), lambda aug: aug(batch), dig_args)
        result["dig_edge_perturbation_defaults"] = dig_default_edge_perturbation(batch)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
