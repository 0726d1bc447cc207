"""Pooling layers: max / average / adaptive average / adaptive max / power-average (LP) and
max unpooling, 1-D and 2-D."""

from __future__ import annotations

from ...ops.conv import pair
from ...tensor import Tensor
from .. import functional as F
from .module import Module


def _single(v):
    """An int (or list) as a 1-tuple, as PyTorch stores AvgPool1d's arguments; None kept."""
    return v if v is None or isinstance(v, tuple) else tuple(v) if isinstance(v, list) else (v,)


class _Pool(Module):
    def __init__(self, kernel_size, stride=None, padding=0) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding


class MaxPool2d(_Pool):
    """Max over each kH x kW window of (N, C, H, W) (padding counts as -inf).

    Args:
        kernel_size; stride=kernel_size; padding=0; dilation=1; return_indices=False;
        ceil_mode=False.

    Shape:
        H_out = floor_or_ceil((H + 2 padding - dilation (k - 1) - 1) / stride) + 1.
    """

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1,
                 return_indices: bool = False, ceil_mode: bool = False) -> None:
        super().__init__(kernel_size, stride, padding)
        self.dilation, self.return_indices, self.ceil_mode = dilation, return_indices, ceil_mode

    def forward(self, input: Tensor):
        return F.max_pool2d(input, self.kernel_size, self.stride, self.padding, self.dilation,
                            self.ceil_mode, self.return_indices)

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class MaxPool1d(MaxPool2d):
    """Max over each window of (N, C, L)."""

    def forward(self, input: Tensor):
        return F.max_pool1d(input, self.kernel_size, self.stride, self.padding, self.dilation,
                            self.ceil_mode, self.return_indices)


class AvgPool2d(_Pool):
    """Mean over each kH x kW window of (N, C, H, W).

    Args:
        kernel_size; stride=kernel_size; padding=0; ceil_mode=False; count_include_pad=True;
        divisor_override=None.
    """

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
                 count_include_pad: bool = True, divisor_override=None) -> None:
        super().__init__(kernel_size, stride, padding)
        self.ceil_mode, self.count_include_pad = ceil_mode, count_include_pad
        self.divisor_override = divisor_override

    def forward(self, input: Tensor) -> Tensor:
        return F.avg_pool2d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                            self.count_include_pad, self.divisor_override)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AvgPool1d(_Pool):
    """Mean over each window of (N, C, L)."""

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
                 count_include_pad: bool = True) -> None:
        super().__init__(_single(kernel_size), _single(stride), _single(padding))
        self.ceil_mode, self.count_include_pad = ceil_mode, count_include_pad

    def forward(self, input: Tensor) -> Tensor:
        return F.avg_pool1d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                            self.count_include_pad)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AdaptiveAvgPool2d(Module):
    """Average pooling of (N, C, H, W) to a fixed output size (None keeps that dim)."""

    def __init__(self, output_size) -> None:
        super().__init__()
        self.output_size = output_size

    def forward(self, input: Tensor) -> Tensor:
        return F.adaptive_avg_pool2d(input, self.output_size)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class AdaptiveAvgPool1d(AdaptiveAvgPool2d):
    """Average pooling of (N, C, L) to a fixed length."""

    def forward(self, input: Tensor) -> Tensor:
        return F.adaptive_avg_pool1d(input, self.output_size)


class _AdaptiveMaxPoolNd(Module):
    def __init__(self, output_size, return_indices: bool = False) -> None:
        super().__init__()
        self.output_size, self.return_indices = output_size, return_indices

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class AdaptiveMaxPool2d(_AdaptiveMaxPoolNd):
    """Max pooling of (N, C, H, W) or (C, H, W) to a fixed output size; bin i of a dim of size
    H covers [floor(i H / H_out), ceil((i + 1) H / H_out)).

    Args:
        output_size: int or (H_out, W_out) (None keeps that dim); return_indices=False: also
            return the flat H*W positions of the maxima (for ``nn.MaxUnpool2d``).

    Shape:
        input (N, C, H_in, W_in), output (N, C, H_out, W_out).

    Example:
        >>> nn.AdaptiveMaxPool2d((5, 7))(ad.randn(1, 64, 8, 9)).shape
        (1, 64, 5, 7)
    """

    def forward(self, input: Tensor):
        return F.adaptive_max_pool2d(input, self.output_size, self.return_indices)


