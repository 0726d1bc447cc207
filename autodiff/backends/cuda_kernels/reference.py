"""``xp`` reference implementations of the fused kernels NumpyBackend has no method for
(cross-entropy from logits): the CuPy backend's fallback for other dtypes, the oracle of its
tests, and ready to be lifted into NumpyBackend when the nn ops call them on every device.

``b`` is a backend (its ``xp`` and ``logsumexp`` are used).
"""

from __future__ import annotations

import numpy as np


def cross_entropy(b, logits, target, ignore_index=-100):
    """(loss, lse) per row of (N, C) logits against int targets (N,): loss = lse - x[t],
    0 where t == ignore_index, NaN where t is out of range; lse = logsumexp over C."""
    xp = b.xp
    c = logits.shape[-1]
    lse = b.logsumexp(logits, -1, False)
    t = target.astype(np.int64)
    valid = t != ignore_index
    inrange = (t >= 0) & (t < c)
    safe = xp.where(valid & inrange, t, 0)
    picked = xp.take_along_axis(logits, safe[..., None], axis=-1)[..., 0]
    nan = logits.dtype.type(np.nan)
    loss = xp.where(valid, xp.where(inrange, lse - picked, nan), logits.dtype.type(0))
    return loss.astype(logits.dtype, copy=False), lse


def cross_entropy_backward(b, logits, target, lse, gloss, ignore_index=-100):
    """d(sum gloss * loss)/d logits = gloss[r] * (softmax(x_r) - onehot(t_r)); 0 if ignored."""
    xp = b.xp
    t = target.astype(np.int64)
    valid = t != ignore_index
    p = xp.exp(logits - lse[..., None])
    onehot = xp.arange(logits.shape[-1]) == t[..., None]
    g = xp.where(valid, xp.asarray(gloss, dtype=logits.dtype), logits.dtype.type(0))
    return (g[..., None] * (p - onehot.astype(logits.dtype))).astype(logits.dtype, copy=False)
