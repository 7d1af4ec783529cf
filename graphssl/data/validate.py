"""Cheap structural checks for PyG graphs.

:func:`validate` catches the mistakes that otherwise surface far away as an index error inside a
CUDA kernel or a NaN loss: out-of-range or wrongly typed ``edge_index``, misaligned ``x`` /
``edge_attr`` / ``batch``, non-finite features, and edges that join two graphs of a ``Batch``.
All checks are vectorised tensor ops on the data's own device; nothing loops over edges or graphs.
"""

from __future__ import annotations

import warnings

import torch
from torch import Tensor
from torch_geometric.data import Batch, Data

__all__ = ["validate"]


def validate(data: Data | Batch, *, name: str = "data") -> None:
    r"""Checks that a homogeneous :class:`~torch_geometric.data.Data` or
    :class:`~torch_geometric.data.Batch` is well formed.

    Checked:

    * ``edge_index`` is an ``int64`` tensor of shape ``[2, num_edges]`` with every index in
      ``[0, num_nodes)``;
    * the graph has at least one node, and ``x`` has ``num_nodes`` rows;
    * ``edge_attr`` has ``num_edges`` rows;
    * floating point ``x`` and ``edge_attr`` hold no NaN or infinity;
    * when a ``batch`` vector is present (always for a ``Batch``): it is an ``int64`` vector of
      length ``num_nodes``, non-negative and sorted (non-decreasing); ``ptr``, when present, equals
      the cumulative node count per graph; no edge joins two different graphs.

    Args:
        data: the graph or mini-batch to check. It is not modified.
        name: how to call ``data`` in error messages (e.g. ``"view_1"``).

    Raises:
        TypeError: ``data`` is not a ``Data``/``Batch``, or a tensor has the wrong dtype.
        ValueError: a shape, range or consistency check failed; the message says what and where.
    """
    if not isinstance(data, Data):  # ``Batch`` subclasses ``Data``.
        raise TypeError(
            f"validate() expects a torch_geometric.data.Data or Batch for {name!r}, "
            f"got {type(data).__name__}. HeteroData is not supported: validate each edge "
            f"type's homogeneous view instead."
        )
    num_nodes = _num_nodes(data, name)
    num_edges = _check_edge_index(data, num_nodes, name)
    _check_x(data, num_nodes, name)
    _check_edge_attr(data, num_edges, name)
    batch = data.get("batch")
    if batch is not None or isinstance(data, Batch):
        _check_batch(data, num_nodes, name)


def _num_nodes(data: Data, name: str) -> int:
    with warnings.catch_warnings():  # PyG warns when it has to guess from ``edge_index``.
        warnings.simplefilter("ignore")
        num_nodes = data.num_nodes
    if num_nodes is None or num_nodes == 0:
        raise ValueError(
            f"{name} is an empty graph (0 nodes): it needs at least one node. Drop empty graphs "
            f"before training (e.g. with a pre_filter), or set {name}.num_nodes if the node "
            f"count could not be inferred."
        )
    return int(num_nodes)


def _check_edge_index(data: Data, num_nodes: int, name: str) -> int:
    """Checks ``edge_index`` (shape ``[2, E]``, int64, in range) and returns ``E``."""
    edge_index = data.get("edge_index")
    where = f"{name}.edge_index"
    if edge_index is None:
        raise ValueError(
            f"{where} is missing; a graph without edges needs an empty "
            f"edge_index of shape [2, 0] (torch.empty(2, 0, dtype=torch.long))."
        )
    if not isinstance(edge_index, Tensor):
        raise TypeError(f"{where} must be a torch.Tensor, got {type(edge_index).__name__}.")
    if edge_index.dtype != torch.long:
        raise TypeError(
            f"{where} must have dtype torch.int64 (torch.long), got {edge_index.dtype}; "
            f"convert with edge_index.long()."
        )
    if edge_index.dim() != 2 or edge_index.size(0) != 2:
        hint = " (it looks transposed: use edge_index.t())" if _is_transposed(edge_index) else ""
        raise ValueError(
            f"{where} must have shape [2, num_edges], got {list(edge_index.shape)}{hint}."
        )
    num_edges = edge_index.size(1)
    if num_edges == 0:
        return 0
    bad = ((edge_index < 0) | (edge_index >= num_nodes)).any(dim=0)
    if bool(bad.any()):
        col = int(bad.nonzero()[0, 0])
        src, dst = (int(v) for v in edge_index[:, col].tolist())
        raise ValueError(
            f"{where} has {int(bad.sum())} column(s) with a node index outside "
            f"[0, {num_nodes}) (num_nodes={num_nodes}); the first is column {col}: "
            f"({src}, {dst}). Indices are 0-based node positions; check for 1-based input "
            f"or nodes dropped without relabelling edges."
        )
    return num_edges


def _is_transposed(edge_index: Tensor) -> bool:
    return edge_index.dim() == 2 and edge_index.size(1) == 2 and edge_index.size(0) != 2


def _check_x(data: Data, num_nodes: int, name: str) -> None:
    x = data.get("x")
    if x is None:
        return
    if not isinstance(x, Tensor):
        raise TypeError(f"{name}.x must be a torch.Tensor, got {type(x).__name__}.")
    if x.dim() == 0 or x.size(0) != num_nodes:
        rows = "a scalar" if x.dim() == 0 else f"{x.size(0)} rows"
        raise ValueError(
            f"{name}.x has {rows} but the graph has num_nodes={num_nodes}; x must be "
            f"[num_nodes, num_features]. Keep x and num_nodes in sync when adding/removing nodes."
        )
    _check_finite(x, f"{name}.x")


