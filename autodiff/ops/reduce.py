"""Reductions: sum, mean, var, max/min, prod, logsumexp, norm, arg- and bool reductions."""

from __future__ import annotations

import builtins
import collections
import math

import numpy as np

from .. import dtypes
from ..autograd.node import Op
from ..errors import DTypeError, IndexRangeError
from ._util import constant, float_operand, norm_dim, norm_dims, require_float
from .elementwise import Expand, expand, where
from .movement import Gather

Extremum = collections.namedtuple("Extremum", ["values", "indices"])


def _kept_shape(shape, axes):
    """``shape`` with the reduced ``axes`` set to 1 (keepdims)."""
    if axes is None:
        return (1,) * len(shape)
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


def _count(shape, axes) -> int:
    return math.prod(shape) if axes is None else math.prod(shape[i] for i in axes)


def _unreduce(g, in_shape, axes, keepdim):
    """Broadcast a reduced gradient back to the input shape (one Expand op)."""
    if keepdim:
        return expand(g, in_shape)
    return Expand.apply(g, shape=in_shape, kept=_kept_shape(in_shape, axes))


class Sum(Op):
    """y = sum(x, axes); dx = expand(dy, x.shape)."""

    def forward(self, x, axes, keepdim):
        self.meta = (x._data.shape, axes, keepdim)
        return self.backend.sum(x._data, axes, keepdim)

    def backward(self, g):
        return (_unreduce(g, *self.meta),)

    def backward_data(self, g):
        shape, axes, keepdim = self.meta
        return (self.backend.broadcast_to(g.reshape(_kept_shape(shape, axes)), shape),)


class Mean(Op):
    """y = mean(x, axes); dx = expand(dy, x.shape) / n."""

    def forward(self, x, axes, keepdim):
        self.meta = (x._data.shape, axes, keepdim)
        return self.backend.mean(x._data, axes, keepdim)

    def backward(self, g):
        shape, axes, _ = self.meta
        return (_unreduce(g, *self.meta) / builtins.max(_count(shape, axes), 1),)

    def backward_data(self, g):
        shape, axes, _ = self.meta
        k = self.backend
        g = k.div(g, g.dtype.type(builtins.max(_count(shape, axes), 1)))
        return (k.broadcast_to(g.reshape(_kept_shape(shape, axes)), shape),)


def _from_half(a):
    """float16 data as float32, for the reductions that PyTorch accumulates in float32."""
    return a.astype(np.float32) if a.dtype == np.float16 else a


def _to_half(a, x):
    return a.astype(np.float16) if x._data.dtype == np.float16 else a


class Var(Op):
    """y = sum((x - mean)**2) / (n - c); dx = dy * 2 (x - mean) / (n - c)."""

    def forward(self, x, axes, correction, keepdim):
        return _to_half(self.var32(x, axes, correction, keepdim), x)

    def var32(self, x, axes, correction, keepdim):
        """The variance, float16 input in float32 (as PyTorch: its squares overflow)."""
        self.saved = (x,)
        self.meta = (x._data.shape, axes, keepdim, correction)
        return self.backend.var(_from_half(x._data), axes, correction, keepdim)

    def backward(self, g):
        (x,) = self.saved
        shape, axes, keepdim, correction = self.meta
        dims = tuple(range(len(shape))) if axes is None else axes
        centered = x - x.mean(dims, keepdim=True)
        dof = _count(shape, axes) - correction
        whole = dof <= 0 and axes is None  # PyTorch: dy * (NaN where x == mean, else inf)
        scale = math.inf if whole or not dof else 2.0 / dof  # else 2 / (n - c), any sign
        return (_unreduce(g, shape, axes, keepdim) * (centered / centered if whole else centered)
                * scale,)

    def backward_data(self, g):
        (x,) = self.saved
        shape, axes, _, correction = self.meta
        k, xd = self.backend, x._data
        dims = tuple(range(len(shape))) if axes is None else axes
        dof = _count(shape, axes) - correction
        whole = dof <= 0 and axes is None  # as in backward
        scale = g.dtype.type(math.inf if whole or not dof else 2.0 / dof)
        # two full-size passes: x - mean, then times the (reduced-shape) dy * scale
        centered = k.sub(xd, k.mean(xd, dims, True))
        centered = k.div(centered, centered) if whole else centered
        return (k.mul(centered, k.mul(g.reshape(_kept_shape(shape, axes)), scale)),)


