"""One pretraining run from a named method, dataset and config, as the CLI and the
``experiments/`` scripts run it: load, pretrain, embed, linear probe, write results."""

from __future__ import annotations

import copy
import ctypes
import functools
import json
import platform
import resource
import statistics
import subprocess
import time
import warnings
from importlib import resources
from pathlib import Path
from typing import Any

import torch
import torch_geometric
import torch_geometric.transforms as T
from torch_geometric.data import Data

from graphssl.data import canonical_name, get_split, load_dataset
from graphssl.eval import (
    COLLAPSE_COSINE,
    ProbeResult,
    is_collapsed,
    linear_probe,
    mean_cosine_similarity,
)
from graphssl.eval.linear_probe import DEFAULT_WEIGHT_DECAYS, SCALINGS, check_probe_options
from graphssl.methods import build_method, get_method
from graphssl.methods.registry import method_options, unknown_options
from graphssl.train import checkpoint_epoch, pretrain, resolve_device, write_text_atomic


def config_key(dataset: str) -> str:
    """The key of ``dataset`` in the config files, from its canonical name
    (:func:`~graphssl.data.canonical_name`): ``"Amazon-Photo"`` and ``"AmazonPhoto"`` ->
    ``"photo"``. A name the loader does not know is only stripped and lower-cased."""
    try:
        return canonical_name(dataset).lower()
    except ValueError:
        return dataset.strip().lower()


# The keys of the train, data and eval sections that run_pretraining reads; anything else in a
# config (a typo in a file or a --set) would change nothing, so check_config refuses it.
CONFIG_KEYS: dict[str, frozenset[str]] = {
    "train": frozenset(
        {
            "epochs",
            "lr",
            "weight_decay",
            "optimizer",
            "schedule",
            "warmup_epochs",
            "patience",
            "checkpoint_every",
            "checkpoint_every_seconds",
            "amp",
        }
    ),
    "data": frozenset({"normalize_features", "sparse_features"}),
    "eval": frozenset(
        {"split", "num_splits", "split_seed", "scalings", "early_stopping", "solver", "cv"}
    ),
}


def check_config(method: str, cfg: dict[str, Any]) -> None:
    """Raises ``ValueError`` naming every entry of ``cfg`` that nothing reads: sections other
    than ``model``, ``train``, ``data`` and ``eval``, keys of the last three outside
    :data:`CONFIG_KEYS`, and model options ``method`` does not take
    (:func:`~graphssl.methods.registry.method_options`). Keys starting with ``_`` are notes."""
    unknown = [
        f"section '{key}'"
        for key in cfg
        if not key.startswith("_") and key not in ("model", *CONFIG_KEYS)
    ]
    unknown += unknown_options(cfg.get("model", {}), method_options(method), "model")
    for section, known in CONFIG_KEYS.items():
        unknown += unknown_options(cfg.get(section, {}), known, section)
    if unknown:
        raise ValueError(
            f"config entries that {method} and the training loop do not read: {', '.join(unknown)}"
        )


def merge_config(base: dict[str, Any], update: dict[str, Any]) -> dict[str, Any]:
    """``base`` updated by ``update``, nested dicts merged key by key (copies, no aliasing)."""
    out = copy.deepcopy(base)
    for k, v in update.items():
        nested = isinstance(v, dict) and isinstance(out.get(k), dict)
        out[k] = merge_config(out[k], v) if nested else v
    return out


def config_dir(method: str) -> Any:
    """The folder of ``method``'s config files: ``graphssl/configs/<method>/`` (also
    reachable as ``experiments/configs/<method>/`` in a source checkout)."""
    return resources.files("graphssl") / "configs" / method.lower()


def list_presets(method: str) -> list[str]:
    """The datasets and presets ``method`` has a config file for."""
    folder = config_dir(method)
    if not folder.is_dir():
        return []
    return sorted(
        p.name.removesuffix(".json")
        for p in folder.iterdir()
        if p.name.endswith(".json") and p.name != "default.json"
    )


