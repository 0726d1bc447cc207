"""Stochastic Weight Averaging and EMA (``optim.swa_utils``), as PyTorch's.

``AveragedModel`` keeps a deep copy of a model whose parameters (and, with
``use_buffers=True``, buffers) are a running average of the model's: the first
``update_parameters`` copies them, later calls apply ``avg_fn`` / ``multi_avg_fn`` (an equal
average by default). ``SWALR`` anneals each group's lr to ``swa_lr``; ``update_bn``
recomputes BatchNorm running statistics with one pass over a loader.

Example:
    >>> swa_model = swa_utils.AveragedModel(model)
    >>> swa_sched = swa_utils.SWALR(opt, swa_lr=0.05, anneal_epochs=5)
    >>> for epoch in range(epochs):
    ...     train_one_epoch(model, opt)
    ...     if epoch >= swa_start:
    ...         swa_model.update_parameters(model)
    ...         swa_sched.step()
    >>> swa_utils.update_bn(loader, swa_model)
"""

from __future__ import annotations

import copy
import itertools
import math
from collections.abc import Iterable
from typing import Any, Callable

from .. import creation, dtypes
from ..autograd.grad_mode import no_grad
from ..nn.modules.module import Module
from ..nn.modules.normalization import _BatchNorm
from ..tensor import Tensor
from .lr_scheduler import LRScheduler, _warn_get_lr_called_within_step
from .optimizer import Optimizer, _scalar

__all__ = [
    "SWALR",
    "AveragedModel",
    "get_ema_avg_fn",
    "get_ema_multi_avg_fn",
    "get_swa_avg_fn",
    "get_swa_multi_avg_fn",
    "update_bn",
]


class _ArgumentError(ValueError, AssertionError):
    """A bad argument that PyTorch reports with an AssertionError: catchable as either."""


def _is_float(t: Tensor) -> bool:
    return t.is_floating_point() or t.is_complex()


def _lerp_(start: Tensor, end: Tensor, weight: float) -> None:
    """``start.lerp_(end, weight)`` with PyTorch's two branches (exact at weight 1)."""
    if abs(weight) < 0.5:
        start.copy_(start + weight * (end - start))
    else:
        start.copy_(end - (end - start) * (1.0 - weight))


def _check_decay(decay: float) -> None:
    if decay < 0.0 or decay > 1.0:
        raise ValueError(f"Invalid decay value {decay} provided. Please provide a value in "
                         f"[0,1] range.")


def get_ema_multi_avg_fn(decay: float = 0.999) -> Callable:
    """An in-place EMA over lists of tensors: ``ema = decay * ema + (1 - decay) * model``
    (a lerp for floating tensors), for ``AveragedModel(multi_avg_fn=...)``."""
    _check_decay(decay)

    def ema_update(ema_param_list: list, current_param_list: list, _: Any) -> None:
        with no_grad():
            if _is_float(ema_param_list[0]):
                for p_ema, p_model in zip(ema_param_list, current_param_list):
                    _lerp_(p_ema, p_model, 1 - decay)
            else:
                for p_ema, p_model in zip(ema_param_list, current_param_list):
                    p_ema.copy_(p_ema * decay + p_model * (1 - decay))

    return ema_update


def get_swa_multi_avg_fn() -> Callable:
    """An in-place equal average over lists of tensors:
    ``avg += (model - avg) / (num_averaged + 1)``, for ``AveragedModel(multi_avg_fn=...)``."""

    def swa_update(averaged_param_list: list, current_param_list: list,
                   num_averaged: Tensor | int) -> None:
        with no_grad():
            if _is_float(averaged_param_list[0]):
                # PyTorch's weight 1 / (n + 1) is a tensor of the default dtype for tensor n
                n = int(num_averaged.item()) if isinstance(num_averaged, Tensor) \
                    else num_averaged
                weight = 1.0 / (n + 1)
                if isinstance(num_averaged, Tensor):
                    weight = _scalar(weight)
                for p_avg, p_model in zip(averaged_param_list, current_param_list):
                    _lerp_(p_avg, p_model, weight)
            elif isinstance(num_averaged, Tensor):
                raise RuntimeError(
                    "Integer division with addcdiv is no longer supported, and in a future  "
                    "release addcdiv will perform a true division of tensor1 and tensor2. The "
                    "historic addcdiv behavior can be implemented as (input + value * "
                    "torch.trunc(tensor1 / tensor2)).to(input.dtype) for integer inputs and as "
                    "(input + value * tensor1 / tensor2) for float inputs. The future addcdiv "
                    "behavior is just the latter implementation: (input + value * tensor1 / "
                    "tensor2), for all dtypes.")
            else:
                raise RuntimeError("For integral input tensors, argument alpha must not be a "
                                   "floating point number.")

    return swa_update


