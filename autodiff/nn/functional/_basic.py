"""nn.functional: linear maps, dropout, embedding, padding, resampling, channel shuffles."""

from __future__ import annotations

import math
import warnings

import numpy as np

from ... import creation, dtypes, ops
from ...amp.autocast_mode import autocast_op
from ...errors import DTypeError, ShapeError
from ...ops import linalg as _linalg
from ...ops.indexing import lerp_along
from ...ops.padding import edge_pad
from ...tensor import Tensor
from ._activation import _maybe_inplace
from ._interpolate_extra import nearest_index
from ._interpolate_extra import resample as _resample


def linear_shape_message(name: str, x: Tensor, weight: Tensor) -> str:
    """What a linear layer says of an input whose last dim is not in_features, with the fix
    for the common mistake of an unflattened image: (N, C, H, W) with C * H * W features."""
    k = weight.shape[-1]
    msg = (f"{name}: expected input with last dimension {k} (in_features), got shape "
           f"{tuple(x.shape)} (weight of shape {tuple(weight.shape)})")
    if x.ndim > 2 and math.prod(x.shape[1:]) == k:
        msg += (f"; flatten all but the batch dim first: x.flatten(1) (or nn.Flatten()) "
                f"gives shape {(x.shape[0], k)}")
    return msg


@autocast_op("linear")  # here, not in __init__: _attention imports this linear
def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """y = x W^T + b.

    Args:
        input: (*, in_features); weight: (out_features, in_features); bias: (out_features,)
        or broadcastable to it (its gradient comes back in its own shape).
    Returns:
        Tensor (*, out_features).
    """
    if input.ndim == 0 or input.shape[-1] != weight.shape[-1]:
        raise ShapeError(linear_shape_message("linear", input, weight))
    if bias is not None and weight.ndim == 2 and bias.ndim <= 1 and (
            tuple(bias.shape) != (weight.shape[0],)):
        bias = bias.expand(weight.shape[0])  # a () or (1,) bias: expand sums db to its shape
    if weight.ndim == 2 and input.ndim >= 2 and input.dtype is weight.dtype and (
            bias is None or (bias.dtype is weight.dtype and bias.ndim == 1)):
        # one fused node and one 2-D GEMM (and a 2-D weight gradient), even for batched input
        if input.ndim == 2:
            return _linalg.linear(input, weight, bias)
        lead = tuple(input.shape[:-1])
        y = _linalg.linear(input.reshape(-1, input.shape[-1]), weight, bias)
        return y.reshape(*lead, weight.shape[0])
    if input.dtype is not weight.dtype:
        raise DTypeError(f"linear: mat1 and mat2 must have the same dtype, but got "
                         f"{input.dtype.name} and {weight.dtype.name}")
    y = input @ weight.mT if weight.ndim == 2 else input @ weight
    return y if bias is None else y + bias


def bilinear(input1: Tensor, input2: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """y_k = x1^T A_k x2 + b_k.

    Args:
        x1: (*, in1); x2: (*, in2); weight: (out, in1, in2); bias: (out,).
    Returns:
        Tensor (*, out).
    """
    if input1.shape[-1] != weight.shape[1] or input2.shape[-1] != weight.shape[2]:
        raise ShapeError(f"bilinear: expected inputs with last dimensions {weight.shape[1]} and "
                         f"{weight.shape[2]}, got shapes {tuple(input1.shape)} and "
                         f"{tuple(input2.shape)}")
    lead = tuple(input1.shape[:-1])
    a = input1.reshape(-1, input1.shape[-1])
    b = input2.reshape(-1, input2.shape[-1])
    out, in1, in2 = weight.shape
    # (B, in1) @ (in1, out*in2) -> (B, out, in2), then contract with x2
    t = (a @ weight.permute(1, 0, 2).reshape(in1, out * in2)).reshape(-1, out, in2)
    y = (t @ b.unsqueeze(-1)).squeeze(-1)
    if bias is not None:
        y = y + bias
    return y.reshape(*lead, out)


def _keep_mask(shape, p: float, x: Tensor) -> Tensor:
    keep = creation.rand(*shape, dtype=x.dtype, device=x.device) >= p
    return keep.to(x.dtype) * (1.0 / (1.0 - p))


def _drop(x: Tensor, p: float, mask_shape: tuple) -> Tensor:
    """x times a keep mask of ``mask_shape`` (broadcast over x) scaled by 1/(1-p)."""
    return x * 0.0 if p == 1.0 else x * _keep_mask(mask_shape, p, x)


def _check_p(p: float, name: str) -> None:
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"{name}: dropout probability has to be between 0 and 1, but got {p}")


