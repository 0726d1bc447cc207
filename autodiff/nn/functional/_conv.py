"""``conv1d``, ``conv2d`` and ``conv_transpose2d`` of ``autodiff.ops.conv`` behind PyTorch's
checks of the convolution arguments, and that check, shared by every ``nn.functional``
convolution (a negative padding or a zero stride would otherwise fail deep inside the kernels
with an unrelated message)."""

from __future__ import annotations

from ...ops import conv as _conv
from ...tensor import Tensor


def _values(arg) -> tuple:
    return tuple(arg) if isinstance(arg, (list, tuple)) else (arg,)


def check_conv_args(name: str, stride=1, padding=0, dilation=1, groups: int = 1,
                    output_padding=0) -> None:
    """Raise PyTorch's RuntimeError, naming the argument, for a stride, dilation or groups
    below 1 and for a negative padding or output_padding (a padding string passes)."""
    if not isinstance(padding, str) and any(p < 0 for p in _values(padding)):
        raise RuntimeError(f"{name}: negative padding is not supported, got padding={padding}")
    if any(o < 0 for o in _values(output_padding)):
        raise RuntimeError(f"{name}: negative output_padding is not supported, got "
                           f"output_padding={output_padding}")
    if any(s <= 0 for s in _values(stride)):
        raise RuntimeError(f"{name}: non-positive stride is not supported, got stride={stride}")
    if any(d <= 0 for d in _values(dilation)):
        raise RuntimeError(f"{name}: dilation should be greater than zero, got "
                           f"dilation={dilation}")
    if groups <= 0:
        raise RuntimeError(f"{name}: non-positive groups is not supported, got groups={groups}")


def conv1d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0,
           dilation=1, groups: int = 1) -> Tensor:
    """1-D convolution (cross-correlation) over (N, C_in, L).

    Args:
        input: (N, C_in, L) or (C_in, L); weight: (C_out, C_in / groups, k);
        bias: (C_out,) or None; stride, dilation: int; padding: int, "valid" or "same".
    Returns:
        Tensor (N, C_out, L_out), L_out = (L + 2 padding - dilation (k - 1) - 1) // stride + 1.
    Example:
        >>> F.conv1d(ad.randn(2, 4, 9), ad.randn(8, 4, 3), padding=1).shape
        (2, 8, 9)
    """
    check_conv_args("conv1d", stride, padding, dilation, groups)
    return _conv.conv1d(input, weight, bias, stride, padding, dilation, groups)


def conv2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0,
           dilation=1, groups: int = 1) -> Tensor:
    """2-D convolution (cross-correlation) over (N, C_in, H, W).

    Args:
        input: (N, C_in, H, W) or (C_in, H, W); weight: (C_out, C_in / groups, kH, kW);
        bias: (C_out,) or None; stride, dilation: int or pair; padding: int, pair, "valid"
        or "same"; groups: split the channels into groups.
    Returns:
        Tensor (N, C_out, H_out, W_out),
        H_out = (H + 2 padding - dilation (kH - 1) - 1) // stride + 1 (likewise W_out).
    Example:
        >>> F.conv2d(ad.randn(2, 4, 9, 9), ad.randn(8, 4, 3, 3), stride=2).shape
        (2, 8, 4, 4)
    """
    check_conv_args("conv2d", stride, padding, dilation, groups)
    return _conv.conv2d(input, weight, bias, stride, padding, dilation, groups)


def conv_transpose2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1,
                     padding=0, output_padding=0, groups: int = 1, dilation=1) -> Tensor:
    """Transposed 2-D convolution (the gradient of conv2d with respect to its input).

    Args:
        input: (N, C_in, H, W) or (C_in, H, W); weight: (C_in, C_out / groups, kH, kW);
        bias: (C_out,) or None; stride, padding, output_padding, dilation: int or pair.
    Returns:
        Tensor (N, C_out, H_out, W_out),
        H_out = (H - 1) stride - 2 padding + dilation (kH - 1) + output_padding + 1.
    Example:
        >>> F.conv_transpose2d(ad.randn(1, 4, 3, 3), ad.randn(4, 2, 3, 3), stride=2).shape
        (1, 2, 7, 7)
    """
    check_conv_args("conv_transpose2d", stride, padding, dilation, groups, output_padding)
    return _conv.conv_transpose2d(input, weight, bias, stride, padding, output_padding, groups,
                                  dilation)
