"""Count distributions, after ``torch.distributions``: Poisson, Binomial, Geometric,
NegativeBinomial, Multinomial and OneHotCategoricalStraightThrough.

Draws come from NumPy's generator in ``autodiff.random`` (``ad.manual_seed`` controls them)
and carry no gradient, except OneHotCategoricalStraightThrough's straight-through
``rsample``.
"""

from __future__ import annotations

import math
from typing import ClassVar

import numpy as np

from .. import ops, special
from ..autograd import no_grad
from ..creation import arange, as_tensor, rand
from ..nn.functional import binary_cross_entropy_with_logits, logsigmoid
from ..tensor import Tensor
from .continuous import Gamma, _noise
from .discrete import (
    Categorical,
    OneHotCategorical,
    _clamp_probs,
    _one_of,
    _set_probs_or_logits,
)
from .distribution import (
    Distribution,
    broadcast_all,
    constraints,
    host_array,
    host_gen,
    lazy_property,
)
from .exp_family import ExponentialFamily

__all__ = [
    "Binomial",
    "Geometric",
    "Multinomial",
    "NegativeBinomial",
    "OneHotCategoricalStraightThrough",
    "Poisson",
]


def _host_draw(like: Tensor, draw, *arrays) -> Tensor:
    with no_grad():
        out = np.asarray(draw(host_gen(), *arrays), dtype=like.dtype.np)
        return as_tensor(out, dtype=like.dtype, device=like.device)


def _binary_logits(p: Tensor) -> Tensor:
    p = _clamp_probs(p)
    return p.log() - (-p).log1p()


class Poisson(ExponentialFamily):
    """Poisson(rate): P(k) = rate^k e^-rate / k!."""

    arg_constraints: ClassVar[dict] = {"rate": constraints.nonnegative}
    support = constraints.nonnegative_integer
    _params = ("rate",)  # no _mean_carrier_measure (E[-log k!]): entropy is not available

    def __init__(self, rate, validate_args=None) -> None:
        (self.rate,) = broadcast_all(rate)
        super().__init__(tuple(self.rate.shape), validate_args=validate_args)

    mean = property(lambda self: self.rate)
    mode = property(lambda self: self.rate.floor())
    variance = property(lambda self: self.rate)

    def sample(self, sample_shape=()) -> Tensor:
        shape = self._extended_shape(sample_shape)
        rate = np.broadcast_to(host_array(self.rate), shape)
        return _host_draw(self.rate, lambda g, r: g.poisson(r), rate)

    def log_prob(self, value) -> Tensor:
        value = self._value(value, self.rate)
        rate, value = broadcast_all(self.rate, value)
        return special.xlogy(value, rate) - rate - special.gammaln(value + 1)

    _natural_params = property(lambda self: (self.rate.log(),))

    def _log_normalizer(self, x: Tensor) -> Tensor:
        return x.exp()


class _BinaryParam(Distribution):
    """Distributions given by ``probs`` or ``logits`` of one binary event per element."""

    _params = ("probs", "logits", "total_count")

    @lazy_property
    def logits(self) -> Tensor:
        return _binary_logits(self.probs)

    @lazy_property
    def probs(self) -> Tensor:
        return self.logits.sigmoid()

    @property
    def param_shape(self) -> tuple:
        return tuple(self.__dict__["probs" if "probs" in self.__dict__ else "logits"].shape)

    def _init_params(self, total_count, probs, logits) -> tuple:
        _one_of(probs, logits, type(self).__name__)
        if probs is not None:
            self.total_count, self.probs = broadcast_all(total_count, probs)
            param = self.probs
        else:
            self.total_count, self.logits = broadcast_all(total_count, logits)
            param = self.logits
        self.total_count = self.total_count.to(param.dtype)
        return tuple(param.shape)


