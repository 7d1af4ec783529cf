"""Dense vs blockwise (chunked) InfoNCE: value, gradient and peak memory.

Each case runs in its own process so that peak memory is its own: on CPU the resident-set
high-water mark (``VmHWM``) above the process's baseline after making the inputs, on CUDA
``torch.cuda.max_memory_allocated`` above the inputs. Dense needs three ``N x N`` matrices
(plus their exp) in memory; chunked needs ``O(N * chunk)``. A dense case that would not fit in
memory is skipped with the estimate.

    python benchmarks/info_nce_memory.py --sizes 20000 50000 --dim 128 --chunk 1024 --device cpu
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parents[1]


def _vm_hwm_bytes() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return 0


def _reset_hwm() -> None:
    # Writing 5 to clear_refs resets the peak RSS counter (Linux >= 4.0).
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass


def run_case(n: int, dim: int, chunk: int | None, device: str, grads_out: str) -> dict:
    from graphssl.objectives import info_nce

    dev = torch.device(device)
    g = torch.Generator(device="cpu").manual_seed(0)
    z1 = torch.randn(n, dim, generator=g).to(dev).requires_grad_(True)
    z2 = torch.randn(n, dim, generator=g).to(dev).requires_grad_(True)
    if dev.type == "cuda":
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated()
    else:
        _reset_hwm()
        base = _vm_hwm_bytes()
    t0 = time.perf_counter()
    loss = info_nce(z1, z2, 0.5, chunk_size=chunk)
    loss.backward()
    if dev.type == "cuda":
        torch.cuda.synchronize()
        peak = torch.cuda.max_memory_allocated() - base
    else:
        peak = _vm_hwm_bytes() - base
    seconds = time.perf_counter() - t0
    torch.save({"z1": z1.grad.cpu(), "z2": z2.grad.cpu()}, grads_out)
    return {
        "n": n,
        "dim": dim,
        "chunk": chunk,
        "device": device,
        "loss": loss.item(),
        "peak_bytes": peak,
        "seconds": seconds,
    }


def _child(n, dim, chunk, device, grads_out) -> dict:
    cmd = [
        sys.executable,
        __file__,
        "--child",
        str(n),
        str(dim),
        str(chunk or 0),
        device,
        grads_out,
    ]
    env = dict(os.environ, PYTHONPATH=f"{REPO}{os.pathsep}{os.environ.get('PYTHONPATH', '')}")
    out = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if out.returncode != 0:
        return {"n": n, "chunk": chunk, "error": out.stderr.strip().splitlines()[-1:]}
    return json.loads(out.stdout.strip().splitlines()[-1])


def _available_bytes(device: str) -> int:
    if device.startswith("cuda"):
        free, _ = torch.cuda.mem_get_info()
        return free
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemAvailable:"):
            return int(line.split()[1]) * 1024
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "--child":
        n, dim, chunk, device, grads_out = argv[1:6]
        res = run_case(int(n), int(dim), int(chunk) or None, device, grads_out)
        print(json.dumps(res))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[20000, 50000])
    parser.add_argument("--dim", type=int, default=128)
    parser.add_argument("--chunk", type=int, default=1024)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--out", default=None, help="JSON results file")
    args = parser.parse_args(argv)
    out_path = Path(
        args.out
        or REPO / "benchmarks" / "results" / f"info_nce_memory_{args.device.split(':')[0]}.json"
    )
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.sizes:
            dense_need = 4 * 4 * n * n  # three N x N similarity/exp matrices + a temporary, fp32
            chunked = _child(n, args.dim, args.chunk, args.device, f"{tmp}/c{n}.pt")
            row = {"n": n, "dim": args.dim, "chunk": args.chunk, "chunked": chunked}
            if dense_need < 0.8 * _available_bytes(args.device):
                # chunk_size=N: one block, the N x N similarities kept (dense)
                dense = _child(n, args.dim, n, args.device, f"{tmp}/d{n}.pt")
                row["dense"] = dense
                if "error" not in dense and "error" not in chunked:
                    gd, gc = torch.load(f"{tmp}/d{n}.pt"), torch.load(f"{tmp}/c{n}.pt")
                    row["loss_abs_diff"] = abs(dense["loss"] - chunked["loss"])
                    row["grad_max_abs_diff"] = max(
                        float((gd[k] - gc[k]).abs().max()) for k in ("z1", "z2")
                    )
                    row["grad_max_abs"] = max(float(gd[k].abs().max()) for k in ("z1", "z2"))
            else:
                row["dense"] = {
                    "skipped": f"needs ~{dense_need / 2**30:.0f} GiB, "
                    f"{_available_bytes(args.device) / 2**30:.0f} GiB available"
                }
            rows.append(row)
            _print_row(row)
    env = {
        "device": args.device,
        "torch": torch.__version__,
        "machine": platform.machine(),
        "processor": platform.processor(),
        "cpus": os.cpu_count(),
    }
    if args.device.startswith("cuda"):
        env["cuda_device"] = torch.cuda.get_device_name()
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_text(json.dumps({"environment": env, "rows": rows}, indent=2))
    print(f"wrote {out_path}")
    return 0


def _print_row(row: dict) -> None:
    gib = 2**30
    c, d = row["chunked"], row["dense"]
    line = f"N={row['n']:>6} d={row['dim']} chunked(chunk={row['chunk']}): "
    line += (
        f"peak {c['peak_bytes'] / gib:.2f} GiB, {c['seconds']:.1f} s"
        if "peak_bytes" in c
        else f"error {c.get('error')}"
    )
    if "peak_bytes" in d:
        line += f" | dense: peak {d['peak_bytes'] / gib:.2f} GiB, {d['seconds']:.1f} s"
        line += (
            f" | |loss diff| {row['loss_abs_diff']:.2e}, max |grad diff| "
            f"{row['grad_max_abs_diff']:.2e} (max |grad| {row['grad_max_abs']:.2e})"
        )
    else:
        line += f" | dense: {d.get('skipped') or d.get('error')}"
    print(line, flush=True)


if __name__ == "__main__":
    sys.exit(main())
