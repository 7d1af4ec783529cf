"""Linear probe: selection on validation only, CV when there is no validation set."""

from __future__ import annotations

import pytest
import torch

from graphssl.data import Split, public_split, random_split
from graphssl.eval import ProbeResult, linear_probe


def _blobs(n=600, d=8, classes=3, sep=3.0, seed=0):
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(n) % classes
    centres = torch.randn(classes, d, generator=g) * sep
    return centres[y] + torch.randn(n, d, generator=g), y


def test_separable_blobs_are_classified():
    x, y = _blobs()
    res = linear_probe(x, y, random_split(600, 0.1, 0.1, seed=0))
    assert res.mean > 95.0 and res.num_runs == 1


def test_raw_cora_features_public_split(cora):
    # A linear model on raw bag-of-words Cora features gets ~ 57-62 % (GCN paper: LogReg 57.1 %
    # with raw features on this split); far from 100 and far from chance (~ 30 %).
    res = linear_probe(cora.x, cora.y, public_split(cora))
    assert 52.0 < res.mean < 66.0


def test_selection_never_looks_at_test():
    # Labels of the test nodes are shuffled: a probe that selected on test would change its
    # choice; ours must select exactly the same weight decay as with the true test labels.
    x, y = _blobs(sep=0.7, seed=1)
    split = random_split(600, 0.2, 0.2, seed=1)
    y_shuffled = y.clone()
    y_shuffled[split.test] = y[split.test][torch.randperm(split.test.numel())]
    a = linear_probe(x, y, split)
    b = linear_probe(x, y_shuffled, split)
    assert a.selected == b.selected and a.val == b.val


@pytest.mark.parametrize("early_stopping", [False, True])
def test_test_accuracy_is_that_of_the_selected_classifier(early_stopping):
    """The classifier scored on validation is the one scored on test (Adam from a random
    start: a refit of the chosen weight decay from another start would be another model)."""
    from graphssl.eval.linear_probe import ProbeOptimizer, _accuracy, _fit_logreg

    x, y = _blobs(d=64, sep=0.5, seed=5)
    split = random_split(600, 0.05, 0.2, seed=2)
    wds = torch.tensor([0.0, 1e-3, 1e-2, 1e-1])
    res = linear_probe(
        x, y, split, weight_decays=wds.tolist(), scalings=("raw",), early_stopping=early_stopping
    )
    gen = torch.Generator().manual_seed(0)  # the probe's seed for split 0
    stop_on = (x[split.val], y[split.val]) if early_stopping else None
    fit = _fit_logreg(
        x[split.train], y[split.train], 3, wds, ProbeOptimizer("adam", 300, 0.01), gen, stop_on
    )
    val = _accuracy(x[split.val], y[split.val], *fit)
    k = int(val.argmax())
    assert k > 0  # a chosen problem other than the first, whose start a refit would reuse
    assert res.selected[0] == pytest.approx(float(wds[k]))
    assert res.val[0] == pytest.approx(100 * float(val[k]))
    test = _accuracy(x[split.test], y[split.test], fit[0][k : k + 1], fit[1][k : k + 1])
    assert res.runs[0] == pytest.approx(100 * float(test[0]))


def test_empty_val_uses_cross_validation_on_train():
    x, y = _blobs(seed=2)
    split = random_split(600, 0.1, 0.0, seed=0)
    assert split.val.numel() == 0
    res = linear_probe(x, y, split)
    assert res.mean > 90.0 and res.val[0] > 0


def test_multiple_splits_mean_and_std():
    x, y = _blobs(sep=1.0, seed=3)
    splits = [random_split(600, 0.1, 0.1, seed=s) for s in range(4)]
    res = linear_probe(x, y, splits)
    assert res.num_runs == 4
    t = torch.tensor(res.runs)
    assert res.mean == pytest.approx(float(t.mean()))
    assert res.std == pytest.approx(float(t.std(unbiased=False)))
    pooled = ProbeResult.combine([res, res])
    assert pooled.num_runs == 8 and pooled.mean == pytest.approx(res.mean)


def test_bad_inputs():
    x, y = _blobs()
    split = Split(torch.arange(10), torch.arange(10, 20), torch.arange(20, 600))
    with pytest.raises(ValueError, match="labels"):
        linear_probe(x, y[:-1], split)
    bad = x.clone()
    bad[3, 0] = float("nan")
    with pytest.raises(ValueError, match="NaN"):
        linear_probe(bad, y, split)
    with pytest.raises(ValueError, match="dim"):
        linear_probe(x[:, 0], y, split)
    # no validation nodes: selection by cross-validation on the training nodes, which needs
    # two folds at least (one fold would fit on nothing and pick the weight decay by noise)
    no_val = Split(torch.arange(10), [], torch.arange(10, 600))
    with pytest.raises(ValueError, match="cv_folds must be >= 2"):
        linear_probe(x, y, no_val, cv_folds=1)
    with pytest.raises(ValueError, match="3 training node"):
        linear_probe(x, y, Split([0, 1, 2], [], torch.arange(3, 600)), cv_folds=5)
    assert linear_probe(x, y, no_val, cv_folds=2).num_runs == 1


