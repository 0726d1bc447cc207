"""Benchmark the C++ kernels (autodiff._C via the "cpp" backend) against NumPy and PyTorch CPU.

Everything is measured in one run, so the ratios are meaningful on a shared machine even
when absolute numbers drift.  Times are the minimum over repetitions (interleaved between
implementations).  Limits: GEMM against the FMA peak measured before each size (the same
threads running independent FMA chains with no memory traffic, `_C._fma_peak`; on the Zen 3
here 2 cores x 2 FMA pipes x 8 lanes x 2 flop x clock, about 200 GFLOP/s; --peak-gflops
gives one instead), streaming ops against a memory bandwidth measured here (two threads
copying a 256 MiB buffer).

Usage (unset OpenBLAS overrides for a fair NumPy reference):
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/kernels.py
    python benchmarks/kernels.py --thresholds   # break-even sizes for cpp_backend.MIN_*
"""

from __future__ import annotations

import argparse
import platform
import subprocess
import threading
import time
from contextlib import nullcontext

import numpy as np

from autodiff import _C
from autodiff.backends.cpp_backend import CppBackend
from autodiff.backends.numpy_backend import NumpyBackend

try:
    import torch
except ImportError:  # PyTorch is optional: its columns are left out
    torch = None

CPP, REF = CppBackend(), NumpyBackend()


def best(fn, reps: int, min_time: float = 0.0) -> float:
    fn()
    ts = []
    t_end = time.perf_counter() + min_time
    while len(ts) < reps or time.perf_counter() < t_end:
        t = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t)
    return min(ts)


# Seconds to wait before each block of calls: OpenBLAS's idle worker threads spin (yielding)
# for 2^28 cycles, about 0.1 s, after each call; while they do, a 2-thread kernel of another
# library shares a core with one of them.  Measured here: our 1024^3 GEMM ran at 75-130
# GFLOP/s for up to 0.1 s after a NumPy matmul, 180 otherwise.
SETTLE = 0.25


