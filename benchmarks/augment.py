"""Augmentation speed, graphssl side by side with PyGCL, DIG and PyG, in one run on one machine.

    .venv/bin/python benchmarks/augment.py --root ../shared/datasets --peers-venv .venv-peers

(a) GraphCL's four views (node drop 20 %, subgraph 20 %, edge perturbation 20 %, attribute
    masking 20 %) of one batch of ``--num-graphs`` real molecules: the first MoleculeNet BBBP
    SMILES that RDKit parses, featurised by PyG's ``from_smiles`` (9 categorical atom features,
    cast to float, 3 bond features). graphssl here; PyGCL's augmentors and DIG's ``views_fn`` in
    a subprocess of the peers venv (``benchmarks/_peer_augment.py``) on the same tensors.
(b) GRACE's edge drop + feature (column) mask on Amazon-Photo: graphssl's classes and its
    functional core vs PyG's own ``dropout_edge`` + ``mask_feature``, both here.

Every side is timed by the same loop (``_peer_augment.time_calls``: warm-up calls, then timed
calls). Prints per-call medians and the ratios, and writes ``--out`` (default
``benchmarks/results/augment_<device>.json``) with the machine named.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import torch

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _peer_augment import DEFAULT_COMPAT_DIR, summary, time_calls  # noqa: E402
from grace_epoch import _cpu_counters, machine_info, other_load  # noqa: E402

PEER_SCRIPT = HERE / "_peer_augment.py"
AUGS = ("node_drop", "subgraph", "edge_perturbation", "attribute_masking")
LABELS = {
    "graphssl": {
        "node_drop": "DropNodes(p, exact=True)",
        "subgraph": "RandomWalkSubgraph(1 - p)",
        "edge_perturbation": "PerturbEdges(p)",
        "attribute_masking": "MaskNodes(p, exact=True)",
    },
    "pygcl": {
        "node_drop": "NodeDropping(pn=p)",
        "subgraph": "RWSampling(num_seeds=1000, walk_length=10)",
        "edge_perturbation": "Compose([EdgeRemoving(pe=p), EdgeAdding(pe=p)]) (EdgeAdding with a "
        "shim for PyG 2's sort_edge_index)",
        "attribute_masking": "FeatureMasking(pf=p) (columns; PyGCL has no row masking)",
    },
    "dig": {
        "node_drop": "UniformSample(ratio=p)",
        "subgraph": "RWSample(ratio=1 - p)",
        "edge_perturbation": "EdgePerturbation(add=True, drop=True, ratio=p)",
        "attribute_masking": "NodeAttrMask(mode='whole', mask_ratio=p)",
    },
}


# --------------------------------------------------------------------------------------------
# Data.
# --------------------------------------------------------------------------------------------


def load_molecules(root: str, num_graphs: int):
    """The first ``num_graphs`` BBBP molecules that RDKit parses, as one ``Batch``."""
    from rdkit import RDLogger
    from torch_geometric.data import Batch
    from torch_geometric.utils import from_smiles

    RDLogger.DisableLog("rdApp.*")
    path = Path(root) / "moleculenet" / "bbbp.csv"
    graphs = []
    with path.open() as f:
        for row in csv.DictReader(f):
            try:
                data = from_smiles(row["smiles"])
            except Exception:  # noqa: BLE001 (unparsable SMILES are skipped)
                continue
            if data.num_nodes == 0:
                continue
            graphs.append(
                data.__class__(
                    x=data.x.float(), edge_index=data.edge_index, edge_attr=data.edge_attr.float()
                )
            )
            if len(graphs) == num_graphs:
                break
    if len(graphs) < num_graphs:
        raise ValueError(f"{path} has only {len(graphs)} parsable molecules")
    return Batch.from_data_list(graphs), str(path)


def save_inputs(batch, path: str) -> None:
    edge_counts = torch.bincount(batch.batch[batch.edge_index[0]], minlength=batch.num_graphs)
    edge_ptr = torch.cat([edge_counts.new_zeros(1), edge_counts.cumsum(0)])
    torch.save(
        {
            "x": batch.x,
            "edge_index": batch.edge_index,
            "edge_attr": batch.edge_attr,
            "ptr": batch.ptr,
            "edge_ptr": edge_ptr,
        },
        path,
    )


# --------------------------------------------------------------------------------------------
# Sides.
# --------------------------------------------------------------------------------------------


def graphssl_views(p: float) -> dict:
    import graphssl.augment as A

    return {
        "node_drop": A.DropNodes(p, exact=True),
        "subgraph": A.RandomWalkSubgraph(1.0 - p),
        "edge_perturbation": A.PerturbEdges(p),
        "attribute_masking": A.MaskNodes(p, exact=True),
        # Not a GraphCL view: the like-for-like partner of PyGCL's FeatureMasking (columns).
        "column_masking": A.MaskFeatures(p),
    }


def run_graphssl_molecules(batch, args: argparse.Namespace) -> dict:
    gen = torch.Generator(device=batch.x.device).manual_seed(args.seed)
    out = {}
    for name, aug in graphssl_views(args.p).items():
        times = time_calls(lambda aug=aug: aug(batch, gen), args.repeats, args.warmup, args.budget)
        out[name] = summary(times)
    return out


def _pool(into: dict, side: str, result: dict) -> None:
    """Adds a round's per-augmentation call times to ``into[side]`` (medians recomputed)."""
    pooled = into.setdefault(side, {})
    for name, entry in result.items():
        if not isinstance(entry, dict) or "times_s" not in entry:
            pooled.setdefault(name, entry)
            continue
        times = pooled.get(name, {}).get("times_s", []) + entry["times_s"]
        pooled[name] = summary(times)


