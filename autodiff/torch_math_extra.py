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
def absolute(input: Tensor) -> Tensor:
    return ops.abs(input)


def negative(input: Tensor) -> Tensor:
    return ops.neg(input)


def positive(input: Tensor) -> Tensor:
    """x itself; bool tensors raise, as in PyTorch."""
    if input.dtype is dtypes.bool_:
        raise RuntimeError("positive: the `+` operator on a bool tensor is not supported")
    return input


def divide(input, other, *, rounding_mode: str | None = None) -> Tensor:
    return ops.div(input, other, rounding_mode=rounding_mode)


def true_divide(input, other) -> Tensor:
    return ops.div(input, other)


def multiply(input, other) -> Tensor:
    return ops.mul(input, other)


def subtract(input, other, *, alpha=1) -> Tensor:
    return ops.sub(input, other, alpha=alpha)


def greater(input, other) -> Tensor:
    return ops.gt(input, other)


def greater_equal(input, other) -> Tensor:
    return ops.ge(input, other)


def less(input, other) -> Tensor:
    return ops.lt(input, other)


def less_equal(input, other) -> Tensor:
    return ops.le(input, other)


def not_equal(input, other) -> Tensor:
    return ops.ne(input, other)


# ----------------------------------------------------------------- rounding and powers
def _require_float(name: str, x: Tensor) -> None:
    if not x.dtype.is_floating_point:
        raise DTypeError(f"{name}: expected a floating dtype, got {x.dtype.name}")


def frac(input: Tensor) -> Tensor:
    """x - trunc(x) (the sign of x); dx = dy."""
    _require_float("frac", input)
    return input - input.detach().trunc()


def fix(input: Tensor) -> Tensor:
    """Round toward zero (``trunc``)."""
    return ops.trunc(input)


def float_power(input, exponent) -> Tensor:
    """x ** exponent computed in float64 (the result is always float64)."""
    if not isinstance(input, Tensor):
        input = to_tensor_like(input, exponent)
    input = input.to(dtypes.float64)
    if isinstance(exponent, Tensor):
        exponent = exponent.to(dtypes.float64)
    else:
        exponent = float(exponent)
    return input**exponent


def ldexp(input: Tensor, other) -> Tensor:
    """x * 2 ** other, as a floating tensor."""
    input, other = operands(input, other)
    input = float_operand(input)
    return input * 2.0 ** other.to(input.dtype)


def logaddexp2(input, other) -> Tensor:
    """log2(2^a + 2^b) without overflow; d/da = 1 / (1 + 2^(b - a)) (1/2 at a == b)."""
    input, other = operands(input, other)
    floating_only("logaddexp2_cpu", input)
    both_inf = input.isinf() & (input == other)
    infs = bool(both_inf.any())
    a_in = input
    if infs:  # inf - inf would be NaN: take those out of the formula
        input, other = ops.where(both_inf, 0.0, input), ops.where(both_inf, 0.0, other)
    mid = input * 0.5 + other * 0.5  # (a + b overflows)
    m = ops.where(input > other, input, ops.where(input < other, other, mid))
    out = m + (2.0 ** -(input - other).abs()).log1p() * (1 / math.log(2.0))  # 2^-80 stays
    return ops.where(both_inf, a_in, out) if infs else out


def gcd(input, other) -> Tensor:
    """Greatest common divisor of integer tensors (non-negative; gcd(0, 0) = 0)."""
    input, other = _int_pair("gcd", input, other)
    return _const(input._dev.backend.xp.gcd(input._data, other._data), input)


def lcm(input, other) -> Tensor:
    """Least common multiple of integer tensors (non-negative)."""
    input, other = _int_pair("lcm", input, other)
    return _const(input._dev.backend.xp.lcm(input._data, other._data), input)


def _int_pair(name: str, a, b):
    a, b = operands(a, b)
    if a.dtype.is_floating_point or a.dtype is dtypes.bool_:
        raise DTypeError(f"{name}: expected integer tensors, got {a.dtype.name}")
    return a, b


