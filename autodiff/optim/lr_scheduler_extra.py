"""More learning-rate schedulers, re-exported by ``autodiff.optim.lr_scheduler``: ConstantLR,
MultiplicativeLR, PolynomialLR, CosineAnnealingWarmRestarts, CyclicLR, and the combinators
SequentialLR and ChainedScheduler.

Each follows PyTorch's step-by-step formulas (and its closed forms for ``step(epoch)``), so a
schedule gives the same learning rates here and in PyTorch at every step.
"""

from __future__ import annotations

import math
import types
from bisect import bisect_right
from collections.abc import Sequence
from functools import partial
from typing import Callable

from .lr_scheduler import (
    LRScheduler,
    ReduceLROnPlateau,
    _enable_get_lr_call,
    _load_with_lambdas,
    _per_group,
    _warn_get_lr_called_within_step,
    _with_lambdas,
)
from .optimizer import Optimizer

__all__ = [
    "ChainedScheduler",
    "ConstantLR",
    "CosineAnnealingWarmRestarts",
    "CyclicLR",
    "MultiplicativeLR",
    "PolynomialLR",
    "SequentialLR",
]


class ConstantLR(LRScheduler):
    """lr = base_lr * factor until ``total_iters`` steps, then base_lr.

    Args:
        optimizer: the wrapped optimizer.
        factor: the multiplier before the milestone, in [0, 1] (default 1/3).
        total_iters: the number of steps scaled by ``factor`` (default 5).
        last_epoch: the index of the last epoch, to resume (default -1: start).

    Example:
        >>> sched = optim.lr_scheduler.ConstantLR(opt, factor=0.5, total_iters=4)
    """

    def __init__(self, optimizer: Optimizer, factor: float = 1.0 / 3, total_iters: int = 5,
                 last_epoch: int = -1) -> None:
        if not 0 <= factor <= 1.0:
            raise ValueError(f"ConstantLR: expected a factor between 0 and 1, got {factor}")
        self.factor, self.total_iters = factor, total_iters
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list:
        _warn_get_lr_called_within_step(self)
        if self.last_epoch == 0:
            return [lr * self.factor for lr in self._lrs()]
        if self.last_epoch != self.total_iters:
            return self._lrs()
        return [lr * (1.0 / self.factor) for lr in self._lrs()]

    def _get_closed_form_lr(self) -> list:
        return [b * (self.factor + (self.last_epoch >= self.total_iters) * (1 - self.factor))
                for b in self.base_lrs]


def _lambdas(name: str, lr_lambda, n: int) -> list:
    if isinstance(lr_lambda, (list, tuple)):
        if len(lr_lambda) != n:
            raise ValueError(f"{name}: expected {n} lr_lambdas, got {len(lr_lambda)}")
        fns = list(lr_lambda)
    else:
        fns = [lr_lambda] * n
    for fn in fns:
        if not callable(fn):
            raise TypeError(f"{name}: lr_lambda should be a function, got {type(fn).__name__}")
    return fns


class MultiplicativeLR(LRScheduler):
    """lr = lr * lr_lambda(epoch) at each step (one function, or one per parameter group).

    ``state_dict()`` keeps the ``__dict__`` of callable objects among the functions (None for
    plain functions and lambdas), as PyTorch does.

    Args:
        optimizer: the wrapped optimizer.
        lr_lambda: a function of the epoch giving the factor, or a list with one per group.
        last_epoch: the index of the last epoch, to resume (default -1: start).

    Example:
        >>> sched = optim.lr_scheduler.MultiplicativeLR(opt, lambda epoch: 0.95)
    """

    def __init__(self, optimizer: Optimizer, lr_lambda: Callable | list,
                 last_epoch: int = -1) -> None:
        self.lr_lambdas = _lambdas("MultiplicativeLR", lr_lambda, len(optimizer.param_groups))
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list:
        _warn_get_lr_called_within_step(self)
        if self._is_initial:
            return self._lrs()
        return [lr * fn(self.last_epoch) for lr, fn in zip(self._lrs(), self.lr_lambdas)]

    def state_dict(self) -> dict:
        return _with_lambdas(self, super().state_dict())

    def load_state_dict(self, state_dict: dict) -> None:
        _load_with_lambdas(self, state_dict)


