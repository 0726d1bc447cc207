"""The ``Distribution`` base class and shared helpers, after ``torch.distributions``
(batch_shape / event_shape, ``sample`` / ``rsample`` with a sample_shape, ``expand``,
argument validation on by default, ValueError on bad input). Constraints live in
constraints.py."""

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
from . import constraints

__all__ = ["Distribution", "constraints"]


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
    return value.reshape(tuple(value.shape[: value.ndim - dim]) + (-1,)).sum(-1) if dim else value


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
    support: constraints.Constraint | None = None

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
            if constraints.is_dependent(constraint):
                continue
            if (
                isinstance(getattr(type(self), param, None), lazy_property)
                and param not in self.__dict__
            ):
                continue  # the parameter the user did not give
            value = getattr(self, param)
            if not bool(constraint.check(value).all()):
                raise ValueError(
                    f"Expected parameter {param} ({type(value).__name__} of shape "
                    f"{tuple(value.shape)}) of distribution {self!r} to satisfy the "
                    f"constraint {constraint!r}, but found invalid values:\n{value}"
                )

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

    def enumerate_support(self, expand: bool = True) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__} does not enumerate its support")

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

    def _get_checked_instance(self, cls: type, _instance=None) -> Distribution:
        """A blank instance for ``expand`` (torch's helper for subclasses)."""
        if _instance is None and type(self).__init__ != cls.__init__:
            raise NotImplementedError(
                f"Subclass {type(self).__name__} of {cls.__name__} that defines a custom "
                f"__init__ method must also define a custom .expand() method."
            )
        return type(self).__new__(type(self)) if _instance is None else _instance

    def _validate_sample(self, value: Tensor) -> None:
        if not isinstance(value, Tensor):
            raise TypeError("The value argument to log_prob must be a Tensor")
        event_dim_start = value.ndim - len(self._event_shape)
        if tuple(value.shape[event_dim_start:]) != self._event_shape:
            raise ValueError(
                f"The right-most size of value must match event_shape: "
                f"{tuple(value.shape)} vs {self._event_shape}."
            )
        try:
            np.broadcast_shapes(tuple(value.shape), self._batch_shape + self._event_shape)
        except ValueError:
            raise ValueError(
                f"Value is not broadcastable with batch_shape+event_shape: "
                f"{tuple(value.shape)} vs "
                f"{self._batch_shape + self._event_shape}."
            ) from None
        support = self.support
        if support is not None and not bool(support.check(value).all()):
            raise ValueError(
                f"Expected value argument ({type(value).__name__} of shape "
                f"{tuple(value.shape)}) to be within the support ({support!r}) of the "
                f"distribution {self!r}, but found invalid values:\n{value}"
            )

    def _value(self, value, like: Tensor) -> Tensor:
        value = as_float(value, like) if not isinstance(value, Tensor) else value
        if self._validate_args:
            self._validate_sample(value)
        return value

    def __repr__(self) -> str:
        names = [k for k in self.arg_constraints if k in self.__dict__]
        args = ", ".join(
            f"{k}: {tuple(self.__dict__[k].shape) if self.__dict__[k].ndim else self.__dict__[k].item()}"
            for k in names
        )
        return f"{type(self).__name__}({args})"


def where(cond, a, b):
    return ops.where(cond, a, b)
