"""Offline-first dataset loading.

:func:`load_dataset` reads a benchmark dataset from raw files under a data ``root`` and never
downloads. The layout under ``root`` is the one PyG and OGB create themselves::

    root/Planetoid/Cora/raw/ind.cora.{x,tx,allx,y,ty,ally,graph,test.index}
    root/Amazon/Photo/raw/amazon_electronics_photo.npz
    root/Coauthor/CS/raw/ms_academic_cs.npz
    root/TUDataset/MUTAG/raw/MUTAG_A.txt, MUTAG_graph_indicator.txt, ...
    root/ogb/ogbn_arxiv/{RELEASE_v1.txt, raw/, split/, ...}     (the folder OGB writes)

Nothing is ever written under ``root``: PyG writes ``processed/`` next to ``raw/``, so each dataset
is processed in its own folder of a writable cache, whose ``raw/`` holds symbolic links to the
source files. The cache folder is keyed by the dataset and a hash of the resolved source folder
(and of the raw files' sizes and times, and of ``pre_transform``), so two roots never share
processed files, and a read-only ``root`` works. A TU raw file stored only xz-compressed
(``COLLAB_A.txt.xz``) is decompressed into the cache.

Defaults: ``root`` is ``$GRAPHSSL_DATA``, else ``~/.cache/graphssl/datasets``; ``cache_dir`` is
``$GRAPHSSL_CACHE``, else ``~/.cache/graphssl/processed``.

Note: the social TU datasets (``IMDB-BINARY``, ``IMDB-MULTI``, ``REDDIT-BINARY``,
``REDDIT-MULTI-5K``, ``COLLAB``) have no node features: their graphs have ``x=None`` (only
``num_nodes``). Add features yourself, e.g. ``transform=T.OneHotDegree(max_degree)`` or
``T.Constant()``; nothing is added silently.
"""

from __future__ import annotations

import contextlib
import hashlib
import lzma
import marshal
import os
import re
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from torch_geometric.data import InMemoryDataset

from graphssl.data.synthetic import make_csbm

__all__ = [
    "DEFAULT_DATASET",
    "CSBMDataset",
    "DatasetInfo",
    "DatasetNotFoundError",
    "default_cache_dir",
    "default_root",
    "list_datasets",
    "load_dataset",
]

DEFAULT_DATASET = "csbm"
"""The demo dataset: a synthetic CSBM graph that needs no files."""

DATA_ENV = "GRAPHSSL_DATA"
CACHE_ENV = "GRAPHSSL_CACHE"

_NODE, _GRAPH = "node", "graph"


class DatasetNotFoundError(FileNotFoundError):
    """The raw files of a dataset are not under the data root (and nothing is downloaded)."""


@dataclass(frozen=True)
class DatasetInfo:
    """One dataset known to :func:`load_dataset`.

    Attributes:
        name: the name to pass to :func:`load_dataset`, e.g. ``"Cora"``.
        family: ``"Planetoid"``, ``"Amazon"``, ``"Coauthor"``, ``"TUDataset"``, ``"ogb"`` or
            ``"synthetic"`` (also the folder under ``root``, except for ``synthetic``).
        level: ``"node"`` (one graph, node tasks) or ``"graph"`` (many graphs, graph tasks).
        present: whether all expected raw files are under the root (always ``True`` for
            synthetic data).
        path: the folder searched for the raw files (``None`` for synthetic data).
    """

    name: str
    family: str
    level: str
    present: bool
    path: Path | None


@dataclass(frozen=True)
class _Spec:
    name: str  # canonical name, as the PyG / OGB class wants it
    family: str  # folder under root, or "synthetic"
    level: str
    folder: str  # folder under root/family holding raw/ (OGB: the folder OGB creates)


def _fixed_specs() -> dict[str, _Spec]:
    """Lower-case alias -> spec for the datasets with fixed names."""
    table = {
        ("cora",): _Spec("Cora", "Planetoid", _NODE, "Cora"),
        ("citeseer",): _Spec("CiteSeer", "Planetoid", _NODE, "CiteSeer"),
        ("pubmed",): _Spec("PubMed", "Planetoid", _NODE, "PubMed"),
        ("computers", "amazon-computers", "amazoncomputers"): _Spec(
            "Computers", "Amazon", _NODE, "Computers"
        ),
        ("photo", "amazon-photo", "amazonphoto"): _Spec("Photo", "Amazon", _NODE, "Photo"),
        ("cs", "coauthor-cs", "coauthorcs"): _Spec("CS", "Coauthor", _NODE, "CS"),
        ("physics", "coauthor-physics", "coauthorphysics"): _Spec(
            "Physics", "Coauthor", _NODE, "Physics"
        ),
        ("csbm",): _Spec("csbm", "synthetic", _NODE, ""),
    }
    return {alias: spec for aliases, spec in table.items() for alias in aliases}


