"""3-D pooling as composites of differentiable Tensor ops: the padded input is sliced once per
kernel offset (strided windows, no loop over output positions), the kD*kH*kW slices stacked,
and reduced (max through argmax + gather, so the first maximum gets the gradient as in
PyTorch; average as a sum over the divisors). Adaptive pooling reuses the 2-D helpers: the
averaging matrices per axis and the window table of adaptive max pooling.
"""

from __future__ import annotations

import math

import numpy as np

from ...creation import tensor
from ...errors import ShapeError
from ...ops import movement
from ...ops._util import float_operand
from ...ops.conv import pair
from ...ops.pooling import _adaptive_matrix, _divisors, _pool_geometry, empty_pool
from ...tensor import Tensor
from ._pooling_extra import _adaptive_max, _adaptive_out


def _pool3d_args(x, kernel_size, stride, padding, dilation, name):
    if x.ndim not in (4, 5):
        raise ShapeError(f"{name}: expected a 4-D (C, D, H, W) or 5-D (N, C, D, H, W) input, "
                         f"got shape {tuple(x.shape)}")
    k = pair(kernel_size, f"{name}: kernel_size", 3)
    no_stride = stride is None or stride == () or stride == []
    s = k if no_stride else pair(stride, f"{name}: stride", 3)
    return k, s, pair(padding, f"{name}: padding", 3), pair(dilation, f"{name}: dilation", 3)


def _windows(x: Tensor, k, s, d, p, extra, sizes, value: float) -> Tensor:
    """(..., K, D_out, H_out, W_out): the value at each kernel offset of each window, the
    input padded with ``value`` (p on both sides plus ``extra`` on the right, ceil mode)."""
    widths = (p[2], p[2] + extra[2], p[1], p[1] + extra[1], p[0], p[0] + extra[0])
    if any(widths):
        x = movement.pad(x, widths, value=value)
    slices = []
    for a in range(k[0]):
        for b in range(k[1]):
            for c in range(k[2]):
                starts = (a * d[0], b * d[1], c * d[2])
                idx = tuple(slice(st, st + (o - 1) * sd + 1, sd)
                            for st, o, sd in zip(starts, sizes, s))
                slices.append(x[(Ellipsis,) + idx])
    return movement.stack(slices, -4)


def _geometry(x, k, s, p, d, ceil_mode, name):
    geo = [_pool_geometry(x.shape[x.ndim - 3 + i], k[i], s[i], p[i], d[i], ceil_mode, name)
           for i in range(3)]
    return tuple(o for o, _ in geo), tuple(e for _, e in geo)


def max_pool3d(input: Tensor, kernel_size, stride=None, padding=0, dilation=1,
               ceil_mode: bool = False, return_indices: bool = False):
    """3-D max pooling over (N, C, D, H, W); padding counts as -inf.

    Args:
        input: (N, C, D, H, W) or (C, D, H, W); kernel_size, stride (default kernel_size),
        padding, dilation: int or triple; ceil_mode: round the output size up;
        return_indices: also return each max's flat position in the D*H*W volume (int64).

    Returns:
        Tensor (N, C, D_out, H_out, W_out) (and the indices, same shape), with
        D_out = floor_or_ceil((D + 2 padding - dilation (kD - 1) - 1) / stride) + 1.

    Example:
        >>> F.max_pool3d(ad.randn(1, 2, 5, 6, 7), 2).shape
        (1, 2, 2, 3, 3)
    """
    k, s, p, d = _pool3d_args(input, kernel_size, stride, padding, dilation, "max_pool3d")
    sizes, extra = _geometry(input, k, s, p, d, ceil_mode, "max_pool3d")
    win = _windows(input, k, s, d, p, extra, sizes, -math.inf)  # (..., K, Do, Ho, Wo)
    arg = win.detach().argmax(-4, keepdim=True)  # the first max, as PyTorch's kernel
    y = win.gather(-4, arg).squeeze(-4)
    if not return_indices:
        return y
    vol = input.shape[-3:]
    flat = tensor(np.arange(math.prod(vol), dtype=np.float64).reshape(vol), device=input.device)
    pos = _windows(flat, k, s, d, p, extra, sizes, -1.0).long()  # (K, Do, Ho, Wo)
    idx = pos.expand(*arg.shape[:-4], *pos.shape).gather(-4, arg).squeeze(-4)
    return y, idx


