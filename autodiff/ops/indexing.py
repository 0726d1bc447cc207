"""Indexing primitives (``x[idx]``, ``x[idx] = v``) and PyTorch's reading of an index.

PyTorch and NumPy read some indices differently; the index is rewritten here so that every
backend (NumPy or CuPy arrays underneath) gives PyTorch's result:

- an integer (or a 0-d integer tensor) next to an advanced index (an integer array or a mask)
  selects first, like a basic index, so it never moves the advanced dims to the front:
  ``x[1, :, [0, 4]]`` of a (3, 4, 5) tensor is (4, 2) (NumPy says (2, 4)). Such an index is
  split in two: the basic part (a view), then the advanced part;
- a list holding sequences, tensors, slices, ``None`` or ``...`` is a tuple of indices
  (``x[[[0, 1], [1, 2]]]`` is ``x[[0, 1], [1, 2]]``), and an empty list is an empty index;
- a Python bool is an advanced index (a 0-d mask, a copy): ``x[True, :, [0]]`` is (1, n);
- a slice step must be positive;
- integers alone give a 0-d view (NumPy would give a scalar copy), so ``y = x[0]`` sees later
  in-place changes of ``x``.
"""

from __future__ import annotations

import numbers
import warnings

from .._index_items import array_item, odd_item, one_ellipsis
from ..autograd.node import Op
from ..errors import ShapeError
from . import _util
from ._util import constant
from .elementwise import sum_to

_INDEX_ITEMS = (list, tuple, slice, type(None), type(Ellipsis))


def _is_int(i) -> bool:
    return isinstance(i, numbers.Integral) and not isinstance(i, bool)


def _is_basic(idx) -> bool:
    items = idx if isinstance(idx, tuple) else (idx,)
    return all(getattr(i, "ndim", None) is None for i in items)


def _convert_item(i, dev):
    """One index item as Python int/slice/None/... or a backend array."""
    b = dev.backend
    if isinstance(i, _util.Tensor):
        if i.is_floating_point():
            raise IndexError("tensors used as indices must be long, int or bool tensors")
        if i.dtype.name == "uint8":  # a byte tensor is a mask, as in PyTorch (deprecated there)
            warnings.warn("indexing with dtype uint8 is now deprecated, please use a dtype "
                          "bool instead.", UserWarning, stacklevel=4)
            i = i.bool()
        if i._data.ndim == 0 and i.dtype.name != "bool":
            return int(i.item())  # a 0-d integer tensor selects, as an int does
        on_host = i._dev.backend.is_cpu
        if i._dev is not dev and not on_host:  # as PyTorch: host indices index any device
            raise RuntimeError(f"indices are on {i._dev} but the tensor is on {dev}")
        return i._data if i._dev is dev or b.is_cpu else b.from_numpy(i._data)
    if isinstance(i, slice):
        if i.step is not None and int(i.step) <= 0:
            raise ValueError("step must be greater than zero")
        return i
    if isinstance(i, (list, range)):
        i = list(i)
        return array_item(b.asarray(i)) if i else b.asarray(i, dtype="int64")
    if b.is_array(i) or (hasattr(i, "__array__") and not isinstance(i, (int, slice))):
        i = b.asarray(i)
        return int(i) if i.ndim == 0 and i.dtype.kind in "iu" else i  # selects, as an int
    return b.asarray(i) if isinstance(i, bool) else odd_item(i)  # a bool is an advanced index (a copy)


def _split(items):
    """(basic part, advanced part) of an index that mixes ints with advanced indices."""
    first, then = [], []
    for i in items:
        if _is_int(i):
            first.append(i)
        elif getattr(i, "ndim", None) is not None:  # an array: its dims stay for ``then``
            k = i.ndim if i.dtype.kind == "b" else 1
            first += [slice(None)] * k
            then.append(i)
        elif i is Ellipsis:
            first.append(i)
            then.append(i)
        else:  # slice, None or a Python bool: one dim in the view
            first.append(i)
            then.append(slice(None))
    if not any(i is Ellipsis for i in first):
        first.append(Ellipsis)
        then.append(Ellipsis)
    return tuple(first), tuple(then)


