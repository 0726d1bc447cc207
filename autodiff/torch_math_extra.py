"""Elementwise PyTorch names that were still missing, composed from existing ops: ``frac``,
``fix``, ``gcd``/``lcm``, ``float_power``, ``ldexp``, ``logaddexp2``, ``isneginf``/
``isposinf``/``isreal``, ``angle``, ``nextafter``, ``frexp``, ``mvlgamma``, the regularized
incomplete gamma functions ``igamma``/``igammac``, the bitwise ``not`` and shifts, and the
spelled-out aliases (``absolute``, ``negative``, ``positive``, ``divide``, ``multiply``,
``subtract``, ``true_divide``, ``greater``, ``less_equal``, ...).

Differentiable where PyTorch differentiates (gradients come from the composed ops, or, for
``igamma``/``igammac``, a custom Function whose backward is Tensor ops); integer-only and
query functions return tensors outside the graph, as PyTorch has no gradient for them.
"""

from __future__ import annotations

import collections
import math

import numpy as np

from . import dtypes, ops
from .autograd.function import Function
from .backends.numpy_backend import _quiet
from .errors import DTypeError
from .math_functions import floating_only
from .ops._util import float_operand, operands, to_tensor_like
from .special import _lgamma, gammaln, multigammaln
from .tensor import Tensor

__all__ = [
    "absolute",
    "angle",
    "bitwise_left_shift",
    "bitwise_not",
    "bitwise_right_shift",
    "divide",
    "fix",
    "float_power",
    "frac",
    "frexp",
    "gcd",
    "greater",
    "greater_equal",
    "igamma",
    "igammac",
    "isneginf",
    "isposinf",
    "isreal",
    "lcm",
    "ldexp",
    "less",
    "less_equal",
    "logaddexp2",
    "multiply",
    "mvlgamma",
    "negative",
    "nextafter",
    "not_equal",
    "positive",
    "subtract",
    "true_divide",
]

FrexpResult = collections.namedtuple("frexp", ["mantissa", "exponent"])


def _const(array, like: Tensor) -> Tensor:
    """A backend array as a Tensor on ``like``'s device, outside the graph."""
    return Tensor._make(array, like._dev, False, None)


def zero_grad_link(value: Tensor, x: Tensor) -> Tensor:
    """``value`` (of x's shape), with a zero-gradient edge to x when x requires grad (what
    PyTorch records for ops such as ``angle`` or ``gt_`` whose derivative is zero)."""
    if not x.requires_grad:
        return value
    ones = _const(x._dev.backend.ones(tuple(x.shape), np.bool_), x)
    return ops.where(ones, value.to(x.dtype), x)


# ----------------------------------------------------------------- aliases
def absolute(x: Tensor) -> Tensor:
    return ops.abs(x)


def negative(x: Tensor) -> Tensor:
    return ops.neg(x)


def positive(x: Tensor) -> Tensor:
    """x itself; bool tensors raise, as in PyTorch."""
    if x.dtype is dtypes.bool_:
        raise RuntimeError("positive: the `+` operator on a bool tensor is not supported")
    return x


def divide(x, other, *, rounding_mode: str | None = None) -> Tensor:
    return ops.div(x, other, rounding_mode=rounding_mode)


def true_divide(x, other) -> Tensor:
    return ops.div(x, other)


def multiply(x, other) -> Tensor:
    return ops.mul(x, other)


def subtract(x, other, *, alpha=1) -> Tensor:
    return ops.sub(x, other, alpha=alpha)


def greater(x, other) -> Tensor:
    return ops.gt(x, other)


def greater_equal(x, other) -> Tensor:
    return ops.ge(x, other)


def less(x, other) -> Tensor:
    return ops.lt(x, other)


def less_equal(x, other) -> Tensor:
    return ops.le(x, other)


def not_equal(x, other) -> Tensor:
    return ops.ne(x, other)


# ----------------------------------------------------------------- rounding and powers
def _require_float(name: str, x: Tensor) -> None:
    if not x.dtype.is_floating_point:
        raise DTypeError(f"{name}: expected a floating dtype, got {x.dtype.name}")


def frac(x: Tensor) -> Tensor:
    """x - trunc(x) (the sign of x); dx = dy."""
    _require_float("frac", x)
    return x - x.detach().trunc()


def fix(x: Tensor) -> Tensor:
    """Round toward zero (``trunc``)."""
    return ops.trunc(x)


def float_power(x, exponent) -> Tensor:
    """x ** exponent computed in float64 (the result is always float64)."""
    if not isinstance(x, Tensor):
        x = to_tensor_like(x, exponent)
    x = x.to(dtypes.float64)
    if isinstance(exponent, Tensor):
        exponent = exponent.to(dtypes.float64)
    else:
        exponent = float(exponent)
    return x**exponent


def ldexp(x: Tensor, other) -> Tensor:
    """x * 2 ** other, as a floating tensor."""
    x, other = operands(x, other)
    x = float_operand(x)
    return x * 2.0 ** other.to(x.dtype)


