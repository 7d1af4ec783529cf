"""Linear probe: logistic regression on frozen embeddings, model selection on validation only."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, NamedTuple, Protocol

import torch
import torch.nn.functional as F
from torch import Tensor

DEFAULT_WEIGHT_DECAYS: tuple[float, ...] = (0.0, 1e-5, 1e-4, 1e-3, 1e-2, 3e-2, 0.1, 0.3, 1.0)
SCALINGS: tuple[str, ...] = ("raw", "standardized", "l2")
SOLVERS: tuple[str, ...] = ("adam", "lbfgs")
# How a split with no validation nodes selects on its training nodes: "kfold", cv_folds folds
# each scored by a classifier fitted on the others (scikit-learn's default cv=5, as GRACE's
# evaluation); "halves", cv_folds random halves each scored by a classifier fitted on the
# other half (BGRL's ShuffleSplit(n_splits=5, test_size=0.5)).
CV_SCHEMES: tuple[str, ...] = ("kfold", "halves")


class ProbeOptimizer(NamedTuple):
    """How each classifier is fitted: ``"adam"`` for ``epochs`` steps at ``lr`` (the
    DGI/GraphMAE evaluation code's probe), or ``"lbfgs"``, L-BFGS to convergence (at most
    ``epochs`` iterations; the optimum that scikit-learn's ``LogisticRegression``, which
    GRACE's, BGRL's and G-BT's evaluations use, also reaches)."""

    solver: str
    epochs: int
    lr: float


def scale_features(x: Tensor, scaling: str) -> Tensor:
    """``"raw"``; ``"standardized"``: each dimension centred and scaled over all nodes;
    ``"l2"``: each row L2-normalised (the GRACE/BGRL/G-BT evaluation code's choice). All are
    unsupervised, so scaling over all nodes leaks no label."""
    if scaling == "raw":
        return x
    if scaling == "standardized":
        return (x - x.mean(0)) / x.std(0).clamp_min(1e-8)
    if scaling == "l2":
        return F.normalize(x, dim=1)
    raise ValueError(f"Unknown feature scaling '{scaling}'; choose from {SCALINGS}")


class SplitLike(Protocol):
    train: Tensor
    val: Tensor
    test: Tensor


@dataclass
class ProbeResult:
    """Test accuracy (in %) over runs: ``mean``, ``std`` (population), the per-run values, and
    per run the selected weight decay, its validation accuracy and the feature scaling."""

    mean: float
    std: float
    runs: list[float]
    selected: list[float] = field(default_factory=list)
    val: list[float] = field(default_factory=list)
    scaling: list[str] = field(default_factory=list)

    @property
    def num_runs(self) -> int:
        return len(self.runs)

    @classmethod
    def from_runs(
        cls,
        runs: Sequence[float],
        selected: Sequence[float] = (),
        val: Sequence[float] = (),
        scaling: Sequence[str] = (),
    ) -> ProbeResult:
        t = torch.tensor(list(runs), dtype=torch.float64)
        std = float(t.std(unbiased=False)) if t.numel() > 1 else 0.0
        return cls(
            float(t.mean()), std, list(map(float, runs)), list(selected), list(val), list(scaling)
        )

    @classmethod
    def combine(cls, results: Sequence[ProbeResult]) -> ProbeResult:
        """Pools the runs of several results (e.g. one per pretraining seed)."""
        return cls.from_runs(
            [r for res in results for r in res.runs],
            [s for res in results for s in res.selected],
            [v for res in results for v in res.val],
            [c for res in results for c in res.scaling],
        )

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "num_runs": self.num_runs}

    def __str__(self) -> str:
        return f"{self.mean:.2f} ± {self.std:.2f} (n={self.num_runs})"


