"""More univariate continuous distributions, after ``torch.distributions``: Cauchy, StudentT,
FisherSnedecor, VonMises, ContinuousBernoulli and GeneralizedPareto.

Draws use autodiff's generator (``ad.manual_seed``). StudentT and FisherSnedecor are
reparameterized through Gamma's implicit gradient; VonMises samples by Best and Fisher's
rejection method (no ``rsample``, as in PyTorch); its normalizer uses the same polynomial
approximation of log I_0 as PyTorch, so log-densities agree with it to the last digits.
"""

from __future__ import annotations

import math
from typing import ClassVar

import numpy as np

from .. import ops, special
from ..autograd import no_grad
from ..creation import as_tensor, full, rand, randn
from ..nn.functional import binary_cross_entropy_with_logits
from ..tensor import Tensor
from .continuous import Chi2, Gamma, _noise
from .discrete import _clamp_probs, _one_of
from .distribution import Distribution, broadcast_all, constraints, lazy_property
from .exp_family import ExponentialFamily

__all__ = [
    "Cauchy",
    "ContinuousBernoulli",
    "FisherSnedecor",
    "GeneralizedPareto",
    "StudentT",
    "VonMises",
]


class _Loc(Distribution):
    """Shared constructor of (loc, scale) families."""

    _params = ("loc", "scale")

    def __init__(self, loc, scale, validate_args=None) -> None:
        self.loc, self.scale = broadcast_all(loc, scale)
        super().__init__(tuple(self.loc.shape), validate_args=validate_args)

    def _full(self, value: float) -> Tensor:
        return full(self._extended_shape(), value, dtype=self.loc.dtype, device=self.loc.device)


class Cauchy(_Loc):
    """Cauchy(loc, scale): density 1 / (pi scale (1 + ((x - loc) / scale)^2))."""

    arg_constraints: ClassVar[dict] = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.real
    has_rsample = True

    mean = property(lambda self: self._full(math.nan))
    mode = property(lambda self: self.loc)
    variance = property(lambda self: self._full(math.inf))

    def rsample(self, sample_shape=()) -> Tensor:
        u = _noise(rand, self._extended_shape(sample_shape), self.loc)
        return self.loc + (math.pi * (u - 0.5)).tan() * self.scale

    def log_prob(self, value) -> Tensor:
        value = self._value(value, self.loc)
        z = (value - self.loc) / self.scale
        return -math.log(math.pi) - self.scale.log() - (z * z).log1p()

    def cdf(self, value) -> Tensor:
        value = self._value(value, self.loc)
        return ((value - self.loc) / self.scale).atan() / math.pi + 0.5

    def icdf(self, value) -> Tensor:
        return (math.pi * (value - 0.5)).tan() * self.scale + self.loc

    def entropy(self) -> Tensor:
        return math.log(4 * math.pi) + self.scale.log()


class StudentT(Distribution):
    """Student's t with ``df`` degrees of freedom, location and scale."""

    arg_constraints: ClassVar[dict] = {
        "df": constraints.positive,
        "loc": constraints.real,
        "scale": constraints.positive,
    }
    support = constraints.real
    has_rsample = True
    _params = ("df", "loc", "scale")

    def __init__(self, df, loc=0.0, scale=1.0, validate_args=None) -> None:
        self.df, self.loc, self.scale = broadcast_all(df, loc, scale)
        super().__init__(tuple(self.df.shape), validate_args=validate_args)

    @property
    def mean(self) -> Tensor:
        return ops.where(self.df <= 1, math.nan, self.loc)

    mode = property(lambda self: self.loc)

    @property
    def variance(self) -> Tensor:
        df = self.df
        finite = self.scale**2 * df / ops.where(df > 2, df - 2, 1.0)
        return ops.where(df > 2, finite, ops.where(df > 1, math.inf, math.nan))

    def rsample(self, sample_shape=()) -> Tensor:
        shape = self._extended_shape(sample_shape)
        x = _noise(randn, shape, self.df)
        z = Chi2(self.df, validate_args=False).rsample(sample_shape)
        return self.loc + self.scale * x * (z / self.df).rsqrt()

    def log_prob(self, value) -> Tensor:
        value = self._value(value, self.df)
        y = (value - self.loc) / self.scale
        z = (
            self.scale.log()
            + 0.5 * self.df.log()
            + 0.5 * math.log(math.pi)
            + special.gammaln(0.5 * self.df)
            - special.gammaln(0.5 * (self.df + 1.0))
        )
        return -0.5 * (self.df + 1.0) * (y * y / self.df).log1p() - z

    def entropy(self) -> Tensor:
        df = self.df
        lbeta = special.gammaln(0.5 * df) + math.lgamma(0.5) - special.gammaln(0.5 * (df + 1))
        return (
            self.scale.log()
            + 0.5 * (df + 1) * (special.digamma(0.5 * (df + 1)) - special.digamma(0.5 * df))
            + 0.5 * df.log()
            + lbeta
        )


