"""nn.functional losses, computed stably (log-softmax / log-sum-exp, logits forms)."""

from __future__ import annotations

import warnings

import numpy as np

from ... import ops
from ...autograd.function import Function
from ...errors import DTypeError, ShapeError
from ...ops import nn_ops as _nn_ops
from ...ops.activation import activation as _activation
from ...math_functions import xlogy
from ...tensor import Tensor
from ._activation import _log1p_exp
from ._activation import logsigmoid as _logsigmoid


def _legacy(size_average, reduce, reduction):
    if size_average is None and reduce is None:
        return reduction
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    return ("mean" if size_average else "sum") if reduce else "none"


def _reduce(loss: Tensor, reduction: str, name: str) -> Tensor:
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    if reduction == "none":
        return loss
    raise ValueError(f"{name}: {reduction!r} is not a valid value for reduction "
                     f"(expected 'none', 'mean' or 'sum')")


def _weighted(loss: Tensor, input: Tensor, weight: Tensor, reduction: str, name: str) -> Tensor:
    """loss * weight reduced as PyTorch's mse_loss and l1_loss do: 'mean' is the sum over the
    sum of the weights."""
    if tuple(weight.shape) != tuple(input.shape):
        raise ValueError(f"{name}: weights of shape {tuple(weight.shape)} and input of shape "
                         f"{tuple(input.shape)} must have the same size")
    loss = loss * weight
    if reduction == "mean":
        return loss.sum() / weight.sum()
    return _reduce(loss, reduction, name)


def _check_same(x, target, name, warn: bool = True):
    """PyTorch broadcasts input and target of different shapes, with a warning (none for
    ``warn=False``: kl_div broadcasts silently, as PyTorch's)."""
    if tuple(x.shape) != tuple(target.shape):
        try:
            np.broadcast_shapes(x.shape, target.shape)  # shape arithmetic only
        except ValueError:
            raise ShapeError(f"{name}: target of shape {tuple(target.shape)} does not broadcast "
                             f"with input of shape {tuple(x.shape)}") from None
        if warn:
            warnings.warn(f"{name}: using a target size ({tuple(target.shape)}) that is different "
                          f"to the input size ({tuple(x.shape)}). This will likely lead to "
                          f"incorrect results due to broadcasting. Please ensure they have the "
                          f"same size.", UserWarning, stacklevel=3)


def mse_loss(input: Tensor, target: Tensor, size_average=None, reduce=None,
             reduction: str = "mean", weight: Tensor | None = None) -> Tensor:
    """(input - target)^2, reduced."""
    _check_same(input, target, "mse_loss")
    d = input - target
    reduction = _legacy(size_average, reduce, reduction)
    if weight is None and reduction in ("mean", "sum") and d.numel():
        total = ops.reduce.sum_squares(d)  # no d * d array either way
        return total / d.numel() if reduction == "mean" else total
    if weight is not None:
        return _weighted(d * d, input, weight, reduction, "mse_loss")
    return _reduce(d * d, reduction, "mse_loss")


def l1_loss(input: Tensor, target: Tensor, size_average=None, reduce=None,
            reduction: str = "mean", weight: Tensor | None = None) -> Tensor:
    """|input - target|, reduced (times ``weight`` and over its sum for 'mean', if given)."""
    _check_same(input, target, "l1_loss")
    reduction = _legacy(size_average, reduce, reduction)
    if weight is not None:
        return _weighted((input - target).abs(), input, weight, reduction, "l1_loss")
    return _reduce((input - target).abs(), reduction, "l1_loss")


def _huber(input: Tensor, target: Tensor, delta: float, scale: float) -> Tensor:
    """Huber's loss of d = input - target, m (|d| - m / 2) with m = min(|d|, delta) (0.5 d^2
    inside, delta (|d| - delta / 2) outside), times scale (1 / beta for smooth L1); its
    gradient g clamp(d, -delta, delta) scale.  One kernel each way on d (backends'
    activation_kernels.py; C++ on cpp), where the composite wrote six arrays."""
    return _activation("huber", input - target, float(delta), float(scale))


def smooth_l1_loss(input: Tensor, target: Tensor, size_average=None, reduce=None,
                   reduction: str = "mean", beta: float = 1.0) -> Tensor:
    """0.5 d^2 / beta where |d| < beta, |d| - 0.5 beta elsewhere."""
    _check_same(input, target, "smooth_l1_loss")
    if beta < 0:
        raise RuntimeError("smooth_l1_loss does not support negative values for beta.")
    if beta == 0:
        loss = (input - target).abs()
    else:
        loss = _huber(input, target, beta, 1.0 / beta)
    return _reduce(loss, _legacy(size_average, reduce, reduction), "smooth_l1_loss")


