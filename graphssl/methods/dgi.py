"""DGI: Deep Graph Infomax (Velickovic et al., 2019)."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn
from torch_geometric.data import Data
from torch_geometric.nn import global_mean_pool

from graphssl.augment import ShuffleFeatures
from graphssl.encoders import BilinearDiscriminator, NodeEncoder
from graphssl.methods.base import NodeMethod
from graphssl.methods.registry import register_method
from graphssl.objectives import jsd_loss


def graph_summary(h: Tensor, batch: Tensor | None) -> Tensor:
    """DGI's readout ``sigmoid(mean(h))`` per graph ``[num_graphs, dim]``."""
    return torch.sigmoid(global_mean_pool(h, batch))


@register_method("dgi")
class DGI(NodeMethod):
    r"""DGI: a bilinear discriminator tells the node embeddings of the graph from those of a
    corrupted graph (feature rows shuffled within each graph), both against the graph summary
    ``sigmoid(mean(h))``; binary cross-entropy (:func:`~graphssl.objectives.jsd_loss`).

    Args:
        encoder: node encoder ``-> [N, dim]``.
        dim: its output size.
    """

    def __init__(self, encoder: nn.Module, dim: int) -> None:
        super().__init__()
        self.encoder = encoder
        self.discriminator = BilinearDiscriminator(dim)
        self.corrupt = ShuffleFeatures()

    @classmethod
    def from_config(
        cls,
        in_channels: int,
        *,
        conv: str = "gcn",
        hidden: int = 512,
        num_layers: int = 1,
        activation: str = "prelu",
        **unused: Any,
    ) -> DGI:
        """DGI's transductive encoder: one GCN layer of 512 units with PReLU."""
        encoder = NodeEncoder(
            conv, in_channels, hidden, hidden, num_layers=num_layers, act=activation, act_last=True
        )
        return cls(encoder, hidden)

    def summary(self, h: Tensor, batch: Tensor | None) -> Tensor:
        return graph_summary(h, batch)

    def loss(self, data: Data) -> Tensor:
        batch = data.get("batch")
        h = self.encode(data)
        h_neg = self.encode(self.corrupt(data, self.generator))
        s = self.summary(h, batch)
        return jsd_loss(self.discriminator(h, s, batch), self.discriminator(h_neg, s, batch))
