"""Per-op overhead: microseconds per forward+backward of tiny graphs, beside PyTorch CPU.

    python benchmarks/overhead.py [--devices numpy,cpp] [--repeat 2000]

Graphs: (x*y).sum().backward() on shape (16,); a 10-op elementwise chain; a 64x64
matmul + relu + sum. PyTorch is timed in the same run when installed (1 thread each,
since these graphs are too small to thread).
"""

from __future__ import annotations

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _time(fn, repeat: int, rounds: int = 5) -> float:
    """Best-of-rounds mean time per call in microseconds."""
    for _ in range(max(repeat // 10, 10)):
        fn()
    results = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        for _ in range(repeat):
            fn()
        results.append((time.perf_counter() - t0) / repeat * 1e6)
    return min(results)


def graphs(lib, make):
    """The three benchmark graphs for a torch-like module ``lib``; ``make`` builds leaves."""
    x, y = make((16,)), make((16,))
    a, w = make((64, 64)), make((64, 64))

    def tiny():
        (x * y).sum().backward()

    def chain():
        h = x
        for _ in range(5):
            h = h * y + x
        h.sum().backward()

    def matmul_relu():
        (a @ w).relu().sum().backward()

    return {"tiny (x*y).sum()": tiny, "10-op elementwise chain": chain,
            "64x64 matmul+relu+sum": matmul_relu}


def bench_autodiff(device: str, repeat: int) -> dict:
    import autodiff as ad

    def make(shape):
        return ad.randn(*shape, device=device, requires_grad=True)

    return {k: _time(fn, repeat) for k, fn in graphs(ad, make).items()}


def bench_torch(repeat: int) -> dict | None:
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(1)

    def make(shape):
        return torch.randn(*shape, requires_grad=True)

    return {k: _time(fn, repeat) for k, fn in graphs(torch, make).items()}


def main(argv=None) -> None:
    import autodiff as ad

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--devices", default=",".join(d for d in ad.available_devices()
                                                  if not d.startswith("cuda")))
    p.add_argument("--repeat", type=int, default=2000)
    args = p.parse_args(argv)
    rows = {d: bench_autodiff(d, args.repeat) for d in args.devices.split(",")}
    ref = bench_torch(args.repeat)
    names = list(next(iter(rows.values())))
    head = f"{'graph':<26}" + "".join(f"{d + ' us':>12}" for d in rows)
    if ref:
        head += f"{'torch us':>12}" + "".join(f"{d + '/torch':>13}" for d in rows)
    print(head)
    for n in names:
        line = f"{n:<26}" + "".join(f"{rows[d][n]:>12.1f}" for d in rows)
        if ref:
            line += f"{ref[n]:>12.1f}" + "".join(f"{rows[d][n] / ref[n]:>13.2f}" for d in rows)
        print(line)
    if not ref:
        print("(PyTorch not installed: no reference column)")


if __name__ == "__main__":
    main()
