"""Composable augmentation classes on :class:`~torch_geometric.data.Data` / ``Batch``.

``view = aug(data, generator=None)`` never mutates ``data``; it returns a shallow copy with the
perturbed tensors replaced. ``view, edits = aug.with_edits(data, generator)`` also returns the
per-graph :class:`~graphssl.augment.Edits` (edges removed/added, nodes dropped/masked).

Subclasses implement :meth:`Augmentation.apply_with_edits` on the (already copied) input; an
older subclass that only implements :meth:`Augmentation.apply` still works as a view maker.
The ``edge_index`` of a view that changes edges or nodes is ``int64``.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch import Tensor
from torch_geometric.data import Batch, Data
from torch_geometric.utils import select

from graphssl.augment import batching as B
from graphssl.augment import diffusion as D
from graphssl.augment import functional as F
from graphssl.augment import walks as W
from graphssl.augment.edits import Edits

EdgeAttrFn = Callable[[int, "torch.Generator | None"], Tensor]
"""``fn(num_new_edges, generator) -> edge_attr rows [num_new_edges, *]`` on the data's device."""


class Augmentation:
    """Base class: subclasses implement :meth:`apply_with_edits` on a shallow copy of the input
    (or, without edit accounting, :meth:`apply`)."""

    def __call__(self, data: Data, generator: torch.Generator | None = None) -> Data:
        return self.apply(copy.copy(data), generator)

    def with_edits(
        self, data: Data, generator: torch.Generator | None = None
    ) -> tuple[Data, Edits]:
        """Returns ``(view, edits)``: the view and what changed per graph."""
        return self.apply_with_edits(copy.copy(data), generator)

    def apply(self, data: Data, generator: torch.Generator | None) -> Data:
        return self.apply_with_edits(data, generator)[0]

    def apply_with_edits(self, data: Data, generator: torch.Generator | None) -> tuple[Data, Edits]:
        raise NotImplementedError(
            f"{self.__class__.__name__} does not report edits: implement apply_with_edits()"
        )

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if not k.startswith("_"))
        return f"{self.__class__.__name__}({args})"


class LastValue:
    """The last value computed from some tensors (and settings), given back while the very
    same tensor objects return unmodified: a deterministic per-graph quantity of a full-batch
    training loop, such as GCA's drop probabilities or MVGRL's diffusion, is then computed
    once instead of every step. Identity (``is``) and each tensor's in-place version counter
    decide; the tensors are held, so a new tensor can never take their memory and pass for
    them. Inference-mode tensors, which keep no version counter, are never reused. Copies and
    pickles start empty."""

    def __init__(self) -> None:
        self._key: tuple = ()
        self._value: Any = None

    def get(self, tensors: tuple[Tensor | None, ...], settings: tuple, compute) -> Any:
        try:
            versions = tuple(None if t is None else t._version for t in tensors)
        except RuntimeError:  # inference tensors have no version counter
            return compute()
        old = self._key
        if (
            self._value is not None
            and len(old) == 3
            and len(old[0]) == len(tensors)
            and all(a is b for a, b in zip(old[0], tensors))
            and old[1:] == (versions, settings)
        ):
            return self._value
        self._value = compute()
        self._key = (tensors, versions, settings)
        return self._value

    def __getstate__(self) -> dict:
        return {}

    def __setstate__(self, state: dict) -> None:
        self.__init__()


# --------------------------------------------------------------------------------------------
# Helpers on Data / Batch.
# --------------------------------------------------------------------------------------------


def _graphs(data: Data) -> tuple[Tensor | None, int]:
    """``(batch, num_graphs)``; ``batch`` is ``None`` for a single graph."""
    batch = data.get("batch")
    if batch is None:
        return None, 1
    ptr = data.get("ptr")
    if ptr is not None:
        return batch, ptr.numel() - 1
    return batch, int(batch.max()) + 1 if batch.numel() > 0 else 1


def _batch_or_zeros(data: Data) -> tuple[Tensor, int]:
    batch, num_graphs = _graphs(data)
    return F.graph_index(data.num_nodes, batch, num_graphs, data.edge_index.device)


_NOT_NODE_LEVEL = {"edge_index", "ptr", "num_nodes"}


def _node_keys(data: Data) -> list[str]:
    """Node-level attributes (``x``, ``pos``, node ``y``, masks, ``batch``, ...)."""
    return [
        k
        for k in data.keys()
        if k == "batch" or (k not in _NOT_NODE_LEVEL and "edge" not in k and data.is_node_attr(k))
    ]


def _edge_keys(data: Data, node_keys: list[str]) -> list[str]:
    """Edge-level attributes other than ``edge_index`` (``edge_attr``, ``edge_weight``, ...)."""
    return [
        k for k in data.keys() if k != "edge_index" and k not in node_keys and data.is_edge_attr(k)
    ]


