"""Multivariate families beyond MultivariateNormal, after ``torch.distributions``:
LowRankMultivariateNormal (covariance W W^T + diag(D), solved through the m x m capacitance
matrix), MixtureSameFamily, Wishart (Bartlett sampling) and LKJCholesky (onion method).
"""

from __future__ import annotations

import math
import warnings
from typing import ClassVar

import numpy as np

from .. import linalg, ops, special
from ..autograd import no_grad
from ..creation import arange, as_tensor, eye, randn
from ..tensor import Tensor
from ._transforms_structured import _diag_embed, vec_to_tril_matrix
from .continuous import Beta, Chi2
from .discrete import Categorical
from .distribution import Distribution, as_float, broadcast_all, constraints, lazy_property
from .exp_family import ExponentialFamily
from .multivariate import _batch_mahalanobis

__all__ = ["LKJCholesky", "LowRankMultivariateNormal", "MixtureSameFamily", "Wishart"]

_LOG_2 = math.log(2.0)


def _mv(mat: Tensor, vec: Tensor) -> Tensor:
    return (mat @ vec.unsqueeze(-1)).squeeze(-1)


def _cholesky_solve(b: Tensor, tril: Tensor) -> Tensor:
    """(L L^T)^-1 b."""
    return linalg.solve(tril.mT, linalg.solve(tril, b))


def _capacitance_tril(w: Tensor, d: Tensor) -> Tensor:
    m = w.shape[-1]
    k = (w.mT / d.unsqueeze(-2)) @ w + eye(m, dtype=w.dtype, device=w.device)
    return linalg.cholesky(k)