def get_ema_avg_fn(decay: float = 0.999) -> Callable:
    """``avg_fn(ema, model, n) = decay * ema + (1 - decay) * model``, for
    ``AveragedModel(avg_fn=...)``."""
    _check_decay(decay)

    def ema_update(ema_param: Tensor, current_param: Tensor, num_averaged: Any) -> Tensor:
        with no_grad():
            return decay * ema_param + (1 - decay) * current_param

    return ema_update


def get_swa_avg_fn() -> Callable:
    """``avg_fn(avg, model, n) = avg + (model - avg) / (n + 1)``, for
    ``AveragedModel(avg_fn=...)``."""

    def swa_update(averaged_param: Tensor, current_param: Tensor,
                   num_averaged: Tensor | int) -> Tensor:
        with no_grad():
            return averaged_param + (current_param - averaged_param) / (num_averaged + 1)

    return swa_update


def _grouped(avg: list, cur: list) -> dict:
    """``{(device, dtype): ([avg...], [cur...])}`` in first-seen order (PyTorch's
    ``_group_tensors_by_device_and_dtype``)."""
    groups: dict = {}
    for a, c in zip(avg, cur):
        key = (str(a.device), a.dtype.name)
        groups.setdefault(key, (a.device, [], []))
        groups[key][1].append(a)
        groups[key][2].append(c)
    return groups


class AveragedModel(Module):
    """A copy of ``model`` whose parameters are a running average of ``model``'s (SWA/EMA).

    Args:
        model: the module to average (deep-copied; the copy is ``self.module``).
        device: where to keep the copy (default: where ``model`` is).
        avg_fn: ``avg_fn(averaged, current, num_averaged) -> Tensor`` for one tensor.
        multi_avg_fn: ``multi_avg_fn(averaged_list, current_list, num_averaged)``, in place,
            called once per (device, dtype) group. Only one of the two may be given;
            without either, parameters are averaged equally.
        use_buffers: average the buffers too (else they are copied from ``model``).

    ``n_averaged`` is an int64 buffer counting the models averaged so far; ``forward``
    calls ``self.module``.

    Example:
        >>> ema = AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(0.99))
        >>> ema.update_parameters(model)
    """

    def __init__(self, model: Module, device=None, avg_fn: Callable | None = None,
                 multi_avg_fn: Callable | None = None, use_buffers: bool = False) -> None:
        super().__init__()
        if avg_fn is not None and multi_avg_fn is not None:
            raise _ArgumentError("Only one of avg_fn and multi_avg_fn should be provided")
        if not isinstance(model, Module):
            raise TypeError(f"AveragedModel: model must be an nn.Module, got "
                            f"{type(model).__name__}")
        self.module = copy.deepcopy(model)
        if device is not None:
            self.module = self.module.to(device)
        self.register_buffer("n_averaged", creation.tensor(0, dtype=dtypes.int64,
                                                           device=device))
        self.avg_fn = avg_fn
        self.multi_avg_fn = multi_avg_fn
        self.use_buffers = use_buffers

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        """The averaged module's forward."""
        return self.module(*args, **kwargs)

    def update_parameters(self, model: Module) -> None:
        """Average ``model``'s parameters (and buffers with ``use_buffers``) into this copy;
        the first call copies them. Increments ``n_averaged``."""
        with no_grad():
            self._update(model)

    def _update(self, model: Module) -> None:
        if self.use_buffers:
            mine = itertools.chain(self.module.parameters(), self.module.buffers())
            theirs = itertools.chain(model.parameters(), model.buffers())
        else:
            mine, theirs = self.parameters(), model.parameters()
        avg, cur = [], []
        first = int(self.n_averaged.item()) == 0
        for p_avg, p_model in zip(mine, theirs):
            p_model_ = p_model.detach().to(p_avg.device)
            avg.append(p_avg.detach())
            cur.append(p_model_)
            if first:
                avg[-1].copy_(p_model_)
        if not first:
            if self.multi_avg_fn is not None or self.avg_fn is None:
                for device, group_avg, group_cur in _grouped(avg, cur).values():
                    n = self.n_averaged.to(device)
                    if self.multi_avg_fn is not None:
                        self.multi_avg_fn(group_avg, group_cur, n)
                    elif device.type == "cuda":  # PyTorch's foreach (lerp) devices
                        get_swa_multi_avg_fn()(group_avg, group_cur, n)
                    else:
                        swa = get_swa_avg_fn()
                        for p_avg, p_model in zip(group_avg, group_cur):
                            p_avg.copy_(swa(p_avg, p_model, n))
            else:
                for p_avg, p_model in zip(avg, cur):
                    n = self.n_averaged.to(p_avg.device)
                    p_avg.copy_(self.avg_fn(p_avg, p_model, n))
        if not self.use_buffers:
            # buffers not averaged are kept in sync with the source model
            mine_b, theirs_b = list(self.module.buffers()), list(model.buffers())
            if len(mine_b) != len(theirs_b):
                raise ValueError(f"AveragedModel.update_parameters: model has "
                                 f"{len(theirs_b)} buffers, the averaged copy {len(mine_b)}")
            for b_swa, b_model in zip(mine_b, theirs_b):
                b_swa.detach().copy_(b_model.detach().to(b_swa.device))
        self.n_averaged.add_(1)


