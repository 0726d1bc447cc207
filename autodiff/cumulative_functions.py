"""The cumulative functions beyond the API contract, under PyTorch's names: ``cumprod`` (a
custom Function), ``cummax``, ``cummin`` and ``logcumsumexp``; exported through
autodiff.index_functions (as ``ad.<name>`` and Tensor methods).
"""

from __future__ import annotations

import collections

import numpy as np

from . import dtypes, ops
from .autograd.function import Function
from .backends.numpy_backend import _quiet
from .composites import cumsum
from .creation import arange, ones_like, tensor, zeros
from .ops._util import float_operand, norm_dim
from .tensor import Tensor

CumResult = collections.namedtuple("cummax", ["values", "indices"])


class _CumProd(Function):
    """y_i = prod_{j <= i} x_j; dx_k = sum_{i >= k} dy_i prod_{j <= i, j != k} x_j."""

    @staticmethod
    def forward(ctx, x, dim):
        ctx.dim = dim
        b, a = x._dev.backend, x._data
        out = b.cumprod(a, dim) if hasattr(b, "cumprod") else None  # C++ on cpp
        if out is None and a.dtype.kind == "f" and a.itemsize < 8:  # PyTorch's CPU accumulator:
            acc = a.astype(np.float64 if a.itemsize == 4 else np.float32)  # float32 in double,
            out = b.xp.cumprod(acc, axis=dim, out=acc).astype(a.dtype)  # half in float
        elif out is None:  # dtype=: NumPy's cumprod would promote int8/int16/int32 to int64
            out = b.xp.cumprod(a, axis=dim, dtype=a.dtype)
        y = Tensor._make(out, x._dev, False, None)
        ctx.save_for_backward(x, y)
        return y

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        d = ctx.dim
        if not bool((x == 0).any()):
            return cumsum((g * y).flip(d), d).flip(d) / x, None
        n = x.shape[d]  # zeros: the product without x_k, column by column (O(n^2))
        cols = []
        for k in range(n):
            keep = (arange(n, device=x.device) != k).reshape(
                tuple(-1 if i == d else 1 for i in range(x.ndim)))
            y = cumprod(ops.where(keep, x, ones_like(x)), d)
            cols.append((g * y).narrow(d, k, n - k).sum(d, keepdim=True))
        return ops.cat(cols, d), None


def cumprod(input: Tensor, dim: int, *, dtype=None) -> Tensor:
    """Cumulative product along ``dim`` (integers in int64, as PyTorch)."""
    dt = dtypes.from_any(dtype) if dtype is not None else (
        input.dtype if input.dtype.is_floating_point else dtypes.int64)
    d = norm_dim(dim, max(input.ndim, 1))
    if input.ndim == 0:
        return input.to(dt) * 1
    return _CumProd.apply(input.to(dt), d)


def _cum_extremum(x: Tensor, dim: int, ufunc: str, name: str):
    d = norm_dim(dim, max(x.ndim, 1))
    if x.ndim == 0:
        return CumResult(x * 1, zeros((), dtype=dtypes.int64, device=x.device))
    host = np.asarray(x.detach().cpu().numpy())
    vals = getattr(np, ufunc).accumulate(host, axis=d)
    pos = np.arange(host.shape[d]).reshape(tuple(-1 if i == d else 1 for i in range(x.ndim)))
    with np.errstate(invalid="ignore"):  # a NaN is its own running extremum from there on
        hit = (host == vals) | (np.isnan(host) & np.isnan(vals)) if host.dtype.kind == "f" \
            else host == vals
    idx = np.maximum.accumulate(np.where(hit, pos, 0), axis=d).astype(np.int64)
    index = tensor(idx, device=x.device)
    return collections.namedtuple(name, ["values", "indices"])(x.gather(d, index), index)


def cummax(input: Tensor, dim: int):
    """(running maxima, index of each: the latest among ties) along ``dim``."""
    return _cum_extremum(input, dim, "maximum", "cummax")


def cummin(input: Tensor, dim: int):
    """(running minima, index of each: the latest among ties) along ``dim``."""
    return _cum_extremum(input, dim, "minimum", "cummin")


@_quiet
def _logaddexp_scan(xp, acc, d):
    return xp.logaddexp.accumulate(acc, axis=d, out=acc)


class _LogCumSumExp(Function):
    """y_i = log sum_{j <= i} exp(x_j), PyTorch's sequential logaddexp scan (in double for
    float32: bit for bit); dx as PyTorch: exp(x + rev-logcumsumexp(log|dy| - y)), the
    positive and negative parts of dy apart, so nothing overflows."""

    @staticmethod
    def forward(ctx, x, d):
        ctx.d, a = d, x._data
        acc = a.astype(np.float64 if a.itemsize == 4 else np.float32) if a.itemsize < 8 else \
            a.copy()  # PyTorch's CPU accumulator (float in double, half in float)
        y = Tensor._make(_logaddexp_scan(x._dev.backend.xp, acc, d).astype(a.dtype, copy=False),
                         x._dev, False, None)
        ctx.save_for_backward(x, y)
        return y

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        d, low = ctx.d, float(np.finfo(x._data.dtype).min)

        def rev_part(mask):  # exp(x + rev-logcumsumexp(log|dy| - y)) over the masked dy
            v = ops.where(mask, g.abs().log(), low) - y
            return (_LogCumSumExp.apply(v.flip(d), d).flip(d) + x).exp()

        return rev_part(g > 0) - rev_part(g < 0), None


def logcumsumexp(input: Tensor, dim: int) -> Tensor:
    """log(cumsum(exp(x))) along ``dim``, by a scan of logaddexp (no element underflows however
    far below the others it lies)."""
    input = float_operand(input)
    if input.ndim == 0:
        return input * 1
    return _LogCumSumExp.apply(input, norm_dim(dim, input.ndim))
