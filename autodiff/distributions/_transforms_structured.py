"""Transforms between vector and matrix spaces (softmax, stick breaking, Cholesky factors)
and the ones that apply transforms to slices (``CatTransform``, ``StackTransform``),
re-exported by ``transforms.py``."""

from __future__ import annotations

import math

import numpy as np

from .. import linalg, ops
from ..creation import as_tensor, eye
from ..nn.functional import logsigmoid, pad, softplus
from ..tensor import Tensor
from . import constraints
from ._transform_base import Transform
from .distribution import lazy_property, sum_rightmost

__all__ = [
    "CatTransform",
    "CorrCholeskyTransform",
    "LowerCholeskyTransform",
    "PositiveDefiniteTransform",
    "SoftmaxTransform",
    "StackTransform",
    "StickBreakingTransform",
    "clipped_sigmoid",
    "tril_matrix_to_vec",
    "vec_to_tril_matrix",
]


def clipped_sigmoid(x: Tensor) -> Tensor:
    """sigmoid(x) clamped to [tiny, 1 - eps] (so its log and log1p(-.) stay finite)."""
    fi = np.finfo(x.dtype.np)
    return x.sigmoid().clamp(float(fi.tiny), 1.0 - float(fi.eps))


def _tril_flat_index(n: int, diag: int) -> np.ndarray:
    rows, cols = np.tril_indices(n, diag)
    return rows * n + cols  # row-major, as torch's boolean-mask order


def vec_to_tril_matrix(vec: Tensor, diag: int = 0) -> Tensor:
    """The (n, n) lower-triangular matrix (below diagonal ``diag``) filled row by row from
    the last dim of ``vec``."""
    m = vec.shape[-1]
    n = round(
        (-(1 + 2 * diag) + math.sqrt((1 + 2 * diag) ** 2 + 8 * m + 4 * abs(diag) * (diag + 1))) / 2
    )
    idx = _tril_flat_index(n, diag)
    if idx.size != m:
        raise ValueError(f"vec_to_tril_matrix: {m} entries do not fill a triangular matrix")
    select = np.zeros((m, n * n))
    select[np.arange(m), idx] = 1.0
    sel = as_tensor(select, dtype=vec.dtype, device=vec.device)
    return (vec @ sel).reshape(tuple(vec.shape[:-1]) + (n, n))


def tril_matrix_to_vec(mat: Tensor, diag: int = 0) -> Tensor:
    """The entries of ``mat`` on and below diagonal ``diag``, row by row."""
    n = mat.shape[-1]
    idx = as_tensor(_tril_flat_index(n, diag), device=mat.device)
    return mat.reshape(tuple(mat.shape[:-2]) + (n * n,)).index_select(-1, idx)


def _diag_embed(d: Tensor) -> Tensor:
    n = d.shape[-1]
    return d.unsqueeze(-1) * eye(n, dtype=d.dtype, device=d.device)


class _Stateless(Transform):
    def __eq__(self, other) -> bool:
        return isinstance(other, type(self))

    __hash__ = Transform.__hash__


class SoftmaxTransform(_Stateless):
    """y = softmax(x) over the last dim (not bijective: the inverse is log y)."""

    domain, codomain = constraints.real_vector, constraints.simplex

    def _call(self, x: Tensor) -> Tensor:
        probs = (x - x.max(-1, True)[0]).exp()
        return probs / probs.sum(-1, True)

    def _inverse(self, y: Tensor) -> Tensor:
        return y.log()

    def forward_shape(self, shape) -> tuple:
        if len(shape) < 1:
            raise ValueError("SoftmaxTransform: too few dimensions on input")
        return tuple(shape)

    inverse_shape = forward_shape


def _stick_offset(x: Tensor) -> Tensor:
    k = x.shape[-1]
    return as_tensor(np.arange(k, 0, -1, dtype=np.float64), dtype=x.dtype, device=x.device).log()


