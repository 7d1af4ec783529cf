"""Self-supervised objectives: functions from embeddings to a scalar loss."""

from graphssl.objectives.info_nce import InfoNCE, info_nce

__all__ = ["InfoNCE", "info_nce"]
