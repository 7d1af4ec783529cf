"""A name -> class registry of self-supervised methods, for the CLI and config files."""

from __future__ import annotations

import difflib
import inspect
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


# passed to every method by the training scripts (the optimiser steps of the run); the
# methods without a step-count schedule ignore it
_COMMON_OPTIONS = frozenset({"total_steps"})


def method_options(name: str) -> frozenset[str]:
    """The config options the method ``name`` takes: the keyword parameters of its
    ``from_config`` and of the ``from_config`` it extends (GCA's GRACE's), and
    ``total_steps``."""
    cls = get_method(name)
    options = set(_COMMON_OPTIONS)
    for klass in cls.__mro__:
        if "from_config" in vars(klass):
            params = inspect.signature(klass.from_config).parameters.values()
            options.update(p.name for p in params if p.kind is p.KEYWORD_ONLY)
    return frozenset(options)


def unknown_options(
    options: Any, known: frozenset[str] | set[str], section: str = "model"
) -> list[str]:
    """One message per key of ``options`` that is not in ``known`` (with the nearest known
    names); keys starting with ``_`` are notes and pass."""
    out = []
    for key in options:
        if key.startswith("_") or key in known:
            continue
        near = difflib.get_close_matches(key, sorted(known), n=2)
        hint = f" (did you mean {' or '.join(repr(n) for n in near)}?)" if near else ""
        out.append(f"{section}.{key}{hint}")
    return out


def build_method(name: str, in_channels: int, **config: Any) -> nn.Module:
    """Builds the method ``name`` for inputs with ``in_channels`` features from a flat config
    (the keyword arguments of its ``from_config``, :func:`method_options`). An option the
    method does not take is refused rather than ignored: a misspelt ``taus`` would otherwise
    train with the default ``tau``."""
    unknown = unknown_options(config, method_options(name))
    if unknown:
        raise ValueError(
            f"{name} does not take {', '.join(unknown)}; its options: "
            f"{', '.join(sorted(method_options(name)))}"
        )
    return get_method(name).from_config(in_channels, **config)
