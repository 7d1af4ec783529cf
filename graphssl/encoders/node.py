"""Node-level GNN encoders built on :mod:`torch_geometric.nn.models`."""

from __future__ import annotations

import copy
import warnings
from typing import Any

import torch
from torch import Tensor, nn
from torch_geometric.nn.conv import GCNConv
from torch_geometric.nn.conv.gcn_conv import gcn_norm
from torch_geometric.nn.models import GAT, GCN, GIN, GraphSAGE
from torch_geometric.utils import to_torch_csr_tensor


class _GCNConv(GCNConv):
    """PyG's ``GCNConv`` whose sparse products run in float32 under autocast:
    ``torch.sparse`` CSR products have no bfloat16 kernel on the CPU.

    - The aggregation takes a bfloat16 / float16 ``x`` in the adjacency's dtype, so under
      autocast the layer's linear map runs in bfloat16 and its aggregation in float32.
    - A layer given sparse CSR node features (``data.sparse_features``) runs whole in float32,
      autocast or not: its linear map is a sparse-dense product (``O(nnz)``, cheap next to the
      dense layers after it, which autocast still runs in bfloat16).
    """

    def forward(self, x: Tensor, edge_index: Tensor, edge_weight: Tensor | None = None) -> Tensor:
        sparse_x = isinstance(x, Tensor) and x.layout != torch.strided
        if not (sparse_x and torch.is_autocast_enabled(x.device.type)):
            return super().forward(x, edge_index, edge_weight)
        with torch.autocast(x.device.type, enabled=False):
            return super().forward(x, edge_index, edge_weight)

    def message_and_aggregate(self, adj_t: Tensor, x: Tensor) -> Tensor:
        if x.dtype not in (torch.bfloat16, torch.float16):
            return super().message_and_aggregate(adj_t, x)
        with torch.autocast(x.device.type, enabled=False):
            return super().message_and_aggregate(adj_t, x.to(adj_t.dtype))


class _GCN(GCN):
    """PyG's ``GCN`` model built from :class:`_GCNConv` layers."""

    def init_conv(self, in_channels: int, out_channels: int, **kwargs: Any) -> GCNConv:
        return _GCNConv(in_channels, out_channels, **kwargs)


_MODELS = {"gcn": _GCN, "gat": GAT, "sage": GraphSAGE, "graphsage": GraphSAGE, "gin": GIN}


