"""Pooling beyond the primitives of ``autodiff.ops.pooling``: adaptive max pooling,
power-average (LP) pooling, max unpooling and PyTorch's ``*_with_indices`` spellings.

Adaptive max pooling and LP pooling are composites of differentiable Tensor ops (indexing,
gather, the pooling primitives), so their gradients and double backward come for free.
Max unpooling is a small custom Function: see ``_MaxUnpool`` for why.
"""

from __future__ import annotations

import math

import numpy as np

from ... import ops
from ...autograd.function import Function
from ...creation import tensor
from ...errors import DTypeError, ShapeError
from ...ops.conv import pair
from ...ops.pooling import avg_pool1d, avg_pool2d, empty_pool, max_pool1d, max_pool2d
from ...tensor import Tensor


# ----------------------------------------------------------------------------- adaptive max
def _adaptive_out(output_size, in_sizes, name: str) -> tuple:
    n = len(in_sizes)
    out = tuple(output_size) if isinstance(output_size, (tuple, list)) else (output_size,) * n
    if len(out) != n:
        raise ValueError(f"{name}: output_size must have {n} elements, got {output_size}")
    out = tuple(i if o is None else int(o) for o, i in zip(out, in_sizes))
    if any(o < 0 for o in out):
        raise ValueError(f"{name}: output_size must not be negative, got {output_size}")
    return out


