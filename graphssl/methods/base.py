"""What every node-level method shares: encoding a graph and frozen embeddings."""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch_geometric.data import Data

from graphssl.augment import Augmentation, Compose, DropEdges, MaskFeatures


class NodeMethod(nn.Module):
    """Base of node-level methods: ``encoder`` maps a graph to node embeddings; subclasses
    implement :meth:`loss` and, for EMA targets, :meth:`update`.

    ``generator`` (``None``: the global RNG) is handed to the method's augmentations.

    ``supports_sparse_features``: whether :meth:`loss` and :meth:`embed` accept ``data.x`` as
    a ``torch.sparse_csr`` tensor: true for methods whose only feature augmentation is column
    masking (:func:`~graphssl.augment.functional.scale_feature_columns`); the encoder must
    accept it too, as PyG's ``GCNConv`` does (its linear map becomes a sparse product).
    """

    encoder: nn.Module
    generator: torch.Generator | None = None
    supports_sparse_features: bool = False

    def encode(self, data: Data) -> Tensor:
        """Node embeddings ``[num_nodes, dim]`` of ``data`` with gradients."""
        return self.encoder(
            data.x, data.edge_index, edge_attr=data.get("edge_attr"), batch=data.get("batch")
        )

    def loss(self, data: Data) -> Tensor:
        raise NotImplementedError

    def update(self) -> None:
        """Called after each optimiser step (EMA targets); nothing by default."""

    @torch.no_grad()
    def embed(self, data: Data) -> Tensor:
        """Frozen node embeddings ``[num_nodes, dim]`` of the unperturbed graph (eval mode)."""
        was_training = self.training
        self.eval()
        try:
            return self.encode(data).detach()
        finally:
            self.train(was_training)


def drop_and_mask_views(
    drop_edge: tuple[float, float], drop_feature: tuple[float, float]
) -> list[Augmentation]:
    """The two views of GRACE, BGRL, G-BT and CCA-SSG: edge dropping then feature-column
    masking, with per-view rates."""
    return [
        Compose([DropEdges(pe), MaskFeatures(pf)])
        for pe, pf in zip(drop_edge, drop_feature, strict=True)
    ]