def test_scalings_are_selected_on_validation_and_named():
    from graphssl.eval.linear_probe import SCALINGS, scale_features

    torch.manual_seed(0)
    x = torch.randn(300, 8) * torch.logspace(-2, 2, 8)
    assert torch.allclose(scale_features(x, "l2").norm(dim=1), torch.ones(300))
    z = scale_features(x, "standardized")
    assert torch.allclose(z.mean(0), torch.zeros(8), atol=1e-5)
    with pytest.raises(ValueError, match="Unknown feature scaling"):
        scale_features(x, "minmax")
    # the class is the direction of the row, not its length
    x = torch.randn(300, 8)
    y = (x[:, 0] > 0).long()
    x = x * (1.0 + torch.rand(300, 1) * 1e3)
    split = Split(torch.arange(100), torch.arange(100, 200), torch.arange(200, 300))
    res = linear_probe(x, y, split, scalings=SCALINGS)
    assert res.scaling[0] in SCALINGS and res.val[0] >= 85.0
    # the chosen scaling is the one whose own best validation accuracy is highest
    alone = {s: linear_probe(x, y, split, scalings=[s]).val[0] for s in SCALINGS}
    assert res.val[0] == pytest.approx(max(alone.values()))
    assert alone[res.scaling[0]] == pytest.approx(res.val[0])
    only = linear_probe(x, y, split, scalings=("l2",))
    assert only.scaling == ["l2"] and only.mean >= 85.0
    with pytest.raises(ValueError, match="at least one"):
        linear_probe(x, y, split, scalings=())


def test_early_stopping_keeps_the_best_validation_step():
    # Same seed, same initialisation: the best-validation step over the run can only match or
    # beat the last step on validation, for every split; and the test labels are never read
    # for the choice of step (shuffling them changes nothing that was selected).
    x, y = _blobs(d=16, sep=0.6, seed=4)
    splits = [random_split(600, 0.05, 0.2, seed=s) for s in range(3)]
    last = linear_probe(x, y, splits, scalings=("raw",))
    best = linear_probe(x, y, splits, scalings=("raw",), early_stopping=True)
    assert all(b >= a for a, b in zip(last.val, best.val))
    assert sum(best.val) > sum(last.val)
    y_shuffled = y.clone()
    test = splits[0].test
    y_shuffled[test] = y[test][torch.randperm(test.numel())]
    again = linear_probe(x, y_shuffled, splits[0], scalings=("raw",), early_stopping=True)
    assert again.val[0] == best.val[0] and again.selected[0] == best.selected[0]


def test_early_stopping_needs_validation_nodes():
    x, y = _blobs(seed=5)
    with pytest.raises(ValueError, match="validation"):
        linear_probe(x, y, random_split(600, 0.1, 0.0, seed=0), early_stopping=True)


def test_lbfgs_reaches_the_regularised_optimum_sklearn_finds():
    # mean CE + wd * ||W||^2 is scikit-learn's C * sum CE + ||W||^2 / 2 with C = 1 / (2 n wd):
    # the same multinomial optimum, so the same coefficients and predictions.
    from sklearn.linear_model import LogisticRegression

    from graphssl.eval.linear_probe import ProbeOptimizer, _fit_logreg

    x, y = _blobs(n=300, d=6, classes=3, sep=1.0, seed=6)
    wds = torch.tensor([1e-3, 1e-2, 1e-1])
    w, b = _fit_logreg(x, y, 3, wds, ProbeOptimizer("lbfgs", 500, 0.0), None)
    for k, wd in enumerate(wds.tolist()):
        ref = LogisticRegression(C=1.0 / (2 * 300 * wd), tol=1e-10, max_iter=5000).fit(x, y)
        ours = w[k].T - w[k].T.mean(0)  # softmax weights are defined up to a shift per feature
        theirs = torch.tensor(ref.coef_, dtype=torch.float32)
        torch.testing.assert_close(ours, theirs - theirs.mean(0), atol=2e-3, rtol=1e-3)
        pred = (x @ w[k] + b[k]).argmax(1)
        assert (pred == torch.as_tensor(ref.predict(x))).float().mean() > 0.99