class FisherSnedecor(Distribution):
    """F(df1, df2): the ratio of two scaled chi-squared variables."""

    arg_constraints: ClassVar[dict] = {"df1": constraints.positive, "df2": constraints.positive}
    support = constraints.positive
    has_rsample = True
    _params = ("df1", "df2")

    def __init__(self, df1, df2, validate_args=None) -> None:
        self.df1, self.df2 = broadcast_all(df1, df2)
        super().__init__(tuple(self.df1.shape), validate_args=validate_args)

    @property
    def mean(self) -> Tensor:
        df2 = ops.where(self.df2 <= 2, math.nan, self.df2)
        return df2 / (df2 - 2)

    @property
    def mode(self) -> Tensor:
        m = (self.df1 - 2) / self.df1 * self.df2 / (self.df2 + 2)
        return ops.where(self.df1 <= 2, math.nan, m)

    @property
    def variance(self) -> Tensor:
        df2 = ops.where(self.df2 <= 4, math.nan, self.df2)
        return 2 * df2**2 * (self.df1 + df2 - 2) / (self.df1 * (df2 - 2) ** 2 * (df2 - 4))

    def rsample(self, sample_shape=()) -> Tensor:
        tiny = float(np.finfo(self.df1.dtype.np).tiny)
        x1 = Gamma(self.df1 * 0.5, self.df1, validate_args=False).rsample(sample_shape)
        x2 = Gamma(self.df2 * 0.5, self.df2, validate_args=False).rsample(sample_shape)
        return (x1 / x2.clamp(min=tiny)).clamp(min=tiny)

    def log_prob(self, value) -> Tensor:
        value = self._value(value, self.df1)
        ct1, ct2, ct3 = self.df1 * 0.5, self.df2 * 0.5, self.df1 / self.df2
        t1 = special.gammaln(ct1 + ct2) - special.gammaln(ct1) - special.gammaln(ct2)
        t2 = ct1 * ct3.log() + (ct1 - 1) * value.log()
        t3 = (ct1 + ct2) * (ct3 * value).log1p()
        return t1 + t2 - t3


# Abramowitz & Stegun 9.8.1-9.8.4 polynomials for I_0 and I_1 (PyTorch's choice)
_I_SMALL = (
    (1.0, 3.5156229, 3.0899424, 1.2067492, 0.2659732, 0.360768e-1, 0.45813e-2),
    (0.5, 0.87890594, 0.51498869, 0.15084934, 0.2658733e-1, 0.301532e-2, 0.32411e-3),
)
_I_LARGE = (
    (
        0.39894228,
        0.1328592e-1,
        0.225319e-2,
        -0.157565e-2,
        0.916281e-2,
        -0.2057706e-1,
        0.2635537e-1,
        -0.1647633e-1,
        0.392377e-2,
    ),
    (
        0.39894228,
        -0.3988024e-1,
        -0.362018e-2,
        0.163801e-2,
        -0.1031555e-1,
        0.2282967e-1,
        -0.2895312e-1,
        0.1787654e-1,
        -0.420059e-2,
    ),
)


