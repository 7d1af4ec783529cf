"""Evaluation heads and protocols."""

from graphssl.eval.collapse import COLLAPSE_COSINE, is_collapsed, mean_cosine_similarity
from graphssl.eval.linear_probe import ProbeResult, linear_probe

__all__ = [
    "COLLAPSE_COSINE",
    "ProbeResult",
    "is_collapsed",
    "linear_probe",
    "mean_cosine_similarity",
]
