"""Univariate continuous distributions: Normal, Uniform, Laplace, Exponential, Gamma, Chi2 and
Beta, all with a reparameterized ``rsample``. Gamma draws come from NumPy's generator in
``autodiff.random`` (so ``ad.manual_seed`` controls them) and are differentiated implicitly in
the concentration (see ``_gamma.py``); Beta is the first coordinate of a two-class
Dirichlet, as in PyTorch."""

from __future__ import annotations

import math
from typing import ClassVar

import numpy as np

from .. import ops, special
from ..creation import as_tensor, rand, randn
from ..tensor import Tensor
from ._gamma import gammainc, standard_gamma
from .distribution import (
    LOG_SQRT_2PI,
    Distribution,
    broadcast_all,
    constraints,
    eps,
    host_array,
    host_gen,
    tiny,
)
from .exp_family import ExponentialFamily

__all__ = ["Beta", "Chi2", "Exponential", "Gamma", "Laplace", "Normal", "Uniform"]


def _noise(kind, shape: tuple, like: Tensor) -> Tensor:
    return (
        kind(*shape, dtype=like.dtype, device=like.device)
        if shape
        else kind(1, dtype=like.dtype, device=like.device).reshape(())
    )


class Normal(ExponentialFamily):
    """N(loc, scale^2), batched over the broadcast shape of loc and scale.

    Example:
        >>> Normal(ad.zeros(3), ad.ones(3)).rsample((5,)).shape  # (5, 3)
    """

    arg_constraints: ClassVar[dict] = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.real
    has_rsample = True
    _params = ("loc", "scale")

    def __init__(self, loc, scale, validate_args=None) -> None:
        self.loc, self.scale = broadcast_all(loc, scale)
        super().__init__(tuple(self.loc.shape), validate_args=validate_args)

    mean = property(lambda self: self.loc)
    mode = property(lambda self: self.loc)
    stddev = property(lambda self: self.scale)
    variance = property(lambda self: self.scale * self.scale)

    def rsample(self, sample_shape=()) -> Tensor:
        e = _noise(randn, self._extended_shape(sample_shape), self.loc)
        return self.loc + e * self.scale

    def log_prob(self, value) -> Tensor:
        value = self._value(value, self.loc)
        z = (value - self.loc) / self.scale
        return -0.5 * z * z - self.scale.log() - LOG_SQRT_2PI

    def cdf(self, value) -> Tensor:
        value = self._value(value, self.loc)
        return 0.5 * (1 + special.erf((value - self.loc) / (self.scale * math.sqrt(2))))

    def icdf(self, value) -> Tensor:
        return self.loc + self.scale * special.erfinv(2 * value - 1) * math.sqrt(2)

    def entropy(self) -> Tensor:
        return 0.5 + LOG_SQRT_2PI + self.scale.log()

    _mean_carrier_measure = 0
    _natural_params = property(lambda self: (self.loc / self.scale**2, -0.5 / self.scale**2))

    def _log_normalizer(self, x: Tensor, y: Tensor) -> Tensor:
        return -0.25 * x * x / y + 0.5 * (-math.pi / y).log()


class Uniform(Distribution):
    """U[low, high)."""

    arg_constraints: ClassVar[dict] = {"low": constraints.real, "high": constraints.real}
    has_rsample = True
    _params = ("low", "high")

    def __init__(self, low, high, validate_args=None) -> None:
        self.low, self.high = broadcast_all(low, high)
        super().__init__(tuple(self.low.shape), validate_args=validate_args)
        if self._validate_args and not bool((self.low < self.high).all()):
            raise ValueError("Uniform is not defined when low>= high")

    @constraints.dependent_property(is_discrete=False, event_dim=0)
    def support(self):
        return constraints.interval(self.low, self.high)

    mean = property(lambda self: (self.high + self.low) / 2)
    mode = property(lambda self: self.high * math.nan)
    stddev = property(lambda self: (self.high - self.low) / 12**0.5)
    variance = property(lambda self: (self.high - self.low) ** 2 / 12)

    def rsample(self, sample_shape=()) -> Tensor:
        u = _noise(rand, self._extended_shape(sample_shape), self.low)
        return self.low + u * (self.high - self.low)

    def log_prob(self, value) -> Tensor:
        value = self._value(value, self.low)
        inside = ((self.low <= value) & (self.high > value)).to(self.low.dtype)
        return inside.log() - (self.high - self.low).log()

    def cdf(self, value) -> Tensor:
        value = self._value(value, self.low)
        return ((value - self.low) / (self.high - self.low)).clamp(0, 1)

    def icdf(self, value) -> Tensor:
        return value * (self.high - self.low) + self.low

    def entropy(self) -> Tensor:
        return (self.high - self.low).log()


