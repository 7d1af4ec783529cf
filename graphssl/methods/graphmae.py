"""GraphMAE: Self-Supervised Masked Graph Autoencoders (Hou et al., 2022)."""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch_geometric.data import Data
from torch_geometric.nn import GATConv

from graphssl.augment.functional import mask_nodes
from graphssl.encoders import NodeEncoder
from graphssl.methods.base import NodeMethod
from graphssl.methods.registry import register_method
from graphssl.objectives import sce_loss


def init_gat_like_graphmae(conv: GATConv) -> None:
    """GraphMAE's (DGL's) GAT initialisation: Xavier-normal with the ReLU gain sqrt(2) for the
    projection and the attention vectors, zero bias; PyG's default is Xavier-uniform with
    gain 1, i.e. weights sqrt(2) times smaller at the start."""
    gain = nn.init.calculate_gain("relu")
    nn.init.xavier_normal_(conv.lin.weight, gain=gain)
    nn.init.xavier_normal_(conv.att_src, gain=gain)
    nn.init.xavier_normal_(conv.att_dst, gain=gain)
    if conv.bias is not None:
        nn.init.zeros_(conv.bias)


@register_method("graphmae")
class GraphMAE(NodeMethod):
    r"""GraphMAE: mask the features of a fraction of the nodes (a learnable ``[MASK]`` token,
    a few replaced by random nodes' features), encode, re-mask the masked nodes' codes, decode
    with a one-layer GAT, and score the reconstruction of the masked features with the scaled
    cosine error.

    Args:
        encoder: node encoder ``-> [N, hidden]``.
        in_channels: feature size (the decoder's output size).
        hidden: the encoder's output size.
        mask_rate: fraction of nodes masked per graph.
        replace_rate: fraction of the masked nodes that get another node's features instead
            of the token.
        alpha: SCE exponent.
        decoder_heads: attention heads of the GAT decoder (averaged).
        feat_drop: dropout on the encoder's input and on the decoder's input (GraphMAE's
            ``in_drop``; the encoder's own ``dropout`` covers its hidden layers).
        attn_drop: dropout on the attention coefficients of every GAT layer, encoder and
            decoder (GraphMAE's ``attn_drop``).
        gat_init: ``"graphmae"``: every GAT layer initialised as GraphMAE's (see
            :func:`init_gat_like_graphmae`); ``"pyg"``: PyG's own initialisation.
    """

    def __init__(
        self,
        encoder: nn.Module,
        in_channels: int,
        hidden: int,
        mask_rate: float = 0.5,
        replace_rate: float = 0.05,
        alpha: float = 3.0,
        decoder_heads: int = 1,
        feat_drop: float = 0.0,
        attn_drop: float = 0.0,
        gat_init: str = "graphmae",
    ) -> None:
        super().__init__()
        if not 0.0 < mask_rate < 1.0:
            raise ValueError(f"mask_rate must be in (0, 1) (got {mask_rate})")
        if not 0.0 <= replace_rate < 1.0:
            raise ValueError(f"replace_rate must be in [0, 1) (got {replace_rate})")
        if gat_init not in ("graphmae", "pyg"):
            raise ValueError(f"gat_init must be 'graphmae' or 'pyg' (got '{gat_init}')")
        self.encoder = encoder
        self.mask_token = nn.Parameter(torch.zeros(in_channels))
        self.encoder_to_decoder = nn.Linear(hidden, hidden, bias=False)
        self.decoder = GATConv(hidden, in_channels, heads=decoder_heads, concat=False)
        self.mask_rate, self.replace_rate, self.alpha = mask_rate, replace_rate, alpha
        self.feat_drop = feat_drop
        for module in self.modules():
            if isinstance(module, GATConv):
                module.dropout = attn_drop
                if gat_init == "graphmae":
                    init_gat_like_graphmae(module)

    @classmethod
    def from_config(
        cls,
        in_channels: int,
        *,
        hidden: int = 512,
        heads: int = 4,
        num_layers: int = 2,
        activation: str = "prelu",
        dropout: float = 0.2,
        attn_dropout: float = 0.1,
        mask_rate: float = 0.5,
        replace_rate: float = 0.05,
        alpha: float = 3.0,
        gat_init: str = "graphmae",
        **unused: Any,
    ) -> GraphMAE:
        """GraphMAE's node encoder: GAT layers of ``hidden`` units (``heads`` concatenated),
        the activation (one module per layer) after every layer; ``dropout`` on every GAT
        layer's input (encoder and decoder) and ``attn_dropout`` on every attention
        coefficient, as GraphMAE's ``in_drop`` / ``attn_drop``."""
        encoder = NodeEncoder(
            "gat",
            in_channels,
            hidden,
            num_layers=num_layers,
            act=activation,
            act_last=True,
            act_per_layer=True,
            dropout=dropout,
            heads=heads,
        )
        return cls(
            encoder,
            in_channels,
            hidden,
            mask_rate,
            replace_rate,
            alpha,
            feat_drop=dropout,
            attn_drop=attn_dropout,
            gat_init=gat_init,
        )

    def mask(self, data: Data) -> tuple[Tensor, Tensor]:
        """``(x_in, mask)``: the encoder's input with the masked rows replaced, and the
        boolean mask of masked nodes ``[N]``."""
        x, mask = mask_nodes(
            data.x, self.mask_rate, batch=data.get("batch"), exact=True, generator=self.generator
        )
        masked = mask.nonzero().view(-1)
        noise = torch.rand(masked.numel(), device=x.device, generator=self.generator)
        noisy = masked[noise < self.replace_rate]
        source = torch.randint(
            0, x.size(0), (noisy.numel(),), device=x.device, generator=self.generator
        )
        x[noisy] = data.x[source]
        token = torch.zeros(x.size(0), 1, device=x.device, dtype=x.dtype)
        token[masked[noise >= self.replace_rate]] = 1.0
        return x + token * self.mask_token, mask

    def loss(self, data: Data) -> Tensor:
        x_in, mask = self.mask(data)
        x_in = F.dropout(x_in, self.feat_drop, self.training)
        h = self.encoder(x_in, data.edge_index, batch=data.get("batch"))
        code = self.encoder_to_decoder(h)
        code = code.masked_fill(mask[:, None], 0.0)  # re-mask before decoding
        code = F.dropout(code, self.feat_drop, self.training)
        recon = self.decoder(code, data.edge_index)
        if not mask.any():  # floor(mask_rate * n) = 0 in every graph: nothing to reconstruct
            return recon.sum() * 0.0
        return sce_loss(recon[mask], data.x[mask], self.alpha)