def dropout(input: Tensor, p: float = 0.5, training: bool = True,
            inplace: bool = False) -> Tensor:
    """Inverted dropout: zero each element with probability p, scale the rest by 1/(1-p)
    (written into ``input`` when ``inplace``). Draws from the default generator, so
    ``ad.manual_seed`` makes it reproducible."""
    _check_p(p, "dropout")
    if not training or p == 0.0:
        return input
    return _maybe_inplace(_drop, input, inplace, p, tuple(input.shape))


def _channel_dropout(x: Tensor, p: float, training: bool, inplace: bool, spatial: int,
                     name: str) -> Tensor:
    """Zero whole channels: the mask covers every dim but the last ``spatial`` ones."""
    _check_p(p, name)
    if not training or p == 0.0:
        return x
    if x.ndim not in (spatial + 1, spatial + 2):
        raise ShapeError(f"{name}: expected a {spatial + 1}-D or {spatial + 2}-D input, got "
                         f"shape {tuple(x.shape)}")
    shape = tuple(x.shape[:x.ndim - spatial]) + (1,) * spatial
    return _maybe_inplace(_drop, x, inplace, p, shape)


def dropout1d(input: Tensor, p: float = 0.5, training: bool = True,
              inplace: bool = False) -> Tensor:
    """Zero whole channels of (N, C, L) or (C, L) with probability p (scaled by 1/(1-p))."""
    return _channel_dropout(input, p, training, inplace, 1, "dropout1d")


def dropout2d(input: Tensor, p: float = 0.5, training: bool = True,
              inplace: bool = False) -> Tensor:
    """Zero whole channels of (N, C, H, W) with probability p (scaled by 1/(1-p)).

    As PyTorch 2.13, any input is taken as batched (N, C, *): a 3-D one as (N, C, L), with
    PyTorch's warning (not as an unbatched (C, H, W)). Other than 3-D or 4-D inputs warn that
    they are deprecated when dropout runs (PyTorch warns in eval mode too; the identity it
    returns there does not depend on the shape, so we stay quiet).
    """
    _check_p(p, "dropout2d")
    if input.ndim == 3:
        warnings.warn(DROPOUT2D_3D_WARNING, stacklevel=2)
    if not training or p == 0.0:
        return input
    if input.ndim not in (3, 4):
        warnings.warn(DROPOUT2D_NDIM_WARNING.format(ndim=input.ndim), stacklevel=2)
    if input.ndim < 2:
        raise ShapeError(f"dropout2d: Feature dropout requires at least 2 dimensions in the "
                         f"input, got shape {tuple(input.shape)}")
    return _channel_dropout(input, p, training, inplace, input.ndim - 2, "dropout2d")


DROPOUT2D_NDIM_WARNING = (
    "dropout2d: Received a {ndim}-D input to dropout2d, which is deprecated and will result in "
    "an error in a future release. To retain the behavior and silence this warning, please use "
    "dropout instead. Note that dropout2d exists to provide channel-wise dropout on inputs with "
    "2 spatial dimensions, a channel dimension, and an optional batch dimension (i.e. 3D or 4D "
    "inputs).")
DROPOUT2D_3D_WARNING = (
    "dropout2d: Received a 3D input to dropout2d and assuming that channel-wise 1D dropout "
    "behavior is desired - input is interpreted as shape (N, C, L), where C is the channel dim. "
    "This behavior will change in a future release to interpret the input as one without a "
    "batch dimension, i.e. shape (C, H, W). To maintain the 1D channel-wise dropout behavior, "
    "please switch to using dropout1d instead.")


