"""Published self-supervised methods, composed from graphssl's parts, and their registry."""

from graphssl.methods.grace import GRACE
from graphssl.methods.registry import build_method, get_method, list_methods, register_method

__all__ = ["GRACE", "build_method", "get_method", "list_methods", "register_method"]
