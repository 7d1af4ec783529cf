"""GNN encoders, readouts and heads."""

from graphssl.encoders.graph import GraphEncoder, readout
from graphssl.encoders.heads import ProjectionHead
from graphssl.encoders.node import NodeEncoder, num_parameters

__all__ = ["GraphEncoder", "NodeEncoder", "ProjectionHead", "num_parameters", "readout"]