def _fit_logreg(
    x: Tensor,
    y: Tensor,
    num_classes: int,
    weight_decays: Tensor,
    optim: ProbeOptimizer,
    generator: torch.Generator | None,
    val: tuple[Tensor, Tensor] | None = None,
) -> tuple[Tensor, Tensor]:
    """Fits one logistic regression per weight decay at once (independent problems:
    ``mean cross-entropy + wd * ||W||^2``, the bias unpenalised).

    With ``val = (x_val, y_val)`` (Adam only) each problem keeps the weights of the step with
    the best validation accuracy (the latest among ties), as GraphMAE's evaluation does;
    otherwise the last step's.

    Returns weights ``[K, dim, C]`` and biases ``[K, C]``.
    """
    if optim.solver == "lbfgs":
        if val is not None:
            raise ValueError("early stopping is for the Adam probe; L-BFGS runs to convergence")
        return _fit_logreg_lbfgs(x, y, num_classes, weight_decays, optim.epochs)
    epochs, lr = optim.epochs, optim.lr
    k, d = weight_decays.numel(), x.size(1)
    bound = math.sqrt(6.0 / (d + num_classes))  # Xavier-uniform, as in DGI/GRACE's LogReg
    w = (torch.rand(k, d, num_classes, device=x.device, generator=generator) * 2 - 1) * bound
    w.requires_grad_(True)
    b = torch.zeros(k, num_classes, device=x.device, requires_grad=True)
    opt = torch.optim.Adam([w, b], lr=lr)
    best = None
    if val is not None:
        best_acc = torch.full((k,), -1.0, device=x.device)
        best = (w.detach().clone(), b.detach().clone())
    for _ in range(epochs):
        opt.zero_grad()
        _logreg_loss(x, y, w, b, weight_decays).sum().backward()
        opt.step()
        if best is not None:
            with torch.no_grad():
                acc = _accuracy(val[0], val[1], w, b)
                better = acc >= best_acc
                best_acc = torch.where(better, acc, best_acc)
                best[0][better] = w[better]
                best[1][better] = b[better]
    if best is not None:
        return best
    return w.detach(), b.detach()


def _logreg_loss(x: Tensor, y: Tensor, w: Tensor, b: Tensor, weight_decays: Tensor) -> Tensor:
    """Per-problem objective ``[K]``: mean cross-entropy + ``wd * ||W||^2``."""
    k, num_classes = w.size(0), w.size(2)
    logits = torch.einsum("nd,kdc->knc", x, w) + b[:, None]
    target = y.expand(k, -1).reshape(-1)
    ce = F.cross_entropy(logits.reshape(-1, num_classes), target, reduction="none")
    return ce.view(k, -1).mean(1) + weight_decays * w.pow(2).sum((1, 2))


def _fit_logreg_lbfgs(
    x: Tensor, y: Tensor, num_classes: int, weight_decays: Tensor, max_iter: int
) -> tuple[Tensor, Tensor]:
    """The ``K`` problems of :func:`_fit_logreg`, each solved by L-BFGS (strong-Wolfe line
    search) from zero, to convergence or ``max_iter`` iterations. One at a time: solved
    jointly, the weakest-regularised problem (unbounded at ``wd = 0`` on separable data)
    would hold back the line search of all the others."""
    ws, bs = [], []
    for wd in weight_decays.view(-1, 1):
        w = torch.zeros(1, x.size(1), num_classes, device=x.device, requires_grad=True)
        b = torch.zeros(1, num_classes, device=x.device, requires_grad=True)
        opt = torch.optim.LBFGS(
            [w, b],
            lr=1.0,
            max_iter=max_iter,
            history_size=20,
            tolerance_grad=1e-6,
            tolerance_change=1e-10,
            line_search_fn="strong_wolfe",
        )

        def closure(w: Tensor = w, b: Tensor = b, opt=opt, wd: Tensor = wd) -> Tensor:
            opt.zero_grad()
            loss = _logreg_loss(x, y, w, b, wd).sum()
            loss.backward()
            return loss

        opt.step(closure)
        ws.append(w.detach())
        bs.append(b.detach())
    return torch.cat(ws), torch.cat(bs)


def _accuracy(x: Tensor, y: Tensor, w: Tensor, b: Tensor) -> Tensor:
    """Accuracy ``[K]`` of each of the ``K`` classifiers."""
    if y.numel() == 0:
        return torch.zeros(w.size(0), device=x.device)
    pred = (torch.einsum("nd,kdc->knc", x, w) + b[:, None]).argmax(-1)
    return (pred == y).float().mean(1)


def _validation_scores(
    x: Tensor,
    y: Tensor,
    train: Tensor,
    val: Tensor,
    num_classes: int,
    wds: Tensor,
    optim: ProbeOptimizer,
    gen: torch.Generator,
    cv_folds: int,
    early_stopping: bool = False,
    cv: str = "kfold",
) -> tuple[Tensor, tuple[Tensor, Tensor] | None]:
    """Validation accuracy ``[K]`` of each weight decay (of the best-validation step with
    ``early_stopping``) and the ``K`` classifiers it scored, fitted on the training nodes;
    with no validation nodes (e.g. GRACE's 10/0/90 split) a cross-validation on the training
    nodes only (:func:`_cv_parts`), and no classifiers (each part's saw some of the training
    nodes)."""
    if val.numel() > 0:
        stop_on = (x[val], y[val]) if early_stopping else None
        w, b = _fit_logreg(x[train], y[train], num_classes, wds, optim, gen, stop_on)
        return _accuracy(x[val], y[val], w, b), (w, b)
    parts = _cv_parts(train, cv_folds, cv, gen)
    scores = torch.zeros(wds.numel(), device=x.device)
    for fit_on, score_on in parts:
        w, b = _fit_logreg(x[fit_on], y[fit_on], num_classes, wds, optim, gen)
        scores += _accuracy(x[score_on], y[score_on], w, b) / len(parts)
    return scores, None


