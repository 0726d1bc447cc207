"""Element-wise functions without a gradient: comparisons, logical ops, rounding, tests."""

from __future__ import annotations

from ..autograd.node import Op
from ._util import broadcast_error, constant, no_bool, operands


def _apply(kernel, a, b):
    """The backend's element-wise ``kernel`` of two tensors, as a constant tensor."""
    try:
        data = a._dev.backend.compare(kernel, a._data, b._data)
    except ValueError:
        raise broadcast_error(kernel, a, b) from None
    return constant(data, a._dev)


def _compare(kernel):
    def op(input, other):
        return _apply(kernel, *operands(input, other))

    op.__name__ = kernel
    op.__doc__ = f"Element-wise {kernel} (a bool tensor; not differentiable)."
    return op


eq, ne = _compare("equal"), _compare("not_equal")
lt, le = _compare("less"), _compare("less_equal")
gt, ge = _compare("greater"), _compare("greater_equal")
logical_and, logical_or = _compare("logical_and"), _compare("logical_or")
logical_xor = _compare("logical_xor")


def logical_not(input):
    return constant(input._dev.backend.logical_not(input._data), input._dev)


def isfinite(input):
    return constant(input._dev.backend.isfinite(input._data), input._dev)


class PiecewiseConstant(Op):
    """y = f(x) for a piecewise-constant f (floor, ceil, trunc, round, sign); dx = 0."""

    def forward(self, x, fn):
        return fn(x._data)

    def backward(self, g):
        return (constant(g._dev.backend.zeros(g._data.shape, g._data.dtype), g._dev),)


def piecewise_constant(x, fn):
    """``fn(x)`` with a zero gradient (as PyTorch's floor, round, sign... have)."""
    if x._requires_grad:
        return PiecewiseConstant.apply(x, fn=fn)
    return constant(fn(x._data), x._dev)


def _rounding(name):
    def op(input):
        no_bool(f"{name}_vml_cpu", input)  # (PyTorch's error)
        return piecewise_constant(input, getattr(input._dev.backend.xp, name))

    op.__name__ = name
    op.__doc__ = f"Element-wise {name} (zero gradient, as in PyTorch)."
    return op


floor, ceil, trunc = (_rounding(n) for n in ("floor", "ceil", "trunc"))


def round(input, *, decimals=0):
    """Round half to even, to ``decimals`` decimal places (zero gradient, as in PyTorch)."""
    if decimals:  # x * 10**d (silent where it overflows), of floating x only
        from ..math_functions import round_decimals
        return round_decimals(input, decimals)
    no_bool("round_vml_cpu", input)
    return piecewise_constant(input, input._dev.backend.xp.round)


def isnan(input):
    return constant(input._dev.backend.xp.isnan(input._data), input._dev)


def isinf(input):
    return constant(input._dev.backend.xp.isinf(input._data), input._dev)


def _bitwise(kernel, logical):
    def op(input, other):
        input, other = operands(input, other)
        if input.dtype.is_floating_point:
            raise NotImplementedError(f"{kernel}: expected integer or bool tensors, got "
                                      f"{input.dtype.name}")  # (a RuntimeError, as in PyTorch)
        return logical(input, other) if input.dtype.name == "bool" else _apply(kernel, input, other)

    op.__name__ = kernel
    op.__doc__ = f"Element-wise {kernel} of integer or bool tensors (``&``, ``|``, ``^``)."
    return op


bitwise_and = _bitwise("bitwise_and", logical_and)
bitwise_or = _bitwise("bitwise_or", logical_or)
bitwise_xor = _bitwise("bitwise_xor", logical_xor)


def int_divmod(a, b, mode):
    """Exact integer floor/trunc division or remainder (a float detour loses digits past 2**24)."""
    xp = a._dev.backend.xp
    if bool(xp.any(b._data == 0)):
        raise RuntimeError("ZeroDivisionError")
    if mode == "floor":
        return constant(xp.floor_divide(a._data, b._data), a._dev)
    if mode == "trunc":
        # floor, plus one where it rounded an inexact negative quotient down (no abs: the
        # abs of int8 -128 is -128)
        q = xp.floor_divide(a._data, b._data)
        up = (xp.remainder(a._data, b._data) != 0) & ((a._data < 0) != (b._data < 0))
        return constant(q + up.astype(q.dtype), a._dev)
    return constant(xp.remainder(a._data, b._data), a._dev)


def remainder(input, other):
    a, b = input, other
    """a - floor(a / b) * b, with the sign of b (Python's and PyTorch's ``%``)."""
    from ..math_functions import float_remainder

    a, b = operands(a, b)
    no_bool("remainder_cpu", a)
    if not a.dtype.is_floating_point:
        return int_divmod(a, b, "remainder")
    return float_remainder(a, b)  # exact, from C's fmod (as PyTorch)
