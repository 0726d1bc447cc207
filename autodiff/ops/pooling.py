"""Pooling: max pooling as a primitive (with its scatter/gather adjoint pair for double
backward), average pooling as a primitive (with its adjoint, the spread of each output over its
window), adaptive average pooling as an average pool when the bins are even, else as two
matmuls.
"""

from __future__ import annotations

import functools

import numpy as np

from ..autograd.node import Op
from ..errors import ShapeError
from ._util import constant, float_operand
from .conv import pair


class MaxPool2d(Op):
    """y = max over each window; dx = dy scattered to each window's argmax."""

    def forward(self, x, kernel, dilation, pads, stride):
        y, self.idx = self.backend.max_pool2d(x._data, kernel, dilation, pads, stride)
        self.meta = (x._data.shape[2:], kernel, dilation, pads, stride)
        return y

    def backward(self, g):
        return (_MaxScatter.apply(g, idx=self.idx, meta=self.meta),)


class _MaxScatter(Op):
    """x = dy placed at the argmax positions (summed); dg = dx gathered at those positions."""

    def forward(self, g, idx, meta):
        self.idx, self.meta = idx, meta
        return self.backend.max_pool2d_scatter(g._data, idx, *meta)

    def backward(self, gg):
        return (_MaxGather.apply(gg, idx=self.idx, meta=self.meta),)


class _MaxGather(Op):
    """y = x read at the argmax positions; dx = dy scattered back (adjoint of _MaxScatter)."""

    def forward(self, x, idx, meta):
        self.idx, self.meta = idx, meta
        return self.backend.max_pool2d_gather(x._data, idx, *meta[1:])

    def backward(self, g):
        return (_MaxScatter.apply(g, idx=self.idx, meta=self.meta),)


class AvgPool2d(Op):
    """y = each window's sum / its divisor (div_h[oy] * div_w[ox]); dx = dy spread back."""

    def forward(self, x, kernel, pads, stride, divisors):
        self.meta = (x._data.shape[2:], kernel, pads, stride, divisors)
        return self.backend.avg_pool2d(x._data, kernel, pads, stride, *divisors)

    def backward(self, g):
        return (_AvgSpread.apply(g, meta=self.meta),)


class _AvgSpread(Op):
    """x = each dy / divisor added over its window (the adjoint of AvgPool2d, a linear map,
    so each one's backward is the other)."""

    def forward(self, g, meta):
        self.meta = meta
        size, kernel, pads, stride, divisors = meta
        return self.backend.avg_pool2d_backward(g._data, size, kernel, pads, stride, *divisors)

    def backward(self, gg):
        _, kernel, pads, stride, divisors = self.meta
        return (AvgPool2d.apply(gg, kernel=kernel, pads=pads, stride=stride, divisors=divisors),)


