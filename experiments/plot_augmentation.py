"""Draws a small molecule (a MUTAG graph) and one graphssl view of it, for
``docs/augmentations.md``.

    .venv/bin/python experiments/plot_augmentation.py --root ../shared/datasets

The view is GraphCL-style: ``Compose([DropNodes(0.2, exact=True), PerturbEdges(0.2)])`` with a
fixed seed. Both panels use the same layout (Kamada-Kawai on the original), so a dropped atom
is a hole in the view; added bonds are dashed. Writes ``docs/img/augmentation_example.png``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
ATOMS = ["C", "N", "O", "F", "I", "Cl", "Br"]  # MUTAG's one-hot node features, in order
COLOURS = ["#9e9e9e", "#3f6fd8", "#e0442f", "#6fcf6f", "#8e44ad", "#27ae60", "#a0522d"]


def make_view(data, seed: int):
    """The view and its edits; ``data.node_id`` tracks which original atom each node is."""
    import graphssl.augment as A

    data = data.clone()
    data.node_id = torch.arange(data.num_nodes)
    aug = A.Compose([A.DropNodes(0.2, exact=True), A.PerturbEdges(0.2)])
    return data, *aug.with_edits(data, torch.Generator().manual_seed(seed))


def draw(ax, graph, pos, title: str, original_pairs: set | None = None) -> None:
    import networkx as nx

    ids = graph.node_id.tolist()
    g = nx.Graph()
    g.add_nodes_from(ids)
    pairs = {tuple(sorted((ids[i], ids[j]))) for i, j in graph.edge_index.t().tolist() if i != j}
    old = pairs if original_pairs is None else pairs & original_pairs
    new = set() if original_pairs is None else pairs - original_pairs
    atom = graph.x.argmax(1).tolist()
    nx.draw_networkx_edges(g, pos, edgelist=sorted(old), ax=ax, width=2.0, edge_color="#444")
    nx.draw_networkx_edges(
        g, pos, edgelist=sorted(new), ax=ax, width=2.0, edge_color="#d35400", style="dashed"
    )
    nx.draw_networkx_nodes(
        g, pos, nodelist=ids, node_color=[COLOURS[a] for a in atom], node_size=220, ax=ax
    )
    nx.draw_networkx_labels(
        g, pos, labels={i: ATOMS[a] for i, a in zip(ids, atom)}, font_size=7, ax=ax
    )
    ax.set_title(title, fontsize=9)
    ax.set_axis_off()


def main(argv: list[str] | None = None) -> int:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import networkx as nx
    from torch_geometric.utils import to_networkx

    from graphssl.data import load_dataset

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", default="../shared/datasets")
    parser.add_argument("--index", type=int, default=0, help="which MUTAG graph")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", default=str(ROOT / "docs" / "img" / "augmentation_example.png"))
    args = parser.parse_args(argv)

    data = load_dataset("MUTAG", args.root)[args.index]
    data, view, edits = make_view(data, args.seed)
    pos = nx.kamada_kawai_layout(to_networkx(data, to_undirected=True))
    pairs = {tuple(sorted(e)) for e in data.edge_index.t().tolist()}
    fig, axes = plt.subplots(1, 2, figsize=(8, 3.6))
    draw(axes[0], data, pos, f"MUTAG graph {args.index}: {data.num_nodes} atoms")
    draw(
        axes[1],
        view,
        pos,
        f"view: {int(edits.nodes_dropped)} atoms dropped, {int(edits.edges_removed)} bonds "
        f"removed, {int(edits.edges_added)} added (dashed)",
        original_pairs=pairs,
    )
    fig.suptitle(
        "Compose([DropNodes(0.2, exact=True), PerturbEdges(0.2)]) (edge counts are directed)",
        fontsize=9,
    )
    fig.tight_layout()
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=90)
    print(f"wrote {out} ({out.stat().st_size // 1024} KB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
