from __future__ import annotations

import gzip
import lzma
import shutil
import stat
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch
import torch_geometric.transforms as T
from sklearn.linear_model import LogisticRegression
from torch_geometric.utils import coalesce, degree, homophily, is_undirected

from graphssl.data import (
    DEFAULT_DATASET,
    CSBMDataset,
    DatasetNotFoundError,
    Split,
    get_split,
    list_datasets,
    load_dataset,
    make_csbm,
    ogb_split,
    public_split,
    random_split,
    validate,
)

# --- helpers ----------------------------------------------------------------------------------


def _snapshot(folder: Path) -> list[tuple[str, int, int, int]]:
    """Recursive listing (path, size, mtime, mode) to prove a folder was not written to."""
    out = []
    for path in sorted(folder.rglob("*")):
        info = path.lstat()
        out.append((str(path.relative_to(folder)), info.st_size, info.st_mtime_ns, info.st_mode))
    return out


def _write_tu(root: Path, name: str, *, compress_a: bool) -> None:
    """A tiny TU dataset: 3 graphs (a triangle, an edge, a 3-path), 8 nodes, 2 classes."""
    raw = root / "TUDataset" / name / "raw"
    raw.mkdir(parents=True)
    undirected = [(1, 2), (2, 3), (3, 1), (4, 5), (6, 7), (7, 8)]
    lines = "".join(f"{u}, {v}\n{v}, {u}\n" for u, v in undirected)
    if compress_a:
        with lzma.open(raw / f"{name}_A.txt.xz", "wt") as handle:
            handle.write(lines)
    else:
        (raw / f"{name}_A.txt").write_text(lines)
    (raw / f"{name}_graph_indicator.txt").write_text("1\n1\n1\n2\n2\n3\n3\n3\n")
    (raw / f"{name}_graph_labels.txt").write_text("1\n-1\n1\n")


def _write_csv_gz(path: Path, rows) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(path, "wt") as handle:
        for row in rows:
            handle.write(",".join(str(v) for v in np.atleast_1d(row)) + "\n")


def _write_fake_ogbn_arxiv(root: Path, num_nodes: int = 12) -> None:
    """The files OGB itself writes for ogbn-arxiv, with a 12-node ring graph."""
    folder = root / "ogb" / "ogbn_arxiv"
    rng = np.random.default_rng(0)
    ring = [(i, (i + 1) % num_nodes) for i in range(num_nodes)]
    _write_csv_gz(folder / "raw" / "edge.csv.gz", ring)
    _write_csv_gz(folder / "raw" / "num-node-list.csv.gz", [num_nodes])
    _write_csv_gz(folder / "raw" / "num-edge-list.csv.gz", [len(ring)])
    _write_csv_gz(folder / "raw" / "node-feat.csv.gz", rng.normal(size=(num_nodes, 4)).round(3))
    _write_csv_gz(folder / "raw" / "node-label.csv.gz", rng.integers(0, 3, num_nodes))
    _write_csv_gz(folder / "raw" / "node_year.csv.gz", rng.integers(2000, 2020, num_nodes))
    _write_csv_gz(folder / "split" / "time" / "train.csv.gz", [5, 0, 1, 2, 3, 4])
    _write_csv_gz(folder / "split" / "time" / "valid.csv.gz", [6, 7, 8])
    _write_csv_gz(folder / "split" / "time" / "test.csv.gz", [9, 10, 11])
    (folder / "RELEASE_v1.txt").write_text("fake\n")


def _processed_files(cache: Path) -> list[Path]:
    return [p for p in cache.rglob("*") if p.is_file() and p.parent.name == "processed"]


# --- real datasets ----------------------------------------------------------------------------

# name -> (num graphs, num nodes, num directed edges, features, classes, public split or None).
REAL = {
    "Cora": (1, 2708, 10556, 1433, 7, (140, 500, 1000)),
    "CiteSeer": (1, 3327, 9104, 3703, 6, (120, 500, 1000)),
    "Amazon-Photo": (1, 7650, 238162, 745, 8, None),
    "Coauthor-CS": (1, 18333, 163788, 6805, 15, None),
    "MUTAG": (188, 3371, 7442, 7, 2, None),
}


