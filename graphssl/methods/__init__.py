"""Published self-supervised methods, composed from graphssl's parts, and their registry."""

from graphssl.methods.base import NodeMethod, drop_and_mask_views
from graphssl.methods.bgrl import BGRL
from graphssl.methods.decorrelation import CCASSG, GBT
from graphssl.methods.dgi import DGI
from graphssl.methods.gae import GAE, VGAE
from graphssl.methods.gca import GCA
from graphssl.methods.grace import GRACE
from graphssl.methods.graphmae import GraphMAE
from graphssl.methods.mvgrl import MVGRL
from graphssl.methods.registry import build_method, get_method, list_methods, register_method

__all__ = [
    "BGRL",
    "CCASSG",
    "DGI",
    "GAE",
    "GCA",
    "GBT",
    "GRACE",
    "GraphMAE",
    "MVGRL",
    "NodeMethod",
    "VGAE",
    "build_method",
    "drop_and_mask_views",
    "get_method",
    "list_methods",
    "register_method",
]