class AdaptiveMaxPool1d(_AdaptiveMaxPoolNd):
    """Max pooling of (N, C, L) or (C, L) to a fixed length L_out (bins as AdaptiveMaxPool2d).

    Args:
        output_size: int; return_indices=False.
    """

    def forward(self, input: Tensor):
        return F.adaptive_max_pool1d(input, self.output_size, self.return_indices)


class _LPPoolNd(Module):
    def __init__(self, norm_type: float, kernel_size, stride=None,
                 ceil_mode: bool = False) -> None:
        super().__init__()
        self.norm_type, self.kernel_size = norm_type, kernel_size
        self.stride, self.ceil_mode = stride, ceil_mode

    def extra_repr(self) -> str:
        return (f"norm_type={self.norm_type}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}, ceil_mode={self.ceil_mode}")


class LPPool2d(_LPPoolNd):
    """Power-average pooling of (N, C, H, W): (sum over each window of x^p)^(1/p); p = 1 is
    sum pooling, p = inf max pooling (of |x|).

    Args:
        norm_type: p; kernel_size: int or pair; stride=kernel_size; ceil_mode=False.

    Shape:
        H_out = floor_or_ceil((H_in - kH) / stride) + 1 (no padding).

    Example:
        >>> nn.LPPool2d(2, 3, stride=2)(ad.randn(1, 4, 7, 7)).shape
        (1, 4, 3, 3)
    """

    def forward(self, input: Tensor) -> Tensor:
        return F.lp_pool2d(input, float(self.norm_type), self.kernel_size, self.stride,
                           self.ceil_mode)


class LPPool1d(_LPPoolNd):
    """Power-average pooling of (N, C, L) or (C, L): (sum over each window of x^p)^(1/p).

    Args:
        norm_type: p; kernel_size: int; stride=kernel_size; ceil_mode=False.
    """

    def forward(self, input: Tensor) -> Tensor:
        return F.lp_pool1d(input, float(self.norm_type), self.kernel_size, self.stride,
                           self.ceil_mode)


class _MaxUnpoolNd(Module):
    spatial = 2

    def __init__(self, kernel_size, stride=None, padding=0) -> None:
        super().__init__()
        n, name = self.spatial, type(self).__name__
        self.kernel_size = pair(kernel_size, f"{name}: kernel_size", n)
        self.stride = pair(kernel_size if stride is None else stride, f"{name}: stride", n)
        self.padding = pair(padding, f"{name}: padding", n)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxUnpool2d(_MaxUnpoolNd):
    """The partial inverse of MaxPool2d: the maxima written back at their indices (from
    ``MaxPool2d(..., return_indices=True)``), zeros elsewhere.

    Args:
        kernel_size; stride=kernel_size; padding=0 (the pooling's).

    Shape:
        input and indices (N, C, H_in, W_in); output (N, C, H_out, W_out) with
        H_out = (H_in - 1) stride - 2 padding + kH, or ``output_size`` given to forward.

    Example:
        >>> pool, unpool = nn.MaxPool2d(2, return_indices=True), nn.MaxUnpool2d(2)
        >>> y, idx = pool(x)
        >>> unpool(y, idx, output_size=x.shape)
    """

    def forward(self, input: Tensor, indices: Tensor, output_size=None) -> Tensor:
        return F.max_unpool2d(input, indices, self.kernel_size, self.stride, self.padding,
                              output_size)


class MaxUnpool1d(_MaxUnpoolNd):
    """The partial inverse of MaxPool1d on (N, C, L) or (C, L):
    L_out = (L_in - 1) stride - 2 padding + kernel_size (or ``output_size``).

    Args:
        kernel_size; stride=kernel_size; padding=0.
    """

    spatial = 1

    def forward(self, input: Tensor, indices: Tensor, output_size=None) -> Tensor:
        return F.max_unpool1d(input, indices, self.kernel_size, self.stride, self.padding,
                              output_size)