def max_pool3d_with_indices(input: Tensor, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode: bool = False, return_indices: bool = False):
    """``max_pool3d`` that always returns (output, indices)."""
    return max_pool3d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def avg_pool3d(input: Tensor, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
               count_include_pad: bool = True, divisor_override=None) -> Tensor:
    """3-D average pooling over (N, C, D, H, W) with PyTorch's divisor rules.

    Args:
        input: (N, C, D, H, W) or (C, D, H, W); kernel_size, stride (default kernel_size),
        padding: int or triple; ceil_mode; count_include_pad: count the zero padding in the
        divisor; divisor_override: divide every window sum by this instead.

    Returns:
        Tensor (N, C, D_out, H_out, W_out),
        D_out = floor_or_ceil((D + 2 padding - kD) / stride) + 1.

    Example:
        >>> F.avg_pool3d(ad.randn(1, 2, 4, 4, 4), 2).shape
        (1, 2, 2, 2, 2)
    """
    k, s, p, d = _pool3d_args(input, kernel_size, stride, padding, 1, "avg_pool3d")
    if any(n < k_ for n, k_ in zip(input.shape[-3:], k)):  # PyTorch checks this, padding aside
        raise RuntimeError(f"avg_pool3d: input image {tuple(input.shape[-3:])} is smaller than the "
                           f"kernel size {k}")
    if divisor_override is not None and divisor_override == 0:
        raise ValueError("avg_pool3d: divisor must be not zero")
    input = float_operand(input)
    sizes, extra = _geometry(input, k, s, p, d, ceil_mode, "avg_pool3d")
    total = _windows(input, k, s, d, p, extra, sizes, 0.0).sum(-4)
    if divisor_override:
        return total / divisor_override
    divs = [_divisors(input.shape[input.ndim - 3 + i], sizes[i], k[i], s[i], p[i],
                      count_include_pad) for i in range(3)]
    table = np.einsum("i,j,k->ijk", *[np.asarray(v, dtype=np.float64) for v in divs])
    if np.all(table == table.flat[0]):  # every window counts the same: a scalar
        return total / float(table.flat[0])
    return total / tensor(table, dtype=input.dtype, device=input.device)


def adaptive_avg_pool3d(input: Tensor, output_size) -> Tensor:
    """Average pooling of (N, C, D, H, W) to a fixed (D_out, H_out, W_out); bin i of a dim of
    size D covers [floor(i D / D_out), ceil((i + 1) D / D_out)). One averaging matmul per axis.

    Args:
        x: (N, C, D, H, W) or (C, D, H, W); output_size: int or triple (None keeps that size).

    Returns:
        Tensor (N, C, D_out, H_out, W_out).

    Example:
        >>> F.adaptive_avg_pool3d(ad.randn(1, 2, 5, 7, 6), (2, 3, 1)).shape
        (1, 2, 2, 3, 1)
    """
    x = input
    if x.ndim not in (4, 5) or x.numel() == 0:
        raise ShapeError(f"adaptive_avg_pool3d: expected a non-empty 4-D or 5-D input, got "
                         f"shape {tuple(x.shape)}")
    x = float_operand(x)
    in_sizes = tuple(x.shape[-3:])
    out = _adaptive_out(output_size, in_sizes, "adaptive_avg_pool3d")
    if 0 in out:
        return empty_pool(x, 3, out)
    for axis, (n_in, n_out) in enumerate(zip(in_sizes, out)):
        if n_in == n_out:
            continue
        m = _adaptive_matrix(n_in, n_out, x)  # (n_out, n_in)
        dim = x.ndim - 3 + axis
        x = (x.movedim(dim, -1) @ m.t()).movedim(-1, dim)
    return x


def adaptive_max_pool3d(input: Tensor, output_size, return_indices: bool = False):
    """Max pooling of (N, C, D, H, W) to a fixed (D_out, H_out, W_out) (bins as in
    ``adaptive_avg_pool3d``).

    Args:
        x: (N, C, D, H, W) or (C, D, H, W); output_size: int or triple (None keeps a size);
        return_indices: also return each max's flat position in the D*H*W volume (int64).

    Returns:
        Tensor (N, C, D_out, H_out, W_out) (and the indices, same shape).

    Example:
        >>> F.adaptive_max_pool3d(ad.randn(1, 2, 5, 7, 6), 2).shape
        (1, 2, 2, 2, 2)
    """
    return _adaptive_max(input, output_size, 3, return_indices, "adaptive_max_pool3d")


def adaptive_max_pool3d_with_indices(input: Tensor, output_size, return_indices: bool = False):
    """``adaptive_max_pool3d`` that always returns (output, indices)."""
    return adaptive_max_pool3d(input, output_size, True)
