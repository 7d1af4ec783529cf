"""graphssl: graph self-supervised learning on PyTorch and PyTorch Geometric."""

__version__ = "0.1.0"

from graphssl import augment, data, encoders, eval, methods, objectives  # noqa: E402
from graphssl.data import load_dataset, validate  # noqa: E402
from graphssl.methods import GRACE, build_method, list_methods  # noqa: E402
from graphssl.train import pretrain  # noqa: E402

__all__ = [
    "GRACE",
    "__version__",
    "augment",
    "build_method",
    "data",
    "encoders",
    "eval",
    "list_methods",
    "load_dataset",
    "methods",
    "objectives",
    "pretrain",
    "validate",
]
