"""DGI: Deep Graph Infomax (Velickovic et al., 2019)."""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import Tensor, nn
from torch_geometric.data import Data
from torch_geometric.nn import global_mean_pool

from graphssl.augment import ShuffleFeatures
from graphssl.encoders import NodeEncoder
from graphssl.methods.base import NodeMethod
from graphssl.methods.registry import register_method
from graphssl.objectives import jsd_loss


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
        self.weight = nn.Parameter(torch.empty(dim, dim))
        self.corrupt = ShuffleFeatures()
        self.reset_discriminator()

    def reset_discriminator(self) -> None:
        bound = 1.0 / math.sqrt(self.weight.size(0))
        nn.init.uniform_(self.weight, -bound, bound)

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
        """``sigmoid(mean(h))`` per graph ``[num_graphs, dim]``."""
        return torch.sigmoid(global_mean_pool(h, batch))

    def discriminate(self, h: Tensor, s: Tensor, batch: Tensor | None) -> Tensor:
        """Scores ``h_i^T W s_{g(i)}`` ``[N]``."""
        s = s if batch is None else s[batch]
        s = s.expand_as(h) if s.size(0) == 1 else s
        return ((h @ self.weight) * s).sum(-1)

    def loss(self, data: Data) -> Tensor:
        batch = data.get("batch")
        h = self.encode(data)
        h_neg = self.encode(self.corrupt(data, self.generator))
        s = self.summary(h, batch)
        return jsd_loss(self.discriminate(h, s, batch), self.discriminate(h_neg, s, batch))
