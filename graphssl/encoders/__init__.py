"""GNN encoders, readouts and heads."""

from graphssl.encoders.ema import cosine_momentum, ema_update, frozen_copy
from graphssl.encoders.graph import GraphEncoder, readout
from graphssl.encoders.heads import BilinearDiscriminator, ProjectionHead
from graphssl.encoders.node import NodeEncoder, num_parameters

__all__ = [
    "BilinearDiscriminator",
    "GraphEncoder",
    "NodeEncoder",
    "ProjectionHead",
    "cosine_momentum",
    "ema_update",
    "frozen_copy",
    "num_parameters",
    "readout",
]
