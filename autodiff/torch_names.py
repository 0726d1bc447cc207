"""More of PyTorch's everyday names, composed from existing ops: ``mm``,
``addcmul``/``addcdiv`` (one primitive, ``_Addc``, for same-shape tensors),
``fmod``/``remainder``, ``erf``, ``hstack``/``vstack``/``dstack``/``column_stack``, ``diff``, ``isin``, ``tensordot``, ``broadcast_tensors``/
``broadcast_shapes``, ``logspace``, ``moveaxis``/``swapdims``, ``clip``, ``finfo``/``iinfo``,
``inference_mode``, ``is_floating_point``, ``set_num_threads``/``get_num_threads``, ``compile``
(which returns its argument), and the constants ``pi``, ``e``, ``inf``, ``nan``.
"""

from __future__ import annotations

import math
import threading

import numpy as np

from . import dtypes, ops
from .autograd.grad_mode import _GradModeContext, state
from .autograd.node import Op
from .backends.fp_quiet import _quiet
from .creation import bernoulli, linspace, multinomial, rand, randint
from .errors import DTypeError, ShapeError
from .ops._util import norm_dim, operands
from .tensor import Tensor

pi, e, inf, nan = math.pi, math.e, math.inf, math.nan

__all__ = [
    "addcdiv", "addcmul", "broadcast_shapes", "broadcast_tensors", "clip", "column_stack",
    "compile", "diff", "dstack", "e", "erf", "finfo", "fmod", "get_num_threads", "hstack",
    "iinfo", "inf", "inference_mode", "is_floating_point", "isin", "logspace", "mm",
    "moveaxis", "nan", "pi", "set_num_threads", "swapdims", "tensordot", "vstack",
]
# also Tensor methods (x.mm(y), x.addcmul_(a, b), ...)
_METHODS = ["addcdiv", "addcmul", "diff", "fmod", "isin", "mm", "moveaxis", "swapdims"]


def mm(input: Tensor, mat2: Tensor) -> Tensor:
    """The product of two matrices (no broadcasting, as PyTorch)."""
    if input.ndim != 2 or mat2.ndim != 2:
        raise ShapeError(f"mm: expected two matrices, got shapes {tuple(input.shape)} and "
                         f"{tuple(mat2.shape)}")
    return ops.matmul(input, mat2)


def addcmul(input: Tensor, tensor1: Tensor, tensor2: Tensor, *, value=1) -> Tensor:
    """x + value * t1 * t2."""
    if _fusable(input, tensor1, tensor2, value):
        return _Addc.apply(input, tensor1, tensor2, value=value, div=False)
    return input + tensor1 * tensor2 * value if value != 1 else input + tensor1 * tensor2


def addcdiv(input: Tensor, tensor1: Tensor, tensor2: Tensor, *, value=1) -> Tensor:
    """x + value * t1 / t2."""
    if _fusable(input, tensor1, tensor2, value):
        return _Addc.apply(input, tensor1, tensor2, value=value, div=True)
    return input + tensor1 / tensor2 * value if value != 1 else input + tensor1 / tensor2


def _fusable(x, t1, t2, value) -> bool:
    """Three floating tensors of one dtype, shape and device and a number: ``_Addc`` applies."""
    return (type(x) is type(t1) is type(t2) is Tensor and x.dtype is t1.dtype is t2.dtype
            and x.dtype.is_floating_point and x._dev is t1._dev is t2._dev and x.ndim
            and x.shape == t1.shape == t2.shape and type(value) in (int, float))


class _Addc(Op):
    """y = x + t1 * t2 * value (or t1 / t2 * value), the products in place in one array (the
    composite's three ops made three: (256, 1024) 0.114 -> 0.073 ms); dx = dy,
    dt1 = dy * t2 * value (dy / t2 * value), dt2 = dy * t1 * value (-dy * value * t1 / t2^2)."""

    def forward(self, x, t1, t2, value, div):
        self.saved, self.meta = (t1, t2), (value, div)
        fused = getattr(self.backend, "addc", None)  # the cpp device: one threaded pass
        r = fused(x._data, t1._data, t2._data, value, div) if fused is not None else None
        if r is not None:
            return r
        r = (self.backend.div if div else self.backend.mul)(t1._data, t2._data)
        return _scale_add(r, value, x._data)

    def backward(self, g):
        (t1, t2), (value, div) = self.saved, self.meta
        gt1 = gt2 = None
        if self.next[1] is not None:
            gt1 = (g / t2 if div else g * t2) * value
        if self.next[2] is not None:
            gt2 = g * t1 * -value / t2 / t2 if div else g * t1 * value
        return g, gt1, gt2

    def backward_data(self, g):  # the same formulas, each in one array
        (t1, t2), (value, div), b = self.saved, self.meta, self.backend
        gt1 = gt2 = None
        if self.next[1] is not None:
            gt1 = _scale_div((b.div if div else b.mul)(g, t2._data), value, None)
        if self.next[2] is not None:
            gt2 = _scale_div(b.mul(g, t1._data), -value if div else value, t2._data if div else None)
        return g, gt1, gt2


