"""Discrete distributions: Bernoulli, Categorical, OneHotCategorical (given ``probs`` or
``logits``, the other computed on first use), and Dirichlet on the simplex (normalized gamma
draws from autodiff's generator, reparameterized through the implicit gamma gradient)."""

from __future__ import annotations

import math
from typing import ClassVar

import numpy as np

from .. import ops, special
from ..creation import eye, multinomial, rand
from ..nn.functional import softplus
from ..tensor import Tensor
from ._gamma import standard_gamma
from .continuous import clamp_keep_grad
from .distribution import (
    Distribution,
    broadcast_all,
    constraints,
    eps,
    lazy_property,
    tiny,
)
from .exp_family import ExponentialFamily

__all__ = ["Bernoulli", "Categorical", "Dirichlet", "OneHotCategorical"]


def _one_of(probs, logits, name: str) -> None:
    if (probs is None) == (logits is None):
        raise ValueError("Either `probs` or `logits` must be specified, but not both.")


def _set_probs_or_logits(dist, probs, logits, name: str) -> Tensor:
    """Store whichever of probs / logits is given (exactly one) on ``dist``, broadcast to a
    tensor; the other is derived lazily. Returns the stored one."""
    _one_of(probs, logits, name)
    if probs is not None:
        (dist.probs,) = broadcast_all(probs)
        return dist.probs
    (dist.logits,) = broadcast_all(logits)
    return dist.logits


def _clamp_probs(p: Tensor) -> Tensor:
    e = eps(p)
    return p.clamp(e, 1 - e)


class Bernoulli(ExponentialFamily):
    """Bernoulli(probs) or Bernoulli(logits = log(p / (1 - p)))."""

    arg_constraints: ClassVar[dict] = {
        "probs": constraints.unit_interval,
        "logits": constraints.real,
    }
    support = constraints.boolean
    has_enumerate_support = True
    _params = ("probs", "logits")

    def __init__(self, probs=None, logits=None, validate_args=None) -> None:
        param = _set_probs_or_logits(self, probs, logits, "Bernoulli")
        super().__init__(tuple(param.shape), validate_args=validate_args)

    @lazy_property
    def logits(self) -> Tensor:
        p = _clamp_probs(self.probs)
        return p.log() - (-p).log1p()

    @lazy_property
    def probs(self) -> Tensor:
        return self.logits.sigmoid()

    mean = property(lambda self: self.probs)
    variance = property(lambda self: self.probs * (1 - self.probs))

    @property
    def mode(self) -> Tensor:
        m = (self.probs >= 0.5).to(self.probs.dtype)
        return ops.where(self.probs == 0.5, math.nan, m)

    def sample(self, sample_shape=()) -> Tensor:
        shape = self._extended_shape(sample_shape)
        p = self.probs.detach().expand(shape)
        u = (
            rand(*shape, dtype=p.dtype, device=p.device)
            if shape
            else rand(1, dtype=p.dtype, device=p.device).reshape(())
        )
        return (u < p).to(p.dtype)

    def log_prob(self, value) -> Tensor:
        value = self._value(value, self.logits)
        logits, value = broadcast_all(self.logits, value)
        return logits * value - softplus(logits)  # -BCE with logits

    def entropy(self) -> Tensor:
        return softplus(self.logits) - self.probs * self.logits

    def enumerate_support(self, expand: bool = True) -> Tensor:
        from ..creation import arange

        values = arange(2, dtype=self.logits.dtype, device=self.logits.device)
        values = values.reshape((-1,) + (1,) * len(self._batch_shape))
        return values.expand((-1,) + self._batch_shape) if expand else values

    _mean_carrier_measure = 0
    _natural_params = property(lambda self: (self.logits,))

    def _log_normalizer(self, x: Tensor) -> Tensor:
        return softplus(x)


