"""Pairwise p-norm distances (``cdist``) as one primitive that never holds all of the
(.., P, R, M) coordinate differences: forward and backward walk blocks of x1's rows, as
PyTorch's kernel does, so memory stays at the (.., P, R) output. The Euclidean distance of
larger sets is PyTorch's matrix-product form, composed from differentiable ops."""

from __future__ import annotations

import math

import numpy as np

from . import ops
from .autograd.node import Op
from .errors import DTypeError, ShapeError

_BLOCK_ELEMENTS = 1 << 21  # coordinate differences held at a time (8 MiB of float32)


def _pnorm(diff, p: float, xp):
    """The p-norm of ``diff`` (an array) along its last axis."""
    a = xp.abs(diff)
    if p == 0:
        return (a != 0).sum(-1).astype(diff.dtype)
    if p == 1:
        return a.sum(-1)
    if p == 2:
        return xp.sqrt((diff * diff).sum(-1))
    if p == math.inf:
        return a.max(-1) if a.shape[-1] else xp.zeros(a.shape[:-1], diff.dtype)
    return (a ** diff.dtype.type(p)).sum(-1) ** diff.dtype.type(1 / p)


def _grad_weight(diff, dist, p: float, lib, zero):
    """d dist / d diff for each coordinate (arrays with ``lib`` their array module, or Tensors
    with ``lib`` autodiff; ``dist`` broadcast against ``diff``), 0 where the distance or the coordinate difference is 0, as PyTorch; every
    coordinate tied for the maximum gets the whole gradient under p = inf."""
    where = lib.where
    if p == 0:
        return diff * 0
    if p == 1:
        return lib.sign(diff)
    if p == math.inf:
        return where(abs(diff) == dist, lib.sign(diff), zero)
    safe = where(dist == 0, dist + 1, dist)
    if p == 2:
        return where(dist == 0, zero, diff / safe)
    a = abs(diff)
    scaled = lib.sign(diff) * (where(a == 0, safe, a) / safe) ** (p - 1)
    return where((dist == 0) | (a == 0), zero, scaled)


class Cdist(Op):
    """y[.., i, j] = ||x1[.., i, :] - x2[.., j, :]||_p over blocks of i."""

    def forward(self, x1, x2, p):
        a, b = self.backend.xp.broadcast_arrays(x1._data[..., None, :], x2._data[..., None, :, :])
        self.saved = (x1, x2)
        self.meta = p
        xp = self.backend.xp
        out = xp.empty(a.shape[:-1], dtype=x1._data.dtype)
        for i0, i1 in _blocks(a.shape):
            out[..., i0:i1, :] = _pnorm(a[..., i0:i1, :, :] - b[..., i0:i1, :, :], p, xp)
        return self.save_output(out)

    def backward(self, g):  # with create_graph: differentiable, but all differences at once
        x1, x2 = self.saved
        diff = x1.unsqueeze(-2) - x2.unsqueeze(-3)
        w = _grad_weight(diff, self.output().unsqueeze(-1), self.meta, ops, 0.0)
        wg = w * g.unsqueeze(-1)
        return wg.sum(-2).sum_to_size(tuple(x1.shape)), (-wg.sum(-3)).sum_to_size(tuple(x2.shape))

    def backward_data(self, g):
        x1, x2 = (t._data for t in self.saved)
        xp, p = self.backend.xp, self.meta
        a, b = xp.broadcast_arrays(x1[..., None, :], x2[..., None, :, :])
        zero = x1.dtype.type(0)
        g1 = xp.empty(a.shape[:-3] + (a.shape[-3], a.shape[-1]), dtype=x1.dtype)
        g2 = xp.zeros(b.shape[:-3] + (b.shape[-2], b.shape[-1]), dtype=x1.dtype)
        for i0, i1 in _blocks(a.shape):
            diff = a[..., i0:i1, :, :] - b[..., i0:i1, :, :]
            dist = self.out_data[..., i0:i1, :, None]
            wg = _grad_weight(diff, dist, p, xp, zero) * g[..., i0:i1, :, None]
            g1[..., i0:i1, :] = wg.sum(-2)
            g2 -= wg.sum(-3)
        k = self.backend
        return k.sum_to(g1, x1.shape), k.sum_to(g2, x2.shape)


def _blocks(shape):
    """(start, stop) blocks of the row axis -3 of the broadcast (.., P, R, M) differences."""
    rows = shape[-3]
    per_row = max(1, int(np.prod(shape[:-3] + shape[-2:], dtype=np.int64)))
    step = max(1, _BLOCK_ELEMENTS // per_row)
    return [(i, min(i + step, rows)) for i in range(0, rows, step)] or [(0, 0)]


def euclidean_by_matmul(x1, x2):
    """||a - b|| as sqrt(-2 a.b + |a|^2 + |b|^2), PyTorch's form for larger sets: the squared
    norms ride along as two extra columns of one matrix product ((.., P, R) memory); squared
    distances below 1e-30 (rounding) clamp there."""
    n1 = (x1 * x1).sum(-1, keepdim=True)
    n2 = (x2 * x2).sum(-1, keepdim=True)
    d2 = ops.cat([x1 * -2, n1, n1.new_ones(n1.shape)], -1) @ ops.cat([x2, n2.new_ones(n2.shape), n2], -1).mT
    return d2.clamp_min(1e-30).sqrt()


_CDIST_MODES = ("use_mm_for_euclid_dist_if_necessary", "use_mm_for_euclid_dist",
                "donot_use_mm_for_euclid_dist")


def cdist(x1, x2, p: float = 2.0, compute_mode: str = "use_mm_for_euclid_dist_if_necessary"):
    """Pairwise p-norm distances between the rows of x1 (.., P, M) and x2 (.., R, M), batch
    dims broadcast. As PyTorch, the Euclidean distance goes through a matrix product when
    ``compute_mode`` asks for it or, by default, when P or R exceeds 25; otherwise blocks of
    coordinate differences (never all at once) give the exact distances."""
    if compute_mode not in _CDIST_MODES:
        raise ValueError(f"{compute_mode} is not a valid value for compute_mode")
    if not (x1.is_floating_point() and x2.dtype is x1.dtype):  # PyTorch's checks
        raise DTypeError(f"cdist: expected X1 and X2 of one floating-point dtype, got "
                         f"{x1.dtype.name} and {x2.dtype.name}")
    if p < 0:
        raise RuntimeError(f"cdist only supports non-negative p values, got {p}")
    if x1.ndim < 2 or x2.ndim < 2:
        raise ShapeError(f"cdist: expected X1 and X2 of at least 2 dims (.., rows, columns), "
                         f"got shapes {tuple(x1.shape)} and {tuple(x2.shape)}")
    if x1.shape[-1] != x2.shape[-1]:
        raise ShapeError(f"cdist: X1 and X2 must have the same number of columns, got "
                         f"{tuple(x1.shape)} and {tuple(x2.shape)}")
    try:
        np.broadcast_shapes(tuple(x1.shape[:-2]), tuple(x2.shape[:-2]))
    except ValueError:
        raise ShapeError(f"cdist: the batch dims of X1 {tuple(x1.shape)} and X2 "
                         f"{tuple(x2.shape)} do not broadcast") from None
    p = float(p)
    if p == 2 and (compute_mode == "use_mm_for_euclid_dist" or (
            compute_mode == "use_mm_for_euclid_dist_if_necessary"
            and (x1.shape[-2] > 25 or x2.shape[-2] > 25))):
        return euclidean_by_matmul(x1, x2)
    return Cdist.apply(x1, x2, p=p)
