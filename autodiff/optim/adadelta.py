"""Adadelta (Zeiler, 2012): a learning rate from running averages of squared steps."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Callable

from .optimizer import (
    Optimizer,
    _check_lr,
    _check_nonneg,
    _invalid,
    _next_step,
    _step_tensor,
    _value,
)


class Adadelta(Optimizer):
    """Adadelta, PyTorch's formulation.

    With ``g = grad + weight_decay * p`` (negated first when ``maximize``)::

        v = rho * v + (1 - rho) * g * g
        d = sqrt(u + eps) / sqrt(v + eps) * g
        u = rho * u + (1 - rho) * d * d
        p = p - lr * d

    Args:
        params: parameters (Tensors) or parameter groups (dicts).
        lr: scale of the step (default 1.0).
        rho: decay of the running averages (default 0.9).
        eps: added inside the square roots (default 1e-6).
        weight_decay: L2 penalty (default 0).
        maximize: maximize the objective instead of minimizing it.

    Example:
        >>> opt = optim.Adadelta(model.parameters())
    """

    def __init__(self, params: Iterable, lr: float = 1.0, rho: float = 0.9, eps: float = 1e-6,
                 weight_decay: float = 0, foreach=None, *, capturable: bool = False,
                 maximize: bool = False, differentiable: bool = False) -> None:
        _check_lr("Adadelta", lr)
        if not 0.0 <= rho <= 1.0:
            raise _invalid("Adadelta", f"Invalid rho value: {rho}", f"rho in [0, 1], got {rho}")
        _check_nonneg("Adadelta", eps=eps, weight_decay=weight_decay)
        super().__init__(params, {"lr": lr, "rho": rho, "eps": eps, "weight_decay": weight_decay,
                                  "maximize": maximize, "capturable": capturable,
                                  "foreach": foreach, "differentiable": differentiable})

    def step(self, closure: Callable | None = None):
        """One Adadelta update of every parameter that has a gradient."""
        loss = self._closure(closure)
        for group in self.param_groups:
            lr, rho, eps = _value(group["lr"]), group["rho"], group["eps"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                xp = p._dev.backend.xp
                state = self.state[p]
                if not state:
                    state["step"] = _step_tensor()
                    state["square_avg"] = self._state_tensor(p)
                    state["acc_delta"] = self._state_tensor(p)
                _next_step(state)
                g = self._effective_grad(p, group["weight_decay"], group["maximize"])
                v, u = state["square_avg"]._data, state["acc_delta"]._data
                tmp, delta = self._work(p), self._work(p, 1)
                xp.multiply(v, rho, out=v)
                xp.multiply(g, g, out=tmp)
                xp.multiply(tmp, 1.0 - rho, out=tmp)
                xp.add(v, tmp, out=v)
                xp.add(v, eps, out=tmp)
                xp.sqrt(tmp, out=tmp)
                xp.add(u, eps, out=delta)
                xp.sqrt(delta, out=delta)
                xp.divide(delta, tmp, out=delta)
                xp.multiply(delta, g, out=delta)
                xp.multiply(u, rho, out=u)
                xp.multiply(delta, delta, out=tmp)
                xp.multiply(tmp, 1.0 - rho, out=tmp)
                xp.add(u, tmp, out=u)
                xp.multiply(delta, lr, out=delta)
                xp.subtract(p._data, delta, out=p._data)
                p._vc[0] += 1
        return loss
