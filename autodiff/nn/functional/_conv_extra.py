"""``conv_transpose1d``: the transposed 2-D convolution on a height-1 image, as ``conv1d`` is
``conv2d`` on one (so its gradients and double backward are conv_transpose2d's)."""

from __future__ import annotations

from ...errors import ShapeError
from ...ops.conv import conv_transpose2d, pair
from ...tensor import Tensor
from ._conv import check_conv_args


def conv_transpose1d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1,
                     padding=0, output_padding=0, groups: int = 1, dilation=1) -> Tensor:
    """Transposed 1-D convolution (the gradient of conv1d with respect to its input).

    Args:
        x: (N, C_in, L_in) or (C_in, L_in); weight: (C_in, C_out / groups, kernel_size);
        bias: (C_out,) or None; stride, padding, output_padding, dilation: int or 1-tuple.

    Returns:
        Tensor (N, C_out, L_out) with
        L_out = (L_in - 1) stride - 2 padding + dilation (kernel_size - 1) + output_padding + 1.

    Example:
        >>> F.conv_transpose1d(ad.randn(2, 4, 5), ad.randn(4, 3, 3), stride=2).shape
        (2, 3, 11)
    """
    x = input
    check_conv_args("conv_transpose1d", stride, padding, dilation, groups, output_padding)
    if x.ndim == 2:
        return conv_transpose1d(x.unsqueeze(0), weight, bias, stride, padding, output_padding,
                                groups, dilation).squeeze(0)
    if x.ndim != 3 or weight.ndim != 3 or x.shape[1] != weight.shape[0]:
        raise ShapeError(f"conv_transpose1d: expected an input (N, C_in, L) and a weight "
                         f"(C_in, C_out / groups, k) with matching C_in, got shapes "
                         f"{tuple(x.shape)} and {tuple(weight.shape)}")
    (s,), (p,) = pair(stride, "conv_transpose1d: stride", 1), pair(padding, "padding", 1)
    (o,), (d,) = pair(output_padding, "output_padding", 1), pair(dilation, "dilation", 1)
    if o >= max(s, d):
        raise ValueError(f"conv_transpose1d: output_padding ({o}) must be smaller than either "
                         f"stride ({s}) or dilation ({d})")
    out = conv_transpose2d(x.unsqueeze(2), weight.unsqueeze(2), bias, (1, s), (0, p), (0, o),
                           groups, (1, d))
    return out.squeeze(2)