def compare(fns: dict, reps: int, rounds: int = 3) -> dict:
    """Min time of each fn.  Each fn runs in a block of reps // rounds calls, after SETTLE
    seconds in which the previous library's spinning worker threads go to sleep, and the
    blocks rotate `rounds` times so that drift hits all of them alike."""
    out = {k: float("inf") for k in fns}
    per = max(1, reps // rounds)
    for _ in range(rounds):
        for k, f in fns.items():
            time.sleep(SETTLE)
            f()
            for _ in range(per):
                t = time.perf_counter()
                f()
                out[k] = min(out[k], time.perf_counter() - t)
    return out


def stream_bandwidth() -> float:
    """GB/s (read + write) of two threads copying halves of a 256 MiB buffer."""
    src = np.ones(64 << 20, np.float32)
    dst = np.empty_like(src)
    half = src.size // 2

    def copy():
        ts = [
            threading.Thread(
                target=np.copyto,
                args=(dst[i * half : (i + 1) * half], src[i * half : (i + 1) * half]),
            )
            for i in range(2)
        ]
        for t in ts:
            t.start()
        for t in ts:
            t.join()

    return 2 * src.nbytes / best(copy, 5) / 1e9


def read_bandwidth() -> float:
    """GB/s of a 2-thread read-only pass (autodiff._C.sum splits one long row over threads)."""
    src = np.ones(64 << 20, np.float32)
    return src.nbytes / best(lambda: _C.sum(src), 5) / 1e9


def machine() -> str:
    try:
        out = subprocess.run(["lscpu"], check=False, capture_output=True, text=True).stdout
        name = next(
            ln.split(":", 1)[1].strip() for ln in out.splitlines() if ln.startswith("Model name")
        )
    except (OSError, StopIteration):
        name = platform.processor()
    return name


def blas_info() -> str:
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "threadpoolctl not installed"
    return "; ".join(
        f"{i.get('internal_api')} {i.get('version')} {i.get('architecture')} "
        f"threads={i.get('num_threads')}"
        for i in threadpool_info()
        if i.get("user_api") == "blas"
    )


def row(name: str, times: dict, base: str = "numpy", extra: str = "") -> None:
    cells = "  ".join(f"{k} {v * 1e3:8.2f} ms" for k, v in times.items())
    ratios = "  ".join(f"{base}/{k} {times[base] / v:5.2f}x" for k, v in times.items() if k != base)
    print(f"{name:<28} {cells}  | {ratios} {extra}", flush=True)


def bench_gemm(nominal: float | None, reps: int) -> None:
    """GFLOP/s of the three libraries, each size against the FMA limit measured just before
    it (`_C._fma_peak`: the same threads running independent FMA chains, no memory), unless
    --peak-gflops names one."""
    print("\n## GEMM float32 (GFLOP/s; % of the FMA peak)")
    rng = np.random.default_rng(0)
    for n in (512, 1024, 2048):
        a = rng.standard_normal((n, n), dtype=np.float32)
        b = rng.standard_normal((n, n), dtype=np.float32)
        fns = {"cpp": lambda a=a, b=b: _C.matmul(a, b), "numpy": lambda a=a, b=b: np.matmul(a, b)}
        if torch is not None:
            ta, tb = torch.from_numpy(a), torch.from_numpy(b)
            fns["torch"] = lambda ta=ta, tb=tb: torch.matmul(ta, tb)
        time.sleep(SETTLE)
        peak = nominal or _C._fma_peak(0, 0.2)
        t = compare(fns, reps if n < 2048 else max(3, reps // 3))
        gf = {k: 2 * n**3 / v / 1e9 for k, v in t.items()}
        cells = "  ".join(f"{k} {g:6.1f} ({100 * g / peak:4.1f}%)" for k, g in gf.items())
        print(
            f"{n}^3  peak {peak:5.1f}  {cells}  | cpp/numpy {gf['cpp'] / gf['numpy']:.2f}x",
            flush=True,
        )


def bench_small_gemm(reps: int) -> None:
    """Small and skinny float32 GEMMs (attention heads, small linear layers, one sample
    through a layer: M = 1) at 1 and 2 threads: these pay per-call and packing overheads
    that the large ones amortise."""
    print("\n## small GEMM float32 (M x N x K; us per call)")
    rng = np.random.default_rng(3)

    def r(*shape):
        return rng.standard_normal(shape, dtype=np.float32)

    cases = {
        "32 x 64x64x32 q@k^T": (r(32, 64, 32), r(32, 64, 32).transpose(0, 2, 1)),
        "32 x 64x32x64 attn@v": (r(32, 64, 64), r(32, 64, 32)),
        "128x10x256 x@W^T": (r(128, 256), r(10, 256).T),
        "128x256x784 x@W^T": (r(128, 784), r(256, 784).T),
        "1x1024x1024 x@W": (r(1, 1024), r(1024, 1024)),
        "1x1024x1024 x@W^T": (r(1, 1024), r(1024, 1024).T),
        "1x4096x4096 x@W": (r(1, 4096), r(4096, 4096)),
        "4096x1x1024 A@v": (r(4096, 1024), r(1024, 1)),
        "4096x1x1024 A^T@v": (r(1024, 4096).T, r(1024, 1)),
    }
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # NumPy's BLAS keeps its own thread count
        threadpool_limits = None
    before = _C.get_num_threads()
    for threads in (1, 2):
        _C.set_num_threads(threads)
        if torch is not None:
            torch.set_num_threads(threads)
        limit = threadpool_limits(threads, "blas") if threadpool_limits else nullcontext()
        with limit:
            for name, (a, b) in cases.items():
                fns = {
                    "cpp": lambda a=a, b=b: _C.matmul(a, b),
                    "numpy": lambda a=a, b=b: np.matmul(a, b),
                }
                if torch is not None:
                    ta, tb = torch.from_numpy(a), torch.from_numpy(b)
                    fns["torch"] = lambda ta=ta, tb=tb: torch.matmul(ta, tb)
                t = compare(fns, 20 * reps)
                cells = "  ".join(f"{k} {v * 1e6:7.1f}" for k, v in t.items())
                print(
                    f"{name:<22} {threads} thr  {cells}  | cpp/numpy {t['cpp'] / t['numpy']:.2f}",
                    flush=True,
                )
    _C.set_num_threads(before)
    if torch is not None:
        torch.set_num_threads(before)


def bench_reductions(reps: int) -> None:
    """Sums along one axis: rows (inner == 1) and the column layout, whose narrow rows
    (a bias gradient, a mean over time steps) are where a reduction kernel shows its cost."""
    print("\n## sum along an axis, float32 (us per call)")
    rng = np.random.default_rng(4)
    for shape, axis in [((4096, 1024), 1), ((4096, 1024), 0), ((1024, 256), 0), ((4096, 96), 0),
                        ((8, 4096, 96), 1), ((32, 4096, 64), 1), ((16, 1024, 256), 1),
                        ((8, 4096, 32), 1)]:
        x = rng.standard_normal(shape, dtype=np.float32)
        fns = {"cpp": lambda x=x, a=axis: _C.sum(x, a), "numpy": lambda x=x, a=axis: x.sum(a)}
        if torch is not None:
            fns["torch"] = lambda t=torch.from_numpy(x), a=axis: t.sum(a)
        t = compare(fns, 10 * reps)
        cells = "  ".join(f"{k} {v * 1e6:7.1f}" for k, v in t.items())
        vs = f"  cpp/torch {t['cpp'] / t['torch']:.2f}" if torch is not None else ""
        print(f"{str(shape):>16} axis {axis}  {cells}  | cpp/numpy {t['cpp'] / t['numpy']:.2f}"
              f"{vs}", flush=True)


def bench_streaming(bw: float, reps: int) -> None:
    print(f"\n## 4096x1024 float32 fwd+bwd (ms; GB/s vs {bw:.1f} GB/s measured copy)")
    rng = np.random.default_rng(1)
    x = rng.standard_normal((4096, 1024), dtype=np.float32)
    gy = rng.standard_normal((4096, 1024), dtype=np.float32)
    w = rng.standard_normal(1024, dtype=np.float32)
    bias = rng.standard_normal(1024, dtype=np.float32)
    mb = x.nbytes
    two = np.array(2.0, np.float32)

    def softmax(be):
        y = be.softmax(x, 1)
        return be.softmax_backward(y, gy, 1)

    def layer_norm(be):
        _, mean, rstd = be.layer_norm(x, w, bias, 1, 1e-5)
        return be.layer_norm_backward(gy, x, mean, rstd, w, 1)

    def mul(be):
        be.mul(x, w)
        return be.mul_sum_to(gy, w, x.shape), be.mul_sum_to(gy, x, w.shape)  # as Mul's backward

    # (fn, arrays read, arrays written) of this shape; layer_norm's backward re-reads x
    cases = {
        "softmax": (softmax, 3, 2),
        "layer_norm": (layer_norm, 3, 2),
        "broadcast mul": (mul, 4, 2),
    }
    torch_fns = {}
    if torch is not None:
        tx, tg, tw, tb = (torch.from_numpy(v) for v in (x, gy, w, bias))
        aten = torch.ops.aten

        def t_softmax():
            y = torch.softmax(tx, 1)
            return aten._softmax_backward_data(tg, y, 1, torch.float32)

        def t_layer_norm():
            _, mean, rstd = aten.native_layer_norm(tx, [1024], tw, tb, 1e-5)
            return aten.native_layer_norm_backward(
                tg, tx, [1024], mean, rstd, tw, tb, [True, True, True]
            )

        def t_mul():
            _ = tx * tw
            return tg * tw, (tg * tx).sum(0)

        torch_fns = {"softmax": t_softmax, "layer_norm": t_layer_norm, "broadcast mul": t_mul}
    # The floor of an op that reads r and writes w arrays of this shape: r times the cost of
    # reading one plus w times the cost of writing one, both from the cheapest passes there
    # are, timed now with the same caches as the op: a streaming add (2 reads, 1 write with
    # non-temporal stores: no write-allocate) and a streaming scale (1 read, 1 write).  The
    # writes dominate: the inputs partly stay in the 32 MiB L3 across calls, the outputs go
    # to memory.
    t = compare({"add": lambda: _C.add(x, gy), "scale": lambda: _C.mul(x, two)}, reps)
    per_read = max(t["add"] - t["scale"], 0.0)
    per_write = max(2 * t["scale"] - t["add"], 0.0)
    print(
        f"floor: per 16.8 MB array, read {per_read * 1e3:.3f} ms, write {per_write * 1e3:.3f} ms"
        f" (from a 2-read 1-write streaming add, {t['add'] * 1e3:.3f} ms, and a 1-read 1-write"
        f" scale, {t['scale'] * 1e3:.3f} ms)"
    )
    for name, (fn, reads, writes) in cases.items():
        nbytes = (reads + writes) * mb
        fns = {"numpy": lambda fn=fn: fn(REF), "cpp": lambda fn=fn: fn(CPP)}
        if name in torch_fns:
            fns["torch"] = torch_fns[name]
        t = compare(fns, reps)
        floor = reads * per_read + writes * per_write
        extra = (
            f"cpp {nbytes / t['cpp'] / 1e9:5.1f} GB/s ({100 * nbytes / t['cpp'] / 1e9 / bw:3.0f}%)"
            f"  floor {floor * 1e3:.2f} ms (cpp at {t['cpp'] / floor:.2f}x it)"
        )
        if "torch" in t:
            extra += f"  cpp/torch time {t['cpp'] / t['torch']:.2f}"
            extra += f"  floor/torch {floor / t['torch']:.2f}"
        row(name, t, extra=extra)
    # forward alone, layer norm (the issue asks: no slower than PyTorch)
    fns = {
        "numpy": lambda: REF.layer_norm(x, w, bias, 1, 1e-5),
        "cpp": lambda: CPP.layer_norm(x, w, bias, 1, 1e-5),
    }
    if torch is not None:
        fns["torch"] = lambda: torch.ops.aten.native_layer_norm(tx, [1024], tw, tb, 1e-5)
    row("layer_norm forward", compare(fns, reps))


def bench_thresholds() -> None:
    """Per-call time of numpy vs cpp across sizes: where the C++ call starts to pay off."""
    print("\n## break-even sizes (us per call: numpy / cpp)")
    rng = np.random.default_rng(2)
    for n in (256, 1024, 4096, 16384, 32768, 65536, 262144):
        a = rng.standard_normal(n, dtype=np.float32)
        b = rng.standard_normal(n, dtype=np.float32)
        m = a.reshape(-1, 256) if n >= 256 else a[None]
        cells = []
        for name, fr, fc in [
            ("add", lambda a=a, b=b: a + b, lambda a=a, b=b: _C.add(a, b)),
            ("relu", lambda a=a: np.maximum(a, 0), lambda a=a: _C.relu(a)),
            ("exp", lambda a=a: np.exp(a), lambda a=a: _C.exp(a)),
            ("sum", lambda a=a: a.sum(), lambda a=a: _C.sum(a)),
            ("softmax", lambda m=m: REF.softmax(m, 1), lambda m=m: _C.softmax(m, 1)),
        ]:
            t = compare({"numpy": fr, "cpp": fc}, 200)
            cells.append(f"{name} {t['numpy'] * 1e6:7.1f}/{t['cpp'] * 1e6:7.1f}")
        print(f"{n:>7}  " + "  ".join(cells), flush=True)
    for n in (16, 32, 48, 64, 96, 128):
        a = rng.standard_normal((n, n), dtype=np.float32)
        t = compare({"numpy": lambda a=a: a @ a, "cpp": lambda a=a: _C.matmul(a, a)}, 200)
        print(f"matmul {n}^3: numpy {t['numpy'] * 1e6:7.1f} us  cpp {t['cpp'] * 1e6:7.1f} us")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--reps", type=int, default=15)
    p.add_argument(
        "--peak-gflops", type=float, default=None,
        help="GEMM's FMA limit; default: measured before each size (_C._fma_peak)",
    )
    p.add_argument("--thresholds", action="store_true")
    p.add_argument("--skip-gemm", action="store_true")
    args = p.parse_args()
    threads = _C.get_num_threads()
    if torch is not None:
        torch.set_num_threads(threads)
    print(
        f"machine: {machine()}; cpp: simd={_C.simd_level()} threads={threads}; "
        f"numpy {np.__version__} BLAS: {blas_info()}; "
        f"torch: {torch.__version__ if torch is not None else 'not installed'}"
    )
    if args.thresholds:
        bench_thresholds()
        return
    bw = stream_bandwidth()
    print(
        f"memory bandwidth: 2-thread copy {bw:.1f} GB/s (read+write counted, write-allocate "
        f"traffic not), 2-thread read-only {read_bandwidth():.1f} GB/s; FMA peak: "
        + (f"{args.peak_gflops:.0f} GFLOP/s (given)" if args.peak_gflops else
           f"{_C._fma_peak(0, 0.3):.1f} GFLOP/s measured ({threads} threads of independent "
           f"{'avx2' if _C.simd_level() == 'avx512' else _C.simd_level()} FMA chains; Zen 4 "
           "runs 512-bit FMAs at the same FLOP rate)")
    )
    if not args.skip_gemm:
        bench_gemm(args.peak_gflops, args.reps)
        bench_small_gemm(args.reps)
    bench_streaming(bw, args.reps)
    bench_reductions(args.reps)


if __name__ == "__main__":
    main()
