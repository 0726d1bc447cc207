"""Odds and ends of ``nn.functional``: dropout3d, gumbel_softmax, embedding_bag and
multilabel_margin_loss. Each is a composite of differentiable ops (indexing, gather, matmul,
where), so gradients and double backward come for free; index bookkeeping that depends only
on integer inputs (bags, target lists) is done once in NumPy on the host.
"""

from __future__ import annotations

import numpy as np

from ... import creation, ops
from ...errors import DTypeError, ShapeError
from ...random import _generator
from ...tensor import Tensor
from ._basic import _channel_dropout, _renorm_rows
from ._loss import _reduce
from ._loss_extra import _reduction


def dropout3d(input: Tensor, p: float = 0.5, training: bool = True,
              inplace: bool = False) -> Tensor:
    """Zero whole channels of (N, C, D, H, W) or (C, D, H, W) with probability p (the kept
    ones scaled by 1/(1-p)); the identity when not training."""
    return _channel_dropout(input, p, training, inplace, 3, "dropout3d")


def _host(t: Tensor) -> np.ndarray:
    return np.asarray(t.detach().cpu().numpy())


# ----------------------------------------------------------------------------- gumbel softmax
def gumbel_softmax(logits: Tensor, tau: float = 1.0, hard: bool = False, eps: float = 1e-10,
                   dim: int = -1) -> Tensor:
    """A sample of the Gumbel-softmax (concrete) distribution:
    softmax((logits + g) / tau) with g = -log(Exponential(1)) noise drawn from the default
    generator (``ad.manual_seed`` makes it reproducible).

    Args:
        logits: (*, num_features) unnormalized log-probabilities; tau: temperature (> 0);
        hard: return one-hot vectors whose gradient is the soft sample's (straight-through);
        eps: unused, kept for PyTorch's signature; dim: the dimension of the categories.

    Returns:
        Tensor of the logits' shape: rows summing to 1 (one-hot when ``hard``).

    Example:
        >>> F.gumbel_softmax(ad.randn(4, 5), tau=0.5, hard=True).sum(-1)
        tensor([1., 1., 1., 1.])
    """
    if not logits.is_floating_point():
        raise DTypeError(f"gumbel_softmax: expected floating logits, got {logits.dtype.name}")
    noise = _generator(None).exponential(size=tuple(logits.shape))
    gumbels = -creation.tensor(noise, dtype=logits.dtype, device=logits.device).log()
    y_soft = ops.softmax((logits + gumbels) / tau, dim)
    if not hard:
        return y_soft
    d = dim % logits.ndim
    index = y_soft.detach().argmax(d, keepdim=True)
    shape = [1] * logits.ndim
    shape[d] = logits.shape[d]
    classes = creation.arange(logits.shape[d], device=logits.device).reshape(*shape)
    y_hard = (classes == index).to(logits.dtype)
    return y_hard - y_soft.detach() + y_soft


# ----------------------------------------------------------------------------- embedding bag
def _bags(input: Tensor, offsets, include_last_offset: bool) -> tuple:
    """(flat indices, bag id per index, number of bags) of a 2-D input or a 1-D input with
    offsets."""
    idx = _host(input)
    if input.ndim == 2:
        if offsets is not None:
            raise ValueError("embedding_bag: if input is 2D, then offsets has to be None, as "
                             "input is treated is a mini-batch of fixed length sequences")
        b, length = idx.shape
        return idx.reshape(-1), np.repeat(np.arange(b), length), b
    if input.ndim != 1:
        raise ShapeError(f"embedding_bag: input has to be 1D or 2D Tensor, but got Tensor of "
                         f"dimension {input.ndim}")
    if offsets is None:
        raise ValueError("embedding_bag: offsets has to be a 1D Tensor but got None")
    if offsets.ndim != 1:
        raise ValueError(f"embedding_bag: offsets has to be a 1D Tensor, got shape "
                         f"{tuple(offsets.shape)}")
    off = _host(offsets).astype(np.int64)
    m = idx.shape[0]
    if off.size and off[0] != 0:
        raise ValueError(f"embedding_bag: offsets[0] has to be 0, i.e., the first sequence in "
                         f"the mini-batch has to start from position 0. However, got {off[0]}")
    if include_last_offset:
        starts, ends = off[:-1], off[1:]
    else:
        starts, ends = off, np.append(off[1:], m)
    if np.any(ends < starts) or (ends.size and ends[-1] > m):
        raise ValueError(f"embedding_bag: offsets must be non-decreasing and at most the input "
                         f"length {m}, got {off.tolist()}")
    bag = np.repeat(np.arange(starts.size), ends - starts)
    return idx[:ends[-1] if ends.size else 0], bag, starts.size


