"""Host time per call (µs) of the CuPy backend's common operations, beside CuPy's and
PyTorch's own, on the small arrays of a small model (the GPU is never the bottleneck
here): each op is called back to back without synchronizing, after warm-up.

    python3 tools/gpu_host_overhead.py
"""

from __future__ import annotations

import time

import cupy

import autodiff as ad


def per_call_us(fn, n=2000) -> float:
    for _ in range(50):
        fn()
    cupy.cuda.Device().synchronize()
    t0 = time.perf_counter()
    for _ in range(n):
        fn()
    t = time.perf_counter() - t0
    cupy.cuda.Device().synchronize()
    return t / n * 1e6


def main() -> None:
    b = ad.device("cuda").backend
    x = cupy.random.standard_normal((1024, 128), dtype=cupy.float32)
    w = cupy.random.standard_normal((128, 128), dtype=cupy.float32)
    q = cupy.random.standard_normal((16, 4, 64, 32), dtype=cupy.float32)
    g = cupy.ones(128, dtype=cupy.float32)
    cases = {
        "cupy.matmul x@w": lambda: cupy.matmul(x, w),
        "cupy.matmul x@w.T": lambda: cupy.matmul(x, w.T),
        "cupy.matmul batched q@k^T": lambda: cupy.matmul(q, q.swapaxes(-1, -2)),
        "backend.matmul x@w.T": lambda: b.matmul(x, w.T),
        "cupy.add": lambda: cupy.add(x, x),
        "cupy.multiply scalar": lambda: cupy.multiply(x, 0.5),
        "cupy.sum axis0": lambda: x.sum(axis=0),
        "cupy.empty_like": lambda: cupy.empty_like(x),
        "backend.softmax": lambda: b.softmax(x, 1),
        "backend.layer_norm": lambda: b.layer_norm(x, g, g, 1, 1e-5),
    }
    t = ad.tensor(cupy.asnumpy(x), device="cuda", requires_grad=True)
    tw = ad.tensor(cupy.asnumpy(w), device="cuda", requires_grad=True)
    cases["Tensor x @ w (autograd)"] = lambda: t @ tw
    cases["Tensor x + x (autograd)"] = lambda: t + t
    for name, fn in cases.items():
        print(f"{name:32s} {per_call_us(fn):7.1f} us")
    try:
        import torch
    except ImportError:
        return
    tx = torch.as_tensor(x, device="cuda")
    tw2 = torch.as_tensor(w, device="cuda")
    tq = torch.as_tensor(q, device="cuda")
    tr = tx.clone().requires_grad_()
    for name, fn in {"torch x@w.T": lambda: tx @ tw2.T,
                     "torch batched q@k^T": lambda: tq @ tq.transpose(-1, -2),
                     "torch add": lambda: tx + tx,
                     "torch softmax": lambda: torch.softmax(tx, 1),
                     "torch x + x (autograd)": lambda: tr + tr}.items():
        print(f"{name:32s} {per_call_us(fn):7.1f} us")


if __name__ == "__main__":
    main()