def _bins(n_in: int, n_out: int) -> list:
    """PyTorch's adaptive bins: bin i covers [floor(i n_in / n_out), ceil((i+1) n_in / n_out))."""
    return [range((i * n_in) // n_out, -(-((i + 1) * n_in) // n_out)) for i in range(n_out)]


def _window_table(in_sizes, out_sizes) -> np.ndarray:
    """(*out_sizes, K) flat in-plane positions of each adaptive window, row-major. Each axis's
    bins are padded to the longest by repeating their first position: a repeat comes after
    the position it repeats, so it changes neither the max nor which one comes first."""
    nsp = len(in_sizes)
    table = np.zeros((1,) * (2 * nsp), dtype=np.int64)
    for d, (n, o) in enumerate(zip(in_sizes, out_sizes)):
        bins = _bins(n, o)
        k = max(len(b) for b in bins)
        axis = np.array([list(b) + [b[0]] * (k - len(b)) for b in bins], dtype=np.int64)
        shape = [1] * (2 * nsp)
        shape[d], shape[nsp + d] = o, k
        table = table + axis.reshape(shape) * math.prod(in_sizes[d + 1:])
    return table.reshape(tuple(out_sizes) + (-1,))


def _adaptive_max(x: Tensor, output_size, nsp: int, return_indices: bool, name: str):
    if x.ndim not in (nsp + 1, nsp + 2) or x.numel() == 0:
        raise ShapeError(f"{name}: expected a non-empty {nsp + 1}-D or {nsp + 2}-D input, got "
                         f"shape {tuple(x.shape)}")
    in_sizes = tuple(x.shape[-nsp:])
    out = _adaptive_out(output_size, in_sizes, name)
    if 0 in out:
        return empty_pool(x, nsp, out, return_indices)
    if nsp < 3 and all(i % o == 0 for i, o in zip(in_sizes, out)):  # equal windows
        k = tuple(i // o for i, o in zip(in_sizes, out))
        pool = max_pool2d if nsp == 2 else max_pool1d
        return pool(x, k, k, 0, 1, False, return_indices)
    lead = tuple(x.shape[:-nsp])
    table = tensor(_window_table(in_sizes, out), device=x.device)
    windows = x.reshape(*lead, -1)[..., table]  # (*lead, *out, K)
    arg = windows.detach().argmax(-1, keepdim=True)  # the first max, as PyTorch's kernel
    y = windows.gather(-1, arg).squeeze(-1)
    if not return_indices:
        return y
    return y, table.expand(*lead, *table.shape).gather(-1, arg).squeeze(-1)


def adaptive_max_pool2d(input: Tensor, output_size, return_indices: bool = False):
    """Max pooling of (N, C, H, W) to a fixed (H_out, W_out); bin i of a dim of size H covers
    [floor(i H / H_out), ceil((i + 1) H / H_out)).

    Args:
        x: (N, C, H, W) or (C, H, W).
        output_size: int or (H_out, W_out); None in a position keeps that size.
        return_indices: also return each max's flat position in the H*W plane (int64), which
            ``max_unpool2d`` accepts.

    Returns:
        Tensor (N, C, H_out, W_out) (and the indices, same shape).

    Example:
        >>> F.adaptive_max_pool2d(ad.randn(1, 3, 7, 5), (3, 2)).shape
        (1, 3, 3, 2)
    """
    return _adaptive_max(input, output_size, 2, return_indices, "adaptive_max_pool2d")


def adaptive_max_pool1d(input: Tensor, output_size, return_indices: bool = False):
    """Max pooling of (N, C, L) or (C, L) to a fixed length L_out (bins as in
    ``adaptive_max_pool2d``); with ``return_indices`` also the argmax positions in L."""
    return _adaptive_max(input, output_size, 1, return_indices, "adaptive_max_pool1d")


def adaptive_max_pool2d_with_indices(input: Tensor, output_size, return_indices: bool = False):
    """``adaptive_max_pool2d`` that always returns (output, indices)."""
    return adaptive_max_pool2d(input, output_size, True)


def adaptive_max_pool1d_with_indices(input: Tensor, output_size, return_indices: bool = False):
    """``adaptive_max_pool1d`` that always returns (output, indices)."""
    return adaptive_max_pool1d(input, output_size, True)


def max_pool2d_with_indices(input: Tensor, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode: bool = False, return_indices: bool = False):
    """``max_pool2d`` that always returns (output, indices)."""
    return max_pool2d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def max_pool1d_with_indices(input: Tensor, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode: bool = False, return_indices: bool = False):
    """``max_pool1d`` that always returns (output, indices)."""
    return max_pool1d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


# ----------------------------------------------------------------------------- LP pooling
def _lp(out: Tensor, norm_type: float, window: int) -> Tensor:
    """(window * mean of x^p)^(1/p), with a zero gradient where the sum is zero (PyTorch's
    sign(out) * relu(abs(out)) gives that; masking with where keeps the inf of the root's
    derivative at 0 out of the product)."""
    nonzero = out != 0
    safe = ops.where(nonzero, out, 1.0)
    return ops.where(nonzero, (safe * window).pow(1.0 / norm_type), 0.0)


def lp_pool2d(input: Tensor, norm_type: float, kernel_size, stride=None,
              ceil_mode: bool = False) -> Tensor:
    """Power-average pooling: (sum over each window of x^p)^(1/p); p = inf is max pooling of
    |x|. No padding; windows as ``avg_pool2d``'s (ceil-mode windows are scaled by the full
    kernel area, as PyTorch).

    Args:
        x: (N, C, H, W) or (C, H, W); norm_type: p; kernel_size, stride: int or pair.

    Returns:
        Tensor (N, C, H_out, W_out), H_out = floor_or_ceil((H - kH) / stride) + 1.

    Example:
        >>> F.lp_pool2d(ad.randn(1, 2, 4, 4), 2, 2).shape
        (1, 2, 2, 2)
    """
    x = input
    kh, kw = pair(kernel_size, "lp_pool2d: kernel_size")
    if norm_type == math.inf:
        return max_pool2d(x.abs(), kernel_size, stride, 0, 1, ceil_mode)
    if norm_type == -math.inf:
        return -max_pool2d(-x.abs(), kernel_size, stride, 0, 1, ceil_mode)
    out = avg_pool2d(x.pow(norm_type), kernel_size, stride, 0, ceil_mode)
    return _lp(out, norm_type, kh * kw)


def lp_pool1d(input: Tensor, norm_type: float, kernel_size, stride=None,
              ceil_mode: bool = False) -> Tensor:
    """Power-average pooling of (N, C, L) or (C, L): (sum over each window of x^p)^(1/p).

    Returns:
        Tensor (N, C, L_out), L_out = floor_or_ceil((L - kernel_size) / stride) + 1.
    """
    x = input
    (k,) = pair(kernel_size, "lp_pool1d: kernel_size", 1)
    if norm_type == math.inf:
        return max_pool1d(x.abs(), kernel_size, stride, 0, 1, ceil_mode)
    if norm_type == -math.inf:
        return -max_pool1d(-x.abs(), kernel_size, stride, 0, 1, ceil_mode)
    out = avg_pool1d(x.pow(norm_type), kernel_size, stride, 0, ceil_mode)
    return _lp(out, norm_type, k)


# ----------------------------------------------------------------------------- max unpooling
class _MaxUnpool(Function):
    """y = 0 with y[p, idx[p, j]] = x[p, j]; dx = dy gathered at idx.

    A custom Function, not a composite, to keep PyTorch's semantics where an index repeats
    (overlapping pooling windows): the forward writes one value (the last, as PyTorch's CPU
    kernel) while the backward gathers, so every duplicate gets the gradient. That backward
    is not the adjoint of the forward, so no composite of primitives reproduces both. The
    backward is a Tensor op (gather), so double backward works.
    """

    @staticmethod
    def forward(ctx, x, idx, plane):
        xp = x._dev.backend.xp
        out = xp.zeros((x.shape[0], plane), dtype=x._data.dtype)
        out[xp.arange(x.shape[0])[:, None], idx._data] = x._data
        ctx.save_for_backward(idx)
        return Tensor._make(out, x._dev, False, None)

    @staticmethod
    def backward(ctx, g):
        (idx,) = ctx.saved_tensors
        return g.gather(-1, idx), None, None


def _unpool_size(in_sizes, k, s, p, output_size, name: str) -> tuple:
    """PyTorch's _unpool_output_size: (in - 1) stride + kernel - 2 padding, or a checked
    ``output_size`` (which may carry the leading N, C dims)."""
    default = [(i - 1) * s_ - 2 * p_ + k_ for i, k_, s_, p_ in zip(in_sizes, k, s, p)]
    if output_size is None:
        return tuple(default)
    size, n = [int(o) for o in output_size], len(k)
    if len(size) == n + 2:
        size = size[2:]
    if len(size) != n:
        raise ValueError(f"{name}: output_size should be a sequence containing {n} or {n + 2} "
                         f"elements, but it has a length of '{len(size)}'")
    for d in range(n):
        lo, hi = default[d] - s[d], default[d] + s[d]
        if not lo < size[d] < hi:
            raise ValueError(f'{name}: invalid output_size "{tuple(output_size)}" (dim {d} must '
                             f"be between {lo} and {hi})")
    return tuple(size)


def _max_unpool(x, indices, kernel_size, stride, padding, output_size, nsp, name):
    if x.ndim not in (nsp + 1, nsp + 2):
        raise ShapeError(f"{name}: expected a {nsp + 1}-D or {nsp + 2}-D input, got shape "
                         f"{tuple(x.shape)}")
    if not isinstance(indices, Tensor) or indices.is_floating_point() or \
            indices.dtype.name == "bool":
        raise DTypeError(f"{name}: expected integer indices (int64), got "
                         f"{getattr(indices, 'dtype', type(indices).__name__)}")
    if tuple(indices.shape) != tuple(x.shape):
        raise ShapeError(f"{name}: expected indices of the input's shape {tuple(x.shape)}, "
                         f"got {tuple(indices.shape)}")
    k = pair(kernel_size, f"{name}: kernel_size", nsp)
    s = k if stride is None else pair(stride, f"{name}: stride", nsp)
    p = pair(padding, f"{name}: padding", nsp)
    size = _unpool_size(tuple(x.shape[-nsp:]), k, s, p, output_size, name)
    if any(n < 0 for n in size):
        raise ValueError(f"{name}: output size {size} must be non-negative")
    plane, lead = math.prod(size), tuple(x.shape[:-nsp])
    flat_x = x.reshape(-1, math.prod(x.shape[-nsp:]))
    flat_i = indices.reshape(tuple(flat_x.shape))
    if flat_i.numel():
        lo, hi = int(flat_i.min().item()), int(flat_i.max().item())
        if lo < 0 or hi >= plane:
            bad = lo if lo < 0 else hi
            raise RuntimeError(f"{name}: found an invalid max index {bad} (output volumes are "
                               f"of size {'x'.join(map(str, size))})")
    return _MaxUnpool.apply(flat_x, flat_i, plane).reshape(*lead, *size)


def max_unpool2d(input: Tensor, indices: Tensor, kernel_size, stride=None, padding=0,
                 output_size=None) -> Tensor:
    """The partial inverse of ``max_pool2d``: each value written at its flat H*W index (from
    ``max_pool2d(..., return_indices=True)``), zeros elsewhere.

    Args:
        x, indices: (N, C, H_in, W_in) or (C, H_in, W_in); kernel_size, stride (default
            kernel_size), padding: the pooling's, int or pair; output_size: (H, W) (or with
            N, C in front) to pick among the sizes the pooling could have come from.

    Returns:
        Tensor (N, C, H_out, W_out), H_out = (H_in - 1) stride - 2 padding + kH by default.

    Example:
        >>> y, idx = F.max_pool2d(x, 2, return_indices=True)
        >>> F.max_unpool2d(y, idx, 2).shape == x.shape  # for even H, W
        True
    """
    return _max_unpool(input, indices, kernel_size, stride, padding, output_size, 2,
                       "max_unpool2d")


def max_unpool1d(input: Tensor, indices: Tensor, kernel_size, stride=None, padding=0,
                 output_size=None) -> Tensor:
    """The partial inverse of ``max_pool1d`` on (N, C, L_in) or (C, L_in):
    L_out = (L_in - 1) stride - 2 padding + kernel_size by default."""
    return _max_unpool(input, indices, kernel_size, stride, padding, output_size, 1,
                       "max_unpool1d")
