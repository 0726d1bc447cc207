"""Element-wise primitives (broadcasting binary ops, unary math) and their composites."""

from __future__ import annotations

from .. import dtypes
from ..autograd.grad_mode import state
from ..autograd.node import Op
from ..backends.fp_quiet import _quiet
from ..errors import DTypeError, ShapeError, bool_subtraction_error
from . import _util
from ._util import broadcast_error, constant, float_operand, operands
from .broadcast import Expand, SumTo, expand, sum_to  # noqa: F401 (re-exported)
from .compare import int_divmod


class _Binary(Op):
    kernel = ""

    def forward(self, a, b):
        self.shapes = (a._data.shape, b._data.shape)
        try:
            return getattr(self.backend, self.kernel)(a._data, b._data)
        except ValueError as exc:
            if "broadcast" not in str(exc):  # e.g. NumPy's integers to negative powers
                raise
            raise broadcast_error(self.kernel, a, b) from None


class Add(_Binary):
    """z = a + b; da = dz, db = dz (summed over broadcast dims)."""

    kernel = "add"

    def backward(self, g):
        sa, sb = self.shapes
        return sum_to(g, sa), sum_to(g, sb)

    def backward_data(self, g):
        sa, sb = self.shapes
        k = self.backend
        return (k.sum_to(g, sa) if self.next[0] is not None else None,
                k.sum_to(g, sb) if self.next[1] is not None else None)


class Sub(_Binary):
    """z = a - b; da = dz, db = -dz."""

    kernel = "sub"

    def backward(self, g):
        sa, sb = self.shapes
        return sum_to(g, sa), (sum_to(-g, sb) if self.next[1] is not None else None)

    def backward_data(self, g):
        sa, sb = self.shapes
        k = self.backend
        return (k.sum_to(g, sa) if self.next[0] is not None else None,
                k.neg(k.sum_to(g, sb)) if self.next[1] is not None else None)


class Mul(_Binary):
    """z = a * b; da = dz * b, db = dz * a."""

    kernel = "mul"

    def forward(self, a, b):
        # keep only what backward reads (as PyTorch), so that changing the other operand in
        # place (w * 3, then w.mul_(2) under no_grad) does not fail the version check
        self.saved = (a if b._requires_grad else None, b if a._requires_grad else None)
        ad, bd = a._data, b._data
        self.shapes = (ad.shape, bd.shape)
        try:
            return self.backend.mul(ad, bd)
        except ValueError:
            raise broadcast_error("mul", a, b) from None

    def backward(self, g):
        a, b = self.saved
        sa, sb = self.shapes
        nxt = self.next
        ga = sum_to(Mul.apply(g, b), sa) if nxt[0] is not None else None
        gb = sum_to(Mul.apply(g, a), sb) if nxt[1] is not None else None
        return ga, gb

    def backward_data(self, g):
        a, b = self.saved
        sa, sb = self.shapes
        k = self.backend
        n0, n1 = self.next
        if n0 is not None and n1 is not None and n0[0] is n1[0] and n0[1] == n1[1]:
            ga = k.mul_sum_to(g, b._data, sa)  # x * x: 2 x dz (a new array), not two products
            ga = k.add(ga, ga)  # (quiet where it overflows)
            return ga, None
        ga = k.mul_sum_to(g, b._data, sa) if n0 is not None else None
        gb = k.mul_sum_to(g, a._data, sb) if n1 is not None else None
        return ga, gb


class Div(_Binary):
    """z = a / b; da = dz / b, db = -dz * a / b**2."""

    kernel = "div"

    def forward(self, a, b):
        self.saved = (a if b._requires_grad else None, b)  # a only for db (see Mul)
        return _Binary.forward(self, a, b)

    def backward(self, g):
        a, b = self.saved
        sa, sb = self.shapes
        ga = sum_to(g / b, sa) if self.next[0] is not None else None
        gb = sum_to(-g * a / (b * b), sb) if self.next[1] is not None else None
        return ga, gb

    def backward_data(self, g):
        a, b = self.saved
        sa, sb = self.shapes
        k = self.backend
        q = k.div(g, b._data)  # dz / b, full size
        ga = k.sum_to(q, sa) if self.next[0] is not None else None
        # db = -sum_to(dz * a / b**2) = -sum_to((dz / b) * (a / b)), the product fused
        gb = (k.neg(k.mul_sum_to(q, k.div(a._data, b._data), sb))
              if self.next[1] is not None else None)
        return ga, gb