_FIXED = _fixed_specs()

# TU datasets whose exact spelling we know (TU names are case-sensitive on disk). Any other TU
# dataset loads as ``"tu:<NAME>"`` or when its folder exists under ``root/TUDataset``.
_TU_NAMES = (
    "MUTAG", "PTC_MR", "PTC_FM", "PTC_FR", "PTC_MM", "NCI1", "NCI109", "PROTEINS",
    "PROTEINS_full", "DD", "ENZYMES", "AIDS", "Mutagenicity", "FRANKENSTEIN", "COX2", "BZR",
    "DHFR", "IMDB-BINARY", "IMDB-MULTI", "REDDIT-BINARY", "REDDIT-MULTI-5K", "REDDIT-MULTI-12K",
    "COLLAB", "github_stargazers", "deezer_ego_nets", "twitch_egos", "reddit_threads",
)  # fmt: skip
_TU_LISTED = ("MUTAG", "PROTEINS", "NCI1", "DD", "IMDB-BINARY", "IMDB-MULTI", "REDDIT-BINARY",
              "REDDIT-MULTI-5K", "COLLAB")  # fmt: skip
_OGB_LISTED = ("ogbn-arxiv", "ogbn-products", "ogbn-proteins", "ogbn-papers100M",
               "ogbg-molhiv", "ogbg-molpcba", "ogbg-ppa", "ogbg-code2")  # fmt: skip


def default_root() -> Path:
    """``$GRAPHSSL_DATA``, else ``~/.cache/graphssl/datasets``."""
    env = os.environ.get(DATA_ENV)
    return Path(env).expanduser() if env else Path.home() / ".cache" / "graphssl" / "datasets"


def default_cache_dir() -> Path:
    """``$GRAPHSSL_CACHE``, else ``~/.cache/graphssl/processed``."""
    env = os.environ.get(CACHE_ENV)
    return Path(env).expanduser() if env else Path.home() / ".cache" / "graphssl" / "processed"


def load_dataset(
    name: str,
    root: str | os.PathLike | None = None,
    *,
    cache_dir: str | os.PathLike | None = None,
    transform: Callable | None = None,
    pre_transform: Callable | None = None,
    **kwargs: Any,
) -> InMemoryDataset:
    r"""Loads a dataset by name from raw files under ``root``, offline.

    Names (case-insensitive): ``Cora``, ``CiteSeer``, ``PubMed`` (Planetoid); ``Computers`` /
    ``Amazon-Computers``, ``Photo`` / ``Amazon-Photo``; ``CS`` / ``Coauthor-CS``, ``Physics`` /
    ``Coauthor-Physics``; TU datasets by name (``MUTAG``, ``PROTEINS``, ``NCI1``, ``DD``,
    ``IMDB-BINARY``, ``COLLAB``, ..., or ``"tu:<NAME>"`` for any other); OGB ``ogbn-*`` and
    ``ogbg-*``; and ``csbm``, a synthetic graph that needs no files (:func:`make_csbm`).

    Args:
        name: the dataset name.
        root: folder with the raw files (layout in the module docstring). Default:
            ``$GRAPHSSL_DATA``, else ``~/.cache/graphssl/datasets``. Never written to.
        cache_dir: writable folder for processed files. Default: ``$GRAPHSSL_CACHE``, else
            ``~/.cache/graphssl/processed``.
        transform: applied to each graph on access (not cached).
        pre_transform: applied once before caching; each ``pre_transform`` (told apart by its
            ``repr``) gets its own cache folder.
        **kwargs: passed to the PyG dataset class (e.g. ``use_node_attr=True`` for TU,
            ``split="full"`` for Planetoid), or to :func:`make_csbm` for ``csbm``.

    Returns:
        The PyG / OGB dataset (an :class:`~torch_geometric.data.InMemoryDataset`).

    Raises:
        ValueError: unknown name, or an option that needs files this loader cannot fetch.
        DatasetNotFoundError: raw files missing; the message names the folder and files.
    """
    root_path = Path(root).expanduser() if root is not None else default_root()
    spec = _resolve(name, root_path)
    if spec.family == "synthetic":
        return CSBMDataset(transform=transform, pre_transform=pre_transform, **kwargs)
    _check_supported_kwargs(spec, kwargs)

    source = _source_dir(spec, root_path)
    expected = _expected_files(spec)
    missing = _missing_files(source, expected)
    if missing:
        raise DatasetNotFoundError(_not_found_message(spec, root_path, source, expected, missing))

    cache = Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()
    key = _cache_key(source, expected, pre_transform)
    pyg_root = cache / spec.family / f"{spec.folder}-{key}"
    pyg_root.mkdir(parents=True, exist_ok=True)
    with _locked(pyg_root / ".lock"):
        _mirror(source, pyg_root / spec.folder)
        return _construct(spec, pyg_root, transform, pre_transform, kwargs)


