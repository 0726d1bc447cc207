"""Element-wise functions without a gradient: comparisons, logical ops, rounding, tests."""

from __future__ import annotations

from ._util import broadcast_error, constant, operands


def _compare(kernel):
    def op(a, b):
        a, b = operands(a, b)
        try:
            data = a._dev.backend.compare(kernel, a._data, b._data)
        except ValueError:
            raise broadcast_error(kernel, a, b) from None
        return constant(data, a._dev)

    op.__name__ = kernel
    op.__doc__ = f"Element-wise {kernel} (a bool tensor; not differentiable)."
    return op


eq, ne = _compare("equal"), _compare("not_equal")
lt, le = _compare("less"), _compare("less_equal")
gt, ge = _compare("greater"), _compare("greater_equal")
logical_and, logical_or = _compare("logical_and"), _compare("logical_or")
logical_xor = _compare("logical_xor")


def logical_not(x):
    return constant(x._dev.backend.logical_not(x._data), x._dev)


def isfinite(x):
    return constant(x._dev.backend.isfinite(x._data), x._dev)


def _rounding(name):
    def op(x):
        return constant(getattr(x._dev.backend.xp, name)(x._data), x._dev)

    op.__name__ = name
    op.__doc__ = f"Element-wise {name} (zero gradient, as in PyTorch)."
    return op


floor, ceil, trunc, isnan, isinf = (_rounding(n) for n in ("floor", "ceil", "trunc", "isnan",
                                                         "isinf"))
round = _rounding("round")