@_quiet
def _scale_add(r, value, x):
    if value != 1:
        r *= value
    r += x
    return r


@_quiet
def _scale_div(r, value, d):
    """r * value (/ d / d), in r's memory."""
    r *= value
    if d is not None:
        r /= d
        r /= d
    return r


def fmod(input: Tensor, other) -> Tensor:
    """C's fmod: the remainder with the sign of the dividend (``%`` takes the divisor's)."""
    input, other = operands(input, other)
    if input.dtype is dtypes.bool_:
        raise DTypeError("fmod: expected integer or floating tensors, got bool")  # as PyTorch
    if input.dtype.is_floating_point:  # exact, from C's fmod (a % detour gives NaN at b = inf)
        from .math_functions import float_remainder

        return float_remainder(input, other, "trunc")
    r = input % other
    fix = (r != 0) & ((r < 0) != (input < 0))  # Python's remainder, moved to x's sign
    return ops.where(fix, r - other, r)


def erf(input: Tensor) -> Tensor:
    from .special import erf as _erf

    return _erf(input)


def _atleast(ts, n: int):
    """Each tensor with leading dims of 1 added up to ``n`` dims (n <= 2)."""
    return [t.reshape((1,) * (n - t.ndim) + tuple(t.shape)) if t.ndim < n else t for t in ts]


def hstack(tensors) -> Tensor:
    """Concatenate along dim 1 (dim 0 for 1-D tensors)."""
    ts = _atleast(list(tensors), 1)
    return ops.cat(ts, 0 if ts[0].ndim == 1 else 1)


def vstack(tensors) -> Tensor:
    """Concatenate along dim 0, 1-D tensors as rows."""
    return ops.cat(_atleast(list(tensors), 2), 0)


def dstack(tensors) -> Tensor:
    """Concatenate along dim 2: 1-D (n,) as (1, n, 1), 2-D (m, n) as (m, n, 1)."""
    ts = [t.reshape(1, -1, 1) if t.ndim <= 1 else t.unsqueeze(-1) if t.ndim == 2 else t
          for t in tensors]
    return ops.cat(ts, 2)


def column_stack(tensors) -> Tensor:
    """1-D (and 0-d) tensors as columns, then concatenated along dim 1."""
    return ops.cat([t.reshape(-1, 1) if t.ndim <= 1 else t for t in tensors], 1)


def diff(input: Tensor, n: int = 1, dim: int = -1, prepend=None, append=None) -> Tensor:
    """The n-th forward difference along ``dim`` (bool: exclusive or, as PyTorch)."""
    if input.ndim == 0:
        raise ShapeError("diff expects input to be at least one-dimensional")
    d = norm_dim(dim, input.ndim)
    if prepend is not None or append is not None:
        input = ops.cat([t for t in (prepend, input, append) if t is not None], d)
    for _ in range(n):
        m = input.shape[d]
        if m >= 2 and input.dtype is not dtypes.bool_:
            input = _Diff.apply(input, d=d)
            continue
        hi, lo = input.narrow(d, min(m, 1), max(m - 1, 0)), input.narrow(d, 0, max(m - 1, 0))
        input = (hi != lo) if input.dtype is dtypes.bool_ else hi - lo
    return input


class _Diff(Op):
    """y = x[1:] - x[:-1] along d; dx = (0 - dy_0, dy_{k-1} - dy_k, dy_{n-2} + 0), as PyTorch's
    sum of the narrows' gradients, -0 included (one node: the narrows' backward filled two
    arrays of zeros, 2x PyTorch's time)."""

    def forward(self, x, d):
        self.d, a = d, x._data
        return self.backend.sub(a[(slice(None),) * d + (slice(1, None),)],
                                a[(slice(None),) * d + (slice(0, -1),)])  # threaded on cpp

    def backward(self, g):
        d, gd, xp = self.d, g._data, self.backend.xp
        if state.enabled:  # create_graph: differentiable ops
            z = g.narrow(d, 0, 1) * 0
            return (ops.cat([z - g, z], d) + ops.cat([z, g], d),)
        n = gd.shape[d] + 1
        at = lambda lo, hi: (slice(None),) * d + (slice(lo, hi),)
        out = xp.empty(gd.shape[:d] + (n,) + gd.shape[d + 1:], gd.dtype)
        xp.subtract(0, gd[at(0, 1)], out=out[at(0, 1)])
        xp.subtract(gd[at(0, n - 2)], gd[at(1, n - 1)], out=out[at(1, n - 1)])
        xp.add(gd[at(n - 2, n - 1)], 0, out=out[at(n - 1, n)])
        return (Tensor._make(out, g._dev, False, None),)