def embedding(input: Tensor, weight: Tensor, padding_idx: int | None = None, max_norm=None,
              norm_type: float = 2.0, scale_grad_by_freq: bool = False,
              sparse: bool = False) -> Tensor:
    """Rows of ``weight`` looked up by integer indices; the padding_idx row gets no gradient.

    Args:
        input: integer indices of any shape; weight: (num_embeddings, embedding_dim).
    Returns:
        Tensor (*input.shape, embedding_dim).
    """
    if input.is_floating_point() or input.dtype.name == "bool":
        raise DTypeError(f"embedding: expected integer indices, got {input.dtype.name} of shape "
                         f"{tuple(input.shape)}; convert them with .long()")
    if input.dtype.name == "uint8":
        input = input.long()  # positions, not the mask a uint8 index is elsewhere
    if padding_idx is not None and padding_idx < 0:
        padding_idx += weight.shape[0]
    if input.numel() and bool((input._data < 0).any()):  # (weight[input] would count from the end)
        raise IndexError(f"embedding: index out of range in self (negative index "
                         f"{int(input.min().item())}, {weight.shape[0]} embeddings)")
    if max_norm is not None:
        _renorm_rows(input, weight, max_norm, norm_type)
    out = weight[input]
    if padding_idx is not None and weight.requires_grad:
        keep = (input != padding_idx).unsqueeze(-1)
        out = ops.where(keep, out, out.detach())
    if scale_grad_by_freq and weight.requires_grad and input.numel():
        # each row's gradient divided by how often its index occurs in input (value unchanged)
        from ...index_functions import bincount

        counts = bincount(input.reshape(-1), minlength=weight.shape[0])[input].unsqueeze(-1)
        out = out.detach() + (out - out.detach()) / counts.to(out.dtype)
    return out


def _renorm_rows(x, weight, max_norm, norm_type):
    from ...autograd.grad_mode import no_grad

    with no_grad():
        rows = weight[x.reshape(-1)]
        norms = rows.abs().pow(norm_type).sum(-1, keepdim=True).pow(1.0 / norm_type)
        scale = ops.where(norms > max_norm, max_norm / (norms + 1e-7), norms * 0 + 1)
        weight._data[x._data.reshape(-1)] = (rows * scale)._data
        weight._vc[0] += 1


def one_hot(input: Tensor, num_classes: int = -1) -> Tensor:
    """int64 one-hot encoding: (*) -> (*, num_classes)."""
    x = input
    if x.dtype is not dtypes.int64:  # PyTorch takes LongTensor indices only
        raise DTypeError(f"one_hot: expected an int64 (LongTensor) index tensor, "
                         f"got {x.dtype.name}")
    if x.numel() and int(x.min().item()) < 0:
        raise RuntimeError("one_hot: class values must be non-negative")
    if num_classes < 0:
        if not x.numel():  # as PyTorch
            raise RuntimeError("one_hot: cannot infer num_classes from an empty tensor")
        num_classes = int(x.max().item()) + 1
    elif x.numel() and int(x.max().item()) >= num_classes:
        raise RuntimeError(f"one_hot: class values must be smaller than num_classes "
                           f"({num_classes})")
    classes = creation.arange(num_classes, device=x.device, dtype=x.dtype)
    return (x.unsqueeze(-1) == classes).to(dtypes.int64)


def _edge_index(n: int, lo: int, hi: int, mode: str) -> list:
    out = []
    for i in range(-lo, n + hi):
        if mode == "replicate":
            j = min(max(i, 0), n - 1)
        elif mode == "circular":
            j = i % n
        else:  # reflect
            j = i
            period = 2 * (n - 1) if n > 1 else 1
            j = j % period if period else 0
            j = period - j if j >= n else j
        out.append(j)
    return out