def _pool_peers(mol: dict, result: dict) -> None:
    peers = mol.setdefault("peers", {})
    if "error" in result:
        peers.setdefault("error", result["error"])
        peers.setdefault("stderr_tail", result.get("stderr_tail", ""))
        return
    for key, value in result.items():
        if key in ("pygcl", "dig"):
            _pool(peers, key, value)
        else:
            peers.setdefault(key, value)


def run_peers(inputs: str, args: argparse.Namespace, skip_dig: bool) -> dict:
    python = args.peer_python or str(Path(args.peers_venv) / "bin" / "python")
    if not Path(python).exists():
        return {"error": f"no peers interpreter at {python} (see benchmarks/README.md)"}
    cmd = [
        python, str(PEER_SCRIPT), "--inputs", inputs, "--p", str(args.p),
        "--repeats", str(args.repeats), "--warmup", str(args.warmup),
        "--budget", str(args.budget), "--dig-repeats", str(args.dig_repeats),
        "--threads", str(torch.get_num_threads()), "--seed", str(args.seed),
        "--compat-dir", args.compat_dir, "--device", args.device,
    ]  # fmt: skip
    if skip_dig:
        cmd.append("--skip-dig")
    proc = subprocess.run(cmd, capture_output=True, text=True)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        tail = "\n".join(proc.stderr.strip().splitlines()[-15:])
        return {"error": f"peer run failed (exit {proc.returncode})", "stderr_tail": tail}
    return json.loads(lines[-1])


def run_photo(args: argparse.Namespace, scratch: str) -> dict:
    """Edge drop + column mask on Amazon-Photo: graphssl (classes, functional) vs PyG."""
    from torch_geometric.utils import dropout_edge, mask_feature

    import graphssl.augment as A
    from graphssl.augment import functional as F
    from graphssl.data import load_dataset

    data = load_dataset("Photo", args.root, cache_dir=scratch)[0].to(args.device)
    pe, pf = args.photo_edge_p, args.photo_feature_p
    gen = torch.Generator(device=data.x.device).manual_seed(args.seed)
    drop, mask = A.DropEdges(pe), A.MaskFeatures(pf)

    def graphssl_classes():
        return mask(drop(data, gen), gen)

    def graphssl_functional():
        edge_index, _, _ = F.drop_edges(data.edge_index, pe, generator=gen)
        x, _ = F.mask_feature_columns(data.x, pf, generator=gen)
        return x, edge_index

    def pyg():
        edge_index, _ = dropout_edge(data.edge_index, p=pe)
        x, _ = mask_feature(data.x, p=pf, mode="col")
        return x, edge_index

    sides = {"graphssl": graphssl_classes, "graphssl_functional": graphssl_functional, "pyg": pyg}
    out = {"graph": {"num_nodes": data.num_nodes, "num_edges": data.edge_index.size(1),
                     "num_features": data.x.size(1)}, "p_edge": pe, "p_feature": pf}  # fmt: skip
    repeats = args.photo_repeats
    for _ in range(args.rounds):  # alternate the sides so that other load hits all of them
        for name, fn in sides.items():
            times = time_calls(fn, repeats, args.warmup)
            out.setdefault(name, {"times_s": []})["times_s"].extend(times)
    for name in sides:
        out[name] = summary(out[name]["times_s"])
    return out


