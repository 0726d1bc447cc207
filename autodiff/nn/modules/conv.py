"""Convolution layers: Conv1d, Conv2d, ConvTranspose1d, ConvTranspose2d (im2col + matmul
underneath)."""

from __future__ import annotations


from ... import creation
from ...errors import ShapeError
from ...ops.conv import pair
from ...tensor import Tensor
from .. import functional as F
from .. import init
from ..parameter import Parameter
from .module import Module

_PAD_MODES = ("zeros", "reflect", "replicate", "circular")


class _ConvNd(Module):
    def __init__(self, n, in_channels, out_channels, kernel_size, stride, padding, dilation,
                 groups, bias, padding_mode, device, dtype, transposed=False,
                 output_padding=0) -> None:
        super().__init__()
        name = type(self).__name__
        if groups <= 0 or in_channels % groups or out_channels % groups:
            raise ValueError(f"{name}: in_channels ({in_channels}) and out_channels "
                             f"({out_channels}) must be divisible by groups ({groups})")
        if padding_mode not in _PAD_MODES:
            raise ValueError(f"{name}: padding_mode must be one of {_PAD_MODES}, got "
                             f"{padding_mode!r}")
        self.in_channels, self.out_channels, self.groups = in_channels, out_channels, groups
        self.kernel_size = pair(kernel_size, f"{name}: kernel_size", n)
        self.stride = pair(stride, f"{name}: stride", n)
        self.dilation = pair(dilation, f"{name}: dilation", n)
        if isinstance(padding, str):
            if padding not in ("same", "valid"):
                raise ValueError(f"{name}: invalid padding string {padding!r}, should be one "
                                 f"of 'valid', 'same'")
            if padding == "same" and any(s != 1 for s in self.stride):
                raise ValueError(f"{name}: padding='same' is not supported for strided "
                                 f"convolutions")
            self.padding = padding
        else:
            self.padding = pair(padding, f"{name}: padding", n)
        self.padding_mode, self.transposed = padding_mode, transposed
        self.output_padding = pair(output_padding, f"{name}: output_padding", n)
        shape = ((in_channels, out_channels // groups) if transposed
                 else (out_channels, in_channels // groups)) + self.kernel_size
        self.weight = Parameter(creation.empty(*shape, device=device, dtype=dtype))
        if bias:
            self.bias = Parameter(creation.empty(out_channels, device=device, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """kaiming_uniform_(a=sqrt(5)) for the weight, U(-1/sqrt(fan_in), ..) for the bias."""
        init.default_weight_bias_(self.weight, self.bias)

    def _check(self, x: Tensor, n: int) -> None:
        if x.ndim not in (n + 1, n + 2) or x.shape[-n - 1] != self.in_channels:
            raise ShapeError(f"{type(self).__name__}: expected input of shape (N, "
                             f"{self.in_channels}, ...) with {n} spatial dims (in_channels="
                             f"{self.in_channels}), got shape {tuple(x.shape)}")

    def _output_padding(self, x: Tensor, output_size, n: int) -> tuple:
        """output_padding, or the one that makes the output ``output_size`` (PyTorch's
        ConvTranspose check of the size range)."""
        if output_size is None:
            return self.output_padding
        size = [int(o) for o in output_size]
        lead = x.ndim - n
        if len(size) == lead + n:
            size = size[lead:]
        if len(size) != n:
            raise ValueError(f"{type(self).__name__}: for {x.ndim}D input, output_size must "
                             f"have {n} or {lead + n} elements (got {len(size)})")
        lo = [(i - 1) * s - 2 * p + d * (k - 1) + 1 for i, s, p, d, k in zip(
            x.shape[lead:], self.stride, self.padding, self.dilation, self.kernel_size)]
        hi = [m + s - 1 for m, s in zip(lo, self.stride)]
        if any(not a <= o <= b for o, a, b in zip(size, lo, hi)):
            raise ValueError(f"requested an output size of {size}, but valid sizes range from "
                             f"{lo} to {hi} (for an input of {list(x.shape[lead:])})")
        return tuple(o - m for o, m in zip(size, lo))

    def _mode_pad(self, x: Tensor):
        """Explicit non-zero padding modes: pad first, then convolve without padding."""
        if self.padding_mode == "zeros":
            return x, self.padding
        if isinstance(self.padding, str):
            if self.padding == "valid":
                return x, 0
            widths = []
            for k, d in zip(reversed(self.kernel_size), reversed(self.dilation)):
                t = d * (k - 1)
                widths += [t // 2, t - t // 2]
        else:
            widths = []
            for p in reversed(self.padding):
                widths += [p, p]
        return F.pad(x, tuple(widths), mode=self.padding_mode), 0

    def extra_repr(self) -> str:
        s = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
             f"stride={self.stride}")
        n = len(self.kernel_size)
        if self.padding != (0,) * n:
            s += f", padding={self.padding}"  # PyTorch's: padding=same, unquoted
        if self.dilation != (1,) * n:
            s += f", dilation={self.dilation}"
        if self.output_padding != (0,) * n:
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s


class Conv1d(_ConvNd):
    """1-D convolution over (N, C_in, L).

    Args:
        in_channels, out_channels, kernel_size; stride=1, padding=0 (int, "valid" or "same"),
        dilation=1, groups=1, bias=True, padding_mode="zeros".

    Shape:
        input (N, C_in, L_in), output (N, C_out, L_out) with
        L_out = (L_in + 2 padding - dilation (kernel_size - 1) - 1) // stride + 1;
        weight (C_out, C_in / groups, kernel_size).
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 dilation=1, groups: int = 1, bias: bool = True, padding_mode: str = "zeros",
                 device=None, dtype=None) -> None:
        super().__init__(1, in_channels, out_channels, kernel_size, stride, padding, dilation,
                         groups, bias, padding_mode, device, dtype)

    def forward(self, input: Tensor) -> Tensor:
        self._check(input, 1)
        input, padding = self._mode_pad(input)
        pad = padding if isinstance(padding, (str, int)) else padding[0]
        return F.conv1d(input, self.weight, self.bias, self.stride[0], pad, self.dilation[0],
                        self.groups)


class Conv2d(_ConvNd):
    """2-D convolution over (N, C_in, H, W), lowered to im2col + the backend's matmul.

    Weights from kaiming_uniform_(a=sqrt(5)), bias from U(-1/sqrt(fan_in), 1/sqrt(fan_in)).

    Args:
        in_channels, out_channels, kernel_size; stride=1, padding=0 (int, pair, "valid" or
        "same"), dilation=1, groups=1 (groups == in_channels: depthwise), bias=True,
        padding_mode="zeros" ("reflect", "replicate", "circular").

    Shape:
        input (N, C_in, H_in, W_in), output (N, C_out, H_out, W_out) with
        H_out = (H_in + 2 padding - dilation (kH - 1) - 1) // stride + 1;
        weight (C_out, C_in / groups, kH, kW).

    Example:
        >>> conv = nn.Conv2d(3, 8, 3, padding=1)
        >>> conv(ad.randn(2, 3, 16, 16)).shape
        (2, 8, 16, 16)
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 dilation=1, groups: int = 1, bias: bool = True, padding_mode: str = "zeros",
                 device=None, dtype=None) -> None:
        super().__init__(2, in_channels, out_channels, kernel_size, stride, padding, dilation,
                         groups, bias, padding_mode, device, dtype)

    def forward(self, input: Tensor) -> Tensor:
        self._check(input, 2)
        input, padding = self._mode_pad(input)
        return F.conv2d(input, self.weight, self.bias, self.stride, padding, self.dilation,
                        self.groups)


class _ConvTransposeNd(_ConvNd):
    """The constructor and forward shared by ConvTranspose1d/2d/3d (``dims`` spatial dims,
    ``F.conv_transpose{dims}d``); only 'zeros' padding, and no string padding."""

    dims = 2

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 output_padding=0, groups: int = 1, bias: bool = True, dilation=1,
                 padding_mode: str = "zeros", device=None, dtype=None) -> None:
        name = type(self).__name__
        if padding_mode != "zeros":
            raise ValueError(f"{name}: only 'zeros' padding mode is supported, got "
                             f"{padding_mode!r}")
        if isinstance(padding, str):
            raise ValueError(f"{name}: padding must be an int or a tuple of ints")
        super().__init__(self.dims, in_channels, out_channels, kernel_size, stride, padding,
                         dilation, groups, bias, padding_mode, device, dtype, transposed=True,
                         output_padding=output_padding)

    def forward(self, input: Tensor, output_size=None) -> Tensor:
        self._check(input, self.dims)
        op = self._output_padding(input, output_size, self.dims)
        fn = getattr(F, f"conv_transpose{self.dims}d")
        return fn(input, self.weight, self.bias, self.stride, self.padding, op, self.groups,
                  self.dilation)


class ConvTranspose2d(_ConvTransposeNd):
    """Transposed 2-D convolution (the adjoint of Conv2d), via matmul + col2im.

    Shape:
        input (N, C_in, H_in, W_in), output (N, C_out, H_out, W_out) with
        H_out = (H_in - 1) stride - 2 padding + dilation (kH - 1) + output_padding + 1;
        weight (C_in, C_out / groups, kH, kW).
    """

    dims = 2


class ConvTranspose1d(_ConvTransposeNd):
    """Transposed 1-D convolution (the adjoint of Conv1d), conv_transpose2d on a height-1
    image. Weight from kaiming_uniform_(a=sqrt(5)), bias from U(-1/sqrt(fan_in), ..) with
    fan_in = (C_out / groups) * kernel_size, as PyTorch.

    Args:
        in_channels, out_channels, kernel_size; stride=1, padding=0, output_padding=0,
        groups=1, bias=True, dilation=1, padding_mode="zeros" (the only one supported).

    Shape:
        input (N, C_in, L_in) or (C_in, L_in), output (N, C_out, L_out) with
        L_out = (L_in - 1) stride - 2 padding + dilation (k - 1) + output_padding + 1;
        weight (C_in, C_out / groups, kernel_size).

    Example:
        >>> nn.ConvTranspose1d(4, 2, 3, stride=2)(ad.randn(1, 4, 5)).shape
        (1, 2, 11)
    """

    dims = 1
