"""Training steps while other processes hold the cores: the C++ kernels' contention guard.

A parallel region ends when every thread of its team has arrived, so a worker thread that
waits for a core another process holds stalls every region for up to a scheduler time slice.
autodiff's kernels probe for this (csrc/dispatch.cpp) and drop to one thread while it lasts.
This starts ``--hogs`` busy processes and times one training step of ``train.py``'s models
on the cpp device with the guard on and off, on one thread, and PyTorch's, interleaved in
one process (ms per step: minimum and median over rounds).

    python benchmarks/contention.py                        # 1 hog, mlp and cnn
    python benchmarks/contention.py --hogs 0 1 2 --models mlp
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import pathlib
import sys
import time

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).parent))








def _hog() -> None:
    while True:
        pass


def _time(step, n: int) -> float:
    for _ in range(3):
        step()
    t0 = time.perf_counter()
    for _ in range(n):
        step()
    return (time.perf_counter() - t0) / n * 1e3


def run(model: str, hogs: int, rounds: int, steps: int, threads: int, late_us: int) -> dict:
    import torch
    import train

    import autodiff as ad
    from autodiff import _C

    torch.set_num_threads(threads)
    configs = {
        "guard": (train.make_step(ad, ad.nn, model, "cpp"), threads, True),
        "no guard": (train.make_step(ad, ad.nn, model, "cpp"), threads, False),
        "1 thread": (train.make_step(ad, ad.nn, model, "cpp"), 1, True),
        "torch": (train.make_step(torch, torch.nn, model, "cpu"), None, None),
    }
    procs = [mp.Process(target=_hog, daemon=True) for _ in range(hogs)]
    for p in procs:
        p.start()
    times: dict = {k: [] for k in configs}
    try:
        time.sleep(0.2)
        for _ in range(rounds):
            for name, (step, nt, guard) in configs.items():
                if nt is not None:
                    ad.set_num_threads(nt)
                    _C.set_contention_guard(guard, late_us)
                times[name].append(_time(step, steps))
    finally:
        for p in procs:
            p.terminate()
        _C.set_contention_guard(True)
    return {k: (min(v), float(np.median(v))) for k, v in times.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default="mlp,cnn")
    ap.add_argument("--hogs", type=int, nargs="+", default=[1])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--late-us", type=int, default=400, help="the guard's lateness threshold")
    args = ap.parse_args()
    print(f"{os.cpu_count()} CPUs; {args.threads} threads; ms per step, min / median of "
          f"{args.rounds} rounds")
    for hogs in args.hogs:
        for model in args.models.split(","):
            r = run(model, hogs, args.rounds, args.steps, args.threads, args.late_us)
            cells = "   ".join(f"{k} {lo:7.2f} / {med:7.2f}" for k, (lo, med) in r.items())
            print(f"{model:12s} hogs={hogs}   {cells}")


if __name__ == "__main__":
    main()
