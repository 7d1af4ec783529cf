"""PyGCL's GRACE, timed per epoch: the peer side of ``benchmarks/grace_epoch.py``.

Run it with the peers venv (``../shared/peers/setup-peers.sh .venv-peers``), never with
graphssl's own venv::

    .venv-peers/bin/python benchmarks/_peer_grace.py --dataset Cora --root ../shared/datasets

It prints ONE JSON line on stdout (everything else goes to stderr): median / min / max seconds
per epoch, peak RSS, and, on CUDA, ``torch.cuda.max_memory_allocated``.

The model follows PyGCL 0.1.2's ``examples/GRACE.py``: ``GConv`` (GCNConv layers, activation
after each), an ``Encoder`` holding two ``Compose([EdgeRemoving, FeatureMasking])`` augmentors
and the projection ``fc2(elu(fc1(z)))``, ``DualBranchContrast(InfoNCE(tau), mode='L2L',
intraview_negs=True)`` and Adam. Sizes and rates come from ``CONFIGS`` (GRACE paper for Cora, GCA
for Amazon-Photo). One epoch = one full-batch step: augmentation + forward + loss + backward +
optimizer step.

This module is also imported by ``grace_epoch.py`` (from graphssl's venv) for the shared pieces
(``CONFIGS``, ``load_pyg``, ``time_epochs``, ``peak_rss_mb``, ...), so that both sides use the
same data, the same timing loop and the same memory measurement. It therefore imports neither
PyGCL nor graphssl at module level.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import torch

DEFAULT_COMPAT_DIR = str(Path(__file__).resolve().parents[2] / "shared" / "peers")

# Per-dataset settings. Cora: GRACE paper / its config.yaml (Zhu et al., 2020). Photo: GCA's
# config for Amazon-Photo (Zhu et al., 2021). ``out`` is the encoder's output size, the first
# GCN layer is ``2 * out`` wide (GRACE's encoder), ``proj`` the projection head's hidden width.
CONFIGS: dict[str, dict] = {
    "Cora": dict(
        collection="Planetoid",
        out=128,
        proj=128,
        tau=0.4,
        drop_edge=(0.2, 0.4),
        drop_feature=(0.3, 0.4),
        lr=5e-4,
        weight_decay=1e-5,
        act="relu",
        source="GRACE paper (Zhu et al., 2020), config.yaml: Cora",
    ),
    "Photo": dict(
        collection="Amazon",
        out=256,
        proj=64,
        tau=0.3,
        drop_edge=(0.3, 0.5),
        drop_feature=(0.1, 0.1),
        lr=0.1,
        weight_decay=1e-5,
        act="relu",
        source="GCA (Zhu et al., 2021), config.yaml: Amazon-Photo",
    ),
}


def _canonical(name: str) -> str:
    for key in CONFIGS:
        if key.lower() == name.lower() or f"amazon-{key}".lower() == name.lower():
            return key
    raise ValueError(f"Unknown dataset '{name}'; known: {sorted(CONFIGS)}")


def get_config(name: str) -> dict:
    """Settings for ``name`` (``Cora``, ``Photo``), with ``name`` set to its canonical form."""
    key = _canonical(name)
    return dict(CONFIGS[key], name=key)


def _pyg_class(collection: str):
    from torch_geometric import datasets

    return {"Planetoid": datasets.Planetoid, "Amazon": datasets.Amazon}[collection]


def load_pyg(name: str, root: str | os.PathLike, scratch: str | os.PathLike):
    """Loads dataset ``name`` with PyG and ``T.NormalizeFeatures()`` WITHOUT writing into
    ``root``: ``scratch/<collection>/<name>/raw`` gets symlinks to the raw files under ``root``
    and PyG writes its ``processed/`` folder next to them, in ``scratch``.

    Returns a ``Data`` on CPU.
    """
    import torch_geometric.transforms as T

    cfg = get_config(name)
    src_raw = Path(root) / cfg["collection"] / cfg["name"] / "raw"
    if not src_raw.is_dir() or not any(src_raw.iterdir()):
        raise FileNotFoundError(
            f"{cfg['name']}: no raw files in {src_raw} (expected the PyG "
            f"{cfg['collection']} raw layout, see ../shared/datasets/README.md)"
        )
    dst_raw = Path(scratch) / cfg["collection"] / cfg["name"] / "raw"
    dst_raw.mkdir(parents=True, exist_ok=True)
    for f in src_raw.iterdir():
        link = dst_raw / f.name
        if not link.exists():
            link.symlink_to(f.resolve())
    dataset = _pyg_class(cfg["collection"])(
        str(Path(scratch) / cfg["collection"]), name=cfg["name"], transform=T.NormalizeFeatures()
    )
    return dataset[0]


def reset_peak_rss() -> bool:
    """Resets this process's peak-RSS high-water mark (Linux ``/proc/self/clear_refs`` = 5), so
    that :func:`peak_rss_mb` reports the peak from now on. Returns False where unsupported."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def ru_maxrss_mb() -> float:
    """``resource.getrusage(RUSAGE_SELF).ru_maxrss`` in MiB."""
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # Linux reports KiB, macOS bytes.
    return rss / (1024 * 1024) if sys.platform == "darwin" else rss / 1024


