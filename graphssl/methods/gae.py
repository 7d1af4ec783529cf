"""GAE / VGAE (Kipf & Welling, 2016): the classic reconstruction baselines, wrapping PyG's."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn
from torch_geometric.data import Data
from torch_geometric.nn import GAE as PyGGAE
from torch_geometric.nn import VGAE as PyGVGAE

from graphssl.augment.functional import _check_generator, sample_edges
from graphssl.encoders import NodeEncoder
from graphssl.methods.base import NodeMethod
from graphssl.methods.registry import register_method


def negative_edges(
    edge_index: Tensor,
    num_nodes: int,
    num_samples: int,
    generator: torch.Generator | None = None,
) -> Tensor:
    """``[2, num_samples]`` node pairs ``(i, j)``, ``i != j``, drawn uniformly (with
    replacement) among the ordered pairs that are not in ``edge_index``, from ``generator``
    (``None``: the global RNG): the negative edges of PyG's ``negative_sampling``, drawn from
    a torch generator rather than Python's ``random``.

    Args:
        edge_index: the graph's edges ``[2, E]``.
        num_nodes: number of nodes ``N``.
        num_samples: number of pairs to draw.
        generator: random generator on ``edge_index``'s device.
    """
    device = edge_index.device
    _check_generator(device, generator)
    pairs = num_nodes * (num_nodes - 1)
    edges = edge_index[0] * num_nodes + edge_index[1]
    edges = edges[edge_index[0] != edge_index[1]].unique()  # sorted
    free = pairs - edges.numel()
    if num_samples > 0 and free <= 0:
        raise ValueError(f"the graph has no non-edge to draw ({num_nodes} nodes, all pairs linked)")
    ptr = torch.tensor([0, num_nodes], device=device)
    found = edges.new_empty(0)
    while found.numel() < num_samples:
        # enough candidates that one draw almost always suffices
        draw = int((num_samples - found.numel()) * 1.1 * pairs / free) + 16
        row, col = sample_edges(torch.tensor([draw], device=device), ptr, generator=generator)
        key = row * num_nodes + col
        found = torch.cat([found, key[~torch.isin(key, edges)]])
    found = found[:num_samples]
    return torch.stack([found // num_nodes, found % num_nodes])


class _MeanLogStd(nn.Module):
    """Splits a node encoder's ``[N, 2 * dim]`` output into ``(mu, logstd)`` for PyG's VGAE."""

    def __init__(self, encoder: nn.Module) -> None:
        super().__init__()
        self.encoder = encoder

    def forward(self, x: Tensor, edge_index: Tensor, **kwargs: Any) -> tuple[Tensor, Tensor]:
        mu, logstd = self.encoder(x, edge_index, **kwargs).chunk(2, dim=-1)
        return mu, logstd


@register_method("gae")
class GAE(NodeMethod):
    r"""Graph autoencoder: reconstruct the edges (inner-product decoder, one negative edge per
    positive edge, drawn by :func:`negative_edges` from ``generator``); with
    ``variational=True`` it is the VGAE, with a KL term weighted by ``1 / num_nodes`` as in
    PyG's example, and the embedding is the mean.

    Args:
        encoder: node encoder; for the VGAE its output ``[N, 2 * dim]`` is split into the mean
            and the log-std.
        variational: VGAE instead of GAE.
    """

    supports_sparse_features = True

    def __init__(self, encoder: nn.Module, variational: bool = False) -> None:
        super().__init__()
        self.variational = variational
        self.model = PyGVGAE(_MeanLogStd(encoder)) if variational else PyGGAE(encoder)
        self.encoder = encoder

    @classmethod
    def from_config(
        cls,
        in_channels: int,
        *,
        conv: str = "gcn",
        hidden: int = 32,
        out: int = 16,
        num_layers: int = 2,
        variational: bool = False,
        **unused: Any,
    ) -> GAE:
        """Kipf & Welling's encoder: GCN ``in -> 32 -> 16`` (ReLU between)."""
        out_channels = 2 * out if variational else out
        encoder = NodeEncoder(conv, in_channels, hidden, out_channels, num_layers=num_layers)
        return cls(encoder, variational)

    def encode(self, data: Data) -> Tensor:
        z = self.encoder(data.x, data.edge_index, batch=data.get("batch"))
        return z.chunk(2, dim=-1)[0] if self.variational else z

    def loss(self, data: Data) -> Tensor:
        z = self.model.encode(data.x, data.edge_index)  # VGAE: a reparameterised sample
        # one negative pair per positive edge, as PyG's default, drawn from self.generator
        neg = negative_edges(data.edge_index, z.size(0), data.edge_index.size(1), self.generator)
        loss = self.model.recon_loss(z, data.edge_index, neg)
        if self.variational:
            loss = loss + self.model.kl_loss() / data.num_nodes
        return loss


@register_method("vgae")
class VGAE(GAE):
    """:class:`GAE` with ``variational=True``."""

    def __init__(self, encoder: nn.Module) -> None:
        super().__init__(encoder, variational=True)

    @classmethod
    def from_config(cls, in_channels: int, **config: Any) -> VGAE:
        config["variational"] = True
        gae = GAE.from_config(in_channels, **config)
        return cls(gae.encoder)
