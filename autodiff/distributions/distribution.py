"""The ``Distribution`` base class, parameter constraints and shared helpers, after
``torch.distributions`` (batch_shape / event_shape, ``sample`` / ``rsample`` with a
sample_shape, ``expand``, argument validation on by default, ValueError on bad input)."""

from __future__ import annotations

import math
from typing import ClassVar

import numpy as np

from .. import ops
from ..autograd import no_grad
from ..creation import as_tensor
from ..dtypes import get_default_dtype
from ..random import _generator
from ..tensor import Tensor

__all__ = ["Distribution", "constraints"]


# ------------------------------------------------------------------ constraints
class Constraint:
    """A set of valid values; ``check(value)`` is a bool tensor over the batch."""

    event_dim = 0

    def __init__(self, name: str, fn, event_dim: int = 0) -> None:
        self._name, self._fn, self.event_dim = name, fn, event_dim

    def check(self, value: Tensor) -> Tensor:
        return self._fn(value)

    def __repr__(self) -> str:
        return self._name


def _interval(low, high, closed_high: bool = True) -> Constraint:
    if closed_high:
        return Constraint(f"Interval(lower_bound={low}, upper_bound={high})",
                          lambda v: (v >= low) & (v <= high))
    return Constraint(f"HalfOpenInterval(lower_bound={low}, upper_bound={high})",
                      lambda v: (v >= low) & (v < high))


def _is_lower_cholesky(v: Tensor) -> Tensor:
    lower = (v.tril() == v).all(-1).all(-1)
    return lower & (v.diagonal(0, -2, -1) > 0).all(-1)


def _is_positive_definite(v: Tensor) -> Tensor:
    from ..linalg import eigvalsh

    sym = ((v - v.transpose(-2, -1)).abs() <= 1e-6 * (v.abs() + 1)).all(-1).all(-1)
    with no_grad():
        return sym & (eigvalsh(v.detach()) > 0).all(-1)


class constraints:  # a namespace, as torch.distributions.constraints
    real = Constraint("Real()", lambda v: ~v.isnan())
    real_vector = Constraint("IndependentConstraint(Real(), 1)", lambda v: (~v.isnan()).all(-1), 1)
    positive = Constraint("GreaterThan(lower_bound=0.0)", lambda v: v > 0)
    nonnegative = Constraint("GreaterThanEq(lower_bound=0.0)", lambda v: v >= 0)
    unit_interval = _interval(0.0, 1.0)
    boolean = Constraint("Boolean()", lambda v: (v == 0) | (v == 1))
    simplex = Constraint("Simplex()", lambda v: (v >= 0).all(-1) & (
        (v.sum(-1) - 1).abs() < 1e-6), 1)
    one_hot = Constraint("OneHot()", lambda v: ((v == 0) | (v == 1)).all(-1) & (
        v.sum(-1) == 1), 1)
    lower_cholesky = Constraint("LowerCholesky()", _is_lower_cholesky, 2)
    positive_definite = Constraint("PositiveDefinite()", _is_positive_definite, 2)
    interval = staticmethod(_interval)

    @staticmethod
    def integer_interval(low, high) -> Constraint:
        return Constraint(f"IntegerInterval(lower_bound={low}, upper_bound={high})",
                          lambda v: (v % 1 == 0) & (v >= low) & (v <= high))

    @staticmethod
    def independent(base: Constraint, n: int) -> Constraint:
        def fn(v):
            ok = base.check(v)
            for _ in range(n):
                ok = ok.all(-1)
            return ok

        return Constraint(f"IndependentConstraint({base!r}, {n})", fn, base.event_dim + n)


# ------------------------------------------------------------------ helpers
class lazy_property:
    """Computed on first access and cached on the instance (``probs`` from ``logits``)."""

    def __init__(self, fn) -> None:
        self.fn, self.__doc__ = fn, fn.__doc__

    def __get__(self, obj, cls=None):
        if obj is None:
            return self
        value = self.fn(obj)
        obj.__dict__[self.fn.__name__] = value
        return value


def as_float(value, like: Tensor | None = None) -> Tensor:
    if isinstance(value, Tensor):
        return value if value.dtype.is_floating_point else value.to(get_default_dtype())
    if like is not None:
        return as_tensor(value, dtype=like.dtype, device=like.device)
    return as_tensor(value, dtype=get_default_dtype())


def broadcast_all(*values) -> tuple:
    """Parameters as float tensors broadcast to one shape (numbers take a tensor's dtype)."""
    like = next((v for v in values if isinstance(v, Tensor)), None)
    ts = [as_float(v, like if like is None else as_float(like)) for v in values]
    shape = np.broadcast_shapes(*(tuple(t.shape) for t in ts))
    return tuple(t if tuple(t.shape) == shape else t.broadcast_to(shape) for t in ts)


def sum_rightmost(value: Tensor, dim: int) -> Tensor:
    return value.reshape(tuple(value.shape[: value.ndim - dim]) + (-1,)).sum(-1) if dim else \
        value


def host_array(t: Tensor) -> np.ndarray:
    return np.asarray(t.detach().cpu().numpy(), dtype=np.float64)


def host_gen() -> np.random.Generator:
    return _generator(None)