def logaddexp2(a, b) -> Tensor:
    """log2(2^a + 2^b) without overflow; d/da = 1 / (1 + 2^(b - a)) (1/2 at a == b)."""
    a, b = operands(a, b)
    floating_only("logaddexp2_cpu", a)
    both_inf = a.isinf() & (a == b)
    infs = bool(both_inf.any())
    a_in = a
    if infs:  # inf - inf would be NaN: take those out of the formula
        a, b = ops.where(both_inf, 0.0, a), ops.where(both_inf, 0.0, b)
    m = ops.where(a > b, a, ops.where(a < b, b, a * 0.5 + b * 0.5))  # (a + b overflows)
    out = m + (2.0 ** -(a - b).abs()).log1p() * (1 / math.log(2.0))  # 2^-80 stays
    return ops.where(both_inf, a_in, out) if infs else out


def gcd(a, b) -> Tensor:
    """Greatest common divisor of integer tensors (non-negative; gcd(0, 0) = 0)."""
    a, b = _int_pair("gcd", a, b)
    return _const(a._dev.backend.xp.gcd(a._data, b._data), a)


def lcm(a, b) -> Tensor:
    """Least common multiple of integer tensors (non-negative)."""
    a, b = _int_pair("lcm", a, b)
    return _const(a._dev.backend.xp.lcm(a._data, b._data), a)


def _int_pair(name: str, a, b):
    a, b = operands(a, b)
    if a.dtype.is_floating_point or a.dtype is dtypes.bool_:
        raise DTypeError(f"{name}: expected integer tensors, got {a.dtype.name}")
    return a, b


# ----------------------------------------------------------------- predicates and queries
def isneginf(x: Tensor) -> Tensor:
    """True where x is -inf (never for integer tensors)."""
    return x == -math.inf if x.dtype.is_floating_point else _falses(x)


def isposinf(x: Tensor) -> Tensor:
    """True where x is +inf (never for integer tensors)."""
    return x == math.inf if x.dtype.is_floating_point else _falses(x)


def isreal(x: Tensor) -> Tensor:
    """True everywhere: autodiff has no complex dtype."""
    return ~_falses(x)


def _falses(x: Tensor) -> Tensor:
    return _const(x._dev.backend.zeros(tuple(x.shape), np.bool_), x)


def angle(x: Tensor) -> Tensor:
    """The argument of a real number: pi where x < 0, else 0 (NaN stays NaN); zero grad."""
    x = float_operand(x)
    value = _const(x._dev.backend.xp.where(x._data < 0, math.pi, 0.0).astype(x._data.dtype), x)
    value = ops.where(x.detach().isnan(), x.detach(), value)
    return zero_grad_link(value, x)


def nextafter(x: Tensor, other) -> Tensor:
    """The next representable float after x toward other (no gradient)."""
    x, other = operands(x, other)
    _require_float("nextafter", x)
    y = _const(_quiet(x._dev.backend.xp.nextafter)(x._data, other._data), x)  # (max -> inf)
    return zero_grad_link(y, x)  # PyTorch's zero gradient


def frexp(x: Tensor):
    """(mantissa, exponent) with x = mantissa * 2 ** exponent, |mantissa| in [0.5, 1);
    the exponent is int32; d mantissa / dx = 2 ** -exponent."""
    if not x.dtype.is_floating_point:
        raise DTypeError(f"frexp: only supports floating-point dtypes, got {x.dtype.name}")
    _, e = x._dev.backend.xp.frexp(x._data)
    exponent = _const(e.astype(np.int32), x)
    # 2 ** -e overflows for subnormal x (e < -1021 in float64): scale in two halves.
    one = np.ones((), x._data.dtype)
    half = -e // 2
    scale1 = _const(x._dev.backend.xp.ldexp(one, half), x)
    scale2 = _const(x._dev.backend.xp.ldexp(one, -e - half), x)
    return FrexpResult(x * scale1 * scale2, exponent)


def bitwise_not(x: Tensor) -> Tensor:
    """~x for integer and bool tensors."""
    if x.dtype.is_floating_point:
        raise DTypeError(f"bitwise_not: expected an integer or bool tensor, got {x.dtype.name}")
    return ~x


def _shift(name: str, ufunc: str, a, b) -> Tensor:
    a, b = operands(a, b)
    if a.dtype.is_floating_point or a.dtype is dtypes.bool_:  # PyTorch shifts no bools either
        raise DTypeError(f"{name}: expected integer tensors, got {a.dtype.name}")
    return _const(getattr(a._dev.backend.xp, ufunc)(a._data, b._data), a)


def bitwise_left_shift(a, b) -> Tensor:
    return _shift("bitwise_left_shift", "left_shift", a, b)


def bitwise_right_shift(a, b) -> Tensor:
    return _shift("bitwise_right_shift", "right_shift", a, b)


# ----------------------------------------------------------------- special functions
def mvlgamma(x: Tensor, p: int) -> Tensor:
    """log of the multivariate gamma function of dimension p; every element must exceed
    (p - 1) / 2."""
    if p < 1:
        raise ValueError(f"mvlgamma: p has to be greater than or equal to 1, got {p}")
    if bool((x.detach() <= (p - 1) / 2).any()):
        raise RuntimeError(f"mvlgamma: all elements must be greater than (p-1)/2 = {(p - 1) / 2}")
    return multigammaln(x, p)