def test_lbfgs_probe_converges_where_a_short_adam_run_stops_short():
    # L2-normalised embeddings need large weights: 300 Adam steps at lr 0.01 stop short of
    # the optimum of the probe's objective; L-BFGS reaches it (gradient ~ 0).
    from graphssl.eval.linear_probe import ProbeOptimizer, _fit_logreg, _logreg_loss

    x, y = _blobs(n=900, d=32, classes=6, sep=0.5, seed=7)
    x = torch.nn.functional.normalize(x, dim=1)
    wds = torch.tensor([1e-4])
    gen = torch.Generator().manual_seed(0)
    objective = {}
    for solver in ("adam", "lbfgs"):
        w, b = _fit_logreg(x, y, 6, wds, ProbeOptimizer(solver, 300, 0.01), gen)
        w.requires_grad_(True)
        loss = _logreg_loss(x, y, w, b, wds).sum()
        objective[solver] = float(loss.detach())
        grad = torch.autograd.grad(loss, w)[0]
        if solver == "lbfgs":
            assert grad.abs().max() < 1e-4
    assert objective["lbfgs"] < objective["adam"] - 0.05
    split = random_split(900, 0.3, 0.1, seed=0)
    with pytest.raises(ValueError, match="solver"):
        linear_probe(x, y, split, solver="sgd")
    with pytest.raises(ValueError, match="Adam"):
        linear_probe(x, y, split, solver="lbfgs", early_stopping=True)


def test_cv_halves_parts_are_random_halves_of_the_training_nodes():
    from graphssl.eval.linear_probe import _cv_parts

    train = torch.arange(100, 151)  # 51 nodes: 26 scored, 25 fitted, as ShuffleSplit(0.5)
    parts = _cv_parts(train, 5, "halves", torch.Generator().manual_seed(0))
    assert len(parts) == 5
    for fit_on, score_on in parts:
        assert (fit_on.numel(), score_on.numel()) == (25, 26)
        assert not torch.isin(fit_on, score_on).any()
        assert torch.equal(torch.cat([fit_on, score_on]).sort().values, train)
    assert len({tuple(s.sort().values.tolist()) for _, s in parts}) == 5  # independent halves
    folds = _cv_parts(train, 5, "kfold", torch.Generator().manual_seed(0))
    scored = torch.cat([s for _, s in folds])
    assert torch.equal(scored.sort().values, train)  # k-fold scores each node once
    for fit_on, score_on in folds:  # ... by a classifier that never saw it
        assert not torch.isin(fit_on, score_on).any()
        assert torch.equal(torch.cat([fit_on, score_on]).sort().values, train)


def test_cv_halves_selects_on_train_and_refits_on_all_of_it():
    """BGRL's protocol (20/0/80, C chosen over 5 random halves of the 20 %, refitted on all
    of it): the test accuracy is that of the selected weight decay fitted on every training
    node, and the test labels play no part in the choice."""
    from graphssl.eval.linear_probe import ProbeOptimizer, _accuracy, _fit_logreg

    x, y = _blobs(d=32, sep=0.45, seed=3)
    split = random_split(600, 0.2, 0.0, seed=4)
    wds = [0.0, 1e-3, 1e-2, 1e-1, 1.0]
    kw = dict(weight_decays=wds, scalings=("raw",), solver="lbfgs", cv="halves")
    res = linear_probe(x, y, split, **kw)
    k = min(range(len(wds)), key=lambda i: abs(wds[i] - res.selected[0]))
    w, b = _fit_logreg(
        x[split.train],
        y[split.train],
        3,
        torch.tensor(wds[k : k + 1]),
        ProbeOptimizer("lbfgs", 300, 0.01),
        None,
    )
    assert res.runs[0] == pytest.approx(
        100 * float(_accuracy(x[split.test], y[split.test], w, b)[0])
    )
    y_shuffled = y.clone()
    y_shuffled[split.test] = y[split.test][torch.randperm(split.test.numel())]
    other = linear_probe(x, y_shuffled, split, **kw)
    assert other.selected == res.selected and other.val == res.val
    kfold = linear_probe(x, y, split, **{**kw, "cv": "kfold"})
    assert kfold.val != res.val  # another selection scheme, scored on other parts


def test_unknown_cv_scheme_is_refused():
    x, y = _blobs()
    with pytest.raises(ValueError, match="cross-validation scheme 'loo'"):
        linear_probe(x, y, random_split(600, 0.2, 0.0, seed=0), cv="loo")


@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
def test_probe_works_under_no_grad(solver):
    """Embeddings are often computed under ``torch.no_grad()``, and the probe called there
    too: its classifiers still train."""
    x, y = _blobs(seed=4)
    split = random_split(600, 0.1, 0.1, seed=0)
    expected = linear_probe(x, y, split, solver=solver)
    with torch.no_grad():
        assert linear_probe(x, y, split, solver=solver).runs == expected.runs