def embedding_bag(input: Tensor, weight: Tensor, offsets: Tensor | None = None, max_norm=None,
                  norm_type: float = 2, scale_grad_by_freq: bool = False, mode: str = "mean",
                  sparse: bool = False, per_sample_weights: Tensor | None = None,
                  include_last_offset: bool = False, padding_idx: int | None = None) -> Tensor:
    """Sums, means or maxes of bags of embedding rows, without materializing each lookup per
    bag position. Entries equal to ``padding_idx`` are left out of their bag (and of a mean's
    count); an empty bag gives zeros.

    Args:
        input: (B, L) indices (B bags of length L) or (M,) indices cut into bags by
            ``offsets`` (B,) (bag i starts at offsets[i]; with ``include_last_offset`` offsets
            has B + 1 entries, the last one the end of the last bag).
        weight: (num_embeddings, embedding_dim); max_norm / norm_type: renormalize looked-up
            rows in place, as ``embedding``; mode: "sum", "mean" or "max";
        per_sample_weights: input-shaped weights scaling each row (mode "sum" only).

    Returns:
        Tensor (B, embedding_dim).

    Example:
        >>> F.embedding_bag(ad.tensor([1, 2, 4, 5, 4]), ad.randn(10, 3),
        ...                 ad.tensor([0, 2]), mode="sum").shape
        (2, 3)
    """
    if mode not in ("sum", "mean", "max"):
        raise ValueError(f"embedding_bag: mode has to be one of sum, mean or max, got {mode!r}")
    if input.is_floating_point():
        raise DTypeError(f"embedding_bag: expected integer indices, got {input.dtype.name}")
    if weight.ndim != 2:
        raise ShapeError(f"embedding_bag: weight has to be a 2D Tensor, but got Tensor of "
                         f"dimension {weight.ndim}")
    if per_sample_weights is not None:
        if mode != "sum":
            raise NotImplementedError(f"embedding_bag: per_sample_weights was not None. "
                                      f"per_sample_weights is only supported for mode='sum' "
                                      f"(got mode='{mode}'). Please open a feature request "
                                      f"on GitHub.")
        if tuple(per_sample_weights.shape) != tuple(input.shape):
            raise ValueError(f"embedding_bag: per_sample_weights has to be of the input's "
                             f"shape {tuple(input.shape)}, got {tuple(per_sample_weights.shape)}")
    flat, bag, nbags = _bags(input, offsets, include_last_offset)
    num = weight.shape[0]
    if flat.size and (flat.min() < 0 or flat.max() >= num):
        raise IndexError(f"embedding_bag: index out of range: indices must be in [0, {num}), "
                         f"got values in [{flat.min()}, {flat.max()}]")
    if padding_idx is not None and padding_idx < 0:
        padding_idx += num
    if max_norm is not None:
        _renorm_rows(input, weight, max_norm, norm_type)
    keep = np.nonzero(flat != padding_idx)[0] if padding_idx is not None else \
        np.arange(flat.size)
    ids, bag = flat[keep], bag[keep]
    dim, dev = weight.shape[1], weight.device
    rows = weight[creation.tensor(ids, dtype=input.dtype, device=dev)]  # (K, E)
    if per_sample_weights is not None:
        psw = per_sample_weights.reshape(-1)[creation.tensor(keep, device=dev)]
        rows = rows * psw.unsqueeze(-1)
    counts = np.bincount(bag, minlength=nbags).astype(np.float64)
    if mode == "max":
        return _bag_max(rows, bag, counts, nbags, dim)
    member = np.zeros((nbags, ids.size))
    member[bag, np.arange(ids.size)] = 1.0
    if mode == "mean":
        member /= np.maximum(counts, 1.0)[:, None]
    return creation.tensor(member, dtype=weight.dtype, device=dev) @ rows


