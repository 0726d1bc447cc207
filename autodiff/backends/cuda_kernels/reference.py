"""``xp`` reference implementations of the fused kernels NumpyBackend has no method for
(cross-entropy from logits): the CuPy backend's fallback for other dtypes, the oracle of its
tests, and ready to be lifted into NumpyBackend when the nn ops call them on every device.

``b`` is a backend (its ``xp`` is used).
"""

from __future__ import annotations

import numpy as np


def cross_entropy(b, logits, target, ignore_index=-100):
    """(loss, stats) per row of (N, C) logits against int targets (N,): loss = lse - x[t],
    0 where t == ignore_index, NaN where t is out of range; stats (N, 2) = (m, l), the row max
    (0 where not finite) and l = log(sum(exp(x - m))), kept apart as lse = m + l rounded
    loses l once |m| dwarfs it."""
    xp = b.xp
    c = logits.shape[-1]
    m = logits.max(-1) if c else xp.zeros(logits.shape[:-1], logits.dtype)
    m = xp.where(xp.isfinite(m), m, 0).astype(logits.dtype, copy=False)
    ls = xp.log(xp.exp(logits - m[..., None]).sum(-1)).astype(logits.dtype, copy=False)
    t = target.astype(np.int64)
    valid = t != ignore_index
    inrange = (t >= 0) & (t < c)
    safe = xp.where(valid & inrange, t, 0)
    picked = xp.take_along_axis(logits, safe[..., None], axis=-1)[..., 0]
    nan = logits.dtype.type(np.nan)
    loss = xp.where(valid, xp.where(inrange, (m - picked) + ls, nan), logits.dtype.type(0))
    return loss.astype(logits.dtype, copy=False), xp.stack([m, ls], axis=-1)


def cross_entropy_backward(b, logits, target, stats, gloss, ignore_index=-100):
    """d(sum gloss * loss)/d logits = gloss[r] * (softmax(x_r) - onehot(t_r)); 0 if ignored."""
    xp = b.xp
    t = target.astype(np.int64)
    valid = t != ignore_index
    p = xp.exp((logits - stats[..., :1]) - stats[..., 1:])
    onehot = xp.arange(logits.shape[-1]) == t[..., None]
    g = xp.where(valid, xp.asarray(gloss, dtype=logits.dtype), logits.dtype.type(0))
    return (g[..., None] * (p - onehot.astype(logits.dtype))).astype(logits.dtype, copy=False)
