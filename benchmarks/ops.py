"""Tensor ops through autograd, timed beside PyTorch: forward, and forward + backward.

What a user times: ``y = op(x); y.sum().backward()`` on 1024 x 1024 float32 tensors (the conv
and pooling cases on a 32 x 64 x 32 x 32 batch), against the same calls in PyTorch with the
same number of threads, in one run (these machines are noisy: compare the ratios).  Without
PyTorch the reference is autodiff's own numpy backend.  A ratio above 1.5 is flagged.  On
``--device cuda`` the reference is PyTorch CUDA and every timed call ends with a synchronize.

    python benchmarks/ops.py                      # every op, device cpp
    python benchmarks/ops.py --device cuda        # on a GPU, against PyTorch CUDA
    python benchmarks/ops.py --ops gelu,where --device numpy --json ops.json
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

import autodiff as ad

try:
    import torch
except ImportError:  # the reference becomes the numpy backend
    torch = None

N = 1024
RNG = np.random.default_rng(0)
A = RNG.standard_normal((N, N), dtype=np.float32)
B = RNG.standard_normal((N, N), dtype=np.float32)
V = RNG.standard_normal((N,), dtype=np.float32)
POS = np.abs(A) + 0.5
PROB = (1 / (1 + np.exp(-B))).astype(np.float32)
IMG = RNG.standard_normal((32, 64, 32, 32), dtype=np.float32)
KER = RNG.standard_normal((64, 64, 3, 3), dtype=np.float32) * 0.05
ROWS = RNG.integers(0, N, 4096)


def F(m):
    """The functional namespace of a library."""
    return m.nn.functional


DEVICES = {"ours": "cpp", "torch": "cpu"}  # set by main()


def idx(m, a):
    """An index array as the library's tensor, on the device being timed: sharing the
    array's memory on the CPU on both sides (ad.as_tensor, torch.from_numpy)."""
    return (ad.as_tensor(a, device=DEVICES["ours"]) if m is ad
            else torch.from_numpy(a).to(DEVICES["torch"]))


# name -> (f(module, *tensors), input arrays); every input of a float dtype requires grad
CASES = {
    "add": (lambda m, a, b: a + b, [A, B]),
    "mul (broadcast row)": (lambda m, a, v: a * v, [A, V]),
    "div": (lambda m, a, p: a / p, [A, POS]),
    "pow 2": (lambda m, a: a ** 2, [A]),
    "sqrt": (lambda m, p: p.sqrt(), [POS]),
    "exp": (lambda m, a: a.exp(), [A]),
    "log": (lambda m, p: p.log(), [POS]),
    "tanh": (lambda m, a: a.tanh(), [A]),
    "sigmoid": (lambda m, a: a.sigmoid(), [A]),
    "relu": (lambda m, a: a.relu(), [A]),
    "gelu": (lambda m, a: F(m).gelu(a), [A]),
    "silu": (lambda m, a: F(m).silu(a), [A]),
    "abs": (lambda m, a: a.abs(), [A]),
    "clamp": (lambda m, a: a.clamp(-0.5, 0.5), [A]),
    "pow 3": (lambda m, a: a ** 3, [A]),
    "leaky_relu": (lambda m, a: F(m).leaky_relu(a, 0.1), [A]),
    "elu": (lambda m, a: F(m).elu(a), [A]),
    "selu": (lambda m, a: F(m).selu(a), [A]),
    "softplus": (lambda m, a: F(m).softplus(a), [A]),
    "hardshrink": (lambda m, a: F(m).hardshrink(a), [A]),
    "softshrink": (lambda m, a: F(m).softshrink(a), [A]),
    "threshold": (lambda m, a: F(m).threshold(a, 0.1, 20.0), [A]),
    "logsigmoid": (lambda m, a: F(m).logsigmoid(a), [A]),
    "hardswish": (lambda m, a: F(m).hardswish(a), [A]),
    "hardsigmoid": (lambda m, a: F(m).hardsigmoid(a), [A]),
    "relu6": (lambda m, a: F(m).relu6(a), [A]),
    "lerp 0.3": (lambda m, a, b: m.lerp(a, b, 0.3), [A, B]),
    "cumsum dim 1": (lambda m, a: a.cumsum(1), [A]),
    "where": (lambda m, a, b: m.where(a > 0, a, b), [A, B]),
    "masked_fill": (lambda m, a: a.masked_fill(a < 0, 0.0), [A]),
    "sum dim 0": (lambda m, a: a.sum(0), [A]),
    "sum dim 1": (lambda m, a: a.sum(1), [A]),
    "mean": (lambda m, a: a.mean(), [A]),
    "var dim 1": (lambda m, a: a.var(1), [A]),
    "max dim 1": (lambda m, a: a.max(1).values, [A]),
    "amax dim 0": (lambda m, a: a.amax(0), [A]),
    "logsumexp": (lambda m, a: a.logsumexp(1), [A]),
    "norm": (lambda m, a: a.norm(), [A]),
    "softmax dim 1": (lambda m, a: a.softmax(1), [A]),
    "softmax dim 0": (lambda m, a: a.softmax(0), [A]),
    "log_softmax": (lambda m, a: a.log_softmax(1), [A]),
    "layer_norm": (lambda m, a: F(m).layer_norm(a, (N,)), [A]),
    "cross_entropy": (lambda m, a: F(m).cross_entropy(a, idx(m, ROWS[:N])), [A]),
    "mse_loss": (lambda m, a, b: F(m).mse_loss(a, b), [A, B]),
    "smooth_l1_loss": (lambda m, a, b: F(m).smooth_l1_loss(a, b), [A, B]),
    "huber_loss": (lambda m, a, b: F(m).huber_loss(a, b), [A, B]),
    "bce_with_logits": (lambda m, a, p: F(m).binary_cross_entropy_with_logits(a, p), [A, PROB]),
    "matmul": (lambda m, a, b: a @ b, [A, B]),
    "matmul b.T": (lambda m, a, b: a @ b.t(), [A, B]),
    "transpose + contiguous": (lambda m, a: a.t().contiguous(), [A]),
    "permute + reshape": (lambda m, x: x.permute(0, 2, 3, 1).reshape(-1, 64), [IMG]),
    "cat dim 1": (lambda m, a, b: m.cat([a, b], 1), [A, B]),
    "stack": (lambda m, a, b: m.stack([a, b]), [A, B]),
    "index rows": (lambda m, a: a[idx(m, ROWS)], [A]),
    "embedding": (lambda m, w: F(m).embedding(idx(m, ROWS), w), [A]),
    "gather": (lambda m, a: a.gather(1, idx(m, ROWS[:N].reshape(N, 1) % N)), [A]),
    "topk 8": (lambda m, a: a.topk(8, 1)[0], [A]),
    "sort": (lambda m, a: a.sort(1)[0], [A]),
    "conv2d 3x3": (lambda m, x, w: F(m).conv2d(x, w, padding=1), [IMG[:8], KER]),
    "max_pool2d": (lambda m, x: F(m).max_pool2d(x, 2), [IMG]),
    "avg_pool2d": (lambda m, x: F(m).avg_pool2d(x, 2), [IMG]),
    "batch_norm (train)": (lambda m, x: F(m).batch_norm(x, None, None, training=True), [IMG]),
    "adaptive_avg_pool2d": (lambda m, x: F(m).adaptive_avg_pool2d(x, 1), [IMG]),
    "upsample nearest 2x": (lambda m, x: F(m).interpolate(x, scale_factor=2), [IMG]),
    "upsample bilinear 2x": (lambda m, x: F(m).interpolate(x, scale_factor=2, mode="bilinear"),
                             [IMG]),
}