class Categorical(Distribution):
    """A categorical over K classes given by the last dim of probs (or logits).

    Shape:
        probs/logits: (*, K); batch_shape (*); samples are int64 indices of shape (*).
    """

    arg_constraints: ClassVar[dict] = {
        "probs": constraints.simplex,
        "logits": constraints.independent(constraints.real, 1),
    }
    has_enumerate_support = True
    _params = ("probs", "logits")

    def __init__(self, probs=None, logits=None, validate_args=None) -> None:
        _one_of(probs, logits, "Categorical")
        if probs is not None:
            (probs,) = broadcast_all(probs)
            if probs.ndim < 1:
                raise ValueError("`probs` parameter must be at least one-dimensional.")
            self.probs = probs / probs.sum(-1, keepdim=True)
            param = self.probs
        else:
            (logits,) = broadcast_all(logits)
            if logits.ndim < 1:
                raise ValueError("`logits` parameter must be at least one-dimensional.")
            self.logits = logits - logits.logsumexp(-1, keepdim=True)
            param = self.logits
        self._num_events = param.shape[-1]
        super().__init__(tuple(param.shape[:-1]), validate_args=validate_args)

    @lazy_property
    def logits(self) -> Tensor:
        return _clamp_probs(self.probs).log()

    @lazy_property
    def probs(self) -> Tensor:
        return self.logits.softmax(-1)

    @constraints.dependent_property(is_discrete=True, event_dim=0)
    def support(self):
        return constraints.integer_interval(0, self._num_events - 1)

    param_shape = property(lambda self: tuple(self.probs.shape))
    mean = property(lambda self: (self.probs * math.nan).sum(-1))
    variance = property(lambda self: (self.probs * math.nan).sum(-1))
    mode = property(lambda self: self.probs.argmax(-1))

    def sample(self, sample_shape=()) -> Tensor:
        n = int(np.prod(sample_shape)) if len(sample_shape) else 1
        probs2d = self.probs.detach().reshape(-1, self._num_events)
        draws = multinomial(probs2d, n, True).transpose(0, 1)  # (n, prod(batch))
        return draws.reshape(self._extended_shape(sample_shape))

    def log_prob(self, value) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        value = value.to(self.logits.device).long().unsqueeze(-1)
        shape = np.broadcast_shapes(tuple(value.shape), tuple(self.logits.shape))
        value = value.expand(shape[:-1] + (1,))
        return self.logits.expand(shape).gather(-1, value).squeeze(-1)

    def entropy(self) -> Tensor:
        logits = self.logits.clamp(min=float(np.finfo(self.logits.dtype.np).min))
        return -(logits * self.probs).sum(-1)

    def enumerate_support(self, expand: bool = True) -> Tensor:
        from ..creation import arange

        values = arange(self._num_events, device=self.probs.device)
        values = values.reshape((-1,) + (1,) * len(self._batch_shape))
        return values.expand((-1,) + self._batch_shape) if expand else values


