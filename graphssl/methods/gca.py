"""GCA: Graph Contrastive Learning with Adaptive Augmentation (Zhu et al., 2021)."""

from __future__ import annotations

from typing import Any

from torch import nn

from graphssl.augment import Compose, DropEdgesAdaptive, MaskFeaturesAdaptive
from graphssl.methods.grace import GRACE
from graphssl.methods.registry import register_method


@register_method("gca")
class GCA(GRACE):
    r"""GCA: GRACE whose views drop unimportant edges and mask unimportant feature columns
    more often, importance coming from node centrality (degree, PageRank or eigenvector).

    Args:
        encoder, out_dim, proj_dim, tau, drop_edge, drop_feature, chunk_size: as
            :class:`GRACE`; the drop rates are the mean rates (each capped at 0.7).
        centrality: ``"degree"``, ``"pagerank"`` or ``"eigenvector"``.
        binary_features: weigh feature columns by presence (``x != 0``) rather than magnitude,
            GCA's choice for bag-of-words features.
    """

    def __init__(
        self,
        encoder: nn.Module,
        out_dim: int,
        proj_dim: int,
        centrality: str = "degree",
        **kwargs: Any,
    ) -> None:
        self.centrality = centrality  # read by make_views() during GRACE.__init__
        super().__init__(encoder, out_dim, proj_dim, **kwargs)

    @classmethod
    def from_config(cls, in_channels: int, *, centrality: str = "degree", **config: Any) -> GCA:
        """GRACE's architecture with adaptive views."""
        model = super().from_config(in_channels, **config)
        model.centrality = centrality
        model.augment = model.make_views()
        return model

    def make_views(self) -> list:
        return [
            Compose(
                [DropEdgesAdaptive(pe, self.centrality), MaskFeaturesAdaptive(pf, self.centrality)]
            )
            for pe, pf in zip(self.drop_edge, self.drop_feature, strict=True)
        ]
