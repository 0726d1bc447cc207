"""KL divergences between different univariate families, as ``torch.distributions.kl``
registers them: closed forms where they exist, +inf where p's support is not inside q's.
"""

from __future__ import annotations

import math

from .. import ops, special
from ..creation import full_like
from ..tensor import Tensor
from .continuous import Beta, Exponential, Gamma, Laplace, Normal, Uniform
from .continuous_extra import ContinuousBernoulli
from .counts import Binomial, Poisson
from .discrete import Bernoulli
from .kl import register_kl
from .transformed import EULER, Gumbel, Pareto

__all__: list = []


def _inf_like(t: Tensor) -> Tensor:
    return full_like(t, math.inf)


def _xlogx(t: Tensor) -> Tensor:
    return special.xlogy(t, t)


def _infinite(pairs, param: str) -> None:
    for q_type in pairs[1:]:
        register_kl(pairs[0], q_type)(lambda p, q: _inf_like(getattr(p, param)))


_infinite((Beta, Pareto), "concentration1")
_infinite((ContinuousBernoulli, Pareto), "probs")
_infinite((Exponential, Beta, ContinuousBernoulli, Pareto, Uniform), "rate")
_infinite((Gamma, Beta, ContinuousBernoulli, Pareto, Uniform), "concentration")
_infinite((Gumbel, Beta, ContinuousBernoulli, Exponential, Gamma, Pareto, Uniform), "loc")
_infinite((Laplace, Beta, ContinuousBernoulli, Exponential, Gamma, Pareto, Uniform), "loc")
_infinite((Normal, Beta, ContinuousBernoulli, Exponential, Gamma, Pareto, Uniform), "loc")
_infinite((Pareto, Beta, ContinuousBernoulli, Uniform), "scale")
_infinite((Poisson, Bernoulli, Binomial), "rate")


@register_kl(Bernoulli, Poisson)
def _kl_bernoulli_poisson(p, q):
    return -p.entropy() - (p.probs * q.rate.log() - q.rate)


@register_kl(Beta, ContinuousBernoulli)
def _kl_beta_continuous_bernoulli(p, q):
    return -p.entropy() - p.mean * q.logits - (-q.probs).log1p() - q._cont_bern_log_norm()


@register_kl(Beta, Exponential)
def _kl_beta_exponential(p, q):
    a, b = p.concentration1, p.concentration0
    return -p.entropy() - q.rate.log() + q.rate * (a / (a + b))


@register_kl(Beta, Gamma)
def _kl_beta_gamma(p, q):
    a, b, c = p.concentration1, p.concentration0, q.concentration
    t2 = special.gammaln(c) - c * q.rate.log()
    t3 = (c - 1) * (special.digamma(a) - special.digamma(a + b))
    return -p.entropy() + t2 - t3 + q.rate * a / (a + b)


@register_kl(Beta, Normal)
def _kl_beta_normal(p, q):
    a, b = p.concentration1, p.concentration0
    e = a / (a + b)
    var = q.scale**2
    t2 = 0.5 * (var * 2 * math.pi).log()
    t3 = (e * (1 - e) / (a + b + 1) + e * e) * 0.5
    return -p.entropy() + t2 + (t3 - q.loc * e + q.loc**2 * 0.5) / var


@register_kl(Beta, Uniform)
def _kl_beta_uniform(p, q):
    result = -p.entropy() + (q.high - q.low).log()
    return ops.where((q.low > 0) | (q.high < 1), math.inf, result)


@register_kl(ContinuousBernoulli, Exponential)
def _kl_continuous_bernoulli_exponential(p, q):
    return -p.entropy() - q.rate.log() + q.rate * p.mean


@register_kl(ContinuousBernoulli, Normal)
def _kl_continuous_bernoulli_normal(p, q):
    t2 = 0.5 * (math.log(2.0 * math.pi) + (q.loc / q.scale) ** 2) + q.scale.log()
    t3 = (p.variance + p.mean**2 - 2.0 * q.loc * p.mean) / (2.0 * q.scale**2)
    return -p.entropy() + t2 + t3


