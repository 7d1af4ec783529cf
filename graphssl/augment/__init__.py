"""Graph augmentations: a functional core on tensors and composable classes on ``Data``.

Every augmentation works per graph on a ``Batch`` in one vectorised pass, never mutates its
input, draws its randomness from a ``torch.Generator`` and can report its per-graph
:class:`Edits` (``view, edits = aug.with_edits(data, generator)``).
"""

from graphssl.augment import batching, functional, walks
from graphssl.augment.edits import Edits
from graphssl.augment.functional import (
    adaptive_drop_probs,
    add_edges,
    degree_centrality,
    drop_edges,
    drop_edges_adaptive,
    drop_nodes,
    dropout_features,
    mask_feature_columns,
    mask_nodes,
    pagerank_centrality,
    perturb_edges,
    sample_edge_attr,
    sample_edges,
    shuffle_features,
    shuffle_nodes,
)
from graphssl.augment.transforms import (
    AddEdges,
    Augmentation,
    Compose,
    DropEdges,
    DropEdgesAdaptive,
    DropNodes,
    DropoutFeatures,
    EgoNet,
    Identity,
    MaskFeatures,
    MaskNodes,
    PerturbEdges,
    RandomChoice,
    RandomWalkSubgraph,
    ShuffleFeatures,
)
from graphssl.augment.walks import ego_net, k_hop_nodes, random_walk, random_walk_subgraph, to_csr

__all__ = [
    "AddEdges",
    "Augmentation",
    "Compose",
    "DropEdges",
    "DropEdgesAdaptive",
    "DropNodes",
    "DropoutFeatures",
    "EgoNet",
    "Edits",
    "Identity",
    "MaskFeatures",
    "MaskNodes",
    "PerturbEdges",
    "RandomChoice",
    "RandomWalkSubgraph",
    "ShuffleFeatures",
    "adaptive_drop_probs",
    "add_edges",
    "batching",
    "degree_centrality",
    "drop_edges",
    "drop_edges_adaptive",
    "drop_nodes",
    "dropout_features",
    "ego_net",
    "functional",
    "k_hop_nodes",
    "mask_feature_columns",
    "mask_nodes",
    "pagerank_centrality",
    "perturb_edges",
    "random_walk",
    "random_walk_subgraph",
    "sample_edge_attr",
    "sample_edges",
    "shuffle_features",
    "shuffle_nodes",
    "to_csr",
    "walks",
]
