"""nn.functional losses beyond the classic ones of ``_loss.py``: margin and embedding losses,
Poisson and Gaussian negative log-likelihoods, soft-margin and multi-margin losses. Each is a
composite of differentiable ops written as PyTorch computes it, so values, broadcasting and
gradients (boundaries included) match, and double backward comes for free."""

from __future__ import annotations

import math

from ... import creation, ops
from ...errors import DTypeError, ShapeError
from ...ops import where
from ...tensor import Tensor
from ._activation import _log1p_exp
from ._distance import pairwise_distance
from ._loss import _legacy, _reduce

_REDUCTIONS = ("none", "mean", "sum")


def _reduction(size_average, reduce, reduction: str, name: str) -> str:
    """The reduction the legacy flags (when given) or ``reduction`` name, checked up front."""
    reduction = _legacy(size_average, reduce, reduction)
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{name}: {reduction!r} is not a valid value for reduction "
                         f"(expected 'none', 'mean' or 'sum')")
    return reduction


def margin_ranking_loss(input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0.0,
                        size_average=None, reduce=None, reduction: str = "mean") -> Tensor:
    """max(0, -y (x1 - x2) + margin), y in {1, -1} saying which input should rank higher.

    Shape:
        input1, input2, target: (N,) or () (all of one ndim; broadcast); output as reduced.
    """
    reduction = _reduction(size_average, reduce, reduction, "margin_ranking_loss")
    if not input1.ndim == input2.ndim == target.ndim:
        raise ShapeError(f"margin_ranking_loss : All input tensors should have same dimension "
                         f"but got sizes: input1: {tuple(input1.shape)}, input2: "
                         f"{tuple(input2.shape)}, target: {tuple(target.shape)}")
    loss = (-target * (input1 - input2) + margin).clamp(min=0)
    return _reduce(loss, reduction, "margin_ranking_loss")


def hinge_embedding_loss(input: Tensor, target: Tensor, margin: float = 1.0,
                         size_average=None, reduce=None, reduction: str = "mean") -> Tensor:
    """x where y = 1, max(0, margin - x) where y = -1 (both terms for any other y, as PyTorch).

    Shape:
        input (*), target broadcastable with input; output as reduced.
    """
    reduction = _reduction(size_average, reduce, reduction, "hinge_embedding_loss")
    margin_term = where(target != 1, (margin - input).clamp(min=0), 0.0)
    self_term = where(target != -1, input, 0.0)
    return _reduce(margin_term + self_term, reduction, "hinge_embedding_loss")


def cosine_embedding_loss(input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0.0,
                          size_average=None, reduce=None, reduction: str = "mean") -> Tensor:
    """1 - cos(x1, x2) where y = 1, max(0, cos(x1, x2) - margin) where y = -1, 0 otherwise;
    cos = x1.x2 / sqrt((|x1|^2 + 1e-12)(|x2|^2 + 1e-12)).

    Shape:
        input1, input2 (N, D) with target (N,), or (D,) with target (); output (N,) or ().
    """
    reduction = _reduction(size_average, reduce, reduction, "cosine_embedding_loss")
    dim = target.ndim
    if dim not in (0, 1):
        raise ShapeError("cosine_embedding_loss: 0D or 1D target tensor expected, multi-target "
                         f"not supported, got target of shape {tuple(target.shape)}")
    if not input1.ndim == input2.ndim == dim + 1:
        raise ShapeError(f"cosine_embedding_loss: {dim}D target tensor expects {dim + 1}D input "
                         f"tensors, but found inputs with sizes {tuple(input1.shape)} and "
                         f"{tuple(input2.shape)}.")
    eps = 1e-12  # PyTorch's EPSILON
    prod = (input1 * input2).sum(dim)
    mag1 = (input1 * input1).sum(dim) + eps
    mag2 = (input2 * input2).sum(dim) + eps
    cos = prod / (mag1 * mag2).sqrt()
    pos = where(target == 1, 1 - cos, 0.0)
    neg = where(target == -1, (cos - margin).clamp(min=0), 0.0)
    return _reduce(pos + neg, reduction, "cosine_embedding_loss")


