"""Fold and Unfold: sliding local blocks to columns (im2col) and back (col2im), as layers."""

from __future__ import annotations

from ...tensor import Tensor
from .. import functional as F
from .module import Module


class Unfold(Module):
    """Extract sliding local blocks of (N, C, H, W) as columns (im2col).

    Args:
        kernel_size; dilation=1; padding=0; stride=1 (ints or pairs).

    Shape:
        input (N, C, H, W) or (C, H, W); output (N, C * kH * kW, L) with L the number of
        block positions, prod over dims of (size + 2 padding - dilation (k - 1) - 1) // stride
        + 1.

    Example:
        >>> nn.Unfold(kernel_size=(2, 3))(ad.randn(2, 5, 3, 4)).shape
        (2, 30, 4)
    """

    def __init__(self, kernel_size, dilation=1, padding=0, stride=1) -> None:
        super().__init__()
        self.kernel_size, self.dilation = kernel_size, dilation
        self.padding, self.stride = padding, stride

    def forward(self, input: Tensor) -> Tensor:
        return F.unfold(input, self.kernel_size, self.dilation, self.padding, self.stride)

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, dilation={self.dilation}, "
                f"padding={self.padding}, stride={self.stride}")


class Fold(Module):
    """Combine columns of sliding local blocks into (N, C, H, W), summing overlaps (col2im,
    the adjoint of Unfold).

    Args:
        output_size: (H, W) of the result; kernel_size; dilation=1; padding=0; stride=1.

    Shape:
        input (N, C * kH * kW, L) or (C * kH * kW, L); output (N, C, H, W) or (C, H, W).

    Example:
        >>> nn.Fold(output_size=(4, 5), kernel_size=(2, 2))(ad.randn(1, 12, 12)).shape
        (1, 3, 4, 5)
    """

    def __init__(self, output_size, kernel_size, dilation=1, padding=0, stride=1) -> None:
        super().__init__()
        self.output_size, self.kernel_size = output_size, kernel_size
        self.dilation, self.padding, self.stride = dilation, padding, stride

    def forward(self, input: Tensor) -> Tensor:
        return F.fold(input, self.output_size, self.kernel_size, self.dilation, self.padding,
                      self.stride)

    def extra_repr(self) -> str:
        return (f"output_size={self.output_size}, kernel_size={self.kernel_size}, "
                f"dilation={self.dilation}, padding={self.padding}, stride={self.stride}")
