"""Normalization: batch norm as a primitive on the backend's batch-statistics kernel; group,
instance and RMS norm composed from layer_norm (its fused kernel) and elementwise ops."""

from __future__ import annotations

import math

from ..autograd.grad_mode import no_grad, state
from ..autograd.node import Op
from ..errors import ShapeError
from ._util import constant, float_operand
from .nn_ops import layer_norm


class BatchNorm(Op):
    """y = (x - mean) * rstd * w + b with batch statistics over ``axes``;
    dx = w * rstd * (dy - mean(dy) - xh * mean(dy * xh)), dw = sum(dy * xh), db = sum(dy)."""

    def forward(self, x, weight, bias, axes, eps, mean, var):
        self.saved = (x, weight, bias)
        y, rstd = self.backend.batch_norm(
            x._data, None if weight is None else weight._data,
            None if bias is None else bias._data, mean, var, eps)
        self.stats = (mean, rstd)
        self.meta = (axes, eps)
        return y

    def backward(self, g):
        x, w, b = self.saved
        axes, eps = self.meta
        if state.enabled:
            return _batch_norm_composite_grads(self, g, x, w, b, axes, eps)
        mean, rstd = self.stats
        gx, gw, gb = self.backend.batch_norm_backward(
            g._data, x._data, mean, rstd, None if w is None else w._data, axes)
        dev = g._dev
        return (constant(gx, dev), None if w is None else constant(gw, dev),
                None if b is None else constant(gb, dev))


def _batch_norm_composite_grads(op, g, x, w, b, axes, eps):
    mean = x.mean(axes, keepdim=True)
    xc = x - mean
    rstd = ((xc * xc).mean(axes, keepdim=True) + eps).rsqrt()
    xh = xc * rstd
    bshape = mean.shape
    gxh = g * w.reshape(bshape) if w is not None else g
    gx = rstd * (gxh - gxh.mean(axes, keepdim=True) - xh * (gxh * xh).mean(axes, keepdim=True))
    gw = (g * xh).sum(axes) if w is not None and op.next[1] is not None else None
    gb = g.sum(axes) if b is not None and op.next[2] is not None else None
    return gx, gw, gb


def _channel_shape(x):
    return (1, x.shape[1]) + (1,) * (x.ndim - 2)


def batch_norm(x, running_mean, running_var, weight=None, bias=None, training=False,
               momentum=0.1, eps=1e-5):
    """Batch normalization over every dim but the channel dim 1 of (N, C, *).

    In training mode the batch statistics normalize and (when given) update the running
    statistics in place: r = (1 - momentum) * r + momentum * stat, the variance unbiased.
    In eval mode the running statistics normalize.

    Returns:
        Tensor of the input's shape.
    """
    if x.ndim < 2:
        raise ShapeError(f"batch_norm: expected an input of at least 2 dims (N, C, *), got "
                         f"shape {tuple(x.shape)}")
    c = x.shape[1]
    for name, t in (("weight", weight), ("bias", bias), ("running_mean", running_mean),
                    ("running_var", running_var)):
        if t is not None and tuple(t.shape) != (c,):
            raise ShapeError(f"batch_norm: {name} has shape {tuple(t.shape)}, expected ({c},) "
                             f"for input of shape {tuple(x.shape)}")
    x = float_operand(x)
    axes = (0,) + tuple(range(2, x.ndim))
    if not training:
        if running_mean is None or running_var is None:
            raise ValueError("batch_norm: running_mean and running_var are needed in eval mode")
        cs = _channel_shape(x)
        scale = (running_var + eps).rsqrt()
        if weight is not None:
            scale = scale * weight
        shift = -running_mean * scale
        if bias is not None:
            shift = shift + bias
        return x * scale.reshape(cs) + shift.reshape(cs)
    count = x.numel() // c
    if count <= 1:
        raise ValueError(f"batch_norm: expected more than 1 value per channel when training, "
                         f"got input size {tuple(x.shape)}")
    mean, var = x._dev.backend.batch_norm_stats(x._data, axes)
    out = BatchNorm.apply(x, weight, bias, axes=axes, eps=float(eps), mean=mean, var=var)
    if running_mean is not None or running_var is not None:
        _update_running(running_mean, running_var, mean, var, count, momentum, x)
    return out