class NodeEncoder(nn.Module):
    r"""A stack of message-passing layers mapping node features to node embeddings.

    A thin wrapper around PyG's :class:`~torch_geometric.nn.models.BasicGNN` models
    (GCN, GAT, GraphSAGE, GIN) that follows graphssl's encoder contract
    ``forward(x, edge_index, edge_attr=None, batch=None) -> [num_nodes, out_channels]``
    and can apply the activation after the last layer too, as GRACE, GCA and DGI do.

    Args:
        conv: ``"gcn"``, ``"gat"``, ``"sage"`` or ``"gin"``.
        in_channels: input feature size.
        hidden_channels: width of the hidden layers.
        out_channels: embedding size (default: ``hidden_channels``).
        num_layers: number of message-passing layers.
        act: activation (name or module), e.g. ``"relu"``, ``"prelu"``.
        act_last: also apply the activation (and norm) after the last layer.
        act_per_layer: give every layer its own copy of ``act`` (e.g. one PReLU slope per
            layer, as BGRL and GraphMAE have) instead of one module shared by all layers (as
            PyG's models and GRACE have); matters only for activations with parameters.
            It covers the activations between layers and after the last one (a GIN
            layer's inner MLP keeps PyG's).
        norm: optional normalisation between layers (``"batch_norm"``, ...).
        dropout: dropout between layers.
        sparse: aggregate with a sparse-matrix product over the (transposed) adjacency in CSR
            form instead of gathering one message per edge; same result, several times faster
            and without an ``[E, dim]`` message tensor (gradients flow to ``x`` and to
            ``edge_weight``). ``None``: on for GCN, off for the others.
        **kwargs: passed to the PyG model and its layers (e.g. ``heads=4`` for GAT,
            ``edge_dim`` for GAT with edge features, ``cached`` for GCN,
            ``norm_kwargs={"momentum": 0.01}`` for every norm layer).

    Edge features are passed to layers that accept them (GAT with ``edge_dim``); other
    layers ignore ``edge_attr``.
    """

    def __init__(
        self,
        conv: str,
        in_channels: int,
        hidden_channels: int,
        out_channels: int | None = None,
        num_layers: int = 2,
        act: str | nn.Module | None = "relu",
        act_last: bool = False,
        norm: str | None = None,
        dropout: float = 0.0,
        sparse: bool | None = None,
        act_per_layer: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__()
        key = conv.lower()
        if key not in _MODELS:
            raise ValueError(f"Unknown conv '{conv}'; choose one of {sorted(set(_MODELS))}")
        if num_layers < 1:
            raise ValueError(f"num_layers must be >= 1 (got {num_layers})")
        self.conv = key
        if sparse and key != "gcn":
            raise ValueError("sparse aggregation is implemented for conv='gcn' only")
        self.sparse = key == "gcn" if sparse is None else sparse
        if self.sparse:
            # GCN normalisation is done here, on the edge list (PyG's own gcn_norm, so
            # self-loops and multi-edges count as in the message-passing path); the layers
            # then only multiply by the normalised adjacency.
            self._gcn_norm = {
                "normalize": kwargs.pop("normalize", True),
                "improved": kwargs.pop("improved", False),
                "add_self_loops": kwargs.pop("add_self_loops", None),
            }
            kwargs.pop("cached", None)
            kwargs["normalize"] = False
        self.in_channels = in_channels
        self.out_channels = out_channels or hidden_channels
        self.act_last = act_last
        # Without an explicit out_channels PyG builds the last layer like the hidden ones
        # (e.g. GAT concatenates its heads there too, as GraphMAE's encoder does).
        self.gnn = _MODELS[key](
            in_channels,
            hidden_channels,
            num_layers,
            out_channels=out_channels,
            act=act,
            norm=norm,
            dropout=dropout,
            **kwargs,
        )
        self.last_norm = None
        if act_last and norm is not None:
            from torch_geometric.nn.resolver import normalization_resolver

            norm_kwargs = kwargs.get("norm_kwargs") or {}
            self.last_norm = normalization_resolver(norm, self.out_channels, **norm_kwargs)
        self.layer_acts = None
        if act_per_layer and self.gnn.act is not None:
            if self.gnn.jk_mode is not None:
                raise ValueError("act_per_layer does not support jumping knowledge (jk)")
            self.layer_acts = nn.ModuleList(
                copy.deepcopy(self.gnn.act) for _ in range(self.gnn.num_layers)
            )
            self.gnn.act = None  # unused: the layers' own copies replace it

    def reset_parameters(self) -> None:
        self.gnn.reset_parameters()
        if self.last_norm is not None and hasattr(self.last_norm, "reset_parameters"):
            self.last_norm.reset_parameters()
        for act in self.layer_acts or []:
            if hasattr(act, "reset_parameters"):
                act.reset_parameters()

    def forward(
        self,
        x: Tensor,
        edge_index: Tensor,
        edge_attr: Tensor | None = None,
        batch: Tensor | None = None,
        edge_weight: Tensor | None = None,
    ) -> Tensor:
        """Returns node embeddings ``[num_nodes, out_channels]``; ``edge_weight`` ``[E]`` is
        used by layers that take scalar edge weights (GCN, e.g. on a diffusion graph).

        ``x`` may be a ``torch.sparse_csr`` tensor (bag-of-words features) for GCN and GAT, and
        under autocast for GCN only (its layer on them runs in float32)."""
        if x.layout != torch.strided:
            self._check_sparse_features(x)
        if not self.gnn.supports_edge_attr:
            edge_attr = None
        if not self.gnn.supports_edge_weight:
            edge_weight = None
        if self.sparse:
            edge_index = self._normalized_adjacency_t(edge_index, edge_weight, x.size(0))
            edge_weight = None
        if self.layer_acts is None:
            x = self.gnn(x, edge_index, edge_weight=edge_weight, edge_attr=edge_attr, batch=batch)
        else:
            x = self._layers_with_own_acts(x, edge_index, edge_weight, edge_attr, batch)
        if self.act_last:
            if self.last_norm is not None:  # per graph where the norm can be (LayerNorm...)
                x = self.last_norm(x, batch) if self.gnn.supports_norm_batch else self.last_norm(x)
            act = self.gnn.act if self.layer_acts is None else self.layer_acts[-1]
            if act is not None:
                x = act(x)
        return x

    def _check_sparse_features(self, x: Tensor) -> None:
        """Refuses sparse ``x`` where the layers cannot take it (instead of torch's
        ``NotImplementedError`` from deep inside the first layer)."""
        if x.layout != torch.sparse_csr:
            raise ValueError(f"sparse node features must be torch.sparse_csr (got {x.layout})")
        if self.conv not in ("gcn", "gat"):
            raise ValueError(
                f"conv='{self.conv}' cannot take sparse node features (its layers gather "
                f"rows of x); use conv='gcn' or 'gat', or dense features"
            )
        if self.conv == "gat" and torch.is_autocast_enabled(x.device.type):
            raise ValueError(
                "conv='gat' cannot take sparse node features under autocast (only the GCN "
                "layer runs its sparse product in float32 there); use conv='gcn', float32 or "
                "dense features"
            )

    def _layers_with_own_acts(
        self,
        x: Tensor,
        edge_index: Tensor,
        edge_weight: Tensor | None,
        edge_attr: Tensor | None,
        batch: Tensor | None,
    ) -> Tensor:
        """PyG's ``BasicGNN.forward`` (without jumping knowledge) with layer ``i``'s own
        activation ``layer_acts[i]``."""
        gnn = self.gnn
        extra: dict[str, Tensor | None] = {}
        if gnn.supports_edge_weight:
            extra["edge_weight"] = edge_weight
        if gnn.supports_edge_attr:
            extra["edge_attr"] = edge_attr
        for i, (conv, norm) in enumerate(zip(gnn.convs, gnn.norms)):
            x = conv(x, edge_index, **extra)
            if i == gnn.num_layers - 1:
                break
            act = self.layer_acts[i]
            if gnn.act_first:
                x = act(x)
            x = norm(x, batch) if gnn.supports_norm_batch else norm(x)
            if not gnn.act_first:
                x = act(x)
            x = gnn.dropout(x)
        return x

    def _normalized_adjacency_t(
        self, edge_index: Tensor, edge_weight: Tensor | None, num_nodes: int
    ) -> Tensor:
        opts = self._gcn_norm
        if opts["normalize"]:
            loops = opts["add_self_loops"]
            edge_index, edge_weight = gcn_norm(
                edge_index,
                edge_weight,
                num_nodes,
                improved=opts["improved"],
                add_self_loops=True if loops is None else loops,
            )
        return adjacency_t(edge_index, edge_weight, num_nodes)

    def __repr__(self) -> str:
        return (
            f"{self.__class__.__name__}({self.conv}, {self.in_channels}, {self.out_channels}, "
            f"num_layers={self.gnn.num_layers}, act_last={self.act_last})"
        )


def adjacency_t(edge_index: Tensor, edge_weight: Tensor | None, num_nodes: int) -> Tensor:
    """The transposed adjacency ``[num_nodes, num_nodes]`` as a ``torch.sparse_csr`` tensor
    (row ``i`` holds the edges into node ``i``, weighted by ``edge_weight`` or 1), the form in
    which PyG's GCN layers aggregate by a sparse-matrix product."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*[Ss]parse.*")
        return to_torch_csr_tensor(edge_index.flip(0), edge_weight, size=(num_nodes, num_nodes))


def num_parameters(module: nn.Module) -> int:
    """Number of trainable parameters of ``module``."""
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


__all__ = ["NodeEncoder", "adjacency_t", "num_parameters"]
