"""Selecting graphs out of a :class:`~torch_geometric.data.Batch` and merging sub-batches back,
vectorised over graphs (used by per-graph :class:`~graphssl.augment.RandomChoice`).

Both work from the batch's ``_slice_dict`` / ``_inc_dict`` (as built by
``Batch.from_data_list`` and kept in sync by graphssl's augmentations), so every attribute that
``to_data_list`` can separate (node-, edge- and graph-level tensors, lists) is handled.
"""

from __future__ import annotations

import copy

import torch
from torch import Tensor
from torch_geometric.data import Batch, Data

__all__ = ["merge_graphs", "select_graphs"]


def _require_slices(batch: Batch) -> None:
    if not isinstance(batch, Batch) or getattr(batch, "_slice_dict", None) is None:
        raise ValueError(
            "per-graph selection needs a Batch built by Batch.from_data_list (or a "
            "DataLoader); it reads the batch's slice information"
        )


def _row_graph(slices: Tensor, device: torch.device) -> Tensor:
    """Graph id of every row of an attribute with the given slices ``[num_graphs + 1]``."""
    slices = torch.as_tensor(slices, device=device)
    return torch.repeat_interleave(
        torch.arange(slices.numel() - 1, device=slices.device), slices.diff()
    )


def _is_index(key: str) -> bool:
    """Attributes that hold node indices and are offset per graph (PyG's default ``__inc__``)."""
    return "index" in key or key == "face"


def _node_ptr(batch_vec: Tensor, num_graphs: int) -> Tensor:
    ptr = torch.zeros(num_graphs + 1, dtype=torch.long, device=batch_vec.device)
    ptr[1:] = torch.bincount(batch_vec, minlength=num_graphs).cumsum(0)
    return ptr


def _set_graph_sizes(data: Data, node_counts: Tensor) -> None:
    r"""Sets the per-graph node counts ``[num_graphs]`` that ``to_data_list`` gives every graph
    of a batch whose graphs were collated with an explicit ``num_nodes`` (e.g. without ``x``);
    a no-op for other batches. The list is replaced, never modified: copies share it."""
    store = data._store
    if "_num_nodes" in store.__dict__:
        store._num_nodes = node_counts.tolist()


def _finish(
    out: Batch, values: dict, slices: dict, incs: dict, batch_vec: Tensor, num_graphs: int
) -> Batch:
    for key, value in values.items():
        out[key] = value
    out.batch = batch_vec
    ptr = _node_ptr(batch_vec, num_graphs)
    out.ptr = ptr
    if "num_nodes" in out:  # an explicit node count (graphs without x)
        out.num_nodes = batch_vec.numel()
    _set_graph_sizes(out, ptr.diff())
    for key in slices:
        if _is_index(key):
            incs[key] = ptr[:-1]
    out._slice_dict, out._inc_dict = slices, incs
    out._num_graphs = num_graphs
    return out


def _select_inc(inc: Tensor | None, graph_mask: Tensor) -> Tensor | None:
    """The increments ``[num_graphs, *]`` of the graphs in ``graph_mask`` (``None``: none)."""
    return inc[graph_mask.to(inc.device)] if isinstance(inc, Tensor) else inc


def _merge_inc(
    parts: list[Batch], graph_ids: list[Tensor], key: str, num_graphs: int
) -> Tensor | None:
    """The increments of ``key`` of every part placed at its graphs' ids ``[num_graphs, *]``
    (zero for a part without them; the first part's, e.g. ``None``, when no part has any)."""
    incs = [part._inc_dict.get(key) for part in parts]
    first = next((inc for inc in incs if isinstance(inc, Tensor)), None)
    if first is None:
        return incs[0]
    out = first.new_zeros((num_graphs, *first.shape[1:]))
    for inc, ids in zip(incs, graph_ids, strict=True):
        if isinstance(inc, Tensor):
            out[ids.to(out.device)] = inc.to(out.device)
    return out