def _bag_max(rows: Tensor, bag: np.ndarray, counts: np.ndarray, nbags: int, dim: int):
    """Elementwise max of each bag's rows (zeros for an empty bag), the gradient to the first
    row holding the max."""
    width = max(int(counts.max()) if counts.size else 0, 1)
    table = np.full((nbags, width), rows.shape[0], dtype=np.int64)  # -inf row by default
    start = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)
    order = np.argsort(bag, kind="stable")
    table[bag[order], np.arange(bag.size) - start[bag[order]]] = order
    fill = creation.full((1, dim), -np.inf, dtype=rows.dtype, device=rows.device)
    ext = ops.cat([rows, fill], 0)
    vals = ext[creation.tensor(table, device=rows.device)]  # (B, width, E)
    arg = vals.detach().argmax(1, keepdim=True)
    y = vals.gather(1, arg).squeeze(1)
    nonempty = creation.tensor((counts > 0)[:, None], device=rows.device)
    return ops.where(nonempty, y, 0.0)


# ----------------------------------------------------------------------------- multilabel margin
def multilabel_margin_loss(input: Tensor, target: Tensor, size_average=None, reduce=None,
                           reduction: str = "mean") -> Tensor:
    """Multi-class multi-label hinge loss: per sample,
    sum over target labels j and non-target classes i of max(0, 1 - (x[j] - x[i])) / C.
    Each target row lists class indices and ends at its first -1.

    Args:
        input: (N, C) or (C,) scores; target: int64 of the input's shape.
        reduction: "none" | "mean" | "sum".

    Returns:
        Scalar, or (N,) (() for a 1-D input) with reduction "none".

    Example:
        >>> F.multilabel_margin_loss(ad.tensor([[0.1, 0.2, 0.4, 0.8]]),
        ...                          ad.tensor([[3, 0, -1, 1]]))
        tensor(0.85)
    """
    reduction = _reduction(size_average, reduce, reduction, "multilabel_margin_loss")
    if input.ndim not in (1, 2) or tuple(target.shape) != tuple(input.shape):
        raise ShapeError(f"multilabel_margin_loss: expected a 1-D or 2-D input and a target "
                         f"of its shape, got {tuple(input.shape)} and {tuple(target.shape)}")
    if target.is_floating_point():
        raise DTypeError(f"multilabel_margin_loss: expected an integer target, got "
                         f"{target.dtype.name}")
    x = input.reshape(-1, input.shape[-1])
    c = x.shape[1]
    t = _host(target).reshape(-1, c).astype(np.int64)
    valid = np.cumprod(t >= 0, axis=1).astype(bool)  # positions before the first -1
    if np.any(valid & (t >= c)):
        raise IndexError(f"multilabel_margin_loss: target index out of range [0, {c})")
    labels = np.where(valid, t, 0)
    is_target = np.zeros((t.shape[0], c), dtype=bool)
    rows = np.nonzero(valid)
    is_target[rows[0], labels[rows]] = True
    dev = x.device
    xt = x.gather(1, creation.tensor(labels, device=dev))  # (N, C) target-label scores
    z = 1.0 - xt.unsqueeze(2) + x.unsqueeze(1)  # (N, positions, classes)
    mask = valid[:, :, None] & ~is_target[:, None, :]
    mask = creation.tensor(mask, device=dev) & (z > 0)  # z > 0 only, as PyTorch
    loss = ops.where(mask, z, 0.0).sum((1, 2)) / c
    if input.ndim == 1:
        loss = loss.reshape(())
    return _reduce(loss, reduction, "multilabel_margin_loss")