@register_kl(ContinuousBernoulli, Uniform)
def _kl_continuous_bernoulli_uniform(p, q):
    result = -p.entropy() + (q.high - q.low).log()
    return ops.where((q.low >= 0) | (q.high <= 1), math.inf, result)  # torch's test, as is


@register_kl(Exponential, Gamma)
def _kl_exponential_gamma(p, q):
    ratio, c = q.rate / p.rate, q.concentration
    return -c * ratio.log() + ratio + special.gammaln(c) + c * EULER - (1 + EULER)


@register_kl(Exponential, Gumbel)
def _kl_exponential_gumbel(p, q):
    prod, ratio = p.rate * q.scale, q.loc / q.scale
    return prod.log() - 1 - ratio + ratio.exp() * prod / (prod + 1) + 1 / prod


@register_kl(Exponential, Normal)
def _kl_exponential_normal(p, q):
    var, rate2 = q.scale**2, p.rate**2
    t1 = 0.5 * (rate2 * var * 2 * math.pi).log()
    return t1 - 1 + (1 / rate2 - q.loc / p.rate + q.loc**2 * 0.5) / var


@register_kl(Gamma, Exponential)
def _kl_gamma_exponential(p, q):
    return -p.entropy() - q.rate.log() + q.rate * p.concentration / p.rate


@register_kl(Gamma, Gumbel)
def _kl_gamma_gumbel(p, q):
    c = p.concentration
    prod, ratio = p.rate * q.scale, q.loc / q.scale
    t1 = (c - 1) * special.digamma(c) - special.gammaln(c) - c
    t2 = prod.log() + c / prod
    t3 = ratio.exp() * (1 + 1 / prod) ** (-c) - ratio
    return t1 + t2 + t3


@register_kl(Gamma, Normal)
def _kl_gamma_normal(p, q):
    c, var, rate2 = p.concentration, q.scale**2, p.rate**2
    t1 = 0.5 * (rate2 * var * 2 * math.pi).log() - c - special.gammaln(c)
    t2 = 0.5 * (c**2 + c) / rate2
    t3 = q.loc * c / p.rate
    return t1 + (c - 1) * special.digamma(c) + (t2 - t3 + 0.5 * q.loc**2) / var


@register_kl(Gumbel, Normal)
def _kl_gumbel_normal(p, q):
    r = p.scale / q.scale
    t1 = (r / math.sqrt(2 * math.pi)).log()
    t2 = (math.pi * r * 0.5) ** 2 / 3
    t3 = ((p.loc + p.scale * EULER - q.loc) / q.scale) ** 2 * 0.5
    return -t1 + t2 + t3 - (EULER + 1)


@register_kl(Laplace, Normal)
def _kl_laplace_normal(p, q):
    var = q.scale**2
    ratio = p.scale**2 / var
    t1 = 0.5 * (2 * ratio / math.pi).log()
    return -t1 + ratio + (0.5 * p.loc**2 - p.loc * q.loc + 0.5 * q.loc**2) / var - 1


@register_kl(Normal, Gumbel)
def _kl_normal_gumbel(p, q):
    m, v, ratio = p.loc / q.scale, (p.scale / q.scale) ** 2, q.loc / q.scale
    t3 = (-m + 0.5 * v + ratio).exp()
    return -v.log() * 0.5 + m - ratio + t3 - 0.5 * (1 + math.log(2 * math.pi))


@register_kl(Normal, Laplace)
def _kl_normal_laplace(p, q):
    diff = p.loc - q.loc
    z = diff / p.scale
    t2 = math.sqrt(2 / math.pi) * p.scale * (-0.5 * z * z).exp()
    t3 = diff * special.erf(math.sqrt(0.5) * z)
    return -(p.scale / q.scale).log() + (t2 + t3) / q.scale - 0.5 * (1 + math.log(0.5 * math.pi))