def _pool_geometry(size, k, s, p, d, ceil_mode, name):
    """Output size and extra right padding (ceil mode) for one spatial dim, as PyTorch."""
    if p > k // 2:
        raise ShapeError(f"{name}: pad should be at most half of effective kernel size, but got "
                         f"pad={p}, kernel_size={k}")
    span = size + 2 * p - d * (k - 1) - 1
    o = (-(-span // s) if ceil_mode else span // s) + 1
    if ceil_mode and (o - 1) * s >= size + p:
        o -= 1
    if o < 1:
        raise ShapeError(f"{name}: output size is too small for input size {size}, kernel {k}, "
                         f"padding {p}")
    extra = max(0, (o - 1) * s + d * (k - 1) + 1 - (size + 2 * p))
    return o, extra


def _pool_args(x, kernel_size, stride, padding, dilation, name):
    if x.ndim not in (3, 4):
        raise ShapeError(f"{name}: expected a 3-D (C, H, W) or 4-D (N, C, H, W) input, got "
                         f"shape {tuple(x.shape)}")
    k = pair(kernel_size, f"{name}: kernel_size")
    s = k if stride is None or stride == () or stride == [] else pair(stride, f"{name}: stride")
    return k, s, pair(padding, f"{name}: padding"), pair(dilation, f"{name}: dilation")


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """2-D max pooling over (N, C, H, W); padding counts as -inf.

    Returns:
        Tensor (N, C, H_out, W_out); with return_indices also the flat H*W index of each max.
    """
    x = input
    if x.ndim == 3:
        r = max_pool2d(x.unsqueeze(0), kernel_size, stride, padding, dilation, ceil_mode,
                       return_indices)
        return tuple(t.squeeze(0) for t in r) if return_indices else r.squeeze(0)
    k, s, p, d = _pool_args(x, kernel_size, stride, padding, dilation, "max_pool2d")
    (oh, eh), (ow, ew) = (_pool_geometry(x.shape[2 + i], k[i], s[i], p[i], d[i], ceil_mode,
                                         "max_pool2d") for i in range(2))
    pads = (p[0], p[0] + eh, p[1], p[1] + ew)
    y = MaxPool2d.apply(x, kernel=k, dilation=d, pads=pads, stride=s)
    if not return_indices:
        return y
    return y, _max_indices(y, x, k, d, pads, s)


def _max_indices(y, x, k, d, pads, s):
    """PyTorch's return_indices: flat positions in the (unpadded) H*W plane."""
    from ..creation import arange

    node = y.grad_fn if isinstance(y.grad_fn, MaxPool2d) else None
    if node is None:  # recompute without grad to get the window argmax
        from ..autograd.grad_mode import no_grad

        with no_grad():
            _, idx = x._dev.backend.max_pool2d(x._data, k, d, pads, s)
    else:
        idx = node.idx
    from ._util import constant

    widx = constant(idx[..., 0], x._dev)  # (N, C, oh, ow) in-window flat index
    oh, ow = y.shape[2:]
    rows = (arange(oh, device=x.device) * s[0] - pads[0]).reshape(oh, 1)
    cols = (arange(ow, device=x.device) * s[1] - pads[2]).reshape(1, ow)
    r = rows + (widx // k[1]) * d[0]
    c = cols + (widx % k[1]) * d[1]
    return r * x.shape[3] + c


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """1-D max pooling over (N, C, L)."""
    x = input
    one = (lambda v: (1, pair(v, "max_pool1d", 1)[0]))
    st = None if stride is None else one(stride)
    r = max_pool2d(x.unsqueeze(-2), one(kernel_size), st, (0, pair(padding, "p", 1)[0]),
                   one(dilation), ceil_mode, return_indices)
    return tuple(t.squeeze(-2) for t in r) if return_indices else r.squeeze(-2)


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    """2-D average pooling over (N, C, H, W) with PyTorch's divisor rules.

    Returns:
        Tensor (N, C, H_out, W_out).
    """
    x = input
    if x.ndim == 3:
        return avg_pool2d(x.unsqueeze(0), kernel_size, stride, padding, ceil_mode,
                          count_include_pad, divisor_override).squeeze(0)
    k, s, p, _ = _pool_args(x, kernel_size, stride, padding, 1, "avg_pool2d")
    if divisor_override is not None and not divisor_override:
        raise ValueError("avg_pool2d: divisor_override must be non-zero")
    h, w = x.shape[2:]
    (oh, eh), (ow, ew) = (_pool_geometry(x.shape[2 + i], k[i], s[i], p[i], 1, ceil_mode,
                                         "avg_pool2d") for i in range(2))
    if divisor_override:
        divisors = (np.full(oh, int(divisor_override), np.int64), np.ones(ow, np.int64))
    else:
        divisors = (np.array(_divisors(h, oh, k[0], s[0], p[0], count_include_pad), np.int64),
                    np.array(_divisors(w, ow, k[1], s[1], p[1], count_include_pad), np.int64))
    pads = (p[0], p[0] + eh, p[1], p[1] + ew)
    return AvgPool2d.apply(float_operand(x), kernel=k, pads=pads, stride=s, divisors=divisors)


def _divisors(size, o, k, s, p, count_include_pad):
    out = []
    for i in range(o):
        start = i * s - p
        end = min(start + k, size + p)
        span = end - start
        start, end = max(start, 0), min(end, size)
        out.append(span if count_include_pad else end - start)
    return out


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    """1-D average pooling over (N, C, L)."""
    x = input
    one = (lambda v: (1, pair(v, "avg_pool1d", 1)[0]))
    st = None if stride is None else one(stride)
    return avg_pool2d(x.unsqueeze(-2), one(kernel_size), st, (0, pair(padding, "p", 1)[0]),
                      ceil_mode, count_include_pad).squeeze(-2)


@functools.lru_cache(maxsize=64)
def _adaptive_weights(n_in: int, n_out: int, dtype) -> np.ndarray:
    """Row i averages [floor(i n_in / n_out), ceil((i + 1) n_in / n_out)) (read-only, cached:
    building it in Python was most of a small pool's 110 us)."""
    i, j = np.arange(n_out)[:, None], np.arange(n_in)
    start, end = i * n_in // n_out, -(-((i + 1) * n_in) // n_out)
    m = (((j >= start) & (j < end)) / (end - start)).astype(dtype)
    m.flags.writeable = False
    return m


def _adaptive_matrix(n_in, n_out, x):
    w = _adaptive_weights(n_in, n_out, x._data.dtype)
    return constant(w if x._dev.backend.xp is np else x._dev.backend.asarray(w), x._dev)


def empty_pool(x, nsp: int, out: tuple, return_indices: bool = False):
    """An adaptive pool's result when a size of ``out`` is 0: empty, as PyTorch's (and in the
    graph, so backward gives x a zero gradient); with the (empty, int64) indices."""
    y = x.flatten(-nsp)[..., :0].sum(-1)  # (*lead): zeros
    y = y.reshape(*y.shape, *(1,) * nsp).expand(*y.shape, *out)
    return (y, y.detach().long()) if return_indices else y


def adaptive_avg_pool2d(input, output_size):
    """Average pooling to a fixed (H_out, W_out): bin i covers [floor(i*H/H_out),
    ceil((i+1)*H/H_out)), computed as P_h @ x @ P_w^T with averaging matrices.

    Returns:
        Tensor (N, C, H_out, W_out) (or (C, H_out, W_out) for 3-D input).
    """
    x = input
    if x.ndim not in (3, 4):
        raise ShapeError(f"adaptive_avg_pool2d: expected a 3-D or 4-D input, got shape "
                         f"{tuple(x.shape)}")
    h, w = x.shape[-2:]
    osz = output_size if isinstance(output_size, (tuple, list)) else (output_size,) * 2
    oh, ow = (h if osz[0] is None else int(osz[0])), (w if osz[1] is None else int(osz[1]))
    x = float_operand(x)
    if oh == 0 or ow == 0:
        return empty_pool(x, 2, (oh, ow))
    if oh == ow == 1:  # global pooling: a mean over the trailing plane
        return x.mean((-2, -1), keepdim=True)
    if h % oh == 0 and w % ow == 0:  # even bins: an average pool
        return avg_pool2d(x, (h // oh, w // ow))
    return _adaptive_matrix(h, oh, x) @ x @ _adaptive_matrix(w, ow, x).t()


def adaptive_avg_pool1d(input, output_size):
    """Average pooling of (N, C, L) to a fixed length."""
    x = input
    o = output_size[0] if isinstance(output_size, (tuple, list)) else output_size
    return adaptive_avg_pool2d(x.unsqueeze(-2), (1, o)).squeeze(-2)