class Std(Var):
    """y = sqrt(var(x)); dx = dy (x - mean) / ((n - c) y), 0 where y == 0 (PyTorch)."""

    def forward(self, x, axes, correction, keepdim):
        return self.save_output(
            _to_half(self.backend.sqrt(self.var32(x, axes, correction, keepdim)), x))

    def backward(self, g):
        y = self.output()  # the mask is applied at the reduced shape, where it is cheap
        return Var.backward(self, where(y == 0, 0.0, g / (2 * y)))

    def backward_data(self, g):
        k, y = self.backend, self.out_data
        nz = k.compare("not_equal", y, y.dtype.type(0))
        two_y = k.mul(k.where(nz, y, y.dtype.type(1)), y.dtype.type(2))
        return Var.backward_data(self, k.where(nz, k.div(g, two_y), g.dtype.type(0)))


class Amax(Op):
    """y = max(x, axes); the grad is split evenly among the maximal elements."""

    kernel = "amax"

    def forward(self, x, axes, keepdim, nan_wins=False):
        self.saved = (x,)
        self.meta = (x._data.shape, axes, keepdim)
        self.nan_wins = nan_wins  # max()/min() of all elements: a NaN result takes the grad
        return self.save_output(getattr(self.backend, self.kernel)(x._data, axes, keepdim))

    def backward(self, g):
        (x,) = self.saved
        shape, axes, keepdim = self.meta
        y = _unreduce(self.output().detach(), shape, axes, keepdim)
        mask = x == y
        if self.nan_wins and bool(self.output().isnan().any()):
            mask = mask | x.isnan()
        mask = mask.to(g.dtype)
        dims = tuple(range(len(shape))) if axes is None else axes
        count = mask.sum(dims, keepdim=True)
        return (_unreduce(g, shape, axes, keepdim) * mask / count,)


class Amin(Amax):
    """y = min(x, axes); the grad is split evenly among the minimal elements."""

    kernel = "amin"


class Prod(Op):
    """y = prod(x, axes); dx = dy * prod of the other elements."""

    def forward(self, x, axes, keepdim):
        self.saved = (x,)
        self.meta = (x._data.shape, axes, keepdim)
        return self.save_output(self.backend.prod(x._data, axes, keepdim))

    def backward(self, g):
        (x,) = self.saved
        shape, axes, keepdim = self.meta
        y = _unreduce(self.output(), shape, axes, keepdim)
        gx = _unreduce(g, shape, axes, keepdim)
        xp = x._dev.backend.xp
        if not bool(xp.any(x._data == 0)):
            return (gx * y / x,)
        # zeros present: the product of the others, from exclusive cumulative products
        others = _prod_of_others(x, axes)
        return (gx * others,)


def _prod_of_others(x, axes):
    b = x._dev.backend
    xp = b.xp
    a = x._data
    dims = tuple(range(a.ndim)) if axes is None else axes
    rest = [d for d in range(a.ndim) if d not in dims]
    moved = xp.transpose(a, rest + list(dims))
    flat = moved.reshape(moved.shape[: len(rest)] + (-1,))
    # exclusive products from the left times those from the right: out[i] = L[i-1] R[i+1]
    out = xp.ones_like(flat)
    out[..., 1:] = _cumprod_last(b, flat, False)[..., :-1]
    out[..., :-1] *= _cumprod_last(b, flat, True)[..., 1:]
    inv = xp.argsort(xp.asarray(rest + list(dims)))
    return constant(xp.transpose(out.reshape(moved.shape), tuple(int(i) for i in inv)), x._dev)


def _cumprod_last(b, a, reverse):
    """The cumulative product along the last axis (from its end with reverse): the backend's
    (C++ in float64 on cpp, no flips), else NumPy's / CuPy's."""
    r = b.cumprod(a, -1, reverse) if hasattr(b, "cumprod") else None
    if r is None:
        r = b.xp.flip(b.xp.cumprod(b.xp.flip(a, -1), -1), -1) if reverse else b.xp.cumprod(a, -1)
    return r


