"""Softmax and layer norm, forward and backward, on the row lengths models use (5 and 10
classes, CLIP's 77 tokens, ViT's 197, 770, 1000 classes, 4095), beside PyTorch CPU in the
same run.

    python benchmarks/row_shapes.py [--reps 60] [--streaming]

Rows of 16 elements to 256 KiB take the software-pipelined row kernels, whatever their
length (csrc/kernels/row_pipeline.h), shorter ones the softmax family's row-in-registers
kernels; --streaming adds shapes of 60 MB, past the 32 MiB L3.
Prints ms per call (best of reps, in blocks that rotate between the libraries) and the
ratio cpp / PyTorch: below 1 is faster than PyTorch.
"""

from __future__ import annotations

import argparse

import numpy as np
from kernels import compare  # benchmarks/kernels.py: blocks rotating between libraries

from autodiff import _C

try:
    import torch
except ImportError:  # PyTorch is optional: the ratios are left out
    torch = None

CACHED = [(65536, 5), (65536, 10), (8192, 197), (16384, 77), (2048, 770), (2048, 1000),
          (1024, 4095), (8192, 192)]
STREAMING = [(75648, 197), (196608, 77), (16384, 1000)]


def cases(shape):
    """{op: (ours, PyTorch's or None)} on random float32 data of this shape."""
    rng = np.random.default_rng(0)
    n = shape[1]
    x = rng.standard_normal(shape, dtype=np.float32)
    gy = rng.standard_normal(shape, dtype=np.float32)
    w = rng.standard_normal(n, dtype=np.float32)
    b = rng.standard_normal(n, dtype=np.float32)
    y = _C.softmax(x, 1)
    _, mean, rstd = _C.layer_norm(x, w, b, 1, 1e-5)
    ours = {
        "softmax": lambda: _C.softmax(x, 1),
        "softmax bwd": lambda: _C.softmax_backward(y, gy, 1),
        "layer_norm": lambda: _C.layer_norm(x, w, b, 1, 1e-5),
        "layer_norm bwd": lambda: _C.layer_norm_backward(gy, x, mean, rstd, w, 1),
    }
    if torch is None:
        return {k: (f, None) for k, f in ours.items()}
    aten = torch.ops.aten
    tx, tg, tw, tb, ty = (torch.from_numpy(v) for v in (x, gy, w, b, y))
    _, tm, tr = aten.native_layer_norm(tx, [n], tw, tb, 1e-5)
    theirs = {
        "softmax": lambda: torch.softmax(tx, 1),
        "softmax bwd": lambda: aten._softmax_backward_data(tg, ty, 1, torch.float32),
        "layer_norm": lambda: aten.native_layer_norm(tx, [n], tw, tb, 1e-5),
        "layer_norm bwd": lambda: aten.native_layer_norm_backward(
            tg, tx, [n], tm, tr, tw, tb, [True, True, True]
        ),
    }
    return {k: (ours[k], theirs[k]) for k in ours}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--reps", type=int, default=60)
    p.add_argument("--streaming", action="store_true")
    args = p.parse_args()
    threads = _C.get_num_threads()
    if torch is not None:
        torch.set_num_threads(threads)
    print(f"float32, {threads} threads, SIMD {_C.simd_level()}; ms per call, cpp / torch")
    shapes = CACHED + (STREAMING if args.streaming else [])
    for shape in shapes:
        row = []
        for op, (ours, theirs) in cases(shape).items():
            fns = {"cpp": ours} | ({"torch": theirs} if theirs else {})
            t = compare(fns, args.reps)
            ratio = f" ({t['cpp'] / t['torch']:.2f})" if "torch" in t else ""
            row.append(f"{op} {t['cpp'] * 1e3:.3f}{ratio}")
        print(f"{shape[0]:>6} x {shape[1]:<5} " + "  ".join(row))


if __name__ == "__main__":
    main()
