"""PyTorch's legacy spellings that old code (and many tutorials) still use: the typed tensor
classes (``torch.FloatTensor(2, 3)``, ``isinstance(x, torch.LongTensor)``),
``set_default_tensor_type``, ``Tensor.new`` / ``Tensor.resize_``, ``x.layout`` and
``torch.strided``, ``torch.version``. Each builds on ``Tensor``'s legacy constructor (a shape
of ints gives an uninitialized tensor, anything else is data) with a fixed dtype.
"""

from __future__ import annotations

import types

import numpy as np

from . import __version__, dtypes
from .tensor import Tensor

__all__ = ["BoolTensor", "ByteTensor", "CharTensor", "DoubleTensor", "FloatTensor",
           "HalfTensor", "IntTensor", "LongTensor", "ShortTensor", "set_default_tensor_type",
           "strided", "version"]


class _TypedTensorMeta(type):
    """``isinstance(x, FloatTensor)``: a tensor of that dtype (on any CPU-like device)."""

    def __instancecheck__(cls, obj) -> bool:
        return isinstance(obj, Tensor) and obj.dtype is cls.dtype

    def __repr__(cls) -> str:
        return f"<class 'autodiff.{cls.__name__}'>"


def _typed(name: str, dtype: dtypes.DType):
    def __new__(cls, *args, device=None):
        return Tensor(*args, dtype=cls.dtype, device=device)

    return _TypedTensorMeta(name, (), {"dtype": dtype, "__new__": __new__, "__doc__": (
        f"PyTorch's legacy {name}: {name}(*sizes) is uninitialized, {name}(data) a copy, "
        f"both {dtype.name}.")})


FloatTensor = _typed("FloatTensor", dtypes.float32)
DoubleTensor = _typed("DoubleTensor", dtypes.float64)
HalfTensor = _typed("HalfTensor", dtypes.float16)
LongTensor = _typed("LongTensor", dtypes.int64)
IntTensor = _typed("IntTensor", dtypes.int32)
ShortTensor = _typed("ShortTensor", dtypes.int16)
CharTensor = _typed("CharTensor", dtypes.int8)
ByteTensor = _typed("ByteTensor", dtypes.uint8)
BoolTensor = _typed("BoolTensor", dtypes.bool_)


def set_default_tensor_type(t) -> None:
    """The default float dtype from a typed tensor class (or its name): FloatTensor, DoubleTensor."""
    if isinstance(t, str):
        t = globals().get(t.rsplit(".", 1)[-1])
    dtype = getattr(t, "dtype", None)
    if dtype is None or not dtype.is_floating_point:
        raise TypeError(f"only floating-point types are supported as the default type, got {t}")
    dtypes.set_default_dtype(dtype)


class _Layout:
    def __repr__(self) -> str:
        return "autodiff.strided"


strided = _Layout()
version = types.SimpleNamespace(__version__=__version__, cuda=None, hip=None, debug=False,
                                git_version="unknown")


def _new(self, *args, device=None) -> Tensor:
    """Legacy ``x.new(*sizes)`` (uninitialized) or ``x.new(data)``: x's dtype and device."""
    return Tensor(*args, dtype=self.dtype, device=device or self.device)


def _resize_(self, *sizes, size=None) -> Tensor:
    """In place to ``sizes``: the leading elements kept (row-major), new ones uninitialized;
    as PyTorch, not for tensors that require grad."""
    from .ops._util import shape_arg

    if self.requires_grad:
        raise RuntimeError("cannot resize variables that require grad")
    shape = shape_arg(sizes if size is None else (size,))
    flat = self._dev.backend.to_numpy(self._data).reshape(-1)
    out = np.empty(int(np.prod(shape)), flat.dtype)
    n = min(flat.size, out.size)
    out[:n] = flat[:n]
    self._data = self._dev.backend.from_numpy(out.reshape(shape))
    self._vc[0] += 1
    return self


for _name, _fn in (("new", _new), ("resize_", _resize_)):
    if not hasattr(Tensor, _name):
        setattr(Tensor, _name, _fn)
if not hasattr(Tensor, "layout"):
    Tensor.layout = property(lambda self: strided)
if not hasattr(Tensor, "is_sparse"):
    Tensor.is_sparse = property(lambda self: False)