class OneHotCategorical(Distribution):
    """A categorical whose samples are one-hot vectors of length K.

    Shape:
        probs/logits: (*, K); batch_shape (*), event_shape (K,).
    """

    arg_constraints: ClassVar[dict] = Categorical.arg_constraints
    support = constraints.one_hot
    has_enumerate_support = True

    def __init__(self, probs=None, logits=None, validate_args=None) -> None:
        self._categorical = Categorical(probs, logits, validate_args=validate_args)
        super().__init__(
            self._categorical.batch_shape, (self._categorical._num_events,), validate_args=False
        )
        # The parameters were checked by the inner Categorical; values are checked here, by the
        # same rule (the global default unless validate_args says otherwise), as in PyTorch.
        self._validate_args = self._categorical._validate_args

    probs = property(lambda self: self._categorical.probs)
    logits = property(lambda self: self._categorical.logits)
    mean = property(lambda self: self.probs)
    variance = property(lambda self: self.probs * (1 - self.probs))

    @property
    def mode(self) -> Tensor:
        return self._one_hot(self.probs.argmax(-1))

    def _one_hot(self, idx: Tensor) -> Tensor:
        k = self._categorical._num_events
        return eye(k, dtype=self.probs.dtype, device=self.probs.device)[idx]

    def expand(self, batch_shape, _instance=None):
        new = type(self).__new__(type(self))
        new._categorical = self._categorical.expand(batch_shape)
        Distribution.__init__(new, tuple(batch_shape), self._event_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    def sample(self, sample_shape=()) -> Tensor:
        return self._one_hot(self._categorical.sample(sample_shape))

    def log_prob(self, value) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        return self._categorical.log_prob(value.argmax(-1))

    def entropy(self) -> Tensor:
        return self._categorical.entropy()

    def enumerate_support(self, expand: bool = True) -> Tensor:
        """The K one-hot vectors, shape (K, *batch_shape, K) (or (K, 1, ..., 1, K))."""
        k = self._categorical._num_events
        values = eye(k, dtype=self.probs.dtype, device=self.probs.device)
        values = values.reshape((k,) + (1,) * len(self._batch_shape) + (k,))
        return values.expand((k,) + self._batch_shape + (k,)) if expand else values

    def __repr__(self) -> str:
        return f"OneHotCategorical(probs: {tuple(self.probs.shape)})"


class Dirichlet(ExponentialFamily):
    """Dirichlet(concentration) on the simplex of the last dim.

    Shape:
        concentration: (*, K); batch_shape (*), event_shape (K,).
    """

    arg_constraints: ClassVar[dict] = {
        "concentration": constraints.independent(constraints.positive, 1)
    }
    support = constraints.simplex
    has_rsample = True
    _params = ("concentration",)

    def __init__(self, concentration, validate_args=None) -> None:
        (concentration,) = broadcast_all(concentration)
        if concentration.ndim < 1:
            raise ValueError("`concentration` parameter must be at least one-dimensional.")
        self.concentration = concentration
        super().__init__(
            tuple(concentration.shape[:-1]),
            tuple(concentration.shape[-1:]),
            validate_args=validate_args,
        )

    @property
    def mean(self) -> Tensor:
        return self.concentration / self.concentration.sum(-1, keepdim=True)

    @property
    def mode(self) -> Tensor:
        m = (self.concentration - 1).clamp(min=0)
        m = m / m.sum(-1, keepdim=True)
        all_below_one = (self.concentration < 1).all(-1, keepdim=True)
        first = eye(m.shape[-1], dtype=m.dtype, device=m.device)[0]
        return ops.where(all_below_one, first, m)  # PyTorch: one_hot(argmax(nan row)) = e_0

    @property
    def variance(self) -> Tensor:
        c = self.concentration
        c0 = c.sum(-1, keepdim=True)
        return c * (c0 - c) / (c0 * c0 * (c0 + 1))

    def rsample(self, sample_shape=()) -> Tensor:
        """Normalized gamma draws; the gradient flows through each draw's implicit gamma
        gradient and the normalization (PyTorch differentiates the Beta marginals instead:
        the same expected gradient, different per-sample values)."""
        g = standard_gamma(self.concentration.expand(self._extended_shape(sample_shape)))
        return clamp_keep_grad(g / g.sum(-1, keepdim=True), tiny(g), 1 - eps(g))

    def log_prob(self, value) -> Tensor:
        value = self._value(value, self.concentration)
        c = self.concentration
        return (
            special.xlogy(c - 1, value).sum(-1)
            + special.gammaln(c.sum(-1))
            - special.gammaln(c).sum(-1)
        )

    def entropy(self) -> Tensor:
        c = self.concentration
        k = c.shape[-1]
        c0 = c.sum(-1)
        return (
            special.gammaln(c).sum(-1)
            - special.gammaln(c0)
            - (k - c0) * special.digamma(c0)
            - ((c - 1) * special.digamma(c)).sum(-1)
        )

    _natural_params = property(lambda self: (self.concentration,))

    def _log_normalizer(self, x: Tensor) -> Tensor:
        return special.gammaln(x).sum(-1) - special.gammaln(x.sum(-1))
