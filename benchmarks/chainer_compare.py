"""autodiff beside Chainer (and PyTorch, when installed) on the CPU, in one process.

Two parts, both with every library on the same 2 threads:

- ops: ``y = op(x); y.sum().backward()`` for the op cases of ``benchmarks/ops.py`` that
  Chainer has (1024 x 1024 float32; conv and pooling on a 32 x 64 x 32 x 32 batch);
- training steps: the MLP and CNN of ``benchmarks/train.py``, with the same layer sizes,
  batches, losses and optimizers written in Chainer (Chainer has no transformer layer).

Chainer's last release (7.8.1) needs NumPy < 2, so this runs in an environment of its own:

    bash benchmarks/chainer_env.sh                  # makes .venv-chainer, installs, runs this
    .venv-chainer/bin/python benchmarks/chainer_compare.py --part ops --reps 10

Ratios are autodiff's time over Chainer's (below 1: autodiff is faster).
"""

from __future__ import annotations

import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ops
import train

import autodiff as ad
import autodiff.nn as adnn

try:
    import chainer
    import chainer.functions as CF
    import chainer.links as L
except ImportError:
    sys.exit("Chainer is not installed: run `bash benchmarks/chainer_env.sh` (it needs NumPy < 2)")

N = ops.N
ONES, ZEROS = np.ones(N, np.float32), np.zeros(N, np.float32)
C_ONES, C_ZEROS = np.ones(64, np.float32), np.zeros(64, np.float32)
ROWS32 = ops.ROWS.astype(np.int32)  # Chainer's index and label dtype

# op name (as in ops.CASES) -> f(*chainer variables); ops Chainer lacks are left out
CHAINER = {
    "add": lambda a, b: a + b,
    "mul (broadcast row)": lambda a, v: a * v,
    "div": lambda a, p: a / p,
    "pow 2": lambda a: a ** 2,
    "sqrt": CF.sqrt,
    "exp": CF.exp,
    "log": CF.log,
    "tanh": CF.tanh,
    "sigmoid": CF.sigmoid,
    "relu": CF.relu,
    "abs": CF.absolute,
    "clamp": lambda a: CF.clip(a, -0.5, 0.5),
    "where": lambda a, b: CF.where(a.array > 0, a, b),
    "masked_fill": lambda a: CF.where(a.array < 0, np.zeros_like(a.array), a),
    "sum dim 0": lambda a: CF.sum(a, 0),
    "sum dim 1": lambda a: CF.sum(a, 1),
    "mean": CF.mean,
    "max dim 1": lambda a: CF.max(a, 1),
    "amax dim 0": lambda a: CF.max(a, 0),
    "logsumexp": lambda a: CF.logsumexp(a, 1),
    "softmax dim 1": lambda a: CF.softmax(a, 1),
    "softmax dim 0": lambda a: CF.softmax(a, 0),
    "log_softmax": lambda a: CF.log_softmax(a, 1),
    "layer_norm": lambda a: CF.layer_normalization(a, ONES, ZEROS),
    "cross_entropy": lambda a: CF.softmax_cross_entropy(a, ROWS32[:N]),
    "mse_loss": CF.mean_squared_error,
    "matmul": CF.matmul,
    "matmul b.T": lambda a, b: CF.matmul(a, b, transb=True),
    "permute + reshape": lambda x: CF.reshape(CF.transpose(x, (0, 2, 3, 1)), (-1, 64)),
    "cat dim 1": lambda a, b: CF.concat([a, b], 1),
    "stack": lambda a, b: CF.stack([a, b]),
    "index rows": lambda a: a[ROWS32],
    "embedding": lambda w: CF.embed_id(ROWS32, w),
    "conv2d 3x3": lambda x, w: CF.convolution_2d(x, w, pad=1),
    "max_pool2d": lambda x: CF.max_pooling_2d(x, 2, cover_all=False),
    "avg_pool2d": lambda x: CF.average_pooling_2d(x, 2),
    "batch_norm (train)": lambda x: CF.batch_normalization(x, C_ONES, C_ZEROS),
    "adaptive_avg_pool2d": lambda x: CF.mean(x, axis=(2, 3), keepdims=True),
}


def measure_chainer(fn, arrays, reps: int) -> tuple[float, float]:
    """(forward, forward + backward) seconds of fn on Chainer variables made from arrays."""
    vs = [chainer.Variable(a.copy()) if a.dtype.kind == "f" else a for a in arrays]

    def forward_backward():
        for v in vs:
            v.cleargrad()
        y = fn(*vs)
        # the gradient of y.sum() as a contiguous array: Chainer's own sum backward gives a
        # stride-0 one, which sends NumPy's matmul off BLAS (6 s for matmul's backward)
        y.grad = np.ones_like(y.array)
        y.backward()

    no_sync = lambda: None
    return ops.best(lambda: fn(*vs), reps, no_sync), ops.best(forward_backward, reps, no_sync)