def list_datasets(root: str | os.PathLike | None = None) -> list[DatasetInfo]:
    """Lists the known datasets and whether their raw files are under ``root``.

    Lists the Planetoid, Amazon and Coauthor datasets, the common TU and OGB benchmarks, every
    TU / OGB folder found under ``root``, and ``csbm``.
    """
    root_path = Path(root).expanduser() if root is not None else default_root()
    specs = list(dict.fromkeys(_FIXED.values()))
    synthetic = [spec for spec in specs if spec.family == "synthetic"]
    specs = [spec for spec in specs if spec.family != "synthetic"]
    tu_names = dict.fromkeys([*_TU_LISTED, *_subfolders(root_path / "TUDataset")])
    specs += [_tu_spec(name) for name in tu_names]
    ogb_names = dict.fromkeys([*_OGB_LISTED, *_ogb_names_on_disk(root_path)])
    specs += [_ogb_spec(name, root_path) for name in ogb_names]

    infos = []
    for spec in specs:
        source = _source_dir(spec, root_path)
        present = not _missing_files(source, _expected_files(spec))
        infos.append(DatasetInfo(spec.name, spec.family, spec.level, present, source))
    infos += [DatasetInfo(s.name, s.family, s.level, True, None) for s in synthetic]
    return infos


class CSBMDataset(InMemoryDataset):
    r"""A one-graph in-memory dataset holding :func:`make_csbm`'s graph; needs no files.

    Args:
        transform: applied on access.
        pre_transform: applied once at construction.
        **kwargs: passed to :func:`make_csbm` (``num_nodes``, ``homophily``, ``seed``, ...).
    """

    def __init__(
        self,
        transform: Callable | None = None,
        pre_transform: Callable | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(None, transform, pre_transform)
        data = make_csbm(**kwargs)
        if pre_transform is not None:
            data = pre_transform(data)
        self.data, self.slices = self.collate([data])
        self.csbm_kwargs = dict(kwargs)

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}({len(self)})"


# --- name resolution --------------------------------------------------------------------------


def canonical_name(name: str, root: str | os.PathLike | None = None) -> str:
    """The canonical spelling of a dataset name, as results and config files record it:
    ``"amazon-photo"`` -> ``"Photo"``, ``"coauthorcs"`` -> ``"CS"``, ``"mutag"`` ->
    ``"MUTAG"``. Raises ``ValueError`` for a name :func:`load_dataset` does not know."""
    return _resolve(name, Path(root) if root is not None else default_root()).name


def _resolve(name: str, root: Path) -> _Spec:
    if not isinstance(name, str):
        raise TypeError(f"Dataset name must be a str, got {type(name).__name__}.")
    key = name.strip().lower()
    if key in _FIXED:
        return _FIXED[key]
    if key.startswith("tu:") and name.strip()[3:]:
        return _tu_spec(name.strip()[3:])
    if key.startswith(("ogbn-", "ogbg-")):
        return _ogb_spec(_canonical_ogb_name(name.strip()), root)
    for tu_name in (*_TU_NAMES, *_subfolders(root / "TUDataset")):
        if tu_name.lower() == key:
            return _tu_spec(tu_name)
    raise ValueError(f"Unknown dataset {name!r}. {_known_names_text()}")


