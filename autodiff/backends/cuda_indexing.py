"""Indexing of the CuPy backend: what CuPy does differently from NumPy there. CuPy wraps
out-of-range integer-array indices around where NumPy and PyTorch raise, so indices are
checked (one fused reduction and one sync per index array); ``take_along_axis`` is one kernel
(CuPy's builds index grids: 100 us for 1024 x 1024); scatter-adds go through ``add.at`` with
the dtypes atomics lack handled; CuPy's argsort is always stable. Mixed into CupyBackend ahead of NumpyBackend; it uses
``self.xp`` (CuPy) and imports nothing from CuPy itself (tests/cuda/fake_cupy.py runs it on
NumPy)."""

from __future__ import annotations

import functools
from math import prod

import numpy as np

from .numpy_backend import _is_basic_index

_ATOMIC = frozenset(np.dtype(t) for t in (np.float32, np.float64, np.int32, np.uint32,
                                          np.uint64))


class CudaIndexing:
    def getitem(self, a, idx):
        _check_bounds(self.xp, a.shape, idx)
        return a[idx]

    def setitem(self, a, idx, value):
        if isinstance(value, (np.ndarray, list, tuple)):
            value = self.asarray(value)
        _check_bounds(self.xp, a.shape, idx)
        a[idx] = value

    def any_outside(self, a, lo, hi, skip=None):
        return _any_outside(self.xp, a, lo, hi, skip)

    def gather(self, a, axis, idx):
        if (a.ndim != idx.ndim or idx.dtype.kind not in "iu" or not idx.size
                or a.shape[:axis] + a.shape[axis + 1:] != idx.shape[:axis] + idx.shape[axis + 1:]):
            return super().gather(a, axis, idx)
        xp = self.xp
        return _gather_kernel(xp)(xp.ascontiguousarray(a), xp.ascontiguousarray(idx),
                                  a.shape[axis], idx.shape[axis], prod(a.shape[axis + 1:]))

    def _argsort(self, a, axis, stable):
        return self.xp.argsort(a, axis=axis)  # always stable; takes no ``kind``

    def index_add(self, shape, idx, g):
        out = self.xp.zeros(shape, dtype=g.dtype)
        if _is_basic_index(idx) or _unique_index(self.xp, idx):
            out[idx] = g
        else:
            _scatter_add_into(self.xp, out, idx, g)
        return out

    def scatter_add(self, base, axis, idx, src, inplace=False):
        xp, out, nd = self.xp, base if inplace else base.copy(), idx.ndim
        full = tuple(idx if d == axis else
                     xp.arange(n).reshape(tuple(-1 if e == d else 1 for e in range(nd)))
                     for d, n in enumerate(idx.shape))
        _scatter_add_into(xp, out, full, src[tuple(slice(0, n) for n in idx.shape)])
        return out


@functools.cache
def _outside_kernel(xp):
    return xp.ReductionKernel(
        "T a, int64 lo, int64 hi, int64 skip, bool use_skip", "bool y",
        "(a < lo || a >= hi) && !(use_skip && a == skip)", "a || b", "y = a", "false",
        "autodiff_any_outside")


def _any_outside(xp, a, lo, hi, skip=None) -> bool:
    """Whether an element of integer ``a`` other than ``skip`` lies outside [lo, hi)."""
    return bool(_outside_kernel(xp)(a, lo, hi, lo if skip is None else skip, skip is not None))


@functools.cache
def _gather_kernel(xp):
    """y[o, j, r] = a[o, k[o, j, r] (+ n if negative), r] over contiguous (outer, ., inner)."""
    return xp.ElementwiseKernel(
        "raw T a, I k, int64 n, int64 m, int64 inner", "T y",
        "const long long o = i / (m * inner), r = i % inner; long long j = k;"
        "if (j < 0) j += n; y = a[(o * n + j) * inner + r];", "autodiff_gather")


def _check_bounds(xp, shape, idx) -> None:
    """Raise IndexError where an integer-array item of ``idx`` is out of range for its dim."""
    items = idx if isinstance(idx, tuple) else (idx,)
    spans = [0 if i is None or i is Ellipsis else getattr(i, "ndim", 1)
             if getattr(i, "dtype", None) == np.bool_ else 1 for i in items]
    d = 0
    for i, span in zip(items, spans):
        if isinstance(i, xp.ndarray) and i.dtype.kind in "iu" and i.size:
            n = shape[d]
            if _any_outside(xp, i, -n, n):
                raise IndexError(f"index out of range: an index is outside [{-n}, {n - 1}] "
                                 f"for dimension {d} of size {n}")
        d += len(shape) - sum(spans) if i is Ellipsis else span


def _unique_index(xp, idx) -> bool:
    """Basic indices plus boolean masks only: every position is hit at most once."""
    items = idx if isinstance(idx, tuple) else (idx,)
    return all(i is None or i is Ellipsis or isinstance(i, (int, slice))
               or (isinstance(i, xp.ndarray) and i.dtype == np.bool_) for i in items)


def _scatter_add_into(xp, out, idx, val):
    """out[idx] += val with repeated indices accumulating (NumPy's ``np.add.at``)."""
    dt = out.dtype
    if dt in _ATOMIC:
        xp.add.at(out, idx, val.astype(dt, copy=False))
    elif dt == np.int64:  # two's-complement addition is the same on uint64 bit patterns
        xp.add.at(out.view(np.uint64), idx,
                  xp.ascontiguousarray(val, dtype=np.int64).view(np.uint64))
    elif dt.kind == "f":  # float16: accumulate in float32
        tmp = out.astype(np.float32)
        xp.add.at(tmp, idx, val.astype(np.float32))
        out[...] = tmp.astype(dt)
    else:  # bool, small ints: no atomics on the GPU; do it on the host
        host = xp.asnumpy(out)
        hidx = tuple(xp.asnumpy(i) if isinstance(i, xp.ndarray) else i for i in (
            idx if isinstance(idx, tuple) else (idx,)))
        np.add.at(host, hidx, xp.asnumpy(val))
        out[...] = xp.asarray(host)
    return out