def huber_loss(input: Tensor, target: Tensor, reduction: str = "mean", delta: float = 1.0,
               weight: Tensor | None = None) -> Tensor:
    """0.5 d^2 where |d| < delta, delta (|d| - 0.5 delta) elsewhere."""
    _check_same(input, target, "huber_loss")
    if delta <= 0:
        raise RuntimeError("huber_loss does not support non-positive values for delta.")
    loss = _huber(input, target, delta, 1.0)
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction, "huber_loss")


class _BinaryCrossEntropy(Function):
    """-(t log p + (1 - t) log(1 - p)) with PyTorch's gradients, which stay finite where p is
    exactly 0 or 1 (a saturated sigmoid): dp = (p - t) / max(p (1 - p), 1e-12), and
    dt = log(1 - p) - log(p), unclamped (infinite there, as in PyTorch)."""

    @staticmethod
    def forward(ctx, p, t):
        ctx.save_for_backward(p, t)
        return -(t * _clamped_log(p) + (1 - t) * _clamped_log(1 - p))

    @staticmethod
    def backward(ctx, g):
        p, t = ctx.saved_tensors
        gp = g * (p - t) / (p * (1 - p)).clamp(min=1e-12) if ctx.needs_input_grad[0] else None
        gt = g * ((1 - p).log() - p.log()) if ctx.needs_input_grad[1] else None
        return gp, gt


def _clamped_log(x: Tensor) -> Tensor:
    return x.log().clamp(min=-100.0)


def binary_cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None,
                         size_average=None, reduce=None, reduction: str = "mean") -> Tensor:
    """-(t log p + (1 - t) log(1 - p)), each log clamped at -100 as in PyTorch."""
    if tuple(input.shape) != tuple(target.shape):
        raise ShapeError(f"binary_cross_entropy: target of shape {tuple(target.shape)} must "
                         f"match input of shape {tuple(input.shape)}")
    if input.numel() and bool(((input < 0) | (input > 1)).any()):  # (a sync on a GPU)
        raise RuntimeError("binary_cross_entropy: all elements of input should be between 0 "
                           "and 1")
    loss = _BinaryCrossEntropy.apply(input, target)
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, _legacy(size_average, reduce, reduction), "binary_cross_entropy")


class _BCEWithLogits(Function):
    """(1 - t) x - log sigmoid(x), its gradients g (sigmoid(x) - t) and -g x: two passes
    backward where the composite took eight."""

    @staticmethod
    def forward(ctx, x, t):
        ctx.save_for_backward(x, t)
        return (1 - t) * x - _logsigmoid(x)

    @staticmethod
    def backward(ctx, g):
        x, t = ctx.saved_tensors
        gx = g * (x.sigmoid() - t) if ctx.needs_input_grad[0] else None
        return gx, -(g * x) if ctx.needs_input_grad[1] else None


def binary_cross_entropy_with_logits(input: Tensor, target: Tensor,
                                     weight: Tensor | None = None, size_average=None,
                                     reduce=None, reduction: str = "mean",
                                     pos_weight: Tensor | None = None) -> Tensor:
    """BCE on logits x: (1 - t) x + (1 + (pw - 1) t) * (log1p(exp(-|x|)) + relu(-x))."""
    if tuple(input.shape) != tuple(target.shape):
        raise ShapeError(f"binary_cross_entropy_with_logits: target of shape "
                         f"{tuple(target.shape)} must match input of shape {tuple(input.shape)}")
    if pos_weight is not None:
        softplus_neg = _log1p_exp(-input)  # log(1 + exp(-x)); its gradient exact at x = 0
        loss = (1 - target) * input + (1 + (pos_weight - 1) * target) * softplus_neg
    else:
        loss = _BCEWithLogits.apply(input, target)
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, _legacy(size_average, reduce, reduction),
                   "binary_cross_entropy_with_logits")


def _class_last(x: Tensor) -> tuple:
    """input (N, C, d1, ...) or (C,) -> (N, C, rest) form and whether it was unbatched."""
    if x.ndim == 1:
        return x.unsqueeze(0), True
    return x, False