class Pow(_Binary):
    """z = a ** b; da = dz * b * a**(b-1) (0 where b == 0), db = dz * z * log(a) (0 where
    a == 0 and b >= 0), as PyTorch masks them."""

    kernel = "pow"

    def forward(self, a, b):
        self.saved = (a, b)
        return _Binary.forward(self, a, b)

    def backward(self, g):
        a, b = self.saved
        sa, sb = self.shapes
        ga = gb = None
        if self.next[0] is not None:
            ga = g * b * a ** (b - 1)
            if b._data.ndim or bool(b._data == 0):  # a constant exponent is rarely 0
                ga = where(b == 0, 0.0, ga)
            ga = sum_to(ga, sa)
        if self.next[1] is not None:
            logs = where(a == 0, 1.0, a).log()  # log(a) where it is not masked below
            gb = sum_to(g * where((a == 0) & (b >= 0), 0.0, (a ** b) * logs), sb)
        return ga, gb


class Maximum(_Binary):
    """z = max(a, b); the grad goes to the larger input (split evenly on ties)."""

    kernel = "maximum"

    def forward(self, a, b):
        self.saved = (a, b)
        return _Binary.forward(self, a, b)

    def backward(self, g):
        return _minmax_backward(self, g, greater=True)


class Minimum(_Binary):
    """z = min(a, b); the grad goes to the smaller input (split evenly on ties)."""

    kernel = "minimum"

    def forward(self, a, b):
        self.saved = (a, b)
        return _Binary.forward(self, a, b)

    def backward(self, g):
        return _minmax_backward(self, g, greater=False)


def _minmax_backward(op, g, greater):
    a, b = op.saved
    sa, sb = op.shapes
    a_wins, b_wins = ((a > b), (a < b)) if greater else ((a < b), (a > b))
    tie = (a == b).to(g.dtype) * 0.5
    # a NaN wins on both sides (neither compares), so both inputs get the grad (PyTorch)
    ga = sum_to(g * (1 - b_wins.to(g.dtype) - tie), sa) if op.next[0] is not None else None
    gb = sum_to(g * (1 - a_wins.to(g.dtype) - tie), sb) if op.next[1] is not None else None
    return ga, gb


class Neg(Op):
    """y = -x; dx = -dy."""

    def forward(self, x):
        return self.backend.neg(x._data)

    def backward(self, g):
        return (-g,)

    def backward_data(self, g):
        return (self.backend.neg(g),)


class _UnaryOut(Op):
    """A unary op whose derivative is written with its output y."""

    kernel = ""

    def forward(self, x):
        return self.save_output(getattr(self.backend, self.kernel)(x._data))


class Exp(_UnaryOut):
    """y = exp(x); dx = dy * y."""

    kernel = "exp"

    def backward(self, g):
        return (g * self.output(),)

    def backward_data(self, g):
        return (self.backend.mul(g, self.out_data),)


class Sqrt(_UnaryOut):
    """y = sqrt(x); dx = dy / (2 y)."""

    kernel = "sqrt"

    def backward(self, g):
        return (g / (2 * self.output()),)

    def backward_data(self, g):
        return (self.backend.output_backward("sqrt", self.out_data, g),)


class Rsqrt(_UnaryOut):
    """y = 1 / sqrt(x); dx = -dy * y**3 / 2."""

    kernel = "rsqrt"

    def backward(self, g):
        y = self.output()
        return (g * y * y * y * -0.5,)

    def backward_data(self, g):  # the same products in place: one array, not four
        return (_times_cube(self.backend.mul(g, self.out_data), self.out_data),)