def _sync_batch(
    data: Data,
    node_keys: list[str],
    edge_keys: list[str],
    num_graphs: int,
    edge_counts: Tensor | None = None,
) -> None:
    """Rebuilds ``ptr`` and, for a ``Batch``, the slices and node counts that ``to_data_list``
    reads (``edge_counts`` ``[num_graphs]``: the edges per graph, when known)."""
    if data.get("batch") is None:
        return
    node_counts, node_ptr = F._ptr(data.batch, num_graphs)
    if data.get("ptr") is not None or isinstance(data, Batch):
        data.ptr = node_ptr
    B._set_graph_sizes(data, node_counts)
    if not isinstance(data, Batch) or getattr(data, "_slice_dict", None) is None:
        return
    if edge_counts is None:
        edge_counts = torch.bincount(
            F._edge_graph(data.edge_index, data.batch), minlength=num_graphs
        )
    edge_ptr = torch.zeros(num_graphs + 1, dtype=torch.long, device=edge_counts.device)
    edge_ptr[1:] = edge_counts.cumsum(0)
    slices, incs = dict(data._slice_dict), dict(data._inc_dict)
    for key in slices:
        if key in node_keys:
            slices[key] = node_ptr
        elif key == "edge_index" or key in edge_keys:
            slices[key] = edge_ptr
    for key in node_keys:  # attributes an augmentation added (e.g. a node mask)
        if key != "batch" and key not in slices:
            slices[key], incs[key] = node_ptr, torch.zeros_like(node_ptr[:-1])
    if "edge_index" in incs:
        incs["edge_index"] = node_ptr[:-1]
    data._slice_dict, data._inc_dict = slices, incs


def _keep_nodes(
    data: Data, node_mask: Tensor, induced: tuple[Tensor, Tensor] | None = None
) -> tuple[Data, Edits]:
    """Keeps the nodes in ``node_mask`` ``[num_nodes]`` with every node-level attribute, the
    edges between them (relabelled; ``induced`` = ``(edge_index, edge_mask)`` when already
    computed) and their edge-level attributes."""
    batch, num_graphs = _batch_or_zeros(data)
    node_keys = _node_keys(data)
    edge_keys = _edge_keys(data, node_keys)
    edge_index, edge_mask = induced or F._induced(data.edge_index, node_mask)
    edits = Edits.of(
        num_graphs,
        batch.device,
        nodes_dropped=F.count_per_graph(~node_mask, batch, num_graphs),
        edges_removed=F.count_per_graph(
            ~edge_mask, F._edge_graph(data.edge_index, batch), num_graphs
        ),
    )
    for key in node_keys:
        value = data[key]
        data[key] = select(value, node_mask, dim=data.__cat_dim__(key, value))
    for key in edge_keys:
        value = data[key]
        data[key] = select(value, edge_mask, dim=data.__cat_dim__(key, value))
    data.edge_index = edge_index
    if "num_nodes" in data:
        data.num_nodes = int(node_mask.sum())
    _sync_batch(data, node_keys, edge_keys, num_graphs)
    return data, edits


def _new_edge_rows(
    data: Data,
    key: str,
    num: int,
    source: Tensor | None,
    edge_attr_fn: EdgeAttrFn | None,
    generator: torch.Generator | None,
) -> Tensor:
    value = data[key]
    if key == "edge_attr" and edge_attr_fn is not None:
        rows = edge_attr_fn(num, generator)
        if rows.shape[1:] != value.shape[1:] or rows.size(0) != num:
            raise ValueError(
                f"edge_attr_fn returned shape {tuple(rows.shape)}; expected "
                f"{(num, *value.shape[1:])}"
            )
        return rows.to(dtype=value.dtype)
    if source is None:  # nothing to copy from
        return value.new_zeros((num, *value.shape[1:]))
    rows = value[source.clamp_min(0)]
    missing = source < 0  # the new edge's graph has no edge to copy from
    if bool(missing.any()):
        rows = rows.masked_fill(missing.view(-1, *([1] * (rows.dim() - 1))), 0)
    return rows


def _source_edges(
    old_graph: Tensor, added_graph: Tensor, num_graphs: int, generator: torch.Generator | None
) -> Tensor:
    """For every new edge, a uniformly random existing edge of its own graph to copy the
    attributes from ``[num_added]`` (``-1`` where that graph has no edge; given the graph of
    every existing edge ``old_graph`` ``[num_edges]`` and of every new edge ``added_graph``)."""
    u = F._rand(added_graph.numel(), added_graph.device, generator, dtype=torch.float64)
    old_count = torch.bincount(old_graph, minlength=num_graphs)
    old_start = torch.cumsum(old_count, 0) - old_count
    count = old_count[added_graph]
    has = count > 0
    pos = old_start[added_graph] + torch.floor(u * count).long().clamp_max(count - 1)
    pos = torch.where(has, pos, 0)
    source = pos if F._is_sorted(old_graph) else torch.sort(old_graph, stable=True)[1][pos]
    return torch.where(has, source, -1)


