"""The rest of PyTorch's everyday names, as in ``torch_names.py``: composites of existing ops,
exported through ``__all__`` (``ad.<name>``) and attached as Tensor methods where PyTorch has
one. The functions live in siblings, each on one theme: ``torch_math_extra`` (elementwise),
``torch_shape_extra`` (shapes, scatters, indexing), ``torch_numeric_extra`` (trapezoid,
gradient), ``torch_linalg_extra`` (products, LU, statistics), ``torch_random_extra``
(creation, sampling), ``torch_misc_extra`` (dtypes, switches, vmap, ``nn.functional``
aliases) and ``torch_inplace_extra`` (the in-place methods). This module gathers them and
adds the method spellings, casts (``byte``, ``char``, ``short``), queries (``is_signed``,
``is_nonzero``, ``equal``, ...), the ``*_copy`` functions and PyTorch's top-level in-place
functions (``torch.sigmoid_(x)``). Nothing here overwrites an attribute that Tensor already
has.
"""

from __future__ import annotations

import numpy as np

from . import (
    composites,
    dtypes,
    index_functions,
    linalg,
    ops,
    special,
    torch_inplace_extra,  # noqa: F401  (attaches the in-place methods)
)
from .tensor import Tensor
from .torch_legacy_extra import *
from .torch_legacy_extra import __all__ as _legacy_all
from .torch_linalg_extra import *
from .torch_linalg_extra import __all__ as _linalg_all
from .torch_math_extra import *
from .torch_math_extra import __all__ as _math_all
from .torch_misc_extra import *
from .torch_misc_extra import __all__ as _misc_all
from .torch_numeric_extra import *
from .torch_numeric_extra import __all__ as _numeric_all
from .torch_random_extra import *
from .torch_random_extra import __all__ as _random_all
from .torch_shape_extra import *
from .torch_shape_extra import __all__ as _shape_all
from .torch_shape_extra import unfold

__all__ = (_math_all + _shape_all + _linalg_all + _misc_all + _random_all + _numeric_all
           + _legacy_all)  # noqa: PLE0605 (the siblings')


def _attach(name: str, fn) -> None:
    """Tensor.<name> = fn, unless Tensor has that attribute already."""
    if not hasattr(Tensor, name):
        setattr(Tensor, name, fn)


# ----------------------------------------------------------------- queries and casts
def equal(input: Tensor, other: Tensor) -> bool:
    """True when a and b have the same shape and elements (NaN is never equal)."""
    same = tuple(input.shape) == tuple(other.shape)
    return same and bool((input.detach() == other.detach()).all())


def is_nonzero(input: Tensor) -> bool:
    """The truth value of a one-element tensor."""
    if input.numel() != 1:
        what = "no values" if input.numel() == 0 else "more than one value"
        raise RuntimeError(f"is_nonzero: Boolean value of Tensor with {what} is ambiguous")
    return bool(input.item())


def is_same_size(input: Tensor, other: Tensor) -> bool:
    return tuple(input.shape) == tuple(other.shape)


def is_signed(input: Tensor) -> bool:
    return input.dtype.is_signed


def is_complex(input: Tensor) -> bool:
    """Always False: autodiff has no complex dtype."""
    return False


def _false(input: Tensor) -> bool:
    return False


is_conj = is_neg = is_inference = _false


def conj(input: Tensor) -> Tensor:
    """x itself (real tensors are their own conjugate)."""
    return input


resolve_conj = resolve_neg = conj


conj_physical = conj


def real(input: Tensor) -> Tensor:
    return input


def imag(input: Tensor) -> Tensor:
    raise RuntimeError("imag is not implemented for tensors with non-complex dtypes.")


def adjoint(input: Tensor) -> Tensor:
    """The conjugate transpose of the last two dims (the transpose, for real tensors)."""
    if input.ndim < 2:
        raise RuntimeError(
            f"adjoint: tensor.adjoint() is only supported on matrices or batches "
            f"of matrices. Got {input.ndim}-D tensor."
        )
    return input.mT


def get_device(input: Tensor) -> int:
    return input.get_device()


def _hermitian(self) -> Tensor:
    if self.ndim != 2:
        raise RuntimeError(
            f"tensor.H is only supported on matrices (2-D tensors). Got {self.ndim}-D tensor."
        )
    return self.mT