class LogSumExp(Op):
    """y = log(sum(exp(x))); dx = dy * exp(x - y)."""

    def forward(self, x, axes, keepdim):
        self.saved = (x,)
        self.meta = (x._data.shape, axes, keepdim)
        return self.save_output(self.backend.logsumexp(x._data, axes, keepdim))

    def backward(self, g):
        (x,) = self.saved
        shape, axes, keepdim = self.meta
        y = _unreduce(self.output(), shape, axes, keepdim)
        return (_unreduce(g, shape, axes, keepdim) * (x - y).exp(),)

    def backward_data(self, g):
        (x,) = self.saved
        shape, axes, _ = self.meta
        k, kept = self.backend, _kept_shape(shape, axes)
        e = k.exp(k.sub(x._data, self.out_data.reshape(kept)))  # softmax over axes
        return (k.mul(e, g.reshape(kept)),)


class SumSquares(Op):
    """y = sum(x**2) over all elements (no x**2 in memory); dx = 2 x dy."""

    def forward(self, x):
        self.saved = (x,)
        xd = x._data
        return self.backend.mul_sum_to(xd, xd, (1,) * xd.ndim).reshape(())

    def backward(self, g):
        return (self.saved[0] * (g * 2),)

    def backward_data(self, g):
        return (self.backend.mul(self.saved[0]._data, g * g.dtype.type(2)),)


def sum_squares(x):
    """sum(x**2) in one fused pass each way (the MSE loss's reduction)."""
    return SumSquares.apply(float_operand(x))


class Norm2(Op):
    """y = sqrt(sum(x**2)); dx = dy * x / y (0 where y == 0)."""

    def forward(self, x, axes, keepdim):
        self.saved = (x,)
        self.meta = (x._data.shape, axes, keepdim)
        b, xd = self.backend, _from_half(x._data)
        kept = _kept_shape(xd.shape, axes)
        ss = b.mul_sum_to(xd, xd, kept)  # sum of squares without x * x in memory
        return self.save_output(_to_half(b.sqrt(ss if keepdim else ss.reshape(
            tuple(n for i, n in enumerate(kept) if axes is not None and i not in axes))), x))

    def backward(self, g):
        (x,) = self.saved
        shape, axes, keepdim = self.meta
        y = _unreduce(self.output(), shape, axes, keepdim)
        safe = y.masked_fill(y == 0, 1.0)
        return (_unreduce(g, shape, axes, keepdim) * x / safe * (y != 0).to(x.dtype),)

    def backward_data(self, g):
        (x,) = self.saved
        shape, axes, _ = self.meta
        k, kept = self.backend, _kept_shape(shape, axes)
        y = self.out_data.reshape(kept)
        nz = k.compare("not_equal", y, y.dtype.type(0))
        s = k.where(nz, k.div(g.reshape(kept), k.where(nz, y, y.dtype.type(1))), g.dtype.type(0))
        return (k.mul(x._data, s),)  # dx = x * dy / y, 0 where y == 0


# ------------------------------------------------------------------ public functions
def _np_names(dim, keepdim, axis, keepdims):
    """PyTorch's NumPy-style keyword aliases: axis= for dim=, keepdims= for keepdim=."""
    return (dim if axis is None else axis), (keepdim if keepdims is None else keepdims)


def sum(input, dim=None, keepdim=False, *, dtype=None, axis=None, keepdims=None):
    x = input
    if axis is not None or keepdims is not None:
        dim, keepdim = _np_names(dim, keepdim, axis, keepdims)
    if dtype is not None:
        x = x.to(dtype)
        if x.dtype is dtypes.bool_:  # PyTorch: a sum into bool is an any
            return sum(x, dim, keepdim).to(dtypes.bool_)
    elif x._data.dtype.kind != "f":
        x = x.to(dtypes.int64)  # PyTorch sums bool/int into int64
    return Sum.apply(x, axes=None if dim is None else norm_dims(dim, x.ndim), keepdim=keepdim)


def mean(input, dim=None, keepdim=False, *, dtype=None, axis=None, keepdims=None):
    x = input
    if axis is not None or keepdims is not None:
        dim, keepdim = _np_names(dim, keepdim, axis, keepdims)
    if dtype is not None:
        x = x.to(dtype)
    if not x.dtype.is_floating_point:
        raise DTypeError(f"mean(): could not infer output dtype. Input dtype must be either a "
                        f"floating point or complex dtype. Got: {x.dtype.name}; use x.float()")
    return Mean.apply(x, axes=norm_dims(dim, x.ndim), keepdim=keepdim)


def _unbiased_overload(dim, unbiased):
    """PyTorch's var(input, unbiased) / std(input, unbiased): a bool in dim's place."""
    return (None, dim) if dim.__class__ is bool else (dim, unbiased)