def _edit_edges(
    data: Data,
    keep: Tensor | None,
    added: Tensor,
    edge_attr_fn: EdgeAttrFn | None,
    generator: torch.Generator | None,
) -> tuple[Data, Edits]:
    """Keeps the edges in ``keep`` ``[num_edges]`` (all when ``None``) and appends ``added``
    ``[2, num_added]``; new edges copy every edge-level attribute from a random existing edge
    of the input in their own graph, or get zeros when their graph has none (``edge_attr``
    comes from ``edge_attr_fn`` when given). Edges stay grouped by graph; ``edge_index``
    becomes ``int64``."""
    batch, num_graphs = _batch_or_zeros(data)
    node_keys = _node_keys(data)
    edge_keys = _edge_keys(data, node_keys)
    old = data.edge_index.long()
    num_old, num_new = old.size(1), added.size(1)
    old_graph, added_graph = F._edge_graph(old, batch), F._edge_graph(added, batch)
    keep_idx = None if keep is None else keep.nonzero().view(-1)
    kept_graph = old_graph if keep_idx is None else old_graph[keep_idx]
    kept_count = torch.bincount(kept_graph, minlength=num_graphs)
    added_count = torch.bincount(added_graph, minlength=num_graphs)
    edits = Edits.of(
        num_graphs,
        old.device,
        edges_removed=torch.bincount(old_graph, minlength=num_graphs) - kept_count,
        edges_added=added_count,
    )
    source = None
    if num_new > 0 and num_old > 0 and edge_keys:
        source = _source_edges(old_graph, added_graph, num_graphs, generator)
    # Keep edges grouped by graph, as a Batch stores them: new edges go after the kept edges
    # of their graph.
    grouped = num_new > 0 and num_graphs > 1
    place = _placement(kept_graph, added_graph, kept_count, added_count) if grouped else None
    for key in edge_keys:
        value = data[key]
        kept = value if keep_idx is None else value.index_select(0, keep_idx)
        if num_new > 0:
            new = _new_edge_rows(data, key, num_new, source, edge_attr_fn, generator)
            kept = _merge(kept, new, place, 0)
        data[key] = kept
    kept_edges = old if keep_idx is None else old.index_select(1, keep_idx)
    edge_index = _merge(kept_edges, added, place, 1) if num_new > 0 else kept_edges
    data.edge_index = edge_index
    _sync_batch(data, node_keys, edge_keys, num_graphs, kept_count + added_count)
    return data, edits


def _placement(
    first: Tensor, rest: Tensor, first_count: Tensor, rest_count: Tensor
) -> tuple[Tensor, Tensor] | Tensor:
    """Where the items of ``cat([first, rest])`` go so that they are grouped by graph in a
    stable order (``first`` ``[n1]`` and ``rest`` ``[n2]`` hold the graph of every item, the
    counts ``[num_graphs]`` how many items each graph has in either).

    Returns the positions ``(pos_first, pos_rest)`` when ``first`` and ``rest`` are each
    already grouped in graph order (kept edges of a ``Batch`` + new edges: no sort needed),
    else the gather order ``torch.sort(cat([first, rest]), stable=True)[1]``."""
    if not (F._is_sorted(first) and F._is_sorted(rest)):
        return torch.sort(torch.cat([first, rest]), stable=True)[1]
    total = first_count + rest_count
    out_start = torch.cumsum(total, 0) - total
    first_start = torch.cumsum(first_count, 0) - first_count
    rest_start = torch.cumsum(rest_count, 0) - rest_count
    # item i of graph g in ``first`` goes to out_start[g] + (i - first_start[g]), etc.
    shift_first = (out_start - first_start)[first]
    shift_rest = (out_start + first_count - rest_start)[rest]
    pos1 = torch.arange(first.numel(), device=first.device) + shift_first
    pos2 = torch.arange(rest.numel(), device=rest.device) + shift_rest
    return pos1, pos2


def _merge(
    first: Tensor, rest: Tensor, place: tuple[Tensor, Tensor] | Tensor | None, dim: int
) -> Tensor:
    """``cat([first, rest], dim)`` arranged by a :func:`_placement` (``None``: as is)."""
    if place is None:
        return torch.cat([first, rest], dim=dim)
    if isinstance(place, Tensor):
        return torch.cat([first, rest], dim=dim).index_select(dim, place)
    shape = list(first.shape)
    shape[dim] += rest.size(dim)
    out = first.new_empty(shape)
    out.index_copy_(dim, place[0], first)
    out.index_copy_(dim, place[1], rest)
    return out


def _features(data: Data, name: str) -> Tensor:
    x = data.get("x")
    if not isinstance(x, Tensor):
        raise ValueError(f"{name} needs node features data.x (the input has none)")
    return x


def _check_int(value: int, name: str, low: int) -> None:
    if not isinstance(value, int) or value < low:
        raise ValueError(f"{name} must be an integer >= {low} (got {value!r})")


# --------------------------------------------------------------------------------------------
# Augmentations.
# --------------------------------------------------------------------------------------------


class Identity(Augmentation):
    """Returns the input unchanged (as a shallow copy)."""

    def apply(self, data: Data, generator: torch.Generator | None) -> Data:
        return data

    def apply_with_edits(self, data: Data, generator: torch.Generator | None) -> tuple[Data, Edits]:
        return data, Edits.zeros(_graphs(data)[1], data.edge_index.device)


