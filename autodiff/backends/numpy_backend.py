"""The NumPy backend: every kernel autodiff needs, written once with ``xp``.

This is the reference implementation. The C++ backend subclasses it and overrides
the hot kernels; the CuPy backend subclasses it with ``xp = cupy``. Kernels take
and return raw arrays; ops (autodiff/ops) promote dtypes and check shapes first,
so kernels may assume their array arguments share one dtype.
"""

from __future__ import annotations

import logging
import math
import operator
import sys

import numpy as np

from .._config import config
from .einsum_matmul import einsum_as_matmul
from .fp_quiet import _quiet, _quiet_binary
from .nn_kernels import NNKernels
from .pad_kernels import PadKernels
from .scalar_pow import pow_scalar

_log = logging.getLogger("autodiff.backends")
_declined: set = set()
def _small(shape, limit: int = 4096) -> bool:
    return math.prod(shape) <= limit


def _is_basic_index(idx) -> bool:
    items = idx if isinstance(idx, tuple) else (idx,)
    return all(i is None or i is Ellipsis or isinstance(i, (int, slice)) for i in items)


def _unique_positions(idx) -> bool:  # basic, or advanced by masks only: none indexed twice
    arrays = [i for i in (idx if isinstance(idx, tuple) else (idx,)) if hasattr(i, "dtype")]
    return all(a.dtype == bool for a in arrays)


def _add_rows(out, rows, g):
    """out[rows[i]] += g[i] over the first axis (an embedding's backward): the rows sorted,
    equal ones summed with one reduceat. np.add.at, one indexed add per element, took 1.5 ms
    for a (16, 64) batch of 128-wide embeddings, this takes ~0.1 ms."""
    n = out.shape[0]
    flat = rows.ravel().astype(np.intp, copy=False)  # (uint8 + n would overflow)
    flat = np.where(flat < 0, flat + n, flat)
    order = np.argsort(flat, kind="stable")
    keys = flat[order]
    starts = np.flatnonzero(np.concatenate(([True], keys[1:] != keys[:-1])))
    g2 = g.reshape(flat.size, -1)[order]
    out.reshape(n, -1)[keys[starts]] = np.add.reduceat(g2, starts, axis=0)


def axis_index(idx, ndim: int):
    """(axis, array) where idx is one integer array at that axis and full slices elsewhere
    (x[rows], x[:, cols], nearest upsampling's gathers), else None."""
    if type(idx) is np.ndarray:
        return (0, idx) if idx.dtype.kind in "iu" and ndim else None
    if type(idx) is not tuple or len(idx) > ndim:
        return None
    arrays = [d for d, i in enumerate(idx) if type(i) is np.ndarray]
    if len(arrays) != 1 or idx[arrays[0]].dtype.kind not in "iu" or any(
            i != _FULL for d, i in enumerate(idx) if d != arrays[0]):
        return None
    return arrays[0], idx[arrays[0]]


_FULL = slice(None)
_ND = np.ndarray


def constant_reduced_axes(a, shape) -> tuple[int, ...]:
    """The axes that ``sum_to(a, shape)`` reduces along which ``a`` is a broadcast (stride 0)."""
    lead, strides = a.ndim - len(shape), getattr(a, "strides", None) or (1,) * a.ndim
    return tuple(d for d, (n, s) in enumerate(zip(a.shape, strides))
                 if s == 0 and n > 1 and (d < lead or shape[d - lead] == 1))


def first_along(a, axes):
    return a[tuple(slice(0, 1) if d in axes else slice(None) for d in range(a.ndim))]