def load_config(method: str, dataset: str, preset: str | None = None) -> dict[str, Any]:
    """The published hyperparameters of ``method`` on ``dataset``: the method's
    ``default.json`` updated by ``<dataset>.json`` (``graphssl/configs/<method>/``), or by
    the file ``preset`` names (e.g. ``"cora_random"``). Datasets without a file get the
    defaults.

    Returns a dict with ``model``, ``train``, ``data`` and ``eval`` sections.
    """
    get_method(method)  # clear error for unknown methods
    folder = config_dir(method)
    default = folder / "default.json"
    if not default.is_file():
        raise ValueError(f"No config files for method '{method}' ({default} is missing)")
    if preset is not None and preset not in list_presets(method):
        raise ValueError(
            f"No preset '{preset}' for {method} in {folder}; known: {list_presets(method)}"
        )
    cfg = json.loads(default.read_text())
    specific = folder / f"{preset or config_key(dataset)}.json"
    if specific.is_file():
        cfg = merge_config(cfg, json.loads(specific.read_text()))
    for section in ("model", "train", "data", "eval"):
        cfg.setdefault(section, {})
    return cfg


_BOOKKEEPING = ("checkpoint_every", "checkpoint_every_seconds")


def training_config(cfg: dict[str, Any]) -> dict[str, Any]:
    """What determines a pretraining run: ``cfg`` without its ``eval`` section, without
    the ``_``-prefixed notes (sources, comments) and without ``train.checkpoint_every`` and
    ``train.checkpoint_every_seconds`` (bookkeeping), as plain JSON values."""
    plain = json.loads(json.dumps(cfg))
    out = {k: v for k, v in plain.items() if k != "eval" and not k.startswith("_")}
    if isinstance(out.get("train"), dict):
        out["train"] = {k: v for k, v in out["train"].items() if k not in _BOOKKEEPING}
    return out


def config_difference(recorded: dict[str, Any], requested: dict[str, Any]) -> str | None:
    """What differs between two run configs (e.g. a results file's and the one asked for
    now): ``"training"`` (:func:`training_config`), ``"eval"``, or ``None`` (notes and
    checkpointing bookkeeping aside)."""
    if training_config(recorded) != training_config(requested):
        return "training"
    if json.loads(json.dumps(recorded.get("eval", {}))) != json.loads(
        json.dumps(requested.get("eval", {}))
    ):
        return "eval"
    return None


class ConfigMismatchError(ValueError):
    """A run folder holds a checkpoint that the requested config cannot resume."""


def recorded_config(method: str, dataset: str, seed: int, cfg: dict[str, Any]) -> dict[str, Any]:
    """The config of one run as ``config.json`` in its folder records it: ``cfg`` (the
    method's config for ``dataset``, overrides applied) with the method, dataset and seed,
    the names in their canonical spelling (so that ``physics`` resumes a ``Physics`` run)."""
    try:
        dataset = canonical_name(dataset)
    except ValueError:  # a TU folder found under another root: run_pretraining resolved it
        dataset = dataset.strip()
    return {"method": get_method(method).method_name, "dataset": dataset, "seed": seed, **cfg}


def continues_run(
    previous: dict[str, Any],
    resolved: dict[str, Any],
    model: Any,
    trained_epochs: int | None = None,
) -> bool:
    """Whether a checkpoint made under config ``previous`` may be resumed under ``resolved``.

    Either the two determine the same run (:func:`training_config`), or ``resolved`` asks for
    another number of epochs of a run in which nothing depends on the total epoch count: a
    constant learning rate and no step-count schedule in ``model`` (such as BGRL's cosine
    EMA, whose ``total_steps`` is not ``None``). Continuing such a run for more epochs is
    the same as having asked for them from the start, and so is stopping it at a checkpoint
    for fewer epochs, as long as the checkpoint (``trained_epochs`` done) has not gone past
    them; fewer epochs with ``trained_epochs=None`` (unknown) are refused.
    """
    old, new = training_config(previous), training_config(resolved)
    if old == new:
        return True
    old_train, new_train = dict(old.get("train", {})), dict(new.get("train", {}))
    old_epochs, new_epochs = old_train.pop("epochs", None), new_train.pop("epochs", None)
    if {**old, "train": old_train} != {**new, "train": new_train}:
        return False
    if old_epochs is None or new_epochs is None:
        return False
    if int(new_epochs) < int(old_epochs) and (
        trained_epochs is None or trained_epochs > int(new_epochs)
    ):
        return False
    constant_lr = new_train.get("schedule") in (None, "constant")
    return constant_lr and getattr(model, "total_steps", None) is None