class DropEdges(Augmentation):
    """Drops each edge with probability ``p`` (:func:`~graphssl.augment.functional.drop_edges`)."""

    def __init__(self, p: float, undirected: bool = False) -> None:
        F._check_prob(p)
        self.p = p
        self.undirected = undirected

    def apply_with_edits(self, data: Data, generator: torch.Generator | None) -> tuple[Data, Edits]:
        batch, num_graphs = _batch_or_zeros(data)
        edge_graph = F._edge_graph(data.edge_index, batch)
        node_keys = _node_keys(data)
        edge_keys = _edge_keys(data, node_keys)  # edge_attr, edge_weight, ...: kept aligned
        edge_index, _, keep = F.drop_edges(
            data.edge_index.long(), self.p, undirected=self.undirected, generator=generator
        )
        data.edge_index = edge_index
        for key in edge_keys:
            data[key] = data[key][keep]
        _sync_batch(data, node_keys, edge_keys, num_graphs)
        removed = F.count_per_graph(~keep, edge_graph, num_graphs)
        return data, Edits.of(num_graphs, batch.device, edges_removed=removed)


class MaskFeatures(Augmentation):
    """Zeroes feature columns with probability ``p``, independently per graph of a batch
    (see :func:`~graphssl.augment.functional.mask_feature_columns`)."""

    def __init__(self, p: float) -> None:
        F._check_prob(p)
        self.p = p

    def apply_with_edits(self, data: Data, generator: torch.Generator | None) -> tuple[Data, Edits]:
        batch, num_graphs = _graphs(data)
        data.x, mask = F.mask_feature_columns(
            _features(data, "MaskFeatures"),
            self.p,
            batch=batch,
            num_graphs=num_graphs,
            generator=generator,
        )
        return data, _column_edits(mask, *_batch_or_zeros(data))


class DropNodes(Augmentation):
    """Drops nodes with every node-level attribute and their incident edges, keeping at least
    one node per graph (see :func:`~graphssl.augment.functional.drop_nodes`)."""

    def __init__(self, p: float, exact: bool = False) -> None:
        F._check_prob(p)
        self.p = p
        self.exact = exact

    def apply_with_edits(self, data: Data, generator: torch.Generator | None) -> tuple[Data, Edits]:
        batch, num_graphs = _graphs(data)
        edge_index, node_mask, edge_mask = F.drop_nodes(
            data.edge_index,
            self.p,
            num_nodes=data.num_nodes,
            batch=batch,
            num_graphs=num_graphs,
            exact=self.exact,
            generator=generator,
        )
        return _keep_nodes(data, node_mask, (edge_index, edge_mask))


class MaskNodes(Augmentation):
    """Attribute masking: replaces the feature rows of random nodes with ``value`` (or, for
    categorical features, ``token`` in column 0 and ``value`` elsewhere). Each node is masked
    with probability ``p``, or with ``exact`` exactly ``floor(p n_g)`` nodes of graph ``g``;
    ``at_least_one`` masks at least one node of every non-empty graph. Hu et al.'s
    ``MaskAtom`` (``int(n_g p + 1)`` atoms of every molecule) on ``[atom type, chirality]`` is
    ``MaskNodes(0.15, token=119, exact=True, at_least_one=True)``. With ``mask_key`` the view
    also stores the boolean node mask ``[num_nodes]`` under that attribute name (see
    :func:`~graphssl.augment.functional.mask_nodes`)."""

    def __init__(
        self,
        p: float,
        value: float | Sequence[float] | Tensor = 0.0,
        token: int | None = None,
        exact: bool = False,
        mask_key: str | None = None,
        at_least_one: bool = False,
    ) -> None:
        F._check_prob(p)
        self.p = p
        self.value = value
        self.token = token
        self.exact = exact
        self.mask_key = mask_key
        self.at_least_one = at_least_one

    def apply_with_edits(self, data: Data, generator: torch.Generator | None) -> tuple[Data, Edits]:
        batch, num_graphs = _batch_or_zeros(data)
        data.x, mask = F.mask_nodes(
            _features(data, "MaskNodes"),
            self.p,
            value=self.value,
            token=self.token,
            batch=batch,
            num_graphs=num_graphs,
            exact=self.exact,
            generator=generator,
            at_least_one=self.at_least_one,
        )
        if self.mask_key is not None:
            data[self.mask_key] = mask
            _sync_batch(data, _node_keys(data), [], num_graphs)
        nodes = F.count_per_graph(mask, batch, num_graphs)
        edits = Edits.of(
            num_graphs, batch.device, nodes_masked=nodes, features_masked=nodes * data.x.size(1)
        )
        return data, edits


