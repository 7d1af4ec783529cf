"""Graph-level encoders: a node encoder followed by a readout."""

from __future__ import annotations

from torch import Tensor, nn
from torch_geometric.nn import global_add_pool, global_max_pool, global_mean_pool

_READOUTS = {
    "sum": global_add_pool,
    "add": global_add_pool,
    "mean": global_mean_pool,
    "max": global_max_pool,
}


def readout(x: Tensor, batch: Tensor | None, kind: str = "sum", size: int | None = None) -> Tensor:
    """Pools node embeddings ``[num_nodes, dim]`` into graph embeddings ``[num_graphs, dim]``."""
    if kind not in _READOUTS:
        raise ValueError(f"Unknown readout '{kind}'; choose one of {sorted(_READOUTS)}")
    return _READOUTS[kind](x, batch, size)


class GraphEncoder(nn.Module):
    r"""Wraps a node encoder and pools its output per graph.

    ``forward(x, edge_index, edge_attr=None, batch=None)`` returns graph embeddings
    ``[num_graphs, dim]``; with ``return_nodes=True`` it returns ``(graph_emb, node_emb)``.

    Args:
        node_encoder: any module following the node-encoder contract.
        readout: ``"sum"``, ``"mean"`` or ``"max"``.
    """

    def __init__(self, node_encoder: nn.Module, readout: str = "sum") -> None:
        super().__init__()
        if readout not in _READOUTS:
            raise ValueError(f"Unknown readout '{readout}'; choose one of {sorted(_READOUTS)}")
        self.node_encoder = node_encoder
        self.readout = readout

    def forward(
        self,
        x: Tensor,
        edge_index: Tensor,
        edge_attr: Tensor | None = None,
        batch: Tensor | None = None,
        return_nodes: bool = False,
    ) -> Tensor | tuple[Tensor, Tensor]:
        h = self.node_encoder(x, edge_index, edge_attr=edge_attr, batch=batch)
        g = readout(h, batch, self.readout)
        return (g, h) if return_nodes else g