class PolynomialLR(LRScheduler):
    """lr = base_lr * (1 - min(epoch, total_iters) / total_iters) ** power.

    Args:
        optimizer: the wrapped optimizer.
        total_iters: the number of steps over which the lr decays to 0 (default 5).
        power: the power of the polynomial (default 1.0).
        last_epoch: the index of the last epoch, to resume (default -1: start).

    Example:
        >>> sched = optim.lr_scheduler.PolynomialLR(opt, total_iters=50, power=0.9)
    """

    def __init__(self, optimizer: Optimizer, total_iters: int = 5, power: float = 1.0,
                 last_epoch: int = -1) -> None:
        self.total_iters, self.power = total_iters, power
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list:
        _warn_get_lr_called_within_step(self)
        e, n = self.last_epoch, self.total_iters
        if self._is_initial or e > n:
            return self._lrs()
        decay = ((1.0 - e / n) / (1.0 - (e - 1) / n)) ** self.power
        return [lr * decay for lr in self._lrs()]

    def _get_closed_form_lr(self) -> list:
        frac = min(self.total_iters, self.last_epoch) / self.total_iters
        return [b * (1.0 - frac) ** self.power for b in self.base_lrs]


def _check_children(name: str, schedulers: Sequence, optimizer: Optimizer) -> None:
    for i, sched in enumerate(schedulers):
        if not hasattr(sched, "optimizer"):
            raise TypeError(f"{name}: the scheduler at index {i} should have an `optimizer` "
                            "attribute")
        if isinstance(sched, ReduceLROnPlateau):
            msg = f"{name} does not support ReduceLROnPlateau (its step() needs a metric)"
            raise ValueError(f"{msg}, got one at index {i}")  # noqa: TRY004 - as PyTorch
        if sched.optimizer is not optimizer:
            raise ValueError(f"{name} expects all schedulers to belong to the same optimizer, "
                             f"but the {type(sched).__name__} at index {i} has another one")


class _Composite(LRScheduler):
    """A scheduler made of others: its state dict holds theirs under ``_schedulers``."""

    def state_dict(self) -> dict:
        state = {k: v for k, v in self.__dict__.items() if k not in ("optimizer", "_schedulers")}
        state["_schedulers"] = [s.state_dict() for s in self._schedulers]
        return state

    def load_state_dict(self, state_dict: dict) -> None:
        state = dict(state_dict)
        children = state.pop("_schedulers")
        self.__dict__.update(state)
        for sched, saved in zip(self._schedulers, children):
            sched.load_state_dict(saved)


class SequentialLR(_Composite):
    """Run ``schedulers[i]`` between ``milestones[i - 1]`` and ``milestones[i]``; at each
    milestone the next scheduler starts over from epoch 0.

    Args:
        optimizer: the wrapped optimizer (every scheduler's).
        schedulers: the schedulers, in order.
        milestones: the epochs at which to switch (one fewer than ``schedulers``).
        last_epoch: the index of the last epoch (default -1).

    Example:
        >>> warmup = optim.lr_scheduler.LinearLR(opt, start_factor=0.1, total_iters=5)
        >>> decay = optim.lr_scheduler.ExponentialLR(opt, gamma=0.9)
        >>> sched = optim.lr_scheduler.SequentialLR(opt, [warmup, decay], milestones=[5])
    """

    def __init__(self, optimizer: Optimizer, schedulers: list, milestones: list,
                 last_epoch: int = -1) -> None:
        if len(schedulers) < 1:
            raise ValueError("SequentialLR expects at least one scheduler, got none")
        _check_children("SequentialLR", schedulers, optimizer)
        if len(milestones) != len(schedulers) - 1:
            raise ValueError(f"SequentialLR expects one milestone fewer than schedulers, got "
                             f"{len(schedulers)} schedulers and {len(milestones)} milestones")
        self._schedulers = list(schedulers)
        self._milestones = list(milestones)
        self.last_epoch = last_epoch + 1
        self.optimizer = optimizer
        # undo the steps the schedulers took when they were made, then start the first
        for group in optimizer.param_groups:
            group["lr"] = group["initial_lr"]
        self.recursive_undo()
        idx = bisect_right(self._milestones, 0)
        self._schedulers[idx]._initial_step()
        self._last_lr = self._schedulers[idx].get_last_lr()

    def recursive_undo(self, sched=None) -> None:
        """Take back one step of every (nested) scheduler's ``last_epoch``."""
        scheds = self if sched is None else sched
        if hasattr(scheds, "_schedulers"):
            for s in scheds._schedulers:
                self.recursive_undo(s)
        elif hasattr(scheds, "last_epoch"):
            scheds.last_epoch -= 1

    def step(self) -> None:
        """Step the scheduler in charge of this epoch (restarting it at a milestone)."""
        self.last_epoch += 1
        idx = bisect_right(self._milestones, self.last_epoch)
        sched = self._schedulers[idx]
        if idx > 0 and self._milestones[idx - 1] == self.last_epoch:
            sched._update_lr(0)
        else:
            sched.step()
        self._last_lr = sched.get_last_lr()