def _pick(logp: Tensor, target: Tensor, weight, ignore_index: int, name: str):
    """Per-element -w[y] * logp[y] and the effective weights (0 where ignored)."""
    if target.is_floating_point():
        raise DTypeError(f"{name}: expected integer class indices as target, got "
                        f"{target.dtype.name}")
    c = logp.shape[1]
    if tuple(target.shape) != (logp.shape[0],) + tuple(logp.shape[2:]):
        raise ShapeError(f"{name}: expected target of shape "
                         f"{(logp.shape[0],) + tuple(logp.shape[2:])} for input of shape "
                         f"{tuple(logp.shape)}, got {tuple(target.shape)}")
    _check_classes(target, c, ignore_index, name)
    valid = target != ignore_index
    safe = ops.where(valid, target, 0)
    picked = logp.gather(1, safe.unsqueeze(1)).squeeze(1)
    w = valid.to(logp.dtype)
    if weight is not None:
        if tuple(weight.shape) != (c,):
            raise ShapeError(f"{name}: weight of shape {tuple(weight.shape)} must be ({c},)")
        w = w * weight[safe]
    return -picked * w, w, valid


def _pick_all(logp: Tensor, target: Tensor, weight, ignore_index: int, reduction: str):
    """The loss -logp[y] reduced, where no weight is given and every target is a class (none
    ignored), else None: a gather where ``_pick`` took a dozen ops (nll_loss of (64, 128): 67
    us, now 25, PyTorch's 3)."""
    c = logp.shape[1]
    if (weight is not None or 0 <= ignore_index < c or target.is_floating_point()
            or reduction not in ("mean", "sum", "none")
            or tuple(target.shape) != (logp.shape[0],) + tuple(logp.shape[2:])
            or target.numel() and target.device.backend.any_outside(target._data, 0, c)):
        return None
    picked = logp.gather(1, target.unsqueeze(1))
    if reduction == "none":
        return -picked.squeeze(1)
    return -(picked.mean() if reduction == "mean" else picked.sum())


def nll_loss(input: Tensor, target: Tensor, weight: Tensor | None = None, size_average=None,
             ignore_index: int = -100, reduce=None, reduction: str = "mean") -> Tensor:
    """-w[y] * input[y] per element; 'mean' divides by the sum of the weights used."""
    reduction = _legacy(size_average, reduce, reduction)
    x, unbatched = _class_last(input)
    t = target.unsqueeze(0) if unbatched else target
    if (x.ndim == 2 and weight is None and reduction in ("mean", "sum", "none")
            and x.is_floating_point() and not t.is_floating_point()
            and tuple(t.shape) == (x.shape[0],)):
        try:
            loss = _nn_ops.NllLoss.apply(x, t, ignore_index=ignore_index,
                                         reduction=reduction)
        except IndexError as exc:  # with the offending target
            raise IndexError(f"{exc}{_bad_class(t, x.shape[1], ignore_index)}") from None
        return loss.squeeze(0) if unbatched and reduction == "none" else loss
    loss = _pick_all(x, t, weight, ignore_index, reduction)
    if loss is not None:
        return loss.squeeze(0) if unbatched and reduction == "none" else loss
    loss, w, _ = _pick(x, t, weight, ignore_index, "nll_loss")
    if reduction == "none":
        return loss.squeeze(0) if unbatched else loss
    if reduction == "mean":
        return _weighted_mean(loss.sum(), w.sum())
    return _reduce(loss, reduction, "nll_loss")


def _weighted_mean(total: Tensor, wsum: Tensor) -> Tensor:
    """total / wsum: NaN when every target is ignored (wsum = 0), as in PyTorch, with zero
    gradients there rather than 0 * inf = NaN."""
    none = wsum == 0
    return ops.where(none, float("nan"), total / ops.where(none, 1.0, wsum))


def _check_classes(target: Tensor, c: int, ignore_index: int, name: str) -> None:
    """Class indices must be in [0, c) or ``ignore_index`` (on a GPU this costs one sync, as
    PyTorch's device-side assert does not; an out-of-range class must not pass silently)."""
    if target.numel() and target.device.backend.any_outside(target._data, 0, c, ignore_index):
        raise IndexError(f"{name}: target values must be in [0, {c}) or ignore_index "
                         f"{ignore_index}{_bad_class(target, c, ignore_index)}")


def _bad_class(target: Tensor, c: int, ignore_index: int) -> str:
    """'; got target 7' for the first class index outside [0, c) and not ignore_index."""
    t = np.asarray(target.detach().cpu().numpy())
    bad = t[(t != ignore_index) & ((t < 0) | (t >= c))]
    return f"; got target {bad.flat[0]}" if bad.size else ""


def cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None,
                  size_average=None, ignore_index: int = -100, reduce=None,
                  reduction: str = "mean", label_smoothing: float = 0.0) -> Tensor:
    """log_softmax over the class dim 1 then NLL; targets are class indices (with
    ignore_index) or class probabilities of the input's shape; label smoothing mixes in the
    uniform distribution with weight ``label_smoothing``, as PyTorch."""
    reduction = _legacy(size_average, reduce, reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"cross_entropy: label_smoothing must be in [0, 1], got "
                         f"{label_smoothing}")
    if (input.ndim == 2 and weight is None and not label_smoothing
            and reduction in ("mean", "sum", "none") and not target.is_floating_point()
            and tuple(target.shape) == (input.shape[0],)):
        # the common classifier case: one fused node (log_softmax + NLL + reduction)
        if not input.device.backend.is_cpu:  # (the CPU kernels check as they go)
            _check_classes(target, input.shape[1], ignore_index, "cross_entropy")
        try:
            return _nn_ops.cross_entropy(input, target, ignore_index, reduction)
        except IndexError as exc:  # the CPU kernels' message, with the offending target
            raise IndexError(f"{exc}{_bad_class(target, input.shape[1], ignore_index)}") from None
    x, unbatched = _class_last(input)
    logp = x.log_softmax(1)
    c = x.shape[1]
    wshape = (1, c) + (1,) * (x.ndim - 2)
    if target.is_floating_point():
        if tuple(target.shape) != tuple(input.shape):
            raise ShapeError(f"cross_entropy: probability targets of shape "
                             f"{tuple(target.shape)} must match input {tuple(input.shape)}; "
                             f"class-index targets must be integers, got {target.dtype.name} "
                             f"(convert them with target.long())")
        if ignore_index != -100:
            raise RuntimeError("cross_entropy: ignore_index is not supported for floating point "
                               "(probability) targets")
        t = target.unsqueeze(0) if unbatched else target
        if label_smoothing > 0:
            t = t * (1 - label_smoothing) + label_smoothing / c
        prod = logp * t if weight is None else logp * t * weight.reshape(wshape)
        loss = -prod.sum(1)
        if reduction == "mean":
            return loss.sum() / (x.numel() // c)
        loss = _reduce(loss, reduction, "cross_entropy")
        return loss.squeeze(0) if unbatched and reduction == "none" else loss
    t = target.unsqueeze(0) if unbatched else target
    nll = _pick_all(logp, t, weight, ignore_index, reduction)
    if nll is not None:
        if label_smoothing > 0:  # the uniform part: -mean of logp over the classes
            smooth = logp.sum(1) if reduction == "none" else logp.sum() / (
                logp.numel() // c if reduction == "mean" else 1)
            nll = nll * (1 - label_smoothing) - smooth * (label_smoothing / c)
        return nll.squeeze(0) if unbatched and reduction == "none" else nll
    nll, w, valid = _pick(logp, t, weight, ignore_index, "cross_entropy")
    if label_smoothing > 0:
        lp = logp if weight is None else logp * weight.reshape(wshape)
        smooth = -lp.sum(1) * valid.to(logp.dtype)
        if reduction == "mean":
            return _weighted_mean(nll.sum() * (1 - label_smoothing)
                                  + smooth.sum() * (label_smoothing / c), w.sum())
        loss = nll * (1 - label_smoothing) + smooth * (label_smoothing / c)
    else:
        if reduction == "mean":
            return _weighted_mean(nll.sum(), w.sum())
        loss = nll
    loss = _reduce(loss, reduction, "cross_entropy")
    return loss.squeeze(0) if unbatched and reduction == "none" else loss


def kl_div(input: Tensor, target: Tensor, size_average=None, reduce=None,
           reduction: str = "mean", log_target: bool = False) -> Tensor:
    """target * (log target - input) (0 where target == 0); input holds log-probabilities.
    reduction 'batchmean' divides the sum by the batch size (the true KL divergence)."""
    reduction = _legacy(size_average, reduce, reduction)
    _check_same(input, target, "kl_div", warn=False)
    if log_target:
        loss = target.exp() * (target - input)
    else:
        loss = xlogy(target, target) - target * input  # NaN for a negative target, as PyTorch
    if reduction == "batchmean":
        return loss.sum() / (input.shape[0] if input.ndim else 1)
    return _reduce(loss, reduction, "kl_div")