def tiny(t: Tensor) -> float:
    return float(np.finfo(t.dtype.np).tiny)


def eps(t: Tensor) -> float:
    return float(np.finfo(t.dtype.np).eps)


LOG_SQRT_2PI = 0.5 * math.log(2 * math.pi)


# ------------------------------------------------------------------ base class
class Distribution:
    """Base of every distribution: shapes, sampling, validation, moments.

    Args:
        batch_shape: the shape of independent (not identically distributed) draws.
        event_shape: the shape of one draw.
        validate_args: check parameters and ``log_prob`` values (default: on, as PyTorch).
    """

    has_rsample = False
    has_enumerate_support = False
    _validate_args = True
    arg_constraints: ClassVar[dict] = {}
    support: Constraint | None = None

    @staticmethod
    def set_default_validate_args(value: bool) -> None:
        Distribution._validate_args = bool(value)

    def __init__(self, batch_shape=(), event_shape=(), validate_args=None) -> None:
        self._batch_shape, self._event_shape = tuple(batch_shape), tuple(event_shape)
        if validate_args is not None:
            self._validate_args = validate_args
        if not self._validate_args:
            return
        for param, constraint in self.arg_constraints.items():
            if isinstance(getattr(type(self), param, None), lazy_property) and \
                    param not in self.__dict__:
                continue  # the parameter the user did not give
            value = getattr(self, param)
            if not bool(constraint.check(value).all()):
                raise ValueError(
                    f"Expected parameter {param} ({type(value).__name__} of shape "
                    f"{tuple(value.shape)}) of distribution {self!r} to satisfy the "
                    f"constraint {constraint!r}, but found invalid values:\n{value}")

    @property
    def batch_shape(self) -> tuple:
        return self._batch_shape

    @property
    def event_shape(self) -> tuple:
        return self._event_shape

    def _extended_shape(self, sample_shape=()) -> tuple:
        return tuple(sample_shape) + self._batch_shape + self._event_shape

    def sample(self, sample_shape=()) -> Tensor:
        """A draw of shape ``sample_shape + batch_shape + event_shape``, no gradient."""
        with no_grad():
            return self.rsample(sample_shape).detach()

    def rsample(self, sample_shape=()) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__} has no rsample")

    def sample_n(self, n: int) -> Tensor:
        return self.sample((n,))

    def log_prob(self, value) -> Tensor:
        raise NotImplementedError

    def cdf(self, value) -> Tensor:
        raise NotImplementedError

    def icdf(self, value) -> Tensor:
        raise NotImplementedError

    def entropy(self) -> Tensor:
        raise NotImplementedError

    def perplexity(self) -> Tensor:
        return self.entropy().exp()

    @property
    def mean(self) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__} does not implement mean")

    @property
    def mode(self) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__} does not implement mode")

    @property
    def variance(self) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__} does not implement variance")

    @property
    def stddev(self) -> Tensor:
        return self.variance.sqrt()

    _params: tuple = ()  # tensors with shape batch_shape + (per-parameter event dims)

    def expand(self, batch_shape, _instance=None) -> Distribution:
        """The same distribution with its parameters broadcast to ``batch_shape``."""
        batch_shape = tuple(batch_shape)
        new = type(self).__new__(type(self))
        nb = len(self._batch_shape)
        for name in self._params:
            if name in self.__dict__:
                t = self.__dict__[name]
                new.__dict__[name] = t.expand(batch_shape + tuple(t.shape[nb:]))
        for k, v in self.__dict__.items():
            if k not in new.__dict__ and not isinstance(v, Tensor):
                new.__dict__[k] = v
        Distribution.__init__(new, batch_shape, self._event_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    def _validate_sample(self, value: Tensor) -> None:
        if not isinstance(value, Tensor):
            raise TypeError("The value argument to log_prob must be a Tensor")
        event_dim_start = value.ndim - len(self._event_shape)
        if tuple(value.shape[event_dim_start:]) != self._event_shape:
            raise ValueError(f"The right-most size of value must match event_shape: "
                             f"{tuple(value.shape)} vs {self._event_shape}.")
        try:
            np.broadcast_shapes(tuple(value.shape), self._batch_shape + self._event_shape)
        except ValueError:
            raise ValueError(f"Value is not broadcastable with batch_shape+event_shape: "
                             f"{tuple(value.shape)} vs "
                             f"{self._batch_shape + self._event_shape}.") from None
        support = self.support
        if support is not None and not bool(support.check(value).all()):
            raise ValueError(
                f"Expected value argument ({type(value).__name__} of shape "
                f"{tuple(value.shape)}) to be within the support ({support!r}) of the "
                f"distribution {self!r}, but found invalid values:\n{value}")

    def _value(self, value, like: Tensor) -> Tensor:
        value = as_float(value, like) if not isinstance(value, Tensor) else value
        if self._validate_args:
            self._validate_sample(value)
        return value

    def __repr__(self) -> str:
        names = [k for k in self.arg_constraints if k in self.__dict__]
        args = ", ".join(f"{k}: {tuple(self.__dict__[k].shape) if self.__dict__[k].ndim else self.__dict__[k].item()}"
                         for k in names)
        return f"{type(self).__name__}({args})"


def where(cond, a, b):
    return ops.where(cond, a, b)
