"""The 3-D layers over (N, C, D, H, W): Conv3d, ConvTranspose3d, MaxPool3d, AvgPool3d,
AdaptiveAvgPool3d, AdaptiveMaxPool3d, BatchNorm3d, InstanceNorm3d and Dropout3d, thin
modules over ``nn.functional``'s 3-D composites and the N-D norm primitives."""

from __future__ import annotations

from ...tensor import Tensor
from .. import functional as F
from .conv import _ConvNd, _ConvTransposeNd
from .dropout import _DropoutNd
from .normalization import _BatchNorm, _InstanceNorm
from .pooling import AdaptiveAvgPool2d, AvgPool2d, MaxPool2d, _AdaptiveMaxPoolNd


class Conv3d(_ConvNd):
    """3-D convolution over (N, C_in, D, H, W): a sum over the kernel's depth offsets of 2-D
    convolutions. Weight from kaiming_uniform_(a=sqrt(5)), bias from U(-1/sqrt(fan_in), ..)
    with fan_in = (C_in / groups) kD kH kW, as PyTorch.

    Args:
        in_channels, out_channels, kernel_size; stride=1, padding=0 (int, triple, "valid" or
        "same"), dilation=1, groups=1, bias=True, padding_mode="zeros" ("reflect",
        "replicate", "circular").

    Shape:
        input (N, C_in, D_in, H_in, W_in) or unbatched, output (N, C_out, D_out, H_out, W_out)
        with D_out = (D_in + 2 padding - dilation (kD - 1) - 1) // stride + 1;
        weight (C_out, C_in / groups, kD, kH, kW).

    Example:
        >>> nn.Conv3d(2, 4, 3, padding=1)(ad.randn(1, 2, 5, 6, 7)).shape
        (1, 4, 5, 6, 7)
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 dilation=1, groups: int = 1, bias: bool = True, padding_mode: str = "zeros",
                 device=None, dtype=None) -> None:
        super().__init__(3, in_channels, out_channels, kernel_size, stride, padding, dilation,
                         groups, bias, padding_mode, device, dtype)

    def forward(self, input: Tensor) -> Tensor:
        self._check(input, 3)
        input, padding = self._mode_pad(input)
        return F.conv3d(input, self.weight, self.bias, self.stride, padding, self.dilation,
                        self.groups)


class ConvTranspose3d(_ConvTransposeNd):
    """Transposed 3-D convolution (the adjoint of Conv3d). Initialised as ConvTranspose2d.

    Args:
        in_channels, out_channels, kernel_size; stride=1, padding=0, output_padding=0,
        groups=1, bias=True, dilation=1, padding_mode="zeros" (the only one supported).

    Shape:
        input (N, C_in, D_in, H_in, W_in) or unbatched, output (N, C_out, D_out, H_out, W_out)
        with D_out = (D_in - 1) stride - 2 padding + dilation (kD - 1) + output_padding + 1;
        weight (C_in, C_out / groups, kD, kH, kW).

    Example:
        >>> nn.ConvTranspose3d(4, 2, 3, stride=2)(ad.randn(1, 4, 3, 3, 3)).shape
        (1, 2, 7, 7, 7)
    """

    dims = 3


class MaxPool3d(MaxPool2d):
    """Max over each kD x kH x kW window of (N, C, D, H, W) (padding counts as -inf);
    arguments as MaxPool2d's; return_indices gives flat D*H*W positions."""

    def forward(self, input: Tensor):
        return F.max_pool3d(input, self.kernel_size, self.stride, self.padding, self.dilation,
                            self.ceil_mode, self.return_indices)


class AvgPool3d(AvgPool2d):
    """Mean over each kD x kH x kW window of (N, C, D, H, W); arguments as AvgPool2d's."""

    def forward(self, input: Tensor) -> Tensor:
        return F.avg_pool3d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                            self.count_include_pad, self.divisor_override)


class AdaptiveAvgPool3d(AdaptiveAvgPool2d):
    """Average pooling of (N, C, D, H, W) to a fixed output size (None keeps that dim)."""

    def forward(self, input: Tensor) -> Tensor:
        return F.adaptive_avg_pool3d(input, self.output_size)


class AdaptiveMaxPool3d(_AdaptiveMaxPoolNd):
    """Max pooling of (N, C, D, H, W) to a fixed output size; with return_indices also the
    flat D*H*W positions of the maxima."""

    def forward(self, input: Tensor):
        return F.adaptive_max_pool3d(input, self.output_size, self.return_indices)


class BatchNorm3d(_BatchNorm):
    """Batch normalization over (N, C, D, H, W) per channel (see BatchNorm1d)."""

    _dims = (5,)


class InstanceNorm3d(_InstanceNorm):
    """Normalize each (sample, channel) of (N, C, D, H, W) over D, H, W; affine and running
    statistics off by default, as PyTorch."""

    _spatial = 3


class Dropout3d(_DropoutNd):
    """In training, zero whole channels of (N, C, D, H, W) with probability p."""

    def forward(self, input: Tensor) -> Tensor:
        return F.dropout3d(input, self.p, self.training, self.inplace)