def var(input, dim=None, unbiased=None, keepdim=False, *, correction=None, axis=None,
        keepdims=None):
    x = input
    if axis is not None or keepdims is not None:
        dim, keepdim = _np_names(dim, keepdim, axis, keepdims)
    dim, unbiased = _unbiased_overload(dim, unbiased)
    correction = (1 if unbiased is None or unbiased else 0) if correction is None else correction
    require_float("var", x)  # PyTorch: std and var only support floating point dtypes
    return Var.apply(x, axes=norm_dims(dim, x.ndim), correction=correction,
                     keepdim=keepdim)


def std(input, dim=None, unbiased=None, keepdim=False, *, correction=None, axis=None,
        keepdims=None):
    x = input
    if axis is not None or keepdims is not None:
        dim, keepdim = _np_names(dim, keepdim, axis, keepdims)
    dim, unbiased = _unbiased_overload(dim, unbiased)
    correction = (1 if unbiased is None or unbiased else 0) if correction is None else correction
    require_float("std", x)  # PyTorch: std and var only support floating point dtypes
    return Std.apply(x, axes=norm_dims(dim, x.ndim), correction=correction,
                     keepdim=keepdim)


def _nonempty(name, x, axes):
    """PyTorch's errors for a max/min/arg reduction over no elements."""
    if x.numel() or x.ndim == 0:
        return
    if axes is None:
        raise IndexRangeError(f"{name}(): Expected reduction dim to be specified for "
                           f"input.numel() == 0. Specify the reduction dim with the 'dim' argument.")
    for a in axes:
        if x.shape[a] == 0:
            raise IndexRangeError(f"{name}(): Expected reduction dim {a} to have non-zero size.")


def _extremum(op, argop, x, dim, keepdim):
    _nonempty(op.__name__[1:].lower(), x, None if dim is None else (norm_dim(dim, x.ndim),))
    if dim is None:
        return op.apply(x, axes=None, keepdim=False, nan_wins=True)
    d = norm_dim(dim, x.ndim)
    if x.ndim == 0:  # PyTorch: a 0-d tensor is its own maximum, at index 0
        return Extremum(x * 1, argop(x, d, keepdim))
    idx = argop(x, d, keepdim=True)
    values = Gather.apply(x, idx, dim=d)  # (indices known in range: no check)
    if not keepdim:  # the indices need no graph: their array squeezed, not a view op
        values, idx = values.squeeze(d), constant(idx._data.squeeze(d), idx._dev)
    return Extremum(values, idx)


def max(input, dim=None, keepdim=False, *, axis=None, keepdims=None):
    """max(x) -> the largest value; max(x, dim) -> (values, indices)."""
    x = input
    if axis is not None or keepdims is not None:
        dim, keepdim = _np_names(dim, keepdim, axis, keepdims)
    if dim is not None and not isinstance(dim, int):
        from .elementwise import maximum

        return maximum(x, dim)
    return _extremum(Amax, argmax, x, dim, keepdim)


def min(input, dim=None, keepdim=False, *, axis=None, keepdims=None):
    """min(x) -> the smallest value; min(x, dim) -> (values, indices)."""
    x = input
    if axis is not None or keepdims is not None:
        dim, keepdim = _np_names(dim, keepdim, axis, keepdims)
    if dim is not None and not isinstance(dim, int):
        from .elementwise import minimum

        return minimum(x, dim)
    return _extremum(Amin, argmin, x, dim, keepdim)


def amax(input, dim=None, keepdim=False, *, axis=None, keepdims=None):
    x = input
    if axis is not None or keepdims is not None:
        dim, keepdim = _np_names(dim, keepdim, axis, keepdims)
    _nonempty("amax", x, norm_dims(dim, x.ndim))
    return Amax.apply(x, axes=norm_dims(dim, x.ndim), keepdim=keepdim)


def amin(input, dim=None, keepdim=False, *, axis=None, keepdims=None):
    x = input
    if axis is not None or keepdims is not None:
        dim, keepdim = _np_names(dim, keepdim, axis, keepdims)
    _nonempty("amin", x, norm_dims(dim, x.ndim))
    return Amin.apply(x, axes=norm_dims(dim, x.ndim), keepdim=keepdim)