def _known_names_text() -> str:
    fixed = "Cora, CiteSeer, PubMed, Computers (Amazon-Computers), Photo (Amazon-Photo), "
    fixed += "CS (Coauthor-CS), Physics (Coauthor-Physics), csbm (synthetic, no files)"
    return (
        f"Known names (case-insensitive): {fixed}; TU datasets {', '.join(_TU_NAMES)} "
        f"(or 'tu:<NAME>' for any other TU dataset); OGB 'ogbn-*' / 'ogbg-*' "
        f"(e.g. {', '.join(_OGB_LISTED)})."
    )


def _tu_spec(name: str) -> _Spec:
    return _Spec(name, "TUDataset", _GRAPH, name)


def _ogb_spec(name: str, root: Path) -> _Spec:
    folder = name.replace("-", "_")
    if (root / "ogb" / f"{folder}_pyg").is_dir():  # OGB prefers a ``_pyg`` folder when present
        folder += "_pyg"
    level = _NODE if name.startswith("ogbn-") else _GRAPH
    return _Spec(name, "ogb", level, folder)


@lru_cache(maxsize=1)
def _ogb_master() -> dict[str, dict[str, str]]:
    """OGB's own metadata table (``master.csv``) for node and graph property datasets."""
    import ogb
    import pandas as pd

    table: dict[str, dict[str, str]] = {}
    for sub in ("nodeproppred", "graphproppred"):
        path = Path(ogb.__file__).parent / sub / "master.csv"
        frame = pd.read_csv(path, index_col=0, keep_default_na=False)
        table.update({name: {k: str(v) for k, v in frame[name].items()} for name in frame})
    return table


def _canonical_ogb_name(name: str) -> str:
    master = _ogb_master()
    by_lower = {known.lower(): known for known in master}
    if name.lower() not in by_lower:
        raise ValueError(f"Unknown OGB dataset {name!r}; OGB knows: {', '.join(sorted(master))}.")
    return by_lower[name.lower()]


def _ogb_names_on_disk(root: Path) -> list[str]:
    by_folder = {known.replace("-", "_"): known for known in _ogb_master()}
    names = []
    for folder in _subfolders(root / "ogb"):
        base = folder.removesuffix("_pyg")
        if base in by_folder:
            names.append(by_folder[base])
    return names


def _subfolders(path: Path) -> list[str]:
    try:
        return sorted(entry.name for entry in path.iterdir() if entry.is_dir())
    except OSError:
        return []


def _check_supported_kwargs(spec: _Spec, kwargs: dict[str, Any]) -> None:
    if spec.family == "Planetoid" and str(kwargs.get("split", "public")).lower() == "geom-gcn":
        raise ValueError(
            "Planetoid split='geom-gcn' needs extra split files that this offline loader does "
            "not fetch; use graphssl.data.get_split(...) for random splits instead."
        )
    if spec.family == "TUDataset" and kwargs.get("cleaned", False):
        raise ValueError(
            "TUDataset cleaned=True needs the separately published cleaned files, which this "
            "offline loader does not fetch; load the original files (cleaned=False)."
        )
    if spec.family == "ogb" and kwargs:
        raise ValueError(f"OGB datasets take no extra options here, got {sorted(kwargs)}.")


# --- expected files ---------------------------------------------------------------------------


def _source_dir(spec: _Spec, root: Path) -> Path:
    return root / spec.family / spec.folder


def _expected_files(spec: _Spec) -> list[str]:
    """Files (paths relative to the dataset folder) that must exist to skip downloading."""
    if spec.family in ("Planetoid", "Amazon", "Coauthor", "TUDataset"):
        return [f"raw/{name}" for name in _pyg_raw_file_names(spec)]
    if spec.family == "ogb":
        return _ogb_expected_files(spec.name)
    raise AssertionError(spec.family)


def _pyg_raw_file_names(spec: _Spec) -> list[str]:
    """``raw_file_names`` as the PyG class itself defines it."""
    from torch_geometric.datasets import Amazon, Coauthor, Planetoid, TUDataset

    cls = {"Planetoid": Planetoid, "Amazon": Amazon, "Coauthor": Coauthor, "TUDataset": TUDataset}
    # The properties only read ``self.name``, stored as each class's __init__ stores it.
    stored = spec.name.lower() if spec.family == "Amazon" else spec.name
    names = cls[spec.family].raw_file_names.fget(SimpleNamespace(name=stored))
    return [names] if isinstance(names, str) else list(names)


