"""Composable augmentation classes on :class:`~torch_geometric.data.Data` / ``Batch``.

``view = aug(data, generator=None)`` never mutates ``data``; it returns a shallow copy with the
perturbed tensors replaced.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence

import torch
from torch_geometric.data import Data

from graphssl.augment import functional as F


class Augmentation:
    """Base class: subclasses implement :meth:`apply` on a shallow copy of the input."""

    def __call__(self, data: Data, generator: torch.Generator | None = None) -> Data:
        return self.apply(copy.copy(data), generator)

    def apply(self, data: Data, generator: torch.Generator | None) -> Data:
        raise NotImplementedError

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in vars(self).items())
        return f"{self.__class__.__name__}({args})"


class Identity(Augmentation):
    """Returns the input unchanged (as a shallow copy)."""

    def apply(self, data: Data, generator: torch.Generator | None) -> Data:
        return data


class DropEdges(Augmentation):
    """Drops each edge with probability ``p`` (:func:`~graphssl.augment.functional.drop_edges`)."""

    def __init__(self, p: float, undirected: bool = False) -> None:
        F._check_prob(p)
        self.p = p
        self.undirected = undirected

    def apply(self, data: Data, generator: torch.Generator | None) -> Data:
        edge_index, edge_attr, _ = F.drop_edges(
            data.edge_index,
            self.p,
            edge_attr=data.get("edge_attr"),
            undirected=self.undirected,
            generator=generator,
        )
        data.edge_index = edge_index
        if edge_attr is not None:
            data.edge_attr = edge_attr
        return data


class MaskFeatures(Augmentation):
    """Zeroes feature columns with probability ``p``, independently per graph of a batch
    (see :func:`~graphssl.augment.functional.mask_feature_columns`)."""

    def __init__(self, p: float) -> None:
        F._check_prob(p)
        self.p = p

    def apply(self, data: Data, generator: torch.Generator | None) -> Data:
        batch = data.get("batch")
        num_graphs = data.num_graphs if batch is not None else None
        data.x, _ = F.mask_feature_columns(
            data.x, self.p, batch=batch, num_graphs=num_graphs, generator=generator
        )
        return data


class Compose(Augmentation):
    """Applies augmentations one after another."""

    def __init__(self, augmentations: Sequence[Augmentation]) -> None:
        self.augmentations = list(augmentations)

    def apply(self, data: Data, generator: torch.Generator | None) -> Data:
        for aug in self.augmentations:
            data = aug.apply(data, generator)
        return data
