"""Projection and prediction heads used by contrastive and bootstrap methods."""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch_geometric.nn import MLP


class ProjectionHead(nn.Module):
    r"""An MLP ``[N, in_channels] -> [N, out_channels]`` with a plain last layer.

    GRACE's head is ``ProjectionHead(d, d_proj, d, act="elu")`` (Linear, ELU, Linear).

    Args:
        in_channels: input size.
        hidden_channels: hidden width.
        out_channels: output size.
        num_layers: number of linear layers (>= 1).
        act: activation between layers.
        norm: optional normalisation between layers (e.g. ``"batch_norm"`` for BGRL).
        dropout: dropout between layers.
    """

    def __init__(
        self,
        in_channels: int,
        hidden_channels: int,
        out_channels: int,
        num_layers: int = 2,
        act: str | None = "elu",
        norm: str | None = None,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        if num_layers < 1:
            raise ValueError(f"num_layers must be >= 1 (got {num_layers})")
        if num_layers == 1:
            self.mlp: nn.Module = nn.Linear(in_channels, out_channels)
        else:
            self.mlp = MLP(
                in_channels=in_channels,
                hidden_channels=hidden_channels,
                out_channels=out_channels,
                num_layers=num_layers,
                act=act,
                norm=norm,
                dropout=dropout,
            )

    def reset_parameters(self) -> None:
        self.mlp.reset_parameters()

    def forward(self, x: Tensor) -> Tensor:
        return self.mlp(x)


class BilinearDiscriminator(nn.Module):
    r"""Scores node embeddings against their graph's summary: ``h_i^T W s_{g(i)} + b``
    (DGI, MVGRL).

    Args:
        dim: embedding size.
    """

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.empty(dim, dim))
        self.bias = nn.Parameter(torch.zeros(()))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        # DGI's and MVGRL's init: Xavier-uniform of nn.Bilinear's [1, dim, dim] weight,
        # bound sqrt(6 / (dim^2 + dim)) (nn.Bilinear's own default is 1 / sqrt(dim))
        nn.init.xavier_uniform_(self.weight.unsqueeze(0))
        nn.init.zeros_(self.bias)

    def forward(self, h: Tensor, summary: Tensor, batch: Tensor | None = None) -> Tensor:
        """``h`` ``[N, dim]``, ``summary`` ``[num_graphs, dim]`` -> scores ``[N]``.

        ``W s`` is formed once per graph (``[num_graphs, dim]``), so the cost is
        ``O(num_graphs * dim^2 + N * dim)`` rather than ``O(N * dim^2)``."""
        ws = summary @ self.weight.t()  # [num_graphs, dim]: row g is W s_g
        ws = ws[batch] if batch is not None else ws.expand_as(h)
        return (h * ws).sum(-1) + self.bias