def isin(elements, test_elements, *, assume_unique: bool = False, invert: bool = False):
    """Whether each element occurs in ``test_elements`` (a bool tensor of elements' shape)."""
    ref = elements if isinstance(elements, Tensor) else test_elements
    xp = ref.device.backend.xp
    a = elements._data if isinstance(elements, Tensor) else xp.asarray(elements)
    b = test_elements._data if isinstance(test_elements, Tensor) else xp.asarray(test_elements)
    return Tensor._make(xp.asarray(xp.isin(a, b, invert=invert)), ref.device, False, None)


def tensordot(a: Tensor, b: Tensor, dims=2) -> Tensor:
    """Contract the last ``dims`` dims of a with the first of b (or the given dim lists)."""
    if isinstance(dims, int):
        da, db = list(range(a.ndim - dims, a.ndim)), list(range(dims))
    else:
        da, db = ([d] if isinstance(d, int) else list(d) for d in dims)
    da, db = [norm_dim(d, a.ndim) for d in da], [norm_dim(d, b.ndim) for d in db]
    free_a = [d for d in range(a.ndim) if d not in da]
    free_b = [d for d in range(b.ndim) if d not in db]
    k = math.prod(a.shape[d] for d in da)
    left = a.permute(*free_a, *da).reshape(-1, k)
    right = b.permute(*db, *free_b).reshape(k, -1)
    return (left @ right).reshape(*(a.shape[d] for d in free_a), *(b.shape[d] for d in free_b))


def broadcast_shapes(*shapes) -> tuple:
    try:
        return tuple(np.broadcast_shapes(*[(s,) if isinstance(s, int) else tuple(s)
                                           for s in shapes]))
    except ValueError as exc:
        raise ShapeError(f"broadcast_shapes: {exc}") from None


def broadcast_tensors(*tensors) -> tuple:
    shape = broadcast_shapes(*[tuple(t.shape) for t in tensors])
    return tuple(t.broadcast_to(shape) for t in tensors)


def logspace(start, end, steps: int, base: float = 10.0, *, dtype=None, device=None,
             requires_grad: bool = False) -> Tensor:
    """base ** linspace(start, end, steps)."""
    out = base ** linspace(start, end, steps, dtype=dtypes.float64, device=device)
    out = out.to(dtype or dtypes.get_default_dtype())
    return out.requires_grad_() if requires_grad else out


def moveaxis(input: Tensor, source, destination) -> Tensor:
    return input.movedim(source, destination)


def swapdims(input: Tensor, dim0: int, dim1: int) -> Tensor:
    return input.transpose(dim0, dim1)


def clip(input: Tensor, min=None, max=None) -> Tensor:
    return ops.clamp(input, min, max)


def is_floating_point(input: Tensor) -> bool:
    return input.is_floating_point()


class _Info:
    """The limits of a dtype, as Python numbers (PyTorch's finfo/iinfo)."""

    def __init__(self, info, names) -> None:
        self.dtype = str(info.dtype)
        for n in names:
            v = getattr(info, n)
            setattr(self, n, float(v) if isinstance(v, np.floating) else int(v))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(f'{k}={v}' for k, v in vars(self).items())})"


class finfo(_Info):  # noqa: N801 (PyTorch's name)
    def __init__(self, dtype=None) -> None:
        dt = dtypes.get_default_dtype() if dtype is None else dtypes.from_any(dtype)
        if not dt.is_floating_point:
            raise TypeError(f"finfo: {dt.name} is not a floating point dtype")
        super().__init__(np.finfo(dt.np), ("bits", "eps", "max", "min", "tiny",
                                           "smallest_normal", "resolution"))


class iinfo(_Info):  # noqa: N801
    def __init__(self, dtype) -> None:
        dt = dtypes.from_any(dtype)
        if dt.is_floating_point:
            raise TypeError(f"iinfo: {dt.name} is not an integer dtype")
        super().__init__(np.iinfo(dt.np if dt is not dtypes.bool_ else np.uint8),
                         ("bits", "max", "min"))