for _name, _fn in (
    ("equal", equal),
    ("is_nonzero", is_nonzero),
    ("is_same_size", is_same_size),
    ("is_signed", is_signed),
    ("is_complex", is_complex),
    ("is_conj", is_conj),
    ("is_neg", is_neg),
    ("is_inference", is_inference),
    ("conj", conj),
    ("resolve_conj", resolve_conj),
    ("resolve_neg", resolve_neg),
    ("conj_physical", conj_physical),
    ("adjoint", adjoint),
    ("ndimension", Tensor.dim),
    ("byte", lambda self: self.to(dtypes.uint8)),
    ("char", lambda self: self.to(dtypes.int8)),
    ("short", lambda self: self.to(dtypes.int16)),
    ("pin_memory", lambda self, device=None: self),
    ("is_pinned", lambda self, device=None: False),
    ("share_memory_", lambda self: self),
    ("is_shared", _false),
    (
        "dim_order",
        lambda self: tuple(int(i) for i in np.argsort([-s for s in self.stride()], kind="stable")),
    ),
):
    _attach(_name, _fn)
for _name, _fn in (
    ("is_cpu", lambda self: self.device.backend.is_cpu),
    ("real", real),
    ("imag", imag),
    ("H", _hermitian),
    ("mH", lambda self: self.mT),
    ("output_nr", lambda self: self._output_nr),
):
    _attach(_name, property(_fn))


def _data_ptr(self) -> int:
    """The address of the first element."""
    d = self._data
    return int(d.ctypes.data) if isinstance(d, np.ndarray) else int(d.data.ptr)


_attach("data_ptr", _data_ptr)
_attach("const_data_ptr", _data_ptr)


# ----------------------------------------------------------------- methods of the siblings
_METHOD_NAMES = """
absolute angle bitwise_left_shift bitwise_not bitwise_right_shift divide fix float_power
frac frexp gcd greater greater_equal igamma igammac isneginf isposinf isreal lcm ldexp less
less_equal logaddexp2 multiply mvlgamma negative nextafter not_equal positive subtract
true_divide as_strided as_strided_scatter diag_embed diagflat diagonal_scatter dsplit fliplr
flipud index_put index_reduce mode nonzero_static put renorm select_scatter slice_scatter
split_with_sizes unfold unique_consecutive addbmm addmv addr cholesky_inverse cholesky_solve
corrcoef cov histc histogram inner lu lu_solve matrix_exp triangular_solve vdot
""".split()  # noqa: SIM905 (a table, as tensor.py's _METHODS)
for _name in _METHOD_NAMES:
    _attach(_name, globals()[_name])
for _name, _fn in (
    ("bitwise_and", ops.bitwise_and),
    ("bitwise_or", ops.bitwise_or),
    ("bitwise_xor", ops.bitwise_xor),
    ("dist", index_functions.dist),
    ("bincount", index_functions.bincount),
    ("ger", ops.outer),
    ("conj_physical_", lambda self: self),
    ("narrow_copy", lambda self, dim, start, length: self.narrow(dim, start, length).clone()),
    ("unsafe_chunk", ops.chunk),
    ("unsafe_split_with_sizes", split_with_sizes),
):
    _attach(_name, _fn)
for _name in ("hardshrink", "prelu"):
    _attach(_name, globals()[_name])


# ----------------------------------------------------------------- top-level spellings
def _method_call(name: str):
    def fn(input: Tensor, *args, **kwargs):
        return getattr(input, name)(*args, **kwargs)

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"``input.{name}(...)``."
    return fn


_TOP_LEVEL_INPLACE = """
abs_ acos_ acosh_ addmv_ arccos_ arccosh_ arcsin_ arcsinh_ arctan_ arctanh_ asin_ asinh_
atan_ atanh_ ceil_ clamp_ clamp_max_ clamp_min_ clip_ conj_physical_ cos_ cosh_ deg2rad_
detach_ erf_ erfc_ exp2_ exp_ expm1_ fill_ fix_ floor_ frac_ gcd_ i0_ index_put_ lcm_
ldexp_ log10_ log1p_ log2_ log_ logit_ nan_to_num_ neg_ negative_ rad2deg_ reciprocal_
relu_ round_ rsqrt_ sigmoid_ sin_ sinc_ sinh_ sqrt_ square_ tan_ tanh_ trunc_ xlogy_ zero_
""".split()  # noqa: SIM905
for _name in _TOP_LEVEL_INPLACE:
    globals()[_name] = _method_call(_name)