@register_kl(Pareto, Exponential)
def _kl_pareto_exponential(p, q):
    prod = p.scale * q.rate
    result = (p.alpha / prod).log() - 1 / p.alpha + p.alpha * prod / (p.alpha - 1) - 1
    return ops.where(p.alpha <= 1, math.inf, result)


@register_kl(Pareto, Gamma)
def _kl_pareto_gamma(p, q):
    common = p.scale.log() + 1 / p.alpha
    c = q.concentration
    result = (
        p.alpha.log()
        - common
        + special.gammaln(c)
        - c * q.rate.log()
        + (1 - c) * common
        + q.rate * p.alpha * p.scale / (p.alpha - 1)
        - 1
    )
    return ops.where(p.alpha <= 1, math.inf, result)


@register_kl(Pareto, Normal)
def _kl_pareto_normal(p, q):
    var2 = 2 * q.scale**2
    common = p.scale / (p.alpha - 1)
    t1 = (math.sqrt(2 * math.pi) * q.scale * p.alpha / p.scale).log()
    t3 = p.alpha * common**2 / (p.alpha - 2)
    t4 = (p.alpha * common - q.loc) ** 2
    result = t1 - 1 / p.alpha + (t3 + t4) / var2 - 1
    return ops.where(p.alpha <= 2, math.inf, result)


@register_kl(Uniform, Beta)
def _kl_uniform_beta(p, q):
    w = p.high - p.low
    a, b = q.concentration1, q.concentration0
    t2 = (a - 1) * (_xlogx(p.high) - _xlogx(p.low) - w) / w
    t3 = (b - 1) * (_xlogx(1 - p.high) - _xlogx(1 - p.low) + w) / w
    t4 = special.gammaln(a) + special.gammaln(b) - special.gammaln(a + b)
    result = t3 + t4 - w.log() - t2
    return ops.where((p.high > 1) | (p.low < 0), math.inf, result)


@register_kl(Uniform, ContinuousBernoulli)
def _kl_uniform_continuous_bernoulli(p, q):
    result = -p.entropy() - p.mean * q.logits - (-q.probs).log1p() - q._cont_bern_log_norm()
    return ops.where((p.high >= 1) | (p.low <= 0), math.inf, result)


@register_kl(Uniform, Exponential)
def _kl_uniform_exponential(p, q):
    result = q.rate * (p.high + p.low) / 2 - ((p.high - p.low) * q.rate).log()
    return ops.where(p.low < 0, math.inf, result)


@register_kl(Uniform, Gamma)
def _kl_uniform_gamma(p, q):
    w, c = p.high - p.low, q.concentration
    t2 = special.gammaln(c) - c * q.rate.log()
    t3 = (1 - c) * (_xlogx(p.high) - _xlogx(p.low) - w) / w
    result = -w.log() + t2 + t3 + q.rate * (p.high + p.low) / 2
    return ops.where(p.low < 0, math.inf, result)


@register_kl(Uniform, Gumbel)
def _kl_uniform_gumbel(p, q):
    common = q.scale / (p.high - p.low)
    hi, lo = (p.high - q.loc) / q.scale, (p.low - q.loc) / q.scale
    return common.log() + 0.5 * (hi + lo) - common * ((-hi).exp() - (-lo).exp())


@register_kl(Uniform, Normal)
def _kl_uniform_normal(p, q):
    w = p.high - p.low
    t1 = (math.sqrt(math.pi * 2) * q.scale / w).log()
    t3 = ((p.high + p.low - 2 * q.loc) / 2) ** 2
    return t1 + 0.5 * (w**2 / 12 + t3) / q.scale**2


@register_kl(Uniform, Pareto)
def _kl_uniform_pareto(p, q):
    w = p.high - p.low
    t1 = (q.alpha * q.scale**q.alpha * w).log()
    t2 = (_xlogx(p.high) - _xlogx(p.low) - w) / w
    return ops.where(p.low < q.scale, math.inf, t2 * (q.alpha + 1) - t1)
