"""Time the C++ kernels at every SIMD level this CPU supports, and PyTorch CPU, in one run.

Each kernel is called through `autodiff._C` (no autograd), switching the level with
`_C.set_simd` between repetitions, so the levels see the same machine load; the figure is
the best of `--rounds` rounds of the 25th percentile of `--reps` calls.  Ratios are against
the first level listed (avx2 on x86) and, for the ops where both have one, PyTorch's
fused forward+backward.

Usage:
    python benchmarks/simd_levels.py [--threads 2] [--levels avx2,avx512]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import numpy as np

from autodiff import _C

try:
    import torch
except ImportError:  # PyTorch is optional: its column is left out
    torch = None

Fn = Callable[[], object]


def quartile_ms(fn: Fn, reps: int) -> float:
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return sorted(times)[len(times) // 4] * 1e3


def cases(rng: np.random.Generator) -> dict[str, tuple[Fn, Fn | None]]:
    """Name -> (the cpp call, PyTorch's equivalent or None)."""
    x = rng.standard_normal((4096, 1024), dtype=np.float32)
    gy = rng.standard_normal((4096, 1024), dtype=np.float32)
    w, b, v = (rng.standard_normal(1024, dtype=np.float32) for _ in range(3))
    flat = rng.standard_normal(1 << 20, dtype=np.float32)

    def softmax() -> None:
        _C.softmax_backward(_C.softmax(x, 1), gy, 1)

    def log_softmax() -> None:
        _C.log_softmax_backward(_C.log_softmax(x, 1), gy, 1)

    def layer_norm() -> None:
        _, mean, rstd = _C.layer_norm(x, w, b, 1, 1e-5)
        _C.layer_norm_backward(gy, x, mean, rstd, w, 1)

    out: dict[str, tuple[Fn, Fn | None]] = {
        "softmax fwd+bwd 4096x1024": (softmax, None),
        "log_softmax fwd+bwd": (log_softmax, None),
        "layer_norm fwd+bwd (affine)": (layer_norm, None),
        "layer_norm forward": (lambda: _C.layer_norm(x, w, b, 1, 1e-5), None),
        "broadcast mul 4096x1024 * 1024": (lambda: _C.mul(x, v), None),
        "exp 1M": (lambda: _C.exp(flat), None),
        "tanh 1M": (lambda: _C.tanh(flat), None),
        "sigmoid 1M": (lambda: _C.sigmoid(flat), None),
        "gelu 1M": (lambda: _C.gelu(flat), None),
        "gelu backward 1M": (lambda: _C.gelu_backward(flat, flat), None),
        "sum over rows 4096x1024": (lambda: _C.sum(x, (1,), False), None),
        "var over rows": (lambda: _C.var(x, (1,), 1, False), None),
        "sum over columns": (lambda: _C.sum(x, (0,), False), None),
    }
    if torch is None:
        return out
    tx = torch.from_numpy(x).requires_grad_()
    tgy = torch.from_numpy(gy)
    tw, tb = (torch.from_numpy(a).requires_grad_() for a in (w, b))
    tv, tflat = torch.from_numpy(v), torch.from_numpy(flat)
    tflat_grad = tflat.clone().requires_grad_()
    fn = torch.nn.functional
    grad = torch.autograd.grad  # (not .backward(), which would add into .grad: one more pass)
    torch_fns: dict[str, Fn] = {
        "softmax fwd+bwd 4096x1024": lambda: grad(torch.softmax(tx, 1), tx, tgy),
        "log_softmax fwd+bwd": lambda: grad(torch.log_softmax(tx, 1), tx, tgy),
        "layer_norm fwd+bwd (affine)": lambda: grad(fn.layer_norm(tx, (1024,), tw, tb),
                                                    (tx, tw, tb), tgy),
        "layer_norm forward": lambda: fn.layer_norm(tx.detach(), (1024,), tw.detach(), tb.detach()),
        "broadcast mul 4096x1024 * 1024": lambda: tx.detach() * tv,
        "exp 1M": lambda: torch.exp(tflat),
        "tanh 1M": lambda: torch.tanh(tflat),
        "sigmoid 1M": lambda: torch.sigmoid(tflat),
        "gelu 1M": lambda: fn.gelu(tflat),
        "gelu backward 1M": lambda: grad(fn.gelu(tflat_grad), tflat_grad, tflat),
        "sum over rows 4096x1024": lambda: tx.detach().sum(1),
        "var over rows": lambda: tx.detach().var(1),
        "sum over columns": lambda: tx.detach().sum(0),
    }
    return {name: (cpp, torch_fns.get(name)) for name, (cpp, _) in out.items()}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--levels", default=",".join(lv for lv in _C.supported_simd_levels()
                                                 if lv != "scalar"))
    p.add_argument("--reps", type=int, default=20)
    p.add_argument("--rounds", type=int, default=5)
    args = p.parse_args()
    levels = args.levels.split(",")
    _C.set_num_threads(args.threads)
    if torch is not None:
        torch.set_num_threads(args.threads)
    print(f"SIMD levels {', '.join(levels)} (best: {_C.best_simd_level()}), {args.threads} "
          f"threads, float32; ms, best of {args.rounds} rounds")
    head = "".join(f"{lv:>10}" for lv in levels)
    ratios = "".join(f"{lv + '/' + levels[0]:>14}" for lv in levels[1:])
    print(f"{'':32}{head}{'torch':>10}{ratios}{'best/torch':>12}")
    before = _C.simd_level()
    try:
        for name, (cpp, ref) in cases(np.random.default_rng(0)).items():
            ms = {lv: float("inf") for lv in levels}
            ref_ms = float("inf")
            for _ in range(args.rounds):
                for lv in levels:
                    _C.set_simd(lv)
                    ms[lv] = min(ms[lv], quartile_ms(cpp, args.reps))
                if ref is not None:
                    ref_ms = min(ref_ms, quartile_ms(ref, args.reps))
            cols = "".join(f"{ms[lv]:10.3f}" for lv in levels)
            rel = "".join(f"{ms[lv] / ms[levels[0]]:14.2f}" for lv in levels[1:])
            has_ref = ref is not None
            tcol = f"{ref_ms:10.3f}" if has_ref else f"{'':10}"
            vs = f"{min(ms.values()) / ref_ms:12.2f}" if has_ref else ""
            print(f"{name:32}{cols}{tcol}{rel}{vs}")
    finally:
        _C.set_simd(before)


if __name__ == "__main__":
    main()
