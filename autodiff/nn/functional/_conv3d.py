"""3-D convolutions as composites of the 2-D ones: ``conv3d`` is a sum over the kernel's depth
offsets of ``conv2d`` on depth slices folded into the batch, and ``conv_transpose3d`` a sum of
``conv_transpose2d`` outputs placed at their strided depths. Both loop over the kD depth
offsets only, run the fast 2-D kernels, and inherit their gradients and double backward.
"""

from __future__ import annotations

from ...errors import ShapeError
from ...ops import movement
from ...ops.conv import check_same_dtype, conv2d, conv_transpose2d, out_size, pair
from ...tensor import Tensor
from ._conv import check_conv_args


def _same_pads(padding, k, d, s, name: str) -> tuple:
    """(lo, hi) padding per spatial dim from an int, a triple, 'valid' or 'same'."""
    if isinstance(padding, str):
        if padding == "valid":
            return ((0, 0),) * 3
        if padding != "same":
            raise ValueError(f"{name}: invalid padding string {padding!r}, should be one of "
                             f"'valid', 'same'")
        if any(v != 1 for v in s):
            raise ValueError(f"{name}: padding='same' is not supported for strided "
                             f"convolutions (stride {s})")
        total = [d_ * (k_ - 1) for k_, d_ in zip(k, d)]
        return tuple((t // 2, t - t // 2) for t in total)
    return tuple((p, p) for p in pair(padding, f"{name}: padding", 3))


def _depth_batch(x: Tensor, start: int, count: int, step: int) -> Tensor:
    """Depth slices start, start + step, ... (count of them) of (N, C, D, H, W) as a batch of
    images (N * count, C, H, W)."""
    n, c, _, h, w = x.shape
    sl = x[:, :, start:start + (count - 1) * step + 1:step]
    return sl.permute(0, 2, 1, 3, 4).reshape(n * count, c, h, w)


def conv3d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0,
           dilation=1, groups: int = 1) -> Tensor:
    """3-D convolution (cross-correlation) over (N, C_in, D, H, W).

    Args:
        x: (N, C_in, D, H, W) or (C_in, D, H, W).
        weight: (C_out, C_in / groups, kD, kH, kW); bias: (C_out,) or None.
        stride, dilation: int or triple; padding: int, triple, "valid" or "same".
        groups: split the channels into groups.

    Returns:
        Tensor (N, C_out, D_out, H_out, W_out) with
        D_out = (D + 2 padding - dilation (kD - 1) - 1) // stride + 1 (likewise H, W).

    Shape:
        weight (C_out, C_in / groups, kD, kH, kW).

    Example:
        >>> F.conv3d(ad.randn(2, 4, 5, 6, 7), ad.randn(8, 4, 3, 3, 3), padding=1).shape
        (2, 8, 5, 6, 7)
    """
    x = input
    check_conv_args("conv3d", stride, padding, dilation, groups)
    if x.ndim == 4:
        return conv3d(x.unsqueeze(0), weight, bias, stride, padding, dilation,
                      groups).squeeze(0)
    if x.ndim != 5 or weight.ndim != 5:
        raise ShapeError(f"conv3d: expected a 5-D input (N, C, D, H, W) and a 5-D weight, got "
                         f"shapes {tuple(x.shape)} and {tuple(weight.shape)}")
    oc, cg, kd, kh, kw = weight.shape
    if groups <= 0 or x.shape[1] != cg * groups or oc % groups:
        raise ShapeError(f"conv3d: expected input with {cg * groups} channels (weight "
                         f"{tuple(weight.shape)}, groups={groups}), got shape {tuple(x.shape)}")
    check_same_dtype("conv3d", x, weight, bias)
    k = (kd, kh, kw)
    s, d = pair(stride, "conv3d: stride", 3), pair(dilation, "conv3d: dilation", 3)
    pads = _same_pads(padding, k, d, s, "conv3d")
    sizes = [out_size(x.shape[2 + i], k[i], d[i], s[i], *pads[i]) for i in range(3)]
    if min(sizes) < 1:
        raise ShapeError(f"conv3d: kernel {k} with dilation {d} is larger than the padded "
                         f"input of shape {tuple(x.shape)}")
    hw_sym = all(lo == hi for lo, hi in pads[1:])
    widths = (0, 0, 0, 0) if hw_sym else (*pads[2], *pads[1])
    if any(pads[0]) or any(widths):
        x = movement.pad(x, widths + pads[0])
    hw_pad = (pads[1][0], pads[2][0]) if hw_sym else 0
    n, od = x.shape[0], sizes[0]
    out = None
    for a in range(kd):  # one conv2d per depth offset of the kernel
        xa = _depth_batch(x, a * d[0], od, s[0])
        ya = conv2d(xa, weight[:, :, a], None, s[1:], hw_pad, d[1:], groups)
        out = ya if out is None else out + ya
    out = out.reshape(n, od, oc, sizes[1], sizes[2]).permute(0, 2, 1, 3, 4)
    if bias is not None:
        out = out + bias.reshape(1, oc, 1, 1, 1)
    return out


def conv_transpose3d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1,
                     padding=0, output_padding=0, groups: int = 1, dilation=1) -> Tensor:
    """Transposed 3-D convolution (the gradient of conv3d with respect to its input).

    Args:
        x: (N, C_in, D, H, W) or (C_in, D, H, W); weight: (C_in, C_out / groups, kD, kH, kW);
        bias: (C_out,) or None; stride, padding, output_padding, dilation: int or triple.

    Returns:
        Tensor (N, C_out, D_out, H_out, W_out) with
        D_out = (D - 1) stride - 2 padding + dilation (kD - 1) + output_padding + 1.

    Example:
        >>> F.conv_transpose3d(ad.randn(1, 4, 3, 3, 3), ad.randn(4, 2, 3, 3, 3), stride=2).shape
        (1, 2, 7, 7, 7)
    """
    x = input
    check_conv_args("conv_transpose3d", stride, padding, dilation, groups, output_padding)
    if x.ndim == 4:
        return conv_transpose3d(x.unsqueeze(0), weight, bias, stride, padding, output_padding,
                                groups, dilation).squeeze(0)
    if x.ndim != 5 or weight.ndim != 5:
        raise ShapeError(f"conv_transpose3d: expected a 5-D input and a 5-D weight, got shapes "
                         f"{tuple(x.shape)} and {tuple(weight.shape)}")
    n, c, depth, h, w = x.shape
    cin, kd = weight.shape[0], weight.shape[2]
    if groups <= 0 or c != cin or cin % groups:
        raise ShapeError(f"conv_transpose3d: expected input with {cin} channels (weight "
                         f"{tuple(weight.shape)}, groups={groups}), got shape {tuple(x.shape)}")
    check_same_dtype("conv_transpose3d", x, weight, bias)
    s, d = pair(stride, "stride", 3), pair(dilation, "dilation", 3)
    p, op = pair(padding, "padding", 3), pair(output_padding, "output_padding", 3)
    if any(o >= max(s_, d_) for o, s_, d_ in zip(op, s, d)):
        raise ValueError(f"conv_transpose3d: output_padding {op} must be smaller than either "
                         f"stride {s} or dilation {d}")
    od = (depth - 1) * s[0] - 2 * p[0] + d[0] * (kd - 1) + op[0] + 1
    if od < 1:
        raise ShapeError(f"conv_transpose3d: the output depth {od} is not positive")
    xb = x.permute(0, 2, 1, 3, 4).reshape(n * depth, c, h, w)
    span = (depth - 1) * s[0] + 1  # depths touched by one kernel offset, zeros between
    out = None
    for a in range(kd):
        lo = a * d[0] - p[0]
        if lo >= od or lo + span <= 0:  # every slice of this offset lies in the cropped border
            continue
        ya = conv_transpose2d(xb, weight[:, :, a], None, s[1:], p[1:], op[1:], groups, d[1:])
        ya = ya.reshape(n, depth, *ya.shape[1:])
        if s[0] > 1:  # interleave s - 1 zero slices after each input depth
            ya = movement.pad(ya.unsqueeze(2), (0,) * 6 + (0, s[0] - 1))
            ya = ya.reshape(n, depth * s[0], *ya.shape[3:])[:, :span]
        ya = movement.pad(ya, (0,) * 6 + (lo, od - lo - span))
        out = ya if out is None else out + ya
    if out is None:  # no kernel offset reaches the output: zeros
        ya = conv_transpose2d(xb, weight[:, :, 0], None, s[1:], p[1:], op[1:], groups, d[1:])
        out = (ya.reshape(n, depth, *ya.shape[1:])[:, :1] * 0.0).expand(n, od, *ya.shape[1:])
    out = out.permute(0, 2, 1, 3, 4)
    if bias is not None:
        out = out + bias.reshape(1, -1, 1, 1, 1)
    return out