_WORDS = {"true": True, "false": False, "none": None, "null": None}


def override_value(raw: str) -> Any:
    """The value of one ``--set`` entry: JSON (``0.3``, ``[0.2, 0.4]``, ``true``,
    ``"gcn"``); else ``True``/``False``/``None`` in any case, or a number JSON does not
    spell (``.001``, ``1e-3``, ``inf``); else the text itself (``gcn``, ``cosine``). A
    Python ``False`` must not become the string ``"False"``, which reads as true."""
    try:
        return json.loads(raw)
    except json.JSONDecodeError:
        pass
    text = raw.strip()
    if text.lower() in _WORDS:
        return _WORDS[text.lower()]
    try:
        number = float(text)
    except ValueError:
        return raw
    return int(number) if number.is_integer() and text.lstrip("+-").isdigit() else number


def parse_overrides(items: list[str]) -> dict[str, Any]:
    """``["model.tau=0.3", "train.epochs=10"]`` -> nested dict (values by
    :func:`override_value`)."""
    out: dict[str, Any] = {}
    for item in items:
        if "=" not in item or "." not in item.split("=", 1)[0]:
            raise ValueError(f"Override '{item}' must look like section.key=value")
        path, raw = item.split("=", 1)
        value = override_value(raw)
        node = out
        *parents, leaf = path.split(".")
        for p in parents:
            node = node.setdefault(p, {})
        node[leaf] = value
    return out


def environment(device: torch.device | None = None) -> dict[str, Any]:
    """What the run ran on, for results files (``reuse_freed_memory``: whether this process
    called :func:`reuse_freed_memory`, which changes its CPU times; ``cuda_device``: the GPU's
    name, for a run on ``device`` CUDA, or any run when ``device`` is not given)."""
    env = {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "torch_geometric": torch_geometric.__version__,
        "machine": platform.machine(),
        "processor": platform.processor(),
        "threads": torch.get_num_threads(),
        "reuse_freed_memory": _reusing_freed_memory,
    }
    if torch.cuda.is_available() and (device is None or device.type == "cuda"):
        env["cuda_device"] = torch.cuda.get_device_name(device)
    commit = _git_commit()
    if commit:
        env["git_commit"] = commit
    return env