class DropoutFeatures(Augmentation):
    """Zeroes every feature entry with probability ``p``, optionally rescaling the rest by
    ``1 / (1 - p)`` (see :func:`~graphssl.augment.functional.dropout_features`)."""

    def __init__(self, p: float, rescale: bool = False) -> None:
        F._check_prob(p)
        self.p = p
        self.rescale = rescale

    def apply_with_edits(self, data: Data, generator: torch.Generator | None) -> tuple[Data, Edits]:
        batch, num_graphs = _batch_or_zeros(data)
        data.x, mask = F.dropout_features(
            _features(data, "DropoutFeatures"), self.p, rescale=self.rescale, generator=generator
        )
        per_node = mask.sum(1)
        edits = Edits.of(
            num_graphs,
            batch.device,
            features_masked=torch.zeros(
                num_graphs, dtype=torch.long, device=batch.device
            ).index_add_(0, batch, per_node),
            nodes_masked=F.count_per_graph(mask.all(1) & (mask.size(1) > 0), batch, num_graphs),
        )
        return data, edits


class ShuffleFeatures(Augmentation):
    """Permutes the feature rows among the nodes of each graph (DGI's corruption); other
    node attributes stay where they are (see
    :func:`~graphssl.augment.functional.shuffle_features`)."""

    def apply_with_edits(self, data: Data, generator: torch.Generator | None) -> tuple[Data, Edits]:
        batch, num_graphs = _batch_or_zeros(data)
        data.x, perm = F.shuffle_features(
            _features(data, "ShuffleFeatures"),
            batch=batch,
            num_graphs=num_graphs,
            generator=generator,
        )
        moved = perm != torch.arange(perm.numel(), device=perm.device)
        nodes = F.count_per_graph(moved, batch, num_graphs)
        width = data.x[0].numel() if data.x.size(0) > 0 else 0
        edits = Edits.of(
            num_graphs, batch.device, nodes_masked=nodes, features_masked=nodes * width
        )
        return data, edits


class AddEdges(Augmentation):
    """Adds ``floor(p E_g)`` random edges inside every graph ``g`` (never across graphs); new
    edges copy their edge-level attributes from random existing edges of their graph, or take
    ``edge_attr`` from ``edge_attr_fn(num, generator)`` (see
    :func:`~graphssl.augment.functional.add_edges`)."""

    def __init__(
        self,
        p: float,
        self_loops: bool = False,
        undirected: bool = False,
        edge_attr_fn: EdgeAttrFn | None = None,
    ) -> None:
        F._check_prob(p)
        self.p = p
        self.self_loops = self_loops
        self.undirected = undirected
        self.edge_attr_fn = edge_attr_fn

    def apply_with_edits(self, data: Data, generator: torch.Generator | None) -> tuple[Data, Edits]:
        batch, num_graphs = _batch_or_zeros(data)
        _, added = F.add_edges(
            data.edge_index,
            self.p,
            num_nodes=data.num_nodes,
            batch=batch,
            num_graphs=num_graphs,
            self_loops=self.self_loops,
            undirected=self.undirected,
            generator=generator,
        )
        return _edit_edges(data, None, added, self.edge_attr_fn, generator)


class PerturbEdges(Augmentation):
    """GraphCL's ``permE``: replaces ``floor(p E_g)`` random edges of every graph ``g`` with as
    many random edges inside it; new edges' attributes as in :class:`AddEdges` (see
    :func:`~graphssl.augment.functional.perturb_edges`)."""

    def __init__(
        self, p: float, self_loops: bool = False, edge_attr_fn: EdgeAttrFn | None = None
    ) -> None:
        F._check_prob(p)
        self.p = p
        self.self_loops = self_loops
        self.edge_attr_fn = edge_attr_fn

    def apply_with_edits(self, data: Data, generator: torch.Generator | None) -> tuple[Data, Edits]:
        batch, num_graphs = _batch_or_zeros(data)
        keep, added = F._perturb_plan(  # perturb_edges() without assembling its edge_index
            data.edge_index, self.p, batch, num_graphs, self.self_loops, generator
        )
        return _edit_edges(data, keep, added, self.edge_attr_fn, generator)


class DropEdgesAdaptive(Augmentation):
    """GCA's centrality-adaptive edge dropping, normalised per graph; ``centrality`` is
    ``"degree"``, ``"pagerank"`` or ``"eigenvector"`` (see
    :func:`~graphssl.augment.functional.drop_edges_adaptive`)."""

    def __init__(self, p: float, centrality: str = "degree", p_tau: float = 0.7) -> None:
        F._check_prob(p)
        F._check_prob(p_tau, "p_tau")
        _check_centrality(centrality)
        self.p = p
        self.centrality = centrality
        self.p_tau = p_tau
        self._probs = LastValue()

    def apply_with_edits(self, data: Data, generator: torch.Generator | None) -> tuple[Data, Edits]:
        batch, num_graphs = _batch_or_zeros(data)

        def probs() -> Tensor:
            return F.edge_drop_probs_adaptive(
                data.edge_index,
                self.p,
                num_nodes=data.num_nodes,
                centrality=self.centrality,
                p_tau=self.p_tau,
                batch=batch,
                num_graphs=num_graphs,
            )

        # the probabilities depend on the graph only: computed once per graph
        settings = (self.p, self.centrality, self.p_tau, data.num_nodes, num_graphs)
        p = self._probs.get((data.edge_index, data.get("batch")), settings, probs)
        _, keep = F.drop_edges_with_probs(data.edge_index, p, generator=generator)
        return _edit_edges(data, keep, data.edge_index.new_zeros(2, 0), None, generator)