# --------------------------------------------------------------------------------------------
# Report.
# --------------------------------------------------------------------------------------------


def _ms(entry: dict | None) -> str:
    if not entry:
        return "n/a"
    if "error" in entry:
        return "cannot run"
    return f"{1e3 * entry['median_s']:.2f} ms"


def molecule_ratios(result: dict) -> dict:
    """Per augmentation and over the four (sum of medians): PyGCL / graphssl and DIG / graphssl
    (speed-ups of graphssl; targets >= 1 and >= 20)."""
    ours, peers = result["graphssl"], result.get("peers", {})
    ratios: dict = {}
    for peer in ("pygcl", "dig"):
        side = peers.get(peer, {})
        per = {}
        for name in AUGS:
            theirs = side.get(name, {})
            if "median_s" in theirs:
                per[name] = theirs["median_s"] / ours[name]["median_s"]
        ok = [n for n in AUGS if n in per]
        total = sum(side[n]["median_s"] for n in ok) / sum(ours[n]["median_s"] for n in ok or AUGS)
        ratios[peer] = {"per_augmentation": per, "over_runnable": total if ok else None,
                        "runnable": ok}  # fmt: skip
    # PyGCL's "attribute masking" masks columns: compare it with graphssl's column masking too.
    pygcl = peers.get("pygcl", {})
    like = {"node_drop": "node_drop", "edge_perturbation": "edge_perturbation",
            "attribute_masking": "column_masking"}  # fmt: skip
    if all("median_s" in pygcl.get(n, {}) for n in like) and "column_masking" in ours:
        theirs = sum(pygcl[n]["median_s"] for n in like)
        ratios["pygcl"]["like_for_like"] = theirs / sum(ours[m]["median_s"] for m in like.values())
        ratios["pygcl"]["column_masking"] = (
            pygcl["attribute_masking"]["median_s"] / ours["column_masking"]["median_s"]
        )
    return ratios


