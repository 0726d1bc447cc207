"""nn.functional distances: pairwise_distance (row-wise p-norm of a difference) and pdist (the
p-norm between every pair of rows), with PyTorch's gradients at zero distance (0, not NaN)."""

from __future__ import annotations

import math

import numpy as np

from ... import creation
from ...errors import ShapeError
from ...ops import where
from ...tensor import Tensor


def _vector_norm(d: Tensor, p: float, dim: int, keepdim: bool = False) -> Tensor:
    """||d||_p over ``dim``; where the norm is 0 its gradient is 0 (PyTorch's convention)."""
    if p == 0:  # the count of non-zeros, differentiable with a zero gradient (as PyTorch)
        return d.sign().abs().sum(dim, keepdim)
    if p == 2 or p == 1 or math.isinf(p):
        return d.norm(p, dim, keepdim)
    total = (d.abs() ** p).sum(dim, keepdim)
    zero = total == 0
    return where(zero, 0.0, where(zero, 1.0, total) ** (1.0 / p))


def pairwise_distance(x1: Tensor, x2: Tensor, p: float = 2.0, eps: float = 1e-6,
                      keepdim: bool = False) -> Tensor:
    """||x1 - x2 + eps||_p over the last dimension (x1 and x2 broadcast).

    Args:
        x1, x2: (N, D) or (D,) (broadcastable); p: the norm degree; eps: added to the
        difference to avoid a zero norm; keepdim: keep the reduced dimension.
    Shape:
        input (N, D) or (D,), output (N,) or () (with keepdim, (N, 1) or (1,)).
    Example:
        >>> F.pairwise_distance(ad.zeros(2, 3), ad.ones(2, 3))  # [1.7320, 1.7320]
    """
    ndim = max(x1.ndim, x2.ndim)
    d = x1 - x2 + eps
    if ndim == 0:  # PyTorch reduces a scalar over its only (implicit) dimension
        return _vector_norm(d.reshape(1), p, 0, keepdim)
    return _vector_norm(d, p, ndim - 1, keepdim)


def pdist(input: Tensor, p: float = 2.0) -> Tensor:
    """||x_i - x_j||_p for every pair of rows i < j, in row-major order of (i, j).

    Shape:
        input (N, M), output (N (N - 1) / 2,).
    Example:
        >>> F.pdist(ad.tensor([[0.0, 0.0], [3.0, 4.0], [0.0, 1.0]]))  # [5.0, 1.0, 4.2426]
    """
    if input.ndim != 2:
        raise ShapeError(f"pdist only supports 2D tensors, got: {input.ndim}D")
    if p < 0:
        raise RuntimeError(f"pdist only supports non-negative p values, got {p}")
    n = input.shape[0]
    rows, cols = np.triu_indices(n, 1)
    i = creation.tensor(rows.astype(np.int64), device=input.device)
    j = creation.tensor(cols.astype(np.int64), device=input.device)
    return _vector_norm(input[i] - input[j], p, 1)
