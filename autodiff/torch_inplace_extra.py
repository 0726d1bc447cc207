"""The in-place Tensor methods PyTorch offers that autodiff still lacked: the unary math
(``x.erf_()``, ``x.acos_()``, ...), binary (``x.xlogy_(y)``, ``x.lerp_(end, w)``, ...),
comparisons (``x.gt_(0)``: 1.0/0.0 in self's dtype, a zero gradient as in PyTorch), the
cumulative, triangular and scatter forms, ``fill_diagonal_``, the view ops (``t_``,
``transpose_``, ``squeeze_``, ``unsqueeze_``: self takes the view's shape), the random fills
(``cauchy_``, ``log_normal_``, ``geometric_``) and ``apply_``/``map_``.

Math forms go through ``Tensor._inplace``, so autograd records them as PyTorch does, and a
result that self's dtype cannot hold (a float into an integer tensor) raises. Nothing here
overwrites an attribute that Tensor already has.
"""

from __future__ import annotations

import builtins
import math

import numpy as np

from . import (
    composites,
    dtypes,
    index_functions,
    math_functions,
    ops,
    special,
    torch_linalg_extra,
    torch_math_extra,
    torch_shape_extra,
)
from .creation import rand
from .tensor import Tensor
from .torch_math_extra import zero_grad_link

__all__: list[str] = []  # methods only


def _attach(name: str, fn) -> None:
    """Tensor.<name> = fn, unless Tensor has that attribute already."""
    if not hasattr(Tensor, name):
        setattr(Tensor, name, fn)


# ----------------------------------------------------------------- in-place forms
def _inplace_of(fn, name: str):
    def method(self, *args, **kwargs):
        return self._inplace(fn, *args, **kwargs)

    method.__name__ = method.__qualname__ = name
    method.__doc__ = f"In-place ``{name[:-1]}``: the result written into self."
    return method


def _no_grad_inplace(fn, name: str):
    """In-place form of an op without a derivative: the result keeps a zero-gradient edge
    to self (PyTorch records e.g. ``gt_`` with a zero derivative)."""
    return _inplace_of(lambda s, *a, **k: zero_grad_link(fn(s, *a, **k).to(s.dtype), s), name)


def _float_power_(self, exponent) -> Tensor:
    if self.dtype is not dtypes.float64:
        raise RuntimeError(
            f"float_power_: the base given to float_power_ has dtype "
            f"{self.dtype.name} but the operation's result requires dtype "
            f"float64"
        )
    return self._inplace(torch_math_extra.float_power, exponent)


# name -> the out-of-place function whose result ``name_`` writes into self
_INPLACE = {
    name: getattr(module, name)
    for module, names in (
        (
            math_functions,
            (
                "acos asin atan acosh asinh atanh cosh sinh tan exp2 expm1 log2 log10 "
                "deg2rad rad2deg sgn logit nan_to_num xlogy copysign"
            ),
        ),
        (special, "erf erfc erfinv digamma sinc i0"),
        (composites, "hypot atan2 lerp cumsum addmm baddbmm"),
        (index_functions, "cumprod"),
        (ops, "tril triu scatter_add"),
        (
            torch_math_extra,
            (
                "fix frac absolute negative divide multiply subtract true_divide "
                "ldexp gcd lcm igamma igammac mvlgamma bitwise_not "
                "bitwise_left_shift bitwise_right_shift"
            ),
        ),
        (torch_shape_extra, "index_put put index_reduce renorm"),
        (torch_linalg_extra, "addmv addr addbmm"),
    )
    for name in names.split()
}
_INPLACE.update(
    clip=ops.clamp, lgamma=special.gammaln, polygamma=lambda s, n: special.polygamma(n, s)
)
for _a in ("acos", "asin", "atan", "acosh", "asinh", "atanh", "atan2"):
    _INPLACE["arc" + _a[1:]] = _INPLACE[_a]
for _name, _fn in _INPLACE.items():
    _attach(_name + "_", _inplace_of(_fn, _name + "_"))
_NO_GRAD_INPLACE = {
    name: getattr(ops, name)
    for name in [
        "eq",
        "ne",
        "lt",
        "le",
        "gt",
        "ge",
        "logical_and",
        "logical_or",
        "logical_xor",
        "logical_not",
    ]
}
_NO_GRAD_INPLACE.update(
    greater=ops.gt,
    greater_equal=ops.ge,
    less=ops.lt,
    less_equal=ops.le,
    not_equal=ops.ne,
    heaviside=math_functions.heaviside,
    nextafter=torch_math_extra.nextafter,
)
for _name, _fn in _NO_GRAD_INPLACE.items():
    _attach(_name + "_", _no_grad_inplace(_fn, _name + "_"))
_attach("float_power_", _float_power_)
# the shift operators: x << y, y >> x (Python scalars too), and the in-place x <<= y, x >>= y
_attach("__lshift__", torch_math_extra.bitwise_left_shift)
_attach("__rshift__", torch_math_extra.bitwise_right_shift)
_attach("__rlshift__", lambda self, other: torch_math_extra.bitwise_left_shift(other, self))
_attach("__rrshift__", lambda self, other: torch_math_extra.bitwise_right_shift(other, self))
_attach("__ilshift__", Tensor.bitwise_left_shift_)
_attach("__irshift__", Tensor.bitwise_right_shift_)


