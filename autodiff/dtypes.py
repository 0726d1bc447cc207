"""Tensor dtypes: small named objects over NumPy dtypes, with PyTorch's names and aliases."""

from __future__ import annotations

import numpy as np


class DType:
    """A tensor element type. ``ad.float32`` etc.; compare with ``==`` or ``is``."""

    __slots__ = ("name", "np", "is_floating_point", "is_signed", "itemsize")

    def __init__(self, name: str, np_dtype: np.dtype) -> None:
        self.name = name
        self.np = np.dtype(np_dtype)
        self.is_floating_point = self.np.kind == "f"
        self.is_signed = self.np.kind in "fi"
        self.itemsize = self.np.itemsize

    def __repr__(self) -> str:
        return f"autodiff.{self.name}"

    def __reduce__(self):  # dtypes are singletons
        return (from_any, (self.name,))


float16 = DType("float16", np.float16)
float32 = DType("float32", np.float32)
float64 = DType("float64", np.float64)
int8 = DType("int8", np.int8)
int16 = DType("int16", np.int16)
int32 = DType("int32", np.int32)
int64 = DType("int64", np.int64)
uint8 = DType("uint8", np.uint8)
bool_ = DType("bool", np.bool_)

half, float_, double = float16, float32, float64
int_, long = int32, int64

ALL = (float16, float32, float64, int8, int16, int32, int64, uint8, bool_)
_BY_NP = {d.np: d for d in ALL}
_BY_NAME = {d.name: d for d in ALL}
_BY_NAME.update(half=half, float=float32, double=float64, int=int32, long=int64)

_default_float = float32


def get_default_dtype() -> DType:
    """The dtype of floating tensors created without an explicit dtype (float32 at start)."""
    return _default_float


def set_default_dtype(dtype) -> None:
    """Set the default floating dtype (float16, float32 or float64)."""
    global _default_float
    d = from_any(dtype)
    if not d.is_floating_point:
        raise TypeError(f"set_default_dtype: only floating dtypes are allowed, got {d.name}")
    _default_float = d


def from_numpy_dtype(np_dtype) -> DType:
    """Map a NumPy dtype to ours; a clear error for ones autodiff does not support."""
    try:
        return _BY_NP[np_dtype]
    except (KeyError, TypeError):
        pass
    try:
        return _BY_NP[np.dtype(np_dtype)]
    except (KeyError, TypeError):
        supported = ", ".join(d.name for d in ALL)
        raise TypeError(f"dtype {np_dtype} is not supported by autodiff (supported: {supported})") from None


def from_any(dtype) -> DType:
    """Accept an autodiff dtype, a NumPy dtype/type, a name ('float32'), or a Python type
    (``float`` is float64, ``int`` int64, ``bool`` bool, as PyTorch maps them)."""
    if isinstance(dtype, DType):
        return dtype
    if dtype is float:  # Python's float is a double, whatever the default (as in PyTorch)
        return float64
    if dtype is int:
        return int64
    if dtype is bool:
        return bool_
    if isinstance(dtype, str):
        key = dtype.replace("autodiff.", "").replace("torch.", "")
        if key in _BY_NAME:
            return _BY_NAME[key]
    if hasattr(dtype, "dtype") and not isinstance(dtype, type):  # e.g. a torch dtype-like
        dtype = dtype.dtype
    return from_numpy_dtype(dtype)


def to_np(dtype) -> np.dtype | None:
    """NumPy dtype for ``dtype`` (None stays None)."""
    return None if dtype is None else from_any(dtype).np


def promote(a: DType, b: DType) -> DType:
    """Type promotion of two tensor dtypes, PyTorch's way: a floating dtype beats an integer or
    bool one outright (float32 with int64 is float32, where NumPy says float64); within one
    category NumPy's table matches PyTorch's."""
    if a is b:
        return a
    fa, fb = a.is_floating_point, b.is_floating_point
    if fa != fb:
        return a if fa else b
    return from_numpy_dtype(np.promote_types(a.np, b.np))
