"""Elementwise math beyond the API contract, under PyTorch's names: the rest of the
trigonometric and hyperbolic family, ``expm1``, ``log2``, ``log10``, ``exp2``, ``logit``,
``xlogy``, ``copysign``, ``fmax``/``fmin``, ``nan_to_num``, ``sgn``, ``signbit``,
``heaviside``, ``deg2rad``/``rad2deg``.

Each unary function is a custom autograd Function: the forward runs the backend's array
module (NumPy or CuPy) on the data, the backward is written with Tensor ops, so gradients
are differentiable again (double backward). Integer inputs are promoted to the default float
dtype, as PyTorch does. Exported as ``ad.<name>`` and as Tensor methods.
"""

from __future__ import annotations

import math

import numpy as np

from . import ops
from .autograd.function import Function
from .autograd.node import Op
from .backends.numpy_backend import _quiet
from .creation import ones_like, zeros, zeros_like
from .ops._util import constant, float_operand, float_operands, operands
from .tensor import Tensor

__all__ = [
    "acos",
    "acosh",
    "arccos",
    "arccosh",
    "arcsin",
    "arcsinh",
    "arctan",
    "arctanh",
    "asin",
    "asinh",
    "atan",
    "atanh",
    "copysign",
    "cosh",
    "deg2rad",
    "exp2",
    "expm1",
    "fmax",
    "fmin",
    "heaviside",
    "log2",
    "log10",
    "logit",
    "nan_to_num",
    "rad2deg",
    "sgn",
    "signbit",
    "sinh",
    "tan",
    "xlogy",
]


def _unary(name: str, ufunc: str, derivative):
    """``name(x)``: ``xp.<ufunc>`` forward; dx = dy * derivative(x, y) (Tensor ops)."""

    class _Op(Function):
        @staticmethod
        def forward(ctx, x):
            with np.errstate(all="ignore"):  # log(0) = -inf, asin(2) = nan, silently
                y = Tensor._make(getattr(x._dev.backend.xp, ufunc)(x._data), x._dev, False,
                                 None)
            ctx.save_for_backward(x, y)
            return y

        @staticmethod
        def backward(ctx, g):
            x, y = ctx.saved_tensors
            return g * derivative(x, y)

    _Op.__name__ = _Op.__qualname__ = name.capitalize()

    def fn(input: Tensor) -> Tensor:
        return _Op.apply(float_operand(input))

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"Elementwise {name}, differentiable (PyTorch's torch.{name})."
    return fn


tan = _unary("tan", "tan", lambda x, y: 1 + y * y)
asin = _unary("asin", "arcsin", lambda x, y: (1 - x * x).rsqrt())
acos = _unary("acos", "arccos", lambda x, y: -(1 - x * x).rsqrt())
atan = _unary("atan", "arctan", lambda x, y: 1 / (1 + x * x))
sinh = _unary("sinh", "sinh", lambda x, y: cosh(x))
cosh = _unary("cosh", "cosh", lambda x, y: sinh(x))
asinh = _unary("asinh", "arcsinh", lambda x, y: (x * x + 1).rsqrt())
acosh = _unary("acosh", "arccosh", lambda x, y: (x * x - 1).rsqrt())
atanh = _unary("atanh", "arctanh", lambda x, y: 1 / (1 - x * x))
expm1 = _unary("expm1", "expm1", lambda x, y: y + 1)
log2 = _unary("log2", "log2", lambda x, y: 1 / (x * math.log(2.0)))
log10 = _unary("log10", "log10", lambda x, y: 1 / (x * math.log(10.0)))
exp2 = _unary("exp2", "exp2", lambda x, y: y * math.log(2.0))
arcsin, arccos, arctan, arcsinh, arccosh, arctanh = asin, acos, atan, asinh, acosh, atanh


def logit(input: Tensor, eps: float | None = None) -> Tensor:
    """log(x / (1 - x)), x clamped to [eps, 1 - eps] first when eps is given."""
    input = float_operand(input)
    if eps is not None:
        input = input.clamp(eps, 1 - eps)
    return _Logit.apply(input)


