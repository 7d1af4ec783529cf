"""GRACE: Deep Graph Contrastive Representation Learning (Zhu et al., 2020)."""

from __future__ import annotations

from typing import Any

from torch import Tensor, nn
from torch_geometric.data import Data

from graphssl.encoders import NodeEncoder, ProjectionHead
from graphssl.methods.base import NodeMethod, drop_and_mask_views
from graphssl.methods.registry import register_method
from graphssl.objectives import info_nce


@register_method("grace")
class GRACE(NodeMethod):
    r"""GRACE: two views by edge dropping and feature-column masking, a shared encoder, a
    projection head and the symmetric InfoNCE with intra- and inter-view negatives.

    Args:
        encoder: node encoder ``(x, edge_index) -> [N, out_dim]``.
        out_dim: the encoder's output size.
        proj_dim: hidden width of the projection head (Linear, ELU, Linear back to ``out_dim``).
        tau: InfoNCE temperature.
        drop_edge: edge drop probabilities of view 1 and view 2.
        drop_feature: feature-column mask probabilities of view 1 and view 2.
        chunk_size: compute InfoNCE blockwise over this many anchors (bounded memory on large
            graphs); ``None``: :func:`~graphssl.objectives.info_nce`'s choice by graph size.
        keep_gib: memory InfoNCE may spend keeping its similarity tiles for the backward pass
            (:func:`~graphssl.objectives.info_nce`); the same loss, faster.
    """

    supports_sparse_features = True

    def __init__(
        self,
        encoder: nn.Module,
        out_dim: int,
        proj_dim: int,
        tau: float = 0.5,
        drop_edge: tuple[float, float] = (0.2, 0.4),
        drop_feature: tuple[float, float] = (0.3, 0.4),
        chunk_size: int | None = None,
        keep_gib: float | None = None,
    ) -> None:
        super().__init__()
        self.encoder = encoder
        self.projector = ProjectionHead(out_dim, proj_dim, out_dim, act="elu")
        self.tau = tau
        self.chunk_size = chunk_size
        self.keep_gib = keep_gib
        self.drop_edge, self.drop_feature = tuple(drop_edge), tuple(drop_feature)
        self.augment = self.make_views()

    @classmethod
    def from_config(
        cls,
        in_channels: int,
        *,
        conv: str = "gcn",
        hidden: int = 128,
        proj_hidden: int = 128,
        num_layers: int = 2,
        activation: str = "relu",
        activation_kwargs: dict[str, Any] | None = None,
        norm: str | None = None,
        norm_kwargs: dict[str, Any] | None = None,
        act_per_layer: bool = False,
        tau: float = 0.5,
        drop_edge: tuple[float, float] = (0.2, 0.4),
        drop_feature: tuple[float, float] = (0.3, 0.4),
        chunk_size: int | None = None,
        keep_gib: float | None = None,
        **unused: Any,
    ) -> GRACE:
        """The paper's architecture: ``num_layers`` GCN layers of width ``2 * hidden`` then
        ``hidden``, with the activation after every layer (``activation_kwargs`` are its
        arguments, e.g. ``{"negative_slope": 0.2292}`` for ``"leaky_relu"``). ``norm``
        (e.g. ``"batch_norm"``, with ``norm_kwargs``) and ``act_per_layer`` give BGRL's
        encoder instead (see :meth:`graphssl.methods.BGRL.from_config`); GRACE has neither."""
        encoder = NodeEncoder(
            conv,
            in_channels,
            2 * hidden,
            hidden,
            num_layers=num_layers,
            act=activation,
            act_last=True,
            act_kwargs=activation_kwargs,
            norm=norm,
            norm_kwargs=norm_kwargs,
            act_per_layer=act_per_layer,
        )
        return cls(
            encoder,
            hidden,
            proj_hidden,
            tau=tau,
            drop_edge=tuple(drop_edge),
            drop_feature=tuple(drop_feature),
            chunk_size=chunk_size,
            keep_gib=keep_gib,
        )

    def make_views(self) -> list:
        """The two view augmentations: uniform edge dropping then feature-column masking."""
        return drop_and_mask_views(self.drop_edge, self.drop_feature)

    def loss(self, data: Data) -> Tensor:
        """One training step's loss on ``data`` (a graph or a batch)."""
        v1, v2 = (aug(data, self.generator) for aug in self.augment)
        h1 = self.projector(self.encode(v1))
        h2 = self.projector(self.encode(v2))
        return info_nce(h1, h2, self.tau, chunk_size=self.chunk_size, keep_gib=self.keep_gib)
