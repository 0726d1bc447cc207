"""Softmax on 4096 x 1024 float32: forward, backward and a 3-array streaming add, with the
minor page faults each call takes, beside PyTorch (docs/benchmarks.md, ninth session).

    python benchmarks/streaming_faults.py
"""

from __future__ import annotations

import resource
import time

import numpy as np

from autodiff import _C

try:
    import torch
except ImportError:  # PyTorch is optional: its rows are left out
    torch = None


def run(name: str, fn, n: int = 50) -> None:
    fn()
    fn()
    faults0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    times = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    faults = (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults0) / n
    print(f"{name:22s} min {min(times) * 1e3:.3f} ms  median {np.median(times) * 1e3:.3f} ms"
          f"  page faults per call {faults:.0f}")


def main() -> None:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4096, 1024), dtype=np.float32)
    gy = rng.standard_normal((4096, 1024), dtype=np.float32)
    y = _C.softmax(x, 1)
    run("cpp softmax forward", lambda: _C.softmax(x, 1))
    run("cpp softmax backward", lambda: _C.softmax_backward(y, gy, 1))
    run("cpp add (3 arrays)", lambda: _C.add(x, gy))
    if torch is not None:
        tx, tg = torch.from_numpy(x), torch.from_numpy(gy)
        ty = torch.softmax(tx, 1)
        run("torch softmax forward", lambda: torch.softmax(tx, 1))
        run("torch softmax backward",
            lambda: torch.ops.aten._softmax_backward_data(tg, ty, 1, torch.float32))


if __name__ == "__main__":
    main()
