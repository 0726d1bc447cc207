"""Padding layers: constant (and zero), reflection, replication and circular, 1-D to 3-D.

Each stores ``padding`` as PyTorch does, a tuple (left, right[, top, bottom[, front, back]])
listing the last dims first, and calls ``F.pad``; an int pads every side by that amount.
"""

from __future__ import annotations

from collections.abc import Iterable

from ...tensor import Tensor
from .. import functional as F
from .module import Module


def _ntuple(padding, n: int) -> tuple:
    """An int as n copies; a sequence as a tuple, unchecked (PyTorch's _ntuple)."""
    if isinstance(padding, Iterable):
        return tuple(padding)
    return (padding,) * n


class _PadNd(Module):
    mode = "constant"
    spatial = 1

    def __init__(self, padding) -> None:
        super().__init__()
        self.padding = _ntuple(padding, 2 * self.spatial)

    def forward(self, input: Tensor) -> Tensor:
        return F.pad(input, self.padding, self.mode)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class _ConstantPadNd(_PadNd):
    def __init__(self, padding, value: float) -> None:
        super().__init__(padding)
        self.value = value

    def forward(self, input: Tensor) -> Tensor:
        return F.pad(input, self.padding, "constant", self.value)

    def extra_repr(self) -> str:
        return f"padding={self.padding}, value={self.value}"


class ConstantPad1d(_ConstantPadNd):
    """Pad the last dim of (N, C, W) or (C, W) with a constant ``value``.

    Args:
        padding: int (both sides) or (left, right); negative values crop.
        value: the fill value.

    Shape:
        W_out = W_in + left + right.

    Example:
        >>> nn.ConstantPad1d((1, 2), 3.5)(ad.zeros(1, 2, 4)).shape
        (1, 2, 7)
    """


class ConstantPad2d(_ConstantPadNd):
    """Pad the last two dims of (N, C, H, W) or (C, H, W) with a constant ``value``.

    Args:
        padding: int or (left, right, top, bottom); value: the fill value.

    Shape:
        H_out = H_in + top + bottom, W_out = W_in + left + right.
    """

    spatial = 2


class ConstantPad3d(_ConstantPadNd):
    """Pad the last three dims of (N, C, D, H, W) or (C, D, H, W) with a constant ``value``.

    Args:
        padding: int or (left, right, top, bottom, front, back); value: the fill value.
    """

    spatial = 3


class ZeroPad1d(ConstantPad1d):
    """Pad the last dim of (N, C, W) or (C, W) with zeros.

    Args:
        padding: int or (left, right).
    """

    def __init__(self, padding) -> None:
        super().__init__(padding, 0.0)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class ZeroPad2d(ConstantPad2d):
    """Pad the last two dims of (N, C, H, W) or (C, H, W) with zeros.

    Args:
        padding: int or (left, right, top, bottom).

    Example:
        >>> nn.ZeroPad2d((1, 1, 2, 0))(ad.ones(1, 1, 3, 3)).shape
        (1, 1, 5, 5)
    """

    def __init__(self, padding) -> None:
        super().__init__(padding, 0.0)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class ZeroPad3d(ConstantPad3d):
    """Pad the last three dims of (N, C, D, H, W) or (C, D, H, W) with zeros.

    Args:
        padding: int or (left, right, top, bottom, front, back).
    """

    def __init__(self, padding) -> None:
        super().__init__(padding, 0.0)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class _ReflectionPadNd(_PadNd):
    mode = "reflect"


class _ReplicationPadNd(_PadNd):
    mode = "replicate"


class _CircularPadNd(_PadNd):
    mode = "circular"

    def forward(self, input: Tensor) -> Tensor:
        if input.ndim not in (self.spatial + 1, self.spatial + 2):
            raise ValueError(f"expected {self.spatial + 1}D or {self.spatial + 2}D input (got "
                             f"{input.ndim}D input)")
        return super().forward(input)


class ReflectionPad1d(_ReflectionPadNd):
    """Pad the last dim of (N, C, W) or (C, W) with its reflection (the edge not repeated):
    ``[1, 2, 3]`` padded by (2, 1) is ``[3, 2, 1, 2, 3, 2]``.

    Args:
        padding: int or (left, right), each smaller than the input size.
    """


class ReflectionPad2d(_ReflectionPadNd):
    """Pad the last two dims of (N, C, H, W) or (C, H, W) with their reflection.

    Args:
        padding: int or (left, right, top, bottom), each smaller than that dim's size.

    Example:
        >>> nn.ReflectionPad2d(2)(ad.randn(1, 3, 4, 4)).shape
        (1, 3, 8, 8)
    """

    spatial = 2


class ReflectionPad3d(_ReflectionPadNd):
    """Pad the last three dims of (N, C, D, H, W) or (C, D, H, W) with their reflection.

    Args:
        padding: int or (left, right, top, bottom, front, back).
    """

    spatial = 3


class ReplicationPad1d(_ReplicationPadNd):
    """Pad the last dim of (N, C, W) or (C, W) by repeating its edge values.

    Args:
        padding: int or (left, right).
    """


class ReplicationPad2d(_ReplicationPadNd):
    """Pad the last two dims of (N, C, H, W) or (C, H, W) by repeating their edges.

    Args:
        padding: int or (left, right, top, bottom).
    """

    spatial = 2


class ReplicationPad3d(_ReplicationPadNd):
    """Pad the last three dims of (N, C, D, H, W) or (C, D, H, W) by repeating their edges.

    Args:
        padding: int or (left, right, top, bottom, front, back).
    """

    spatial = 3


class CircularPad1d(_CircularPadNd):
    """Pad the last dim of (N, C, W) or (C, W) by wrapping around (periodic boundary):
    ``[1, 2, 3]`` padded by (1, 2) is ``[3, 1, 2, 3, 1, 2]``.

    Args:
        padding: int or (left, right), each at most the input size.
    """


class CircularPad2d(_CircularPadNd):
    """Pad the last two dims of (N, C, H, W) or (C, H, W) by wrapping around.

    Args:
        padding: int or (left, right, top, bottom).
    """

    spatial = 2


class CircularPad3d(_CircularPadNd):
    """Pad the last three dims of (N, C, D, H, W) or (C, D, H, W) by wrapping around.

    Args:
        padding: int or (left, right, top, bottom, front, back).
    """

    spatial = 3