def _cv_parts(
    train: Tensor, cv_folds: int, cv: str, gen: torch.Generator
) -> list[tuple[Tensor, Tensor]]:
    """The ``(fitted on, scored on)`` index pairs of a cross-validation over ``train``:
    ``"kfold"``: one random permutation cut into ``cv_folds`` folds, each scored by a fit on
    the others; ``"halves"``: ``cv_folds`` independent random halves, each scored by a fit
    on the rest (``ceil(n / 2)`` scored, as scikit-learn's ``ShuffleSplit(test_size=0.5)``)."""
    if cv == "halves":
        parts = []
        for _ in range(cv_folds):
            perm = train[torch.randperm(train.numel(), device=train.device, generator=gen)]
            scored = math.ceil(train.numel() / 2)
            parts.append((perm[scored:], perm[:scored]))
        return parts
    perm = train[torch.randperm(train.numel(), device=train.device, generator=gen)]
    return [(perm[~torch.isin(perm, fold)], fold) for fold in perm.tensor_split(cv_folds)]


def _probe_one(
    features: dict[str, Tensor],
    y: Tensor,
    split: SplitLike,
    num_classes: int,
    wds: Tensor,
    optim: ProbeOptimizer,
    seed: int,
    cv_folds: int,
    early_stopping: bool = False,
    cv: str = "kfold",
) -> tuple[float, float, float, str]:
    """Selects (feature scaling, weight decay) on validation; returns test acc, wd, val acc,
    scaling. The test accuracy is that of the very classifier that was selected; after a
    cross-validation it is refitted on all training nodes."""
    device = next(iter(features.values())).device
    train, val, test = (t.to(device) for t in (split.train, split.val, split.test))
    if train.numel() == 0:
        raise ValueError("The split has no training nodes")
    if early_stopping and val.numel() == 0:
        raise ValueError("early_stopping selects the step on validation; the split has none")
    if val.numel() == 0 and train.numel() < (cv_folds if cv == "kfold" else 2):
        raise ValueError(
            f"The split has no validation nodes and {train.numel()} training node(s): too few "
            f"for the cross-validation on them (cv={cv!r}, cv_folds={cv_folds})"
        )
    best: tuple[float, str, int, tuple[Tensor, Tensor] | None] | None = None
    for name, x in features.items():
        gen = torch.Generator(device=device).manual_seed(seed)
        scores, fitted = _validation_scores(
            x, y, train, val, num_classes, wds, optim, gen, cv_folds, early_stopping, cv
        )
        k = int(torch.argmax(scores))  # first maximum: the weakest regularisation among ties
        if best is None or float(scores[k]) > best[0]:
            best = (float(scores[k]), name, k, fitted)
    assert best is not None
    val_acc, name, k, fitted = best
    x = features[name]
    if fitted is None:  # cross-validated: refit the chosen weight decay on every training node
        gen = torch.Generator(device=device).manual_seed(seed)
        w, b = _fit_logreg(x[train], y[train], num_classes, wds[k : k + 1], optim, gen)
    else:
        w, b = fitted[0][k : k + 1], fitted[1][k : k + 1]
    test_acc = _accuracy(x[test], y[test], w, b)
    return 100.0 * float(test_acc[0]), float(wds[k]), 100.0 * val_acc, name


def check_probe_options(
    scalings: Sequence[str],
    solver: str = "adam",
    cv: str = "kfold",
    cv_folds: int = 5,
    early_stopping: bool = False,
) -> None:
    """Raises ``ValueError`` for probe options :func:`linear_probe` cannot run (callers
    check them before an expensive pretraining whose embeddings they will probe)."""
    if isinstance(scalings, str) or not scalings:
        raise ValueError(f"scalings must be a list naming at least one of {SCALINGS}")
    for scaling in scalings:
        if scaling not in SCALINGS:
            raise ValueError(f"Unknown feature scaling '{scaling}'; choose from {SCALINGS}")
    if solver not in SOLVERS:
        raise ValueError(f"Unknown probe solver '{solver}'; choose from {SOLVERS}")
    if cv not in CV_SCHEMES:
        raise ValueError(f"Unknown cross-validation scheme '{cv}'; choose from {CV_SCHEMES}")
    if early_stopping and solver != "adam":
        raise ValueError("early_stopping is for the Adam probe; L-BFGS runs to convergence")
    if cv_folds < 2:
        raise ValueError(
            f"cv_folds must be >= 2 (got {cv_folds}): each fold is scored by a classifier "
            f"fitted on the other folds"
        )


