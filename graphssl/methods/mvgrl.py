"""MVGRL: Contrastive Multi-View Representation Learning on Graphs (Hassani & Khasahmadi,
2020), node level."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn
from torch_geometric.data import Data

from graphssl.augment import Augmentation, PPRDiffusion, ShuffleFeatures
from graphssl.augment.transforms import LastValue
from graphssl.encoders import BilinearDiscriminator, NodeEncoder
from graphssl.methods.base import NodeMethod
from graphssl.methods.dgi import graph_summary
from graphssl.methods.registry import register_method
from graphssl.objectives import jsd_loss


@register_method("mvgrl")
class MVGRL(NodeMethod):
    r"""MVGRL: one encoder on the graph, another on its diffusion (PPR by default); each
    view's node embeddings are discriminated against the *other* view's summary, with
    feature-shuffled graphs as negatives. The embedding is the sum of both views' encodings.

    The diffusion of a graph is computed once and kept while the same ``edge_index`` tensor
    comes back. The diffusion encoder must take edge weights (GCN).

    Args:
        encoder: node encoder of the graph view ``-> [N, dim]``.
        diff_encoder: node encoder of the diffusion view (takes ``edge_weight``).
        dim: their output size.
        diffusion: the augmentation that makes the diffusion view.
    """

    def __init__(
        self,
        encoder: nn.Module,
        diff_encoder: nn.Module,
        dim: int,
        diffusion: Augmentation | None = None,
    ) -> None:
        super().__init__()
        if not getattr(getattr(diff_encoder, "gnn", None), "supports_edge_weight", True):
            raise ValueError(
                f"MVGRL's diffusion encoder must take edge weights (the diffusion's), and "
                f"{type(diff_encoder.gnn).__name__} layers do not: use conv='gcn'"
            )
        self.encoder = encoder
        self.diff_encoder = diff_encoder
        self.discriminator = BilinearDiscriminator(dim)
        self.diffusion = diffusion or PPRDiffusion(alpha=0.2, eps=1e-4)
        self.corrupt = ShuffleFeatures()
        self._diffused = LastValue()

    @classmethod
    def from_config(
        cls,
        in_channels: int,
        *,
        conv: str = "gcn",
        hidden: int = 512,
        num_layers: int = 1,
        activation: str = "prelu",
        alpha: float = 0.2,
        eps: float = 1e-4,
        **unused: Any,
    ) -> MVGRL:
        """MVGRL's node-level setting: one GCN layer of 512 units with PReLU per view, PPR
        diffusion with ``alpha`` sparsified at ``eps``. The diffusion view's encoder takes the
        diffusion weights as they are (no renormalisation, no extra self-loops), as the
        reference code multiplies by the diffusion matrix itself."""

        def encoder(**kwargs: Any) -> NodeEncoder:
            return NodeEncoder(
                conv,
                in_channels,
                hidden,
                hidden,
                num_layers=num_layers,
                act=activation,
                act_last=True,
                **kwargs,
            )

        diff_kwargs = {"normalize": False} if conv == "gcn" else {}
        return cls(encoder(), encoder(**diff_kwargs), hidden, PPRDiffusion(alpha=alpha, eps=eps))

    def diffusion_view(self, data: Data) -> Data:
        """The diffusion view of ``data``: its edges and ``edge_weight``; computed once while
        the same, unmodified ``edge_index`` (and ``edge_weight``) tensors come back, as in
        full-batch training, and again for any other graph."""

        def diffuse() -> Data:
            with torch.no_grad():
                return self.diffusion(data)

        tensors = (data.edge_index, data.get("edge_weight"))
        return self._diffused.get(tensors, (data.num_nodes,), diffuse)

    def _views(self, x: Tensor, data: Data, diff: Data) -> tuple[Tensor, Tensor]:
        batch = data.get("batch")
        h_graph = self.encoder(x, data.edge_index, batch=batch)
        h_diff = self.diff_encoder(
            x, diff.edge_index, batch=batch, edge_weight=diff.get("edge_weight")
        )
        return h_graph, h_diff

    def encode(self, data: Data) -> Tensor:
        h_graph, h_diff = self._views(data.x, data, self.diffusion_view(data))
        return h_graph + h_diff

    def loss(self, data: Data) -> Tensor:
        batch = data.get("batch")
        diff = self.diffusion_view(data)
        h1, h2 = self._views(data.x, data, diff)
        x_neg = self.corrupt(data, self.generator).x
        h3, h4 = self._views(x_neg, data, diff)
        c1, c2 = graph_summary(h1, batch), graph_summary(h2, batch)
        d = self.discriminator
        pos = torch.cat([d(h2, c1, batch), d(h1, c2, batch)])
        neg = torch.cat([d(h4, c1, batch), d(h3, c2, batch)])
        return jsd_loss(pos, neg)
