"""NAdam: Adam with Nesterov momentum (Dozat, 2016), with momentum decay."""

from __future__ import annotations

from collections.abc import Iterable

from .adam import _check_adam_args
from .optimizer import (
    Optimizer,
    _check_nonneg,
    _next_step,
    _scalar_state,
    _step_tensor,
    _value,
)


class NAdam(Optimizer):
    """NAdam, PyTorch's formulation.

    With ``g = grad + weight_decay * p`` (negated first when ``maximize``; with
    ``decoupled_weight_decay`` instead ``p = p * (1 - lr * weight_decay)``, NAdamW) and
    step ``t``::

        mu_t = beta1 * (1 - 0.96^(t * momentum_decay) / 2)
        P_t = mu_1 * ... * mu_t                       (state["mu_product"])
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g * g
        denom = sqrt(v / (1 - beta2^t)) + eps
        p = p - lr * (1 - mu_t) / (1 - P_t) * g / denom
              - lr * mu_{t+1} / (1 - P_t * mu_{t+1}) * m / denom

    ``mu_product`` is rounded to float32 after each step, as PyTorch keeps it in a float32
    0-dim tensor (float64 when that is the default dtype).

    Args:
        params: parameters (Tensors) or parameter groups (dicts).
        lr: learning rate (default 2e-3).
        betas: decay rates of the first and second moment estimates (default (0.9, 0.999)).
        eps: added to the denominator (default 1e-8).
        weight_decay: weight decay (default 0).
        momentum_decay: the momentum decay ``psi`` (default 4e-3).
        decoupled_weight_decay: decay the weights directly, as AdamW does (default False).
        maximize: maximize the objective instead of minimizing it.

    Example:
        >>> opt = optim.NAdam(model.parameters(), lr=2e-3, momentum_decay=4e-3)
    """

    def __init__(self, params: Iterable, lr: float = 2e-3, betas: tuple = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0, momentum_decay: float = 4e-3,
                 decoupled_weight_decay: bool = False, *, foreach=None, maximize: bool = False,
                 capturable: bool = False, differentiable: bool = False) -> None:
        _check_adam_args("NAdam", lr, betas, eps, weight_decay)
        _check_nonneg("NAdam", momentum_decay=momentum_decay)
        super().__init__(params, {"lr": lr, "betas": tuple(betas), "eps": eps,
                                  "weight_decay": weight_decay, "momentum_decay": momentum_decay,
                                  "decoupled_weight_decay": decoupled_weight_decay,
                                  "maximize": maximize, "foreach": foreach,
                                  "capturable": capturable, "differentiable": differentiable})

    def _update(self, p, group: dict) -> None:
        lr, (beta1, beta2), eps = _value(group["lr"]), group["betas"], group["eps"]
        wd, psi = group["weight_decay"], group["momentum_decay"]
        xp = p._dev.backend.xp
        data = p._data
        state = self.state[p]
        if not state:
            state["step"] = _step_tensor()
            state["mu_product"] = _scalar_state(p, 1.0)
            state["exp_avg"] = self._state_tensor(p)
            state["exp_avg_sq"] = self._state_tensor(p)
        t = _next_step(state)
        if wd and group["decoupled_weight_decay"]:
            xp.multiply(data, 1.0 - lr * wd, out=data)
            wd = 0.0
        g = self._effective_grad(p, wd, group["maximize"])
        mu = beta1 * (1.0 - 0.5 * 0.96 ** (t * psi))
        mu_next = beta1 * (1.0 - 0.5 * 0.96 ** ((t + 1) * psi))
        # mu_product *= mu, in the dtype of the 0-dim state tensor (as PyTorch)
        mp = state["mu_product"]._data
        mp[...] = mp * mp.dtype.type(mu)
        mu_product = float(mp)
        m, v = state["exp_avg"]._data, state["exp_avg_sq"]._data
        tmp, denom = self._work(p), self._work(p, 1)
        self._lerp(p, m, g, 1.0 - beta1)
        xp.multiply(v, beta2, out=v)
        xp.multiply(g, g, out=tmp)
        xp.multiply(tmp, 1.0 - beta2, out=tmp)
        xp.add(v, tmp, out=v)
        # denom = sqrt(v / (1 - beta2^t)) + eps
        xp.divide(v, 1.0 - beta2**t, out=denom)
        xp.sqrt(denom, out=denom)
        xp.add(denom, eps, out=denom)
        xp.divide(g, denom, out=tmp)
        xp.multiply(tmp, -lr * (1.0 - mu) / (1.0 - mu_product), out=tmp)
        xp.add(data, tmp, out=data)
        xp.divide(m, denom, out=tmp)
        xp.multiply(tmp, -lr * mu_next / (1.0 - mu_product * mu_next), out=tmp)
        xp.add(data, tmp, out=data)
        p._vc[0] += 1
