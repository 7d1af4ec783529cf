"""A name -> class registry of self-supervised methods, for the CLI and config files."""

from __future__ import annotations

from typing import Any, TypeVar

from torch import nn

_METHODS: dict[str, type[nn.Module]] = {}

M = TypeVar("M", bound=type[nn.Module])


def register_method(name: str):
    """Class decorator that registers a method under ``name`` (lower case)."""

    def wrap(cls: M) -> M:
        key = name.lower()
        if key in _METHODS and _METHODS[key] is not cls:
            raise ValueError(f"A method named '{key}' is already registered ({_METHODS[key]})")
        _METHODS[key] = cls
        cls.method_name = key
        return cls

    return wrap


def get_method(name: str) -> type[nn.Module]:
    """The class registered under ``name``."""
    key = name.lower()
    if key not in _METHODS:
        raise ValueError(f"Unknown method '{name}'; known methods: {', '.join(list_methods())}")
    return _METHODS[key]


def list_methods() -> list[str]:
    """Names of all registered methods."""
    return sorted(_METHODS)


def build_method(name: str, in_channels: int, **config: Any) -> nn.Module:
    """Builds the method ``name`` for inputs with ``in_channels`` features from a flat config
    (the keyword arguments of its ``from_config``)."""
    return get_method(name).from_config(in_channels, **config)
