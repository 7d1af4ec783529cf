"""PyGCL's example models of GRACE, BGRL, G-BT, DGI and MVGRL, timed per epoch: the peer side of
``benchmarks/node_methods.py``.

Run it with the peers venv (``../shared/peers/setup-peers.sh .venv-peers``), never with
graphssl's own venv::

    .venv-peers/bin/python benchmarks/_peer_node_methods.py --method bgrl --dataset Photo \\
        --root ../shared/datasets

It prints ONE JSON line on stdout (everything else goes to stderr): median / min / max seconds
per epoch, peak RSS, and, on CUDA, ``torch.cuda.max_memory_allocated``.

Each model is the one of PyGCL 0.1.2's example (``examples/GRACE.py``, ``BGRL_L2L.py``,
``GBT.py``, ``DGI_transductive.py``, ``MVGRL_node.py``; the same files at the 0.1.2 tag and at
the repository's last commit), rebuilt from the installed package's pieces (PyGCL does not
install its examples) with the sizes and rates of ``SETTINGS``. One epoch = the example's
``train()``: augmentation + forward + loss + backward + optimizer step, + the target's EMA
update for BGRL. Work that the example does but the method does not need is left out of the
step (marked where it happens). MVGRL's diffusion is computed once before timing and reported
on its own (``diffusion_seconds``), since PyGCL's ``PPRDiffusion`` caches it.

This module is also imported by ``node_methods.py`` (from graphssl's venv) for ``SETTINGS`` and
:func:`one_off`; it therefore imports neither PyGCL nor graphssl at module level.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch
from _peer_grace import (
    DEFAULT_COMPAT_DIR,
    _dist_version,
    build_pygcl,
    get_config,
    import_pygcl,
    load_pyg,
    memory_report,
    peak_rss_mb,
    start_memory,
    time_epochs,
)

# Per-method settings, read by both sides. Every number is the PyGCL example's, except where
# graphssl's class cannot build the example's model: there PyGCL's model follows graphssl's
# (marked "graphssl's" below; see benchmarks/README.md). Adam, no weight decay, everywhere.
SETTINGS: dict[str, dict] = {
    "grace": dict(
        example="GRACE.py",
        hidden=32,  # encoder output; its first GCN layer is 2 * hidden (graphssl's; example: 32)
        proj=32,  # projection: hidden -> proj -> hidden, ELU
        num_layers=2,
        act="relu",
        tau=0.2,
        drop_edge=(0.3, 0.3),
        drop_feature=(0.3, 0.3),
        lr=0.01,
        weight_decay=0.0,
    ),
    "bgrl": dict(
        example="BGRL_L2L.py",
        hidden=256,  # every GCN layer, projector and predictor
        num_layers=2,
        pred_hidden=256,
        dropout=0.0,  # graphssl's BGRL has none (example: 0.2 after every layer and head)
        drop_edge=(0.5, 0.5),
        drop_feature=(0.1, 0.1),
        momentum=0.99,  # constant EMA momentum
        lr=0.01,
        weight_decay=0.0,
    ),
    "gbt": dict(
        example="GBT.py",
        hidden=512,  # first GCN layer (example: 2 * hidden_dim), then BatchNorm, PReLU
        out=256,  # second GCN layer, no activation (example: hidden_dim = 256)
        num_layers=2,
        drop_edge=(0.5, 0.5),
        drop_feature=(0.1, 0.1),
        lr=5e-4,
        weight_decay=0.0,
    ),
    "dgi": dict(
        example="DGI_transductive.py",
        hidden=512,  # every GCN layer, each followed by PReLU
        num_layers=2,
        lr=0.01,
        weight_decay=0.0,
    ),
    "mvgrl": dict(
        example="MVGRL_node.py",
        hidden=512,  # every GCN layer of both encoders, each followed by PReLU
        num_layers=2,
        alpha=0.2,
        # Example: 1e-4 (PPRDiffusion's default), which keeps 6.6 M edges (862 per node) on
        # Amazon-Photo, too many for a 512-wide GCN on a CPU. 1e-2 is MVGRL's own rule (its
        # utils.py: the eps of 1e-5 .. 1e-2 whose diffusion degree is nearest the graph's).
        eps=1e-2,
        lr=0.001,
        weight_decay=0.0,
    ),
}

METHODS = tuple(SETTINGS)


def get_settings(method: str) -> dict:
    """Settings of ``method`` (``grace``, ``bgrl``, ``gbt``, ``dgi``, ``mvgrl``)."""
    key = method.lower()
    if key not in SETTINGS:
        raise ValueError(f"Unknown method '{method}'; known: {list(METHODS)}")
    return dict(SETTINGS[key], method=key)


def one_off(fn: Callable[[], dict], device: torch.device) -> tuple[dict, dict]:
    """Runs ``fn`` once (work done once before training, e.g. MVGRL's diffusion) and times it.

    Returns ``(report, mem0)``: ``fn``'s dict with ``seconds`` and the peak memory up to now
    added, and :func:`start_memory`'s baseline after resetting the peak counters, so that the
    training's peaks exclude the one-off work (but include what it left resident).
    """
    cuda = device.type == "cuda"
    if cuda:
        torch.cuda.synchronize(device)
    t0 = time.perf_counter()
    report = dict(fn())
    if cuda:
        torch.cuda.synchronize(device)
    report["seconds"] = time.perf_counter() - t0
    report["peak_rss_mb"] = peak_rss_mb()
    if cuda:
        report["cuda_max_allocated_mb"] = torch.cuda.max_memory_allocated(device) / 2**20
    return report, start_memory(device)


# ----------------------------------------------------------------------------------- peer side


@dataclass
class PeerModel:
    """One example's model: ``module`` holds every trainable parameter (the example's
    ``encoder_model``); ``loss(data)`` is its ``train()`` between ``zero_grad`` and
    ``backward``; ``after_step`` runs after the optimizer step (BGRL's EMA update);
    ``prepare(data)`` is one-off work before training (MVGRL's cached diffusion)."""

    module: torch.nn.Module
    loss: Callable
    after_step: Callable[[], None] | None = None
    prepare: Callable | None = None


def build_grace(in_dim: int, cfg: dict, device: torch.device) -> PeerModel:
    """examples/GRACE.py (through ``_peer_grace.build_pygcl``, which also serves
    ``grace_epoch.py``): GCN ``in -> 2 * hidden -> hidden``, the activation after each layer."""
    grace_cfg = dict(cfg, out=cfg["hidden"])
    if cfg["num_layers"] != 2:
        raise ValueError("the GRACE peer builds 2 GCN layers")
    # The example's Encoder also encodes the unperturbed graph every step (its `z`, unused by
    # the loss): example_forward=False leaves that forward out of the timed step.
    encoder_model, contrast_model = build_pygcl(in_dim, grace_cfg, example_forward=False)
    encoder_model, contrast_model = encoder_model.to(device), contrast_model.to(device)

    def loss(data):
        _, z1, z2 = encoder_model(data.x, data.edge_index, data.edge_attr)
        h1, h2 = (encoder_model.project(z) for z in (z1, z2))
        return contrast_model(h1, h2)

    return PeerModel(encoder_model, loss)


def build_bgrl(in_dim: int, cfg: dict, device: torch.device) -> PeerModel:
    """examples/BGRL_L2L.py: GCN layers with PReLU and dropout, one BatchNorm at the end, a
    projection head in the (online and target) encoder, a predictor, ``BootstrapContrast``
    (``BootstrapLatent``, L2L) and the target's EMA update after each step."""
    import copy

    import torch.nn.functional as F
    from GCL import augmentors as A
    from GCL import losses as L
    from GCL.models import BootstrapContrast
    from torch_geometric.nn import GCNConv

    hidden, dropout = cfg["hidden"], cfg["dropout"]

    class GConv(torch.nn.Module):
        def __init__(self, input_dim, hidden_dim, num_layers):
            super().__init__()
            self.activation = torch.nn.PReLU()
            self.dropout = dropout
            self.layers = torch.nn.ModuleList([GCNConv(input_dim, hidden_dim)])
            for _ in range(num_layers - 1):
                self.layers.append(GCNConv(hidden_dim, hidden_dim))
            # The example's Normalize(dim, norm="batch") is a BatchNorm1d.
            self.batch_norm = torch.nn.BatchNorm1d(hidden_dim)
            self.projection_head = torch.nn.Sequential(
                torch.nn.Linear(hidden_dim, hidden_dim),
                torch.nn.BatchNorm1d(hidden_dim),
                torch.nn.PReLU(),
                torch.nn.Dropout(dropout),
            )

        def forward(self, x, edge_index, edge_weight=None):
            z = x
            for conv in self.layers:
                z = conv(z, edge_index, edge_weight)
                z = self.activation(z)
                z = F.dropout(z, p=self.dropout, training=self.training)
            z = self.batch_norm(z)
            return z, self.projection_head(z)

    class Encoder(torch.nn.Module):
        def __init__(self, encoder, augmentor, hidden_dim, pred_dim):
            super().__init__()
            self.online_encoder = encoder
            self.target_encoder = None
            self.augmentor = augmentor
            self.predictor = torch.nn.Sequential(
                torch.nn.Linear(hidden_dim, pred_dim),
                torch.nn.BatchNorm1d(pred_dim),
                torch.nn.PReLU(),
                torch.nn.Dropout(dropout),
            )

        def get_target_encoder(self):
            if self.target_encoder is None:
                self.target_encoder = copy.deepcopy(self.online_encoder)
                for p in self.target_encoder.parameters():
                    p.requires_grad = False
            return self.target_encoder

        def update_target_encoder(self, momentum: float):
            for p, new_p in zip(
                self.get_target_encoder().parameters(), self.online_encoder.parameters()
            ):
                p.data = momentum * p.data + (1 - momentum) * new_p.data

        def forward(self, x, edge_index, edge_weight=None):
            aug1, aug2 = self.augmentor
            x1, edge_index1, edge_weight1 = aug1(x, edge_index, edge_weight)
            x2, edge_index2, edge_weight2 = aug2(x, edge_index, edge_weight)
            h1, h1_online = self.online_encoder(x1, edge_index1, edge_weight1)
            h2, h2_online = self.online_encoder(x2, edge_index2, edge_weight2)
            h1_pred = self.predictor(h1_online)
            h2_pred = self.predictor(h2_online)
            with torch.no_grad():
                _, h1_target = self.get_target_encoder()(x1, edge_index1, edge_weight1)
                _, h2_target = self.get_target_encoder()(x2, edge_index2, edge_weight2)
            return h1, h2, h1_pred, h2_pred, h1_target, h2_target

    (pe1, pe2), (pf1, pf2) = cfg["drop_edge"], cfg["drop_feature"]
    aug1 = A.Compose([A.EdgeRemoving(pe=pe1), A.FeatureMasking(pf=pf1)])
    aug2 = A.Compose([A.EdgeRemoving(pe=pe2), A.FeatureMasking(pf=pf2)])
    gconv = GConv(in_dim, hidden, cfg["num_layers"])
    encoder_model = Encoder(gconv, (aug1, aug2), hidden, cfg["pred_hidden"]).to(device)
    contrast_model = BootstrapContrast(loss=L.BootstrapLatent(), mode="L2L").to(device)

    def loss(data):
        _, _, h1_pred, h2_pred, h1_target, h2_target = encoder_model(
            data.x, data.edge_index, data.edge_attr
        )
        return contrast_model(
            h1_pred=h1_pred,
            h2_pred=h2_pred,
            h1_target=h1_target.detach(),
            h2_target=h2_target.detach(),
        )

    return PeerModel(
        encoder_model, loss, after_step=lambda: encoder_model.update_target_encoder(cfg["momentum"])
    )


def build_gbt(in_dim: int, cfg: dict, device: torch.device) -> PeerModel:
    """examples/GBT.py: GCN ``in -> hidden``, BatchNorm (momentum 0.01), PReLU, GCN
    ``-> out``; ``WithinEmbedContrast(BarlowTwins())``."""
    from GCL import augmentors as A
    from GCL import losses as L
    from GCL.models.contrast_model import WithinEmbedContrast
    from torch_geometric.nn import GCNConv

    if cfg["num_layers"] != 2:
        raise ValueError("the G-BT example has 2 GCN layers")

    class GConv(torch.nn.Module):
        # As the example's, which takes hidden_dim and makes the first layer 2 * hidden_dim.
        def __init__(self, input_dim, hidden_dim, out_dim):
            super().__init__()
            self.act = torch.nn.PReLU()
            self.bn = torch.nn.BatchNorm1d(hidden_dim, momentum=0.01)
            self.conv1 = GCNConv(input_dim, hidden_dim, cached=False)
            self.conv2 = GCNConv(hidden_dim, out_dim, cached=False)

        def forward(self, x, edge_index, edge_weight=None):
            z = self.conv1(x, edge_index, edge_weight)
            z = self.bn(z)
            z = self.act(z)
            return self.conv2(z, edge_index, edge_weight)

    class Encoder(torch.nn.Module):
        def __init__(self, encoder, augmentor):
            super().__init__()
            self.encoder = encoder
            self.augmentor = augmentor

        def forward(self, x, edge_index, edge_weight=None):
            aug1, aug2 = self.augmentor
            x1, edge_index1, edge_weight1 = aug1(x, edge_index, edge_weight)
            x2, edge_index2, edge_weight2 = aug2(x, edge_index, edge_weight)
            # The example also encodes the unperturbed graph here (its `z`, unused by the
            # loss); left out, so the timed step is G-BT's algorithm and no more.
            z1 = self.encoder(x1, edge_index1, edge_weight1)
            z2 = self.encoder(x2, edge_index2, edge_weight2)
            return None, z1, z2

    (pe1, pe2), (pf1, pf2) = cfg["drop_edge"], cfg["drop_feature"]
    aug1 = A.Compose([A.EdgeRemoving(pe=pe1), A.FeatureMasking(pf=pf1)])
    aug2 = A.Compose([A.EdgeRemoving(pe=pe2), A.FeatureMasking(pf=pf2)])
    gconv = GConv(in_dim, cfg["hidden"], cfg["out"])
    encoder_model = Encoder(gconv, (aug1, aug2)).to(device)
    contrast_model = WithinEmbedContrast(loss=L.BarlowTwins()).to(device)
    # The example's LinearWarmupCosineAnnealingLR (pl_bolts, not installed) steps once per
    # epoch outside train(); graphssl's step has no scheduler either.

    def loss(data):
        _, z1, z2 = encoder_model(data.x, data.edge_index, data.edge_attr)
        return contrast_model(z1, z2)

    return PeerModel(encoder_model, loss)


def build_dgi(in_dim: int, cfg: dict, device: torch.device) -> PeerModel:
    """examples/DGI_transductive.py: GCN layers each followed by its own ``PReLU(hidden)``, the
    summary ``Linear(sigmoid(mean(z)))``, ``SingleBranchContrast(JSD(), 'G2L')`` against the
    encoding of row-shuffled features."""
    from GCL import losses as L
    from GCL.models import SingleBranchContrast
    from torch_geometric.nn import GCNConv
    from torch_geometric.nn.inits import uniform

    class GConv(torch.nn.Module):
        def __init__(self, input_dim, hidden_dim, num_layers):
            super().__init__()
            self.layers = torch.nn.ModuleList()
            self.activations = torch.nn.ModuleList()
            for i in range(num_layers):
                self.layers.append(GCNConv(input_dim if i == 0 else hidden_dim, hidden_dim))
                self.activations.append(torch.nn.PReLU(hidden_dim))

        def forward(self, x, edge_index, edge_weight=None):
            z = x
            for conv, act in zip(self.layers, self.activations):
                z = act(conv(z, edge_index, edge_weight))
            return z

    class Encoder(torch.nn.Module):
        def __init__(self, encoder, hidden_dim):
            super().__init__()
            self.encoder = encoder
            self.project = torch.nn.Linear(hidden_dim, hidden_dim)
            uniform(hidden_dim, self.project.weight)

        @staticmethod
        def corruption(x, edge_index):
            return x[torch.randperm(x.size(0))], edge_index

        def forward(self, x, edge_index):
            z = self.encoder(x, edge_index)
            g = self.project(torch.sigmoid(z.mean(dim=0, keepdim=True)))
            zn = self.encoder(*self.corruption(x, edge_index))
            return z, g, zn

    hidden = cfg["hidden"]
    encoder_model = Encoder(GConv(in_dim, hidden, cfg["num_layers"]), hidden).to(device)
    contrast_model = SingleBranchContrast(loss=L.JSD(), mode="G2L").to(device)

    def loss(data):
        z, g, zn = encoder_model(data.x, data.edge_index)
        return contrast_model(h=z, g=g, hn=zn)

    return PeerModel(encoder_model, loss)


def build_mvgrl(in_dim: int, cfg: dict, device: torch.device) -> PeerModel:
    """examples/MVGRL_node.py: two encoders (GCN layers sharing one ``PReLU(hidden)``), on the
    graph (``Identity``) and on its PPR diffusion (``PPRDiffusion``, cached), the summary
    ``Linear(sigmoid(mean(z)))`` of each, ``DualBranchContrast(JSD(), 'G2L')`` with
    row-shuffled features as negatives."""
    from GCL import augmentors as A
    from GCL import losses as L
    from GCL.models import DualBranchContrast
    from torch_geometric.nn import GCNConv
    from torch_geometric.nn.inits import uniform

    class GConv(torch.nn.Module):
        def __init__(self, input_dim, hidden_dim, num_layers):
            super().__init__()
            self.layers = torch.nn.ModuleList()
            self.activation = torch.nn.PReLU(hidden_dim)
            for i in range(num_layers):
                self.layers.append(GCNConv(input_dim if i == 0 else hidden_dim, hidden_dim))

        def forward(self, x, edge_index, edge_weight=None):
            z = x
            for conv in self.layers:
                z = self.activation(conv(z, edge_index, edge_weight))
            return z

    class Encoder(torch.nn.Module):
        def __init__(self, encoder1, encoder2, augmentor, hidden_dim):
            super().__init__()
            self.encoder1 = encoder1
            self.encoder2 = encoder2
            self.augmentor = augmentor
            self.project = torch.nn.Linear(hidden_dim, hidden_dim)
            uniform(hidden_dim, self.project.weight)

        @staticmethod
        def corruption(x, edge_index, edge_weight):
            return x[torch.randperm(x.size(0))], edge_index, edge_weight

        def forward(self, x, edge_index, edge_weight=None):
            aug1, aug2 = self.augmentor
            x1, edge_index1, edge_weight1 = aug1(x, edge_index, edge_weight)
            x2, edge_index2, edge_weight2 = aug2(x, edge_index, edge_weight)
            z1 = self.encoder1(x1, edge_index1, edge_weight1)
            z2 = self.encoder2(x2, edge_index2, edge_weight2)
            g1 = self.project(torch.sigmoid(z1.mean(dim=0, keepdim=True)))
            g2 = self.project(torch.sigmoid(z2.mean(dim=0, keepdim=True)))
            z1n = self.encoder1(*self.corruption(x1, edge_index1, edge_weight1))
            z2n = self.encoder2(*self.corruption(x2, edge_index2, edge_weight2))
            return z1, z2, g1, g2, z1n, z2n

    hidden, layers = cfg["hidden"], cfg["num_layers"]
    diffusion = A.PPRDiffusion(alpha=cfg["alpha"], eps=cfg["eps"])  # use_cache=True
    gconv1, gconv2 = GConv(in_dim, hidden, layers), GConv(in_dim, hidden, layers)
    encoder_model = Encoder(gconv1, gconv2, (A.Identity(), diffusion), hidden).to(device)
    contrast_model = DualBranchContrast(loss=L.JSD(), mode="G2L").to(device)

    def loss(data):
        z1, z2, g1, g2, z1n, z2n = encoder_model(data.x, data.edge_index)
        # The example passes h1n=z1n, h2n=z2n, which DualBranchContrast.forward (0.1.2 and
        # later) does not accept (TypeError); its negatives are h3 (view 1) and h4 (view 2).
        return contrast_model(h1=z1, h2=z2, g1=g1, g2=g2, h3=z1n, h4=z2n)

    def prepare(data):
        # Fills PPRDiffusion's cache: every later call returns it without recomputing.
        _, edge_index, _ = diffusion(data.x, data.edge_index, None)
        return {"edges": edge_index.size(1)}

    return PeerModel(encoder_model, loss, prepare=prepare)


BUILDERS: dict[str, Callable[[int, dict, torch.device], PeerModel]] = {
    "grace": build_grace,
    "bgrl": build_bgrl,
    "gbt": build_gbt,
    "dgi": build_dgi,
    "mvgrl": build_mvgrl,
}


def run_peer(args: argparse.Namespace) -> dict:
    GCL = import_pygcl(args)
    device = torch.device(args.device)
    cfg = get_settings(args.method)
    name = get_config(args.dataset)["name"]

    scratch = tempfile.mkdtemp(prefix="node_methods_peer_")
    try:
        data = load_pyg(name, args.root, scratch).to(device)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    mem0 = start_memory(device)  # peaks from here on: model, optimizer and training steps
    peer = BUILDERS[cfg["method"]](data.num_features, cfg, device)
    optimizer = torch.optim.Adam(
        peer.module.parameters(), lr=cfg["lr"], weight_decay=cfg["weight_decay"]
    )
    extra = {}
    if peer.prepare is not None:
        report, mem0 = one_off(lambda: peer.prepare(data), device)
        extra = {f"diffusion_{k}": v for k, v in report.items()}

    def step() -> torch.Tensor:  # the example's train()
        peer.module.train()
        optimizer.zero_grad()
        loss = peer.loss(data)
        loss.backward()
        optimizer.step()
        if peer.after_step is not None:
            peer.after_step()
        return loss.detach()

    timing = time_epochs(step, args.epochs, args.warmup, device, args.time_budget)
    return {
        "library": "PyGCL",
        "version": _dist_version("PyGCL") or getattr(GCL, "__version__", None),
        "method": cfg["method"],
        "example": cfg["example"],
        "dataset": name,
        "num_nodes": data.num_nodes,
        "num_edges": data.num_edges,
        "num_features": data.num_features,
        "num_parameters": sum(p.numel() for p in peer.module.parameters() if p.requires_grad),
        "threads": torch.get_num_threads(),
        "device": str(device),
        "torch": torch.__version__,
        **extra,
        **timing,
        **mem0,
        **memory_report(device),
    }


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--method", required=True, choices=METHODS)
    p.add_argument("--dataset", default="Photo", help="Photo (Amazon) or Cora")
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