def peak_rss_mb() -> float:
    """Peak resident set size of this process in MiB.

    On Linux this is ``VmHWM`` from ``/proc/self/status``, the same high-water mark that
    ``getrusage`` reads, WITHOUT the floor that ``ru_maxrss`` inherits at ``exec``: a child
    started by ``subprocess`` (vfork + exec) reports at least its parent's peak RSS in
    ``ru_maxrss``, so the peer would be charged for graphssl's memory. Elsewhere: ``ru_maxrss``.
    """
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024  # kB
    except (OSError, ValueError, IndexError):
        pass
    return ru_maxrss_mb()


def time_epochs(
    step: Callable[[], torch.Tensor],
    epochs: int,
    warmup: int,
    device: torch.device,
    time_budget: float | None = None,
) -> dict:
    """Runs ``warmup + epochs`` calls of ``step`` (one full training step returning the detached
    loss) and times each; the ``warmup`` first are not counted. On CUDA the device is
    synchronised before starting and after finishing each step. With ``time_budget`` (seconds),
    stops once the timed epochs add up to it (at least 3 are timed).
    """
    cuda = device.type == "cuda"

    def sync() -> None:
        if cuda:
            torch.cuda.synchronize(device)

    times: list[float] = []
    losses: list[float] = []
    for i in range(warmup + epochs):
        sync()
        t0 = time.perf_counter()
        loss = step()
        sync()
        dt = time.perf_counter() - t0
        losses.append(float(loss))
        if i >= warmup:
            times.append(dt)
            if time_budget is not None and len(times) >= 3 and sum(times) >= time_budget:
                break
    return {
        "epochs_timed": len(times),
        "warmup": warmup,
        "median_s": statistics.median(times),
        "min_s": min(times),
        "max_s": max(times),
        "times_s": times,
        "loss_first": losses[0],
        "loss_last": losses[-1],
    }


def memory_report(device: torch.device) -> dict:
    out = {"peak_rss_mb": peak_rss_mb(), "ru_maxrss_mb": ru_maxrss_mb()}
    if device.type == "cuda":
        out["cuda_max_allocated_mb"] = torch.cuda.max_memory_allocated(device) / 2**20
    return out


def start_memory(device: torch.device) -> dict:
    """Resets the peak counters (RSS, and CUDA memory on CUDA); returns the RSS baseline."""
    reset = reset_peak_rss()
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    return {"rss_peak_reset": reset, "rss_baseline_mb": peak_rss_mb()}


# ----------------------------------------------------------------------------------- peer side


def _dist_version(dist: str) -> str | None:
    from importlib import metadata

    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def build_pygcl(in_dim: int, cfg: dict, example_forward: bool):
    """PyGCL's examples/GRACE.py with the sizes of ``cfg``. Needs ``peer_compat.install()``."""
    import torch.nn.functional as F
    from GCL import augmentors as A
    from GCL import losses as L
    from GCL.models import DualBranchContrast
    from torch_geometric.nn import GCNConv

    act_cls = {"relu": torch.nn.ReLU, "prelu": torch.nn.PReLU, "elu": torch.nn.ELU}[cfg["act"]]

    class GConv(torch.nn.Module):
        # As the example's GConv, but with GRACE's widths (2 * out, then out).
        def __init__(self, dims: list[int]):
            super().__init__()
            self.activation = act_cls()
            self.layers = torch.nn.ModuleList(
                GCNConv(a, b, cached=False) for a, b in zip(dims[:-1], dims[1:])
            )

        def forward(self, x, edge_index, edge_weight=None):
            z = x
            for conv in self.layers:
                z = conv(z, edge_index, edge_weight)
                z = self.activation(z)
            return z

    class Encoder(torch.nn.Module):
        def __init__(self, encoder, augmentor, hidden_dim, proj_dim):
            super().__init__()
            self.encoder = encoder
            self.augmentor = augmentor
            self.fc1 = torch.nn.Linear(hidden_dim, proj_dim)
            self.fc2 = torch.nn.Linear(proj_dim, hidden_dim)

        def forward(self, x, edge_index, edge_weight=None):
            aug1, aug2 = self.augmentor
            x1, edge_index1, edge_weight1 = aug1(x, edge_index, edge_weight)
            x2, edge_index2, edge_weight2 = aug2(x, edge_index, edge_weight)
            # The example also encodes the unperturbed graph every step (its `z` is unused by the
            # loss); off by default, so the timed step is GRACE's algorithm and no more.
            z = self.encoder(x, edge_index, edge_weight) if example_forward else None
            z1 = self.encoder(x1, edge_index1, edge_weight1)
            z2 = self.encoder(x2, edge_index2, edge_weight2)
            return z, z1, z2

        def project(self, z):
            z = F.elu(self.fc1(z))
            return self.fc2(z)

    (pe1, pe2), (pf1, pf2) = cfg["drop_edge"], cfg["drop_feature"]
    aug1 = A.Compose([A.EdgeRemoving(pe=pe1), A.FeatureMasking(pf=pf1)])
    aug2 = A.Compose([A.EdgeRemoving(pe=pe2), A.FeatureMasking(pf=pf2)])
    gconv = GConv([in_dim, 2 * cfg["out"], cfg["out"]])
    encoder_model = Encoder(gconv, (aug1, aug2), hidden_dim=cfg["out"], proj_dim=cfg["proj"])
    contrast_model = DualBranchContrast(
        loss=L.InfoNCE(tau=cfg["tau"]), mode="L2L", intraview_negs=True
    )
    return encoder_model, contrast_model