class Laplace(Distribution):
    """Laplace(loc, scale): density exp(-|x - loc| / scale) / (2 scale)."""

    arg_constraints: ClassVar[dict] = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.real
    has_rsample = True
    _params = ("loc", "scale")

    def __init__(self, loc, scale, validate_args=None) -> None:
        self.loc, self.scale = broadcast_all(loc, scale)
        super().__init__(tuple(self.loc.shape), validate_args=validate_args)

    mean = property(lambda self: self.loc)
    mode = property(lambda self: self.loc)
    stddev = property(lambda self: self.scale * 2**0.5)
    variance = property(lambda self: 2 * self.scale * self.scale)

    def rsample(self, sample_shape=()) -> Tensor:
        u = _noise(rand, self._extended_shape(sample_shape), self.loc)
        u = u * (2 - eps(self.loc)) + (eps(self.loc) - 1)  # (eps - 1, 1), as PyTorch
        return self.loc - self.scale * u.sign() * (-u.abs()).log1p()

    def log_prob(self, value) -> Tensor:
        value = self._value(value, self.loc)
        return -(2 * self.scale).log() - (value - self.loc).abs() / self.scale

    def cdf(self, value) -> Tensor:
        value = self._value(value, self.loc)
        d = value - self.loc
        return 0.5 - 0.5 * d.sign() * (-d.abs() / self.scale).expm1()

    def icdf(self, value) -> Tensor:
        term = value - 0.5
        return self.loc - self.scale * term.sign() * (-2 * term.abs()).log1p()

    def entropy(self) -> Tensor:
        return 1 + (2 * self.scale).log()


class Exponential(ExponentialFamily):
    """Exponential(rate): density rate * exp(-rate x) on x >= 0."""

    arg_constraints: ClassVar[dict] = {"rate": constraints.positive}
    support = constraints.nonnegative
    has_rsample = True
    _params = ("rate",)

    def __init__(self, rate, validate_args=None) -> None:
        (self.rate,) = broadcast_all(rate)
        super().__init__(tuple(self.rate.shape), validate_args=validate_args)

    mean = property(lambda self: 1 / self.rate)
    mode = property(lambda self: self.rate * 0)
    stddev = property(lambda self: 1 / self.rate)
    variance = property(lambda self: self.rate**-2)

    def rsample(self, sample_shape=()) -> Tensor:
        u = _noise(rand, self._extended_shape(sample_shape), self.rate)
        return -(-u).log1p() / self.rate

    def log_prob(self, value) -> Tensor:
        value = self._value(value, self.rate)
        return self.rate.log() - self.rate * value

    def cdf(self, value) -> Tensor:
        value = self._value(value, self.rate)
        return 1 - (-self.rate * value).exp()

    def icdf(self, value) -> Tensor:
        return -(-value).log1p() / self.rate

    def entropy(self) -> Tensor:
        return 1 - self.rate.log()

    _mean_carrier_measure = 0
    _natural_params = property(lambda self: (-self.rate,))

    def _log_normalizer(self, x: Tensor) -> Tensor:
        return -(-x).log()


def _host_sample(draw, like: Tensor, shape: tuple, *params) -> Tensor:
    """A NumPy draw on the host from autodiff's generator, moved to ``like``'s device."""
    args = [np.broadcast_to(host_array(p), shape) for p in params]
    out = draw(host_gen(), *args, shape).astype(like.dtype.np)
    return as_tensor(out, dtype=like.dtype, device=like.device)


