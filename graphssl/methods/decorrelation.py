"""Negative-free methods with decorrelation objectives: G-BT and CCA-SSG."""

from __future__ import annotations

from typing import Any

from torch import Tensor, nn
from torch_geometric.data import Data

from graphssl.encoders import NodeEncoder
from graphssl.methods.base import NodeMethod, drop_and_mask_views
from graphssl.methods.registry import register_method
from graphssl.objectives import barlow_twins_loss, cca_ssg_loss


class _TwoViewDecorrelation(NodeMethod):
    """Two edge-drop + feature-mask views, one encoder, an objective on its two outputs."""

    supports_sparse_features = True

    def __init__(
        self,
        encoder: nn.Module,
        drop_edge=(0.4, 0.4),
        drop_feature=(0.1, 0.1),
        lambd: float | None = None,
    ) -> None:
        super().__init__()
        self.encoder = encoder
        self.augment = drop_and_mask_views(tuple(drop_edge), tuple(drop_feature))
        self.lambd = lambd

    def objective(self, z1: Tensor, z2: Tensor) -> Tensor:
        raise NotImplementedError

    def loss(self, data: Data) -> Tensor:
        v1, v2 = (aug(data, self.generator) for aug in self.augment)
        return self.objective(self.encode(v1), self.encode(v2))


@register_method("gbt")
class GBT(_TwoViewDecorrelation):
    r"""Graph Barlow Twins (Bielak et al., 2022): Barlow Twins between the encoder outputs of
    two edge-drop + feature-mask views.

    Args:
        encoder: node encoder.
        drop_edge, drop_feature: per-view augmentation rates.
        lambd: off-diagonal weight (``None``: ``1 / D``).
    """

    @classmethod
    def from_config(
        cls,
        in_channels: int,
        *,
        conv: str = "gcn",
        hidden: int = 512,
        out: int = 256,
        num_layers: int = 2,
        activation: str = "prelu",
        norm: str | None = "batch_norm",
        drop_edge=(0.4, 0.4),
        drop_feature=(0.1, 0.1),
        lambd: float | None = None,
        **unused: Any,
    ) -> GBT:
        """G-BT's full-batch encoder (gssl/full_batch/encoders.py): GCN layers with
        BatchNorm (momentum 0.01) and a PReLU of their own between them, none after."""
        encoder = NodeEncoder(
            conv,
            in_channels,
            hidden,
            out,
            num_layers=num_layers,
            act=activation,
            norm=norm,
            act_per_layer=True,
            norm_kwargs={"momentum": 0.01},
        )
        return cls(encoder, drop_edge, drop_feature, lambd)

    def objective(self, z1: Tensor, z2: Tensor) -> Tensor:
        return barlow_twins_loss(z1, z2, self.lambd)


@register_method("cca-ssg")
class CCASSG(_TwoViewDecorrelation):
    r"""CCA-SSG (Zhang et al., 2021): the encoder outputs of two views, standardised, are
    pulled together while each is softly whitened.

    Args:
        encoder: node encoder.
        drop_edge, drop_feature: per-view augmentation rates.
        lambd: weight of the decorrelation terms.
    """

    def __init__(
        self, encoder: nn.Module, drop_edge=(0.4, 0.4), drop_feature=(0.1, 0.1), lambd: float = 1e-3
    ) -> None:
        super().__init__(encoder, drop_edge, drop_feature, lambd)

    @classmethod
    def from_config(
        cls,
        in_channels: int,
        *,
        conv: str = "gcn",
        hidden: int = 512,
        out: int = 512,
        num_layers: int = 2,
        activation: str = "relu",
        drop_edge=(0.4, 0.4),
        drop_feature=(0.1, 0.1),
        lambd: float = 1e-3,
        **unused: Any,
    ) -> CCASSG:
        """CCA-SSG's encoder: GCN layers with the activation between them, none after."""
        encoder = NodeEncoder(conv, in_channels, hidden, out, num_layers=num_layers, act=activation)
        return cls(encoder, drop_edge, drop_feature, lambd)

    def objective(self, z1: Tensor, z2: Tensor) -> Tensor:
        return cca_ssg_loss(z1, z2, self.lambd)