@_quiet
def _times_cube(r, y):
    """r * y * y * -0.5, in r's memory where r is an array (an overflow to inf is silent)."""
    if not r.ndim:
        return r * y * y * -0.5
    r *= y
    r *= y
    r *= -0.5
    return r


class Tanh(_UnaryOut):
    """y = tanh(x); dx = dy * (1 - y**2)."""

    kernel = "tanh"

    def backward(self, g):
        y = self.output()
        return (g * (1 - y * y),)

    def backward_data(self, g):
        return (self.backend.output_backward("tanh", self.out_data, g),)


class Sigmoid(_UnaryOut):
    """y = 1 / (1 + exp(-x)); dx = dy * y * (1 - y)."""

    kernel = "sigmoid"

    def backward(self, g):
        y = self.output()
        return (g * y * (1 - y),)

    def backward_data(self, g):
        return (self.backend.output_backward("sigmoid", self.out_data, g),)


class Relu(_UnaryOut):
    """y = max(x, 0); dx = dy * (y > 0)."""

    kernel = "relu"

    def backward(self, g):
        y = self.output()
        if state.enabled:  # create_graph: keep the formula differentiable in dy
            return (g * (y > 0).to(g.dtype),)
        return (constant(self.backend.relu_backward(y._data, g._data), g._dev),)

    def backward_data(self, g):
        return (self.backend.relu_backward(self.out_data, g),)


class _UnaryIn(Op):
    """A unary op whose derivative is written with its input x."""

    kernel = ""

    def forward(self, x):
        self.saved = (x,)
        return getattr(self.backend, self.kernel)(x._data)


class Log(_UnaryIn):
    """y = log(x); dx = dy / x."""

    kernel = "log"

    def backward(self, g):
        return (g / self.saved[0],)


class Log1p(_UnaryIn):
    """y = log(1 + x); dx = dy / (1 + x)."""

    kernel = "log1p"

    def backward(self, g):
        return (g / (self.saved[0] + 1),)


class Abs(_UnaryIn):
    """y = |x|; dx = dy * sign(x)."""

    kernel = "abs"

    def backward(self, g):
        return (g * self.saved[0].sign(),)

    def backward_data(self, g):
        return (self.backend.abs_backward(self.saved[0]._data, g),)


class Sin(_UnaryIn):
    """y = sin(x); dx = dy * cos(x)."""

    kernel = "sin"

    def backward(self, g):
        return (g * self.saved[0].cos(),)


class Cos(_UnaryIn):
    """y = cos(x); dx = -dy * sin(x)."""

    kernel = "cos"

    def backward(self, g):
        return (-g * self.saved[0].sin(),)


class Clamp(Op):
    """y = min(max(x, lo), hi); dx = dy where lo <= x <= hi, else 0."""

    def forward(self, x, lo, hi):
        self.saved = (x,)
        self.bounds = (lo, hi)
        return self.backend.clamp(x._data, lo, hi)

    def backward(self, g):
        (x,), (lo, hi) = self.saved, self.bounds
        keep = ~x.isnan() if lo is None else x >= lo
        keep = keep if hi is None else keep & (x <= hi)
        return (g * keep.to(g.dtype),)

    def backward_data(self, g):
        k, xd = self.backend, self.saved[0]._data
        lo, hi = self.bounds
        keep = None
        if lo is not None:
            keep = k.compare("greater_equal", xd, lo)
        if hi is not None:
            m = k.compare("less_equal", xd, hi)
            keep = m if keep is None else keep & m
        return (k.where(keep, g, g.dtype.type(0)),)


