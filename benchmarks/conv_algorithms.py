"""3x3 stride-1 conv2d forward: the direct (implicit-GEMM) kernel against Winograd F(2x2, 3x3)
(`_C.set_conv_winograd`, csrc/kernels/conv_winograd.cpp), with PyTorch CPU beside them when
installed. The three run interleaved in rounds in one process (min over rounds), so the
ratios hold on a shared machine; the error column is each result's max difference from a
float64 convolution over the largest magnitude.

    python benchmarks/conv_algorithms.py                 # threads from AUTODIFF_NUM_THREADS
    AUTODIFF_NUM_THREADS=1 python benchmarks/conv_algorithms.py --rounds 5
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from autodiff import _C

# (N, C, H, W) -> K, padding 1: CIFAR-size layers, a ResNet stage, and small inputs
SHAPES = [((64, 3, 32, 32), 32), ((64, 16, 8, 8), 32), ((64, 32, 16, 16), 64),
          ((64, 64, 8, 8), 128), ((32, 64, 56, 56), 64), ((8, 128, 28, 28), 128),
          ((8, 256, 14, 14), 256)]


def _best(fn, reps: int) -> float:
    best = float("inf")
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best * 1e3


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--reps", type=int, default=5)
    args = parser.parse_args(argv)
    try:
        import torch

        torch.set_num_threads(_C.get_num_threads())
    except ImportError:
        torch = None
    rng = np.random.default_rng(0)
    before = _C.conv_winograd_mode()
    print(f"threads {_C.get_num_threads()}, SIMD {_C.simd_level()}; ms per call (min of "
          f"{args.rounds} rounds x {args.reps})")
    print(f"{'(N, C, H, W) -> K':26s} {'direct':>8s} {'winograd':>9s} {'torch':>8s} "
          f"{'wino/direct':>11s} {'wino/torch':>10s} {'err direct':>10s} {'err wino':>9s}")
    try:
        for shape, k in SHAPES:
            best, errs = _measure(shape, k, rng, torch, args.rounds, args.reps)
            tt = best[2] if torch is not None else float("nan")
            print(f"{str(shape) + ' -> ' + str(k):26s} {best[0]:8.2f} {best[1]:9.2f} {tt:8.2f} "
                  f"{best[1] / best[0]:11.2f} {best[1] / tt:10.2f} {errs[0]:10.1e} "
                  f"{errs[1]:9.1e}")
    finally:
        _C.set_conv_winograd(before)


def _measure(shape, k, rng, torch, rounds: int, reps: int):
    """([direct, winograd, torch] ms, [direct, winograd] relative errors) for one layer."""
    x = rng.standard_normal(shape, dtype=np.float32)
    w = (rng.standard_normal((k, shape[1], 3, 3)) * 0.1).astype(np.float32)
    b = rng.standard_normal(k).astype(np.float32)

    def ours(mode):
        _C.set_conv_winograd(mode)
        return _C.conv2d(x, w, b, (1, 1), (1, 1, 1, 1), (1, 1), 1)

    ref = _reference(x, w, b)
    errs = [np.abs(ours(m) - ref).max() / np.abs(ref).max() for m in (0, 2)]
    calls = [lambda: ours(0), lambda: ours(2)]
    if torch is not None:
        tx, tw, tb = torch.tensor(x), torch.tensor(w), torch.tensor(b)
        calls.append(lambda: torch.nn.functional.conv2d(tx, tw, tb, padding=1))
    runs = [[_best(call, reps) for call in calls] for _ in range(rounds)]
    return [min(c) for c in zip(*runs)], errs


def _reference(x, w, b):
    """The float64 convolution (padding 1) by 9 shifted matrix products."""
    n, _, h, wd = x.shape
    xp = np.pad(x.astype(np.float64), ((0, 0), (0, 0), (1, 1), (1, 1)))
    out = np.zeros((n, w.shape[0], h, wd))
    for i in range(3):
        for j in range(3):
            out += np.einsum("kc,nchw->nkhw", w[:, :, i, j].astype(np.float64),
                             xp[:, :, i:i + h, j:j + wd], optimize=True)
    return out + b.astype(np.float64)[:, None, None]


if __name__ == "__main__":
    main()