class NumpyBackend(PadKernels, NNKernels):
    """Reference kernels on ``numpy.ndarray`` storage."""

    name = "numpy"
    xp = np
    is_cpu = True

    def __init__(self, index: int | None = None) -> None:
        self.index = index

    # ----------------------------------------------------------------- housekeeping
    def _decline(self, op: str, reason: str, dtype=None) -> bool:
        """Record that a fast kernel did not apply (logged once per (op, dtype, reason));
        False, for ``return self._decline(...)`` in a check."""
        if config.debug:
            key = (self.name, op, str(dtype), reason)
            if key not in _declined:
                _declined.add(key)
                _log.warning("%s backend: %s falls back to NumPy (%s, dtype %s)",
                             self.name, op, reason, dtype)
        return False

    def is_array(self, obj) -> bool:
        return isinstance(obj, self.xp.ndarray)

    def owns(self, a) -> bool:
        """True when nothing else can see ``a``'s memory: it owns it, or it is a writeable
        view of a temporary that only this view holds (as PyTorch steals a gradient whose
        use count is 1). Lets backward store gradients without copying them."""
        if not a.flags.writeable:
            return False
        base = a.base
        if base is None:
            return True
        # references to base: a's, the local `base` and getrefcount's own argument
        return type(base) is np.ndarray and base.base is None and sys.getrefcount(base) <= 3

    # ----------------------------------------------------------------- creation
    def asarray(self, data, dtype=None):
        return self.xp.asarray(data, dtype=dtype)

    def from_numpy(self, arr):
        return arr

    def to_numpy(self, a):
        return a

    def empty(self, shape, dtype):
        return self.xp.empty(shape, dtype=dtype)

    def zeros(self, shape, dtype):
        return self.xp.zeros(shape, dtype=dtype)

    def ones(self, shape, dtype):
        return self.xp.ones(shape, dtype=dtype)

    def full(self, shape, value, dtype):
        return self.xp.full(shape, value, dtype=dtype)

    def arange(self, start, stop, step, dtype):
        return self.xp.arange(start, stop, step, dtype=dtype)

    def linspace(self, start, stop, num, dtype):
        return self.xp.linspace(start, stop, num, dtype=dtype)

    def eye(self, n, m, dtype):
        return self.xp.eye(n, m, dtype=dtype)

    def copy(self, a):
        # a NumPy scalar (what reductions return) copies into a writable 0-d array
        return a.copy() if type(a) is np.ndarray else np.array(a)

    def contiguous(self, a):
        return self.xp.ascontiguousarray(a) if a.ndim else a  # (it makes a 0-d array 1-d)

    def cast(self, a, dtype):
        return a.astype(dtype, copy=False)

    # random numbers come from a NumPy Generator (autodiff.random) on every device
    def rand(self, gen, shape, dtype):
        work = dtype if dtype in (np.float32, np.float64) else np.float64
        return self.asarray(gen.random(shape, dtype=work).astype(dtype, copy=False))

    def randn(self, gen, shape, dtype):
        work = dtype if dtype in (np.float32, np.float64) else np.float64
        return self.asarray(gen.standard_normal(shape, dtype=work).astype(dtype, copy=False))

    def randint(self, gen, low, high, shape, dtype):
        return self.asarray(gen.integers(low, high, size=shape, dtype=dtype))

    def multinomial(self, gen, probs, num_samples, replacement):
        p = np.asarray(self.to_numpy(probs), dtype=np.float64)
        rows = p.reshape(-1, p.shape[-1])
        out = np.empty((rows.shape[0], num_samples), dtype=np.int64)
        for i, row in enumerate(rows):
            total = row.sum()
            if not np.all(row >= 0) or not np.isfinite(total) or total <= 0:
                raise RuntimeError("multinomial: probabilities must be non-negative, finite "
                                   "and have a positive sum")
            if not replacement and num_samples > np.count_nonzero(row):
                raise RuntimeError(f"multinomial: cannot draw {num_samples} samples without "
                                   f"replacement from {np.count_nonzero(row)} non-zero weights")
            out[i] = gen.choice(row.shape[0], size=num_samples, replace=replacement, p=row / total)
        return self.asarray(out.reshape(p.shape[:-1] + (num_samples,)))

    # ----------------------------------------------------------------- elementwise
    add, sub = _quiet_binary(operator.add), _quiet_binary(operator.sub)
    mul, div = _quiet_binary(operator.mul), _quiet_binary(operator.truediv)

    def neg(self, a):
        return -a

    @_quiet
    def pow(self, a, b):
        if a.dtype.kind in "iu" and b.dtype.kind == "i":  # PyTorch: 0 where b < 0, |a| != 1
            # (a negative exponent matters only by its parity, for a == -1: b & 1, as abs(b)
            # of int8 -128 is -128)
            return self.xp.where((b >= 0) | (abs(a) == 1), self.xp.power(a, self.xp.where(
                b >= 0, b, b & 1)), 0)
        if b.ndim == 0 and a.dtype.kind == "f" and a.dtype.itemsize >= 4:  # (half: in float,
            return pow_scalar(self, a, float(b))  # rounded once, as NumPy's power and PyTorch)
        return self.xp.power(a, b)

    def maximum(self, a, b):
        return self.xp.maximum(a, b)

    def minimum(self, a, b):
        return self.xp.minimum(a, b)

    @_quiet
    def exp(self, a):
        return self.xp.exp(a)

    # log(0) = -inf, log(-1) = nan, 1/sqrt(0) = inf: IEEE results, silent as in PyTorch
    @_quiet
    def log(self, a):
        return self.xp.log(a)

    @_quiet
    def log1p(self, a):
        return self.xp.log1p(a)

    @_quiet
    def sqrt(self, a):
        return self.xp.sqrt(a)

    @_quiet
    def rsqrt(self, a):  # the backend's sqrt (C++ on cpp), then divided in place
        r = self.sqrt(a)
        return self.xp.divide(1, r, out=r) if r.ndim and r.dtype.kind == "f" else 1 / r

    def abs(self, a):
        return self.xp.abs(a)

    def sign(self, a):  # (x > 0) - (x < 0): sign(NaN) = 0 (PyTorch's), 3x faster than sign + where
        return a.copy() if a.dtype == bool else self.xp.subtract(a > 0, a < 0, dtype=a.dtype)

    @_quiet
    def sin(self, a):
        return self.xp.sin(a)

    @_quiet
    def cos(self, a):
        return self.xp.cos(a)

    def tanh(self, a):
        return self.xp.tanh(a)

    def sigmoid(self, a):
        # e / (1 + e), e = exp(-|x|), for x < 0: never overflows, and stays accurate where
        # 0.5 + 0.5 tanh(x / 2) cancels to 0 (below x ~ -17 in float32)
        e = self.xp.exp(-self.xp.abs(a))
        return self.xp.where(a >= 0, 1 / (1 + e), e / (1 + e))

    def relu(self, a):  # NaN and -0.0 stay (NumPy's maximum returns its first at ties)
        return self.xp.maximum(a.dtype.type(0), a)

    def relu_backward(self, y, g):
        """dx = g where not y <= 0 (a NaN y passes g), else 0: a select, as PyTorch."""
        return self.xp.where(y <= 0, g.dtype.type(0), g)

    def abs_backward(self, x, g):  # sgn(NaN) = 0 (PyTorch)
        return g * self.sign(x)

    @_quiet
    def lerp_scalar(self, a, b, w: float):  # PyTorch's two forms: exact at both ends
        d = b - a
        return a + d * w if abs(w) < 0.5 else b - d * (1 - w)

    def clamp(self, a, lo, hi):
        # min(max(a, lo), hi) in one pass (NaN propagates; 5x faster than the two ufuncs)
        return self.xp.clip(a, lo, hi)

    def where(self, cond, a, b):
        return self.xp.where(cond, a, b)

    def compare(self, op: str, a, b):
        return getattr(self.xp, op)(a, b)  # equal, not_equal, less, ...

    def logical_not(self, a):
        return self.xp.logical_not(a)

    def isfinite(self, a):
        return self.xp.isfinite(a)

    # ----------------------------------------------------------------- reductions
    @_quiet  # (inf - inf in a sum is NaN, silently, as in PyTorch)
    def sum(self, a, axis, keepdims):  # int8-32 stay (NumPy would widen); bool counts
        if a.dtype == np.float16:  # added up in float32, as PyTorch
            return a.sum(axis=axis, keepdims=keepdims, dtype=np.float32).astype(a.dtype)
        return a.sum(axis=axis, keepdims=keepdims, dtype=None if a.dtype == bool else a.dtype)

    @_quiet
    def mean(self, a, axis, keepdims):
        if a.size == 0:  # NaN, without NumPy's "Mean of empty slice" warning (PyTorch is silent)
            return self.xp.full_like(a.sum(axis=axis, keepdims=keepdims), self.xp.nan)
        return a.mean(axis=axis, keepdims=keepdims)

    @_quiet
    def prod(self, a, axis, keepdims):
        return a.prod(axis=axis, keepdims=keepdims, dtype=a.dtype)

    def amax(self, a, axis, keepdims):
        return a.max(axis=axis, keepdims=keepdims)

    def amin(self, a, axis, keepdims):
        return a.min(axis=axis, keepdims=keepdims)

    def argmax(self, a, axis, keepdims):
        return a.argmax(axis=axis, keepdims=keepdims)

    def argmin(self, a, axis, keepdims):
        return a.argmin(axis=axis, keepdims=keepdims)

    def any(self, a, axis, keepdims):
        return a.any(axis=axis, keepdims=keepdims)

    def all(self, a, axis, keepdims):
        return a.all(axis=axis, keepdims=keepdims)

    def _shifted_moments(self, a, axis, keepdims):
        """(mean, sum of x - m, sum of (x - m)^2), m = the mean rounded to a's dtype: float64
        sums of deviations small enough for float32 (a.var of 1e5 + 0.1 N(0, 1) was 4e-4 off)."""
        f64 = self.xp.float64
        mean = a.mean(axis=axis, dtype=f64, keepdims=True)
        xc = a - mean.astype(a.dtype)
        return (mean, xc.sum(axis=axis, dtype=f64, keepdims=keepdims),
                (xc * xc).sum(axis=axis, dtype=f64, keepdims=keepdims))

    @_quiet
    def var(self, a, axis, correction, keepdims):
        axes = range(a.ndim) if axis is None else axis if type(axis) is tuple else (axis,)
        n = math.prod(a.shape[i] for i in axes)
        if a.dtype.kind == "f" and a.dtype.itemsize < 8 and n > correction:
            _, s1, s2 = self._shifted_moments(a, axis, keepdims)
            return ((s2 - s1 * s1 / n) / (n - correction)).astype(a.dtype)
        return a.var(axis=axis, ddof=correction, keepdims=keepdims)

    def logsumexp(self, a, axis, keepdims):
        if a.size == 0:  # log(sum of nothing) = -inf, as PyTorch
            return NumpyBackend.log(self, a.sum(axis=axis, keepdims=keepdims))
        # through the backend's own ops, so that the C++ one runs its kernels here
        m = self.amax(a, axis, True)
        m = self.xp.where(self.xp.isfinite(m), m, 0)
        out = self.log(self.sum(self.exp(self.sub(a, m)), axis, True)) + m
        return out if keepdims else out.squeeze(axis)

    def cumsum(self, a, axis: int, dtype, reverse: bool = False):
        """The cumulative sum along axis (from its end with reverse) in ``dtype``; float16 and
        float32 added up in float64 and rounded once, as PyTorch's CPU scan (float16 stalled
        at 2048, float32 at 2^24)."""
        xp = self.xp
        if reverse:
            a = xp.flip(a, axis)
        wide = np.dtype(dtype).kind == "f" and np.dtype(dtype).itemsize < 8
        out = xp.cumsum(a, axis=axis, dtype=np.float64 if wide else dtype)
        out = out.astype(dtype) if wide else out
        return xp.flip(out, axis) if reverse else out

    def sum_to(self, g, shape):
        """Reduce ``g`` (a broadcast result) back to ``shape``: the backward of broadcasting."""
        shape = tuple(shape)
        if g.shape == shape:
            return g
        g = self.fold_constant_sum(g, shape)
        lead = g.ndim - len(shape)
        axes = tuple(range(lead)) + tuple(
            lead + i for i, n in enumerate(shape) if n == 1 and g.shape[lead + i] != 1
        )
        out = g.sum(axis=axes, keepdims=True) if axes else g
        return out.reshape(shape)

    def mul_sum_to(self, g, h, shape):
        """``sum_to(g * h, shape)``: the backward of a broadcast multiply (dz/db =
        sum_to(dz * a, b.shape)); the C++ and CUDA backends do it without the product."""
        g, h = self.fold_constant_axes(g, h, shape)
        return self.sum_to(self.mul(g, h), shape)

    def fold_constant_axes(self, g, h, shape):
        """(g, h) with the reduced axes along which one is a broadcast (the gradient of .sum())
        summed out first, ``sum(g * h) = g * sum(h)``: no product or copy of a whole array."""
        if g.shape != h.shape or g.shape == shape or g.ndim < len(shape):
            return g, h  # nothing to fold; g.shape == shape is the common case, nothing reduced
        for _ in range(2):
            if flat := constant_reduced_axes(g, shape):
                h, g = self.sum(h, flat, True), first_along(g, flat)
            g, h = h, g  # then h's axes; swapped back after the second pass
        return g, h

    def fold_constant_sum(self, g, shape):
        """g with its broadcast reduced axes cut to length 1 and counted by a product."""
        flat = constant_reduced_axes(g, shape) if g.dtype.kind in "fc" else ()
        return first_along(g, flat) * math.prod(g.shape[d] for d in flat) if flat else g

    # ----------------------------------------------------------------- linear algebra
    def matmul(self, a, b):
        return self.xp.matmul(a, b)

    def einsum(self, subscripts, *operands):
        if len(operands) == 2 and (y := einsum_as_matmul(self, subscripts, *operands)) is not None:
            return y
        return self.xp.einsum(subscripts, *operands, optimize=len(operands) > 2)

    # ----------------------------------------------------------------- softmax family
    @np.errstate(invalid="ignore")  # a row of -inf gives NaN quietly, as PyTorch's
    def softmax(self, x, axis):
        e = self.xp.exp(x - x.max(axis=axis, keepdims=True))
        e /= e.sum(axis=axis, keepdims=True)
        return e

    @np.errstate(invalid="ignore")
    def log_softmax(self, x, axis):
        s = x - x.max(axis=axis, keepdims=True)
        return s - self.xp.log(self.xp.exp(s).sum(axis=axis, keepdims=True))

    def softmax_backward(self, y, gy, axis):
        """dx = y * (gy - sum(gy * y))."""
        return y * (gy - (gy * y).sum(axis=axis, keepdims=True))

    def log_softmax_backward(self, y, gy, axis):
        """dx = gy - exp(y) * sum(gy)."""
        return gy - self.xp.exp(y) * gy.sum(axis=axis, keepdims=True)

    # ----------------------------------------------------------------- losses
    def cross_entropy(self, logits, target, ignore_index=-100):
        """(loss, stats) per row of (N, C) logits against integer targets (N,):
        loss = logsumexp(x) - x[t], 0 where t == ignore_index. stats (N, 2) holds the row max m
        (0 where not finite) and l = log(sum(exp(x - m))) for the backward: lse = m + l rounded
        loses l once |m| dwarfs it (logits offset by 1e6), in the loss and in softmax alike."""
        xp = self.xp
        c = logits.shape[-1]
        valid = target != ignore_index
        if bool((valid & ((target < 0) | (target >= c))).any()):
            raise IndexError(f"cross_entropy: target values must be in [0, {c}) or "
                             f"ignore_index {ignore_index}")
        m = logits.max(-1, initial=-xp.inf, keepdims=True)
        m = xp.where(xp.isfinite(m), m, 0).astype(logits.dtype, copy=False)
        ls = self.log(self.sum(self.exp(self.sub(logits, m)), -1, False))
        m = m[:, 0]
        safe = xp.where(valid, target, 0)
        picked = xp.take_along_axis(logits, safe[:, None], axis=-1)[:, 0]
        loss = xp.where(valid, (m - picked) + ls, logits.dtype.type(0))
        return loss.astype(logits.dtype, copy=False), xp.stack([m, ls], axis=1)

    def cross_entropy_backward(self, logits, target, stats, gloss, ignore_index=-100):
        """d(sum_r gloss[r] * loss[r]) / d logits = gloss[r] * (softmax(x_r) - onehot(t_r)),
        0 on ignored rows; softmax = exp((x - m) - l) (stats); gloss broadcasts to (N,)."""
        xp = self.xp
        valid = target != ignore_index
        g = xp.where(valid, xp.asarray(gloss, dtype=logits.dtype), logits.dtype.type(0))
        out = self.exp((logits - stats[:, :1]) - stats[:, 1:])
        out[xp.arange(logits.shape[0]), xp.where(valid, target, 0)] -= 1
        out *= g[:, None]
        return out

    # ----------------------------------------------------------------- movement
    def reshape(self, a, shape):
        return a.reshape(shape)

    def transpose(self, a, axes):
        return a.transpose(axes)

    def diagonal(self, a, offset, d1, d2):
        """A writeable view of a diagonal (NumPy's is flagged read-only, CuPy's is not)."""
        v = self.xp.diagonal(a, offset, d1, d2)
        if self.xp is np and a.flags.writeable:
            v.flags.writeable = True
        return v

    def broadcast_to(self, a, shape):
        if self.xp is np and _small(shape):
            # np.broadcast_to costs ~8 us of Python; filling a small array is cheaper
            out = np.empty(shape, a.dtype)
            if a.size == 1:
                out.fill(a.reshape(()))
            else:
                out[...] = a
            return out
        return self.xp.broadcast_to(a, shape)

    def getitem(self, a, idx):  # x[:, cols]: take's contiguous copy, 4x NumPy's a[idx]
        along = axis_index(idx, a.ndim) if type(idx) is tuple and _ND in map(type, idx) else None
        return self.xp.take(a, along[1], axis=along[0]) if along and along[0] else a[idx]

    def gather_checks_range(self, a, axis, idx) -> bool:
        """Whether ``gather`` itself raises for an index outside [0, a.shape[axis])."""
        return False

    def any_outside(self, a, lo: int, hi: int, skip=None) -> bool:
        """Whether an element of integer ``a`` other than ``skip`` lies outside [lo, hi)."""
        if skip is None:  # two reductions, no temporaries
            return bool(a.size) and bool(a.min() < lo or a.max() >= hi)
        return bool((((a < lo) | (a >= hi)) & (a != skip)).any())

    def setitem(self, a, idx, value):
        a[idx] = value

    def index_add(self, shape, idx, g):
        """zeros(shape) with ``g`` added at ``idx`` (repeated indices accumulate)."""
        out = self.xp.zeros(shape, dtype=g.dtype)
        along = axis_index(idx, len(shape))
        if _unique_positions(idx):  # (np.add.at took twice as long for a mask)
            out[idx] = g
        elif along is not None and along[1].size and along[0] == 0:
            _add_rows(out, along[1], g)
        elif along is not None and along[1].size:  # the axis moved to the front and back
            d, rows = along
            moved = self.xp.zeros((shape[d],) + shape[:d] + shape[d + 1:], dtype=g.dtype)
            _add_rows(moved, rows, self.xp.moveaxis(g, list(range(d, d + rows.ndim)),
                                                    list(range(rows.ndim))))
            out[...] = self.xp.moveaxis(moved, 0, d)
        else:
            self.xp.add.at(out, idx, g)
        return out

    def concatenate(self, arrays, axis):
        return self.xp.concatenate(arrays, axis=axis)

    def stack(self, arrays, axis):
        return self.xp.stack(arrays, axis=axis)

    def flip(self, a, axes):
        return self.xp.flip(a, axis=axes)

    def repeat(self, a, repeats, axis):
        return self.xp.repeat(a, repeats, axis=axis)

    def tile(self, a, reps):
        return self.xp.tile(a, reps)

    def tril(self, a, k):
        return self._tri(a, k, False) if a.shape[-1] * a.shape[-2] >= 4096 else self.xp.tril(a, k)

    def triu(self, a, k):
        return self._tri(a, k, True) if a.shape[-1] * a.shape[-2] >= 4096 else self.xp.triu(a, k)

    def _tri(self, a, k, upper):
        """A copy zeroed below / above diagonal k by strips of 64 rows: a slice and a 64-wide
        mask each (NumPy's where over the whole mask is 3x slower)."""
        out, (n, m), xp = a.copy(), a.shape[-2:], self.xp
        for r in range(0, n, 64):
            e = min(r + 64, n)
            if upper:  # zero j < i + k: all of j < r + k, some of r + k <= j < e + k - 1
                c0, c1 = min(max(r + k, 0), m), min(max(e + k - 1, 0), m)
                out[..., r:e, :c0] = 0
                mask = xp.tri(e - r, c1 - c0, r + k - c0 - 1, dtype=bool)
            else:  # zero j > i + k: all of j >= e + k, some of r + k < j < e + k
                c0, c1 = min(max(r + k + 1, 0), m), min(max(e + k, 0), m)
                out[..., r:e, c1:] = 0
                mask = ~xp.tri(e - r, c1 - c0, r + k - c0, dtype=bool)
            xp.copyto(out[..., r:e, c0:c1], 0, casting="unsafe", where=mask)  # also bool
        return out

    def gather(self, a, axis, idx):
        return self.xp.take_along_axis(a, idx, axis=axis)

    def scatter_add(self, base, axis, idx, src, inplace=False):
        """``base`` (a copy, unless ``inplace``) with ``src`` added at ``idx`` along ``axis``."""
        out = base if inplace else base.copy()
        grids = self.xp.indices(idx.shape, sparse=True)
        full = tuple(idx if d == axis else grids[d] for d in range(idx.ndim))
        self.xp.add.at(out, full, src[tuple(slice(0, n) for n in idx.shape)])
        return out

    def _argsort(self, a, axis, stable):
        # stable either way: ties in the order PyTorch's CPU sort gives them on short rows
        # (NumPy's default introsort put [2, 2, 1, 1]'s ties in reverse)
        return self.xp.argsort(a, axis=axis, kind="stable")

    def sort(self, a, axis, descending, stable):
        if descending:  # stable among ties: argsort the flipped array, then map back
            idx = self.xp.flip(self._argsort(self.xp.flip(a, axis), axis, True), axis)
            idx = a.shape[axis] - 1 - idx if a.shape[axis] else idx
        else:
            idx = self._argsort(a, axis, stable)
        return self.xp.take_along_axis(a, idx, axis=axis), idx

    def topk(self, a, k, axis, largest, sorted_):
        xp = self.xp
        n = a.shape[axis]
        if 0 < k and 4 * k <= n and a.dtype.kind == "f" and not xp.isnan(a).any():
            # select the k with a partition (O(n)), then sort only those, by value and ties
            # by index; which of the elements tied at the k-th value are taken is the
            # partition's choice (PyTorch does not promise one either)
            key = -a if largest else a
            part = xp.sort(xp.take(xp.argpartition(key, k - 1, axis=axis), xp.arange(k),
                                   axis=axis), axis=axis)
            order = xp.argsort(xp.take_along_axis(key, part, axis=axis), axis=axis, kind="stable")
            idx = xp.take_along_axis(part, order, axis=axis)
            return xp.take_along_axis(a, idx, axis=axis), idx
        _, idx = self.sort(a, axis, descending=largest, stable=True)
        idx = xp.take(idx, xp.arange(k), axis=axis)
        return xp.take_along_axis(a, idx, axis=axis), idx

    def nonzero(self, a):
        return self.xp.nonzero(a)

