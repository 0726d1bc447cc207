"""The primitive ops the parity benchmark measures, each with a float64 NumPy reference."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np


@dataclass(frozen=True)
class BenchOp:
    """One benchmarked op: how to make inputs, run it on tensors, and compute the reference."""

    name: str
    make: Callable[[np.random.Generator, int, int], list]  # (rng, rows, cols) -> arrays
    run: Callable  # (*tensors) -> tensor
    reference: Callable  # (*float64 arrays) -> array
    flops: Callable[[int, int], float] = lambda r, c: float(r * c)


def _x(rng, r, c):
    return [rng.standard_normal((r, c)).astype(np.float32)]


def _xy(rng, r, c):
    return [rng.standard_normal((r, c)).astype(np.float32),
            rng.standard_normal((r, c)).astype(np.float32)]


def _x_row(rng, r, c):
    return [rng.standard_normal((r, c)).astype(np.float32),
            rng.standard_normal((c,)).astype(np.float32)]


def _mm(rng, r, c):
    return [rng.standard_normal((r, c)).astype(np.float32),
            rng.standard_normal((c, c)).astype(np.float32)]


def _ln(rng, r, c):
    return [rng.standard_normal((r, c)).astype(np.float32),
            (1 + 0.1 * rng.standard_normal((c,))).astype(np.float32),
            (0.1 * rng.standard_normal((c,))).astype(np.float32)]


def _softmax_ref(x):
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def _log_softmax_ref(x):
    s = x - x.max(-1, keepdims=True)
    return s - np.log(np.exp(s).sum(-1, keepdims=True))


def _layer_norm_ref(x, w, b):
    m = x.mean(-1, keepdims=True)
    v = x.var(-1, keepdims=True)
    return (x - m) / np.sqrt(v + 1e-5) * w + b


def _bn_stats(x):
    import autodiff as ad

    xc = x.reshape(x.shape[0], x.shape[1], 1)
    return ad.cat([xc.mean((0, 2)), xc.var((0, 2), unbiased=False)])


def _bn_stats_ref(x):
    return np.concatenate([x.mean(0), x.var(0)])


OPS = {
    op.name: op
    for op in [
        BenchOp("matmul", _mm, lambda a, b: a @ b, lambda a, b: a @ b,
                lambda r, c: 2.0 * r * c * c),
        BenchOp("mul", _x_row, lambda a, b: a * b, lambda a, b: a * b),
        BenchOp("add", _xy, lambda a, b: a + b, lambda a, b: a + b),
        BenchOp("softmax", _x, lambda x: x.softmax(-1), _softmax_ref),
        BenchOp("log_softmax", _x, lambda x: x.log_softmax(-1), _log_softmax_ref),
        BenchOp("layer_norm", _ln, lambda x, w, b: _layer_norm(x, w, b), _layer_norm_ref),
        BenchOp("batch_norm_stats", _x, _bn_stats, _bn_stats_ref),
        BenchOp("sum", _x, lambda x: x.sum(-1), lambda x: x.sum(-1)),
        BenchOp("mean", _x, lambda x: x.mean(-1), lambda x: x.mean(-1)),
        BenchOp("var", _x, lambda x: x.var(-1), lambda x: x.var(-1, ddof=1)),
        BenchOp("exp", _x, lambda x: x.exp(), np.exp),
        BenchOp("tanh", _x, lambda x: x.tanh(), np.tanh),
    ]
}


def _layer_norm(x, w, b):
    import autodiff as ad

    return ad.ops.layer_norm(x, x.shape[-1], w, b)