def _poly(y: Tensor, coef: tuple) -> Tensor:
    result = y * 0 + coef[-1]
    for c in reversed(coef[:-1]):
        result = c + y * result
    return result


def log_modified_bessel(x: Tensor, order: int = 0) -> Tensor:
    """log I_order(x) for x > 0, order 0 or 1 (polynomial fits, relative error ~1e-7)."""
    if order not in (0, 1):
        raise ValueError(f"log_modified_bessel: order must be 0 or 1, got {order}")
    y = x / 3.75
    small = _poly(y * y, _I_SMALL[order])
    small = (x.abs() * small if order else small).log()
    large = x - 0.5 * x.log() + _poly(3.75 / x, _I_LARGE[order]).log()
    return ops.where(x < 3.75, small, large)


class VonMises(Distribution):
    """The circular von Mises distribution: density exp(k cos(x - loc)) / (2 pi I_0(k)).

    ``loc`` and values are angles in radians (any real, read modulo 2 pi); samples lie in
    [-pi, pi).
    """

    arg_constraints: ClassVar[dict] = {
        "loc": constraints.real,
        "concentration": constraints.positive,
    }
    support = constraints.real
    _params = ("loc", "concentration")

    def __init__(self, loc, concentration, validate_args=None) -> None:
        self.loc, self.concentration = broadcast_all(loc, concentration)
        super().__init__(tuple(self.loc.shape), validate_args=validate_args)

    mean = property(lambda self: self.loc)
    mode = property(lambda self: self.loc)

    @property
    def variance(self) -> Tensor:
        k = self.concentration
        return 1 - (log_modified_bessel(k, 1) - log_modified_bessel(k, 0)).exp()

    def log_prob(self, value) -> Tensor:
        value = self._value(value, self.loc)
        return (
            self.concentration * (value - self.loc).cos()
            - math.log(2 * math.pi)
            - log_modified_bessel(self.concentration, 0)
        )

    def sample(self, sample_shape=()) -> Tensor:
        """Best and Fisher (1979) rejection sampling, in float64 on the host."""
        from .distribution import host_array, host_gen

        shape = self._extended_shape(sample_shape)
        k = np.broadcast_to(host_array(self.concentration), shape)
        loc = np.broadcast_to(host_array(self.loc), shape)
        with np.errstate(all="ignore"):
            tau = 1 + np.sqrt(1 + 4 * k * k)
            rho = (tau - np.sqrt(2 * tau)) / (2 * k)
            r = np.where(k < 1e-5, 1 / k + k, (1 + rho * rho) / (2 * rho))
        x, done, gen = np.zeros(shape), np.zeros(shape, dtype=bool), host_gen()
        while not done.all():
            u1, u2, u3 = gen.random((3,) + shape)
            z = np.cos(math.pi * u1)
            with np.errstate(all="ignore"):
                f = (1 + r * z) / (r + z)
                c = k * (r - f)
                accept = ~done & (((c * (2 - c) - u2) > 0) | (np.log(c / u2) + 1 - c >= 0))
            x = np.where(accept, np.sign(u3 - 0.5) * np.arccos(np.clip(f, -1, 1)), x)
            done |= accept
        out = (x + math.pi + loc) % (2 * math.pi) - math.pi
        with no_grad():
            return as_tensor(
                out.astype(self.loc.dtype.np), dtype=self.loc.dtype, device=self.loc.device
            )


