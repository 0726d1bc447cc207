"""Adamax: Adam with the infinity norm of past gradients in place of their second moment."""

from __future__ import annotations

from collections.abc import Iterable

from .adam import _check_adam_args
from .optimizer import Optimizer, _next_step, _step_tensor, _value


class Adamax(Optimizer):
    """Adamax (Kingma & Ba, 2014, section 7.1), PyTorch's formulation.

    With ``g = grad + weight_decay * p`` (negated first when ``maximize``) and step ``t``::

        m = beta1 * m + (1 - beta1) * g
        u = max(beta2 * u, |g| + eps)
        p = p - lr / (1 - beta1^t) * m / u

    Args:
        params: parameters (Tensors) or parameter groups (dicts).
        lr: learning rate (default 2e-3).
        betas: decay rates of the first moment and of the infinity norm (default (0.9, 0.999)).
        eps: added to ``|g|`` for numerical stability (default 1e-8).
        weight_decay: L2 penalty added to the gradient (default 0).
        maximize: maximize the objective instead of minimizing it.

    ``foreach``, ``differentiable`` and ``capturable`` are accepted for PyTorch
    compatibility and ignored (one code path on every device).

    Example:
        >>> opt = optim.Adamax(model.parameters(), lr=2e-3)
    """

    def __init__(self, params: Iterable, lr: float = 2e-3, betas: tuple = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0, foreach=None, *,
                 maximize: bool = False, differentiable: bool = False,
                 capturable: bool = False) -> None:
        _check_adam_args("Adamax", lr, betas, eps, weight_decay)
        super().__init__(params, {"lr": lr, "betas": tuple(betas), "eps": eps,
                                  "weight_decay": weight_decay, "foreach": foreach,
                                  "maximize": maximize, "differentiable": differentiable,
                                  "capturable": capturable})

    def _update(self, p, group: dict) -> None:
        lr, (beta1, beta2), eps = _value(group["lr"]), group["betas"], group["eps"]
        xp = p._dev.backend.xp
        state = self.state[p]
        if not state:
            state["step"] = _step_tensor()
            state["exp_avg"] = self._state_tensor(p)
            state["exp_inf"] = self._state_tensor(p)
        t = _next_step(state)
        g = self._effective_grad(p, group["weight_decay"], group["maximize"])
        m, u, tmp = state["exp_avg"]._data, state["exp_inf"]._data, self._work(p)
        self._lerp(p, m, g, 1.0 - beta1)
        # u = max(beta2 * u, |g| + eps)
        xp.multiply(u, beta2, out=u)
        xp.abs(g, out=tmp)
        xp.add(tmp, eps, out=tmp)
        xp.maximum(u, tmp, out=u)
        # p -= lr / (1 - beta1^t) * m / u
        xp.divide(m, u, out=tmp)
        xp.multiply(tmp, lr / (1.0 - beta1**t), out=tmp)
        xp.subtract(p._data, tmp, out=p._data)
        p._vc[0] += 1
