"""Convolutions lowered to matmul: unfold (im2col) and fold (col2im) primitives, and
conv1d / conv2d / conv_transpose2d composed from them and the backend's matmul.

Unfold and Fold are each other's adjoint, so every convolution's backward (and double
backward) falls out of theirs and matmul's; the GEMM does the heavy lifting on every backend.
"""

from __future__ import annotations

from ..autograd.grad_mode import state
from ..autograd.node import Op
from ..errors import DTypeError, ShapeError
from ._util import composite_grads, constant, float_operand
from .movement import pad as pad_


def pair(v, name: str = "value", n: int = 2) -> tuple:
    """An int or an n-sequence of ints as an n-tuple."""
    if isinstance(v, (list, tuple)):
        if len(v) != n:
            raise ValueError(f"{name}: expected {n} values, got {tuple(v)}")
        return tuple(int(i) for i in v)
    return (int(v),) * n


def out_size(n: int, k: int, d: int, s: int, lo: int, hi: int) -> int:
    return (n + lo + hi - d * (k - 1) - 1) // s + 1


class Unfold(Op):
    """cols = im2col(x) of shape (N, C*kh*kw, L); dx = col2im(dcols)."""

    def forward(self, x, kernel, dilation, pads, stride):
        self.meta = (x._data.shape[2:], kernel, dilation, pads, stride)
        return self.backend.unfold(x._data, kernel, dilation, pads, stride)

    def backward(self, g):
        size, kernel, dilation, pads, stride = self.meta
        return (Fold.apply(g, size=size, kernel=kernel, dilation=dilation, pads=pads,
                           stride=stride),)


class Fold(Op):
    """x = col2im(cols) (overlaps summed); dcols = im2col(dx)."""

    def forward(self, cols, size, kernel, dilation, pads, stride):
        self.meta = (kernel, dilation, pads, stride)
        return self.backend.fold(cols._data, size, kernel, dilation, pads, stride)

    def backward(self, g):
        kernel, dilation, pads, stride = self.meta
        return (Unfold.apply(g, kernel=kernel, dilation=dilation, pads=pads, stride=stride),)


class Conv2d(Op):
    """y = W * x + b (cross-correlation) as im2col + one GEMM; dW = dy cols^T,
    dx = col2im(W^T dy), db = sum(dy).

    A primitive for a measured speed-up over the Unfold + batched-matmul composite (one 2-D
    GEMM instead of N small ones, no broadcast weight gradient to reduce). Under create_graph
    its backward differentiates the composite instead.
    """

    def forward(self, x, weight, bias, kernel, dilation, pads, stride, groups):
        self.saved = (x, weight, bias)
        self.meta = (kernel, dilation, pads, stride, groups)
        y, self.cols = self.backend.conv2d_forward(
            x._data, weight._data, None if bias is None else bias._data, kernel, dilation,
            pads, stride, groups)
        return y

    def backward(self, g):
        x, w, b = self.saved
        kernel, dilation, pads, stride, groups = self.meta
        if state.enabled:
            return _conv_composite_grads(self, g)
        gx, gw, gb = self.backend.conv2d_backward(
            g._data, self.cols, w._data, x._data.shape, kernel, dilation, pads, stride, groups,
            self.next[0] is not None, self.next[1] is not None,
            b is not None and self.next[2] is not None)
        dev = g._dev
        return tuple(None if a is None else constant(a, dev) for a in (gx, gw, gb))


def _conv_composite_grads(op, g):
    kernel, dilation, pads, stride, groups = op.meta
    return composite_grads(op, g, op.saved, lambda x, w, b: _conv2d_composite(
        x, w, b, dilation, pads, stride, groups))


