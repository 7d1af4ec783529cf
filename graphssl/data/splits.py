"""Train / validation / test splits as sorted ``int64`` index tensors.

Kinds understood by :func:`get_split`:

* ``"public"``: the dataset's own ``train_mask`` / ``val_mask`` / ``test_mask`` (Planetoid).
* ``"random"``: 10 % / 10 % / 80 % random split (GCA, BGRL, the Amazon / Coauthor protocol).
* ``"grace"``: 10 % / 0 % / 90 % random split (GRACE); ``val`` is empty.
* ``"random:TRAIN:VAL"``: random split with the given fractions, e.g. ``"random:0.1:0.1"``;
  test is the rest.
* ``"ogb"``: the official split from ``dataset.get_idx_split()``.

Sizes follow GCA/BGRL: ``int(n * train)`` training and ``int(n * val)`` validation items, the rest
for testing. Random splits draw from a seeded :class:`torch.Generator`, so a seed reproduces a
split exactly.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor
from torch_geometric.data import Data

__all__ = ["SPLIT_KINDS", "Split", "get_split", "ogb_split", "public_split", "random_split"]

SPLIT_KINDS: tuple[str, ...] = ("public", "random", "grace", "random:TRAIN:VAL", "ogb")


@dataclass
class Split:
    r"""Index split of the nodes of a graph (or of the graphs of a dataset).

    Attributes:
        train: training indices, ``[num_train]``, ``int64``, sorted.
        val: validation indices, ``[num_val]`` (may be empty), ``int64``, sorted.
        test: test indices, ``[num_test]``, ``int64``, sorted.
    """

    train: Tensor
    val: Tensor
    test: Tensor

    def __post_init__(self) -> None:
        for field in ("train", "val", "test"):
            setattr(self, field, _as_sorted_index(getattr(self, field), field))
        for a, b in (("train", "val"), ("train", "test"), ("val", "test")):
            shared = torch.isin(getattr(self, a), getattr(self, b).to(getattr(self, a).device))
            if shared.any():
                raise ValueError(
                    f"Split.{a} and Split.{b} share {int(shared.sum())} node(s) (e.g. "
                    f"{int(getattr(self, a)[shared][0])}); the three parts must be disjoint, or "
                    f"selection sees the nodes it is scored on"
                )

    def to(self, device: torch.device | str) -> Split:
        """Returns a copy with all three index tensors on ``device``."""
        return Split(self.train.to(device), self.val.to(device), self.test.to(device))

    def masks(self, num_nodes: int) -> tuple[Tensor, Tensor, Tensor]:
        r"""Returns boolean ``(train_mask, val_mask, test_mask)``, each ``[num_nodes]``."""
        largest = max(
            (int(t.max()) for t in (self.train, self.val, self.test) if t.numel()), default=-1
        )
        if largest >= num_nodes:
            raise ValueError(
                f"Split refers to index {largest} but num_nodes={num_nodes}; pass the size of the "
                f"graph (or dataset) the split was made for."
            )
        out = []
        for index in (self.train, self.val, self.test):
            mask = torch.zeros(num_nodes, dtype=torch.bool, device=index.device)
            mask[index] = True
            out.append(mask)
        return out[0], out[1], out[2]

    def __repr__(self) -> str:
        return (
            f"Split(train={self.train.numel()}, val={self.val.numel()}, test={self.test.numel()})"
        )


def _as_sorted_index(value: Any, field: str) -> Tensor:
    index = torch.as_tensor(value)
    if index.numel() == 0:  # [] / torch.tensor([]) are float32: an empty part is fine
        return torch.empty(0, dtype=torch.long, device=index.device)
    if index.dtype == torch.bool:
        raise TypeError(
            f"Split.{field} must hold indices, got a boolean mask; use mask.nonzero().view(-1) "
            f"or public_split(data) for masks."
        )
    if index.is_floating_point() or index.is_complex():
        raise TypeError(f"Split.{field} must be an integer index tensor, got {index.dtype}.")
    if index.dim() > 1:
        raise ValueError(f"Split.{field} must be 1-D, got shape {list(index.shape)}.")
    if bool((index < 0).any()):
        raise ValueError(f"Split.{field} holds negative indices (min {int(index.min())}).")
    return index.long().view(-1).sort().values


def public_split(data: Any) -> Split:
    r"""The split stored as ``train_mask`` / ``val_mask`` / ``test_mask`` on ``data``.

    Args:
        data: a :class:`~torch_geometric.data.Data` with the three ``[num_nodes]`` boolean masks,
            or a dataset holding exactly one such graph (e.g. ``Planetoid``).
    """
    data = _single_graph(data, "public")
    masks = []
    for key in ("train_mask", "val_mask", "test_mask"):
        mask = data.get(key)
        if mask is None:
            raise ValueError(
                f"This graph has no {key!r}, so it has no public split. Use a random split "
                f"instead: get_split(data, 'random', seed=...) (10/10/80) or 'grace' (10/0/90)."
            )
        if not isinstance(mask, Tensor) or mask.dtype != torch.bool or mask.dim() != 1:
            shape = list(mask.shape) if isinstance(mask, Tensor) else type(mask).__name__
            raise ValueError(
                f"{key} must be a 1-D boolean mask [num_nodes], got {shape}. Multi-split masks "
                f"([num_nodes, num_splits], e.g. geom-gcn) need one column chosen first: "
                f"Split(*(m[:, i].nonzero().view(-1) for m in masks))."
            )
        masks.append(mask)
    return Split(*(mask.nonzero().view(-1) for mask in masks))


def random_split(num_nodes: int, train: float = 0.1, val: float = 0.1, *, seed: int) -> Split:
    r"""Random split of ``range(num_nodes)``: ``int(num_nodes * train)`` training and
    ``int(num_nodes * val)`` validation indices, the rest for testing.

    ``random_split(n, 0.1, 0.1, seed=s)`` is the 10/10/80 protocol of GCA/BGRL;
    ``random_split(n, 0.1, 0.0, seed=s)`` is GRACE's 10/0/90 (empty ``val``).

    Args:
        num_nodes: number of items to split (nodes, or graphs of a dataset).
        train: fraction for training, in ``(0, 1)``.
        val: fraction for validation, in ``[0, 1)``.
        seed: seeds a private :class:`torch.Generator`; the global RNG is untouched.
    """
    if isinstance(num_nodes, bool) or not isinstance(num_nodes, int) or num_nodes <= 0:
        raise ValueError(f"num_nodes must be a positive int, got {num_nodes!r}.")
    _check_fractions(train, val)
    num_train = int(num_nodes * train)
    num_val = int(num_nodes * val)
    if num_train == 0:
        raise ValueError(
            f"train={train} of num_nodes={num_nodes} gives no training item; use a larger "
            f"fraction (at least {1 / num_nodes:.3g})."
        )
    if num_train + num_val >= num_nodes:
        raise ValueError(
            f"train={train}, val={val} of num_nodes={num_nodes} leave no test item; lower them."
        )
    generator = torch.Generator().manual_seed(int(seed))
    perm = torch.randperm(num_nodes, generator=generator)
    return Split(
        perm[:num_train],
        perm[num_train : num_train + num_val],
        perm[num_train + num_val :],
    )


def _check_fractions(train: float, val: float) -> None:
    if not 0.0 < train < 1.0:
        raise ValueError(f"train fraction must be in (0, 1), got {train}.")
    if not 0.0 <= val < 1.0:
        raise ValueError(f"val fraction must be in [0, 1), got {val}.")
    if train + val >= 1.0:
        raise ValueError(
            f"train + val = {train + val:g} must be < 1 so that some items are left for test "
            f"(train={train}, val={val})."
        )


def ogb_split(dataset: Any) -> Split:
    r"""The official OGB split, from ``dataset.get_idx_split()``.

    Works for homogeneous ``ogbn-*`` (node indices) and ``ogbg-*`` (graph indices) datasets.
    """
    get_idx_split = getattr(dataset, "get_idx_split", None)
    if not callable(get_idx_split):
        raise ValueError(
            f"kind 'ogb' needs an OGB dataset with get_idx_split(), got "
            f"{type(dataset).__name__}; pass the dataset (load_dataset('ogbn-...')), not a graph."
        )
    idx = get_idx_split()
    val_key = "valid" if "valid" in idx else "val"
    parts = [idx.get("train"), idx.get(val_key), idx.get("test")]
    if any(part is None for part in parts):
        raise ValueError(
            f"get_idx_split() must return 'train', 'valid' and 'test'; got keys {sorted(idx)}."
        )
    if any(isinstance(part, dict) for part in parts):
        node_types = sorted(parts[0]) if isinstance(parts[0], dict) else []
        raise ValueError(
            f"This is a heterogeneous OGB split (per node type {node_types}); build "
            f"Split(idx['train'][t], idx['valid'][t], idx['test'][t]) for one node type t."
        )
    return Split(*parts)


def get_split(dataset_or_data: Any, kind: str, *, seed: int = 0) -> Split:
    r"""Builds a split by name; see the module docstring for the kinds.

    Args:
        dataset_or_data: a :class:`~torch_geometric.data.Data`, or a dataset. For a dataset with
            one graph the split is over its nodes; for a dataset of several graphs (TU, ogbg) the
            random kinds split the graphs.
        kind: ``"public"``, ``"random"``, ``"grace"``, ``"random:TRAIN:VAL"`` or ``"ogb"``.
        seed: seed for the random kinds (ignored by ``"public"`` and ``"ogb"``).
    """
    if not isinstance(kind, str):
        raise TypeError(f"kind must be a str, got {type(kind).__name__}.")
    key = kind.strip().lower()
    if key == "public":
        return public_split(dataset_or_data)
    if key == "ogb":
        return ogb_split(dataset_or_data)
    if key == "random":
        train, val = 0.1, 0.1
    elif key == "grace":
        train, val = 0.1, 0.0
    elif key.startswith("random:"):
        train, val = _parse_ratios(kind)
    else:
        raise ValueError(f"Unknown split kind {kind!r}; known kinds: {', '.join(SPLIT_KINDS)}.")
    return random_split(_num_items(dataset_or_data), train, val, seed=seed)


def _parse_ratios(kind: str) -> tuple[float, float]:
    parts = kind.strip().split(":")
    try:
        if len(parts) != 3:
            raise ValueError
        train, val = float(parts[1]), float(parts[2])
    except ValueError:
        raise ValueError(
            f"Cannot parse split kind {kind!r}; expected 'random:TRAIN:VAL' with fractions, "
            f"e.g. 'random:0.1:0.1' (test is the rest)."
        ) from None
    _check_fractions(train, val)
    return train, val


def _num_items(dataset_or_data: Any) -> int:
    """Number of nodes of a single graph, or number of graphs of a multi-graph dataset."""
    if isinstance(dataset_or_data, Data):
        return int(dataset_or_data.num_nodes)
    if isinstance(dataset_or_data, Sequence) or hasattr(dataset_or_data, "__getitem__"):
        size = len(dataset_or_data)
        if size == 1:
            return int(dataset_or_data[0].num_nodes)
        return size
    raise TypeError(f"Expected a Data or a dataset, got {type(dataset_or_data).__name__}.")


def _single_graph(dataset_or_data: Any, kind: str) -> Data:
    if isinstance(dataset_or_data, Data):
        return dataset_or_data
    if hasattr(dataset_or_data, "__getitem__") and hasattr(dataset_or_data, "__len__"):
        if len(dataset_or_data) != 1:
            raise ValueError(
                f"Split kind {kind!r} needs a single graph, got a dataset of "
                f"{len(dataset_or_data)} graphs."
            )
        return dataset_or_data[0]
    raise TypeError(f"Expected a Data or a dataset, got {type(dataset_or_data).__name__}.")