class Gamma(ExponentialFamily):
    """Gamma(concentration, rate): density rate^a x^(a-1) exp(-rate x) / Gamma(a).

    ``rsample`` is differentiable in both parameters (implicit reparameterization).

    Example:
        >>> a = ad.tensor([2.0], requires_grad=True)
        >>> Gamma(a, 1.0).rsample((1000,)).mean().backward()  # a.grad ~ 1 (d mean / da)
    """

    arg_constraints: ClassVar[dict] = {
        "concentration": constraints.positive,
        "rate": constraints.positive,
    }
    support = constraints.nonnegative
    has_rsample = True
    _mean_carrier_measure = 0
    _params = ("concentration", "rate")

    def __init__(self, concentration, rate, validate_args=None) -> None:
        self.concentration, self.rate = broadcast_all(concentration, rate)
        super().__init__(tuple(self.rate.shape), validate_args=validate_args)

    mean = property(lambda self: self.concentration / self.rate)
    mode = property(lambda self: ((self.concentration - 1) / self.rate).clamp(min=0))
    variance = property(lambda self: self.concentration / self.rate**2)

    def rsample(self, sample_shape=()) -> Tensor:
        shape = self._extended_shape(sample_shape)
        return standard_gamma(self.concentration.expand(shape)) / self.rate.expand(shape)

    def log_prob(self, value) -> Tensor:
        value = self._value(value, self.rate)
        a, b = self.concentration, self.rate
        return special.xlogy(a, b) + special.xlogy(a - 1, value) - b * value - special.gammaln(a)

    def cdf(self, value) -> Tensor:
        value = self._value(value, self.rate)
        return gammainc(self.concentration, self.rate * value)

    def entropy(self) -> Tensor:
        a = self.concentration
        return a - self.rate.log() + special.gammaln(a) + (1 - a) * special.digamma(a)

    _natural_params = property(lambda self: (self.concentration - 1, -self.rate))

    def _log_normalizer(self, x: Tensor, y: Tensor) -> Tensor:
        return special.gammaln(x + 1) + (x + 1) * (-1 / y).log()


class Chi2(Gamma):
    """Chi-squared with ``df`` degrees of freedom: exactly Gamma(df / 2, 1 / 2)."""

    arg_constraints: ClassVar[dict] = {"df": constraints.positive}

    def __init__(self, df, validate_args=None) -> None:
        (df,) = broadcast_all(df)
        super().__init__(0.5 * df, 0.5, validate_args=validate_args)

    df = property(lambda self: self.concentration * 2)


class Beta(ExponentialFamily):
    """Beta(concentration1, concentration0) on [0, 1]."""

    arg_constraints: ClassVar[dict] = {
        "concentration1": constraints.positive,
        "concentration0": constraints.positive,
    }
    support = constraints.unit_interval
    has_rsample = True
    _params = ("concentration1", "concentration0")

    def __init__(self, concentration1, concentration0, validate_args=None) -> None:
        self.concentration1, self.concentration0 = broadcast_all(concentration1, concentration0)
        super().__init__(tuple(self.concentration1.shape), validate_args=validate_args)

    @property
    def mean(self) -> Tensor:
        return self.concentration1 / (self.concentration1 + self.concentration0)

    @property
    def mode(self) -> Tensor:
        m1 = (self.concentration1 - 1).clamp(min=0)
        m0 = (self.concentration0 - 1).clamp(min=0)
        both_below_one = (self.concentration1 < 1) & (self.concentration0 < 1)
        return ops.where(both_below_one, 1.0, m1 / (m1 + m0))  # PyTorch's choice there

    @property
    def variance(self) -> Tensor:
        a, b = self.concentration1, self.concentration0
        total = a + b
        return a * b / (total * total * (total + 1))

    def rsample(self, sample_shape=()) -> Tensor:
        shape = self._extended_shape(sample_shape)
        g1 = standard_gamma(self.concentration1.expand(shape))
        g0 = standard_gamma(self.concentration0.expand(shape))
        return clamp_keep_grad(g1 / (g1 + g0), tiny(g1), 1 - eps(g1))

    def log_prob(self, value) -> Tensor:
        value = self._value(value, self.concentration1)
        a, b = self.concentration1, self.concentration0
        return special.xlogy(a - 1, value) + special.xlog1py(b - 1, -value) - _lbeta(a, b)

    def entropy(self) -> Tensor:
        a, b = self.concentration1, self.concentration0
        dg = special.digamma
        return _lbeta(a, b) - (a - 1) * dg(a) - (b - 1) * dg(b) + (a + b - 2) * dg(a + b)

    _natural_params = property(lambda self: (self.concentration1, self.concentration0))

    def _log_normalizer(self, x: Tensor, y: Tensor) -> Tensor:
        return _lbeta(x, y)


def clamp_keep_grad(x: Tensor, low: float, high: float) -> Tensor:
    """x clamped to [low, high] in value, with the gradient of x (PyTorch clamps samples in
    place on a detached view, so the clamp is not recorded)."""
    return x + (x.detach().clamp(low, high) - x.detach())


def _lbeta(a: Tensor, b: Tensor) -> Tensor:
    return special.gammaln(a) + special.gammaln(b) - special.gammaln(a + b)