class ChainedScheduler(_Composite):
    """Step every scheduler in ``schedulers`` at each ``step()``, so their (chainable)
    effects on the lr compose.

    Args:
        schedulers: the schedulers, stepped in order.
        optimizer: their optimizer (default: the first scheduler's).

    Example:
        >>> s1 = optim.lr_scheduler.ConstantLR(opt, factor=0.1, total_iters=2)
        >>> s2 = optim.lr_scheduler.ExponentialLR(opt, gamma=0.9)
        >>> sched = optim.lr_scheduler.ChainedScheduler([s1, s2])
    """

    def __init__(self, schedulers: Sequence, optimizer: Optimizer | None = None) -> None:
        if len(schedulers) < 1:
            raise ValueError("ChainedScheduler expects at least one scheduler, got none")
        optimizer = optimizer or schedulers[0].optimizer
        _check_children("ChainedScheduler", schedulers, optimizer)
        self._schedulers = list(schedulers)
        self.optimizer = optimizer
        self._last_lr = self._lrs()

    def step(self) -> None:
        """Step each scheduler in turn."""
        for sched in self._schedulers:
            sched.step()
        self._last_lr = self._lrs()


class CosineAnnealingWarmRestarts(LRScheduler):
    """SGDR (Loshchilov & Hutter, 2017): cosine annealing from base_lr to ``eta_min`` over
    ``T_i`` epochs, then a restart; ``T_0`` is the first period, each next one ``T_mult``
    times longer::

        lr = eta_min + (base_lr - eta_min) * (1 + cos(pi * T_cur / T_i)) / 2

    ``step(epoch)`` takes a fractional epoch (e.g. ``epoch + batch / batches``) and places
    ``T_cur`` and ``T_i`` by the closed form.

    Args:
        optimizer: the wrapped optimizer.
        T_0: the number of epochs until the first restart (a positive int).
        T_mult: the growth factor of the period after each restart (an int >= 1, default 1).
        eta_min: the minimum learning rate (default 0).
        last_epoch: the index of the last epoch, to resume (default -1: start).

    Example:
        >>> sched = optim.lr_scheduler.CosineAnnealingWarmRestarts(opt, T_0=10, T_mult=2)
        >>> for epoch in range(20):
        ...     for i in range(iters):
        ...         train_batch()
        ...         sched.step(epoch + i / iters)
    """

    def __init__(self, optimizer: Optimizer, T_0: int, T_mult: int = 1, eta_min: float = 0.0,
                 last_epoch: int = -1) -> None:
        if not isinstance(T_0, int) or T_0 <= 0:
            raise ValueError(f"CosineAnnealingWarmRestarts: expected a positive integer T_0, "
                             f"got {T_0}")
        if not isinstance(T_mult, int) or T_mult < 1:
            raise ValueError(f"CosineAnnealingWarmRestarts: expected an integer T_mult >= 1, "
                             f"got {T_mult}")
        if not isinstance(eta_min, (float, int)):
            msg = "CosineAnnealingWarmRestarts: expected a float or int eta_min"
            raise ValueError(f"{msg}, got {type(eta_min).__name__}")  # noqa: TRY004 - as PyTorch
        self.T_0, self.T_i, self.T_mult, self.eta_min = T_0, T_0, T_mult, eta_min
        self.T_cur = last_epoch
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list:
        _warn_get_lr_called_within_step(self)
        cos = 1 + math.cos(math.pi * self.T_cur / self.T_i)
        return [self.eta_min + (b - self.eta_min) * cos / 2 for b in self.base_lrs]

    def step(self, epoch: float | None = None) -> None:
        """Advance one epoch, or jump to ``epoch`` (which may be fractional)."""
        if epoch is None and self.last_epoch < 0:
            epoch = 0
        if epoch is None:
            epoch = self.last_epoch + 1
            self.T_cur = self.T_cur + 1
            if self.T_cur >= self.T_i:
                self.T_cur = self.T_cur % self.T_i
                self.T_i = self.T_i * self.T_mult
        elif epoch < 0:
            raise ValueError(f"CosineAnnealingWarmRestarts: expected a non-negative epoch, got "
                             f"{epoch}")
        elif epoch >= self.T_0:
            if self.T_mult == 1:
                self.T_cur = epoch % self.T_0
            else:  # n restarts so far: T_0 (T_mult^n - 1) / (T_mult - 1) <= epoch
                n = int(math.log((epoch / self.T_0 * (self.T_mult - 1) + 1), self.T_mult))
                self.T_cur = epoch - self.T_0 * (self.T_mult**n - 1) / (self.T_mult - 1)
                self.T_i = self.T_0 * self.T_mult**n
        else:
            self.T_i = self.T_0
            self.T_cur = epoch
        self.last_epoch = math.floor(epoch)
        with _enable_get_lr_call(self):
            lrs = self.get_lr()
        for group, lr in zip(self.optimizer.param_groups, lrs):
            group["lr"] = lr
        self._last_lr = self._lrs()