def _update_running(running_mean, running_var, mean, var, count, momentum, x):
    with no_grad():
        dev = x._dev
        if running_mean is not None:
            m = constant(mean, dev).reshape(-1).to(running_mean.dtype)
            running_mean.mul_(1 - momentum).add_(m * momentum)
        if running_var is not None:
            v = constant(var, dev).reshape(-1).to(running_var.dtype) * (count / (count - 1))
            running_var.mul_(1 - momentum).add_(v * momentum)


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5):
    """Group normalization of (N, C, *): statistics over each group of C / num_groups channels
    and all spatial positions, then a per-channel affine.

    Returns:
        Tensor of the input's shape.
    """
    x = input
    if x.ndim < 2 or x.shape[1] % num_groups or math.prod(x.shape) == num_groups:  # as PyTorch
        raise ShapeError(f"group_norm: expected input (N, C, *) with C divisible by num_groups "
                         f"{num_groups} and more than 1 value per group, got {tuple(x.shape)}")
    x = float_operand(x)
    n = x.shape[0]
    xg = x.reshape(n, num_groups, math.prod(x.shape[1:]) // num_groups)  # (not -1: n may be 0)
    y = layer_norm(xg, (xg.shape[-1],), None, None, eps).reshape(x.shape)
    cs = _channel_shape(x)
    if weight is not None:
        y = y * weight.reshape(cs)
    if bias is not None:
        y = y + bias.reshape(cs)
    return y


def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None,
                  use_input_stats=True, momentum=0.1, eps=1e-5):
    """Instance normalization of (N, C, *): statistics per sample and channel.

    With ``use_input_stats=False`` the running statistics normalize instead (eval mode of
    layers that track them); in training the running statistics are updated with the
    batch-average of the instance statistics.
    """
    x = input
    if x.ndim < 2 + use_input_stats or (use_input_stats and math.prod(x.shape[2:]) == 1):
        raise ShapeError(f"instance_norm: expected input (N, C, *) with more than 1 spatial "
                         f"element to take statistics of, got shape {tuple(x.shape)}")
    x = float_operand(x)
    if not use_input_stats:
        return batch_norm(x, running_mean, running_var, weight, bias, False, momentum, eps)
    y = group_norm(x, x.shape[1], weight, bias, eps)
    if running_mean is not None or running_var is not None:
        with no_grad():
            dims = tuple(range(2, x.ndim))
            count = 1
            for d in dims:
                count *= x.shape[d]
            mean = x.mean(dims).mean(0)
            var = x.var(dims, unbiased=False).mean(0)
            _update_running(running_mean, running_var, mean._data, var._data, count, momentum,
                            x)
    return y


def rms_norm(input, normalized_shape, weight=None, eps=None):
    """y = x / sqrt(mean(x^2 over the normalized dims) + eps) * weight; eps defaults to the
    dtype's machine epsilon."""
    x = input
    if isinstance(normalized_shape, int):
        normalized_shape = (normalized_shape,)
    shape = tuple(normalized_shape)
    nd = len(shape)
    if tuple(x.shape[x.ndim - nd:]) != shape or nd > x.ndim:
        raise ShapeError(f"rms_norm: input of shape {tuple(x.shape)} does not end with "
                         f"normalized_shape {shape}")
    x = float_operand(x)
    if eps is None:
        eps = _eps(x)
    dims = tuple(range(x.ndim - nd, x.ndim))
    y = x * ((x * x).mean(dims, keepdim=True) + eps).rsqrt()
    return y * weight if weight is not None else y


def _eps(x) -> float:
    return {"float16": 0.0009765625, "float32": 1.1920928955078125e-07}.get(
        x.dtype.name, 2.220446049250313e-16)