class StickBreakingTransform(_Stateless):
    """R^(K-1) onto the K-simplex by stick breaking (bijective, unlike softmax)."""

    domain, codomain = constraints.real_vector, constraints.simplex
    bijective = True

    def _call(self, x: Tensor) -> Tensor:
        z = clipped_sigmoid(x - _stick_offset(x))
        z_cumprod = (1 - z).cumprod(-1)
        return pad(z, (0, 1), value=1.0) * pad(z_cumprod, (1, 0), value=1.0)

    def _inverse(self, y: Tensor) -> Tensor:
        y_crop = y[..., :-1]
        k = y_crop.shape[-1]
        offset = as_tensor(np.arange(k, 0, -1, dtype=np.float64), dtype=y.dtype, device=y.device)
        sf = (1 - y_crop.cumsum(-1)).clamp(min=float(np.finfo(y.dtype.np).tiny))
        return y_crop.log() - sf.log() + offset.log()

    def log_abs_det_jacobian(self, x: Tensor, y: Tensor) -> Tensor:
        x = x - _stick_offset(x)
        return (-x + logsigmoid(x) + y[..., :-1].log()).sum(-1)

    def forward_shape(self, shape) -> tuple:
        if len(shape) < 1:
            raise ValueError("StickBreakingTransform: too few dimensions on input")
        return tuple(shape[:-1]) + (shape[-1] + 1,)

    def inverse_shape(self, shape) -> tuple:
        if len(shape) < 1:
            raise ValueError("StickBreakingTransform: too few dimensions on input")
        return tuple(shape[:-1]) + (shape[-1] - 1,)


class LowerCholeskyTransform(_Stateless):
    """Unconstrained (n, n) matrices onto lower-triangular ones with a positive diagonal:
    the strict lower part kept, the diagonal exponentiated."""

    domain = constraints.independent(constraints.real, 2)
    codomain = constraints.lower_cholesky

    def _call(self, x: Tensor) -> Tensor:
        return x.tril(-1) + _diag_embed(x.diagonal(0, -2, -1).exp())

    def _inverse(self, y: Tensor) -> Tensor:
        return y.tril(-1) + _diag_embed(y.diagonal(0, -2, -1).log())


class PositiveDefiniteTransform(_Stateless):
    """Unconstrained matrices onto positive-definite ones: L L^T, L = LowerCholesky(x)."""

    domain = constraints.independent(constraints.real, 2)
    codomain = constraints.positive_definite

    def _call(self, x: Tensor) -> Tensor:
        lower = LowerCholeskyTransform()(x)
        return lower @ lower.mT

    def _inverse(self, y: Tensor) -> Tensor:
        return LowerCholeskyTransform().inv(linalg.cholesky(y))