def _conv2d_composite(x, weight, bias, d, pads, s, groups):
    n = x.shape[0]
    oc, cg, kh, kw = weight.shape
    cols = Unfold.apply(x, kernel=(kh, kw), dilation=d, pads=pads, stride=s)  # (N, K, L)
    L = cols.shape[2]
    if groups == 1:
        out = weight.reshape(oc, cg * kh * kw) @ cols
    else:
        cols = cols.reshape(n, groups, cg * kh * kw, L)
        out = (weight.reshape(groups, oc // groups, cg * kh * kw) @ cols).reshape(n, oc, L)
    if bias is not None:
        out = out + bias.reshape(1, oc, 1)
    oh = out_size(x.shape[2], kh, d[0], s[0], pads[0], pads[1])
    return out.reshape(n, oc, oh, L // oh)


def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    """Extract sliding local blocks: (N, C, H, W) -> (N, C*kh*kw, L).

    Args:
        x: input of shape (N, C, H, W) or (C, H, W).
        kernel_size, dilation, padding, stride: ints or pairs.
    Returns:
        Tensor of shape (N, C*kh*kw, L), L the number of block positions.
    """
    x = input
    if x.ndim not in (3, 4):
        raise ShapeError(f"unfold: expected a 3-D or 4-D input, got shape {tuple(x.shape)}")
    if x.ndim == 3:
        return unfold(x.unsqueeze(0), kernel_size, dilation, padding, stride).squeeze(0)
    k, d, s = pair(kernel_size), pair(dilation), pair(stride)
    p = pair(padding)
    pads = (p[0], p[0], p[1], p[1])
    if min(out_size(x.shape[2], k[0], d[0], s[0], p[0], p[0]),
           out_size(x.shape[3], k[1], d[1], s[1], p[1], p[1])) < 1:
        raise ShapeError(f"unfold: kernel {k} with dilation {d} and padding {p} does not fit "
                         f"input of shape {tuple(x.shape)}")
    return Unfold.apply(x, kernel=k, dilation=d, pads=pads, stride=s)


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """Combine sliding local blocks into a tensor, summing overlaps: the adjoint of unfold.

    Args:
        x: blocks of shape (N, C*kh*kw, L) or (C*kh*kw, L).
        output_size: (H, W) of the result.
    Returns:
        Tensor of shape (N, C, H, W).
    """
    x = input
    if x.ndim not in (2, 3):
        raise ShapeError(f"fold: expected a 2-D or 3-D input, got shape {tuple(x.shape)}")
    if x.ndim == 2:
        return fold(x.unsqueeze(0), output_size, kernel_size, dilation, padding,
                    stride).squeeze(0)
    size, k, d, s = pair(output_size), pair(kernel_size), pair(dilation), pair(stride)
    p = pair(padding)
    pads = (p[0], p[0], p[1], p[1])
    kk = k[0] * k[1]
    nh, nw = (out_size(size[0], k[0], d[0], s[0], p[0], p[0]),
              out_size(size[1], k[1], d[1], s[1], p[1], p[1]))
    if x.shape[1] % kk or x.shape[2] != nh * nw or min(nh, nw) < 1:
        raise ShapeError(f"fold: expected input of shape (N, C*{kk}, {nh * nw}) for output "
                         f"size {size} and kernel {k}, got {tuple(x.shape)}")
    return Fold.apply(x, size=size, kernel=k, dilation=d, pads=pads, stride=s)


def _conv_pads(padding, k, d, s, name):
    if isinstance(padding, str):
        if padding == "valid":
            return (0, 0, 0, 0)
        if padding != "same":
            raise ValueError(f"{name}: padding must be 'valid', 'same' or ints, got {padding!r}")
        if s != (1, 1):
            raise ShapeError(f"{name}: padding='same' is not supported for strided "
                             f"convolutions (stride {s})")  # RuntimeError in F.conv2d too
        th, tw = d[0] * (k[0] - 1), d[1] * (k[1] - 1)
        return (th // 2, th - th // 2, tw // 2, tw - tw // 2)
    p = pair(padding, f"{name}: padding")
    return (p[0], p[0], p[1], p[1])


def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D convolution (cross-correlation) over (N, C_in, H, W), lowered to im2col + matmul.

    Args:
        x: input (N, C_in, H, W) or (C_in, H, W).
        weight: (C_out, C_in / groups, kH, kW).
        bias: (C_out,) or None.
        stride, dilation: ints or pairs; padding: int, pair, "valid" or "same".
        groups: split channels into groups (groups == C_in: depthwise).
    Returns:
        Tensor (N, C_out, H_out, W_out).
    """
    if x.ndim == 3:
        return conv2d(x.unsqueeze(0), weight, bias, stride, padding, dilation, groups).squeeze(0)
    if x.ndim != 4 or weight.ndim != 4:
        raise ShapeError(f"conv2d: expected a 4-D input (N, C, H, W) and a 4-D weight, got "
                         f"shapes {tuple(x.shape)} and {tuple(weight.shape)}")
    n, c, h, w = x.shape
    oc, cg, kh, kw = weight.shape
    if c != cg * groups or oc % groups:
        raise ShapeError(f"conv2d: expected input with {cg * groups} channels (weight "
                         f"{tuple(weight.shape)}, groups={groups}), got shape {tuple(x.shape)}")
    k, d, s = (kh, kw), pair(dilation, "conv2d: dilation"), pair(stride, "conv2d: stride")
    pads = _conv_pads(padding, k, d, s, "conv2d")
    oh = out_size(h, kh, d[0], s[0], pads[0], pads[1])
    ow = out_size(w, kw, d[1], s[1], pads[2], pads[3])
    if oh < 1 or ow < 1:
        raise ShapeError(f"conv2d: kernel ({kh}, {kw}) with dilation {d} is larger than the "
                         f"padded input of shape {tuple(x.shape)}")
    if bias is not None and tuple(bias.shape) != (oc,):
        raise ShapeError(f"conv2d: expected bias of shape ({oc},), got {tuple(bias.shape)}")
    x = float_operand(x)
    check_same_dtype("conv2d", x, weight, bias)
    return Conv2d.apply(x, weight, bias, kernel=k, dilation=d, pads=pads, stride=s,
                        groups=groups)


def check_same_dtype(name: str, x, weight, bias) -> None:
    if weight.dtype is not x.dtype or (bias is not None and bias.dtype is not x.dtype):
        raise DTypeError(f"{name}: input ({x.dtype.name}), weight ({weight.dtype.name}) and "
                         f"bias must share one dtype")


def conv1d(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """1-D convolution over (N, C_in, L): conv2d on a height-1 image.

    Args:
        x: (N, C_in, L) or (C_in, L); weight: (C_out, C_in / groups, k); bias: (C_out,).
    Returns:
        Tensor (N, C_out, L_out).
    """
    if x.ndim == 2:
        return conv1d(x.unsqueeze(0), weight, bias, stride, padding, dilation, groups).squeeze(0)
    if x.ndim != 3 or weight.ndim != 3:
        raise ShapeError(f"conv1d: expected a 3-D input (N, C, L) and a 3-D weight, got shapes "
                         f"{tuple(x.shape)} and {tuple(weight.shape)}")
    if x.shape[1] != weight.shape[1] * groups:
        raise ShapeError(f"conv1d: expected input with {weight.shape[1] * groups} channels (weight"
                         f" {tuple(weight.shape)}, groups={groups}), got shape {tuple(x.shape)}")
    check_same_dtype("conv1d", float_operand(x), weight, bias)
    pad = padding if isinstance(padding, str) else (0, pair(padding, "conv1d: padding", 1)[0])
    out = conv2d(x.unsqueeze(2), weight.unsqueeze(2), bias, (1, pair(stride, "stride", 1)[0]),
                 pad, (1, pair(dilation, "dilation", 1)[0]), groups)
    return out.squeeze(2)


def conv_transpose2d(x, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    """Transposed 2-D convolution (the gradient of conv2d with respect to its input).

    Args:
        x: (N, C_in, H, W) or (C_in, H, W); weight: (C_in, C_out / groups, kH, kW).
    Returns:
        Tensor (N, C_out, H_out, W_out) with
        H_out = (H - 1) * stride - 2 * padding + dilation * (kH - 1) + output_padding + 1.
    """
    if x.ndim == 3:
        return conv_transpose2d(x.unsqueeze(0), weight, bias, stride, padding, output_padding,
                                groups, dilation).squeeze(0)
    if x.ndim != 4 or weight.ndim != 4:
        raise ShapeError(f"conv_transpose2d: expected a 4-D input and a 4-D weight, got shapes "
                         f"{tuple(x.shape)} and {tuple(weight.shape)}")
    _, c, h, w = x.shape
    cin, ocg, kh, kw = weight.shape
    if c != cin or cin % groups:
        raise ShapeError(f"conv_transpose2d: expected input with {cin} channels (weight "
                         f"{tuple(weight.shape)}), got shape {tuple(x.shape)}")
    s, d = pair(stride, "stride"), pair(dilation, "dilation")
    p, op = pair(padding, "padding"), pair(output_padding, "output_padding")
    size = tuple((i - 1) * s_ - 2 * p_ + d_ * (k_ - 1) + o_ + 1
                 for i, s_, p_, d_, k_, o_ in zip((h, w), s, p, d, (kh, kw), op))
    if op[0] >= max(s[0], d[0]) or op[1] >= max(s[1], d[1]) or min(size) < 1:
        raise ValueError(f"conv_transpose2d: output_padding {op} must be smaller than either "
                         f"stride {s} or dilation {d}, and the output size {size} positive")
    if bias is not None and tuple(bias.shape) != (ocg * groups,):
        raise ShapeError(f"conv_transpose2d: expected bias of shape ({ocg * groups},), got "
                         f"{tuple(bias.shape)}")
    x = float_operand(x)
    check_same_dtype("conv_transpose2d", x, weight, bias)
    pads = (p[0], max(p[0] - op[0], 0), p[1], max(p[1] - op[1], 0))
    fits = getattr(x._dev.backend, "conv_transpose2d_fits", None)
    if (fits is not None and fits(x._data, weight._data)
            and out_size(size[0], kh, d[0], s[0], pads[0], pads[1]) == h
            and out_size(size[1], kw, d[1], s[1], pads[2], pads[3]) == w):
        return ConvTranspose2d.apply(x, weight, bias, size=size, dilation=d, pads=pads, stride=s,
                                     groups=groups, output_padding=op)
    return _conv_transpose2d_composite(x, weight, bias, s, p, op, groups, d)


class ConvTranspose2d(Op):
    """y = conv2d's input gradient of x with W, plus b, in one backend kernel (no (N, C*kh*kw,
    H*W) column matrix and fold): dx = conv2d(dy, W); dW = conv2d's weight gradient with dy
    and x in the places of its input and output gradient; db = sum(dy). A backend that has
    ``conv_transpose2d`` gets it; under create_graph the backward differentiates the
    composite."""

    def forward(self, x, weight, bias, size, dilation, pads, stride, groups, output_padding):
        self.saved = (x, weight, bias)
        self.meta = (dilation, pads, stride, groups, output_padding)
        return self.backend.conv_transpose2d(x._data, weight._data,
                                             None if bias is None else bias._data, size,
                                             dilation, pads, stride, groups)

    def backward(self, g):
        x, w, b = self.saved
        dilation, pads, stride, groups, op = self.meta
        if state.enabled:
            return composite_grads(self, g, self.saved, lambda x, w, b: _conv_transpose2d_composite(
                x, w, b, stride, (pads[0], pads[2]), op, groups, dilation))
        gx, gw, gb = self.backend.conv_transpose2d_backward(
            g._data, x._data, w._data, dilation, pads, stride, groups, self.next[0] is not None,
            self.next[1] is not None, b is not None and self.next[2] is not None)
        dev = g._dev
        return tuple(None if a is None else constant(a, dev) for a in (gx, gw, gb))


def _conv_transpose2d_composite(x, weight, bias, s, p, op, groups, d):
    """conv_transpose2d as the adjoint of the im2col lowering: W^T x per group, then fold."""
    n, _, h, w = x.shape
    cin, ocg, kh, kw = weight.shape
    size = tuple((i - 1) * s_ - 2 * p_ + d_ * (k_ - 1) + o_ + 1
                 for i, s_, p_, d_, k_, o_ in zip((h, w), s, p, d, (kh, kw), op))
    oc, kk = ocg * groups, kh * kw
    xf = x.reshape(n, groups, cin // groups, h * w)
    wg = weight.reshape(groups, cin // groups, ocg * kk).transpose(1, 2)
    cols = (wg @ xf).reshape(n, oc * kk, h * w)
    # output_padding rows come out of the high-side padding, and past it (cut) are zeros
    cut = (max(op[0] - p[0], 0), max(op[1] - p[1], 0))
    out = Fold.apply(cols, size=(size[0] - cut[0], size[1] - cut[1]), kernel=(kh, kw), dilation=d,
                     pads=(p[0], p[0] - op[0] + cut[0], p[1], p[1] - op[1] + cut[1]), stride=s)
    out = pad_(out, (0, cut[1], 0, cut[0])) if any(cut) else out
    if bias is not None:
        out = out + bias.reshape(1, oc, 1, 1)
    return out