CENTRALITIES = ("degree", "pagerank", "eigenvector")


def _check_centrality(centrality: str) -> None:
    if centrality not in CENTRALITIES:
        raise ValueError(f"centrality must be one of {CENTRALITIES} (got {centrality!r})")


class MaskFeaturesAdaptive(Augmentation):
    """GCA's adaptive feature masking: zeroes whole feature columns per graph, the columns that
    carry less weight on central nodes more often (mean probability ``p``, capped at
    ``p_tau``); ``centrality`` is ``"degree"``, ``"pagerank"`` or ``"eigenvector"`` (see
    :func:`~graphssl.augment.functional.mask_features_adaptive`)."""

    def __init__(
        self, p: float, centrality: str = "degree", p_tau: float = 0.7, binary: bool = False
    ) -> None:
        F._check_prob(p)
        F._check_prob(p_tau, "p_tau")
        _check_centrality(centrality)
        self.p = p
        self.centrality = centrality
        self.p_tau = p_tau
        self.binary = binary
        self._probs = LastValue()

    def apply_with_edits(self, data: Data, generator: torch.Generator | None) -> tuple[Data, Edits]:
        batch, num_graphs = _batch_or_zeros(data)
        x = _features(data, "MaskFeaturesAdaptive")

        def probs() -> Tensor:
            c = F.node_centrality(
                data.edge_index, data.num_nodes, self.centrality, batch=batch, num_graphs=num_graphs
            )
            return F.feature_mask_probs_adaptive(
                x,
                self.p,
                centrality=c,
                p_tau=self.p_tau,
                batch=batch,
                num_graphs=num_graphs,
                binary=self.binary,
            )

        # the probabilities depend on the graph and its features only: computed once per graph
        settings = (self.p, self.centrality, self.p_tau, self.binary, num_graphs)
        p = self._probs.get((x, data.edge_index, data.get("batch")), settings, probs)
        data.x, mask = F.mask_feature_columns_with_probs(x, p, batch=batch, generator=generator)
        return data, _column_edits(mask, batch, num_graphs)


def _column_edits(mask: Tensor, batch: Tensor, num_graphs: int) -> Edits:
    """Edits of a per-graph column mask ``[num_graphs, num_features]``."""
    counts = torch.bincount(batch, minlength=num_graphs)
    whole = mask.all(1) if mask.size(1) > 0 else torch.zeros_like(counts, dtype=torch.bool)
    return Edits.of(
        num_graphs,
        batch.device,
        features_masked=mask.sum(1) * counts,
        nodes_masked=whole.long() * counts,
    )


class RandomWalkSubgraph(Augmentation):
    """GraphCL's ``subgraph``: keeps about ``keep_ratio`` of each graph's nodes, grown by random
    walks from a random seed (see :func:`~graphssl.augment.walks.random_walk_subgraph`)."""

    def __init__(
        self,
        keep_ratio: float = 0.8,
        num_walks: int = 4,
        walk_length: int | None = None,
        restart_p: float = 0.0,
    ) -> None:
        F._check_prob(keep_ratio, "keep_ratio")
        F._check_prob(restart_p, "restart_p")
        _check_int(num_walks, "num_walks", 1)
        if walk_length is not None:
            _check_int(walk_length, "walk_length", 0)
        self.keep_ratio = keep_ratio
        self.num_walks = num_walks
        self.walk_length = walk_length
        self.restart_p = restart_p

    def apply_with_edits(self, data: Data, generator: torch.Generator | None) -> tuple[Data, Edits]:
        batch, num_graphs = _graphs(data)
        node_mask = W.random_walk_subgraph(
            data.edge_index,
            self.keep_ratio,
            num_nodes=data.num_nodes,
            batch=batch,
            num_graphs=num_graphs,
            num_walks=self.num_walks,
            walk_length=self.walk_length,
            restart_p=self.restart_p,
            generator=generator,
        )
        return _keep_nodes(data, node_mask)


class EgoNet(Augmentation):
    """Keeps the ``num_hops``-hop neighbourhood of one random centre per graph (see
    :func:`~graphssl.augment.walks.ego_net`)."""

    def __init__(self, num_hops: int = 2, flow: str = "source_to_target") -> None:
        _check_int(num_hops, "num_hops", 0)
        if flow not in ("source_to_target", "target_to_source"):
            raise ValueError(f"flow must be 'source_to_target' or 'target_to_source' ({flow!r})")
        self.num_hops = num_hops
        self.flow = flow

    def apply_with_edits(self, data: Data, generator: torch.Generator | None) -> tuple[Data, Edits]:
        batch, num_graphs = _graphs(data)
        node_mask, _ = W.ego_net(
            data.edge_index,
            self.num_hops,
            num_nodes=data.num_nodes,
            batch=batch,
            num_graphs=num_graphs,
            flow=self.flow,
            generator=generator,
        )
        return _keep_nodes(data, node_mask)


