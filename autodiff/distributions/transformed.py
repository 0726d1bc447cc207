"""``TransformedDistribution`` (a base distribution pushed through transforms, log_prob by
the change of variables) and the families PyTorch defines that way: LogNormal, HalfNormal,
HalfCauchy, Gumbel, Pareto, Weibull, Kumaraswamy, InverseGamma and LogisticNormal.

Example:
    >>> d = TransformedDistribution(Normal(0.0, 1.0), [ExpTransform()])  # = LogNormal(0, 1)
    >>> d.log_prob(ad.tensor(2.0))
"""

from __future__ import annotations

import math
from typing import ClassVar

import numpy as np

from .. import ops, special
from ..autograd import no_grad
from ..creation import full, full_like, ones_like, zeros_like
from ..tensor import Tensor
from .continuous import Exponential, Gamma, Normal, Uniform
from .continuous_extra import Cauchy
from .distribution import Distribution, as_float, broadcast_all, constraints, sum_rightmost
from .multivariate import Independent
from .transforms import (
    AbsTransform,
    AffineTransform,
    ComposeTransform,
    ExpTransform,
    PowerTransform,
    StickBreakingTransform,
    Transform,
)

__all__ = [
    "Gumbel",
    "HalfCauchy",
    "HalfNormal",
    "InverseGamma",
    "Kumaraswamy",
    "LogNormal",
    "LogisticNormal",
    "Pareto",
    "TransformedDistribution",
    "Weibull",
]

EULER = 0.57721566490153286060