def pad(input: Tensor, pad: tuple, mode: str = "constant", value: float | None = None) -> Tensor:
    """Pad the last len(pad)/2 dims; ``pad`` lists (left, right) pairs from the last dim back.

    Args:
        mode: "constant" (with ``value``), "reflect", "replicate" or "circular".
    """
    if len(pad) % 2:  # a ShapeError (a RuntimeError, as PyTorch's) in every mode
        raise ShapeError(f"pad: padding length must be divisible by 2, got {len(pad)}")
    if len(pad) // 2 > input.ndim:
        raise ShapeError(f"pad: padding length should be at most two times the input "
                         f"dimension, got {len(pad)} for an input of dimension {input.ndim}")
    if mode not in ("constant", "reflect", "replicate", "circular"):  # PyTorch's error type
        raise NotImplementedError(f"pad: unrecognised padding mode {mode!r}")
    if mode != "constant" and value:
        raise RuntimeError(f"pad: padding mode {mode!r} doesn't take in value argument")
    least = 1 if mode in ("reflect", "replicate") else 0  # PyTorch's least output size
    for n, lo, hi in zip(input.shape[::-1], pad[::2], pad[1::2]):  # RuntimeErrors, as PyTorch's
        if n + lo + hi < least or (mode == "constant" and n + min(lo, 0) + min(hi, 0) < 0):
            raise ShapeError(f"pad: padding {tuple(pad)} of an input of shape {tuple(input.shape)} "
                             f"gives a size below {least} in {mode} mode")
    if mode == "constant":
        return ops.pad(input, pad, value=0.0 if value is None else value)
    widths = [(0, 0)] * input.ndim
    for i in range(len(pad) // 2):
        widths[input.ndim - 1 - i] = (int(pad[2 * i]), int(pad[2 * i + 1]))
    limit = {"reflect": -1, "replicate": float("inf"), "circular": 0}[mode]  # pad <= n + limit
    if any(w for lh in widths for w in lh) and all(
            0 <= lo <= n + limit and 0 <= hi <= n + limit
            for n, (lo, hi) in zip(input.shape, widths)):
        return edge_pad(input, tuple(widths), mode)  # else: the checks below, or a crop
    for i in range(len(pad) // 2):
        d = input.ndim - 1 - i
        lo, hi = int(pad[2 * i]), int(pad[2 * i + 1])
        n = input.shape[d]
        if mode == "reflect" and (lo >= n or hi >= n):
            raise ShapeError(f"pad: padding ({lo}, {hi}) should be smaller than the input "
                             f"dimension {n} for reflect mode")
        if lo == hi == 0:
            continue
        if mode == "circular":  # as PyTorch: crop the negative sides first, then wrap once
            cut_lo, cut_hi = max(-lo, 0), max(-hi, 0)
            n -= cut_lo + cut_hi
            input, lo, hi = input.narrow(d, cut_lo, n), max(lo, 0), max(hi, 0)
            if lo > n or hi > n:
                raise ShapeError(f"pad: padding ({lo}, {hi}) wraps around more than once an "
                                 f"input dimension of size {n} in circular mode")
        idx = creation.tensor(_edge_index(n, lo, hi, mode), dtype=dtypes.int64, device=input.device)
        input = input[(slice(None),) * d + (idx,)]
    return input


def _resize_args(x, size, scale_factor, name):
    nsp = x.ndim - 2
    if nsp < 1:
        raise ShapeError(f"{name}: expected an input (N, C, *spatial), got shape "
                         f"{tuple(x.shape)}")
    if (size is None) == (scale_factor is None):
        raise ValueError(f"{name}: exactly one of size and scale_factor must be given")
    given = size if size is not None else scale_factor
    if isinstance(given, (tuple, list)) and len(given) != nsp:  # ValueError, as PyTorch
        raise ValueError(f"{name}: input and {'size' if size is not None else 'scale_factor'} "
                         f"must have the same number of spatial dimensions, got input shape "
                         f"{tuple(x.shape)} ({nsp} spatial) and {tuple(given)}")
    if size is not None:
        out = tuple(size) if isinstance(size, (tuple, list)) else (size,) * nsp
        _check_sizes(x, [int(o) for o in out], name)
        return [int(o) for o in out], [None] * nsp
    sf = tuple(scale_factor) if isinstance(scale_factor, (tuple, list)) else (scale_factor,) * nsp
    out = [int(math.floor(n * s)) for n, s in zip(x.shape[2:], sf)]
    _check_sizes(x, out, name)
    return out, [float(s) for s in sf]


def _check_sizes(x, out, name):
    if min(out) < 1 or min(x.shape[2:]) < 1:  # a RuntimeError, as PyTorch's
        raise ShapeError(f"{name}: input and output sizes should be greater than 0, got input "
                         f"{tuple(x.shape[2:])} and output {tuple(out)}")


def interpolate(input: Tensor, size=None, scale_factor=None, mode: str = "nearest",
                align_corners: bool | None = None, recompute_scale_factor=None,
                antialias: bool = False) -> Tensor:
    """Resample (N, C, *spatial) by ``size`` or ``scale_factor``.

    Args:
        mode: "nearest", "nearest-exact" or "area" (any spatial rank), "linear" (3-D input),
            "bilinear" or "bicubic" (4-D input), "trilinear" (5-D input).
        align_corners: for the linear and cubic modes, map corner pixel centres onto each other.
    """
    out, sf = _resize_args(input, size, scale_factor, "interpolate")
    if recompute_scale_factor:
        sf = [None] * len(sf)
    if antialias:
        if mode not in ("bilinear", "bicubic") or input.ndim != 4:
            raise ValueError(f"interpolate: antialias is for 4-D inputs in modes bilinear and "
                             f"bicubic, got mode {mode!r} and shape {tuple(input.shape)}")
        for i, (o, s) in enumerate(zip(out, sf)):
            if o == input.shape[2 + i]:  # PyTorch copies a dim that keeps its size (any scale)
                continue
            w = _antialias_weights(input.shape[2 + i], o, s, mode == "bicubic",
                                   bool(align_corners))
            w = creation.tensor(w.T, dtype=input.dtype, device=input.device)
            input = (input.movedim(2 + i, -1) @ w).movedim(-1, 2 + i)
        return input
    if mode in ("nearest-exact", "area", "bicubic"):
        return _resample(input, out, sf, mode, align_corners)
    if mode == "nearest":
        if align_corners is not None:
            raise ValueError("interpolate: align_corners only has an effect for linear modes")
        for i, (o, s) in enumerate(zip(out, sf)):
            idx = nearest_index(input.shape[2 + i], o, s, False, input)
            input = input[(slice(None),) * (2 + i) + (_long(idx, input),)]
        return input
    want = {"linear": 3, "bilinear": 4, "trilinear": 5}.get(mode)
    if want is None:
        raise ValueError(f"interpolate: unsupported mode {mode!r} (nearest, nearest-exact, "
                         f"area, linear, bilinear, bicubic, trilinear)")
    if input.ndim != want:
        raise ShapeError(f"interpolate: mode {mode!r} expects a {want}-D input, got shape "
                         f"{tuple(input.shape)}")
    for i, (o, s) in enumerate(zip(out, sf)):
        input = _linear_1d(input, 2 + i, o, s, bool(align_corners))
    return input


def _antialias_weights(n: int, o: int, s, cubic: bool, align_corners: bool) -> np.ndarray:
    """(o, n) resampling weights of PyTorch's antialiased bilinear/bicubic (as PIL): the
    triangle or cubic (a = -0.5) filter, stretched by the scale when downsampling, each row
    normalized to sum 1."""
    if align_corners:
        scale = (n - 1) / (o - 1) if o > 1 else 0.0
    else:
        scale = 1.0 / s if s else n / o
    support = (2.0 if cubic else 1.0) * (scale if scale >= 1.0 else 1.0)
    inv = 1.0 / scale if scale >= 1.0 else 1.0

    def kernel(t):
        t = np.abs(t)
        if not cubic:
            return np.maximum(0.0, 1.0 - t)
        return np.where(t < 1, ((1.5 * t - 2.5) * t) * t + 1,
                        np.where(t < 2, ((-0.5 * t + 2.5) * t - 4) * t + 2, 0.0))

    w = np.zeros((o, n))
    for i in range(o):
        center = scale * (i + 0.5)  # (PyTorch keeps no half-pixel shift under align_corners)
        lo = max(int(center - support + 0.5), 0)
        hi = min(int(center + support + 0.5), n)
        ws = kernel((np.arange(lo, hi) - center + 0.5) * inv)
        total = ws.sum()
        w[i, lo:hi] = ws / total if total != 0 else ws
    return w


def _long(idx, x):
    return creation.tensor(idx, dtype=dtypes.int64, device=x.device)


def _linear_1d(x, d, o, s, align_corners):
    n = x.shape[d]
    if n == o:  # PyTorch copies a dim that keeps its size, whatever the scale factor
        return x
    lo, hi, frac = [], [], []
    for j in range(o):
        if align_corners:
            src = j * (n - 1) / (o - 1) if o > 1 else 0.0
        else:
            scale = 1.0 / s if s else n / o
            src = max((j + 0.5) * scale - 0.5, 0.0)
        i0 = min(int(math.floor(src)), n - 1)
        lo.append(i0)
        hi.append(min(i0 + 1, n - 1))
        frac.append(src - i0)
    if x.is_floating_point():  # one pass each way (x[lo] (1 - f) + x[hi] f, as PyTorch)
        return lerp_along(x, d, np.array(lo), np.array(hi), np.array(frac))
    pre = (slice(None),) * d
    w = creation.tensor(frac, dtype=x.dtype, device=x.device).reshape(
        (o,) + (1,) * (x.ndim - d - 1))
    a, b = x[pre + (_long(lo, x),)], x[pre + (_long(hi, x),)]
    return a + (b - a) * w


def upsample(input, size=None, scale_factor=None, mode="nearest", align_corners=None):
    return interpolate(input, size, scale_factor, mode, align_corners)


def channel_shuffle(input: Tensor, groups: int) -> Tensor:
    """(N, g*k, *) -> (N, k*g, *): interleave the channels of the groups."""
    x = input
    if x.ndim < 3 or x.shape[1] % groups:
        raise ShapeError(f"channel_shuffle: expected input (N, C, *) with C divisible by groups "
                         f"{groups}, got shape {tuple(x.shape)}")
    n, c = x.shape[:2]
    rest = tuple(x.shape[2:])
    return x.reshape(n, groups, c // groups, *rest).transpose(1, 2).reshape(n, c, *rest)


def native_channel_shuffle(input: Tensor, groups: int) -> Tensor:
    """PyTorch's native-kernel spelling of ``channel_shuffle``; the same values."""
    return channel_shuffle(input, groups)


def pixel_shuffle(input: Tensor, upscale_factor: int) -> Tensor:
    """(*, C*r^2, H, W) -> (*, C, H*r, W*r)."""
    x = input
    r = int(upscale_factor)
    if x.ndim < 3 or x.shape[-3] % (r * r):
        raise ShapeError(f"pixel_shuffle: expected input (*, C*{r * r}, H, W), got shape "
                         f"{tuple(x.shape)}")
    *lead, c, h, w = x.shape
    nl = len(lead)
    y = x.reshape(*lead, c // (r * r), r, r, h, w)
    perm = tuple(range(nl)) + tuple(nl + i for i in (0, 3, 1, 4, 2))
    return y.permute(*perm).reshape(*lead, c // (r * r), h * r, w * r)


def pixel_unshuffle(input: Tensor, downscale_factor: int) -> Tensor:
    """(*, C, H*r, W*r) -> (*, C*r^2, H, W)."""
    x = input
    r = int(downscale_factor)
    *lead, c, h, w = x.shape
    if h % r or w % r:
        raise ShapeError(f"pixel_unshuffle: spatial size {(h, w)} is not divisible by {r}")
    nl = len(lead)
    y = x.reshape(*lead, c, h // r, r, w // r, r)
    perm = tuple(range(nl)) + tuple(nl + i for i in (0, 2, 4, 1, 3))
    return y.permute(*perm).reshape(*lead, c * r * r, h // r, w // r)


def normalize(input: Tensor, p: float = 2.0, dim: int = 1, eps: float = 1e-12) -> Tensor:
    """x / max(||x||_p over dim, eps)."""
    # norm: gradient 0 at a zero vector
    return input / input.norm(p, dim, keepdim=True).clamp(min=eps)


def cosine_similarity(x1: Tensor, x2: Tensor, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """sum(x1 / max(||x1||, eps) * x2 / max(||x2||, eps)) along ``dim``, as PyTorch: inputs
    broadcast first (a dim of size 1 counts once per copy), each divided by its own clamped
    norm (stable, in [-1, 1]), the clamp passing the norm's gradient through (no-grad clamp).

    Shape:
        x1, x2 (*_1, D, *_2) (broadcastable), output (*_1, *_2).
    """
    if x1.shape != x2.shape:
        shape = tuple(np.broadcast_shapes(tuple(x1.shape), tuple(x2.shape)))
        x1, x2 = x1.broadcast_to(shape), x2.broadcast_to(shape)
    n1, n2 = x1.norm(2, dim, keepdim=True), x2.norm(2, dim, keepdim=True)
    n1, n2 = _clamp_norm(n1, eps), _clamp_norm(n2, eps)
    return ((x1 / n1) * (x2 / n2)).sum(dim)


def _clamp_norm(n: Tensor, eps: float) -> Tensor:
    """max(n, eps), the gradient passing through; no ops where no norm is below eps (a look
    at the array on the CPU: the four ops cost a third of a small cosine_similarity)."""
    if n.device.backend.is_cpu and not bool((n._data < eps).any()):
        return n
    return ops.where(n < eps, n - n.detach() + eps, n)