def best(fn, reps: int, sync) -> float:
    fn()
    sync()
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        sync()
        times.append(time.perf_counter() - t0)
    return min(times)


def measure(lib, device, fn, arrays, reps: int) -> tuple[float, float]:
    """(forward, forward + backward) seconds of fn on lib's tensors made from arrays."""
    gpu = str(device).startswith("cuda")
    DEVICES["ours" if lib is ad else "torch"] = device
    if lib is ad:
        ts = [ad.tensor(a, device=device, requires_grad=a.dtype.kind == "f") for a in arrays]
        sync = ad.cuda.synchronize if gpu else (lambda: None)
    else:
        ts = [torch.tensor(a, device=device, requires_grad=a.dtype.kind == "f") for a in arrays]
        sync = torch.cuda.synchronize if gpu else (lambda: None)

    def forward():
        return fn(lib, *ts)

    def forward_backward():
        for t in ts:
            t.grad = None
        fn(lib, *ts).sum().backward()

    return best(forward, reps, sync), best(forward_backward, reps, sync)


def main() -> None:
    global torch
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--ops", help="comma list of op names (default: all)")
    p.add_argument("--device", default="cpp", help="autodiff device (default cpp)")
    p.add_argument("--reps", type=int, default=7)
    p.add_argument("--json", help="write the results here")
    args = p.parse_args()
    names = args.ops.split(",") if args.ops else list(CASES)
    ref_name = "PyTorch" if torch is not None else "numpy backend"
    torch_device = "cuda" if args.device.startswith("cuda") else "cpu"
    if torch is not None and torch_device == "cuda" and not torch.cuda.is_available():
        torch = None  # a CPU-only PyTorch: compare with the numpy backend instead
        ref_name = "numpy backend"
    if torch_device == "cuda":
        ref_name += " CUDA" if torch is not None else ""
    if torch is not None:
        try:
            from autodiff._C import get_num_threads

            torch.set_num_threads(get_num_threads())  # the same threads as our kernels
        except ImportError:  # no extension: PyTorch keeps its default
            pass
    print(f"autodiff on {args.device} vs {ref_name}; times in ms (best of {args.reps})")
    print(f"{'op':24s} {'fwd':>8s} {'ref':>8s} {'ratio':>6s}   {'fwd+bwd':>8s} {'ref':>8s} "
          f"{'ratio':>6s}")
    records = []
    for name in names:  # a row per op as it finishes
        fn, arrays = CASES[name]
        ours = measure(ad, args.device, fn, arrays, args.reps)
        ref = (measure(torch, torch_device, fn, arrays, args.reps) if torch is not None
               else measure(ad, "numpy", fn, arrays, args.reps))
        ratio = (ours[0] / ref[0], ours[1] / ref[1])
        flag = "  <<" if max(ratio) > 1.5 else ""
        print(f"{name:24s} {ours[0] * 1e3:8.3f} {ref[0] * 1e3:8.3f} {ratio[0]:5.2f}x   "
              f"{ours[1] * 1e3:8.3f} {ref[1] * 1e3:8.3f} {ratio[1]:5.2f}x{flag}", flush=True)
        records.append({"op": name, "device": args.device, "reference": ref_name,
                        "forward_s": ours[0], "ref_forward_s": ref[0],
                        "forward_backward_s": ours[1], "ref_forward_backward_s": ref[1]})
    if args.json:
        with open(args.json, "w") as f:
            json.dump(records, f, indent=1)


if __name__ == "__main__":
    main()
