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
        encoder, out_dim, proj_dim, tau, drop_edge, drop_feature, chunk_size, keep_gib: as
            :class:`GRACE`; the drop rates are the mean rates (each capped at 0.7).
        centrality: ``"degree"``, ``"pagerank"`` or ``"eigenvector"``.
        binary_features: weigh feature columns by presence (``x != 0``) rather than magnitude;
            GCA's reference code does so on every dataset but WikiCS (its
            ``feature_drop_weights`` against ``feature_drop_weights_dense``), so on the Amazon
            and Coauthor bag-of-words features. ``False`` for continuous features.
    """

    def __init__(
        self,
        encoder: nn.Module,
        out_dim: int,
        proj_dim: int,
        centrality: str = "degree",
        binary_features: bool = True,
        **kwargs: Any,
    ) -> None:
        # read by make_views() during GRACE.__init__
        self.centrality = centrality
        self.binary_features = binary_features
        super().__init__(encoder, out_dim, proj_dim, **kwargs)

    @classmethod
    def from_config(
        cls,
        in_channels: int,
        *,
        centrality: str = "degree",
        binary_features: bool = True,
        **config: Any,
    ) -> GCA:
        """GRACE's architecture with adaptive views."""
        model = super().from_config(in_channels, **config)
        model.centrality = centrality
        model.binary_features = binary_features
        model.augment = model.make_views()
        return model

    def make_views(self) -> list:
        """Adaptive feature masking, then adaptive edge dropping: both weigh by the centrality
        of the input graph (as GCA computes its weights once, on the whole graph), which the
        feature masking would not see after the edges are dropped."""
        return [
            Compose(
                [
                    MaskFeaturesAdaptive(pf, self.centrality, binary=self.binary_features),
                    DropEdgesAdaptive(pe, self.centrality),
                ]
            )
            for pe, pf in zip(self.drop_edge, self.drop_feature, strict=True)
        ]
