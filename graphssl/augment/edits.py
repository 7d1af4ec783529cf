"""Per-graph edit accounting: how far an augmented view is from its original."""

from __future__ import annotations

from dataclasses import dataclass, fields

import torch
from torch import Tensor

__all__ = ["Edits"]


@dataclass(frozen=True)
class Edits:
    r"""How many edits an augmentation made, per graph (every field is a ``[num_graphs]`` long
    tensor; a single :class:`~torch_geometric.data.Data` counts as one graph).

    Attributes:
        edges_removed: edges (columns of ``edge_index``) deleted, including the edges that
            disappeared with a dropped node.
        edges_added: edges inserted.
        nodes_dropped: nodes deleted.
        nodes_masked: nodes whose whole feature row was replaced (masked with a value or token,
            or given another node's row by shuffling).
        features_masked: feature entries (node, column) overwritten by any feature perturbation.

    Edits add up (``a + b``), so :class:`~graphssl.augment.Compose` reports the sum of its
    parts; that sum bounds the edit distance between the view and the original from above.
    """

    edges_removed: Tensor
    edges_added: Tensor
    nodes_dropped: Tensor
    nodes_masked: Tensor
    features_masked: Tensor

    @classmethod
    def zeros(cls, num_graphs: int, device: torch.device | str | None = None) -> Edits:
        """No edits for ``num_graphs`` graphs."""
        return cls(*(torch.zeros(num_graphs, dtype=torch.long, device=device) for _ in fields(cls)))

    @classmethod
    def of(
        cls, num_graphs: int, device: torch.device | str | None = None, **counts: Tensor
    ) -> Edits:
        """Edits with the given per-graph ``counts`` (``[num_graphs]`` each) and zero elsewhere."""
        unknown = set(counts) - {f.name for f in fields(cls)}
        if unknown:
            raise TypeError(f"unknown edit field(s) {sorted(unknown)}")
        zero = torch.zeros(num_graphs, dtype=torch.long, device=device)
        return cls(**{f.name: counts.get(f.name, zero).long() for f in fields(cls)})

    @property
    def num_graphs(self) -> int:
        return self.edges_removed.numel()

    @property
    def structural(self) -> Tensor:
        """Edges removed + added + nodes dropped per graph ``[num_graphs]`` (a graph edit
        distance with unit costs, as D-SLA uses it)."""
        return self.edges_removed + self.edges_added + self.nodes_dropped

    def __add__(self, other: Edits) -> Edits:
        if not isinstance(other, Edits):
            return NotImplemented
        if other.num_graphs != self.num_graphs:
            raise ValueError(
                f"cannot add edits of {self.num_graphs} and {other.num_graphs} graph(s)"
            )
        return Edits(*(getattr(self, f.name) + getattr(other, f.name) for f in fields(self)))

    def to_dict(self) -> dict[str, Tensor]:
        return {f.name: getattr(self, f.name) for f in fields(self)}