def linear_probe(
    embeddings: Tensor,
    y: Tensor,
    splits: SplitLike | Sequence[SplitLike],
    *,
    weight_decays: Sequence[float] = DEFAULT_WEIGHT_DECAYS,
    epochs: int = 300,
    lr: float = 0.01,
    solver: str = "adam",
    standardize: bool | None = None,
    scalings: Sequence[str] | None = None,
    seed: int = 0,
    cv_folds: int = 5,
    early_stopping: bool = False,
    cv: str = "kfold",
) -> ProbeResult:
    r"""Logistic regression on frozen embeddings, evaluated on one or more splits.

    For each split a classifier is trained (full batch, Adam, in torch on the embeddings'
    device) for every L2 strength in ``weight_decays`` (and, by default, on unscaled and on
    standardised features); the one with the best validation accuracy has its test accuracy
    reported; the feature scaling (raw, standardised or L2-normalised rows) is chosen on
    validation the same way. The test nodes are never used for selection; a split with no
    validation nodes selects by a cross-validation on the training nodes (``cv``), and the
    chosen classifier is then refitted on all of them.

    Args:
        embeddings: ``[num_nodes, dim]`` (detached inside).
        y: ``[num_nodes]`` integer class labels.
        splits: one split or a sequence of splits (objects with ``train``/``val``/``test``
            index tensors); run ``i`` uses ``splits[i]`` and seed ``seed + i``.
        weight_decays: the L2 strengths searched.
        epochs: Adam steps per classifier (at most L-BFGS iterations with ``"lbfgs"``).
        lr: Adam learning rate.
        solver: ``"adam"``: ``epochs`` Adam steps from a Xavier initialisation (the probe of
            DGI's and GraphMAE's evaluation code); ``"lbfgs"``: L-BFGS from zero to
            convergence (the optimum scikit-learn's ``LogisticRegression`` finds, which
            GRACE's, BGRL's and G-BT's evaluation code use).
        standardize: ``True``: standardised features only; ``False``: raw only; ``None``:
            select among ``scalings`` on validation.
        scalings: the candidate scalings (:func:`scale_features`), default all of
            :data:`SCALINGS`; overrides ``standardize``.
        cv_folds: folds (``cv="kfold"``) or random halves (``cv="halves"``) of the
            cross-validation on the training nodes that selects on a split with no validation
            nodes (at least 2; k-fold needs at least as many training nodes).
        cv: ``"kfold"`` (GRACE's evaluation: scikit-learn's 5-fold default) or ``"halves"``
            (BGRL's: ``ShuffleSplit(n_splits=5, test_size=0.5)``); see :data:`CV_SCHEMES`.
        early_stopping: keep each classifier at the Adam step with the best validation
            accuracy instead of the last step (GraphMAE's evaluation); needs validation nodes.

    Returns:
        :class:`ProbeResult` with test accuracy in %.
    """
    if embeddings.dim() != 2:
        raise ValueError(f"embeddings must be [num_nodes, dim] (got {tuple(embeddings.shape)})")
    y = y.view(-1).to(embeddings.device)
    if y.numel() != embeddings.size(0):
        raise ValueError(f"y has {y.numel()} labels but embeddings has {embeddings.size(0)} rows")
    if not torch.isfinite(embeddings).all():
        raise ValueError("embeddings contain NaN or inf values")
    x = embeddings.detach().float()
    if scalings is None:
        scalings = {True: ("standardized",), False: ("raw",), None: SCALINGS}[standardize]
    check_probe_options(scalings, solver, cv, cv_folds, early_stopping)
    optim = ProbeOptimizer(solver, epochs, lr)
    features = {name: scale_features(x, name) for name in scalings}
    num_classes = int(y.max()) + 1
    wds = torch.tensor(list(weight_decays), dtype=x.dtype, device=x.device)
    if hasattr(splits, "train"):
        splits = [splits]
    runs, selected, vals, scalings = [], [], [], []
    for i, split in enumerate(splits):
        with torch.enable_grad():  # the classifiers train, also when called under no_grad
            acc, wd, val, scaling = _probe_one(
                features, y, split, num_classes, wds, optim, seed + i, cv_folds, early_stopping, cv
            )
        runs.append(acc)
        selected.append(wd)
        vals.append(val)
        scalings.append(scaling)
    return ProbeResult.from_runs(runs, selected, vals, scalings)