class LowRankMultivariateNormal(Distribution):
    """N(loc, W W^T + diag(D)) with W = cov_factor (n x m) and D = cov_diag.

    Shape:
        loc: (*, n); cov_factor: (*, n, m); cov_diag: (*, n); event_shape (n,).
    """

    arg_constraints: ClassVar[dict] = {
        "loc": constraints.real_vector,
        "cov_factor": constraints.independent(constraints.real, 2),
        "cov_diag": constraints.independent(constraints.positive, 1),
    }
    support = constraints.real_vector
    has_rsample = True

    def __init__(self, loc, cov_factor, cov_diag, validate_args=None) -> None:
        loc = as_float(loc)
        cov_factor, cov_diag = as_float(cov_factor, loc), as_float(cov_diag, loc)
        if loc.ndim < 1:
            raise ValueError("loc must be at least one-dimensional.")
        n = loc.shape[-1]
        if cov_factor.ndim < 2:
            raise ValueError(
                "cov_factor must be at least two-dimensional, with optional "
                "leading batch dimensions"
            )
        if cov_factor.shape[-2] != n:
            raise ValueError(
                f"cov_factor must be a batch of matrices with shape {n} x m, "
                f"got {tuple(cov_factor.shape)}"
            )
        if tuple(cov_diag.shape[-1:]) != (n,):
            raise ValueError(
                f"cov_diag must be a batch of vectors with shape ({n},), got "
                f"{tuple(cov_diag.shape)}"
            )
        try:
            shape = np.broadcast_shapes(
                tuple(loc.shape) + (1,), tuple(cov_factor.shape), tuple(cov_diag.shape) + (1,)
            )
        except ValueError:
            raise ValueError(
                f"Incompatible batch shapes: loc {tuple(loc.shape)}, cov_factor "
                f"{tuple(cov_factor.shape)}, cov_diag {tuple(cov_diag.shape)}"
            ) from None
        self.cov_factor = cov_factor.expand(shape)
        self.loc = loc.unsqueeze(-1).expand(shape[:-1] + (1,))[..., 0]
        self.cov_diag = cov_diag.unsqueeze(-1).expand(shape[:-1] + (1,))[..., 0]
        self._unbroadcasted_cov_factor, self._unbroadcasted_cov_diag = cov_factor, cov_diag
        self._capacitance_tril = _capacitance_tril(cov_factor, cov_diag)
        super().__init__(shape[:-2], (n,), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None) -> LowRankMultivariateNormal:
        new = self._get_checked_instance(LowRankMultivariateNormal, _instance)
        loc_shape = tuple(batch_shape) + self._event_shape
        new.loc, new.cov_diag = self.loc.expand(loc_shape), self.cov_diag.expand(loc_shape)
        new.cov_factor = self.cov_factor.expand(loc_shape + tuple(self.cov_factor.shape[-1:]))
        for name in ("_unbroadcasted_cov_factor", "_unbroadcasted_cov_diag", "_capacitance_tril"):
            setattr(new, name, getattr(self, name))
        Distribution.__init__(new, tuple(batch_shape), self._event_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    mean = property(lambda self: self.loc)
    mode = property(lambda self: self.loc)

    def _matrix_shape(self) -> tuple:
        return self._batch_shape + self._event_shape + self._event_shape

    @lazy_property
    def variance(self) -> Tensor:
        w, d = self._unbroadcasted_cov_factor, self._unbroadcasted_cov_diag
        return ((w * w).sum(-1) + d).expand(self._batch_shape + self._event_shape)

    @lazy_property
    def scale_tril(self) -> Tensor:
        n = self._event_shape[0]
        d_sqrt = self._unbroadcasted_cov_diag.sqrt().unsqueeze(-1)
        dw = self._unbroadcasted_cov_factor / d_sqrt
        k = dw @ dw.mT + eye(n, dtype=dw.dtype, device=dw.device)
        return (d_sqrt * linalg.cholesky(k)).expand(self._matrix_shape())

    @lazy_property
    def covariance_matrix(self) -> Tensor:
        w = self._unbroadcasted_cov_factor
        return (w @ w.mT + _diag_embed(self._unbroadcasted_cov_diag)).expand(self._matrix_shape())

    @lazy_property
    def precision_matrix(self) -> Tensor:
        wt_dinv = self._unbroadcasted_cov_factor.mT / self._unbroadcasted_cov_diag.unsqueeze(-2)
        a = linalg.solve(self._capacitance_tril, wt_dinv)
        return (_diag_embed(1 / self._unbroadcasted_cov_diag) - a.mT @ a).expand(
            self._matrix_shape()
        )

    def rsample(self, sample_shape=()) -> Tensor:
        shape = self._extended_shape(sample_shape)
        w_shape = shape[:-1] + tuple(self.cov_factor.shape[-1:])
        eps_w = randn(*w_shape, dtype=self.loc.dtype, device=self.loc.device)
        eps_d = randn(*shape, dtype=self.loc.dtype, device=self.loc.device)
        return (
            self.loc
            + _mv(self._unbroadcasted_cov_factor, eps_w)
            + self._unbroadcasted_cov_diag.sqrt() * eps_d
        )

    def _log_det(self) -> Tensor:
        c = self._capacitance_tril
        return 2 * c.diagonal(0, -2, -1).log().sum(-1) + self._unbroadcasted_cov_diag.log().sum(-1)

    def log_prob(self, value) -> Tensor:
        value = self._value(value, self.loc)
        x = value - self.loc
        w, d = self._unbroadcasted_cov_factor, self._unbroadcasted_cov_diag
        m = (x * x / d).sum(-1) - _batch_mahalanobis(
            self._capacitance_tril, _mv(w.mT / d.unsqueeze(-2), x)
        )
        return -0.5 * (self._event_shape[0] * math.log(2 * math.pi) + self._log_det() + m)

    def entropy(self) -> Tensor:
        h = 0.5 * (self._event_shape[0] * (1.0 + math.log(2 * math.pi)) + self._log_det())
        return h.expand(self._batch_shape) if self._batch_shape else h

    def __repr__(self) -> str:
        return (
            f"LowRankMultivariateNormal(loc: {tuple(self.loc.shape)}, cov_factor: "
            f"{tuple(self.cov_factor.shape)}, cov_diag: {tuple(self.cov_diag.shape)})"
        )


class MixtureSameFamily(Distribution):
    """A mixture whose components are the rightmost batch dim of ``component_distribution``,
    weighted by the Categorical ``mixture_distribution``.

    Example:
        >>> mix = Categorical(ad.ones(3)); comp = Normal(ad.randn(3), ad.ones(3))
        >>> MixtureSameFamily(mix, comp).log_prob(ad.zeros(()))
    """

    arg_constraints: ClassVar[dict] = {}
    has_rsample = False

    def __init__(
        self,
        mixture_distribution: Categorical,
        component_distribution: Distribution,
        validate_args=None,
    ) -> None:
        if not isinstance(mixture_distribution, Categorical):  # ValueError, as PyTorch
            msg = "The Mixture distribution needs to be an instance of Categorical"
            raise ValueError(msg)  # noqa: TRY004
        if not isinstance(component_distribution, Distribution):
            msg = "The Component distribution needs to be an instance of Distribution"
            raise ValueError(msg)  # noqa: TRY004
        self._mixture_distribution = mixture_distribution
        self._component_distribution = component_distribution
        mdbs, cdbs = mixture_distribution.batch_shape, component_distribution.batch_shape[:-1]
        for s1, s2 in zip(reversed(mdbs), reversed(cdbs)):
            if s1 != 1 and s2 != 1 and s1 != s2:
                raise ValueError(
                    f"`mixture_distribution.batch_shape` ({mdbs}) is not "
                    f"compatible with `component_distribution.batch_shape`"
                    f"({cdbs})"
                )
        km, kc = mixture_distribution.logits.shape[-1], component_distribution.batch_shape[-1]
        if km != kc:
            raise ValueError(
                f"`mixture_distribution component` ({km}) does not equal "
                f"`component_distribution.batch_shape[-1]` ({kc})"
            )
        self._num_component = km
        self._event_ndims = len(component_distribution.event_shape)
        super().__init__(cdbs, component_distribution.event_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None) -> MixtureSameFamily:
        batch_shape = tuple(batch_shape)
        new = self._get_checked_instance(MixtureSameFamily, _instance)
        new._component_distribution = self._component_distribution.expand(
            batch_shape + (self._num_component,)
        )
        new._mixture_distribution = self._mixture_distribution.expand(batch_shape)
        new._num_component, new._event_ndims = self._num_component, self._event_ndims
        Distribution.__init__(
            new, batch_shape, new._component_distribution.event_shape, validate_args=False
        )
        new._validate_args = self._validate_args
        return new

    @constraints.dependent_property
    def support(self):
        return constraints.MixtureSameFamilyConstraint(self._component_distribution.support)

    mixture_distribution = property(lambda self: self._mixture_distribution)
    component_distribution = property(lambda self: self._component_distribution)

    def _pad(self, x: Tensor) -> Tensor:
        return x.unsqueeze(-1 - self._event_ndims)

    def _pad_mixture_dimensions(self, x: Tensor) -> Tensor:
        cat_ndims = len(self._mixture_distribution.batch_shape)
        pad = 0 if cat_ndims == 1 else len(self._batch_shape) - cat_ndims
        xs = tuple(x.shape)
        return x.reshape(xs[:-1] + (1,) * pad + xs[-1:] + (1,) * self._event_ndims)

    @property
    def mean(self) -> Tensor:
        probs = self._pad_mixture_dimensions(self._mixture_distribution.probs)
        return (probs * self._component_distribution.mean).sum(-1 - self._event_ndims)

    @property
    def variance(self) -> Tensor:
        probs = self._pad_mixture_dimensions(self._mixture_distribution.probs)
        comp, dim = self._component_distribution, -1 - self._event_ndims
        mean_cond_var = (probs * comp.variance).sum(dim)
        var_cond_mean = (probs * (comp.mean - self._pad(self.mean)) ** 2).sum(dim)
        return mean_cond_var + var_cond_mean

    def cdf(self, x) -> Tensor:
        cdf_x = self._component_distribution.cdf(self._pad(x))
        return (cdf_x * self._mixture_distribution.probs).sum(-1)

    def log_prob(self, x) -> Tensor:
        if self._validate_args:
            self._validate_sample(x)
        log_prob_x = self._component_distribution.log_prob(self._pad(x))
        log_mix = self._mixture_distribution.logits.log_softmax(-1)
        return (log_prob_x + log_mix).logsumexp(-1)

    def sample(self, sample_shape=()) -> Tensor:
        with no_grad():
            gather_dim = len(sample_shape) + len(self._batch_shape)
            es = self._event_shape
            mix = self._mixture_distribution.sample(sample_shape)
            comp = self._component_distribution.sample(sample_shape)
            idx = mix.reshape(tuple(mix.shape) + (1,) * (len(es) + 1))
            idx = idx.expand(tuple(mix.shape) + (1,) + es)
            return comp.gather(gather_dim, idx).squeeze(gather_dim)

    def __repr__(self) -> str:
        return (
            f"MixtureSameFamily(\n  {self._mixture_distribution!r},\n  "
            f"{self._component_distribution!r})"
        )


def _mvdigamma(x: Tensor, p: int) -> Tensor:
    offsets = arange(p, dtype=x.dtype, device=x.device) / 2
    return special.digamma(x.unsqueeze(-1) - offsets).sum(-1)


class Wishart(ExponentialFamily):
    """Wishart(df, V) over p x p positive-definite matrices, V given as a covariance,
    precision or Cholesky factor; ``rsample`` by the Bartlett decomposition.

    Shape:
        the matrix: (*, p, p); df: broadcastable with (*); event_shape (p, p).
    """

    support = constraints.positive_definite
    has_rsample = True
    _mean_carrier_measure = 0

    @property
    def arg_constraints(self) -> dict:  # type: ignore[override]
        return {
            "covariance_matrix": constraints.positive_definite,
            "precision_matrix": constraints.positive_definite,
            "scale_tril": constraints.lower_cholesky,
            "df": constraints.greater_than(self._event_shape[-1] - 1),
        }

    def __init__(
        self, df, covariance_matrix=None, precision_matrix=None, scale_tril=None, validate_args=None
    ) -> None:
        given = [m for m in (covariance_matrix, precision_matrix, scale_tril) if m is not None]
        if len(given) != 1:
            raise ValueError(
                "Exactly one of covariance_matrix or precision_matrix or "
                "scale_tril may be specified."
            )
        param = as_float(given[0])
        if param.ndim < 2:
            raise ValueError(
                "scale_tril must be at least two-dimensional, with optional "
                "leading batch dimensions"
            )
        df = as_float(df, param)
        batch = tuple(np.broadcast_shapes(tuple(param.shape[:-2]), tuple(df.shape)))
        self.df = df.expand(batch)
        p = param.shape[-1]
        if bool((self.df <= p - 1).any()):
            raise ValueError(f"Value of df={df} expected to be greater than ndim - 1 = {p - 1}.")
        name = (
            "scale_tril"
            if scale_tril is not None
            else "covariance_matrix"
            if covariance_matrix is not None
            else "precision_matrix"
        )
        setattr(self, name, param.expand(batch + (p, p)))
        if bool((self.df < p).any()):
            warnings.warn(
                "Low df values detected. Singular samples are highly likely to "
                "occur for ndim - 1 < df < ndim.",
                stacklevel=2,
            )
        super().__init__(batch, (p, p), validate_args=validate_args)
        if scale_tril is not None:
            self._unbroadcasted_scale_tril = param
        elif covariance_matrix is not None:
            self._unbroadcasted_scale_tril = linalg.cholesky(param)
        else:
            self._unbroadcasted_scale_tril = linalg.cholesky(linalg.inv(param))

    def expand(self, batch_shape, _instance=None) -> Wishart:
        new = self._get_checked_instance(Wishart, _instance)
        cov_shape = tuple(batch_shape) + self._event_shape
        new._unbroadcasted_scale_tril = self._unbroadcasted_scale_tril.expand(cov_shape)
        new.df = self.df.expand(tuple(batch_shape))
        for name in ("covariance_matrix", "scale_tril", "precision_matrix"):
            if name in self.__dict__:
                setattr(new, name, self.__dict__[name].expand(cov_shape))
        Distribution.__init__(new, tuple(batch_shape), self._event_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    def _matrix_shape(self) -> tuple:
        return self._batch_shape + self._event_shape

    @lazy_property
    def scale_tril(self) -> Tensor:
        return self._unbroadcasted_scale_tril.expand(self._matrix_shape())

    @lazy_property
    def covariance_matrix(self) -> Tensor:
        tril = self._unbroadcasted_scale_tril
        return (tril @ tril.mT).expand(self._matrix_shape())

    @lazy_property
    def precision_matrix(self) -> Tensor:
        tril = self._unbroadcasted_scale_tril
        ident = eye(self._event_shape[-1], dtype=tril.dtype, device=tril.device)
        return _cholesky_solve(ident, tril).expand(self._matrix_shape())

    def _df_matrix(self) -> Tensor:
        return self.df.reshape(self._batch_shape + (1, 1))

    mean = property(lambda self: self._df_matrix() * self.covariance_matrix)

    @property
    def mode(self) -> Tensor:
        factor = self.df - self._event_shape[-1] - 1
        factor = ops.where(factor <= 0, math.nan, factor)
        return factor.reshape(self._batch_shape + (1, 1)) * self.covariance_matrix

    @property
    def variance(self) -> Tensor:
        v = self.covariance_matrix
        d = v.diagonal(0, -2, -1)
        return self._df_matrix() * (v * v + d.unsqueeze(-1) * d.unsqueeze(-2))

    def _bartlett(self, sample_shape) -> Tensor:
        p = self._event_shape[-1]
        offsets = arange(p, dtype=self.df.dtype, device=self.df.device)
        chi2 = Chi2(self.df.unsqueeze(-1) - offsets, validate_args=False)
        diag = chi2.rsample(sample_shape).sqrt().clamp(min=float(np.finfo(self.df.dtype.np).eps))
        off = randn(
            *(tuple(sample_shape) + self._batch_shape + (p * (p - 1) // 2,)),
            dtype=self.df.dtype,
            device=self.df.device,
        )
        noise = _diag_embed(diag) + vec_to_tril_matrix(off, diag=-1)
        chol = self._unbroadcasted_scale_tril @ noise
        return chol @ chol.mT

    def rsample(self, sample_shape=(), max_try_correction: int | None = None) -> Tensor:
        sample = self._bartlett(tuple(sample_shape))
        tries = 10 if max_try_correction is None else max_try_correction
        for _ in range(tries):
            singular = ~self.support.check(sample.detach())
            if not bool(singular.any()):
                break
            warnings.warn("Singular sample detected.", stacklevel=2)
            sample = ops.where(
                singular.unsqueeze(-1).unsqueeze(-1), self._bartlett(tuple(sample_shape)), sample
            )
        return sample

    def _log_scale_det(self) -> Tensor:
        return self._unbroadcasted_scale_tril.diagonal(0, -2, -1).log().sum(-1)

    def log_prob(self, value) -> Tensor:
        value = self._value(value, self.df)
        nu, p = self.df, self._event_shape[-1]
        trace = _cholesky_solve(value, self._unbroadcasted_scale_tril).diagonal(0, -2, -1).sum(-1)
        return (
            -nu * (p * _LOG_2 / 2 + self._log_scale_det())
            - special.multigammaln(nu / 2, p)
            + (nu - p - 1) / 2 * linalg.slogdet(value)[1]
            - trace / 2
        )

    def entropy(self) -> Tensor:
        nu, p = self.df, self._event_shape[-1]
        return (
            (p + 1) * (p * _LOG_2 / 2 + self._log_scale_det())
            + special.multigammaln(nu / 2, p)
            - (nu - p - 1) / 2 * _mvdigamma(nu / 2, p)
            + nu * p / 2
        )

    @property
    def _natural_params(self) -> tuple:
        return (-self.precision_matrix / 2, (self.df - self._event_shape[-1] - 1) / 2)

    def _log_normalizer(self, x: Tensor, y: Tensor) -> Tensor:
        p = self._event_shape[-1]
        return (y + (p + 1) / 2) * (-linalg.slogdet(-2 * x)[1] + _LOG_2 * p) + special.multigammaln(
            y + (p + 1) / 2, p
        )


class LKJCholesky(Distribution):
    """LKJ(concentration) over Cholesky factors of dim x dim correlation matrices, sampled
    by the onion method (Lewandowski, Kurowicka and Joe 2009), as PyTorch and NumPyro."""

    arg_constraints: ClassVar[dict] = {"concentration": constraints.positive}
    support = constraints.corr_cholesky

    def __init__(self, dim: int, concentration=1.0, validate_args=None) -> None:
        if dim < 2:
            raise ValueError(
                f"Expected dim to be an integer greater than or equal to 2. Found dim={dim}."
            )
        self.dim = int(dim)
        (self.concentration,) = broadcast_all(concentration)
        c = self.concentration
        offset = np.concatenate([[0.0], np.arange(dim - 1, dtype=np.float64)])
        offset_t = as_tensor(offset, dtype=c.dtype, device=c.device)
        marginal = c + 0.5 * (dim - 2)
        self._beta = Beta(
            offset_t + 0.5, marginal.unsqueeze(-1) - 0.5 * offset_t, validate_args=False
        )
        super().__init__(tuple(c.shape), (dim, dim), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None) -> LKJCholesky:
        new = self._get_checked_instance(LKJCholesky, _instance)
        new.dim = self.dim
        new.concentration = self.concentration.expand(tuple(batch_shape))
        new._beta = self._beta.expand(tuple(batch_shape) + (self.dim,))
        Distribution.__init__(new, tuple(batch_shape), self._event_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    def sample(self, sample_shape=()) -> Tensor:
        with no_grad():
            y = self._beta.sample(sample_shape).unsqueeze(-1)
            u = randn(*self._extended_shape(sample_shape), dtype=y.dtype, device=y.device).tril(-1)
            norm = (u * u).sum(-1, keepdim=True).sqrt()
            rows = as_tensor(
                (np.arange(self.dim) > 0).astype(np.float64)[:, None],
                dtype=y.dtype,
                device=y.device,
            )
            u = u / ops.where(norm == 0, 1.0, norm) * rows
            w = y.sqrt() * u
            tiny = float(np.finfo(w.dtype.np).tiny)
            diag = (1 - (w * w).sum(-1)).clamp(min=tiny).sqrt()
            return w + _diag_embed(diag)

    def log_prob(self, value) -> Tensor:
        value = self._value(value, self.concentration)
        diag = value.diagonal(0, -2, -1)[..., 1:]
        order = as_tensor(
            np.arange(2, self.dim + 1, dtype=np.float64), dtype=value.dtype, device=value.device
        )
        order = 2 * (self.concentration - 1).unsqueeze(-1) + self.dim - order
        unnormalized = (order * diag.log()).sum(-1)
        dm1 = self.dim - 1
        alpha = self.concentration + 0.5 * dm1
        normalize = (
            0.5 * dm1 * math.log(math.pi)
            + special.multigammaln(alpha - 0.5, dm1)
            - special.gammaln(alpha) * dm1
        )
        return unnormalized - normalize