def bench_ops(reps: int, with_torch: bool) -> None:
    print(f"\n## ops through autograd: ms (best of {reps}); ratio = autodiff cpp / Chainer")
    head = f"{'op':22s} {'cpp':>7s} {'chainer':>8s} {'ratio':>6s} | {'fwd+bwd cpp':>11s} "
    head += f"{'chainer':>8s} {'ratio':>6s}"
    print(head + (f" | {'torch':>7s}" if with_torch else ""))
    for name, chainer_fn in CHAINER.items():
        fn, arrays = ops.CASES[name]
        ours = ops.measure(ad, "cpp", fn, arrays, reps)
        theirs = measure_chainer(chainer_fn, arrays, reps)
        line = (f"{name:22s} {ours[0] * 1e3:7.3f} {theirs[0] * 1e3:8.3f} {ours[0] / theirs[0]:5.2f}x"
                f" | {ours[1] * 1e3:11.3f} {theirs[1] * 1e3:8.3f} {ours[1] / theirs[1]:5.2f}x")
        if with_torch:
            line += f" | {ops.measure(ops.torch, 'cpu', fn, arrays, reps)[1] * 1e3:7.3f}"
        print(line, flush=True)


def chainer_step(name: str):
    """One training step of train.py's ``name`` model, written in Chainer."""
    rng = np.random.default_rng(0)
    if name == "mlp":
        model = chainer.Sequential(L.Linear(64, 256), CF.relu, L.Linear(256, 256), CF.relu,
                                   L.Linear(256, 10))
        x = rng.random((128, 64), dtype=np.float32) * 16
        y = rng.integers(0, 10, 128).astype(np.int32)
        opt = chainer.optimizers.SGD(lr=0.01)
    else:
        model = chainer.Sequential(L.Convolution2D(1, 16, 3, pad=1), CF.relu,
                                   L.Convolution2D(16, 32, 3, pad=1), CF.relu,
                                   lambda h: CF.max_pooling_2d(h, 2, cover_all=False),
                                   L.Linear(32 * 4 * 4, 10))
        x = rng.random((64, 1, 8, 8), dtype=np.float32)
        y = rng.integers(0, 10, 64).astype(np.int32)
        opt = chainer.optimizers.MomentumSGD(lr=0.01, momentum=0.9)
    opt.setup(model)

    def step():
        model.cleargrads()
        loss = CF.softmax_cross_entropy(model(x), y)
        loss.backward()
        opt.update()
        return loss

    return step


def bench_training(steps: int, rounds: int, with_torch: bool) -> None:
    print(f"\n## training steps: ms per step (best of {rounds} rounds of the median of {steps})")
    for name in ("mlp", "cnn"):
        steppers = {"cpp": train.make_step(ad, adnn, name, "cpp"),
                    "numpy": train.make_step(ad, adnn, name, "numpy"),
                    "chainer": chainer_step(name)}
        if with_torch:
            steppers["torch"] = train.make_step(ops.torch, ops.torch.nn, name, "cpu")
        ms = train.time_rounds(steppers, steps, 3, rounds)
        cells = "  ".join(f"{k} {v:7.3f}" for k, v in ms.items())
        print(f"{name:5s} {cells}  | cpp/chainer {ms['cpp'] / ms['chainer']:.2f}"
              f"  numpy/chainer {ms['numpy'] / ms['chainer']:.2f}", flush=True)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--part", choices=("ops", "training", "all"), default="all")
    p.add_argument("--reps", type=int, default=7, help="op timings: best of this many")
    p.add_argument("--steps", type=int, default=30, help="training: timed steps per round")
    p.add_argument("--rounds", type=int, default=3)
    args = p.parse_args()
    with_torch = ops.torch is not None
    if with_torch:
        ops.torch.set_num_threads(2)
    threads = ad._C.get_num_threads() if "cpp" in ad.available_devices() else 1
    print(f"autodiff {ad.__version__} (cpp, {threads} threads) | chainer {chainer.__version__}"
          f" | numpy {np.__version__}" + (f" | torch {ops.torch.__version__}" if with_torch else ""))
    if args.part in ("ops", "all"):
        bench_ops(args.reps, with_torch)
    if args.part in ("training", "all"):
        bench_training(args.steps, args.rounds, with_torch)


if __name__ == "__main__":
    main()
