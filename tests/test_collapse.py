"""The collapse check: mean pairwise cosine of embeddings, and its use in the experiments."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from graphssl.eval import COLLAPSE_COSINE, mean_cosine_similarity


def _brute_force(z: torch.Tensor) -> float:
    u = F.normalize(z.to(torch.float64), dim=1)
    c = u @ u.T
    n = z.size(0)
    return ((c.sum() - c.diagonal().sum()) / (n * (n - 1))).item()


def test_hand_computed_values():
    same_way = torch.tensor([[1.0, 2.0], [3.0, 6.0], [0.5, 1.0]])  # one direction, any norm
    assert mean_cosine_similarity(same_way) == pytest.approx(1.0)
    assert mean_cosine_similarity(torch.eye(5)) == pytest.approx(0.0, abs=1e-12)
    assert mean_cosine_similarity(torch.tensor([[1.0, 0.0], [-2.0, 0.0]])) == pytest.approx(-1.0)
    # pairs (a, b), (a, c), (b, c) with cosines 1, 0, 0, each counted in both orders
    assert mean_cosine_similarity(torch.tensor([[1.0, 0.0], [2.0, 0.0], [0.0, 1.0]])) == (
        pytest.approx(1 / 3)
    )
    # a zero row has cosine 0 with every row: 2 of 6 ordered pairs have cosine 1
    assert mean_cosine_similarity(torch.tensor([[1.0, 0.0], [1.0, 0.0], [0.0, 0.0]])) == (
        pytest.approx(1 / 3)
    )


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(2, 40),
    d=st.integers(1, 12),
    shift=st.floats(-3.0, 3.0),
    seed=st.integers(0, 2**16),
)
def test_matches_the_pairwise_matrix(n, d, shift, seed):
    z = torch.randn(n, d, generator=torch.Generator().manual_seed(seed)) + shift
    value = mean_cosine_similarity(z)
    assert value == pytest.approx(_brute_force(z), abs=1e-9)
    assert -1 / (n - 1) - 1e-9 <= value <= 1 + 1e-9


def test_real_features_sit_far_below_the_collapse_threshold(cora):
    """Non-negative bag-of-words rows share many directions, yet are nowhere near collapsed;
    one dominant direction added to every row (as a collapsed run's embeddings have) is."""
    x = cora.x
    value = mean_cosine_similarity(x)
    assert value == pytest.approx(_brute_force(x), abs=1e-9)
    assert 0.0 < value < 0.2
    collapsed = x + 100.0 * x.mean(0) / x.mean(0).norm()
    assert mean_cosine_similarity(collapsed) > COLLAPSE_COSINE


@pytest.mark.parametrize(
    "z", [torch.ones(1, 4), torch.ones(5), torch.tensor([[1.0, float("nan")], [0.0, 1.0]])]
)
def test_bad_input_is_an_error(z):
    with pytest.raises(ValueError):
        mean_cosine_similarity(z)


def test_a_collapsed_pretraining_is_flagged_and_recorded(datasets_root):
    """GRACE on Cora at lr 1.0 collapses within 20 epochs: InfoNCE sits at its uniform value
    log(2N - 1) and the probe barely beats chance; the run warns and records the cosine."""
    import math

    from graphssl.experiment import run_pretraining

    small = {"model": {"hidden": 16, "proj_hidden": 16}, "train": {"epochs": 20, "lr": 1.0}}
    with pytest.warns(UserWarning, match="collapsed"):
        result = run_pretraining(
            "grace", "Cora", overrides=small, root=str(datasets_root), device="cpu",
            progress=False,
        )  # fmt: skip
    assert result["embedding_mean_cosine"] > COLLAPSE_COSINE
    assert result["final_loss"] == pytest.approx(math.log(2 * 2708 - 1), abs=1e-3)
    assert result["accuracy"]["mean"] < 40.0
