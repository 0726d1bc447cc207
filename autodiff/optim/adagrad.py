"""Adagrad (Duchi et al., 2011): per-coordinate learning rates from summed squared grads."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Callable

from .optimizer import (
    Optimizer,
    _check_flags,
    _check_lr,
    _check_nonneg,
    _next_step,
    _step_tensor,
    _value,
)


class Adagrad(Optimizer):
    """Adagrad, PyTorch's formulation.

    With ``g = grad + weight_decay * p`` (negated first when ``maximize``) and step ``t``::

        clr = lr / (1 + (t - 1) * lr_decay)
        s = s + g * g
        p = p - clr * g / (sqrt(s) + eps)

    Args:
        params: parameters (Tensors) or parameter groups (dicts).
        lr: learning rate (default 1e-2).
        lr_decay: learning rate decay (default 0).
        weight_decay: L2 penalty (default 0).
        initial_accumulator_value: starting value of ``s`` (default 0).
        eps: added to the denominator (default 1e-10).
        maximize: maximize the objective instead of minimizing it.

    Example:
        >>> opt = optim.Adagrad(model.parameters(), lr=0.1)
    """

    def __init__(self, params: Iterable, lr: float = 1e-2, lr_decay: float = 0,
                 weight_decay: float = 0, initial_accumulator_value: float = 0,
                 eps: float = 1e-10, foreach=None, *, maximize: bool = False,
                 differentiable: bool = False, fused=None) -> None:
        _check_lr("Adagrad", lr)
        _check_nonneg("Adagrad", lr_decay=lr_decay, weight_decay=weight_decay,
                      initial_accumulator_value=initial_accumulator_value, eps=eps)
        super().__init__(params, {"lr": lr, "lr_decay": lr_decay, "eps": eps,
                                  "weight_decay": weight_decay,
                                  "initial_accumulator_value": initial_accumulator_value,
                                  "foreach": foreach, "maximize": maximize,
                                  "differentiable": differentiable, "fused": fused})
        _check_flags(fused, foreach, differentiable)
        for group in self.param_groups:  # PyTorch creates Adagrad's state eagerly
            for p in group["params"]:
                self._init_state(p, group)

    def _init_state(self, p, group: dict) -> dict:
        state = self.state[p]
        if not state:
            state["step"] = _step_tensor()
            state["sum"] = self._state_tensor(p, group["initial_accumulator_value"])
        return state

    def step(self, closure: Callable | None = None):
        """One Adagrad update of every parameter that has a gradient."""
        loss = self._closure(closure)
        for group in self.param_groups:
            lr, lr_decay, eps = _value(group["lr"]), group["lr_decay"], group["eps"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                xp = p._dev.backend.xp
                state = self._init_state(p, group)
                t = _next_step(state)
                g = self._effective_grad(p, group["weight_decay"], group["maximize"])
                clr = lr / (1.0 + (t - 1) * lr_decay)
                s, tmp = state["sum"]._data, self._work(p)
                xp.multiply(g, g, out=tmp)
                xp.add(s, tmp, out=s)
                xp.sqrt(s, out=tmp)
                xp.add(tmp, eps, out=tmp)
                xp.divide(g, tmp, out=tmp)
                xp.multiply(tmp, clr, out=tmp)
                xp.subtract(p._data, tmp, out=p._data)
                p._vc[0] += 1
        return loss
