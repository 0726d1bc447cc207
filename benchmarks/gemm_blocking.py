"""GEMM probes behind docs/benchmarks.md's ninth-session notes.

    python benchmarks/gemm_blocking.py spin                  # OpenBLAS's idle threads vs our GEMM
    python benchmarks/gemm_blocking.py sweep [--threads 2] [--sizes 512,1024,2048]
                                             [--blockings 144x512,144x256,72x512]

``spin`` times 6 single calls of our 1024^3 GEMM alone, right after a NumPy matmul, and 50 ms
after one (OpenBLAS's workers spin for about 0.1 s after each call). ``sweep`` gives the best
GFLOP/s of each MC x KC blocking (3 rounds of 4 calls, 0.15 s apart) beside NumPy's.
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


def sweep(threads: int, sizes: list[int], blockings: list[tuple[int, int]]) -> None:
    from threadpoolctl import threadpool_limits

    _C.set_num_threads(threads)
    rng = np.random.default_rng(0)

    def best(fn, reps: int = 4) -> float:
        fn()
        return min(_once(fn) for _ in range(reps))

    with threadpool_limits(threads):
        for n in sizes:
            a, b = (rng.standard_normal((n, n), dtype=np.float32) for _ in range(2))
            flop = 2 * n**3 / 1e9
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
            print(f"{n}^3  {cells}", flush=True)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("probe", choices=["spin", "sweep"])
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--sizes", default="512,1024,2048")
    p.add_argument("--blockings", default="144x512,144x384,144x256,72x512,168x256")
    args = p.parse_args()
    if args.probe == "spin":
        spin()
    else:
        blockings = [tuple(int(v) for v in c.split("x")) for c in args.blockings.split(",")]
        sweep(args.threads, [int(s) for s in args.sizes.split(",")], blockings)


if __name__ == "__main__":
    main()
