"""Connectionist temporal classification loss (Graves et al. 2006), as PyTorch's ``ctc_loss``.

The forward runs the log-space alpha recursion over time, vectorised over the batch and the
extended label sequence (blanks between the labels); the backward the beta recursion, and
the gradient PyTorch's kernel returns: ``exp(log_probs) - posterior``, the gradient with
respect to the logits of a log_softmax (the two agree once they pass through it, since the
posterior sums to 1 at each step). Steps past a sequence's input length get no gradient.
"""

from __future__ import annotations

import numpy as np

from ...autograd.function import Function
from ...errors import DTypeError, ShapeError
from ...tensor import Tensor

_NEG = -np.inf


def ctc_loss(log_probs: Tensor, targets, input_lengths, target_lengths, blank: int = 0,
             reduction: str = "mean", zero_infinity: bool = False) -> Tensor:
    """The CTC loss of ``log_probs`` (T, N, C) or (T, C) against ``targets`` (N, S) padded or
    1-D concatenated, for each sequence's input and target length. ``reduction="mean"``
    divides each loss by its target length, then averages over the batch."""
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"ctc_loss: {reduction!r} is not a valid value for reduction")
    if not log_probs.is_floating_point():
        raise DTypeError(f"ctc_loss: log_probs must be floating point, got "
                         f"{log_probs.dtype.name}")
    unbatched = log_probs.ndim == 2
    lp = log_probs.unsqueeze(1) if unbatched else log_probs
    if lp.ndim != 3:
        raise ShapeError(f"ctc_loss: log_probs must be (T, N, C) or (T, C), got shape "
                         f"{tuple(log_probs.shape)}")
    t_max, n, c = lp.shape
    if not 0 <= blank < c:
        raise RuntimeError(f"ctc_loss: blank must be in the label range [0, {c}), got {blank}")
    in_len = _lengths(input_lengths, n, "input_lengths")
    tg_len = _lengths(target_lengths, n, "target_lengths")
    if (in_len > t_max).any() or (in_len < 0).any():
        raise ValueError(f"ctc_loss: input_lengths must be in [0, {t_max}] (T), got "
                         f"{in_len.tolist()}")
    labels = _padded_targets(targets, tg_len, n, unbatched)
    if labels.size and (labels.min() < 0 or labels.max() >= c):
        raise IndexError(f"ctc_loss: target labels must be in [0, {c}), got "
                         f"[{labels.min()}, {labels.max()}]")
    loss = _CTC.apply(lp, labels, in_len, tg_len, blank, zero_infinity)
    if reduction == "mean":
        div = Tensor._make(lp._dev.backend.asarray(np.maximum(tg_len, 1).astype(lp.dtype.np)),
                           lp._dev, False, None)
        return (loss / div).mean()
    if reduction == "sum":
        return loss.sum()
    return loss.squeeze(0) if unbatched else loss


def _lengths(v, n: int, name: str) -> np.ndarray:
    arr = np.asarray(v.detach().cpu().numpy() if isinstance(v, Tensor) else v).reshape(-1)
    if arr.dtype.kind not in "iu" or arr.shape != (n,):
        raise ValueError(f"ctc_loss: {name} must hold {n} integers (one per sequence), got "
                         f"{arr.dtype} of shape {arr.shape}")
    return arr.astype(np.int64)


def _padded_targets(targets, tg_len: np.ndarray, n: int, unbatched: bool) -> np.ndarray:
    """The targets as an (N, S_max) int64 array (a 1-D concatenation is split by length)."""
    t = np.asarray(targets.detach().cpu().numpy() if isinstance(targets, Tensor) else targets)
    if t.dtype.kind not in "iu":
        raise DTypeError(f"ctc_loss: targets must be integers, got {t.dtype}")
    if unbatched and t.ndim == 1 and n == 1 and tg_len[0] <= t.shape[0]:
        t = t[None]
    if t.ndim == 1:
        if tg_len.sum() != t.shape[0]:
            raise ShapeError(f"ctc_loss: concatenated targets hold {t.shape[0]} labels, but "
                             f"target_lengths sum to {int(tg_len.sum())}")
        out = np.zeros((n, int(tg_len.max(initial=0))), np.int64)
        for i, start in enumerate(np.concatenate([[0], np.cumsum(tg_len)[:-1]])):
            out[i, :tg_len[i]] = t[start:start + tg_len[i]]
        return out
    if t.ndim != 2 or t.shape[0] != n or (tg_len > t.shape[1]).any():
        raise ShapeError(f"ctc_loss: targets must be (N={n}, S) with S >= every target "
                         f"length, got shape {t.shape} for lengths {tg_len.tolist()}")
    return np.where(np.arange(t.shape[1]) < tg_len[:, None], t, 0).astype(np.int64)