def _convert_index(idx, dev, ndim):
    """``idx`` as backend indices ``(first, then)``: index with ``first``, then, unless ``then``
    is None, index the result with ``then`` (see the module docstring)."""
    if isinstance(idx, list) and any(isinstance(i, _INDEX_ITEMS + (_util.Tensor,)) or (
            hasattr(i, "__array__") and not isinstance(i, numbers.Number)) for i in idx):
        idx = tuple(idx)
    if not isinstance(idx, tuple):
        i = _convert_item(idx, dev)
        return ((i, Ellipsis) if _is_int(i) else i), None
    items, ints, arrays, ellipsis = [], False, False, 0
    for i in idx:  # one pass; the common items (slices, ints, None) need no conversion
        kind = type(i)
        if kind is int:
            ints = True
        elif kind is slice:
            if i.step is not None:
                _convert_item(i, dev)  # checks that the step is positive
        elif i is Ellipsis:
            ellipsis += 1
        elif i is not None:
            i = _convert_item(i, dev)
            if _is_int(i):
                ints = True
            elif getattr(i, "ndim", None) is not None:
                arrays = True
        items.append(i)
    if ellipsis > 1:  # PyTorch takes repeated ellipses (see one_ellipsis)
        items = one_ellipsis(items, ndim)
    if ints and arrays:
        return _split(items)
    if ints and not ellipsis:
        items.append(Ellipsis)
    return tuple(items), None


class GetItem(Op):
    """y = x[idx]; dx = zeros(x.shape) with dy added at idx."""

    is_view = 2

    def forward(self, x, idx):
        self.idx = idx
        self.in_shape = x._data.shape
        out = self.backend.getitem(x._data, idx)
        if not out.flags.c_contiguous and not _is_basic(idx):
            out = self.backend.contiguous(out)  # a gathered copy is contiguous in PyTorch
        return out

    def backward(self, g):
        return (IndexAdd.apply(g, shape=self.in_shape, idx=self.idx),)


class Slice(GetItem):
    """y = x[idx] for an idx of slices (narrow, split, chunk): always a view, no checks."""

    is_view = 1

    def forward(self, x, idx):
        self.idx, self.in_shape = idx, x._data.shape
        return x._data[idx]


class IndexAdd(Op):
    """y = zeros(shape) with x added at idx; dx = dy[idx]."""

    def forward(self, x, shape, idx):
        self.idx = idx
        return self.backend.index_add(shape, idx, x._data)

    def backward(self, g):
        return (GetItem.apply(g, idx=self.idx),)


class LerpAlong(Op):
    """y = x[lo] (1 - f) + x[hi] f along one axis (linear upsampling); dx its adjoint."""

    def forward(self, x, axis, lo, hi, frac):
        self.kw, self.n = {"axis": axis, "lo": lo, "hi": hi, "frac": frac}, x.shape[axis]
        return self.backend.lerp_along(x._data, axis, lo, hi, frac)

    def backward(self, g):
        return (LerpAlongAdjoint.apply(g, kw=self.kw, n=self.n),)


class LerpAlongAdjoint(Op):
    def forward(self, g, kw, n):
        self.kw = kw
        return self.backend.lerp_along_backward(g._data, *kw.values(), n)

    def backward(self, g):
        return (LerpAlong.apply(g, **self.kw),)


def lerp_along(x, axis: int, lo, hi, frac):
    return LerpAlong.apply(x, axis=axis, lo=lo, hi=hi, frac=frac)


class IndexPut(Op):
    """y = x with y[idx] = v; dx = dy with dy[idx] = 0, dv = sum_to(dy[idx], v.shape)."""

    def forward(self, x, v, idx):
        self.idx = idx
        self.v_shape = v._data.shape
        out = self.backend.copy(x._data)
        try:
            self.backend.setitem(out, idx, v._data)
        except (ValueError, TypeError):  # NumPy: TypeError for a mask and a value of >1 dims
            target = self.backend.getitem(out, idx).shape
            raise ShapeError(f"setitem: shape mismatch: value of shape {tuple(v.shape)} cannot "
                             f"be broadcast to indexing result of shape {tuple(target)}"
                             ) from None
        return out

    def backward(self, g):
        gx = gv = None
        if self.next[0] is not None:
            b = g._dev.backend
            keep = b.ones(g._data.shape, g._data.dtype)
            b.setitem(keep, self.idx, 0)
            gx = g * constant(keep, g._dev)
        if self.next[1] is not None:
            gv = sum_to(GetItem.apply(g, idx=self.idx), self.v_shape)
        return gx, gv


def getitem(x, idx):
    first, then = _convert_index(idx, x._dev, x._data.ndim)
    try:
        out = GetItem.apply(x, idx=first)
        return out if then is None else GetItem.apply(out, idx=then)
    except IndexError as exc:
        raise IndexError(f"index {idx!r} is invalid for a tensor of shape {tuple(x.shape)}: "
                         f"{exc}") from None
