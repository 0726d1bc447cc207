"""``autodiff.Size``: the type of ``Tensor.shape`` and ``Tensor.size()``, as ``torch.Size``."""

from __future__ import annotations

import math

_new = tuple.__new__


class Size(tuple):
    """A shape: a tuple of ints with ``numel()``; its slices and sums are Sizes too."""

    def __new__(cls, sizes=()):
        return _new(cls, (int(s) for s in sizes))

    def numel(self) -> int:
        return math.prod(self)

    def __getitem__(self, key):
        item = tuple.__getitem__(self, key)
        return _new(Size, item) if isinstance(key, slice) else item

    def __add__(self, other):
        return _new(Size, tuple.__add__(self, other))

    def __radd__(self, other):
        if not isinstance(other, tuple):
            return NotImplemented
        return _new(Size, tuple.__add__(other, self))

    def __mul__(self, n):
        return _new(Size, tuple.__mul__(self, n))

    __rmul__ = __mul__

    def __repr__(self) -> str:
        return f"autodiff.Size({list(self)})"


def size_of(shape: tuple) -> Size:
    """A backend array's shape (a tuple of ints) as a Size, without re-checking its items."""
    return _new(Size, shape)