def print_report(result: dict) -> None:
    mol = result["molecules"]
    peers = mol.get("peers", {})
    print(f"\n(a) GraphCL views of {mol['num_graphs']} molecules ({mol['num_nodes']} nodes, "
          f"{mol['num_edges']} edges), p = {mol['p']}: median per call")  # fmt: skip
    print(f"{'augmentation':<20}{'graphssl':>12}{'PyGCL':>14}{'DIG':>14}"
          f"{'PyGCL/ours':>12}{'DIG/ours':>10}")  # fmt: skip
    ratios = mol["ratios"]
    for name in AUGS:
        pg = ratios["pygcl"]["per_augmentation"].get(name)
        dg = ratios["dig"]["per_augmentation"].get(name)
        print(
            f"{name:<20}{_ms(mol['graphssl'][name]):>12}"
            f"{_ms(peers.get('pygcl', {}).get(name)):>14}{_ms(peers.get('dig', {}).get(name)):>14}"
            f"{(f'{pg:.1f}x' if pg else 'n/a'):>12}{(f'{dg:.0f}x' if dg else 'n/a'):>10}"
        )
    col = ratios["pygcl"].get("column_masking")
    print(f"{'(column_masking)':<20}{_ms(mol['graphssl'].get('column_masking')):>12}"
          f"{_ms(peers.get('pygcl', {}).get('attribute_masking')):>14}{'':>14}"
          f"{(f'{col:.1f}x' if col else 'n/a'):>12}")  # fmt: skip
    if ratios["pygcl"].get("like_for_like"):
        print(f"  pygcl like for like (graphssl column masking for PyGCL's FeatureMasking): "
              f"{ratios['pygcl']['like_for_like']:.1f}x")  # fmt: skip
    for peer in ("pygcl", "dig"):
        r = ratios[peer]
        if r["over_runnable"]:
            print(f"  {peer}: over {', '.join(r['runnable'])}: {r['over_runnable']:.1f}x")
        for name, entry in peers.get(peer, {}).items():
            if isinstance(entry, dict) and "error" in entry:
                print(f"  {peer} {name} cannot run: {entry['error'][:150]}")
    if "dig_edge_perturbation_defaults" in peers:
        print(f"  DIG EdgePerturbation() with defaults: {peers['dig_edge_perturbation_defaults']}")
    if "error" in peers:
        print(f"  peers: {peers['error']}\n{peers.get('stderr_tail', '')}")
    photo = result["photo"]
    g = photo["graph"]
    print(f"\n(b) Amazon-Photo ({g['num_nodes']} nodes, {g['num_edges']} edges, "
          f"{g['num_features']} features): edge drop {photo['p_edge']} + column mask "
          f"{photo['p_feature']}, median per call")  # fmt: skip
    for name in ("graphssl", "graphssl_functional", "pyg"):
        ratio = photo[name]["median_s"] / photo["pyg"]["median_s"]
        print(f"{name:<22}{_ms(photo[name]):>12}   / PyG = {ratio:.2f}")
    load = result.get("other_load", {})
    if load.get("other_cpu_frac", 0) > 0.05:
        print(f"\nnote: other processes used {100 * load['other_cpu_frac']:.0f} % of the CPU "
              "during this run; rerun on a quiet machine")  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--root",
        default=os.environ.get("GRAPHSSL_DATA", str(HERE.parents[1] / "shared" / "datasets")),
    )
    parser.add_argument("--num-graphs", type=int, default=1024)
    parser.add_argument("--p", type=float, default=0.2)
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--budget", type=float, default=20.0, help="seconds per augmentation")
    parser.add_argument("--dig-repeats", type=int, default=5)
    parser.add_argument("--photo-repeats", type=int, default=20)
    parser.add_argument("--photo-edge-p", type=float, default=0.3)
    parser.add_argument("--photo-feature-p", type=float, default=0.1)
    parser.add_argument("--rounds", type=int, default=3, help="alternations of the sides")
    parser.add_argument("--threads", type=int, default=0, help="0: torch's default")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--peers-venv", default=".venv-peers")
    parser.add_argument("--peer-python", default=None)
    parser.add_argument("--compat-dir", default=DEFAULT_COMPAT_DIR)
    parser.add_argument("--skip-peers", action="store_true")
    parser.add_argument("--skip-dig", action="store_true")
    parser.add_argument("--out", default=None)
    parser.add_argument("--device", default="cpu", help="cpu, cuda or cuda:k (all sides)")
    args = parser.parse_args(argv)
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        parser.error("--device cuda: no CUDA device here")
    out = Path(args.out or HERE / "results" / f"augment_{device.type}.json")
    before = _cpu_counters()
    with tempfile.TemporaryDirectory() as scratch:
        batch, source = load_molecules(args.root, args.num_graphs)
        mol = {"source": source, "featurisation": "torch_geometric.utils.from_smiles, x float",
               "num_graphs": batch.num_graphs, "num_nodes": batch.num_nodes,
               "num_edges": batch.edge_index.size(1), "p": args.p, "labels": LABELS}  # fmt: skip
        inputs = str(Path(scratch) / "molecules.pt")
        save_inputs(batch, inputs)
        batch = batch.to(device)
        # Alternate the sides --rounds times and pool the calls, so that a burst of other work
        # on a shared machine does not land on one side only; DIG (slow) runs in round 1 only.
        for r in range(args.rounds):
            _pool(mol, "graphssl", run_graphssl_molecules(batch, args))
            if not args.skip_peers:
                skip_dig = args.skip_dig or r > 0
                _pool_peers(mol, run_peers(inputs, args, skip_dig))
        mol["ratios"] = molecule_ratios(mol)
        photo = run_photo(args, scratch)
    result = {
        "machine": machine_info(device, torch.get_num_threads()),
        "args": vars(args),
        "molecules": mol,
        "photo": photo,
        "other_load": other_load(before),
    }
    print_report(result)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1))
    print(f"\nwrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