erfc, i0, sinc = special.erfc, special.i0, special.sinc
ger, short = ops.outer, dtypes.int16


def fill(input: Tensor, value) -> Tensor:
    """A tensor of x's shape and dtype holding ``value`` (a number or a 0-d tensor, through
    which it is differentiable)."""
    if not isinstance(value, Tensor):
        return input.detach().clone().fill_(value)
    if value.ndim:
        raise RuntimeError(f"fill: only supports a 0-dimension value tensor, got {value.ndim}")
    return value.to(input.dtype).expand(*input.shape).clone()


def detach(input: Tensor) -> Tensor:
    return input.detach()


def _copy_of(fn, name: str):
    """``name``: ``fn`` whose result (or results) is a fresh copy, not a view."""

    def copied(*args, **kwargs):
        out = fn(*args, **kwargs)
        return tuple(o.clone() for o in out) if isinstance(out, (tuple, list)) else out.clone()

    copied.__name__ = copied.__qualname__ = name
    copied.__doc__ = f"``{name[:-5]}`` returning a copy instead of a view."
    copied.__wrapped__ = fn  # inspect.signature shows fn's parameters (PyTorch's names)
    return copied


def _slice(input: Tensor, dim: int = 0, start=None, end=None, step: int = 1) -> Tensor:
    sl = [slice(None)] * input.ndim
    sl[dim] = slice(start, end, step)
    return input[tuple(sl)]


_COPIES = {
    "alias_copy": lambda input: input,
    "detach_copy": lambda input: input.detach(),
    "diagonal_copy": composites.diagonal,
    "expand_copy": lambda input, size: input.expand(*size),
    "narrow_copy": ops.narrow,
    "permute_copy": lambda input, dims: input.permute(*dims),
    "select_copy": ops.select,
    "slice_copy": _slice,
    "split_copy": lambda input, split_size, dim=0: ops.split(input, split_size, dim),
    "split_with_sizes_copy": split_with_sizes,
    "squeeze_copy": ops.squeeze,
    "t_copy": ops.t,
    "transpose_copy": ops.transpose,
    "unbind_copy": ops.unbind,
    "unfold_copy": lambda input, dimension, size, step: unfold(input, dimension, size, step),
    "unsqueeze_copy": ops.unsqueeze,
    "view_copy": lambda input, *shape, size=None: input.view(*shape, size=size),
}
for _name, _fn in _COPIES.items():
    globals()[_name] = _copy_of(_fn, _name)
unsafe_chunk, unsafe_split_with_sizes = ops.chunk, split_with_sizes


def unsafe_split(input: Tensor, split_size, dim: int = 0) -> tuple:
    """``split`` under torch.unsafe_split's parameter names (the pieces are views here too)."""
    return ops.split(input, split_size, dim)


# ----------------------------------------------------------------- torch's linalg spellings
# with torch's parameter names, which differ from torch.linalg's (torch.det(input) but
# torch.linalg.det(A); torch.orgqr(input, input2) but linalg.householder_product(A, tau))
def det(input: Tensor) -> Tensor:
    """The determinant (``linalg.det``)."""
    return linalg.det(input)


def inverse(input: Tensor) -> Tensor:
    """The inverse of square matrices (``linalg.inv``)."""
    return linalg.inv(input)


def slogdet(input: Tensor):
    """(sign of det, log abs det) of square matrices (``linalg.slogdet``)."""
    return linalg.slogdet(input)


def orgqr(input: Tensor, input2: Tensor) -> Tensor:
    """Q from ``geqrf``'s reflectors and scales (``linalg.householder_product``)."""
    return linalg.householder_product(input, input2)


for _name in ("det", "inverse", "slogdet", "orgqr", "unsafe_split"):
    _attach(_name, globals()[_name])

__all__ += (  # noqa: PLE0605
    _TOP_LEVEL_INPLACE
    + list(_COPIES)
    + """
adjoint conj conj_physical detach equal erfc fill ger get_device i0 imag is_complex is_conj
is_inference is_neg is_nonzero is_same_size is_signed real resolve_conj resolve_neg short
sinc unsafe_chunk unsafe_split unsafe_split_with_sizes det inverse slogdet orgqr
""".split()  # noqa: SIM905
)

# torch.special's names for the incomplete gamma functions
for _name, _fn in (("gammainc", igamma), ("gammaincc", igammac)):
    if not hasattr(special, _name):
        setattr(special, _name, _fn)
del _name, _fn