class TransformedDistribution(Distribution):
    """``base_distribution`` pushed through ``transforms`` (applied in order).

    Shape:
        batch_shape and event_shape follow from the transforms' ``forward_shape`` and the
        event dims of their codomains (as PyTorch computes them).
    """

    arg_constraints: ClassVar[dict] = {}

    def __init__(self, base_distribution: Distribution, transforms, validate_args=None) -> None:
        if isinstance(transforms, Transform):
            self.transforms = [transforms]
        elif isinstance(transforms, list) and all(isinstance(t, Transform) for t in transforms):
            self.transforms = transforms
        else:
            raise ValueError(
                f"transforms must be a Transform or a list of Transforms, but was {transforms!r}"
            )
        base_shape = base_distribution.batch_shape + base_distribution.event_shape
        base_event_dim = len(base_distribution.event_shape)
        transform = ComposeTransform(self.transforms)
        if len(base_shape) < transform.domain.event_dim:
            raise ValueError(
                f"base_distribution needs to have shape with size at least "
                f"{transform.domain.event_dim}, but got {base_shape}."
            )
        forward_shape = transform.forward_shape(base_shape)
        expanded = transform.inverse_shape(forward_shape)
        if base_shape != expanded:
            base_distribution = base_distribution.expand(expanded[: len(expanded) - base_event_dim])
        reinterpreted = transform.domain.event_dim - base_event_dim
        if reinterpreted > 0:
            base_distribution = Independent(base_distribution, reinterpreted)
        self.base_dist = base_distribution
        change = transform.codomain.event_dim - transform.domain.event_dim
        event_dim = max(transform.codomain.event_dim, base_event_dim + change)
        cut = len(forward_shape) - event_dim
        super().__init__(forward_shape[:cut], forward_shape[cut:], validate_args=validate_args)

    def expand(self, batch_shape, _instance=None) -> TransformedDistribution:
        new = self._get_checked_instance(TransformedDistribution, _instance)
        shape = tuple(batch_shape) + self._event_shape
        for t in reversed(self.transforms):
            shape = t.inverse_shape(shape)
        new.base_dist = self.base_dist.expand(shape[: len(shape) - len(self.base_dist.event_shape)])
        new.transforms = self.transforms
        Distribution.__init__(new, tuple(batch_shape), self._event_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @constraints.dependent_property(is_discrete=False)
    def support(self):
        if not self.transforms:
            return self.base_dist.support
        support = self.transforms[-1].codomain
        if len(self._event_shape) > support.event_dim:
            support = constraints.independent(support, len(self._event_shape) - support.event_dim)
        return support

    has_rsample = property(lambda self: self.base_dist.has_rsample)  # type: ignore

    def sample(self, sample_shape=()) -> Tensor:
        with no_grad():
            x = self.base_dist.sample(sample_shape)
            for t in self.transforms:
                x = t(x)
            return x

    def rsample(self, sample_shape=()) -> Tensor:
        x = self.base_dist.rsample(sample_shape)
        for t in self.transforms:
            x = t(x)
        return x

    def log_prob(self, value) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        event_dim, y, log_prob = len(self._event_shape), value, 0.0
        for t in reversed(self.transforms):
            x = t.inv(y)
            event_dim += t.domain.event_dim - t.codomain.event_dim
            log_prob = log_prob - sum_rightmost(
                t.log_abs_det_jacobian(x, y), event_dim - t.domain.event_dim
            )
            y = x
        return log_prob + sum_rightmost(
            self.base_dist.log_prob(y), event_dim - len(self.base_dist.event_shape)
        )

    def _monotonize_cdf(self, value: Tensor) -> Tensor:
        sign = 1
        for t in self.transforms:
            sign = sign * t.sign
        if isinstance(sign, int) and sign == 1:
            return value
        return sign * (value - 0.5) + 0.5

    def cdf(self, value) -> Tensor:
        for t in self.transforms[::-1]:
            value = t.inv(value)
        if self._validate_args:
            self.base_dist._validate_sample(value)
        return self._monotonize_cdf(self.base_dist.cdf(value))

    def icdf(self, value) -> Tensor:
        value = self.base_dist.icdf(self._monotonize_cdf(value))
        for t in self.transforms:
            value = t(value)
        return value


class _Wrapped(TransformedDistribution):
    """Subclasses whose only state is the base distribution and fixed transforms."""

    def expand(self, batch_shape, _instance=None) -> TransformedDistribution:
        return super().expand(batch_shape, self._get_checked_instance(type(self), _instance))


class LogNormal(_Wrapped):
    """exp(X), X ~ Normal(loc, scale)."""

    arg_constraints: ClassVar[dict] = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.positive
    has_rsample = True

    def __init__(self, loc, scale, validate_args=None) -> None:
        super().__init__(
            Normal(loc, scale, validate_args=validate_args),
            ExpTransform(),
            validate_args=validate_args,
        )

    loc = property(lambda self: self.base_dist.loc)
    scale = property(lambda self: self.base_dist.scale)
    mean = property(lambda self: (self.loc + self.scale**2 / 2).exp())
    mode = property(lambda self: (self.loc - self.scale**2).exp())

    @property
    def variance(self) -> Tensor:
        s2 = self.scale**2
        return s2.expm1() * (2 * self.loc + s2).exp()

    def entropy(self) -> Tensor:
        return self.base_dist.entropy() + self.loc


class _Half(_Wrapped):
    """|X| for X symmetric about 0: log_prob, cdf, icdf and entropy from the base."""

    support = constraints.nonnegative
    has_rsample = True
    scale = property(lambda self: self.base_dist.scale)
    mode = property(lambda self: zeros_like(self.scale))

    def log_prob(self, value) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        value = as_float(value, self.scale)
        return ops.where(value >= 0, self.base_dist.log_prob(value) + math.log(2), -math.inf)

    def cdf(self, value) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        return 2 * self.base_dist.cdf(value) - 1

    def icdf(self, prob) -> Tensor:
        return self.base_dist.icdf((prob + 1) / 2)

    def entropy(self) -> Tensor:
        return self.base_dist.entropy() - math.log(2)


class HalfNormal(_Half):
    """|X|, X ~ Normal(0, scale)."""

    arg_constraints: ClassVar[dict] = {"scale": constraints.positive}

    def __init__(self, scale, validate_args=None) -> None:
        super().__init__(
            Normal(0.0, scale, validate_args=False), AbsTransform(), validate_args=validate_args
        )

    mean = property(lambda self: self.scale * math.sqrt(2 / math.pi))
    variance = property(lambda self: self.scale**2 * (1 - 2 / math.pi))


class HalfCauchy(_Half):
    """|X|, X ~ Cauchy(0, scale)."""

    arg_constraints: ClassVar[dict] = {"scale": constraints.positive}

    def __init__(self, scale, validate_args=None) -> None:
        super().__init__(
            Cauchy(0.0, scale, validate_args=False), AbsTransform(), validate_args=validate_args
        )

    mean = property(
        lambda self: full(
            self._extended_shape(), math.inf, dtype=self.scale.dtype, device=self.scale.device
        )
    )
    variance = property(lambda self: self.base_dist.variance)


class Gumbel(TransformedDistribution):
    """Gumbel(loc, scale): density exp(-(z + e^-z)) / scale, z = (x - loc) / scale."""

    arg_constraints: ClassVar[dict] = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.real

    def __init__(self, loc, scale, validate_args=None) -> None:
        self.loc, self.scale = broadcast_all(loc, scale)
        self._build(validate_args)

    def _build(self, validate_args) -> None:
        fi = np.finfo(self.loc.dtype.np)
        base = Uniform(
            full_like(self.loc, float(fi.tiny)),
            full_like(self.loc, 1 - float(fi.eps)),
            validate_args=validate_args,
        )
        transforms = [
            ExpTransform().inv,
            AffineTransform(0, -ones_like(self.scale)),
            ExpTransform().inv,
            AffineTransform(self.loc, -self.scale),
        ]
        TransformedDistribution.__init__(self, base, transforms, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None) -> Gumbel:
        new = type(self).__new__(type(self))
        new.loc, new.scale = (t.expand(tuple(batch_shape)) for t in (self.loc, self.scale))
        new._build(False)
        new._validate_args = self._validate_args
        return new

    def log_prob(self, value) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        y = (self.loc - value) / self.scale
        return y - y.exp() - self.scale.log()

    mean = property(lambda self: self.loc + self.scale * EULER)
    mode = property(lambda self: self.loc)
    stddev = property(lambda self: math.pi / math.sqrt(6) * self.scale)
    variance = property(lambda self: self.stddev**2)

    def entropy(self) -> Tensor:
        return self.scale.log() + (1 + EULER)


class _Rebuilt(TransformedDistribution):
    """Subclasses that rebuild base and transforms from their own parameters on expand."""

    _own: tuple = ()

    def expand(self, batch_shape, _instance=None) -> TransformedDistribution:
        new = type(self).__new__(type(self))
        for name in self._own:
            setattr(new, name, getattr(self, name).expand(tuple(batch_shape)))
        new._build(False)
        new._validate_args = self._validate_args
        return new

    def __init__(self, *params, validate_args=None) -> None:
        for name, value in zip(self._own, broadcast_all(*params)):
            setattr(self, name, value)
        self._build(validate_args)


class Pareto(_Rebuilt):
    """Pareto(scale, alpha): density alpha scale^alpha / x^(alpha + 1) on x >= scale."""

    arg_constraints: ClassVar[dict] = {"alpha": constraints.positive, "scale": constraints.positive}
    _own = ("scale", "alpha")

    def __init__(self, scale, alpha, validate_args=None) -> None:
        super().__init__(scale, alpha, validate_args=validate_args)

    def _build(self, validate_args) -> None:
        TransformedDistribution.__init__(
            self,
            Exponential(self.alpha, validate_args=validate_args),
            [ExpTransform(), AffineTransform(0, self.scale)],
            validate_args=validate_args,
        )

    @property
    def mean(self) -> Tensor:
        a = self.alpha.clamp(min=1)
        return a * self.scale / (a - 1)

    mode = property(lambda self: self.scale)

    @property
    def variance(self) -> Tensor:
        a = self.alpha.clamp(min=2)
        return self.scale**2 * a / ((a - 1) ** 2 * (a - 2))

    @constraints.dependent_property(is_discrete=False, event_dim=0)
    def support(self):
        return constraints.greater_than_eq(self.scale)

    def entropy(self) -> Tensor:
        return (self.scale / self.alpha).log() + (1 + 1 / self.alpha)


class Weibull(_Rebuilt):
    """Weibull(scale, concentration k): density (k/s) (x/s)^(k-1) exp(-(x/s)^k)."""

    arg_constraints: ClassVar[dict] = {
        "scale": constraints.positive,
        "concentration": constraints.positive,
    }
    support = constraints.positive
    _own = ("scale", "concentration")

    def __init__(self, scale, concentration, validate_args=None) -> None:
        super().__init__(scale, concentration, validate_args=validate_args)

    def _build(self, validate_args) -> None:
        self.concentration_reciprocal = 1 / self.concentration
        TransformedDistribution.__init__(
            self,
            Exponential(ones_like(self.scale), validate_args=validate_args),
            [PowerTransform(self.concentration_reciprocal), AffineTransform(0, self.scale)],
            validate_args=validate_args,
        )

    mean = property(
        lambda self: self.scale * special.gammaln(1 + self.concentration_reciprocal).exp()
    )

    @property
    def mode(self) -> Tensor:
        k = self.concentration
        return self.scale * ((k - 1) / k) ** (1 / k)

    @property
    def variance(self) -> Tensor:
        r = self.concentration_reciprocal
        return self.scale**2 * (
            special.gammaln(1 + 2 * r).exp() - (2 * special.gammaln(1 + r)).exp()
        )

    def entropy(self) -> Tensor:
        r = self.concentration_reciprocal
        return EULER * (1 - r) + (self.scale * r).log() + 1


def _kumaraswamy_moment(a: Tensor, b: Tensor, n: int) -> Tensor:
    arg1 = 1 + n / a
    return b * (special.gammaln(arg1) + special.gammaln(b) - special.gammaln(arg1 + b)).exp()


class Kumaraswamy(_Rebuilt):
    """Kumaraswamy(a, b) on [0, 1]: density a b x^(a-1) (1 - x^a)^(b-1)."""

    arg_constraints: ClassVar[dict] = {
        "concentration1": constraints.positive,
        "concentration0": constraints.positive,
    }
    support = constraints.unit_interval
    has_rsample = True
    _own = ("concentration1", "concentration0")

    def __init__(self, concentration1, concentration0, validate_args=None) -> None:
        super().__init__(concentration1, concentration0, validate_args=validate_args)

    def _build(self, validate_args) -> None:
        c0 = self.concentration0
        base = Uniform(zeros_like(c0), ones_like(c0), validate_args=validate_args)
        transforms = [
            PowerTransform(1 / c0),
            AffineTransform(1.0, -1.0),
            PowerTransform(1 / self.concentration1),
        ]
        TransformedDistribution.__init__(self, base, transforms, validate_args=validate_args)

    mean = property(lambda self: _kumaraswamy_moment(self.concentration1, self.concentration0, 1))

    @property
    def mode(self) -> Tensor:
        a, b = self.concentration1, self.concentration0
        log_mode = (-b).log1p() / b - (-b * a).log1p()
        return ops.where((b < 1) | (a < 1), math.nan, log_mode).exp()

    @property
    def variance(self) -> Tensor:
        return _kumaraswamy_moment(self.concentration1, self.concentration0, 2) - self.mean**2

    def entropy(self) -> Tensor:
        a, b = self.concentration1, self.concentration0
        h0 = special.digamma(b + 1) + EULER
        return (1 - 1 / b) + (1 - 1 / a) * h0 - a.log() - b.log()


class InverseGamma(_Wrapped):
    """1 / X, X ~ Gamma(concentration, rate)."""

    arg_constraints: ClassVar[dict] = {
        "concentration": constraints.positive,
        "rate": constraints.positive,
    }
    support = constraints.positive
    has_rsample = True

    def __init__(self, concentration, rate, validate_args=None) -> None:
        base = Gamma(concentration, rate, validate_args=validate_args)
        minus_one = full((), -1.0, dtype=base.rate.dtype, device=base.rate.device)
        super().__init__(base, PowerTransform(minus_one), validate_args=validate_args)

    concentration = property(lambda self: self.base_dist.concentration)
    rate = property(lambda self: self.base_dist.rate)

    @property
    def mean(self) -> Tensor:
        a = self.concentration
        return ops.where(a > 1, self.rate / (a - 1), math.inf)

    mode = property(lambda self: self.rate / (self.concentration + 1))

    @property
    def variance(self) -> Tensor:
        a = self.concentration
        return ops.where(a > 2, self.rate**2 / ((a - 1) ** 2 * (a - 2)), math.inf)

    def entropy(self) -> Tensor:
        a = self.concentration
        return a + self.rate.log() + special.gammaln(a) - (1 + a) * special.digamma(a)


class LogisticNormal(_Wrapped):
    """StickBreaking(X), X ~ Normal(loc, scale) over the last dim: a distribution on the
    K+1-simplex for loc of size K."""

    arg_constraints: ClassVar[dict] = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.simplex
    has_rsample = True

    def __init__(self, loc, scale, validate_args=None) -> None:
        base = Normal(loc, scale, validate_args=validate_args)
        if not base.batch_shape:
            base = base.expand((1,))
        super().__init__(base, StickBreakingTransform(), validate_args=validate_args)

    loc = property(lambda self: self.base_dist.base_dist.loc)
    scale = property(lambda self: self.base_dist.base_dist.scale)