class CyclicLR(LRScheduler):
    """Cyclical learning rates (Smith, 2017): the lr moves between ``base_lr`` and
    ``max_lr`` in cycles of ``step_size_up + step_size_down`` steps; momentum (or Adam's
    beta1) cycles inversely between ``max_momentum`` and ``base_momentum``. Step once per
    batch. With ``x`` the position in the cycle and ``cycle`` its number (from 1)::

        lr = base_lr + (max_lr - base_lr) * height(x) * scale_fn(cycle or step)

    where ``height`` rises from 0 to 1 over ``step_size_up`` and falls back over
    ``step_size_down``, and ``scale_fn`` is 1 (``"triangular"``), ``1 / 2^(cycle - 1)``
    (``"triangular2"``), ``gamma^step`` (``"exp_range"``) or the given ``scale_fn``.

    Args:
        optimizer: the wrapped optimizer.
        base_lr: the lower lr bound (one value, or one per group).
        max_lr: the upper lr bound (one value, or one per group).
        step_size_up: steps in the rising half of a cycle (default 2000).
        step_size_down: steps in the falling half (default: ``step_size_up``).
        mode: ``"triangular"``, ``"triangular2"`` or ``"exp_range"`` (ignored with scale_fn).
        gamma: the base of ``"exp_range"`` (default 1.0).
        scale_fn: a custom scaling function of one argument, values in [0, 1].
        scale_mode: whether ``scale_fn`` takes the ``"cycle"`` number or the ``"iterations"``.
        cycle_momentum: cycle the momentum (or beta1) too (default True).
        base_momentum: the lower momentum bound (default 0.8).
        max_momentum: the upper momentum bound (default 0.9).
        last_epoch: the index of the last batch, to resume (default -1: start).

    Example:
        >>> opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        >>> sched = optim.lr_scheduler.CyclicLR(opt, base_lr=0.01, max_lr=0.1, step_size_up=10)
    """

    def __init__(self, optimizer: Optimizer, base_lr, max_lr, step_size_up: int = 2000,
                 step_size_down: int | None = None, mode: str = "triangular",
                 gamma: float = 1.0, scale_fn: Callable | None = None,
                 scale_mode: str = "cycle", cycle_momentum: bool = True,
                 base_momentum=0.8, max_momentum=0.9, last_epoch: int = -1) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"CyclicLR: expected an Optimizer, got {type(optimizer).__name__}")
        groups = optimizer.param_groups
        base_lrs = _per_group(base_lr, len(groups), "base_lr")
        if last_epoch == -1:
            for lr, group in zip(base_lrs, groups):
                group["lr"] = lr
        self.max_lrs = _per_group(max_lr, len(groups), "max_lr")
        step_size_up = float(step_size_up)
        step_size_down = float(step_size_down) if step_size_down is not None else step_size_up
        self.total_size = step_size_up + step_size_down
        self.step_ratio = step_size_up / self.total_size
        if mode not in ("triangular", "triangular2", "exp_range") and scale_fn is None:
            raise ValueError(f"CyclicLR: mode must be 'triangular', 'triangular2' or "
                             f"'exp_range' when scale_fn is None, got {mode!r}")
        self.mode, self.gamma = mode, gamma
        self._scale_fn_custom, self.scale_mode = scale_fn, scale_mode
        self._init_scale_fn()
        self.cycle_momentum = cycle_momentum
        if cycle_momentum:
            if "momentum" not in optimizer.defaults and "betas" not in optimizer.defaults:
                raise ValueError("CyclicLR: optimizer must support momentum or betas with "
                                 "cycle_momentum enabled")
            self.use_beta1 = "betas" in optimizer.defaults
            self.base_momentums = _per_group(base_momentum, len(groups), "base_momentum")
            self.max_momentums = _per_group(max_momentum, len(groups), "max_momentum")
            if last_epoch == -1:
                for m_max, m_base, group in zip(self.max_momentums, self.base_momentums,
                                                groups):
                    self._set_momentum(group, m_max)
                    group["max_momentum"], group["base_momentum"] = m_max, m_base
        super().__init__(optimizer, last_epoch)
        self.base_lrs = base_lrs

    def _init_scale_fn(self) -> None:
        if self._scale_fn_custom is not None:
            return
        if self.mode == "triangular":
            self._scale_fn_ref, self.scale_mode = _triangular_scale_fn, "cycle"
        elif self.mode == "triangular2":
            self._scale_fn_ref, self.scale_mode = _triangular2_scale_fn, "cycle"
        else:
            self._scale_fn_ref = partial(_exp_range_scale_fn, self.gamma)
            self.scale_mode = "iterations"

    def scale_fn(self, x) -> float:
        """The scaling policy in use (the custom ``scale_fn`` when one was given)."""
        fn = self._scale_fn_custom if self._scale_fn_custom is not None else self._scale_fn_ref
        return fn(x)

    def _set_momentum(self, group: dict, value: float) -> None:
        if self.use_beta1:
            group["betas"] = (value, *group["betas"][1:])
        else:
            group["momentum"] = value

    def get_lr(self) -> list:
        _warn_get_lr_called_within_step(self)
        cycle = math.floor(1 + self.last_epoch / self.total_size)
        x = 1.0 + self.last_epoch / self.total_size - cycle
        if x <= self.step_ratio:
            scale_factor = x / self.step_ratio
        else:
            scale_factor = (x - 1) / (self.step_ratio - 1)
        at = cycle if self.scale_mode == "cycle" else self.last_epoch
        # scale_fn is called once per group and value, as PyTorch does (it may keep state)
        lrs = [b + (m - b) * scale_factor * self.scale_fn(at)
               for b, m in zip(self.base_lrs, self.max_lrs)]
        if self.cycle_momentum:
            momenta = [m - (m - b) * scale_factor * self.scale_fn(at)
                       for b, m in zip(self.base_momentums, self.max_momentums)]
            for group, momentum in zip(self.optimizer.param_groups, momenta):
                self._set_momentum(group, momentum)
        return lrs

    def state_dict(self) -> dict:
        """As PyTorch: the scaling function is kept only as a callable object's ``__dict__``."""
        state = super().state_dict()
        fn = self._scale_fn_custom
        state["_scale_fn_custom"] = None
        if fn is not None and not isinstance(fn, types.FunctionType):
            state["_scale_fn_custom"] = dict(fn.__dict__)
        return state

    def load_state_dict(self, state_dict: dict) -> None:
        state = dict(state_dict)
        fn = state.pop("_scale_fn_custom", None)
        self.__dict__.update(state)
        if fn is not None:
            self._scale_fn_custom.__dict__.update(fn)
        self._init_scale_fn()


def _triangular_scale_fn(x: float) -> float:
    return 1.0


def _triangular2_scale_fn(x: float) -> float:
    return 1 / (2.0 ** (x - 1))


def _exp_range_scale_fn(gamma: float, x: float) -> float:
    return gamma**x