class Binomial(_BinaryParam):
    """Binomial(total_count, probs): the number of successes in total_count trials."""

    arg_constraints: ClassVar[dict] = {
        "total_count": constraints.nonnegative_integer,
        "probs": constraints.unit_interval,
        "logits": constraints.real,
    }
    has_enumerate_support = True

    def __init__(self, total_count=1, probs=None, logits=None, validate_args=None) -> None:
        shape = self._init_params(total_count, probs, logits)
        super().__init__(shape, validate_args=validate_args)

    @constraints.dependent_property(is_discrete=True, event_dim=0)
    def support(self):
        return constraints.integer_interval(0, self.total_count)

    mean = property(lambda self: self.total_count * self.probs)
    variance = property(lambda self: self.total_count * self.probs * (1 - self.probs))

    @property
    def mode(self) -> Tensor:
        return ((self.total_count + 1) * self.probs).floor().clamp(max=self.total_count)

    def sample(self, sample_shape=()) -> Tensor:
        shape = self._extended_shape(sample_shape)
        n = np.broadcast_to(host_array(self.total_count), shape).astype(np.int64)
        p = np.broadcast_to(host_array(self.probs), shape)
        return _host_draw(self.probs, lambda g, n_, p_: g.binomial(n_, p_), n, p)

    def log_prob(self, value) -> Tensor:
        value = self._value(value, self.total_count)
        n, logits = self.total_count, self.logits
        clamp_by_zero = (logits.clamp(min=0) + logits - logits.clamp(max=0)) / 2
        normalize = n * clamp_by_zero + n * (-logits.abs()).exp().log1p() - special.gammaln(n + 1)
        return (
            value * logits - special.gammaln(value + 1) - special.gammaln(n - value + 1) - normalize
        )

    def _homogeneous_count(self, what: str) -> int:
        top = int(self.total_count.max().item())
        if int(self.total_count.min().item()) != top:
            raise NotImplementedError(f"Inhomogeneous total count not supported by `{what}`.")
        return top

    def entropy(self) -> Tensor:
        self._homogeneous_count("entropy")
        log_prob = self.log_prob(self.enumerate_support(False))
        return -(log_prob.exp() * log_prob).sum(0)

    def enumerate_support(self, expand: bool = True) -> Tensor:
        top = self._homogeneous_count("enumerate_support")
        values = arange(1 + top, dtype=self.total_count.dtype, device=self.total_count.device)
        values = values.reshape((-1,) + (1,) * len(self._batch_shape))
        return values.expand((-1,) + self._batch_shape) if expand else values


class Geometric(_BinaryParam):
    """Geometric(probs): the number of failures before the first success."""

    arg_constraints: ClassVar[dict] = {
        "probs": constraints.unit_interval,
        "logits": constraints.real,
    }
    support = constraints.nonnegative_integer

    def __init__(self, probs=None, logits=None, validate_args=None) -> None:
        param = _set_probs_or_logits(self, probs, logits, "Geometric")
        super().__init__(tuple(param.shape), validate_args=validate_args)
        if self._validate_args and probs is not None and not bool((self.probs > 0).all()):
            raise ValueError(
                f"Expected parameter probs (Tensor of shape {tuple(param.shape)}) of "
                f"distribution {self!r} to be positive but found invalid "
                f"values:\n{self.probs}"
            )

    mean = property(lambda self: 1.0 / self.probs - 1.0)
    mode = property(lambda self: self.probs * 0)
    variance = property(lambda self: (1.0 / self.probs - 1.0) / self.probs)

    def sample(self, sample_shape=()) -> Tensor:
        shape = self._extended_shape(sample_shape)
        tiny = float(np.finfo(self.probs.dtype.np).tiny)
        with no_grad():
            u = _noise(rand, shape, self.probs).clamp(min=tiny)
            return (u.log() / (-self.probs.detach()).log1p()).floor()

    def log_prob(self, value) -> Tensor:
        value = self._value(value, self.probs)
        value, probs = broadcast_all(value, self.probs)
        probs = ops.where((probs == 1) & (value == 0), 0.0, probs)
        return value * (-probs).log1p() + self.probs.log()

    def entropy(self) -> Tensor:
        bce = binary_cross_entropy_with_logits(self.logits, self.probs, reduction="none")
        return bce / self.probs


