"""Writes the measured tables of ``benchmarks/README.md`` from the results files, so that no
figure there is typed by hand and none outlives a rerun.

Each table sits between ``<!-- table: results/<file>.json -->`` and ``<!-- end table -->``
and is rendered from that file by the renderer of its ``"benchmark"``:

    python benchmarks/readme_tables.py          # rewrite the tables after a rerun
    python benchmarks/readme_tables.py --check  # exit 1 when one is stale
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
README = HERE / "README.md"
_BLOCK = re.compile(r"(<!-- table: (?P<file>[^ ]+) -->\n)(?P<body>.*?)(<!-- end table -->)", re.S)
_LABELS = {
    "grace": "GRACE",
    "gca": "GCA",
    "bgrl": "BGRL",
    "gbt": "G-BT",
    "dgi": "DGI",
    "mvgrl": "MVGRL",
}


def _machine(result: dict[str, Any]) -> str:
    m = result["machine"]
    return (
        f"{m.get('cpu_model') or m.get('processor') or m['machine']}, {m['threads']} threads, "
        f"torch {m['torch']}, {result['created'][:10]}"
    )


def render_node_methods(result: dict[str, Any]) -> str:
    """The side-by-side table of ``node_methods.py``: median s/epoch of each side with its
    range, the ratio graphssl / PyGCL, the peak RSS of each, then MVGRL's one-off diffusion."""
    args = result["args"]
    lines = [
        f"Measured: {_machine(result)}; `--epochs {args['epochs']} --warmup {args['warmup']}"
        f" --rounds {args['rounds']}`, Amazon-{args['dataset']}, median s/epoch [min-max]:",
        "",
        "| method | graphssl | PyGCL | ratio | peak RSS MiB (graphssl / PyGCL) |",
        "|---|---|---|---|---|",
    ]
    diffusion = []
    for row in result["results"]:
        ours, peer = row["graphssl"], row["pygcl"]
        if not ours or not peer or "median_s" not in ours or "median_s" not in peer:
            continue  # a side skipped or failed: nothing to compare
        label = _LABELS.get(row["method"], row["method"])
        lines.append(
            f"| {label} | {ours['median_s']:.2f} [{ours['min_s']:.2f}-{ours['max_s']:.2f}] "
            f"| {peer['median_s']:.2f} [{peer['min_s']:.2f}-{peer['max_s']:.2f}] "
            f"| {row['ratio']:.2f} | {ours['peak_rss_mb']:.0f} / {peer['peak_rss_mb']:.0f} |"
        )
        if "diffusion_seconds" in ours and "diffusion_seconds" in peer:
            diffusion.append(
                f"{label}'s diffusion, once before training (not in the table): graphssl "
                f"{ours['diffusion_seconds']:.1f} s ({ours['diffusion_edges']:,} edges), PyGCL "
                f"{peer['diffusion_seconds']:.1f} s ({peer['diffusion_edges']:,} edges)."
            )
    return "\n".join(lines + ([""] + diffusion if diffusion else [])) + "\n"


def _two_sides(
    result: dict[str, Any],
    sides: tuple[str, str],
    headers: tuple[str, str],
    extra_headers: tuple[str, ...] = (),
    extra: Any = lambda row: (),
    short: tuple[str, str] | None = None,
) -> str:
    """The table of a two-sided per-epoch benchmark (``mixed_precision.py`` and those built on
    its ``compare_main``): per row, median s/epoch [min-max] of each side, the ratio second /
    first, the ``extra`` cells of the row and each side's last loss (headed by the ``short``
    names of the sides, default ``headers``)."""
    args = result["args"]
    first, second = sides
    short = short or headers
    lines = [
        f"Measured: {_machine(result)}; `--epochs {args['epochs']} --warmup {args['warmup']}"
        f" --rounds {args['rounds']}`, median s/epoch [min-max]:",
        "",
        f"| method | dataset | {headers[0]} | {headers[1]} | ratio | "
        + "".join(f"{h} | " for h in extra_headers)
        + f"last loss ({short[0]} / {short[1]}) |",
        "|---|---|---|---|---|" + "---|" * len(extra_headers) + "---|",
    ]
    for row in result["results"]:
        a, b = row[first], row[second]
        label = _LABELS.get(row["method"], row["method"])
        lines.append(
            f"| {label} | {row['dataset']} "
            f"| {a['median_s']:.2f} [{a['min_s']:.2f}-{a['max_s']:.2f}] "
            f"| {b['median_s']:.2f} [{b['min_s']:.2f}-{b['max_s']:.2f}] "
            f"| {row['ratio']:.2f} | "
            + "".join(f"{cell} | " for cell in extra(row))
            + f"{a['loss_last'][-1]:.5f} / {b['loss_last'][-1]:.5f} |"
        )
    return "\n".join(lines) + "\n"


def render_freed_memory(result: dict[str, Any]) -> str:
    """The two sides of ``freed_memory.py``: glibc's defaults and ``reuse_freed_memory``,
    with the peak RSS of each."""
    return _two_sides(
        result,
        ("default", "reuse"),
        ("glibc defaults", "reuse_freed_memory"),
        ("peak RSS GiB (defaults / reuse)",),
        lambda row: (f"{row['default']['peak_rss_gib']:.2f} / {row['reuse']['peak_rss_gib']:.2f}",),
        short=("defaults", "reuse"),
    )


def render_mixed_precision(result: dict[str, Any]) -> str:
    """The two sides of ``mixed_precision.py``: float32 and bfloat16 autocast, with the
    layout of the node features (sparse where the config sets ``data.sparse_features``)."""
    return _two_sides(
        result,
        ("float32", "amp"),
        ("float32", "amp"),
        ("features",),
        lambda row: ("sparse" if row.get("sparse_features") else "dense",),
    )


def render_sparse_features(result: dict[str, Any]) -> str:
    """The two sides of ``sparse_features.py``: dense and sparse CSR features, with their
    density."""
    return _two_sides(
        result,
        ("dense", "sparse"),
        ("dense", "sparse"),
        ("density",),
        lambda row: (f"{row['density']:.4f}",),
    )


RENDERERS = {
    "node_methods": render_node_methods,
    "freed_memory": render_freed_memory,
    "mixed_precision": render_mixed_precision,
    "sparse_features": render_sparse_features,
}


def render_readme(text: str, root: Path = HERE) -> str:
    """``text`` with every table block re-rendered from its results file (relative to
    ``root``)."""

    def block(match: re.Match) -> str:
        path = root / match["file"]
        result = json.loads(path.read_text())
        renderer = RENDERERS.get(result.get("benchmark"))
        if renderer is None:
            raise ValueError(f"{path}: no table renderer for benchmark {result.get('benchmark')!r}")
        return match.group(1) + renderer(result) + match.group(4)

    return _BLOCK.sub(block, text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if a table is stale")
    args = parser.parse_args(argv)
    text = README.read_text()
    rendered = render_readme(text)
    if args.check:
        if rendered != text:
            print(f"{README}: tables differ from the results files; run {Path(__file__).name}")
            return 1
        return 0
    README.write_text(rendered)
    return 0


if __name__ == "__main__":
    sys.exit(main())
