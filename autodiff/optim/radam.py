"""RAdam: Adam with a rectified adaptive learning rate (Liu et al., 2019)."""

from __future__ import annotations

from collections.abc import Iterable

from .adam import _check_adam_args
from .optimizer import Optimizer, _next_step, _step_tensor, _value


class RAdam(Optimizer):
    """RAdam, PyTorch's formulation.

    With ``g = grad + weight_decay * p`` (negated first when ``maximize``; with
    ``decoupled_weight_decay`` instead ``p = p * (1 - lr * weight_decay)``) and step ``t``::

        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g * g
        rho_inf = 2 / (1 - beta2) - 1
        rho_t = rho_inf - 2 t beta2^t / (1 - beta2^t)
        r = sqrt((rho_t - 4)(rho_t - 2) rho_inf / ((rho_inf - 4)(rho_inf - 2) rho_t))
        p = p - lr * m / (1 - beta1^t) * sqrt(1 - beta2^t) / (sqrt(v) + eps) * r   (rho_t > 5)
        p = p - lr * m / (1 - beta1^t)                                               (otherwise)

    Args:
        params: parameters (Tensors) or parameter groups (dicts).
        lr: learning rate (default 1e-3).
        betas: decay rates of the first and second moment estimates (default (0.9, 0.999)).
        eps: added to the denominator (default 1e-8).
        weight_decay: weight decay (default 0).
        decoupled_weight_decay: decay the weights directly, as AdamW does (default False).
        maximize: maximize the objective instead of minimizing it.

    Example:
        >>> opt = optim.RAdam(model.parameters(), lr=1e-3)
    """

    def __init__(self, params: Iterable, lr: float = 1e-3, betas: tuple = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0,
                 decoupled_weight_decay: bool = False, *, foreach=None, maximize: bool = False,
                 capturable: bool = False, differentiable: bool = False) -> None:
        _check_adam_args("RAdam", lr, betas, eps, weight_decay)
        super().__init__(params, {"lr": lr, "betas": tuple(betas), "eps": eps,
                                  "weight_decay": weight_decay, "maximize": maximize,
                                  "foreach": foreach, "capturable": capturable,
                                  "decoupled_weight_decay": decoupled_weight_decay,
                                  "differentiable": differentiable})  # PyTorch's order

    def _update(self, p, group: dict) -> None:
        lr, (beta1, beta2), eps = _value(group["lr"]), group["betas"], group["eps"]
        wd = group["weight_decay"]
        xp = p._dev.backend.xp
        data = p._data
        state = self.state[p]
        if not state:
            state["step"] = _step_tensor()
            state["exp_avg"] = self._state_tensor(p)
            state["exp_avg_sq"] = self._state_tensor(p)
        t = _next_step(state)
        if wd and group["decoupled_weight_decay"]:
            xp.multiply(data, 1.0 - lr * wd, out=data)
            wd = 0.0
        g = self._effective_grad(p, wd, group["maximize"])
        m, v = state["exp_avg"]._data, state["exp_avg_sq"]._data
        tmp, upd = self._work(p), self._work(p, 1)
        self._lerp(p, m, g, 1.0 - beta1)
        xp.multiply(v, beta2, out=v)
        xp.multiply(g, g, out=tmp)
        xp.multiply(tmp, 1.0 - beta2, out=tmp)
        xp.add(v, tmp, out=v)
        bias1, bias2 = 1.0 - beta1**t, 1.0 - beta2**t
        # the bias-corrected first moment times lr, in PyTorch's order of operations
        xp.divide(m, bias1, out=upd)
        xp.multiply(upd, lr, out=upd)
        rho_inf = 2 / (1 - beta2) - 1
        rho_t = rho_inf - 2 * t * (beta2**t) / bias2
        if rho_t > 5.0:
            rect = ((rho_t - 4) * (rho_t - 2) * rho_inf
                    / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
            xp.sqrt(v, out=tmp)
            xp.add(tmp, eps, out=tmp)
            xp.divide(bias2**0.5, tmp, out=tmp)
            xp.multiply(upd, tmp, out=upd)
            xp.multiply(upd, rect, out=upd)
        xp.subtract(data, upd, out=data)
        p._vc[0] += 1