class ContinuousBernoulli(ExponentialFamily):
    """The continuous Bernoulli on [0, 1] (Loaiza-Ganem and Cunningham 2019), given probs or
    logits; a Taylor expansion is used for probs in ``lims`` around 1/2."""

    arg_constraints: ClassVar[dict] = {
        "probs": constraints.unit_interval,
        "logits": constraints.real,
    }
    support = constraints.unit_interval
    _mean_carrier_measure = 0
    has_rsample = True
    _params = ("probs", "logits")

    def __init__(self, probs=None, logits=None, lims=(0.499, 0.501), validate_args=None) -> None:
        _one_of(probs, logits, "ContinuousBernoulli")
        if probs is not None:
            (p,) = broadcast_all(probs)
            if validate_args is not None and not bool(constraints.unit_interval.check(p).all()):
                raise ValueError(
                    f"ContinuousBernoulli: the parameter probs has invalid values:\n{p}"
                )
            self.probs = _clamp_probs(p)
            shape = tuple(p.shape)
        else:
            (self.logits,) = broadcast_all(logits)
            shape = tuple(self.logits.shape)
        self._lims = tuple(lims)
        super().__init__(shape, validate_args=validate_args)

    @lazy_property
    def logits(self) -> Tensor:
        p = _clamp_probs(self.probs)
        return p.log() - (-p).log1p()

    @lazy_property
    def probs(self) -> Tensor:
        return _clamp_probs(self.logits.sigmoid())

    def _stable(self) -> Tensor:
        return (self.probs <= self._lims[0]) | (self.probs > self._lims[1])

    def _cut_probs(self) -> Tensor:
        return ops.where(self._stable(), self.probs, self._lims[0])

    def _cont_bern_log_norm(self) -> Tensor:
        cut = self._cut_probs()
        below = ops.where(cut <= 0.5, cut, 0.0)
        above = ops.where(cut >= 0.5, cut, 1.0)
        log_norm = ((-cut).log1p() - cut.log()).abs().log() - ops.where(
            cut <= 0.5, (-2.0 * below).log1p(), (2.0 * above - 1.0).log()
        )
        x = (self.probs - 0.5) ** 2
        taylor = math.log(2.0) + (4.0 / 3.0 + 104.0 / 45.0 * x) * x
        return ops.where(self._stable(), log_norm, taylor)

    @property
    def mean(self) -> Tensor:
        cut = self._cut_probs()
        mus = cut / (2.0 * cut - 1.0) + 1.0 / ((-cut).log1p() - cut.log())
        x = self.probs - 0.5
        taylor = 0.5 + (1.0 / 3.0 + 16.0 / 45.0 * x * x) * x
        return ops.where(self._stable(), mus, taylor)

    @property
    def variance(self) -> Tensor:
        cut = self._cut_probs()
        v = cut * (cut - 1.0) / (1.0 - 2.0 * cut) ** 2 + 1.0 / ((-cut).log1p() - cut.log()) ** 2
        x = (self.probs - 0.5) ** 2
        taylor = 1.0 / 12.0 - (1.0 / 15.0 - 128.0 / 945.0 * x) * x
        return ops.where(self._stable(), v, taylor)

    @property
    def param_shape(self) -> tuple:
        return tuple(self.__dict__["probs" if "probs" in self.__dict__ else "logits"].shape)

    def rsample(self, sample_shape=()) -> Tensor:
        return self.icdf(_noise(rand, self._extended_shape(sample_shape), self.probs))

    def log_prob(self, value) -> Tensor:
        value = self._value(value, self.probs)
        logits, value = broadcast_all(self.logits, value)
        bce = binary_cross_entropy_with_logits(logits, value, reduction="none")
        return -bce + self._cont_bern_log_norm()

    def cdf(self, value) -> Tensor:
        value = self._value(value, self.probs)
        cut = self._cut_probs()
        cdfs = (cut**value * (1.0 - cut) ** (1.0 - value) + cut - 1.0) / (2.0 * cut - 1.0)
        unbounded = ops.where(self._stable(), cdfs, value)
        return ops.where(value <= 0.0, 0.0, ops.where(value >= 1.0, 1.0, unbounded))

    def icdf(self, value) -> Tensor:
        cut = self._cut_probs()
        inv = ((-cut + value * (2.0 * cut - 1.0)).log1p() - (-cut).log1p()) / (
            cut.log() - (-cut).log1p()
        )
        return ops.where(self._stable(), inv, value)

    def entropy(self) -> Tensor:
        log_p0, log_p1 = (-self.probs).log1p(), self.probs.log()
        return self.mean * (log_p0 - log_p1) - self._cont_bern_log_norm() - log_p0

    _natural_params = property(lambda self: (self.logits,))

    def _log_normalizer(self, x: Tensor) -> Tensor:
        stable = (x <= self._lims[0] - 0.5) | (x > self._lims[1] - 0.5)
        cut = ops.where(stable, x, self._lims[0] - 0.5)
        log_norm = cut.expm1().abs().log() - cut.abs().log()
        taylor = 0.5 * x + x**2 / 24.0 - x**4 / 2880.0
        return ops.where(stable, log_norm, taylor)