# ----------------------------------------------------------------- predicates and queries
def isneginf(input: Tensor) -> Tensor:
    """True where x is -inf (never for integer tensors)."""
    return input == -math.inf if input.dtype.is_floating_point else _falses(input)


def isposinf(input: Tensor) -> Tensor:
    """True where x is +inf (never for integer tensors)."""
    return input == math.inf if input.dtype.is_floating_point else _falses(input)


def isreal(input: Tensor) -> Tensor:
    """True everywhere: autodiff has no complex dtype."""
    return ~_falses(input)


def _falses(x: Tensor) -> Tensor:
    return _const(x._dev.backend.zeros(tuple(x.shape), np.bool_), x)


def angle(input: Tensor) -> Tensor:
    """The argument of a real number: pi where x < 0, else 0 (NaN stays NaN); zero grad."""
    input = float_operand(input)
    xp = input._dev.backend.xp
    value = _const(xp.where(input._data < 0, math.pi, 0.0).astype(input._data.dtype), input)
    value = ops.where(input.detach().isnan(), input.detach(), value)
    return zero_grad_link(value, input)


def nextafter(input: Tensor, other) -> Tensor:
    """The next representable float after x toward other (no gradient)."""
    input, other = operands(input, other)
    _require_float("nextafter", input)
    nextafter_ = _quiet(input._dev.backend.xp.nextafter)
    y = _const(nextafter_(input._data, other._data), input)  # (max -> inf)
    return zero_grad_link(y, input)  # PyTorch's zero gradient


def frexp(input: Tensor):
    """(mantissa, exponent) with x = mantissa * 2 ** exponent, |mantissa| in [0.5, 1);
    the exponent is int32; d mantissa / dx = 2 ** -exponent."""
    if not input.dtype.is_floating_point:
        raise DTypeError(f"frexp: only supports floating-point dtypes, got {input.dtype.name}")
    _, e = input._dev.backend.xp.frexp(input._data)
    exponent = _const(e.astype(np.int32), input)
    # 2 ** -e overflows for subnormal x (e < -1021 in float64): scale in two halves.
    one = np.ones((), input._data.dtype)
    half = -e // 2
    scale1 = _const(input._dev.backend.xp.ldexp(one, half), input)
    scale2 = _const(input._dev.backend.xp.ldexp(one, -e - half), input)
    return FrexpResult(input * scale1 * scale2, exponent)


def bitwise_not(input: Tensor) -> Tensor:
    """~x for integer and bool tensors."""
    if input.dtype.is_floating_point:
        raise DTypeError(f"bitwise_not: expected an integer or bool tensor, got {input.dtype.name}")
    return ~input


def _shift(name: str, ufunc: str, a, b) -> Tensor:
    a, b = operands(a, b)
    if a.dtype.is_floating_point or a.dtype is dtypes.bool_:  # PyTorch shifts no bools either
        raise DTypeError(f"{name}: expected integer tensors, got {a.dtype.name}")
    return _const(getattr(a._dev.backend.xp, ufunc)(a._data, b._data), a)


def bitwise_left_shift(input, other) -> Tensor:
    return _shift("bitwise_left_shift", "left_shift", input, other)


def bitwise_right_shift(input, other) -> Tensor:
    return _shift("bitwise_right_shift", "right_shift", input, other)


# ----------------------------------------------------------------- special functions
def mvlgamma(input: Tensor, p: int) -> Tensor:
    """log of the multivariate gamma function of dimension p; every element must exceed
    (p - 1) / 2."""
    if p < 1:
        raise ValueError(f"mvlgamma: p has to be greater than or equal to 1, got {p}")
    if bool((input.detach() <= (p - 1) / 2).any()):
        raise RuntimeError(f"mvlgamma: all elements must be greater than (p-1)/2 = {(p - 1) / 2}")
    return multigammaln(input, p)


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


def igamma(input, other) -> Tensor:
    """The regularized lower incomplete gamma function P(a, x) (``torch.special.gammainc``)."""
    return _igamma(input, other, False)


def igammac(input, other) -> Tensor:
    """The regularized upper incomplete gamma function Q(a, x) = 1 - P(a, x)."""
    return _igamma(input, other, True)