def _fill_diagonal_(self, fill_value, wrap: bool = False) -> Tensor:
    """Write ``fill_value`` on the main diagonal (all dims equal, or a 2-D matrix; ``wrap``
    restarts the diagonal of a tall matrix every ``cols + 1`` rows)."""
    if self.ndim < 2:
        raise RuntimeError(f"fill_diagonal_: dimensions must be larger than 1, got {self.ndim}")
    shape = tuple(self.shape)
    if self.ndim > 2 and len(set(shape)) != 1:
        raise RuntimeError(
            f"fill_diagonal_: all dimensions of input must be of equal length, got {shape}"
        )
    mask = np.zeros(math.prod(shape), bool)
    if self.ndim == 2:
        rows, cols = shape
        end = rows * cols if wrap else min(rows, cols) * cols
        mask[0 : end : cols + 1] = True
    else:
        mask[0 :: sum(shape[0] ** i for i in builtins.range(self.ndim))] = True
    m = Tensor._make(self._dev.backend.asarray(mask.reshape(shape)), self._dev, False, None)
    return self._inplace(ops.masked_fill, m, fill_value)


_attach("fill_diagonal_", _fill_diagonal_)


def _shape_inplace(op, name: str):
    """An in-place view op (``t_``, ``unsqueeze_``, ...): self takes the view's shape and
    strides over the same memory, and its place in the graph."""

    def method(self, *args, **kwargs) -> Tensor:
        self._check_leaf_inplace()
        r = op(self, *args, **kwargs)
        self._data = r._data
        if r.grad_fn is not None:
            self.grad_fn, self._output_nr = r.grad_fn, r._output_nr
        if self._base is not None and r._base is self._base:
            self._view_chain, self._base_fn = r._view_chain, r._base_fn
        return self

    method.__name__ = method.__qualname__ = name
    return method


for _name, _fn in (
    ("squeeze_", ops.squeeze),
    ("unsqueeze_", ops.unsqueeze),
    ("t_", ops.t),
    ("transpose_", ops.transpose),
    ("swapaxes_", ops.swapaxes),
    ("swapdims_", ops.transpose),
):
    _attach(_name, _shape_inplace(_fn, _name))


# ----------------------------------------------------------------- random in-place fills
def _fill_sample(self, values: np.ndarray) -> Tensor:
    self._check_leaf_inplace()
    self._writable()[...] = self._dev.backend.asarray(values.astype(self._data.dtype))
    self._vc[0] += 1
    return self


def _uniform64(self, generator) -> np.ndarray:
    u = rand(tuple(self.shape), generator=generator, dtype=dtypes.float64, device=self.device)
    return u._dev.backend.to_numpy(u._data)


def _cauchy_(self, median: float = 0.0, sigma: float = 1.0, *, generator=None) -> Tensor:
    """Fill with draws of the Cauchy distribution."""
    return _fill_sample(self, median + sigma * np.tan(np.pi * (_uniform64(self, generator) - 0.5)))


def _log_normal_(self, mean: float = 1.0, std: float = 2.0, *, generator=None) -> Tensor:
    """Fill with exp(N(mean, std^2)) draws."""
    from .creation import randn

    z = randn(tuple(self.shape), generator=generator, dtype=dtypes.float64, device=self.device)
    return _fill_sample(self, np.exp(mean + std * z._dev.backend.to_numpy(z._data)))


def _geometric_(self, p: float, *, generator=None) -> Tensor:
    """Fill with the number of Bernoulli(p) trials up to the first success (>= 1)."""
    if not 0 < p < 1:
        raise ValueError(f"geometric_: expects p to be in (0, 1), but got p={p}")
    u = _uniform64(self, generator)
    return _fill_sample(self, np.ceil(np.log1p(-u) / math.log1p(-p)).clip(min=1))


def _apply_(self, callable) -> Tensor:
    """Apply a Python function to each element, in place (CPU tensors, outside autograd)."""
    if self.requires_grad:
        raise RuntimeError("apply_: can't call apply_() on a Tensor that requires grad")
    f = np.vectorize(callable, otypes=[self._data.dtype])
    return _fill_sample(self, f(self.numpy()) if self.numel() else self.numpy())


def _map_(self, tensor: Tensor, callable) -> Tensor:
    """self[i] = callable(self[i], other[i]) (other broadcast), in place."""
    if self.requires_grad:
        raise RuntimeError("map_: can't call map_() on a Tensor that requires grad")
    f = np.vectorize(callable, otypes=[self._data.dtype])
    b = np.broadcast_to(tensor.detach().cpu().numpy(), tuple(self.shape))
    return _fill_sample(self, f(self.numpy(), b) if self.numel() else self.numpy())


for _name, _fn in (
    ("cauchy_", _cauchy_),
    ("log_normal_", _log_normal_),
    ("geometric_", _geometric_),
    ("apply_", _apply_),
    ("map_", _map_),
):
    _attach(_name, _fn)
del _name, _fn, _a