_TINY = 1e-300


def _igamma_series(xp, a, x):
    """P(a, x) by its power series (converges fast for x < a + 1)."""
    ap, term = a.copy(), 1.0 / a
    total = term.copy()
    for _ in range(2000):
        ap = ap + 1.0
        term = term * x / ap
        total = total + term
        if not xp.any(xp.abs(term) > xp.abs(total) * 1e-17):
            break
    return total * xp.exp(a * xp.log(x) - x - _lgamma(xp, a))


def _igammac_fraction(xp, a, x):
    """Q(a, x) by its continued fraction, modified Lentz (for x >= a + 1)."""
    b = x + 1.0 - a
    c = xp.full_like(x, 1.0 / _TINY)
    d = 1.0 / b
    h = d.copy()
    for i in range(1, 2000):
        an = -i * (i - a)
        b = b + 2.0
        d = an * d + b
        d = xp.where(xp.abs(d) < _TINY, _TINY, d)
        c = b + an / c
        c = xp.where(xp.abs(c) < _TINY, _TINY, c)
        d = 1.0 / d
        delta = d * c
        h = h * delta
        if not xp.any(xp.abs(delta - 1.0) > 1e-16):
            break
    return h * xp.exp(a * xp.log(x) - x - _lgamma(xp, a))


def _igamma_np(xp, a, x, upper: bool):
    """P(a, x) (or Q when ``upper``), float64, NaN outside a, x >= 0 (PyTorch's edges)."""
    with np.errstate(all="ignore"):
        ok = (a > 0) & (x > 0) & xp.isfinite(a) & xp.isfinite(x)
        sa, sx = xp.where(ok, a, 1.0), xp.where(ok, x, 1.0)
        use_series = sx < sa + 1.0
        p = xp.where(use_series, 0.0, 1.0)
        if xp.any(ok & use_series):
            m = ok & use_series
            p = xp.where(m, _igamma_series(xp, xp.where(m, sa, 1.0), xp.where(m, sx, 0.5)), p)
        if xp.any(ok & ~use_series):
            m = ok & ~use_series
            q = _igammac_fraction(xp, xp.where(m, sa, 1.0), xp.where(m, sx, 3.0))
            p = xp.where(m, 1.0 - q, p)
        q = 1.0 - p
        if upper:  # Q directly from the continued fraction where it was used: no cancellation
            m = ok & ~use_series
            if xp.any(m):
                q = xp.where(
                    m, _igammac_fraction(xp, xp.where(m, sa, 1.0), xp.where(m, sx, 3.0)), q
                )
        out = q if upper else p
        # the edges: P(a, 0) = 0, P(0, x > 0) = 1, P(inf, x) = 0, P(a, inf) = 1, NaN below 0
        p_edge = xp.where((x == 0) & (a > 0), 0.0, xp.nan)
        p_edge = xp.where((a == 0) & (x > 0), 1.0, p_edge)
        p_edge = xp.where(xp.isinf(a) & (a > 0) & (x >= 0) & ~xp.isinf(x), 0.0, p_edge)
        p_edge = xp.where(xp.isinf(x) & (x > 0) & (a >= 0) & ~xp.isinf(a), 1.0, p_edge)
        edge = 1.0 - p_edge if upper else p_edge
        return xp.where(ok, out, edge)


class _IGamma(Function):
    """y = P(a, x) (or Q); dx = +-dy x^(a-1) e^-x / Gamma(a); d/da is not implemented (as in
    PyTorch)."""

    @staticmethod
    def forward(ctx, a, x, upper):
        ctx.upper = upper
        ctx.save_for_backward(a, x)
        xp = x._dev.backend.xp
        y = _igamma_np(xp, a._data.astype(np.float64), x._data.astype(np.float64), upper)
        return _const(y.astype(x._data.dtype), x)

    @staticmethod
    def backward(ctx, g):
        a, x = ctx.saved_tensors
        name = "igammac" if ctx.upper else "igamma"
        if ctx.needs_input_grad[0]:
            raise RuntimeError(
                f"the derivative of {name} with respect to its first argument "
                f"(a) is not implemented"
            )
        a = a.detach()
        d = ((a - 1) * x.log() - x - gammaln(a)).exp()
        return None, (-g if ctx.upper else g) * d, None


def _igamma(a, x, upper: bool) -> Tensor:
    a, x = operands(a, x)
    a, x = float_operand(a), float_operand(x)
    shape = tuple(np.broadcast_shapes(tuple(a.shape), tuple(x.shape)))
    return _IGamma.apply(a.broadcast_to(shape), x.broadcast_to(shape), upper)


def igamma(a, x) -> Tensor:
    """The regularized lower incomplete gamma function P(a, x) (``torch.special.gammainc``)."""
    return _igamma(a, x, False)


def igammac(a, x) -> Tensor:
    """The regularized upper incomplete gamma function Q(a, x) = 1 - P(a, x)."""
    return _igamma(a, x, True)
