"""Graph augmentations: a functional core on tensors and composable classes on ``Data``."""

from graphssl.augment import functional
from graphssl.augment.functional import drop_edges, mask_feature_columns
from graphssl.augment.transforms import Augmentation, Compose, DropEdges, Identity, MaskFeatures

__all__ = [
    "Augmentation",
    "Compose",
    "DropEdges",
    "Identity",
    "MaskFeatures",
    "drop_edges",
    "functional",
    "mask_feature_columns",
]
