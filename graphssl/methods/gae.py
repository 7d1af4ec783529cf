"""GAE / VGAE (Kipf & Welling, 2016): the classic reconstruction baselines, wrapping PyG's."""

from __future__ import annotations

from typing import Any

from torch import Tensor, nn
from torch_geometric.data import Data
from torch_geometric.nn import GAE as PyGGAE
from torch_geometric.nn import VGAE as PyGVGAE

from graphssl.encoders import NodeEncoder
from graphssl.methods.base import NodeMethod
from graphssl.methods.registry import register_method


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
    positive edge); with ``variational=True`` it is the VGAE, with a KL term weighted by
    ``1 / num_nodes`` as in PyG's example, and the embedding is the mean.

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
        loss = self.model.recon_loss(z, data.edge_index)
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