class Where(Op):
    """y = where(c, a, b); da = dy where c, db = dy where not c."""

    def forward(self, cond, a, b):
        self.cond = cond
        self.shapes = (a._data.shape, b._data.shape)
        try:
            return self.backend.where(cond._data, a._data, b._data)
        except ValueError:
            raise ShapeError(f"where: cannot broadcast condition {tuple(cond.shape)}, "
                             f"{tuple(a.shape)} and {tuple(b.shape)}") from None

    def backward(self, g):
        zero = constant(g._dev.backend.zeros((), g._data.dtype), g._dev)
        sa, sb = self.shapes
        ga = sum_to(where(self.cond, g, zero), sa) if self.next[1] is not None else None
        gb = sum_to(where(self.cond, zero, g), sb) if self.next[2] is not None else None
        return None, ga, gb


class Cast(Op):
    """y = x as another dtype; dx = dy cast back (no grad into integer inputs)."""

    def forward(self, x, dtype):
        self.in_dtype = x.dtype
        return self.backend.cast(x._data, dtype.np)

    def backward(self, g):
        if not self.in_dtype.is_floating_point:
            return (None,)
        return (g.to(self.in_dtype),)


# ------------------------------------------------------------------ public functions
def add(input, other, *, alpha=1):
    a, b = input, other
    if alpha == 1 and type(a) is type(b) and a._data.dtype == b._data.dtype:
        return Add.apply(a, b)
    a, b = operands(a, b)
    if alpha != 1:
        b = b * alpha
    return Add.apply(a, b)


def sub(input, other, *, alpha=1):
    a, b = input, other
    if alpha == 1 and type(a) is type(b) and a._data.dtype == b._data.dtype != bool:  # hot path
        return Sub.apply(a, b)
    bools = ((a is True or a is False or getattr(a, "dtype", 0) is dtypes.bool_)
             + (b is True or b is False or getattr(b, "dtype", 0) is dtypes.bool_))
    if bools:
        raise bool_subtraction_error(bools)
    a, b = operands(a, b)
    if alpha != 1:
        b = b * alpha
    return Sub.apply(a, b)


def mul(input, other):
    a, b = input, other
    if type(a) is type(b) and a._data.dtype == b._data.dtype:  # two Tensors: the hot path
        return Mul.apply(a, b)
    return Mul.apply(*operands(a, b))


def div(input, other, *, rounding_mode=None):
    a, b = input, other
    a0, b0 = a, b
    a, b = operands(a, b)
    if rounding_mode is None and a._data.dtype.kind == "f":  # the common case
        return Div.apply(a, b)
    if rounding_mode not in (None, "floor", "trunc"):
        raise ValueError(f"div expected rounding_mode to be one of None, 'trunc', or 'floor' "
                         f"but found {rounding_mode!r}")
    if rounding_mode is None and not a.dtype.is_floating_point:  # each int to float on its own,
        a, b = operands(*(float_operand(x) if isinstance(x, _util.Tensor) else  # not through
                          float(x) if isinstance(x, int) else x for x in (a0, b0)))  # uint8
    if rounding_mode is not None:
        _util.no_bool("div_floor_cpu" if rounding_mode == "floor" else "div_trunc_cpu", a)
    if rounding_mode is not None and not a.dtype.is_floating_point:
        return int_divmod(a, b, rounding_mode)
    if rounding_mode is not None:  # PyTorch's values (from C's fmod), a zero gradient
        from ..math_functions import div_rounded
        return div_rounded(a, b, rounding_mode)
    return Div.apply(float_operand(a), float_operand(b))


def pow(input, exponent):
    a, b = input, exponent
    if isinstance(b, int) and b < 0 and isinstance(a, _util.Tensor) and a.dtype.np.kind in "iub":
        raise RuntimeError("Integers to negative integer powers are not allowed.")
    # a ** 1 and a ** 2 as products, but not int ** 2.0 (float) nor bool ** 2 (int64)
    if isinstance(b, (int, float)) and isinstance(a, _util.Tensor) and (
            isinstance(b, int) and a.dtype.name != "bool" or a.dtype.is_floating_point):
        if b == 1:
            return a * 1
        if b == 2:
            return a * a
        if b == 3 and a.dtype.is_floating_point:  # one kernel each way
            from .activation import activation
            return activation("cube", a)
    if isinstance(b, bool) and isinstance(a, _util.Tensor) and a.dtype is dtypes.bool_:
        return a * True if b else a == a  # PyTorch: x ** 1 is x, x ** 0 is 1, even for bools
    a, b = operands(a, b)
    _util.no_bool("pow", a)
    return Pow.apply(a, b)