def _ogb_expected_files(name: str) -> list[str]:
    meta = _ogb_master()[name]
    binary = meta["binary"] == "True"
    hetero = meta.get("is hetero", "False") == "True"
    files = [f"RELEASE_v{meta['version']}.txt", f"split/{meta['split']}"]
    if binary:
        files.append("raw/edge_index_dict.npz" if hetero else "raw/data.npz")
    elif hetero:
        files += ["raw/num-node-dict.csv.gz", "raw/triplet-type-list.csv.gz"]
    else:
        files += ["raw/edge.csv.gz", "raw/num-node-list.csv.gz", "raw/num-edge-list.csv.gz"]
        files += [f"raw/{f}.csv.gz" for f in ("node-feat", "edge-feat") if _has(meta, f)]
    return files


def _has(meta: dict[str, str], raw_name: str) -> bool:
    attr = "has_node_attr" if raw_name == "node-feat" else "has_edge_attr"
    return meta.get(attr) == "True"


def _missing_files(source: Path, expected: list[str]) -> list[str]:
    return [f for f in expected if not (source / f).exists() and not _xz(source / f).exists()]


def _xz(path: Path) -> Path:
    return path.with_name(path.name + ".xz")


def _not_found_message(
    spec: _Spec, root: Path, source: Path, expected: list[str], missing: list[str]
) -> str:
    lines = [
        f"Dataset {spec.name!r} ({spec.family}) not found offline: missing "
        f"{', '.join(missing)} in {source}.",
        f"Expected files under {source}: {', '.join(expected)}"
        + (" (a raw file may also be stored xz-compressed as <file>.xz)." if missing else "."),
        f"Searched data root: {root}. Point root= (or the {DATA_ENV} environment variable) at a "
        f"folder with the layout <root>/{spec.family}/{spec.folder}/raw/...; nothing is "
        f"downloaded.",
    ]
    if (root / spec.folder).is_dir():
        lines.append(
            f"Note: {root / spec.folder} exists, so root= looks like the {spec.family} folder "
            f"itself; pass the folder that contains {spec.family}/ instead ({root.parent})."
        )
    if spec.family == "ogb":
        cls = "PygNodePropPredDataset" if spec.level == _NODE else "PygGraphPropPredDataset"
        lines.append(
            f"To fetch it, on a machine with internet run ogb's {cls}(name={spec.name!r}, "
            f"root='<root>/ogb') once and copy the folder."
        )
    return "\n".join(lines)


# --- cache folder -----------------------------------------------------------------------------


def _cache_key(source: Path, expected: list[str], pre_transform: Callable | None) -> str:
    """Short hash of the resolved source folder, its expected files' stats and pre_transform."""
    digest = hashlib.sha256(str(source.resolve()).encode())
    for rel in expected:
        path = source / rel
        path = path if path.exists() else _xz(path)
        stat = path.stat()
        digest.update(f"{rel}:{stat.st_size}:{stat.st_mtime_ns}".encode())
    digest.update(_describe(pre_transform).encode())
    return digest.hexdigest()[:12]


_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")


