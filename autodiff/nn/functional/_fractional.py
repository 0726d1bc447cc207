"""The rest of PyTorch's nn.functional dropout, pooling and triplet names: ``alpha_dropout``
and ``feature_alpha_dropout`` (SELU-preserving dropout), ``fractional_max_pool2d``/``3d``
(Graham 2014: pseudo-random pooling regions), ``lp_pool3d``, ``max_unpool3d`` and
``triplet_margin_with_distance_loss``. Composites of differentiable ops."""

from __future__ import annotations

import math

import numpy as np

from ... import creation, ops
from ...errors import ShapeError
from ...ops.conv import pair
from ...tensor import Tensor
from ._basic import _check_p
from ._distance import pairwise_distance
from ._loss_extra import _reduction
from ._pool3d import avg_pool3d, max_pool3d
from ._pooling_extra import _lp, _max_unpool

# -SELU's scale * alpha: the value a SELU unit saturates to, which dropped units take
_SELU_SATURATION = 1.7580993408473766


# ----------------------------------------------------------------------------- alpha dropout
def _alpha_dropout(x: Tensor, p: float, training: bool, mask_shape, name: str) -> Tensor:
    _check_p(p, name)
    if not training or p == 0.0:
        return x
    if p == 1.0:
        return x * 0.0
    keep = (creation.rand(*mask_shape, dtype=x.dtype, device=x.device) >= p).to(x.dtype)
    a = 1.0 / math.sqrt((_SELU_SATURATION**2 * p + 1) * (1 - p))
    # dropped units become -saturation, then an affine map restores mean 0 and variance 1
    return x * (keep * a) + (keep - 1) * (_SELU_SATURATION * a) + _SELU_SATURATION * a * p


def alpha_dropout(input: Tensor, p: float = 0.5, training: bool = False,
                  inplace: bool = False) -> Tensor:
    """Dropout for SELU networks: dropped units take SELU's negative saturation value and the
    result is rescaled so a zero-mean, unit-variance input keeps those moments."""
    return _alpha_dropout(input, p, training, tuple(input.shape), "alpha_dropout")


def feature_alpha_dropout(input: Tensor, p: float = 0.5, training: bool = False,
                          inplace: bool = False) -> Tensor:
    """``alpha_dropout`` of whole channels of (N, C, *) (one draw per (n, c))."""
    x = input
    if x.ndim < 2:
        raise ShapeError(f"feature_alpha_dropout: expected an input of at least 2 dims "
                         f"(N, C, ...), got shape {tuple(x.shape)}")
    shape = tuple(x.shape[:2]) + (1,) * (x.ndim - 2)
    return _alpha_dropout(x, p, training, shape, "feature_alpha_dropout")


# ----------------------------------------------------------------------------- fractional pool
def _intervals(sample: np.ndarray, n_in: int, n_out: int, k: int) -> np.ndarray:
    """PyTorch's generate_intervals: the window starts for each plane's sample u in [0, 1),
    computed in the input's float type as PyTorch does (int((i + u) a) - int(u a))."""
    starts = np.empty(sample.shape + (n_out,), np.int64)
    if n_out > 1:
        alpha = sample.dtype.type(n_in - k) / sample.dtype.type(n_out - 1)
        i = np.arange(n_out - 1, dtype=sample.dtype)
        u = sample[..., None]
        starts[..., :-1] = ((i + u) * alpha).astype(np.int64) - (u * alpha).astype(np.int64)
    if n_out > 0:
        starts[..., -1] = n_in - k
    return starts


def _fractional_max_pool(x, kernel_size, output_size, output_ratio, return_indices,
                         samples, nsp: int, name: str):
    if x.ndim not in (nsp + 1, nsp + 2):
        raise ShapeError(f"{name}: expected a {nsp + 1}-D or {nsp + 2}-D input, got shape "
                         f"{tuple(x.shape)}")
    batched = x.ndim == nsp + 2
    xb = x if batched else x.unsqueeze(0)
    n, c, sizes = xb.shape[0], xb.shape[1], tuple(xb.shape[2:])
    k = pair(kernel_size, f"{name}: kernel_size", nsp)
    if output_size is None:
        if output_ratio is None:
            raise ValueError(f"{name} requires specifying either an output_size or an "
                             f"output_ratio")
        ratio = tuple(output_ratio) if isinstance(output_ratio, (tuple, list)) else \
            (output_ratio,) * nsp
        if len(ratio) != nsp or not all(0 < r < 1 for r in ratio):
            raise ValueError(f"{name}: output_ratio must be {nsp} numbers in (0, 1), got "
                             f"{output_ratio}")
        out = tuple(int(s * r) for s, r in zip(sizes, ratio))
    else:
        out = pair(output_size, f"{name}: output_size", nsp)
    for d in range(nsp):
        if out[d] + k[d] - 1 > sizes[d]:
            raise ValueError(f"{name}: pool size {k[d]} too large relative to input size "
                             f"{sizes[d]} for output size {out[d]} (dim {d})")
    if samples is None:
        samples = creation.rand(n, c, nsp, dtype=x.dtype, device=x.device)
    if tuple(samples.shape) != (n, c, nsp):
        raise ShapeError(f"{name}: _random_samples must have shape ({n}, {c}, {nsp}), got "
                         f"{tuple(samples.shape)}")
    u = samples.detach().cpu().numpy()
    # PyTorch's 2-D kernel reads the samples as (W, H); the 3-D one as (T, H, W)
    order = [1, 0] if nsp == 2 else list(range(nsp))
    flat = np.zeros((n, c) + out + k, np.int64)  # flat input index of each window element
    stride = 1
    for d in reversed(range(nsp)):
        pos = _intervals(u[..., order[d]], sizes[d], out[d], k[d])[..., None] + np.arange(k[d])
        shape = [n, c] + [1] * (2 * nsp)
        shape[2 + d], shape[2 + nsp + d] = out[d], k[d]
        flat = flat + pos.reshape(shape) * stride
        stride *= sizes[d]
    flat = flat.reshape(n, c, math.prod(out), math.prod(k))
    idx = creation.tensor(flat.reshape(n, c, -1), device=x.device)
    windows = xb.reshape(n, c, -1).gather(2, idx).reshape(n, c, math.prod(out), math.prod(k))
    values, arg = windows.max(-1)
    values = values.reshape(n, c, *out)
    if not batched:
        values = values.squeeze(0)
    if not return_indices:
        return values
    indices = creation.tensor(flat, device=x.device).gather(3, arg.unsqueeze(-1))
    indices = indices.reshape(n, c, *out)
    return values, indices if batched else indices.squeeze(0)