def import_pygcl(args: argparse.Namespace):
    """Installs ``peer_compat`` (from ``args.compat_dir``), silences PyGCL's per-step
    deprecation warnings, sets ``args.threads`` and ``args.seed``, and returns ``GCL``."""
    sys.path.insert(0, args.compat_dir)
    import peer_compat

    peer_compat.install(verbose=False)
    import warnings

    # PyGCL calls torch_geometric.utils.dropout_adj (deprecated) on every step.
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    warnings.filterwarnings("ignore", message=".*dropout_adj.*")
    import GCL

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    return GCL


def run_peer(args: argparse.Namespace) -> dict:
    GCL = import_pygcl(args)
    device = torch.device(args.device)
    cfg = get_config(args.dataset)

    scratch = tempfile.mkdtemp(prefix="grace_epoch_peer_")
    try:
        data = load_pyg(cfg["name"], args.root, scratch).to(device)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    mem0 = start_memory(device)  # peaks from here on: model, optimizer and training steps
    encoder_model, contrast_model = build_pygcl(data.num_features, cfg, args.example_forward)
    encoder_model, contrast_model = encoder_model.to(device), contrast_model.to(device)
    optimizer = torch.optim.Adam(
        encoder_model.parameters(), lr=cfg["lr"], weight_decay=cfg["weight_decay"]
    )
    x, edge_index, edge_attr = data.x, data.edge_index, data.edge_attr

    def step() -> torch.Tensor:  # the example's train()
        encoder_model.train()
        optimizer.zero_grad()
        _, z1, z2 = encoder_model(x, edge_index, edge_attr)
        h1, h2 = (encoder_model.project(z) for z in (z1, z2))
        loss = contrast_model(h1, h2)
        loss.backward()
        optimizer.step()
        return loss.detach()

    timing = time_epochs(step, args.epochs, args.warmup, device, args.time_budget)
    return {
        "library": "PyGCL",
        "version": _dist_version("PyGCL") or getattr(GCL, "__version__", None),
        "dataset": cfg["name"],
        "num_nodes": data.num_nodes,
        "num_edges": data.num_edges,
        "num_features": data.num_features,
        "num_parameters": sum(p.numel() for p in encoder_model.parameters()),
        "example_forward": args.example_forward,
        "threads": torch.get_num_threads(),
        "device": str(device),
        "torch": torch.__version__,
        **timing,
        **mem0,
        **memory_report(device),
    }


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--dataset", required=True, help=f"one of {sorted(CONFIGS)}")
    p.add_argument(
        "--root",
        default=str(Path(__file__).resolve().parents[2] / "shared" / "datasets"),
        help="read-only datasets folder",
    )
    p.add_argument("--epochs", type=int, default=20)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--threads", type=int, default=len(os.sched_getaffinity(0)))
    p.add_argument("--device", default="cpu")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--time-budget", type=float, default=None, help="seconds of timed epochs")
    p.add_argument(
        "--example-forward",
        action="store_true",
        help="also encode the unperturbed graph each step, as PyGCL's example does",
    )
    p.add_argument(
        "--compat-dir",
        default=os.environ.get("PEER_COMPAT_DIR", DEFAULT_COMPAT_DIR),
        help="folder holding peer_compat.py",
    )
    args = p.parse_args(argv)
    result = run_peer(args)
    sys.stdout.write(json.dumps(result) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