class NegativeBinomial(_BinaryParam):
    """NegativeBinomial(total_count, probs): the number of successes before total_count
    failures, success probability probs."""

    arg_constraints: ClassVar[dict] = {
        "total_count": constraints.greater_than_eq(0),
        "probs": constraints.half_open_interval(0.0, 1.0),
        "logits": constraints.real,
    }
    support = constraints.nonnegative_integer

    def __init__(self, total_count, probs=None, logits=None, validate_args=None) -> None:
        shape = self._init_params(total_count, probs, logits)
        super().__init__(shape, validate_args=validate_args)

    mean = property(lambda self: self.total_count * self.logits.exp())
    variance = property(lambda self: self.mean / (-self.logits).sigmoid())

    @property
    def mode(self) -> Tensor:
        return ((self.total_count - 1) * self.logits.exp()).floor().clamp(min=0.0)

    def sample(self, sample_shape=()) -> Tensor:
        with no_grad():
            rate = Gamma(
                self.total_count.detach(), (-self.logits.detach()).exp(), validate_args=False
            ).sample(sample_shape)
            return _host_draw(rate, lambda g, r: g.poisson(r), host_array(rate))

    def log_prob(self, value) -> Tensor:
        value = self._value(value, self.total_count)
        n, logits = self.total_count, self.logits
        unnormalized = n * logsigmoid(-logits) + value * logsigmoid(logits)
        normalization = (
            -special.gammaln(n + value) + special.gammaln(1.0 + value) + special.gammaln(n)
        )
        normalization = ops.where(n + value == 0.0, 0.0, normalization)
        return unnormalized - normalization


class Multinomial(Distribution):
    """Counts of ``total_count`` draws from a categorical over the last dim of probs.

    Shape:
        probs/logits: (*, K); batch_shape (*), event_shape (K,).
    """

    arg_constraints: ClassVar[dict] = {
        "probs": constraints.simplex,
        "logits": constraints.real_vector,
    }

    def __init__(self, total_count: int = 1, probs=None, logits=None, validate_args=None) -> None:
        if not isinstance(total_count, (int, np.integer)):
            raise NotImplementedError("inhomogeneous total_count is not supported")
        self.total_count = int(total_count)
        self._categorical = Categorical(probs=probs, logits=logits)
        super().__init__(
            self._categorical.batch_shape,
            self._categorical.param_shape[-1:],
            validate_args=validate_args,
        )

    def expand(self, batch_shape, _instance=None) -> Multinomial:
        new = self._get_checked_instance(Multinomial, _instance)
        new.total_count = self.total_count
        new._categorical = self._categorical.expand(batch_shape)
        Distribution.__init__(new, tuple(batch_shape), self._event_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @constraints.dependent_property(is_discrete=True, event_dim=1)
    def support(self):
        return constraints.multinomial(self.total_count)

    probs = property(lambda self: self._categorical.probs)
    logits = property(lambda self: self._categorical.logits)
    param_shape = property(lambda self: self._categorical.param_shape)
    mean = property(lambda self: self.probs * self.total_count)
    variance = property(lambda self: self.total_count * self.probs * (1 - self.probs))

    def sample(self, sample_shape=()) -> Tensor:
        shape = self._extended_shape(sample_shape)
        p = np.broadcast_to(host_array(self.probs), shape)
        p = p / p.sum(-1, keepdims=True)
        return _host_draw(self.probs, lambda g, q: g.multinomial(self.total_count, q), p)

    def entropy(self) -> Tensor:
        n = self.total_count
        term1 = n * self._categorical.entropy() - math.lgamma(n + 1)
        binomial = Binomial(n, probs=self.probs, validate_args=False)
        support = binomial.enumerate_support(expand=False)[1:]
        term2 = (binomial.log_prob(support).exp() * special.gammaln(support + 1)).sum((0, -1))
        return term1 + term2

    def log_prob(self, value) -> Tensor:
        value = self._value(value, self.probs)
        logits, value = broadcast_all(self.logits, value)
        logits = ops.where((value == 0) & (logits == -math.inf), 0.0, logits)
        return (
            special.gammaln(value.sum(-1) + 1)
            - special.gammaln(value + 1).sum(-1)
            + (logits * value).sum(-1)
        )


class OneHotCategoricalStraightThrough(OneHotCategorical):
    """OneHotCategorical whose ``rsample`` passes gradients straight through to ``probs``
    (Bengio et al. 2013): the sample's value, probs' gradient."""

    has_rsample = True

    def rsample(self, sample_shape=()) -> Tensor:
        samples = self.sample(sample_shape)
        probs = self._categorical.probs
        return samples + (probs - probs.detach())
