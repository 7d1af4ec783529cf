"""BGRL: Large-Scale Representation Learning on Graphs via Bootstrapping (Thakoor et al.)."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn
from torch_geometric.data import Data

from graphssl.encoders import NodeEncoder, ProjectionHead, cosine_momentum, ema_update, frozen_copy
from graphssl.methods.base import NodeMethod, drop_and_mask_views
from graphssl.methods.registry import register_method
from graphssl.objectives import bootstrap_loss


@register_method("bgrl")
class BGRL(NodeMethod):
    r"""BGRL: an online encoder + predictor learns to predict an EMA target encoder's
    embedding of the other view; no negatives.

    Args:
        encoder: online node encoder ``-> [N, out_dim]``.
        out_dim: its output size.
        pred_hidden: predictor width (Linear, BatchNorm, PReLU, Linear).
        drop_edge, drop_feature: per-view augmentation rates.
        momentum: EMA momentum at the start; it follows a cosine schedule to 1 over
            ``total_steps`` (constant when ``total_steps`` is ``None``).
        total_steps: optimiser steps of the whole run.
        reset_target: start the target from weights of its own (a copy re-initialised, as
            nerdslab/bgrl does) instead of an exact copy of the online encoder (as
            Namkyeong/BGRL_Pytorch and BYOL's common implementations do, whose argument names
            GraphMAE's public-split BGRL settings use; the results under ``results/node/bgrl``
            were trained with the copy). Over BGRL's 10,000 steps of EMA from momentum 0.99
            the initial target is forgotten either way; over 100 steps (Cora) it is not.
    """

    supports_sparse_features = True

    def __init__(
        self,
        encoder: nn.Module,
        out_dim: int,
        pred_hidden: int = 512,
        drop_edge: tuple[float, float] = (0.2, 0.3),
        drop_feature: tuple[float, float] = (0.1, 0.2),
        momentum: float = 0.99,
        total_steps: int | None = None,
        reset_target: bool = False,
    ) -> None:
        super().__init__()
        self.encoder = encoder
        self.target_encoder = frozen_copy(encoder)
        self.reset_target = reset_target
        if reset_target:
            if not hasattr(self.target_encoder, "reset_parameters"):
                raise ValueError("reset_target needs an encoder with reset_parameters()")
            self.target_encoder.reset_parameters()
        self.predictor = ProjectionHead(
            out_dim, pred_hidden, out_dim, act="prelu", norm="batch_norm"
        )
        self.augment = drop_and_mask_views(drop_edge, drop_feature)
        self.base_momentum = momentum
        self.total_steps = total_steps
        self.register_buffer("step", torch.zeros((), dtype=torch.long))

    @classmethod
    def from_config(
        cls,
        in_channels: int,
        *,
        conv: str = "gcn",
        hidden: int = 512,
        out: int = 256,
        num_layers: int = 2,
        pred_hidden: int = 512,
        drop_edge=(0.2, 0.3),
        drop_feature=(0.1, 0.2),
        momentum: float = 0.99,
        total_steps: int | None = None,
        reset_target: bool = False,
        **unused: Any,
    ) -> BGRL:
        """BGRL's encoder: GCN layers each followed by BatchNorm (momentum 0.99, i.e. the
        running statistics are nearly the last batch's) and a PReLU of its own, as in
        nerdslab/bgrl's ``GCN``."""
        encoder = NodeEncoder(
            conv,
            in_channels,
            hidden,
            out,
            num_layers=num_layers,
            act="prelu",
            norm="batch_norm",
            act_last=True,
            act_per_layer=True,
            norm_kwargs={"momentum": 0.99},
        )
        return cls(
            encoder,
            out,
            pred_hidden,
            tuple(drop_edge),
            tuple(drop_feature),
            momentum,
            total_steps,
            reset_target,
        )

    def _target(self, data: Data) -> Tensor:
        with torch.no_grad():
            return self.target_encoder(
                data.x, data.edge_index, edge_attr=data.get("edge_attr"), batch=data.get("batch")
            ).detach()

    def loss(self, data: Data) -> Tensor:
        v1, v2 = (aug(data, self.generator) for aug in self.augment)
        p1 = self.predictor(self.encode(v1))
        p2 = self.predictor(self.encode(v2))
        return bootstrap_loss(p1, self._target(v2)) + bootstrap_loss(p2, self._target(v1))

    def momentum(self) -> float:
        if self.total_steps is None:
            return self.base_momentum
        return cosine_momentum(int(self.step), self.total_steps, self.base_momentum)

    def update(self) -> None:
        """Moves the target encoder towards the online one (call after each step)."""
        ema_update(self.target_encoder, self.encoder, self.momentum())
        self.step += 1