class _InferenceState(threading.local):
    enabled = False  # per thread, as grad mode


_inference = _InferenceState()


class inference_mode(_GradModeContext):  # noqa: N801
    """``no_grad`` that ``is_inference_mode_enabled()`` reports (autodiff has no cheaper mode
    and no inference tensors): a context manager and decorator; ``inference_mode(False)``
    enables grad mode, as in PyTorch."""

    def __new__(cls, mode=True):
        if callable(mode):  # bare @inference_mode, as PyTorch allows
            return cls()(mode)
        return super().__new__(cls)

    def __init__(self, mode: bool = True) -> None:
        self._on = bool(mode)

    def __enter__(self):
        self._prev, self._prev_inference = state.enabled, _inference.enabled
        state.enabled = not self._on
        _inference.enabled = self._on
        return self

    def __exit__(self, *exc) -> None:
        state.enabled, _inference.enabled = self._prev, self._prev_inference

    def _fresh(self) -> inference_mode:
        return inference_mode(self._on)


def is_inference_mode_enabled() -> bool:
    """True inside ``inference_mode()`` (and not inside a nested ``inference_mode(False)``)."""
    return _inference.enabled


def set_num_threads(n: int) -> None:
    """Threads of the C++ kernels (PyTorch's intra-op threads)."""
    if n < 1:
        raise ValueError(f"set_num_threads: expected a positive number of threads, got {n}")
    try:
        from . import _C
    except ImportError:  # no extension: NumPy's BLAS keeps its own threads
        return
    _C.set_num_threads(int(n))


def get_num_threads() -> int:
    try:
        from . import _C
    except ImportError:
        return 1
    return _C.get_num_threads()


def compile(model=None, **kwargs):  # noqa: A001 (PyTorch's name)
    """Returns ``model`` unchanged (autodiff runs eagerly); as a decorator factory, too."""
    return model if model is not None else (lambda m: m)


def _fill(self, values: Tensor) -> Tensor:
    """Overwrite self with freshly drawn ``values`` (the random in-place methods)."""
    self._check_leaf_inplace()
    self._writable()[...] = values._data
    self._vc[0] += 1
    return self


def _bernoulli_(self, p=0.5, *, generator=None) -> Tensor:
    """Fill with 1 (probability ``p``, a number or a tensor) or 0."""
    u = rand(tuple(self.shape), generator=generator, device=self.device)
    return _fill(self, u < p)


def _random_(self, from_=0, to=None, *, generator=None) -> Tensor:
    """Fill with integers uniform in [from, to) (``random_(to)``: [0, to)); without bounds,
    [0, 2^mantissa] for floats and the dtype's range for integers, as PyTorch."""
    if to is None:
        if from_:
            from_, to = 0, from_
        elif self.dtype.is_floating_point:
            to = 2 ** (np.finfo(self.dtype.np).nmant + 1) + 1
        else:
            to = 2 if self.dtype is dtypes.bool_ else min(int(np.iinfo(self.dtype.np).max) + 1,
                                                           2 ** 63 - 1)
    return _fill(self, randint(int(from_), int(to), tuple(self.shape), generator=generator,
                               device=self.device))


def _exponential_(self, lambd=1.0, *, generator=None) -> Tensor:
    """Fill with draws of the exponential distribution of rate ``lambd``."""
    u = rand(tuple(self.shape), generator=generator, dtype=dtypes.float64, device=self.device)
    return _fill(self, -(-u).log1p() / lambd)


Tensor.bernoulli_, Tensor.random_, Tensor.exponential_ = _bernoulli_, _random_, _exponential_
Tensor.bernoulli = lambda self, p=None, *, generator=None: bernoulli(self, p, generator=generator)
Tensor.multinomial = lambda self, num_samples, replacement=False, *, generator=None: multinomial(
    self, num_samples, replacement, generator=generator)
for _name in _METHODS:
    setattr(Tensor, _name, globals()[_name])
    if _name in ("addcmul", "addcdiv", "fmod"):
        setattr(Tensor, _name + "_", lambda self, *a, _f=globals()[_name], **k:
                self._inplace(_f, *a, **k))
Tensor.remainder = lambda self, other: self % other
for _name in ("logical_and", "logical_or", "logical_xor"):
    if not hasattr(Tensor, _name):
        setattr(Tensor, _name, getattr(ops, _name))
if not hasattr(Tensor, "logical_not"):
    Tensor.logical_not = ops.logical_not
del _name
