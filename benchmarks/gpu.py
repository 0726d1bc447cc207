"""GPU benchmark of the CuPy backend ("cuda"): needs a CUDA GPU and CuPy; says so and exits 0
without them.

Measures, on GPU 0:
  1. peak memory bandwidth: a large device-to-device copy (bytes read + written / time);
  2. the fused softmax / log-softmax / layer-norm kernels, forward and backward, as achieved
     bandwidth (the minimum bytes each must move / time) and as a fraction of that peak
     (issue 6's goal: >= 70%);
  3. the same ops in PyTorch CUDA in the same run, when torch with CUDA is importable;
  4. ``python -m autodiff.bench --backends cuda`` when that CLI exists.
Times are per call, medians of CUDA-event-timed batches of 10 calls after warm-up (see _time).

Usage:  python benchmarks/gpu.py [--repeat 50] [--json out.json] [--no-bench]
Paste the printed markdown under "## GPU" in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import warnings

import numpy as np

import autodiff as ad

SHAPES = [(4096, 1024), (8192, 4096), (32768, 768), (1024, 32768)]


def _time(fn, repeat: int, inner: int = 10) -> float:
    """Milliseconds per ``fn()`` on the current stream: the median over ``repeat`` CUDA-event
    timings of ``inner`` back-to-back calls, divided by ``inner``. Back to back, the GPU runs
    one call's kernels while the host launches the next, so a kernel longer than the host's
    launch overhead is timed alone (a single call between two events would add that overhead
    to it); on small inputs the figure is the launch-bound rate a program sees."""
    import cupy

    for _ in range(3):
        fn()
    times = []
    for _ in range(repeat):
        start, stop = cupy.cuda.Event(), cupy.cuda.Event()
        start.record()
        for _ in range(inner):
            fn()
        stop.record()
        stop.synchronize()
        times.append(cupy.cuda.get_elapsed_time(start, stop) / inner)
    return statistics.median(times)


def peak_bandwidth(repeat: int) -> float:
    """GB/s of a 1 GiB device-to-device copy (counting the read and the write)."""
    import cupy

    n = 1 << 28  # 256 Mi float32 = 1 GiB
    src = cupy.ones(n, dtype=cupy.float32)
    dst = cupy.empty_like(src)
    ms = _time(lambda: dst.data.copy_from_device(src.data, src.nbytes), repeat)
    return 2 * src.nbytes / ms / 1e6


def ours(shape, repeat: int) -> dict:
    """ms and bytes of each fused kernel at ``shape`` (float32)."""
    import cupy

    b = ad.device("cuda").backend
    x = cupy.random.standard_normal(shape, dtype=cupy.float32)
    gy = cupy.random.standard_normal(shape, dtype=cupy.float32)
    w = cupy.ones(shape[-1], dtype=cupy.float32)
    bias = cupy.zeros(shape[-1], dtype=cupy.float32)
    y = b.softmax(x, 1)
    ly = b.log_softmax(x, 1)
    _, mean, rstd = b.layer_norm(x, w, bias, 1, 1e-5)
    nb = x.nbytes
    return {
        "softmax fwd": (_time(lambda: b.softmax(x, 1), repeat), 2 * nb),
        "softmax bwd": (_time(lambda: b.softmax_backward(y, gy, 1), repeat), 3 * nb),
        "log_softmax fwd": (_time(lambda: b.log_softmax(x, 1), repeat), 2 * nb),
        "log_softmax bwd": (_time(lambda: b.log_softmax_backward(ly, gy, 1), repeat), 3 * nb),
        "layer_norm fwd": (_time(lambda: b.layer_norm(x, w, bias, 1, 1e-5), repeat), 2 * nb),
        # dx needs gy and x read, dx written; dw/db read gy and x once more (2 more passes)
        "layer_norm bwd": (_time(lambda: b.layer_norm_backward(gy, x, mean, rstd, w, 1),
                                 repeat), 3 * nb),
    }


def torch_times(shape, repeat: int) -> dict | None:
    try:
        import torch
    except ImportError:
        return None
    if not torch.cuda.is_available():
        return None
    import cupy

    f = torch.nn.functional
    x = torch.randn(shape, device="cuda")
    gy = torch.randn(shape, device="cuda")
    w = torch.ones(shape[-1], device="cuda", requires_grad=True)
    bias = torch.zeros(shape[-1], device="cuda", requires_grad=True)
    y = torch.softmax(x, 1)
    ly = torch.log_softmax(x, 1)
    xg = x.clone().requires_grad_()
    ln = f.layer_norm(xg, (shape[-1],), w, bias)
    aten = torch.ops.aten
    with warnings.catch_warnings():  # CuPy 14 deprecates ExternalStream for Stream.from_external
        warnings.simplefilter("ignore", DeprecationWarning)
        stream = cupy.cuda.ExternalStream(torch.cuda.current_stream().cuda_stream)
    with stream:
        return {
            "softmax fwd": _time(lambda: torch.softmax(x, 1), repeat),
            "softmax bwd": _time(lambda: aten._softmax_backward_data(gy, y, 1, x.dtype), repeat),
            "log_softmax fwd": _time(lambda: torch.log_softmax(x, 1), repeat),
            "log_softmax bwd": _time(lambda: aten._log_softmax_backward_data(gy, ly, 1, x.dtype),
                                     repeat),
            "layer_norm fwd": _time(lambda: f.layer_norm(x, (shape[-1],), w, bias), repeat),
            "layer_norm bwd": _time(lambda: torch.autograd.grad(ln, (xg, w, bias), gy,
                                                                retain_graph=True), repeat),
        }


def run_bench_cli() -> None:
    import importlib.util

    if importlib.util.find_spec("autodiff.bench.__main__") is None:
        print("\n(python -m autodiff.bench does not exist yet; skipped)")
        return
    print("\n## python -m autodiff.bench --backends cuda\n")
    r = subprocess.run([sys.executable, "-m", "autodiff.bench", "--backends", "cuda"],
                       capture_output=True, text=True, check=False, timeout=1800)
    print(r.stdout[-20000:] or r.stderr[-5000:])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=50)
    ap.add_argument("--json", help="write every figure to this JSON file")
    ap.add_argument("--no-bench", action="store_true", help="skip python -m autodiff.bench")
    ap.add_argument("--row-cache-bytes", type=int,
                    help="cache rows in shared memory up to this size (0: never; default: "
                         "the device's opt-in limit), to compare the row kernels' two paths")
    ap.add_argument("--no-torch", action="store_true", help="skip the PyTorch column")
    args = ap.parse_args(argv)
    if not ad.cuda.is_available():
        print(f"benchmarks/gpu.py needs a CUDA GPU: {ad.cuda.unavailable_reason()}")
        return 0
    import cupy

    if args.row_cache_bytes is not None:
        from autodiff.backends import cupy_backend

        cupy_backend.ROW_CACHE_BYTES = args.row_cache_bytes
    props = cupy.cuda.runtime.getDeviceProperties(0)
    name = props["name"].decode() if isinstance(props["name"], bytes) else props["name"]
    peak = peak_bandwidth(args.repeat)
    print(f"GPU: {name} (CuPy {cupy.__version__}, CUDA runtime "
          f"{cupy.cuda.runtime.runtimeGetVersion()}); peak copy bandwidth {peak:.0f} GB/s\n")
    print("| op | shape | ms | GB/s | % of peak | PyTorch ms | ours / PyTorch |")
    print("|---|---|---|---|---|---|---|")
    records = []
    for shape in SHAPES:
        mine = ours(shape, args.repeat)
        theirs = {} if args.no_torch else torch_times(shape, args.repeat) or {}
        for op, (ms, nbytes) in mine.items():
            gbs = nbytes / ms / 1e6
            t = theirs.get(op)
            print(f"| {op} | {shape[0]}x{shape[1]} | {ms:.3f} | {gbs:.0f} | "
                  f"{100 * gbs / peak:.0f}% | {'-' if t is None else f'{t:.3f}'} | "
                  f"{'-' if t is None else f'{ms / t:.2f}x'} |")
            records.append({"op": op, "shape": shape, "ms": ms, "gb_s": gbs,
                            "frac_peak": gbs / peak, "torch_ms": t})
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"gpu": name, "peak_gb_s": peak, "records": records}, fh, indent=1,
                      default=lambda o: o.tolist() if isinstance(o, np.ndarray) else str(o))
    if not args.no_bench:
        run_bench_cli()
    return 0


if __name__ == "__main__":
    sys.exit(main())