class CorrCholeskyTransform(Transform):
    """R^(D(D-1)/2) onto Cholesky factors of D x D correlation matrices: tanh to (-1, 1),
    then stick breaking along each row (LKJ's parameterization)."""

    domain, codomain = constraints.real_vector, constraints.corr_cholesky
    bijective = True

    def _call(self, x: Tensor) -> Tensor:
        e = float(np.finfo(x.dtype.np).eps)
        x = x.tanh().clamp(-1 + e, 1 - e)
        r = vec_to_tril_matrix(x, diag=-1)
        z1m_cumprod_sqrt = (1 - r * r).sqrt().cumprod(-1)
        r = r + eye(r.shape[-1], dtype=r.dtype, device=r.device)
        return r * pad(z1m_cumprod_sqrt[..., :-1], (1, 0), value=1.0)

    def _inverse(self, y: Tensor) -> Tensor:
        y_cumsum = 1 - (y * y).cumsum(-1)
        shifted = pad(y_cumsum[..., :-1], (1, 0), value=1.0)
        t = tril_matrix_to_vec(y, diag=-1) / tril_matrix_to_vec(shifted, diag=-1).sqrt()
        return (t.log1p() - (-t).log1p()) / 2

    def log_abs_det_jacobian(self, x: Tensor, y: Tensor) -> Tensor:
        y1m_cumsum = 1 - (y * y).cumsum(-1)
        stick = 0.5 * tril_matrix_to_vec(y1m_cumsum, diag=-2).log().sum(-1)
        tanh = -2 * (x + softplus(-2 * x) - math.log(2.0)).sum(-1)
        return stick + tanh

    def forward_shape(self, shape) -> tuple:
        if len(shape) < 1:
            raise ValueError("CorrCholeskyTransform: too few dimensions on input")
        n = shape[-1]
        d = round((0.25 + 2 * n) ** 0.5 + 0.5)
        if d * (d - 1) // 2 != n:
            raise ValueError(f"CorrCholeskyTransform: {n} is not a flattened lower-diagonal size")
        return tuple(shape[:-1]) + (d, d)

    def inverse_shape(self, shape) -> tuple:
        if len(shape) < 2 or shape[-2] != shape[-1]:
            raise ValueError(f"CorrCholeskyTransform: expected square matrices, got {shape}")
        d = shape[-1]
        return tuple(shape[:-2]) + (d * (d - 1) // 2,)


def _check_dim(name: str, t: Tensor, dim: int, size: int) -> None:
    if not -t.ndim <= dim < t.ndim:
        raise ValueError(f"{name}: dim {dim} out of range for a tensor with {t.ndim} dims")
    if t.shape[dim] != size:
        raise ValueError(f"{name}: size {t.shape[dim]} along dim {dim}, expected {size}")


class CatTransform(Transform):
    """Transforms ``tseq`` on consecutive slices of ``lengths`` along ``dim`` (as ``cat``)."""

    def __init__(self, tseq, dim: int = 0, lengths=None, cache_size: int = 0) -> None:
        tseq = list(tseq)
        if not all(isinstance(t, Transform) for t in tseq):
            raise TypeError("CatTransform: every element of tseq must be a Transform")
        if cache_size:
            tseq = [t.with_cache(cache_size) for t in tseq]
        super().__init__(cache_size=cache_size)
        self.transforms = tseq
        self.lengths = [1] * len(tseq) if lengths is None else list(lengths)
        if len(self.lengths) != len(self.transforms):
            raise ValueError(
                f"CatTransform: {len(self.lengths)} lengths for {len(self.transforms)} transforms"
            )
        self.dim = dim

    @lazy_property
    def event_dim(self) -> int:
        return max(t.event_dim for t in self.transforms)

    length = property(lambda self: sum(self.lengths))
    bijective = property(lambda self: all(t.bijective for t in self.transforms))  # type: ignore

    def with_cache(self, cache_size: int = 1) -> Transform:
        if self._cache_size == cache_size:
            return self
        return CatTransform(self.transforms, self.dim, self.lengths, cache_size)

    def _map(self, z: Tensor, fn) -> list:
        _check_dim("CatTransform", z, self.dim, self.length)
        out, start = [], 0
        for t, n in zip(self.transforms, self.lengths):
            out.append(fn(t, z.narrow(self.dim, start, n)))
            start += n
        return out

    def _call(self, x: Tensor) -> Tensor:
        return ops.cat(self._map(x, lambda t, v: t(v)), self.dim)

    def _inverse(self, y: Tensor) -> Tensor:
        return ops.cat(self._map(y, lambda t, v: t.inv(v)), self.dim)

    def log_abs_det_jacobian(self, x: Tensor, y: Tensor) -> Tensor:
        _check_dim("CatTransform", y, self.dim, self.length)
        terms, start = [], 0
        for t, n in zip(self.transforms, self.lengths):
            term = t.log_abs_det_jacobian(
                x.narrow(self.dim, start, n), y.narrow(self.dim, start, n)
            )
            terms.append(sum_rightmost(term, self.event_dim - t.event_dim))
            start += n
        dim = (self.dim - x.ndim if self.dim >= 0 else self.dim) + self.event_dim
        return ops.cat(terms, dim) if dim < 0 else sum(terms[1:], terms[0])

    @constraints.dependent_property
    def domain(self):
        return constraints.cat([t.domain for t in self.transforms], self.dim, self.lengths)

    @constraints.dependent_property
    def codomain(self):
        return constraints.cat([t.codomain for t in self.transforms], self.dim, self.lengths)


class StackTransform(Transform):
    """Transform ``tseq[i]`` on slice i of ``dim`` (as ``stack``)."""

    def __init__(self, tseq, dim: int = 0, cache_size: int = 0) -> None:
        tseq = list(tseq)
        if not all(isinstance(t, Transform) for t in tseq):
            raise TypeError("StackTransform: every element of tseq must be a Transform")
        if cache_size:
            tseq = [t.with_cache(cache_size) for t in tseq]
        super().__init__(cache_size=cache_size)
        self.transforms, self.dim = tseq, dim

    bijective = property(lambda self: all(t.bijective for t in self.transforms))  # type: ignore

    def with_cache(self, cache_size: int = 1) -> Transform:
        if self._cache_size == cache_size:
            return self
        return StackTransform(self.transforms, self.dim, cache_size)

    def _slices(self, z: Tensor) -> list:
        _check_dim("StackTransform", z, self.dim, len(self.transforms))
        return [z.select(self.dim, i) for i in range(z.shape[self.dim])]

    def _call(self, x: Tensor) -> Tensor:
        return ops.stack([t(v) for v, t in zip(self._slices(x), self.transforms)], self.dim)

    def _inverse(self, y: Tensor) -> Tensor:
        return ops.stack([t.inv(v) for v, t in zip(self._slices(y), self.transforms)], self.dim)

    def log_abs_det_jacobian(self, x: Tensor, y: Tensor) -> Tensor:
        terms = [
            t.log_abs_det_jacobian(a, b)
            for a, b, t in zip(self._slices(x), self._slices(y), self.transforms)
        ]
        return ops.stack(terms, self.dim)

    @constraints.dependent_property
    def domain(self):
        return constraints.stack([t.domain for t in self.transforms], self.dim)

    @constraints.dependent_property
    def codomain(self):
        return constraints.stack([t.codomain for t in self.transforms], self.dim)