class _Diffusion(Augmentation):
    """Base of the diffusion views: replaces the edges with the sparsified diffusion."""

    def __init__(
        self,
        top_k: int | None,
        eps: float | None,
        normalization: str,
        self_loops: bool,
        tol: float,
        weight_key: str,
    ) -> None:
        if normalization not in D.NORMALIZATIONS:
            raise ValueError(
                f"normalization must be one of {D.NORMALIZATIONS} (got {normalization!r})"
            )
        if top_k is not None:
            _check_int(top_k, "top_k", 1)
        if eps is not None and eps < 0:
            raise ValueError(f"eps must be >= 0 or None (got {eps})")
        if not 0.0 < tol < 1.0:
            raise ValueError(f"tol must be in (0, 1) (got {tol})")
        self.top_k = top_k
        self.eps = eps
        self.normalization = normalization
        self.self_loops = self_loops
        self.tol = tol
        self.weight_key = weight_key

    def coefficients(self) -> Tensor:
        raise NotImplementedError

    def apply_with_edits(self, data: Data, generator: torch.Generator | None) -> tuple[Data, Edits]:
        batch, num_graphs = _batch_or_zeros(data)
        weight = data.get(self.weight_key)
        edge_index, edge_weight = D.diffusion(
            data.edge_index,
            data.num_nodes,
            self.coefficients(),
            edge_weight=weight if isinstance(weight, Tensor) else None,
            batch=batch,
            num_graphs=num_graphs,
            normalization=self.normalization,
            self_loops=self.self_loops,
            top_k=self.top_k,
            eps=self.eps,
        )
        return _replace_edges(data, edge_index, edge_weight, self.weight_key, num_graphs)


def _replace_edges(
    data: Data, edge_index: Tensor, weight: Tensor, weight_key: str, num_graphs: int
) -> tuple[Data, Edits]:
    """Puts a new weighted edge set in place of the old one; edge-level attributes of the old
    edges (``edge_attr``, ...) are removed from the view. Edits count the ``(source, target)``
    pairs that are in one edge set but not the other, per graph."""
    batch, _ = _batch_or_zeros(data)
    node_keys = _node_keys(data)
    old = data.edge_index
    n = max(data.num_nodes, 1)
    old_key, new_key = old[0] * n + old[1], edge_index[0] * n + edge_index[1]
    removed = ~torch.isin(old_key, new_key)
    added = ~torch.isin(new_key, old_key)
    edits = Edits.of(
        num_graphs,
        batch.device,
        edges_removed=F.count_per_graph(removed, F._edge_graph(old, batch), num_graphs),
        edges_added=F.count_per_graph(added, F._edge_graph(edge_index, batch), num_graphs),
    )
    for key in _edge_keys(data, node_keys):
        del data[key]
        if isinstance(data, Batch) and getattr(data, "_slice_dict", None) is not None:
            data._slice_dict = {k: v for k, v in data._slice_dict.items() if k != key}
            data._inc_dict = {k: v for k, v in data._inc_dict.items() if k != key}
    data.edge_index = edge_index
    data[weight_key] = weight
    if isinstance(data, Batch) and getattr(data, "_slice_dict", None) is not None:
        data._slice_dict = {**data._slice_dict, weight_key: data._slice_dict["edge_index"]}
        zeros = torch.zeros(num_graphs, dtype=torch.long, device=batch.device)
        data._inc_dict = {**data._inc_dict, weight_key: zeros}
    _sync_batch(data, node_keys, [weight_key], num_graphs)
    return data, edits


class PPRDiffusion(_Diffusion):
    """MVGRL's personalised-PageRank view: the edges become the sparsified diffusion
    :math:`\alpha (I - (1 - \alpha) T)^{-1}`, with weights under ``weight_key`` (default
    ``edge_weight``; an existing one weighs :math:`T`). Other edge attributes are removed.
    Deterministic (see :func:`~graphssl.augment.diffusion.ppr_diffusion`)."""

    def __init__(
        self,
        alpha: float = 0.2,
        top_k: int | None = None,
        eps: float | None = 1e-4,
        normalization: str = "sym",
        self_loops: bool = True,
        tol: float = 1e-4,
        weight_key: str = "edge_weight",
    ) -> None:
        if not 0.0 < alpha <= 1.0:
            raise ValueError(f"alpha must be in (0, 1] (got {alpha})")
        super().__init__(top_k, eps, normalization, self_loops, tol, weight_key)
        self.alpha = alpha

    def coefficients(self) -> Tensor:
        return D.ppr_coefficients(self.alpha, self.tol)