def fractional_max_pool2d(input: Tensor, kernel_size, output_size=None, output_ratio=None,
                          return_indices: bool = False, _random_samples=None):
    """Max pooling over pseudo-random, overlapping kH x kW regions whose starts grow by a
    fractional step so (H, W) maps onto ``output_size`` (or ``output_ratio`` times (H, W));
    ``_random_samples`` (N, C, 2) in [0, 1) fixes the regions (default: drawn uniformly)."""
    return _fractional_max_pool(input, kernel_size, output_size, output_ratio, return_indices,
                                _random_samples, 2, "fractional_max_pool2d")


def fractional_max_pool3d(input: Tensor, kernel_size, output_size=None, output_ratio=None,
                          return_indices: bool = False, _random_samples=None):
    """``fractional_max_pool2d`` over (T, H, W); ``_random_samples`` is (N, C, 3)."""
    return _fractional_max_pool(input, kernel_size, output_size, output_ratio, return_indices,
                                _random_samples, 3, "fractional_max_pool3d")


def fractional_max_pool2d_with_indices(input, kernel_size, output_size=None, output_ratio=None,
                                       return_indices: bool = False, _random_samples=None):
    return fractional_max_pool2d(input, kernel_size, output_size, output_ratio, True,
                                 _random_samples)


def fractional_max_pool3d_with_indices(input, kernel_size, output_size=None, output_ratio=None,
                                       return_indices: bool = False, _random_samples=None):
    return fractional_max_pool3d(input, kernel_size, output_size, output_ratio, True,
                                 _random_samples)


# ----------------------------------------------------------------------------- 3-D LP, unpool
def lp_pool3d(input: Tensor, norm_type: float, kernel_size, stride=None,
              ceil_mode: bool = False) -> Tensor:
    """(sum over each kT x kH x kW window of x^p)^(1/p); p = inf is max pooling of |x|."""
    x = input
    k = pair(kernel_size, "lp_pool3d: kernel_size", 3)
    if norm_type == math.inf:
        return max_pool3d(x.abs(), kernel_size, stride, 0, 1, ceil_mode)
    out = avg_pool3d(x.pow(norm_type), kernel_size, stride, 0, ceil_mode)
    return _lp(out, norm_type, math.prod(k))


def max_unpool3d(input: Tensor, indices: Tensor, kernel_size, stride=None, padding=0,
                 output_size=None) -> Tensor:
    """The partial inverse of ``max_pool3d``: each value written at its flat T*H*W index."""
    return _max_unpool(input, indices, kernel_size, stride, padding, output_size, 3,
                       "max_unpool3d")


# ----------------------------------------------------------------------------- triplet
def triplet_margin_with_distance_loss(anchor: Tensor, positive: Tensor, negative: Tensor, *,
                                      distance_function=None, margin: float = 1.0,
                                      swap: bool = False, reduction: str = "mean") -> Tensor:
    """max(0, d(a, p) - d(a, n) + margin) for any distance d (default: pairwise_distance);
    ``swap`` uses min(d(a, n), d(p, n)) as the negative distance."""
    name = "triplet_margin_with_distance_loss"
    reduction = _reduction(None, None, reduction, name)
    if margin <= 0:
        raise ValueError(f"{name}: margin must be greater than 0, got {margin}")
    if not anchor.ndim == positive.ndim == negative.ndim:
        raise ShapeError(f"{name}: anchor, positive and negative must have the same number of "
                         f"dims, got {anchor.ndim}, {positive.ndim} and {negative.ndim}")
    dist = distance_function if distance_function is not None else pairwise_distance
    dist_pos, dist_neg = dist(anchor, positive), dist(anchor, negative)
    if swap:
        dist_neg = ops.minimum(dist_neg, dist(positive, negative))
    loss = (margin + dist_pos - dist_neg).clamp(min=0)
    if reduction == "mean":
        return loss.mean()
    return loss.sum() if reduction == "sum" else loss
