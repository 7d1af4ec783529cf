"""Data loading (offline-first), splits, synthetic graphs and structural checks."""

from graphssl.data.datasets import (
    DEFAULT_DATASET,
    CSBMDataset,
    DatasetInfo,
    DatasetNotFoundError,
    canonical_name,
    default_cache_dir,
    default_root,
    list_datasets,
    load_dataset,
)
from graphssl.data.splits import (
    SPLIT_KINDS,
    Split,
    get_split,
    ogb_split,
    public_split,
    random_split,
)
from graphssl.data.synthetic import make_csbm
from graphssl.data.validate import validate

__all__ = [
    "DEFAULT_DATASET",
    "SPLIT_KINDS",
    "CSBMDataset",
    "DatasetInfo",
    "DatasetNotFoundError",
    "Split",
    "canonical_name",
    "default_cache_dir",
    "default_root",
    "get_split",
    "list_datasets",
    "load_dataset",
    "make_csbm",
    "ogb_split",
    "public_split",
    "random_split",
    "validate",
]