def update_bn(loader: Iterable, model: Module, device=None) -> None:
    """Recompute the running mean/var of every BatchNorm layer in ``model`` with one pass
    over ``loader`` (a cumulative average over its batches).

    Args:
        loader: yields tensors, or lists/tuples whose first element is the input.
        model: the module whose BatchNorm statistics are reset and re-estimated.
        device: if given, each input is moved there first.

    Example:
        >>> update_bn(train_loader, swa_model)
    """
    with no_grad():
        momenta = {}
        for module in model.modules():
            if isinstance(module, _BatchNorm):
                module.reset_running_stats()
                momenta[module] = module.momentum
        if not momenta:
            return
        was_training = model.training
        model.train()
        for module in momenta:
            module.momentum = None
        for batch in loader:
            if isinstance(batch, (list, tuple)):
                batch = batch[0]
            if device is not None:
                batch = batch.to(device)
            model(batch)
        for module, momentum in momenta.items():
            module.momentum = momentum
        model.train(was_training)


def _format_param(name: str, optimizer: Optimizer, param: Any) -> list:
    if isinstance(param, (list, tuple)):
        if len(param) != len(optimizer.param_groups):
            raise ValueError(f"{name} must have the same length as optimizer.param_groups. "
                             f"{name} has {len(param)} values, param_groups has "
                             f"{len(optimizer.param_groups)}.")
        return list(param)
    return [param] * len(optimizer.param_groups)


class SWALR(LRScheduler):
    """Anneal each group's lr from its current value to ``swa_lr`` over ``anneal_epochs``
    steps (cosine or linear), then hold it there.

    Args:
        optimizer: the wrapped optimizer.
        swa_lr: the final lr, one for all groups or a list with one per group.
        anneal_epochs: steps of annealing (default 10; 0 jumps straight to swa_lr).
        anneal_strategy: ``"cos"`` (default) or ``"linear"``.
        last_epoch: the index of the last epoch (default -1).

    Example:
        >>> sched = SWALR(opt, swa_lr=0.05, anneal_epochs=5, anneal_strategy="linear")
    """

    def __init__(self, optimizer: Optimizer, swa_lr: float | list, anneal_epochs: int = 10,
                 anneal_strategy: str = "cos", last_epoch: int = -1) -> None:
        swa_lrs = _format_param("swa_lr", optimizer, swa_lr)
        for lr, group in zip(swa_lrs, optimizer.param_groups):
            group["swa_lr"] = lr
        if anneal_strategy not in ["cos", "linear"]:
            raise ValueError(f"anneal_strategy must be one of 'cos' or 'linear', instead got "
                             f"{anneal_strategy}")
        self._set_anneal_func(anneal_strategy)
        if not isinstance(anneal_epochs, int) or anneal_epochs < 0:
            raise ValueError(f"anneal_epochs must be equal or greater than 0, got "
                             f"{anneal_epochs}")
        self.anneal_epochs = anneal_epochs
        super().__init__(optimizer, last_epoch)

    @staticmethod
    def _linear_anneal(t: float) -> float:
        return t

    @staticmethod
    def _cosine_anneal(t: float) -> float:
        return (1 - math.cos(math.pi * t)) / 2

    @staticmethod
    def _get_initial_lr(lr: float, swa_lr: float, alpha: float) -> float:
        if alpha == 1:
            return swa_lr
        return (lr - alpha * swa_lr) / (1 - alpha)

    def _set_anneal_func(self, anneal_strategy: str) -> None:
        self._anneal_strategy = anneal_strategy
        self.anneal_func = self._cosine_anneal if anneal_strategy == "cos" \
            else self._linear_anneal

    def get_lr(self) -> list:
        """Each group's next lr: PyTorch's step-by-step interpolation towards ``swa_lr``."""
        _warn_get_lr_called_within_step(self)
        step = self._step_count - 1
        if self.anneal_epochs == 0:
            step = max(1, step)
        prev_t = max(0, min(1, (step - 1) / max(1, self.anneal_epochs)))
        prev_alpha = self.anneal_func(prev_t)
        prev_lrs = [self._get_initial_lr(group["lr"], group["swa_lr"], prev_alpha)
                    for group in self.optimizer.param_groups]
        t = max(0, min(1, step / max(1, self.anneal_epochs)))
        alpha = self.anneal_func(t)
        return [group["swa_lr"] * alpha + lr * (1 - alpha)
                for group, lr in zip(self.optimizer.param_groups, prev_lrs)]

    def state_dict(self) -> dict:
        """Everything but the optimizer and the anneal function."""
        return {k: v for k, v in self.__dict__.items() if k not in ("optimizer", "anneal_func")}

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore ``state_dict()``'s values (the anneal function from the strategy)."""
        self.__dict__.update(state_dict)
        self._set_anneal_func(self._anneal_strategy)