def rsub(input, other, *, alpha=1):
    return sub(other, input, alpha=alpha)


def maximum(input, other):
    a, b = input, other
    return Maximum.apply(*operands(a, b))


def minimum(input, other):
    a, b = input, other
    return Minimum.apply(*operands(a, b))


def _float_unary(node):
    """``f(x) = node(x)``, an integer x promoted to the default float dtype first."""
    def fn(input):
        return node.apply(float_operand(input))

    fn.__name__ = fn.__qualname__ = node.__name__.lower()
    return fn


exp, log, log1p, sqrt, rsqrt, tanh, sigmoid, sin, cos = map(
    _float_unary, (Exp, Log, Log1p, Sqrt, Rsqrt, Tanh, Sigmoid, Sin, Cos))


def neg(input):
    if input.dtype is dtypes.bool_:
        raise DTypeError("Negation, the `-` operator, on a bool tensor is not supported. If you "
                         "are trying to invert a mask, use the `~` or `logical_not()` operator "
                         "instead.")
    return Neg.apply(input)


def relu(input):
    _util.no_bool("relu", input)  # (PyTorch raises for bool here and in abs)
    return Relu.apply(input)


def abs(input):
    _util.no_bool("abs_cpu", input)
    return Abs.apply(input)


def sign(input):
    """Sign of x (-1, 0, 1); its gradient is zero."""
    from .compare import piecewise_constant

    return piecewise_constant(input, input._dev.backend.sign)


def clamp(input, min=None, max=None):
    if min is None and max is None:
        raise ValueError("clamp: at least one of min or max must be given")
    if isinstance(min, _util.Tensor) or isinstance(max, _util.Tensor):
        from ..math_functions import clamp_tensor  # PyTorch's NaNs, ties and gradients
        return clamp_tensor(input, min, max)
    if not input.dtype.is_floating_point and any(
            isinstance(v, float) for v in (min, max)):  # PyTorch promotes int by float bounds
        input = input.to(dtypes.get_default_dtype())
    return Clamp.apply(input, lo=min, hi=max)


def where(cond, a, b):
    if not isinstance(cond, _util.Tensor):
        raise TypeError("where: condition must be a bool Tensor")
    ref = a if isinstance(a, _util.Tensor) else b
    if not isinstance(ref, _util.Tensor):
        from ..creation import tensor

        a = tensor(a, device=cond._dev)
    a, b = operands(a, b)
    if cond.dtype.name != "bool":
        cond = cond != 0
    return Where.apply(cond, a, b)


def masked_fill(input, mask, value):
    if mask.dtype is not dtypes.bool_ or getattr(value, "ndim", 0):  # as PyTorch
        raise RuntimeError(f"masked_fill: expected a bool mask and a 0-d value, got a "
                           f"{mask.dtype.name} mask and a {getattr(value, 'ndim', 0)}-d value")
    if not isinstance(value, _util.Tensor):
        value = constant(input._dev.backend.asarray(value, input.dtype.np), input._dev)
    elif value.dtype is not input.dtype:
        value = value.to(input.dtype)
    return where(mask, value, input)


def cast(x, dtype):
    if x.dtype is dtype:
        return x
    if not dtype.is_floating_point:  # integer/bool results never require grad (PyTorch)
        return constant(x._dev.backend.cast(x._data, dtype.np), x._dev)
    return Cast.apply(x, dtype=dtype)


def square(input):
    return pow(input, 2)  # bool ** 2 is int64 (PyTorch); otherwise x * x


def reciprocal(input):
    return 1 / float_operand(input)