@pytest.mark.parametrize("name", list(REAL))
def test_load_real_dataset(name, datasets_root, tmp_path):
    graphs, nodes, edges, features, classes, public = REAL[name]
    ds_family = {"Amazon-Photo": "Amazon", "Coauthor-CS": "Coauthor", "MUTAG": "TUDataset"}
    source = datasets_root / ds_family.get(name, "Planetoid")
    before = _snapshot(source)

    dataset = load_dataset(name, datasets_root, cache_dir=tmp_path / "cache")

    assert len(dataset) == graphs
    assert dataset.num_features == features
    assert dataset.num_classes == classes
    if graphs == 1:
        data = dataset[0]
        assert (data.num_nodes, data.num_edges) == (nodes, edges)
        validate(data)
    else:
        assert dataset.x.size(0) == nodes  # the collated tensors of all graphs
        assert dataset.edge_index.size(1) == edges
    if public is not None:
        split = public_split(dataset)
        assert (split.train.numel(), split.val.numel(), split.test.numel()) == public
    assert _snapshot(source) == before, "loading wrote into the source folder"
    processed = _processed_files(tmp_path / "cache")
    assert processed and all(p.is_relative_to(tmp_path / "cache") for p in processed)


def test_names_are_case_insensitive_with_aliases(datasets_root, tmp_path):
    cache = tmp_path / "cache"
    assert repr(load_dataset("cora", datasets_root, cache_dir=cache)) == "Cora()"
    assert repr(load_dataset("PHOTO", datasets_root, cache_dir=cache)) == "AmazonPhoto()"
    assert repr(load_dataset("mutag", datasets_root, cache_dir=cache)) == "MUTAG(188)"


def test_cache_is_reused_and_keyed_by_source(datasets_root, tmp_path):
    cache = tmp_path / "cache"
    load_dataset("Cora", datasets_root, cache_dir=cache)
    (first,) = _processed_files(cache)[:1]
    mtime = first.stat().st_mtime_ns
    load_dataset("Cora", datasets_root, cache_dir=cache)
    assert first.stat().st_mtime_ns == mtime, "second load reprocessed instead of reusing"

    other_root = tmp_path / "copy"
    shutil.copytree(datasets_root / "Planetoid" / "Cora", other_root / "Planetoid" / "Cora")
    load_dataset("Cora", other_root, cache_dir=cache)
    load_dataset("Cora", datasets_root, cache_dir=cache, pre_transform=T.NormalizeFeatures())
    assert len(list((cache / "Planetoid").glob("Cora-*"))) == 3


def test_root_and_cache_from_environment(datasets_root, tmp_path, monkeypatch):
    monkeypatch.setenv("GRAPHSSL_DATA", str(datasets_root))
    monkeypatch.setenv("GRAPHSSL_CACHE", str(tmp_path / "env-cache"))
    assert load_dataset("MUTAG")[0].num_nodes > 0
    assert _processed_files(tmp_path / "env-cache")