def triplet_margin_loss(anchor: Tensor, positive: Tensor, negative: Tensor, margin: float = 1.0,
                        p: float = 2, eps: float = 1e-6, swap: bool = False, size_average=None,
                        reduce=None, reduction: str = "mean") -> Tensor:
    """max(0, d(a, p) - d(a, n) + margin) with d the pairwise p-norm distance; ``swap`` uses
    min(d(a, n), d(p, n)) as the negative distance.

    Shape:
        anchor, positive, negative (N, D) or (D,) (one ndim); output (N,) or () as reduced.
    """
    reduction = _reduction(size_average, reduce, reduction, "triplet_margin_loss")
    if margin <= 0:
        raise ValueError(f"triplet_margin_loss: margin must be greater than 0, got {margin}")
    if not anchor.ndim == positive.ndim == negative.ndim:
        raise ShapeError(f"The anchor, positive, and negative tensors are expected to have the "
                         f"same number of dimensions, but got: anchor {anchor.ndim}D, positive "
                         f"{positive.ndim}D, and negative {negative.ndim}D inputs")
    dist_pos = pairwise_distance(anchor, positive, p, eps)
    dist_neg = pairwise_distance(anchor, negative, p, eps)
    if swap:
        dist_neg = ops.minimum(dist_neg, pairwise_distance(positive, negative, p, eps))
    loss = (dist_pos + margin - dist_neg).clamp(min=0)
    return _reduce(loss, reduction, "triplet_margin_loss")


def poisson_nll_loss(input: Tensor, target: Tensor, log_input: bool = True, full: bool = False,
                     size_average=None, eps: float = 1e-8, reduce=None,
                     reduction: str = "mean") -> Tensor:
    """exp(x) - t x (log_input) or x - t log(x + eps); ``full`` adds the Stirling term
    t log t - t + 0.5 log(2 pi t) where t > 1.

    Shape:
        input (*), target broadcastable with input; output as reduced.
    """
    reduction = _reduction(size_average, reduce, reduction, "poisson_nll_loss")
    if log_input:
        loss = input.exp() - target * input
    else:
        loss = input - target * (input + eps).log()
    if full:
        big = target > 1
        t = where(big, target, 2.0)  # (the term is masked where t <= 1: no log(0) there)
        stirling = t * t.log() - t + (t * (2 * math.pi)).log() * 0.5
        loss = loss + where(big, stirling, 0.0)
    return _reduce(loss, reduction, "poisson_nll_loss")


def _gaussian_var(var, input: Tensor) -> Tensor:
    """``var`` as a tensor broadcastable with ``input`` under PyTorch's rules, or an error."""
    if not isinstance(var, Tensor):
        if var < 0:
            raise ValueError("gaussian_nll_loss: var has negative entry/entries")
        return input.new_full(tuple(input.shape), float(var))
    if var.numel() and bool((var < 0).any()):  # (a sync on a GPU, as PyTorch's check)
        raise ValueError("gaussian_nll_loss: var has negative entry/entries")
    vs, xs = tuple(var.shape), tuple(input.shape)
    if vs == xs:
        return var
    if vs == xs[:-1]:  # homoscedastic: one variance per sample
        return var.unsqueeze(-1)
    if len(vs) == len(xs) and sum(v for x, v in zip(xs, vs) if x != v) == 1:
        return var  # one dimension of size 1 broadcasts
    raise ShapeError(f"gaussian_nll_loss: var is of incorrect size: var of shape {vs} for input "
                     f"of shape {xs}")


def gaussian_nll_loss(input: Tensor, target: Tensor, var: Tensor | float, full: bool = False,
                      eps: float = 1e-6, reduction: str = "mean") -> Tensor:
    """0.5 (log max(var, eps) + (input - target)^2 / max(var, eps)) (+ 0.5 log(2 pi) if full);
    the clamp at eps passes the gradient through unchanged, as PyTorch's no-grad clamp.

    Shape:
        input (N, *) or (*); target like input; var like input, or with one dimension of size
        1, or input's shape without its last dimension, or a float; output as reduced.
    """
    var = _gaussian_var(var, input)
    if reduction not in _REDUCTIONS:
        raise ValueError(f"gaussian_nll_loss: {reduction!r} is not valid (expected 'none', "
                         f"'mean' or 'sum')")
    # value max(var, eps), gradient 1 everywhere: v - v.detach() is an exact zero that carries it
    var = where(var < eps, var - var.detach() + eps, var)
    loss = (var.log() + (input - target) ** 2 / var) * 0.5
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _reduce(loss, reduction, "gaussian_nll_loss")