class HeatDiffusion(_Diffusion):
    r"""MVGRL's heat-kernel view: the edges become the sparsified diffusion
    :math:`\exp(-t (I - T))`, weights under ``weight_key``; other edge attributes are removed.
    Deterministic (see :func:`~graphssl.augment.diffusion.heat_diffusion`)."""

    def __init__(
        self,
        t: float = 5.0,
        top_k: int | None = None,
        eps: float | None = 1e-4,
        normalization: str = "sym",
        self_loops: bool = True,
        tol: float = 1e-4,
        weight_key: str = "edge_weight",
    ) -> None:
        if not t >= 0.0:
            raise ValueError(f"t must be >= 0 (got {t})")
        super().__init__(top_k, eps, normalization, self_loops, tol, weight_key)
        D.heat_coefficients(t, tol)  # raises when t needs too many terms
        self.t = t

    def coefficients(self) -> Tensor:
        return D.heat_coefficients(self.t, self.tol)


# --------------------------------------------------------------------------------------------
# Combinators.
# --------------------------------------------------------------------------------------------


class Compose(Augmentation):
    """Applies augmentations one after another; their edits add up."""

    def __init__(self, augmentations: Sequence[Augmentation]) -> None:
        self.augmentations = list(augmentations)

    def apply(self, data: Data, generator: torch.Generator | None) -> Data:
        for aug in self.augmentations:
            data = aug.apply(data, generator)
        return data

    def apply_with_edits(self, data: Data, generator: torch.Generator | None) -> tuple[Data, Edits]:
        edits = Edits.zeros(_graphs(data)[1], data.edge_index.device)
        for aug in self.augmentations:
            data, more = aug.apply_with_edits(data, generator)
            edits = edits + more
        return data, edits


class RandomChoice(Augmentation):
    """Applies ``k`` distinct augmentations drawn uniformly from ``augmentations`` (in their
    listed order), e.g. GraphCL's random pair of views.

    By default one draw is made per call. With ``per_graph=True`` every graph of a ``Batch``
    draws its own ``k`` augmentations: the graphs that drew the same set are augmented together
    as one sub-batch (one vectorised pass per distinct set, not per graph) and merged back in
    their original order; edits are reported per graph as usual. The augmentations must then
    produce the same attributes and keep the batch's slices in sync (graphssl's do), and
    report edits (:meth:`~Augmentation.apply_with_edits`); with one draw per call, as in
    :class:`Compose`, an older augmentation that only implements ``apply`` also makes views.
    """

    def __init__(
        self, augmentations: Sequence[Augmentation], k: int = 1, per_graph: bool = False
    ) -> None:
        self.augmentations = list(augmentations)
        if not self.augmentations:
            raise ValueError("RandomChoice needs at least one augmentation")
        if not isinstance(k, int) or not 1 <= k <= len(self.augmentations):
            raise ValueError(f"k must be an integer in [1, {len(self.augmentations)}] (got {k!r})")
        self.k = k
        self.per_graph = per_graph

    def _draw(self, num: int, generator: torch.Generator | None) -> Tensor:
        """``num`` draws of ``k`` distinct indices: a bool matrix ``[num, len(augmentations)]``."""
        device = generator.device if generator is not None else torch.device("cpu")
        u = torch.rand(num, len(self.augmentations), generator=generator, device=device)
        chosen = torch.zeros_like(u, dtype=torch.bool)
        return chosen.scatter_(1, u.argsort(dim=1)[:, : self.k], True)

    def _compose(self, row: list[bool]) -> Compose:
        return Compose([aug for aug, use in zip(self.augmentations, row, strict=True) if use])

    def apply(self, data: Data, generator: torch.Generator | None) -> Data:
        if not self.per_graph or not isinstance(data, Batch):  # as Compose: apply-only parts work
            return self._compose(self._draw(1, generator)[0].tolist()).apply(data, generator)
        return self.apply_with_edits(data, generator)[0]

    def apply_with_edits(self, data: Data, generator: torch.Generator | None) -> tuple[Data, Edits]:
        if not self.per_graph or not isinstance(data, Batch):
            return self._compose(self._draw(1, generator)[0].tolist()).apply_with_edits(
                data, generator
            )
        num_graphs = data.num_graphs
        chosen = self._draw(num_graphs, generator).to(data.batch.device)
        weights = 2 ** torch.arange(chosen.size(1), device=chosen.device)
        code = (chosen.long() * weights).sum(1)  # one id per distinct set
        parts, ids, edits = [], [], Edits.zeros(num_graphs, data.batch.device)
        for value in torch.unique(code).tolist():
            mask = code == value
            graph_ids = mask.nonzero().view(-1)
            aug = self._compose(chosen[graph_ids[0]].tolist())
            part, part_edits = aug.apply_with_edits(B.select_graphs(data, mask), generator)
            parts.append(part)
            ids.append(graph_ids)
            edits = edits + _scatter_edits(part_edits, graph_ids, num_graphs)
        return B.merge_graphs(parts, ids, num_graphs), edits


def _scatter_edits(edits: Edits, graph_ids: Tensor, num_graphs: int) -> Edits:
    """Places the edits of a sub-batch at its graphs' positions in a batch of ``num_graphs``."""
    full = {}
    for key, value in edits.to_dict().items():
        full[key] = value.new_zeros(num_graphs).index_copy_(0, graph_ids, value)
    return Edits(**full)