@pytest.fixture
def read_only_cora(datasets_root, tmp_path):
    """A copy of Cora's raw folder with read-only folders and files; permissions restored after."""
    root = tmp_path / "ro-root"
    raw = root / "Planetoid" / "Cora" / "raw"
    shutil.copytree(datasets_root / "Planetoid" / "Cora" / "raw", raw)
    folders = [raw, raw.parent, raw.parent.parent, root]
    for path in raw.iterdir():
        path.chmod(stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
    for folder in folders:
        folder.chmod(stat.S_IRUSR | stat.S_IXUSR | stat.S_IRGRP | stat.S_IXGRP)
    yield root
    for folder in reversed(folders):
        folder.chmod(stat.S_IRWXU)
    for path in raw.iterdir():
        path.chmod(stat.S_IRUSR | stat.S_IWUSR)


def test_read_only_raw_folder(read_only_cora, tmp_path):
    # Note: as root, permission bits do not stop writes; the snapshot proves nothing was written.
    before = _snapshot(read_only_cora)
    dataset = load_dataset("Cora", read_only_cora, cache_dir=tmp_path / "cache")
    assert dataset[0].num_nodes == 2708
    assert _snapshot(read_only_cora) == before
    assert not any(p.name == "processed" for p in read_only_cora.rglob("*"))


def test_missing_dataset_error_is_actionable(tmp_path):
    with pytest.raises(DatasetNotFoundError) as info:
        load_dataset("Cora", tmp_path, cache_dir=tmp_path / "cache")
    message = str(info.value)
    assert isinstance(info.value, FileNotFoundError)
    assert "'Cora'" in message
    assert str(tmp_path / "Planetoid" / "Cora") in message
    assert "raw/ind.cora.x" in message and "raw/ind.cora.graph" in message
    assert "GRAPHSSL_DATA" in message and "root=" in message
    assert not (tmp_path / "cache").exists(), "nothing should be created on failure"


def test_partially_present_dataset_names_missing_file(datasets_root, tmp_path):
    raw = tmp_path / "Planetoid" / "Cora" / "raw"
    shutil.copytree(datasets_root / "Planetoid" / "Cora" / "raw", raw)
    (raw / "ind.cora.tx").unlink()
    with pytest.raises(DatasetNotFoundError, match=r"missing raw/ind\.cora\.tx in"):
        load_dataset("Cora", tmp_path, cache_dir=tmp_path / "cache")


def test_root_pointing_at_family_folder_gets_a_hint(datasets_root, tmp_path):
    with pytest.raises(DatasetNotFoundError, match=r"looks like the Planetoid folder itself"):
        load_dataset("Cora", datasets_root / "Planetoid", cache_dir=tmp_path)


def test_missing_ogb_and_tu(tmp_path):
    with pytest.raises(DatasetNotFoundError, match=r"(?s)RELEASE_v1\.txt.*PygNodePropPredDataset"):
        load_dataset("ogbn-arxiv", tmp_path, cache_dir=tmp_path / "cache")
    with pytest.raises(DatasetNotFoundError, match=r"raw/PROTEINS_A\.txt"):
        load_dataset("proteins", tmp_path, cache_dir=tmp_path / "cache")


def test_unknown_names(tmp_path):
    with pytest.raises(
        ValueError, match=r"Unknown dataset 'NotADataset'.*Cora.*csbm.*MUTAG.*tu:<NAME>"
    ):
        load_dataset("NotADataset", tmp_path)
    with pytest.raises(ValueError, match=r"Unknown OGB dataset 'ogbn-nope'.*ogbn-arxiv"):
        load_dataset("ogbn-nope", tmp_path)


def test_tu_file_only_present_xz_compressed(tmp_path):
    root = tmp_path / "root"
    _write_tu(root, "COLLAB", compress_a=True)
    before = _snapshot(root)

    dataset = load_dataset("collab", root, cache_dir=tmp_path / "cache")

    assert len(dataset) == 3
    assert [g.num_nodes for g in dataset] == [3, 2, 3]
    assert [g.num_edges for g in dataset] == [6, 2, 4]
    assert dataset[0].x is None, "no node features are invented for featureless TU datasets"
    assert dataset.y.tolist() == [1, 0, 1]
    assert _snapshot(root) == before
    (decompressed,) = (tmp_path / "cache").rglob("COLLAB_A.txt")
    assert decompressed.is_file() and not decompressed.is_symlink()


def test_any_tu_dataset_by_prefix_or_folder(tmp_path):
    _write_tu(tmp_path, "My_TU", compress_a=False)
    by_prefix = load_dataset("tu:My_TU", tmp_path, cache_dir=tmp_path / "cache")
    by_folder = load_dataset("my_tu", tmp_path, cache_dir=tmp_path / "cache")
    assert len(by_prefix) == len(by_folder) == 3


@pytest.mark.filterwarnings("ignore:The given NumPy array is not writable")
def test_ogb_offline_from_fake_files(tmp_path):
    _write_fake_ogbn_arxiv(tmp_path / "root")
    before = _snapshot(tmp_path / "root")
    dataset = load_dataset("OGBN-ARXIV", tmp_path / "root", cache_dir=tmp_path / "cache")
    assert dataset[0].num_nodes == 12 and dataset[0].x.shape == (12, 4)
    split = get_split(dataset, "ogb")
    assert split.train.tolist() == [0, 1, 2, 3, 4, 5]  # sorted
    assert (split.val.numel(), split.test.numel()) == (3, 3)
    assert _snapshot(tmp_path / "root") == before
    again = load_dataset("ogbn-arxiv", tmp_path / "root", cache_dir=tmp_path / "cache")
    assert again[0].num_edges == 12


def test_csbm_default_dataset_needs_no_files(tmp_path):
    assert DEFAULT_DATASET == "csbm"
    dataset = load_dataset(DEFAULT_DATASET, tmp_path / "nothing-here")
    assert isinstance(dataset, CSBMDataset) and len(dataset) == 1
    assert dataset[0].num_nodes == 2000
    small = load_dataset("CSBM", num_nodes=300, seed=3, transform=T.AddSelfLoops())
    assert small[0].num_nodes == 300
    untransformed = small.get(0)
    assert torch.equal(untransformed.x, make_csbm(num_nodes=300, seed=3).x)
    assert small[0].num_edges == untransformed.num_edges + 300  # transform applied on access


def test_list_datasets(datasets_root, tmp_path):
    infos = {info.name: info for info in list_datasets(datasets_root)}
    assert infos["Cora"].present and infos["Cora"].level == "node"
    assert infos["Cora"].path == datasets_root / "Planetoid" / "Cora"
    assert not infos["PubMed"].present
    assert infos["COLLAB"].present, "a TU file stored as .xz counts as present"
    assert infos["MUTAG"].family == "TUDataset" and infos["MUTAG"].level == "graph"
    assert infos["csbm"].present and infos["csbm"].path is None
    assert not infos["ogbn-arxiv"].present

    _write_tu(tmp_path, "My_TU", compress_a=False)
    _write_fake_ogbn_arxiv(tmp_path)
    infos = {info.name: info for info in list_datasets(tmp_path)}
    assert infos["My_TU"].present and infos["ogbn-arxiv"].present
    assert not infos["Cora"].present


# --- splits -----------------------------------------------------------------------------------


def _check_partition(split: Split, num_nodes: int) -> None:
    parts = [split.train, split.val, split.test]
    for part in parts:
        assert part.dtype == torch.long
        assert torch.equal(part, part.sort().values)
    everything = torch.cat(parts)
    assert everything.numel() == num_nodes
    assert torch.equal(everything.sort().values, torch.arange(num_nodes))


def test_random_split_sizes_and_disjoint():
    split = random_split(1000, 0.1, 0.1, seed=0)
    assert (split.train.numel(), split.val.numel(), split.test.numel()) == (100, 100, 800)
    _check_partition(split, 1000)
    odd = random_split(2708, 0.1, 0.1, seed=0)  # int() sizes like GCA / BGRL
    assert (odd.train.numel(), odd.val.numel(), odd.test.numel()) == (270, 270, 2168)


def test_random_split_deterministic_per_seed():
    a, b = random_split(500, seed=7), random_split(500, seed=7)
    assert all(torch.equal(x, y) for x, y in zip(vars(a).values(), vars(b).values()))
    c = random_split(500, seed=8)
    assert not torch.equal(a.train, c.train)


def test_random_split_leaves_global_rng_alone():
    torch.manual_seed(0)
    expected = torch.rand(3)
    torch.manual_seed(0)
    random_split(100, seed=1)
    assert torch.equal(torch.rand(3), expected)


def test_get_split_kinds():
    data = make_csbm(num_nodes=400)
    random = get_split(data, "random", seed=1)
    assert (random.train.numel(), random.val.numel(), random.test.numel()) == (40, 40, 320)
    grace = get_split(data, "GRACE", seed=1)
    assert (grace.train.numel(), grace.val.numel(), grace.test.numel()) == (40, 0, 360)
    _check_partition(grace, 400)
    custom = get_split(data, "random:0.2:0.3", seed=1)
    assert (custom.train.numel(), custom.val.numel(), custom.test.numel()) == (80, 120, 200)
    public = get_split(data, "public")
    assert torch.equal(public.train, data.train_mask.nonzero().view(-1))


@pytest.mark.parametrize(
    ("kind", "pattern"),
    [
        ("scaffold", r"Unknown split kind 'scaffold'.*public.*random:TRAIN:VAL"),
        ("random:0.6:0.5", r"train \+ val = 1\.1 must be < 1"),
        ("random:abc:0.1", r"Cannot parse split kind"),
        ("random:0.1", r"Cannot parse split kind"),
        ("random:0:0.1", r"train fraction must be in \(0, 1\)"),
    ],
)
def test_get_split_errors(kind, pattern):
    with pytest.raises(ValueError, match=pattern):
        get_split(make_csbm(num_nodes=200), kind)


def test_random_split_too_small():
    with pytest.raises(ValueError, match="no training item"):
        random_split(5, 0.1, 0.1, seed=0)


def test_public_split_matches_planetoid_masks(datasets_root, tmp_path):
    data = load_dataset("Cora", datasets_root, cache_dir=tmp_path)[0]
    split = get_split(data, "public")
    assert (split.train.numel(), split.val.numel(), split.test.numel()) == (140, 500, 1000)
    masks = split.masks(data.num_nodes)
    for mask, expected in zip(masks, (data.train_mask, data.val_mask, data.test_mask)):
        assert torch.equal(mask, expected)


def test_public_split_requires_masks():
    data = make_csbm(num_nodes=200)
    del data.val_mask
    with pytest.raises(ValueError, match=r"no 'val_mask'.*'random'"):
        public_split(data)


def test_split_masks_and_to():
    split = Split(torch.tensor([3, 1]), torch.tensor([0]), torch.tensor([2, 4]))
    assert split.train.tolist() == [1, 3]
    train, val, test = split.to("cpu").masks(5)
    assert train.tolist() == [False, True, False, True, False]
    assert (train | val | test).all() and not (train & test).any()
    with pytest.raises(ValueError, match="num_nodes=4"):
        split.masks(4)
    with pytest.raises(TypeError, match="boolean mask"):
        Split(torch.ones(3, dtype=torch.bool), torch.tensor([0]), torch.tensor([1]))


def test_split_takes_empty_parts_and_refuses_negative_or_shared_nodes():
    split = Split([0, 1], [], [2, 3])  # no validation nodes, written as a plain empty list
    assert split.val.dtype == torch.long and split.val.numel() == 0
    assert Split([0], torch.tensor([]), [1]).val.numel() == 0
    with pytest.raises(ValueError, match="negative"):
        Split([-1, 0], [1], [2])  # would silently mark the last node
    with pytest.raises(ValueError, match="train and Split.test share 1 node"):
        Split([0, 1, 2], [3], [2, 4])
    with pytest.raises(ValueError, match="val and Split.test share 2"):
        Split([0], [1, 2], [1, 2, 3])


def test_ogb_split_from_get_idx_split():
    fake = SimpleNamespace(
        get_idx_split=lambda: {
            "train": torch.tensor([4, 0, 2]),
            "valid": torch.tensor([1]),
            "test": torch.tensor([3, 5]),
        }
    )
    split = ogb_split(fake)
    assert split.train.tolist() == [0, 2, 4] and split.test.tolist() == [3, 5]
    assert get_split(fake, "ogb").val.tolist() == [1]
    with pytest.raises(ValueError, match="get_idx_split"):
        get_split(make_csbm(num_nodes=200), "ogb")


def test_random_split_over_graphs_of_a_dataset(datasets_root, tmp_path):
    mutag = load_dataset("MUTAG", datasets_root, cache_dir=tmp_path)
    split = get_split(mutag, "random", seed=0)
    assert (split.train.numel(), split.val.numel(), split.test.numel()) == (18, 18, 152)
    with pytest.raises(ValueError, match="single graph"):
        get_split(mutag, "public")


# --- CSBM -------------------------------------------------------------------------------------


def test_csbm_deterministic():
    a, b, c = make_csbm(seed=1), make_csbm(seed=1), make_csbm(seed=2)
    for key in ("x", "edge_index", "y", "train_mask", "test_mask"):
        assert torch.equal(a[key], b[key])
    assert not torch.equal(a.y, c.y)
    assert a.edge_index.shape != c.edge_index.shape or not torch.equal(a.edge_index, c.edge_index)


def test_csbm_structure():
    data = make_csbm()
    validate(data)
    assert data.x.shape == (2000, 64) and data.x.dtype == torch.float32
    assert is_undirected(data.edge_index, num_nodes=data.num_nodes)
    assert not (data.edge_index[0] == data.edge_index[1]).any()
    assert torch.equal(coalesce(data.edge_index, num_nodes=2000), data.edge_index)
    assert torch.bincount(data.y).tolist() == [500] * 4
    assert abs(data.num_edges / data.num_nodes - 10.0) < 0.5
    sizes = [int(m.sum()) for m in (data.train_mask, data.val_mask, data.test_mask)]
    assert sizes == [200, 200, 1600]
    assert not (data.train_mask & data.test_mask).any()


@pytest.mark.parametrize("target", [0.8, 0.5, 0.2])
def test_csbm_homophily_close_to_target(target):
    data = make_csbm(homophily=target, seed=3)
    assert abs(homophily(data.edge_index, data.y, method="edge") - target) < 0.05


def test_csbm_bad_arguments():
    with pytest.raises(ValueError, match="homophily"):
        make_csbm(homophily=1.5)
    with pytest.raises(ValueError, match="num_classes"):
        make_csbm(num_classes=1)


def _mean_smooth(data, hops: int) -> torch.Tensor:
    """``hops`` rounds of mean aggregation over neighbours and self."""
    src, dst = data.edge_index
    deg = degree(dst, data.num_nodes) + 1
    x = data.x
    for _ in range(hops):
        x = (torch.zeros_like(x).index_add_(0, dst, x[src]) + x) / deg[:, None]
    return x


def _probe(x: torch.Tensor, data) -> float:
    clf = LogisticRegression(max_iter=1000)
    clf.fit(x[data.train_mask].numpy(), data.y[data.train_mask].numpy())
    return clf.score(x[data.test_mask].numpy(), data.y[data.test_mask].numpy())


def test_csbm_graph_beats_raw_features():
    data = make_csbm()
    raw, smoothed = _probe(data.x, data), _probe(_mean_smooth(data, 2), data)
    assert 0.5 <= raw <= 0.7, raw
    assert smoothed >= 0.85, smoothed
    assert smoothed - raw >= 0.15, (raw, smoothed)


def test_csbm_is_fast():
    import time

    start = time.perf_counter()
    make_csbm()
    assert time.perf_counter() - start < 2.0  # < 0.2 s when idle; generous for shared CPUs


def test_pre_transform_descriptions_tell_functions_apart():
    """The processed cache is keyed on the pre_transform's description: two lambdas, or one
    closure over two values, must not share a cache folder (their reprs differ only by
    address); the same function describes the same way each time."""
    from graphssl.data.datasets import _describe

    def scaled(k):
        return lambda data: data.x * k

    zero, identity = (lambda d: d.x * 0), (lambda d: d)
    assert _describe(zero) != _describe(identity)
    assert _describe(scaled(0)) != _describe(scaled(1))
    assert _describe(scaled(2)) == _describe(scaled(2))
    assert " at 0x" not in _describe(zero)

    class Opaque:  # no __repr__: nothing tells two settings apart
        def __call__(self, data):
            return data

    with pytest.raises(ValueError, match="no repr that tells its settings apart"):
        _describe(Opaque())
