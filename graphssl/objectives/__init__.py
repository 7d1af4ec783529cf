"""Self-supervised objectives: functions from embeddings to a scalar loss."""

from graphssl.objectives.bootstrap import bootstrap_loss
from graphssl.objectives.info_nce import InfoNCE, info_nce
from graphssl.objectives.jsd import jsd_loss
from graphssl.objectives.precision import full_precision
from graphssl.objectives.reconstruction import sce_loss, triplet_margin_loss
from graphssl.objectives.redundancy import barlow_twins_loss, cca_ssg_loss, vicreg_loss

__all__ = [
    "InfoNCE",
    "barlow_twins_loss",
    "bootstrap_loss",
    "cca_ssg_loss",
    "full_precision",
    "info_nce",
    "jsd_loss",
    "sce_loss",
    "triplet_margin_loss",
    "vicreg_loss",
]