def soft_margin_loss(input: Tensor, target: Tensor, size_average=None, reduce=None,
                     reduction: str = "mean") -> Tensor:
    """log(1 + exp(-y x)), computed as softplus(-y x) (no overflow for large margins).

    Shape:
        input (*), target broadcastable with input; output as reduced.
    """
    reduction = _reduction(size_average, reduce, reduction, "soft_margin_loss")
    return _reduce(_log1p_exp(-input * target), reduction, "soft_margin_loss")


def multilabel_soft_margin_loss(input: Tensor, target: Tensor, weight: Tensor | None = None,
                                size_average=None, reduce=None,
                                reduction: str = "mean") -> Tensor:
    """-mean_c w_c (y_c log sigmoid(x_c) + (1 - y_c) log sigmoid(-x_c)) per sample.

    Shape:
        input (N, C) or (C,); target like input; weight (C,); output (N,) or () as reduced.
    """
    reduction = _reduction(size_average, reduce, reduction, "multilabel_soft_margin_loss")
    loss = target * _log1p_exp(-input) + (1 - target) * _log1p_exp(input)  # -log sigmoid
    if weight is not None:
        loss = loss * weight
    classes = input.shape[-1] if input.ndim else 1
    loss = loss.sum(-1) / classes if input.ndim else loss
    return _reduce(loss, reduction, "multilabel_soft_margin_loss")


def _multi_margin_check(input: Tensor, target: Tensor, weight: Tensor | None, p: int):
    if p not in (1, 2):
        raise ValueError(f"multi_margin_loss: only p == 1 and p == 2 supported, got p={p}")
    if weight is not None and weight.ndim != 1:
        raise ValueError(f"multi_margin_loss: weight must be one-dimensional, got shape "
                         f"{tuple(weight.shape)}")
    if input.ndim > 2 or (input.ndim >= 1 and input.shape[-1] == 0):
        raise ShapeError(f"multi_margin_loss: Expected non-empty vector or matrix with optional "
                         f"0-dim batch size, but got: {tuple(input.shape)}")
    if target.is_floating_point():
        raise DTypeError(f"multi_margin_loss: expected integer class indices as target, got "
                         f"{target.dtype.name}")
    frames = input.shape[0] if input.ndim == 2 else 1
    if target.ndim > 1 or target.numel() != frames:
        raise ShapeError(f"multi_margin_loss: target tensor should be 1-D with size equal to the "
                         f"number of input samples (batch size). Expected target size "
                         f"({frames},), but got {tuple(target.shape)}. Input has shape "
                         f"{tuple(input.shape)}.")
    classes = input.shape[-1] if input.ndim else 1
    if weight is not None and weight.numel() != classes:
        raise ShapeError(f"multi_margin_loss: inconsistent weight size, expected {classes} but "
                         f"got {tuple(weight.shape)}")
    if target.numel() and bool(((target < 0) | (target >= classes)).any()):  # (a GPU sync)
        raise RuntimeError(f"multi_margin_loss: target out of range: class indices must be in "
                         f"[0, {classes})")


def multi_margin_loss(input: Tensor, target: Tensor, p: int = 1, margin: float = 1.0,
                      weight: Tensor | None = None, size_average=None, reduce=None,
                      reduction: str = "mean") -> Tensor:
    """sum_{i != y} w_y max(0, margin - x_y + x_i)^p / C per sample (p is 1 or 2).

    Shape:
        input (N, C) or (C,) or (); target (N,) or (1,) or () class indices; weight (C,);
        output (N,) (or () for a 0-D target) as reduced.
    """
    reduction = _reduction(size_average, reduce, reduction, "multi_margin_loss")
    _multi_margin_check(input, target, weight, p)
    x = input.reshape(-1, input.shape[-1] if input.ndim else 1)
    y = target.reshape(-1, 1)
    z = (margin - x.gather(1, y)) + x
    is_target = creation.arange(x.shape[1], device=x.device).reshape(1, -1) == y
    hinge = where(is_target | (z <= 0), 0.0, z)  # PyTorch counts z > 0 only (0 grad at z = 0)
    if p == 2:
        hinge = hinge * hinge
    loss = hinge.sum(1) / x.shape[1]
    if weight is not None:
        loss = loss * weight[target.reshape(-1)]
    if reduction == "none" and target.ndim == 0:
        loss = loss.reshape(())
    return _reduce(loss, reduction, "multi_margin_loss")
