"""nn layer benchmark: conv2d, LSTM and a transformer encoder layer, forward + backward, on
numpy, cpp (when built) and PyTorch CPU (when installed), in one run.

    python benchmarks/layers.py [--repeat 5] [--only conv,lstm,transformer] [--threads 2]

Prints the median time per forward+backward in ms and the ratio to PyTorch (run with
--threads threads; match it with OPENBLAS_NUM_THREADS / AUTODIFF_NUM_THREADS for ours: on a
busy machine multi-threaded BLAS spin-waits and times explode).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

import numpy as np

# This checkout's autodiff, not whichever one an editable install points at.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import autodiff as ad
from autodiff import nn


# Seconds to wait before timing a library: OpenBLAS's idle workers (the numpy backend's, and
# PyTorch's OpenMP team) spin for up to ~0.1 s after a call, and while they do, a 2-thread
# kernel of the next library shares a core with one of them (the cpp conv2d read 8-16 ms
# right after the numpy backend's run, 4.4 ms otherwise).
SETTLE = 0.5


def _time(fn, repeat: int) -> float:
    time.sleep(SETTLE)
    fn()  # warm-up
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1e3


def conv_case(lib, dev):
    m = lib.nn.Conv2d(16, 16, 3, padding=1)
    x = np.random.default_rng(0).standard_normal((32, 16, 32, 32)).astype(np.float32)
    return m, x, lambda m, x: m(x)


def lstm_case(lib, dev):
    m = lib.nn.LSTM(256, 256)
    x = np.random.default_rng(0).standard_normal((64, 32, 256)).astype(np.float32)
    return m, x, lambda m, x: m(x)[0]


def transformer_case(lib, dev):
    m = lib.nn.TransformerEncoderLayer(128, 4, dim_feedforward=512, dropout=0.0,
                                       batch_first=True)
    x = np.random.default_rng(0).standard_normal((16, 64, 128)).astype(np.float32)
    return m, x, lambda m, x: m(x)


CASES = {"conv": ("conv2d (32,16,32,32) 3x3 16->16", conv_case),
         "lstm": ("LSTM seq 64 batch 32 hidden 256", lstm_case),
         "transformer": ("TransformerEncoderLayer b16 s64 d128 h4", transformer_case)}


class _AD:
    nn = nn


def _train_step(m, xt, fwd):
    """Forward + backward of module m on input xt (either library), grads cleared after."""

    def step():
        out = fwd(m, xt)
        out.sum().backward()
        m.zero_grad()
        xt.grad = None

    return step


def run_ours(case, dev: str, repeat: int) -> float:
    with ad.default_device(dev):
        m, x, fwd = case(_AD, dev)
    m.to(dev)
    xt = ad.tensor(x, device=dev, requires_grad=True)
    return _time(_train_step(m, xt, fwd), repeat)


def run_torch(case, repeat: int, threads: int) -> float | None:
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(threads)
    m, x, fwd = case(torch, "cpu")
    xt = torch.tensor(x, requires_grad=True)
    return _time(_train_step(m, xt, fwd), repeat)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--only", default=",".join(CASES))
    ap.add_argument("--threads", type=int, default=2, help="PyTorch's intra-op threads")
    args = ap.parse_args()
    devices = ["numpy"] + (["cpp"] if "cpp" in ad.available_devices() else [])
    print(f"{'case':42s} {'backend':8s} {'fwd+bwd ms':>11s} {'vs torch':>9s}")
    for key in args.only.split(","):
        title, case = CASES[key]
        ref = run_torch(case, args.repeat, args.threads)
        for dev in devices:
            ms = run_ours(case, dev, args.repeat)
            ratio = f"{ms / ref:8.2f}x" if ref else "      n/a"
            print(f"{title:42s} {dev:8s} {ms:11.1f} {ratio}")
        if ref is not None:
            print(f"{title:42s} {'torch':8s} {ref:11.1f}     1.00x")


if __name__ == "__main__":
    main()