class GeneralizedPareto(Distribution):
    """GPD(loc, scale, concentration xi): survival (1 + xi z)^(-1/xi), z = (x - loc) / scale
    (exponential tail at xi = 0)."""

    arg_constraints: ClassVar[dict] = {
        "loc": constraints.real,
        "scale": constraints.positive,
        "concentration": constraints.real,
    }
    has_rsample = True
    _params = ("loc", "scale", "concentration")

    def __init__(self, loc, scale, concentration, validate_args=None) -> None:
        self.loc, self.scale, self.concentration = broadcast_all(loc, scale, concentration)
        super().__init__(tuple(self.loc.shape), validate_args=validate_args)

    def _safe_conc(self) -> tuple:
        zero = self.concentration.abs() <= 1e-8  # torch.isclose(xi, 0)
        return zero, ops.where(zero, 1.0, self.concentration)

    def rsample(self, sample_shape=()) -> Tensor:
        return self.icdf(_noise(rand, self._extended_shape(sample_shape), self.loc))

    def log_prob(self, value) -> Tensor:
        value = self._value(value, self.loc)
        z = (value - self.loc) / self.scale
        zero, conc = self._safe_conc()
        y = 1 / conc + 1
        nonzero = ops.where(y == 0, y, y * (conc * z).log1p())
        return -self.scale.log() - ops.where(zero, z, nonzero)

    def log_survival_function(self, value) -> Tensor:
        value = self._value(value, self.loc)
        z = (value - self.loc) / self.scale
        zero, conc = self._safe_conc()
        return ops.where(zero, -z, -(conc * z).log1p() / conc)

    def log_cdf(self, value) -> Tensor:
        return (-self.log_survival_function(value).exp()).log1p()

    def cdf(self, value) -> Tensor:
        return self.log_cdf(value).exp()

    def icdf(self, value) -> Tensor:
        zero, conc = self._safe_conc()
        logu = (-value).log1p()
        return ops.where(
            zero,
            self.loc - self.scale * logu,
            self.loc + self.scale / conc * (-conc * logu).expm1(),
        )

    @property
    def mean(self) -> Tensor:
        valid = self.concentration < 1
        conc = ops.where(valid, self.concentration, 0.5)
        return ops.where(valid, self.loc + self.scale / (1 - conc), math.nan)

    @property
    def variance(self) -> Tensor:
        valid = self.concentration < 0.5
        conc = ops.where(valid, self.concentration, 0.25)
        return ops.where(valid, self.scale**2 / ((1 - conc) ** 2 * (1 - 2 * conc)), math.nan)

    mode = property(lambda self: self.loc)

    def entropy(self) -> Tensor:
        return (self.scale.log() + self.concentration + 1).broadcast_to(self._batch_shape)

    @constraints.dependent_property(is_discrete=False, event_dim=0)
    def support(self):
        upper = ops.where(
            self.concentration < 0, self.loc - self.scale / self.concentration, math.inf
        )
        return constraints.interval(self.loc, upper)
