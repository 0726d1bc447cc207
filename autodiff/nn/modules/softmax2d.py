"""Softmax2d: softmax over the channels at every spatial location."""

from __future__ import annotations

from ...tensor import Tensor
from .. import functional as F
from .module import Module


class Softmax2d(Module):
    """Softmax over the channel dim (-3) of (N, C, H, W) or (C, H, W) at every location.

    Shape:
        input (N, C, H, W) or (C, H, W); output of the same shape, in [0, 1], summing to 1
        over C.

    Example:
        >>> nn.Softmax2d()(ad.randn(2, 3, 4, 4)).sum(1)  # all ones
    """

    def forward(self, x: Tensor) -> Tensor:
        if x.ndim not in (3, 4):
            raise ValueError(f"Softmax2d: expected input to be 3D or 4D, got {x.ndim}D instead")
        return F.softmax(x, -3)