def _describe(transform: Callable | None) -> str:
    """``repr`` without memory addresses, so that equal transforms share a cache folder across
    runs (PyG transforms print their parameters, e.g. ``NormalizeFeatures(attrs=['x'])``).
    A function (a lambda, a closure) prints only its name and address: it is described by its
    qualified name, compiled code, defaults and closure values instead, so that two different
    lambdas never share a cache. An object whose ``repr`` is only an address is refused."""
    if transform is None:
        return "None"
    text = repr(transform)
    if not _ADDRESS.search(text):
        return text
    code = getattr(transform, "__code__", None)
    if code is None:
        raise ValueError(
            f"pre_transform {_ADDRESS.sub('', text)} has no repr that tells its settings apart, "
            f"so its processed cache could be taken for another's: give it a __repr__ naming "
            f"its parameters (as PyG's transforms have), or pass a plain function"
        )
    cells = tuple(cell.cell_contents for cell in transform.__closure__ or ())
    values = _ADDRESS.sub("", repr((transform.__defaults__, cells)))
    digest = hashlib.sha256(marshal.dumps(code)).hexdigest()[:16]
    return f"{transform.__module__}.{transform.__qualname__}:{digest}:{values}"


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Exclusive inter-process lock (POSIX ``flock``) so that concurrent loaders (e.g. DDP ranks)
    do not process into the same cache folder at once; a no-op where ``fcntl`` is missing."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield
        return
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _mirror(source: Path, target: Path) -> None:
    """Makes ``target`` look like ``source`` without writing into ``source``.

    ``target/raw`` is a real folder with a link per source raw file (xz-compressed files are
    decompressed instead); other top-level entries (OGB's ``split/``, ``mapping/``,
    ``RELEASE_v*.txt``) are linked; ``processed*`` folders are skipped, so that processing always
    happens in the cache.
    """
    target.mkdir(parents=True, exist_ok=True)
    for entry in sorted(source.iterdir()):
        if entry.name.startswith("processed"):
            continue
        if entry.name.startswith("raw") and entry.is_dir():
            _mirror_raw(entry, target / entry.name)
        else:
            _link(entry, target / entry.name)


def _mirror_raw(source: Path, target: Path) -> None:
    target.mkdir(parents=True, exist_ok=True)
    for entry in sorted(source.iterdir()):
        if entry.name.endswith(".xz") and entry.is_file():
            plain = entry.name[: -len(".xz")]
            if not (source / plain).exists() and not (target / plain).exists():
                _decompress_xz(entry, target / plain)
            continue
        _link(entry, target / entry.name)


def _link(source: Path, target: Path) -> None:
    """Symlinks ``target`` -> ``source`` (falls back to a hard link, then a copy)."""
    if target.is_symlink():
        if Path(os.readlink(target)) == source.resolve():
            return
        target.unlink()
    elif target.exists():
        return  # a copy made by an earlier fallback
    source = source.resolve()
    try:
        os.symlink(source, target, target_is_directory=source.is_dir())
    except OSError:  # pragma: no cover - file systems without symlinks
        if source.is_dir():
            shutil.copytree(source, target)
            return
        try:
            os.link(source, target)
        except OSError:
            shutil.copy2(source, target)


def _decompress_xz(source: Path, target: Path) -> None:
    """Streams an ``.xz`` file into ``target`` (written under a temporary name, then renamed)."""
    partial = target.with_name(target.name + ".partial")
    with lzma.open(source, "rb") as src, open(partial, "wb") as dst:
        shutil.copyfileobj(src, dst, length=1 << 20)
    os.replace(partial, target)


# --- construction -----------------------------------------------------------------------------


def _construct(
    spec: _Spec,
    pyg_root: Path,
    transform: Callable | None,
    pre_transform: Callable | None,
    kwargs: dict[str, Any],
) -> InMemoryDataset:
    common = {"transform": transform, "pre_transform": pre_transform}
    if spec.family == "ogb":
        return _construct_ogb(spec, pyg_root, common)
    from torch_geometric import datasets

    cls = getattr(datasets, spec.family)
    return cls(str(pyg_root), spec.name, **common, **kwargs)


def _construct_ogb(spec: _Spec, pyg_root: Path, common: dict[str, Any]) -> InMemoryDataset:
    if spec.level == _NODE:
        from ogb.nodeproppred import PygNodePropPredDataset as cls
    else:
        from ogb.graphproppred import PygGraphPropPredDataset as cls
    with _ogb_safe_globals():
        return cls(name=spec.name, root=str(pyg_root), **common)


def _ogb_safe_globals() -> contextlib.AbstractContextManager:
    """Allows the PyG classes that OGB pickles into its processed file.

    OGB 1.3.6 reads it with a bare ``torch.load``, which since torch 2.6 defaults to
    ``weights_only=True`` and rejects ``Data``'s helper classes.
    """
    import torch
    from torch_geometric.data.data import DataEdgeAttr, DataTensorAttr
    from torch_geometric.data.storage import GlobalStorage

    safe_globals = getattr(torch.serialization, "safe_globals", None)
    if safe_globals is None:  # torch < 2.5: weights_only is off by default
        return contextlib.nullcontext()
    return safe_globals([DataEdgeAttr, DataTensorAttr, GlobalStorage])
