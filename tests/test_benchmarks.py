"""The benchmark scripts run end to end (graphssl's side only: the peers venv is not part of
the test environment) and write a results file with a timing per row."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import torch

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


@pytest.fixture
def benchmark_modules():
    """The scripts' modules; the torch thread count they set is restored afterwards."""
    threads = torch.get_num_threads()
    sys.path.insert(0, str(BENCHMARKS))
    try:
        import grace_epoch
        import node_methods

        yield grace_epoch, node_methods
    finally:
        sys.path.remove(str(BENCHMARKS))
        torch.set_num_threads(threads)


def _timed_rows(out: Path, key: str) -> dict[str, dict]:
    result = json.loads(out.read_text())
    assert result["machine"]["loadavg_end"] is not None
    return {row[key]: row for row in result["results"]}


def test_node_methods_benchmark_writes_a_timing_per_method(
    benchmark_modules, datasets_root: Path, tmp_path: Path, capsys
) -> None:
    _, node_methods = benchmark_modules
    out = tmp_path / "node_methods.json"
    argv = ["--methods", "grace", "mvgrl", "--dataset", "Cora", "--epochs", "2", "--warmup", "0"]
    argv += ["--root", str(datasets_root), "--skip-peer", "--threads", "1", "--out", str(out)]
    assert node_methods.main(argv) == 0
    rows = _timed_rows(out, "method")
    assert set(rows) == {"grace", "mvgrl"}
    for row in rows.values():
        assert row["pygcl"] is None and row["ratio"] is None
        assert row["graphssl"]["epochs_timed"] == 2
        assert 0 < row["graphssl"]["min_s"] <= row["graphssl"]["median_s"]
    assert rows["mvgrl"]["graphssl"]["diffusion_seconds"] > 0
    printed = capsys.readouterr().out
    assert "mvgrl diffusion, once before training: graphssl" in printed
    assert printed.index("ratio = graphssl median") < printed.index("results written to")


def test_grace_epoch_benchmark_writes_a_timing_per_dataset(
    benchmark_modules, datasets_root: Path, tmp_path: Path
) -> None:
    grace_epoch, _ = benchmark_modules
    out = tmp_path / "grace_epoch.json"
    argv = ["--datasets", "Cora", "--epochs", "2", "--warmup", "1", "--skip-peer"]
    argv += ["--root", str(datasets_root), "--threads", "1", "--out", str(out)]
    assert grace_epoch.main(argv) == 0
    row = _timed_rows(out, "dataset")["Cora"]
    assert row["graphssl"]["num_nodes"] == 2708
    assert row["graphssl"]["epochs_timed"] == 2


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="mallopt is glibc's")
def test_freed_memory_benchmark_times_both_sides_in_processes_of_their_own(
    benchmark_modules, datasets_root: Path, tmp_path: Path
) -> None:
    import freed_memory

    out = tmp_path / "freed_memory.json"
    argv = ["--runs", "grace:Cora", "--epochs", "2", "--warmup", "0", "--device", "cpu"]
    argv += ["--root", str(datasets_root), "--out", str(out)]
    assert freed_memory.main(argv) == 0
    (row,) = json.loads(out.read_text())["results"]
    assert (row["method"], row["dataset"]) == ("grace", "Cora")
    for side in ("default", "reuse"):
        (run,) = row[side]["runs"]
        assert len(run["times_s"]) == 2 and row[side]["peak_rss_gib"] > 0
        assert run["reuse_freed_memory"] is (side == "reuse")  # each side in its own process
    # the allocator changes where blocks come from, not the arithmetic: same model, same loss
    assert row["default"]["loss_last"] == row["reuse"]["loss_last"]
    assert row["ratio"] == row["reuse"]["median_s"] / row["default"]["median_s"]


def test_mixed_precision_benchmark_takes_the_configs_sparse_features(
    benchmark_modules, datasets_root: Path, tmp_path: Path, monkeypatch
) -> None:
    import mixed_precision

    published = mixed_precision.load_config

    def load_config(method, dataset):  # a config that sets data.sparse_features, as CS's do
        cfg = published(method, dataset)
        return {**cfg, "data": {**cfg["data"], "sparse_features": True}}

    monkeypatch.setattr(mixed_precision, "load_config", load_config)
    out = tmp_path / "mixed_precision.json"
    argv = ["--runs", "grace:Cora", "--epochs", "2", "--warmup", "0", "--device", "cpu"]
    argv += ["--root", str(datasets_root), "--out", str(out)]
    assert mixed_precision.main(argv) == 0
    (row,) = json.loads(out.read_text())["results"]
    assert row["sparse_features"] is True
    for side in ("float32", "amp"):
        (run,) = row[side]["runs"]
        assert len(run["times_s"]) == 2
    # the same model and views in float32 and in bfloat16 autocast: close losses
    assert row["amp"]["loss_last"][0] == pytest.approx(row["float32"]["loss_last"][0], rel=0.01)


def test_readme_tables_are_those_of_the_results_files(tmp_path: Path) -> None:
    """benchmarks/README.md's measured tables are rendered from the stored results files (no
    hand-typed figure, none stale after a rerun), and a changed file changes its table."""
    sys.path.insert(0, str(BENCHMARKS))
    try:
        import readme_tables
    finally:
        sys.path.remove(str(BENCHMARKS))
    text = readme_tables.README.read_text()
    blocks = readme_tables._BLOCK.findall(text)
    assert blocks, "benchmarks/README.md has no generated table"
    assert readme_tables.render_readme(text) == text, "run python benchmarks/readme_tables.py"

    result = json.loads((BENCHMARKS / "results" / "node_methods_cpu.json").read_text())
    grace = next(row for row in result["results"] if row["method"] == "grace")
    grace["graphssl"]["median_s"], grace["ratio"] = 1.234, 0.5678
    (tmp_path / "results").mkdir()
    (tmp_path / "results" / "node_methods_cpu.json").write_text(json.dumps(result))
    block = "<!-- table: results/node_methods_cpu.json -->\n<!-- end table -->"
    rendered = readme_tables.render_readme(block, root=tmp_path)
    row = next(line for line in rendered.splitlines() if line.startswith("| GRACE |"))
    assert row.startswith("| GRACE | 1.23 [") and "| 0.57 |" in row
    assert "MVGRL's diffusion, once before training" in rendered

    # a two-sided table (mixed_precision.py): the layout of the features is shown
    result = json.loads((BENCHMARKS / "results" / "mixed_precision_cpu.json").read_text())
    result["results"] = [{**result["results"][0], "ratio": 0.4321, "sparse_features": True}]
    (tmp_path / "results" / "mixed_precision_cpu.json").write_text(json.dumps(result))
    block = "<!-- table: results/mixed_precision_cpu.json -->\n<!-- end table -->"
    rendered = readme_tables.render_readme(block, root=tmp_path)
    (row,) = (line for line in rendered.splitlines() if line.startswith("| BGRL |"))
    assert "| 0.43 | sparse |" in row
