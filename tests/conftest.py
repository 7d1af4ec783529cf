"""Shared pytest fixtures."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def datasets_root() -> Path:
    """The shared offline benchmark datasets (``../shared/datasets`` next to the repository, or
    ``$GRAPHSSL_TEST_DATA``). Read-only: never write there. Skips the test when absent."""
    env = os.environ.get("GRAPHSSL_TEST_DATA")
    path = Path(env).expanduser() if env else REPO_ROOT.parent / "shared" / "datasets"
    path = path.resolve()
    if not path.is_dir():
        pytest.skip(f"shared datasets not found at {path} (set GRAPHSSL_TEST_DATA)")
    return path


@pytest.fixture(scope="session", autouse=True)
def _graphssl_cache_in_tmp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Keeps processed dataset files of the whole test session in a temporary folder (unless
    ``$GRAPHSSL_CACHE`` is set), so tests never write into ``~/.cache``."""
    if os.environ.get("GRAPHSSL_CACHE"):
        yield
        return
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("GRAPHSSL_CACHE", str(tmp_path_factory.mktemp("graphssl-cache")))
        yield


@pytest.fixture(scope="session")
def cora(datasets_root: Path):
    """Cora (row-normalised features, public split masks), loaded once per session."""
    import torch_geometric.transforms as T

    from graphssl.data import load_dataset

    return load_dataset("Cora", datasets_root, transform=T.NormalizeFeatures())[0]
