"""MultivariateNormal (loc with one of covariance_matrix, precision_matrix, scale_tril;
everything through the Cholesky factor L, triangular systems by ``ad.linalg.solve``) and
Independent (reinterprets batch dims of a base distribution as event dims)."""

from __future__ import annotations

import math
from typing import ClassVar

import numpy as np

from .. import linalg
from ..creation import randn
from ..tensor import Tensor
from .distribution import Distribution, as_float, constraints, lazy_property, sum_rightmost

__all__ = ["Independent", "MultivariateNormal"]


def _batch_mahalanobis(tril: Tensor, x: Tensor) -> Tensor:
    """|L^-1 x|^2 over the last dim, L broadcast against x's batch."""
    y = linalg.solve(tril, x.unsqueeze(-1)).squeeze(-1)
    return (y * y).sum(-1)


class MultivariateNormal(Distribution):
    """N(loc, Sigma) with Sigma given as a covariance, a precision or its Cholesky factor.

    Shape:
        loc: (*, n); the matrix: (*, n, n); batch_shape the broadcast of (*), event (n,).

    Example:
        >>> MultivariateNormal(ad.zeros(2), scale_tril=ad.eye(2)).rsample((4,)).shape  # (4, 2)
    """

    arg_constraints: ClassVar[dict] = {
        "loc": constraints.real_vector,
        "covariance_matrix": constraints.positive_definite,
        "precision_matrix": constraints.positive_definite,
        "scale_tril": constraints.lower_cholesky,
    }
    support = constraints.real_vector
    has_rsample = True
    _params = ("loc", "_unbroadcasted_scale_tril")

    def __init__(
        self,
        loc,
        covariance_matrix=None,
        precision_matrix=None,
        scale_tril=None,
        validate_args=None,
    ) -> None:
        loc = as_float(loc)
        if loc.ndim < 1:
            raise ValueError("loc must be at least one-dimensional.")
        if sum(m is not None for m in (covariance_matrix, precision_matrix, scale_tril)) != 1:
            raise ValueError(
                "Exactly one of covariance_matrix or precision_matrix or "
                "scale_tril may be specified."
            )
        matrix = next(m for m in (scale_tril, covariance_matrix, precision_matrix) if m is not None)
        matrix = as_float(matrix, loc)
        if matrix.ndim < 2:
            raise ValueError(
                "scale_tril, covariance_matrix or precision_matrix must be at "
                "least two-dimensional, with optional leading batch dimensions"
            )
        batch = np.broadcast_shapes(tuple(matrix.shape[:-2]), tuple(loc.shape[:-1]))
        n = loc.shape[-1]
        matrix = matrix.expand(batch + (n, n))
        if scale_tril is not None:
            self.scale_tril = matrix
        elif covariance_matrix is not None:
            self.covariance_matrix = matrix
        else:
            self.precision_matrix = matrix
        self.loc = loc.expand(batch + (n,))
        super().__init__(batch, (n,), validate_args=validate_args)
        if scale_tril is not None:
            # only the lower triangle is read (as a triangular solve would): no gradient above
            self._unbroadcasted_scale_tril = as_float(scale_tril, loc).tril()
        elif covariance_matrix is not None:
            self._unbroadcasted_scale_tril = linalg.cholesky(as_float(covariance_matrix, loc))
        else:
            self._unbroadcasted_scale_tril = linalg.cholesky(
                linalg.inv(as_float(precision_matrix, loc))
            )

    @lazy_property
    def scale_tril(self) -> Tensor:
        return self._unbroadcasted_scale_tril.expand(self._batch_shape + self._event_shape * 2)

    @lazy_property
    def covariance_matrix(self) -> Tensor:
        tril = self._unbroadcasted_scale_tril
        return (tril @ tril.transpose(-2, -1)).expand(self._batch_shape + self._event_shape * 2)

    @lazy_property
    def precision_matrix(self) -> Tensor:
        return linalg.inv(self.covariance_matrix)

    def expand(self, batch_shape, _instance=None) -> MultivariateNormal:
        new = type(self).__new__(type(self))
        batch_shape = tuple(batch_shape)
        n = self._event_shape[0]
        new.loc = self.loc.expand(batch_shape + (n,))
        new._unbroadcasted_scale_tril = self._unbroadcasted_scale_tril
        for name in ("covariance_matrix", "precision_matrix", "scale_tril"):
            if name in self.__dict__:
                new.__dict__[name] = self.__dict__[name].expand(batch_shape + (n, n))
        Distribution.__init__(new, batch_shape, self._event_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    mean = property(lambda self: self.loc)
    mode = property(lambda self: self.loc)

    @property
    def variance(self) -> Tensor:
        tril = self._unbroadcasted_scale_tril
        return (tril * tril).sum(-1).expand(self._batch_shape + self._event_shape)

    def rsample(self, sample_shape=()) -> Tensor:
        shape = self._extended_shape(sample_shape)
        eps = randn(*shape, dtype=self.loc.dtype, device=self.loc.device)
        return self.loc + (self._unbroadcasted_scale_tril @ eps.unsqueeze(-1)).squeeze(-1)

    def _half_log_det(self) -> Tensor:
        return self._unbroadcasted_scale_tril.diagonal(0, -2, -1).log().sum(-1)

    def log_prob(self, value) -> Tensor:
        value = self._value(value, self.loc)
        diff = value - self.loc
        m = _batch_mahalanobis(self._unbroadcasted_scale_tril, diff)
        n = self._event_shape[0]
        return -0.5 * (n * math.log(2 * math.pi) + m) - self._half_log_det()

    def entropy(self) -> Tensor:
        n = self._event_shape[0]
        h = 0.5 * n * (1.0 + math.log(2 * math.pi)) + self._half_log_det()
        return h.expand(self._batch_shape) if self._batch_shape else h

    def __repr__(self) -> str:
        return f"MultivariateNormal(loc: {tuple(self.loc.shape)})"


class Independent(Distribution):
    """Treats the rightmost ``reinterpreted_batch_ndims`` batch dims of ``base_distribution``
    as event dims (log_prob and entropy sum over them).

    Example:
        >>> Independent(Normal(ad.zeros(3), ad.ones(3)), 1).event_shape  # (3,)
    """

    arg_constraints: ClassVar[dict] = {}

    def __init__(
        self, base_distribution: Distribution, reinterpreted_batch_ndims: int, validate_args=None
    ) -> None:
        n = int(reinterpreted_batch_ndims)
        if n > len(base_distribution.batch_shape):
            raise ValueError(
                "Expected reinterpreted_batch_ndims <= len(base_distribution.batch_shape), "
                f"actual {n} vs {len(base_distribution.batch_shape)}"
            )
        shape = base_distribution.batch_shape + base_distribution.event_shape
        event_dim = n + len(base_distribution.event_shape)
        self.base_dist, self.reinterpreted_batch_ndims = base_distribution, n
        super().__init__(
            shape[: len(shape) - event_dim],
            shape[len(shape) - event_dim :],
            validate_args=validate_args,
        )

    has_rsample = property(lambda self: self.base_dist.has_rsample)
    mean = property(lambda self: self.base_dist.mean)
    mode = property(lambda self: self.base_dist.mode)
    variance = property(lambda self: self.base_dist.variance)

    @constraints.dependent_property
    def support(self):
        base = self.base_dist.support
        if base is None or not self.reinterpreted_batch_ndims:
            return base
        return constraints.independent(base, self.reinterpreted_batch_ndims)

    def expand(self, batch_shape, _instance=None) -> Independent:
        batch_shape = tuple(batch_shape)
        base = self.base_dist.expand(
            batch_shape + self._event_shape[: self.reinterpreted_batch_ndims]
        )
        return Independent(
            base, self.reinterpreted_batch_ndims, validate_args=self._validate_args and None
        )

    def sample(self, sample_shape=()) -> Tensor:
        return self.base_dist.sample(sample_shape)

    def rsample(self, sample_shape=()) -> Tensor:
        return self.base_dist.rsample(sample_shape)

    def log_prob(self, value) -> Tensor:
        return sum_rightmost(self.base_dist.log_prob(value), self.reinterpreted_batch_ndims)

    def entropy(self) -> Tensor:
        return sum_rightmost(self.base_dist.entropy(), self.reinterpreted_batch_ndims)

    def __repr__(self) -> str:
        return f"Independent({self.base_dist!r}, {self.reinterpreted_batch_ndims})"