def peak_rss_gib() -> float:
    """The peak resident memory of this process so far, in GiB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # KiB on Linux


# glibc's mallopt parameters (malloc.h)
_M_TRIM_THRESHOLD = -1
_M_MMAP_MAX = -4
_reusing_freed_memory = False  # set by reuse_freed_memory; results files record it


def reuse_freed_memory(keep_bytes: int = 2**31 - 1) -> bool:
    """Makes this process's C allocator keep large freed blocks for reuse (glibc only).

    glibc serves every block of more than 32 MiB (its largest mmap threshold) by a fresh
    ``mmap`` and returns it to the system when freed, so each new tensor past that size (e.g.
    ``[N, 512]`` float with N > 16,384, as on Coauthor-CS) is paid again in page faults and
    kernel zeroing at every allocation. Here every block comes from the heap instead, and up
    to ``keep_bytes`` of freed memory at its top is kept rather than handed back, so a step
    reuses the last step's pages. The peak resident memory grows somewhat, as freed blocks are
    kept where they fall in the heap (``benchmarks/freed_memory.py`` measures both).

    Process-wide and permanent; call it once, early, from a training script. Returns whether
    it applied (``False`` off glibc, where nothing changes).
    """
    try:
        libc = ctypes.CDLL("libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    global _reusing_freed_memory
    applied = bool(mallopt(_M_MMAP_MAX, 0)) and bool(mallopt(_M_TRIM_THRESHOLD, keep_bytes))
    _reusing_freed_memory = _reusing_freed_memory or applied
    return applied


@functools.lru_cache(maxsize=1)
def _git_commit() -> str | None:
    """The source tree's commit (``+dirty`` with uncommitted changes), when run from a clone;
    read once per process, at its first run, so that a results file written hours later
    names the code the process runs, not a commit made meanwhile."""
    repo = Path(__file__).resolve().parents[1]
    if not (repo / ".git").exists():
        return None
    try:
        head = subprocess.run(
            ["git", "-C", str(repo), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(repo), "status", "--porcelain", "graphssl"],
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return f"{head}+dirty" if head and dirty else head or None


def probe_splits(dataset: Any, eval_cfg: dict[str, Any], seed: int) -> list:
    """The evaluation splits: the public one, or ``num_splits`` seeded random ones, drawn from
    the run's ``seed`` or, with ``split_seed`` set, from that one for every run (BGRL's
    ``data_seed``: the same splits for every pretraining seed)."""
    kind = str(eval_cfg.get("split", "random")).strip().lower()
    n = int(eval_cfg.get("num_splits", 1))
    if n < 1:
        raise ValueError(f"eval.num_splits must be >= 1 (got {n})")
    if kind in ("public", "ogb"):
        return [get_split(dataset, kind)]
    base = int(eval_cfg.get("split_seed", seed))
    return [get_split(dataset, kind, seed=base * 1000 + i) for i in range(n)]


def _probe_options(eval_cfg: dict[str, Any]) -> dict[str, Any]:
    """The :func:`~graphssl.eval.linear_probe` options of ``eval_cfg``, checked."""
    options = {
        "scalings": tuple(eval_cfg.get("scalings", SCALINGS)),
        "early_stopping": bool(eval_cfg.get("early_stopping", False)),
        "solver": eval_cfg.get("solver", "adam"),
        "cv": eval_cfg.get("cv", "kfold"),
    }
    check_probe_options(**options)
    return options


def check_eval(dataset: Any, eval_cfg: dict[str, Any], seed: int) -> None:
    """Raises ``ValueError`` for an ``eval`` section that :func:`probe_embeddings` cannot
    run on ``dataset`` (an unknown split kind or scaling, ...), before the pretraining whose
    embeddings it would probe."""
    _probe_options(eval_cfg)
    probe_splits(dataset, eval_cfg, seed)


def probe_embeddings(
    dataset: Any, z: torch.Tensor, eval_cfg: dict[str, Any], seed: int
) -> tuple[ProbeResult, dict[str, Any]]:
    """Linear-probes the frozen embeddings ``z`` ``[num_nodes, dim]`` of ``dataset``'s graph
    under ``eval_cfg`` (``split``, ``num_splits``, ``split_seed``, and ``scalings``: the
    feature scalings to choose from on validation, e.g. ``["l2"]`` where the paper's
    evaluation L2-normalises the embeddings; default all; ``early_stopping``: keep each
    classifier at its best-validation step, as GraphMAE's evaluation does; ``solver``:
    ``"adam"`` or ``"lbfgs"``, a converged fit as scikit-learn's in GRACE's, BGRL's and G-BT's
    evaluation; ``cv``: how a split without validation nodes selects, ``"kfold"`` or BGRL's
    ``"halves"``). Returns the result and a description of the probe for results files."""
    options = _probe_options(eval_cfg)
    y = dataset[0].y.to(z.device)
    splits = probe_splits(dataset, eval_cfg, seed)
    result = linear_probe(z, y, splits, seed=seed, **options)
    probe = {"scalings": list(options["scalings"]), "weight_decays": list(DEFAULT_WEIGHT_DECAYS)}
    if options["early_stopping"]:
        probe["early_stopping"] = True
    if options["solver"] != "adam":
        probe["solver"] = options["solver"]
    if options["cv"] != "kfold" and not all(s.val.numel() for s in splits):
        probe["cv"] = options["cv"]
    return result, probe


def use_sparse_features(data: Data, cfg: dict[str, Any], model: Any) -> Data:
    """``data`` with its features as a ``torch.sparse_csr`` tensor when ``cfg["data"]`` asks
    for ``sparse_features`` (else unchanged).

    Bag-of-words features are mostly zeros (Coauthor-CS 0.9%, Coauthor-Physics 0.4%): stored
    sparse, the column masking of the views costs ``O(nnz)`` and the encoder's first linear
    map is a sparse product, where the dense ``[N, F]`` product dominates an epoch of BGRL on
    Coauthor-CS. The embeddings are the same up to float rounding. With ``train.amp`` the
    GCN layer that takes the sparse features runs in float32 (there is no bfloat16 sparse
    product on the CPU) and the layers after it in bfloat16.
    """
    if not cfg["data"].get("sparse_features"):
        return data
    if not getattr(model, "supports_sparse_features", False):
        raise ValueError(
            f"data.sparse_features is set but {type(model).__name__} does not accept sparse "
            f"node features (it is supported by methods whose only feature augmentation is "
            f"column masking: GRACE, GCA, BGRL, G-BT, CCA-SSG, GAE)"
        )
    data = copy.copy(data)
    data.x = data.x.to_sparse_csr()
    return data


def run_pretraining(
    method: str,
    dataset: str,
    *,
    root: str | None = None,
    cache_dir: str | None = None,
    seed: int = 0,
    device: str = "auto",
    overrides: dict[str, Any] | None = None,
    preset: str | None = None,
    out: str | Path | None = None,
    resume: bool = False,
    progress: bool = True,
    raw_baseline: bool = False,
    probe_device: str | None = None,
) -> dict[str, Any]:
    """Pretrains ``method`` on ``dataset`` with its published config, probes the frozen
    embedding and returns (and, with ``out``, writes) the results.

    ``probe_device`` runs the linear probe elsewhere than the training (default: on the same
    device). ``"cpu"`` suits a GPU shared by several runs: the L-BFGS probe is many small steps,
    each waiting on the GPU.

    ``out`` receives ``config.json`` (resolved), ``metrics.json``, ``checkpoint.pt`` (model,
    optimiser and RNG state; ``resume=True`` continues from it) and ``embeddings.pt``.

    ``wall_seconds`` is the run's wall time, data loading and probe included; a resumed run
    adds the time of the epochs trained before the resume (``resumed_from_epoch``), as
    ``train_seconds`` does.
    """
    started = time.perf_counter()
    method, dataset = get_method(method).method_name, canonical_name(dataset, root)
    cfg = merge_config(load_config(method, dataset, preset), overrides or {})
    check_config(method, cfg)
    dev = resolve_device(device)
    env = environment(dev)  # before training: the commit of the code this process runs
    probe_dev = dev if probe_device is None else resolve_device(probe_device)  # before training
    transform = T.NormalizeFeatures() if cfg["data"].get("normalize_features") else None
    ds = load_dataset(dataset, root, cache_dir=cache_dir, transform=transform)
    if len(ds) != 1:
        raise ValueError(f"{dataset} has {len(ds)} graphs; run_pretraining is for node datasets")
    data = ds[0]
    torch.manual_seed(seed)
    train_cfg = cfg["train"]
    epochs = int(train_cfg["epochs"])
    # full-batch: one optimiser step per epoch (EMA schedules such as BGRL's need the total)
    model = build_method(method, ds.num_features, **{"total_steps": epochs, **cfg["model"]})
    data = use_sparse_features(data, cfg, model)
    check_eval(ds, cfg["eval"], seed)  # a bad eval section fails now, not after the training
    out_dir = Path(out) if out is not None else None
    checkpoint = None if out_dir is None else out_dir / "checkpoint.pt"
    # the epochs an earlier process trained, which this one continues from
    resumed = resume and checkpoint is not None and checkpoint.exists()
    resumed_from = checkpoint_epoch(checkpoint) if resumed else 0
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
        resolved = recorded_config(method, dataset, seed, cfg)
        previous = out_dir / "config.json"
        if resumed_from and previous.exists():
            if not continues_run(json.loads(previous.read_text()), resolved, model, resumed_from):
                raise ConfigMismatchError(
                    f"{out_dir} holds a checkpoint made with another config; resume it with "
                    f"the same config (or other epochs, where no schedule depends on them and the "
                    f"checkpoint is not past them), "
                    f"or delete it or choose another output folder"
                )
        write_text_atomic(previous, json.dumps(resolved, indent=2))
    t0 = time.perf_counter()
    history = pretrain(
        model,
        data,
        epochs=epochs,
        lr=train_cfg["lr"],
        weight_decay=train_cfg.get("weight_decay", 0.0),
        optimizer=train_cfg.get("optimizer", "adam"),
        schedule=train_cfg.get("schedule"),
        warmup_epochs=int(train_cfg.get("warmup_epochs", 0)),
        patience=int(train_cfg.get("patience", 0)),
        device=dev,
        seed=seed,
        checkpoint=checkpoint,
        checkpoint_every=int(train_cfg.get("checkpoint_every", 100)),
        checkpoint_every_seconds=float(train_cfg.get("checkpoint_every_seconds", 300)),
        resume=resume,
        progress=progress,
        amp=bool(train_cfg.get("amp", False)),
    )
    wall = time.perf_counter() - t0
    # summed per-epoch times, so a resumed run counts the epochs done before the resume too
    train_time = sum(h["time"] for h in history) if history else wall
    data = data.to(dev)
    z = model.embed(data)
    cosine = mean_cosine_similarity(z)
    if is_collapsed(cosine):
        warnings.warn(
            f"{method} on {dataset}, seed {seed}: the embeddings point almost the same way "
            f"(mean cosine {cosine:.4f} > {COLLAPSE_COSINE}): the pretraining collapsed, and the "
            f"probe accuracy below measures a collapsed model; a lower train.lr usually avoids it",
            stacklevel=2,
        )
    probe, probe_info = probe_embeddings(ds, z.to(probe_dev), cfg["eval"], seed)
    if probe_dev != dev:
        probe_info["device"] = str(probe_dev)
    result: dict[str, Any] = {
        "method": method,
        "dataset": dataset,
        "seed": seed,
        "device": str(dev),
        "config": cfg,
        "accuracy": probe.to_dict(),
        "probe": probe_info,
        "final_loss": history[-1]["loss"] if history else None,
        "embedding_mean_cosine": cosine,
        "epochs": len(history),
        "train_seconds": train_time,
        "seconds_per_epoch": train_time / max(len(history), 1),
        # robust to a run paused or slowed for a while (a stopped process, a busy machine)
        "median_seconds_per_epoch": (
            statistics.median(h["time"] for h in history) if history else None
        ),
        "peak_rss_gib": peak_rss_gib(),
        "resumed_from_epoch": resumed_from,
        "environment": env,
    }
    if dev.type == "cuda":
        result["peak_cuda_gib"] = torch.cuda.max_memory_allocated(dev) / 2**30
    if raw_baseline:
        splits = probe_splits(ds, cfg["eval"], seed)
        x, y = data.x.to_dense().to(probe_dev), data.y.to(probe_dev)
        result["raw_accuracy"] = linear_probe(x, y, splits, seed=seed).to_dict()
    # the whole run's wall time: this process's, plus the epochs trained before it resumed
    # (epochs lost between the last checkpoint and an interruption are not counted)
    before_resume = sum(h["time"] for h in history if h["epoch"] <= resumed_from)
    result["wall_seconds"] = time.perf_counter() - started + before_resume
    if out_dir is not None:
        torch.save(z.cpu(), out_dir / "embeddings.pt")
        write_text_atomic(
            out_dir / "metrics.json", json.dumps({**result, "history": history}, indent=2)
        )
    return result


def summarize(results: list[dict[str, Any]]) -> ProbeResult:
    """Pools the per-seed probe results (mean over seeds of their mean accuracy)."""
    return ProbeResult.from_runs([r["accuracy"]["mean"] for r in results])


__all__ = [
    "CONFIG_KEYS",
    "ConfigMismatchError",
    "check_config",
    "check_eval",
    "config_difference",
    "config_key",
    "continues_run",
    "recorded_config",
    "environment",
    "load_config",
    "merge_config",
    "override_value",
    "parse_overrides",
    "peak_rss_gib",
    "probe_embeddings",
    "reuse_freed_memory",
    "run_pretraining",
    "summarize",
    "training_config",
    "use_sparse_features",
]
