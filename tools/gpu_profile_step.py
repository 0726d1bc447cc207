"""Where the host time of one training step on "cuda" goes, after warm-up (module loads and
kernel compiles excluded):  python3 tools/gpu_profile_step.py [model] [steps]

Prints ms per step (synchronized), then the cProfile table of ``steps`` steps by own time
and by cumulative time.
"""

from __future__ import annotations

import cProfile
import pstats
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

import cupy
import train

import autodiff as ad
import autodiff.nn as adnn


def main() -> None:
    model = sys.argv[1] if len(sys.argv) > 1 else "transformer"
    steps = int(sys.argv[2]) if len(sys.argv) > 2 else 30
    sync = cupy.cuda.Device().synchronize
    step = train.make_step(ad, adnn, model, "cuda", sync)
    for _ in range(5):
        step()
    t0 = time.perf_counter()
    for _ in range(steps):
        step()
    print(f"{model}: {(time.perf_counter() - t0) * 1e3 / steps:.2f} ms/step (synchronized)")
    prof = cProfile.Profile()
    prof.enable()
    for _ in range(steps):
        step()
    prof.disable()
    stats = pstats.Stats(prof)
    stats.sort_stats("tottime").print_stats(40)
    stats.sort_stats("cumtime").print_stats(40)


if __name__ == "__main__":
    main()