def _logsumexp(*xs):
    m = np.maximum.reduce(xs)
    safe = np.where(np.isfinite(m), m, 0.0)
    with np.errstate(divide="ignore"):
        return safe + np.log(sum(np.exp(x - safe) for x in xs))


def _shift(a, k: int):
    """a shifted right by k along the last axis, -inf filled."""
    out = np.full_like(a, _NEG)
    out[..., k:] = a[..., :a.shape[-1] - k]
    return out


class _CTC(Function):
    """Per-sequence negative log-likelihood; backward as described in the module docstring."""

    @staticmethod
    def forward(ctx, lp, labels, in_len, tg_len, blank, zero_infinity):
        be = lp._dev.backend
        logp = np.asarray(be.to_numpy(lp._data), dtype=np.float64)  # (T, N, C)
        t_max, n, _ = logp.shape
        ext = np.full((n, 2 * labels.shape[1] + 1), blank, np.int64)  # blank, l1, blank, ...
        ext[:, 1::2] = labels
        valid = np.arange(ext.shape[1]) < (2 * tg_len + 1)[:, None]
        skip = np.zeros(ext.shape, bool)  # s - 2 -> s allowed: a label unlike the one before
        skip[:, 2:] = (ext[:, 2:] != blank) & (ext[:, 2:] != ext[:, :-2])
        rows = np.arange(n)[:, None]
        emit = np.where(valid, logp[:, rows, ext], _NEG)  # (T, N, L)
        alpha = np.full(emit.shape, _NEG)
        if t_max:
            alpha[0, :, :2] = emit[0, :, :2]
        for t in range(1, t_max):
            a = alpha[t - 1]
            step = _logsumexp(a, _shift(a, 1), np.where(skip, _shift(a, 2), _NEG)) + emit[t]
            alpha[t] = np.where((t < in_len)[:, None], step, a)
        last = np.clip(in_len - 1, 0, None)
        ends = np.stack([2 * tg_len, np.maximum(2 * tg_len - 1, 0)], 1)
        fin = alpha[last[:, None], rows, ends] if t_max else np.full((n, 2), _NEG)
        fin[:, 1] = np.where(tg_len > 0, fin[:, 1], _NEG)
        nll = -_logsumexp(fin[:, 0], fin[:, 1])
        nll = np.where(in_len == 0, np.where(tg_len == 0, 0.0, np.inf), nll)
        ctx.state = (logp, ext, emit, alpha, skip, in_len, tg_len, nll, zero_infinity)
        if zero_infinity:
            nll = np.where(np.isinf(nll), 0.0, nll)
        return Tensor._make(be.asarray(nll.astype(lp.dtype.np)), lp._dev, False, None)

    @staticmethod
    def backward(ctx, g):
        logp, ext, emit, alpha, skip, in_len, tg_len, nll, zero_inf = ctx.state
        t_max, n, c = logp.shape
        rows = np.arange(n)[:, None]
        beta = np.full(emit.shape, _NEG)
        skip_next = np.zeros(skip.shape, bool)  # s -> s + 2 allowed
        skip_next[:, :-2] = skip[:, 2:]
        start = np.full(emit.shape[1:], _NEG)  # beta at each sequence's last step, less emit
        start[rows, np.stack([2 * tg_len, np.maximum(2 * tg_len - 1, 0)], 1)] = 0.0
        for t in range(t_max - 1, -1, -1):
            nxt = start
            if t + 1 < t_max:
                b = beta[t + 1]
                nxt = _logsumexp(b, _shift_left(b, 1),
                                 np.where(skip_next, _shift_left(b, 2), _NEG))
            first = (t == in_len - 1)[:, None]
            beta[t] = np.where(t < in_len[:, None], np.where(first, start, nxt) + emit[t], _NEG)
        with np.errstate(invalid="ignore", over="ignore"):
            post = np.exp(alpha + beta - emit + nll[None, :, None])  # (T, N, L)
        grad = np.exp(logp)
        np.subtract.at(grad, (np.arange(t_max)[:, None, None], rows[None], ext[None]),
                       np.where(np.isfinite(post), post, 0.0))
        grad *= np.asarray(g._dev.backend.to_numpy(g._data), dtype=np.float64).reshape(1, n, 1)
        grad[:, np.isinf(nll)] = 0.0 if zero_inf else np.nan  # impossible: NaN, as PyTorch
        grad[np.arange(t_max)[:, None] >= in_len[None]] = 0.0
        return (Tensor._make(g._dev.backend.asarray(grad.astype(g.dtype.np)), g._dev, False,
                             None), None, None, None, None, None)


def _shift_left(a, k: int):
    out = np.full_like(a, _NEG)
    out[..., :a.shape[-1] - k] = a[..., k:]
    return out