def select_graphs(batch: Batch, graph_mask: Tensor) -> Batch:
    r"""The sub-batch of the graphs in ``graph_mask`` ``[num_graphs]`` (bool), in order."""
    _require_slices(batch)
    num_graphs = int(graph_mask.sum())
    new_id = torch.cumsum(graph_mask.long(), 0) - 1
    node_mask = graph_mask[batch.batch]
    batch_vec = new_id[batch.batch[node_mask]]
    new_ptr = _node_ptr(batch_vec, num_graphs)
    values, slices = {}, {}
    incs = {key: _select_inc(inc, graph_mask) for key, inc in batch._inc_dict.items()}
    for key, sl in batch._slice_dict.items():
        value = batch[key]
        row_graph = _row_graph(sl, graph_mask.device)
        keep = graph_mask[row_graph]
        counts = torch.bincount(new_id[row_graph[keep]], minlength=num_graphs)
        slices[key] = torch.cat([counts.new_zeros(1), counts.cumsum(0)])
        if not isinstance(value, Tensor):
            values[key] = [v for v, k in zip(value, keep.tolist(), strict=True) if k]
            continue
        dim = batch.__cat_dim__(key, value)
        moved = value.movedim(dim, 0)[keep]
        if _is_index(key):
            graph = row_graph[keep]
            shift = new_ptr[new_id[graph]] - batch.ptr[graph]
            moved = moved + shift.view(-1, *([1] * (moved.dim() - 1)))
        values[key] = moved.movedim(0, dim)
    return _finish(copy.copy(batch), values, slices, incs, batch_vec, num_graphs)


def merge_graphs(parts: list[Batch], graph_ids: list[Tensor], num_graphs: int) -> Batch:
    r"""Merges sub-batches back into one batch of ``num_graphs`` graphs.

    Args:
        parts: sub-batches; they must have the same attributes.
        graph_ids: for every part, the sorted ids its graphs take in the result
            ``[part.num_graphs]``; together they are ``0 .. num_graphs - 1``.
        num_graphs: number of graphs of the result.
    """
    for part in parts:
        _require_slices(part)
    keys = list(parts[0]._slice_dict)
    for part in parts[1:]:
        if set(part._slice_dict) != set(keys):
            raise ValueError(
                "cannot merge sub-batches with different attributes "
                f"({sorted(keys)} vs {sorted(part._slice_dict)}); per-graph choice needs "
                "augmentations that produce the same attributes"
            )
    node_counts = torch.zeros(num_graphs, dtype=torch.long, device=graph_ids[0].device)
    for part, ids in zip(parts, graph_ids, strict=True):
        node_counts[ids] = part.ptr.diff()
    batch_vec = torch.repeat_interleave(
        torch.arange(num_graphs, device=node_counts.device), node_counts
    )
    new_ptr = _node_ptr(batch_vec, num_graphs)
    values, slices = {}, {}
    for key in keys:
        rows, graphs = [], []
        for part, ids in zip(parts, graph_ids, strict=True):
            sl = part._slice_dict[key]
            local = _row_graph(sl, ids.device)
            graphs.append(ids[local])
            value = part[key]
            if isinstance(value, Tensor):
                moved = value.movedim(part.__cat_dim__(key, value), 0)
                if _is_index(key):  # back to graph-local indices
                    shift = part.ptr[local]
                    moved = moved - shift.view(-1, *([1] * (moved.dim() - 1)))
                rows.append(moved)
            else:
                rows.append(list(value))
        graph = torch.cat(graphs)
        order = torch.sort(graph, stable=True)[1]
        counts = torch.bincount(graph, minlength=num_graphs)
        slices[key] = torch.cat([counts.new_zeros(1), counts.cumsum(0)])
        if isinstance(rows[0], Tensor):
            merged = torch.cat(rows)[order]
            if _is_index(key):
                merged = merged + new_ptr[graph[order]].view(-1, *([1] * (merged.dim() - 1)))
            values[key] = merged.movedim(0, parts[0].__cat_dim__(key, parts[0][key]))
        else:
            flat = [v for r in rows for v in r]
            values[key] = [flat[i] for i in order.tolist()]
    incs = {key: _merge_inc(parts, graph_ids, key, num_graphs) for key in parts[0]._inc_dict}
    return _finish(copy.copy(parts[0]), values, slices, incs, batch_vec, num_graphs)