class _Logit(Function):
    """log(x / (1 - x)) (PyTorch's formula); dx = dy / (x (1 - x)): inf at 0 and 1, not the
    NaN that the chain rule through x / (1 - x) gives, and NaN outside [0, 1] (PyTorch's)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return (x / (1 - x)).log()

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return (g / (x * (1 - x))).masked_fill((x < 0) | (x > 1), float("nan"))


def xlogy(input, other) -> Tensor:
    """x * log(y), 0 where x == 0 (and y is not NaN)."""
    return _XLogY.apply(*float_operands(input, other))


class _XLogY(Function):
    """x log y (0 where x == 0 and y is not NaN); PyTorch's gradients: dx = log y (also where
    x == 0, except 0 where y <= 0 there), dy = x / y."""

    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        ctx.no_zero = _no_zero(x)
        if ctx.no_zero:  # (the masks change nothing: 2 ops, not 10)
            return x * y.log()
        zero = (x == 0) & ~y.isnan()
        safe_y = ops.where(zero, ones_like(y), y)
        return ops.where(zero, zeros_like(x * safe_y), x * safe_y.log())

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        gx = gy = None
        if ctx.needs_input_grad[0] and ctx.no_zero:
            gx = (g * y.log()).sum_to_size(tuple(x.shape))
        elif ctx.needs_input_grad[0]:
            mask = (x == 0) & (y <= 0)
            gx = (g * ops.where(mask, zeros_like(y), ops.where(mask, ones_like(y), y).log())
                  ).sum_to_size(tuple(x.shape))
        if ctx.needs_input_grad[1]:
            gy = (g * x / y).sum_to_size(tuple(y.shape))
        return gx, gy


def _no_zero(x: Tensor) -> bool:
    """Whether x holds no zero, known without a device sync (a look at the array on the CPU)."""
    return x.device.backend.is_cpu and not bool((x._data == 0).any())


def copysign(input, other) -> Tensor:
    """|a| with the sign of b (the sign bit: -0.0 counts as negative)."""
    input, other = float_operands(input, other)
    y = ops.where(signbit(other), -input.abs(), input.abs())
    return y + 0 * other if other.requires_grad else y  # b gets a zero gradient, as in PyTorch


def fmax(input, other) -> Tensor:
    """Elementwise maximum that ignores NaN (NaN only where both are)."""
    input, other = operands(input, other)
    if not input.dtype.is_floating_point:
        return ops.maximum(input, other)
    return ops.where(other.isnan() | (input >= other), input, other)


def fmin(input, other) -> Tensor:
    """Elementwise minimum that ignores NaN (NaN only where both are)."""
    input, other = operands(input, other)
    if not input.dtype.is_floating_point:
        return ops.minimum(input, other)
    return ops.where(other.isnan() | (input <= other), input, other)


def nan_to_num(input: Tensor, nan: float = 0.0, posinf: float | None = None,
               neginf: float | None = None) -> Tensor:
    """NaN -> nan, +inf -> posinf, -inf -> neginf (default: the dtype's largest finite)."""
    if not input.dtype.is_floating_point:
        return input.clone()  # nothing to replace; the dtype stays (bool * 1 would be int64)
    return _NanToNum.apply(input, nan=nan, posinf=posinf, neginf=neginf)


class _NanToNum(Op):
    """y = x with NaN and infinities replaced; dx = dy where x is finite, else 0.  A primitive
    for speed (measured): a finiteness check and a copy (on the CPU), else one nan_to_num,
    where the composite took three wheres and three compares ((256, 1024): 0.28 ms, now
    0.05, PyTorch's 0.025)."""

    def forward(self, x, nan, posinf, neginf):
        b, a = self.backend, x._data
        self.finite = b.isfinite(a)
        if b.is_cpu and self.finite.all():
            self.finite = None  # (dx = dy)
            return b.copy(a)
        return b.xp.nan_to_num(a, copy=True, nan=nan, posinf=posinf, neginf=neginf)

    def backward(self, g):
        return (g if self.finite is None else g * constant(self.finite, g._dev),)


def sgn(input: Tensor) -> Tensor:
    """The sign, as ``sign`` for real tensors."""
    return input.sign()


def signbit(input: Tensor) -> Tensor:
    """True where the sign bit is set (negative numbers, -0.0, negative NaNs)."""
    return Tensor._make(input._dev.backend.xp.signbit(input._data), input._dev, False, None)


def heaviside(input: Tensor, values) -> Tensor:
    """0 where x < 0, ``values`` where x == 0, 1 where x > 0 (no gradient)."""
    input, values = operands(input, values)
    one, zero = ones_like(input), zeros_like(input)
    return ops.where(input == 0, values, ops.where(input > 0, one, zero)).detach()


def deg2rad(input: Tensor) -> Tensor:
    return float_operand(input) * (math.pi / 180.0)


def rad2deg(input: Tensor) -> Tensor:
    return float_operand(input) * (180.0 / math.pi)


# ----------------------------------------------------------------- floating-only kernels
_TORCH_NAMES = {"bool": "Bool", "uint8": "Byte", "int8": "Char", "int16": "Short",
                "int32": "Int", "int64": "Long"}


def floating_only(kernel: str, *xs: Tensor) -> None:
    """PyTorch's NotImplementedError for a kernel without integer and bool versions."""
    for x in xs:
        if not x.dtype.is_floating_point:
            raise NotImplementedError(f'"{kernel}" not implemented for '
                                      f"'{_TORCH_NAMES.get(x.dtype.name, x.dtype.name)}'")


def round_decimals(x: Tensor, decimals: int) -> Tensor:
    """round(x, decimals=d), d != 0: half to even at d decimal places (zero gradient)."""
    floating_only("round_cpu", x)
    xp = x._dev.backend.xp
    return ops.compare.piecewise_constant(x, _quiet(lambda a: xp.round(a, decimals)))


# ----------------------------------------------------------------- rounded division, remainder
# PyTorch's CPU kernels value for value: floor division and remainder start from C's fmod, which
# is exact (a - b * floor(a / b) rounds for large quotients and is NaN at b = inf).
@_quiet
def _fmod_kernel(xp, a, b):
    return xp.fmod(a, b)


@_quiet
def _remainder_kernel(xp, a, b):
    m = xp.fmod(a, b)
    return xp.where((m != 0) & ((b < 0) != (m < 0)), m + b, m)  # moved to b's sign


@_quiet
def _remainder_single(xp, a, b, floor: bool):
    """fmod / remainder of float32 or float16 arrays without libm's fmod (10 ns an element):
    in float64, n = trunc or floor(a / b) is exact while |a / b| < 2^27 (a quotient that near
    an integer rounds to it only when it is one) and so is r = a - n b (n b has <= 51 bits),
    then rounded once to a's dtype; a zero takes a's sign as fmod's. NaN, inf, b = 0 and
    larger quotients go to the exact kernels."""
    r = a.astype(np.float64) / b
    big = ~(xp.abs(r) < 2.0 ** 27)
    (xp.floor if floor else xp.trunc)(r, out=r)
    r *= b
    xp.subtract(a, r, out=r)  # exact
    big |= xp.isnan(r)  # b = +-inf
    u = np.dtype(f"u{a.itemsize}")
    out = r.astype(a.dtype)
    sign = xp.broadcast_to(a, out.shape).view(u) & u.type(1 << (8 * a.itemsize - 1))
    out.view(u)[...] |= sign if not floor else sign * (out == 0)
    if big.any():
        ab, bb = xp.broadcast_to(a, out.shape), xp.broadcast_to(b, out.shape)
        out[big] = (_remainder_kernel if floor else _fmod_kernel)(xp, ab[big], bb[big])
    return out


@_quiet
def _div_floor_kernel(xp, a, b):
    m = xp.fmod(a, b)
    d = (a - m) / b  # exact up to the last rounding
    d = xp.where((m != 0) & ((b < 0) != (m < 0)), d - 1, d)
    f = xp.floor(d)
    f = xp.where(d - f > 0.5, f + 1, f)
    q = a / b
    return xp.where(b == 0, q, xp.where(d != 0, f, xp.copysign(xp.zeros_like(q), q)))


@_quiet
def _div_trunc_kernel(xp, a, b):
    return xp.trunc(a / b)


class _Rounded(Function):
    """q = floor(a / b) or trunc(a / b), PyTorch's; da = db = 0 (piecewise constant)."""

    @staticmethod
    def forward(ctx, a, b, kernel):
        ctx.shapes = (tuple(a.shape), tuple(b.shape))
        return Tensor._make(kernel(a._dev.backend.xp, a._data, b._data), a._dev, False, None)

    @staticmethod
    def backward(ctx, g):
        return zeros(ctx.shapes[0], dtype=g.dtype, device=g.device), zeros(
            ctx.shapes[1], dtype=g.dtype, device=g.device), None


def div_rounded(a: Tensor, b: Tensor, mode: str) -> Tensor:
    """``div(a, b, rounding_mode=mode)`` of two floating tensors of one dtype."""
    return _Rounded.apply(a, b, _div_floor_kernel if mode == "floor" else _div_trunc_kernel)


class _Remainder(Function):
    """r = a - b q exactly, q = floor(a / b) (remainder) or trunc(a / b) (fmod); da = dr,
    db = -dr q (PyTorch's)."""

    @staticmethod
    def forward(ctx, a, b, mode):
        ctx.save_for_backward(a, b)
        ctx.mode = mode
        backend, a_, b_ = a._dev.backend, a._data, b._data
        xp, fast = backend.xp, getattr(backend, "float_remainder", None)
        out = fast(a_, b_, mode == "floor") if fast is not None else None  # C++ on cpp
        if out is not None:
            return Tensor._make(out, a._dev, False, None)
        if a_.dtype.itemsize <= 4 and a_.size >= 64:  # float32 / float16: 5-8x faster
            return Tensor._make(_remainder_single(xp, a_, b_, mode == "floor"), a._dev, False,
                                None)
        kernel = _remainder_kernel if mode == "floor" else _fmod_kernel
        return Tensor._make(kernel(xp, a_, b_), a._dev, False, None)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        ga = g.sum_to_size(tuple(a.shape)) if ctx.needs_input_grad[0] else None
        gb = (-g * div_rounded(a, b, ctx.mode)).sum_to_size(tuple(b.shape)) \
            if ctx.needs_input_grad[1] else None
        return ga, gb, None


def float_remainder(a: Tensor, b: Tensor, mode: str = "floor") -> Tensor:
    """Python's ``%`` (mode "floor") or C's fmod (mode "trunc") of floating tensors of one
    dtype, exact."""
    return _Remainder.apply(a, b, mode)


# ----------------------------------------------------------------- clamp with tensor bounds
def clamp_tensor(x: Tensor, lo, hi) -> Tensor:
    """min(max(x, lo), hi) for tensor bounds, PyTorch's: a NaN in x or a bound is NaN, lo > hi
    gives hi; dx = dy where lo <= x <= hi, dlo = dy where x < lo < hi, dhi = dy where x > hi or
    hi < lo."""
    if lo is not None:
        x, lo = operands(x, lo)
    if hi is not None:
        x, hi = operands(x, hi)
    if lo is not None and lo.dtype is not x.dtype:
        lo = lo.to(x.dtype)
    return _ClampT.apply(x, lo, hi)


def _clamp_side(xp, extreme, beyond, y, bound):
    """maximum / minimum (NaN from either, 25x faster than a where on a random mask); ties
    take the bound (as PyTorch's vector kernel; its scalar one takes x: 0 or -0, by size),
    which only +-0 shows: the zeros are redone by where(y beyond bound, y, bound)."""
    r = xp.asarray(extreme(y, bound))
    zero = r == 0
    if r.dtype.kind == "f" and zero.any():
        yz, bz = xp.broadcast_to(y, r.shape)[zero], xp.broadcast_to(bound, r.shape)[zero]
        r[zero] = xp.where(beyond(yz, bz), yz, bz)
    return r


class _ClampT(Function):
    @staticmethod
    def forward(ctx, x, lo, hi):
        ctx.save_for_backward(x, lo, hi)
        xp, y = x._dev.backend.xp, x._data
        y = y if lo is None else _clamp_side(xp, xp.maximum, xp.greater, y, lo._data)
        y = y if hi is None else _clamp_side(xp, xp.minimum, xp.less, y, hi._data)
        return Tensor._make(y, x._dev, False, None)

    @staticmethod
    def backward(ctx, g):
        x, lo, hi = ctx.saved_tensors
        keep = ~x.isnan() if lo is None else x >= lo
        keep = keep if hi is None else keep & (x <= hi)
        grads = [ops.where(keep, g, 0.0).sum_to_size(tuple(x.shape)), None, None]
        if lo is not None and ctx.needs_input_grad[1]:
            m = (x < lo) & (lo < hi) if hi is not None else x < lo
            grads[1] = ops.where(m, g, 0.0).sum_to_size(tuple(lo.shape))
        if hi is not None and ctx.needs_input_grad[2]:
            m = (x > hi) | (hi < lo) if lo is not None else x > hi
            grads[2] = ops.where(m, g, 0.0).sum_to_size(tuple(hi.shape))
        return tuple(grads)

for _name in __all__:
    setattr(Tensor, _name, globals()[_name])
del _name