def _arg(kernel):
    def op(input, dim=None, keepdim=False, *, axis=None, keepdims=None):
        x = input
        if axis is not None or keepdims is not None:
            dim, keepdim = _np_names(dim, keepdim, axis, keepdims)
        _nonempty(kernel, x, None if dim is None else (norm_dim(dim, x.ndim),))
        b = x._dev.backend
        if dim is None or x.ndim == 0:
            norm_dim(dim or 0, x.ndim)
            out = getattr(b, kernel)(x._data.reshape(-1), None, False)
            if keepdim:
                out = out.reshape((1,) * x.ndim)
        else:
            out = getattr(b, kernel)(x._data, norm_dim(dim, x.ndim), keepdim)
        return constant(b.cast(b.asarray(out), dtypes.int64.np), x._dev)

    op.__name__ = kernel
    op.__doc__ = f"Indices of the {kernel[3:]}imum along dim (flattened when dim is None)."
    return op


argmax, argmin = _arg("argmax"), _arg("argmin")


def prod(input, dim=None, keepdim=False, *, dtype=None, axis=None, keepdims=None):
    x = input
    if axis is not None or keepdims is not None:
        dim, keepdim = _np_names(dim, keepdim, axis, keepdims)
    if dtype is not None or not x.dtype.is_floating_point:  # integers and bool: int64
        x = x.to(dtype or dtypes.int64)
    return Prod.apply(x, axes=norm_dims(dim, x.ndim), keepdim=keepdim)


def logsumexp(input, dim=None, keepdim=False, *, axis=None, keepdims=None):
    x = input
    if axis is not None or keepdims is not None:
        dim, keepdim = _np_names(dim, keepdim, axis, keepdims)
    return LogSumExp.apply(float_operand(x), axes=norm_dims(dim, x.ndim), keepdim=keepdim)


def norm(input, p="fro", dim=None, keepdim=False, dtype=None):
    """Vector p-norm over ``dim`` (all elements by default); 'fro' is the 2-norm."""
    input = float_operand(input if dtype is None else input.to(dtype))  # (cast first, as torch)
    axes = norm_dims(dim, input.ndim)
    if p in ("fro", 2, 2.0):
        return Norm2.apply(input, axes=axes, keepdim=keepdim)
    if p in (float("inf"), "inf"):
        return amax(input.abs(), dim, keepdim)
    if p in (float("-inf"), "-inf"):
        return amin(input.abs(), dim, keepdim)
    if p == 1:
        return input.abs().sum(dim, keepdim)
    if p == 0:  # differentiable, with PyTorch's zero gradient
        return where(input != 0, 1.0, input * 0).sum(dim, keepdim)
    if p == "nuc":
        from ..linalg import matrix_norm

        return matrix_norm(input, "nuc", (-2, -1) if dim is None else dim, keepdim)
    a = input.abs()
    if p < 0:  # a zero element makes the norm 0 (inf ** (1/p)), with a zero gradient
        _nonempty("linalg.vector_norm", input, axes)  # (no identity: PyTorch raises)
        return where(a != 0, where(a != 0, a, 1) ** p, math.inf).sum(dim, keepdim) ** (1 / p)
    # PyTorch's gradient conventions, never 0 * inf = NaN: 0 at a zero vector, and (p < 1)
    # 0 at a zero element (`!= 0`, not `> 0`, so that a NaN element gives a NaN norm)
    if p < 1:
        a = where(a != 0, where(a != 0, a, 1) ** p, 0)
    s = a.sum(dim, keepdim) if p < 1 else (a ** p).sum(dim, keepdim)
    return where(s != 0, where(s != 0, s, 1) ** (1.0 / p), 0)


def _bool_reduce(kernel):
    def op(input, dim=None, keepdim=False, *, axis=None, keepdims=None):
        x = input
        if axis is not None or keepdims is not None:
            dim, keepdim = _np_names(dim, keepdim, axis, keepdims)
        b = x._dev.backend
        axes = norm_dims(dim, x.ndim)
        r = b.asarray(getattr(b, kernel)(x._data, axes, keepdim))
        uint8 = x.dtype is dtypes.uint8  # PyTorch keeps uint8 (its any/all predate bool)
        return constant(r.astype(x._data.dtype) if uint8 else r, x._dev)

    op.__name__ = kernel
    op.__doc__ = f"True where {kernel} elements along dim are non-zero."
    return op


any, all = _bool_reduce("any"), _bool_reduce("all")