def _check_edge_attr(data: Data, num_edges: int, name: str) -> None:
    edge_attr = data.get("edge_attr")
    if edge_attr is None:
        return
    if not isinstance(edge_attr, Tensor):
        raise TypeError(f"{name}.edge_attr must be a torch.Tensor, got {type(edge_attr).__name__}.")
    if edge_attr.dim() == 0 or edge_attr.size(0) != num_edges:
        rows = "a scalar" if edge_attr.dim() == 0 else f"{edge_attr.size(0)} rows"
        raise ValueError(
            f"{name}.edge_attr has {rows} but edge_index has {num_edges} edges; edge_attr must "
            f"be [num_edges, num_edge_features], aligned with the columns of edge_index."
        )
    _check_finite(edge_attr, f"{name}.edge_attr")


def _check_finite(value: Tensor, where: str) -> None:
    """Raises when a floating point ``[rows, ...]`` tensor holds NaN or infinity."""
    if not (value.is_floating_point() or value.is_complex()) or value.numel() == 0:
        return
    if value.layout == torch.sparse_csr:  # sparse features: only stored entries can be bad
        if bool(torch.isfinite(value.values()).all()):
            return
        value = value.to_dense()  # the error path, reported as for dense features
    finite = torch.isfinite(value)
    if bool(finite.all()):
        return
    bad_rows = (~finite).reshape(value.size(0), -1).any(dim=1)
    row = int(bad_rows.nonzero()[0, 0])
    num_nan = int(torch.isnan(value).sum())
    num_inf = int((~finite).sum()) - num_nan
    raise ValueError(
        f"{where} has {num_nan + num_inf} non-finite value(s) ({num_nan} NaN, {num_inf} inf) in "
        f"{int(bad_rows.sum())} row(s); the first is row {row}. Clean or impute the input "
        f"features (e.g. torch.nan_to_num) before training."
    )


def _check_batch(data: Data, num_nodes: int, name: str) -> None:
    """Checks ``batch``, ``ptr`` and that no edge crosses two graphs."""
    batch = data.get("batch")
    where = f"{name}.batch"
    if batch is None:
        raise ValueError(
            f"{where} is missing: a Batch needs the node-to-graph vector; build batches with "
            f"Batch.from_data_list or a torch_geometric.loader.DataLoader."
        )
    if not isinstance(batch, Tensor):
        raise TypeError(f"{where} must be a torch.Tensor, got {type(batch).__name__}.")
    if batch.dtype != torch.long:
        raise TypeError(f"{where} must have dtype torch.int64 (torch.long), got {batch.dtype}.")
    if batch.dim() != 1 or batch.numel() != num_nodes:
        raise ValueError(
            f"{where} must be a vector of length num_nodes={num_nodes} (one graph id per node), "
            f"got shape {list(batch.shape)}."
        )
    if bool((batch < 0).any()):
        pos = int((batch < 0).nonzero()[0, 0])
        raise ValueError(f"{where} has a negative graph id {int(batch[pos])} at node {pos}.")
    decreasing = batch[1:] < batch[:-1]
    if bool(decreasing.any()):
        pos = int(decreasing.nonzero()[0, 0]) + 1
        raise ValueError(
            f"{where} must be sorted (non-decreasing): node {pos} has graph id "
            f"{int(batch[pos])} after graph id {int(batch[pos - 1])}. Nodes of one graph must be "
            f"contiguous; build batches with Batch.from_data_list."
        )
    _check_ptr(data, batch, name)
    _check_edges_within_graphs(data, batch, name)


def _check_ptr(data: Data, batch: Tensor, name: str) -> None:
    ptr = data.get("ptr")
    if ptr is None:
        return
    where = f"{name}.ptr"
    if not isinstance(ptr, Tensor) or ptr.dim() != 1 or ptr.numel() == 0:
        raise ValueError(f"{where} must be a non-empty 1-D tensor of length num_graphs + 1.")
    num_graphs = ptr.numel() - 1
    max_id = int(batch[-1]) if batch.numel() > 0 else -1  # batch is sorted here
    if max_id >= num_graphs:
        raise ValueError(
            f"{where} describes {num_graphs} graph(s) but {name}.batch refers to graph {max_id}."
        )
    counts = torch.bincount(batch, minlength=num_graphs)
    expected = torch.zeros(num_graphs + 1, dtype=torch.long, device=batch.device)
    expected[1:] = counts.cumsum(0)
    mismatch = ptr.to(expected.dtype) != expected
    if bool(mismatch.any()):
        pos = int(mismatch.nonzero()[0, 0])
        raise ValueError(
            f"{where} is inconsistent with {name}.batch: ptr[{pos}] = {int(ptr[pos])} but the "
            f"node counts in batch give {int(expected[pos])} (ptr must be [0, cumsum(nodes "
            f"per graph)])."
        )


def _check_edges_within_graphs(data: Data, batch: Tensor, name: str) -> None:
    edge_index = data.edge_index
    if edge_index.numel() == 0:
        return
    graph_src, graph_dst = batch[edge_index[0]], batch[edge_index[1]]
    crossing = graph_src != graph_dst
    if bool(crossing.any()):
        col = int(crossing.nonzero()[0, 0])
        src, dst = (int(v) for v in edge_index[:, col].tolist())
        raise ValueError(
            f"{name}.edge_index has {int(crossing.sum())} edge(s) joining two different graphs; "
            f"the first is column {col}: ({src}, {dst}) joins graph {int(graph_src[col])} to "
            f"graph {int(graph_dst[col])}. Edge indices of a Batch must be offset per graph "
            f"(Batch.from_data_list does this)."
        )
