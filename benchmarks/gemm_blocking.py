"""GEMM probes behind docs/benchmarks.md's ninth-session notes.

    python benchmarks/gemm_blocking.py spin                  # OpenBLAS's idle threads vs our GEMM
    python benchmarks/gemm_blocking.py sweep [--threads 2] [--sizes 1024,2048,768x768x3072]
                                             [--blockings 48x1024,144x512,72x1024]

``spin`` times 6 single calls of our 1024^3 GEMM alone, right after a NumPy matmul, and 50 ms
after one (OpenBLAS's workers spin for about 0.1 s after each call). ``sweep`` gives the best
GFLOP/s of each MC x KC blocking (3 rounds of 4 calls, 0.15 s apart) beside NumPy's, for
sizes n (n^3) or M x N x K.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from autodiff import _C


def _once(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def spin() -> None:
    n = 1024
    rng = np.random.default_rng(0)
    a, b = (rng.standard_normal((n, n), dtype=np.float32) for _ in range(2))
    flop = 2 * n**3 / 1e9
    ours = lambda: _C.matmul(a, b)
    for _ in range(3):
        time.sleep(0.3)
        print("ours alone        ", [round(flop / _once(ours)) for _ in range(6)])
        a @ b
        print("ours after NumPy  ", [round(flop / _once(ours)) for _ in range(6)])
        a @ b
        time.sleep(0.05)
        print("ours NumPy + 50 ms", [round(flop / _once(ours)) for _ in range(6)])
        ours()
        print("NumPy after ours  ", [round(flop / _once(lambda: a @ b)) for _ in range(6)])


def sweep(threads: int, sizes: list[tuple[int, int, int]],
          blockings: list[tuple[int, int]]) -> None:
    from threadpoolctl import threadpool_limits

    _C.set_num_threads(threads)
    rng = np.random.default_rng(0)

    def best(fn, reps: int = 4) -> float:
        fn()
        return min(_once(fn) for _ in range(reps))

    with threadpool_limits(threads):
        for m, n, k in sizes:
            a = rng.standard_normal((m, k), dtype=np.float32)
            b = rng.standard_normal((k, n), dtype=np.float32)
            flop = 2 * m * n * k / 1e9
            res: dict = {c: [] for c in blockings}
            res["numpy"] = []
            for _ in range(3):
                for mc, kc in blockings:
                    _C._set_gemm_blocking(mc, kc, 0)
                    time.sleep(0.15)
                    res[(mc, kc)].append(flop / best(lambda a=a, b=b: _C.matmul(a, b)))
                time.sleep(0.15)
                res["numpy"].append(flop / best(lambda a=a, b=b: a @ b))
            _C._set_gemm_blocking(0, 0, 0)
            cells = "  ".join(f"{k if k == 'numpy' else f'{k[0]}x{k[1]}'}: {max(v):.1f}"
                              for k, v in res.items())
            print(f"{m}x{n}x{k}  {cells}", flush=True)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("probe", choices=["spin", "sweep"])
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--sizes", default="1024,2048,4096x1024x1024,768x768x3072")
    p.add_argument("--blockings", default="48x1024,72x1024,144x512,48x512")
    args = p.parse_args()
    if args.probe == "spin":
        spin()
    else:
        blockings = [tuple(int(v) for v in c.split("x")) for c in args.blockings.split(",")]
        sizes = [tuple(int(v) for v in s.split("x")) if "x" in s else (int(s),) * 3
                 for s in args.sizes.split(",")]
        sweep(args.threads, sizes, blockings)


if __name__ == "__main__":
    main()
