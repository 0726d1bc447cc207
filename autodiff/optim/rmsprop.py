"""RMSprop (Hinton's lecture 6e), with momentum and the centered variant."""

from __future__ import annotations

from collections.abc import Iterable

from .optimizer import Optimizer, _check_lr, _check_nonneg, _next_step, _step_tensor, _value


class RMSprop(Optimizer):
    """RMSprop, PyTorch's formulation.

    With ``g = grad + weight_decay * p`` (negated first when ``maximize``)::

        v = alpha * v + (1 - alpha) * g * g
        a = mean_g = alpha-average of g;  denom = sqrt(v - a * a) + eps  (centered)
                                          denom = sqrt(v) + eps          (otherwise)
        b = momentum * b + g / denom;  p = p - lr * b      (momentum > 0)
        p = p - lr * g / denom                              (otherwise)

    Args:
        params: parameters (Tensors) or parameter groups (dicts).
        lr: learning rate (default 1e-2).
        alpha: smoothing constant (default 0.99).
        eps: added to the denominator (default 1e-8).
        weight_decay: L2 penalty (default 0).
        momentum: momentum factor (default 0).
        centered: normalize by an estimate of the gradient's variance.
        maximize: maximize the objective instead of minimizing it.

    Example:
        >>> opt = optim.RMSprop(model.parameters(), lr=1e-3, momentum=0.9)
    """

    def __init__(self, params: Iterable, lr: float = 1e-2, alpha: float = 0.99,
                 eps: float = 1e-8, weight_decay: float = 0, momentum: float = 0,
                 centered: bool = False, *, maximize: bool = False, foreach=None,
                 capturable: bool = False, differentiable: bool = False) -> None:
        _check_lr("RMSprop", lr)
        _check_nonneg("RMSprop", eps=eps, momentum=momentum, weight_decay=weight_decay,
                      alpha=alpha)
        super().__init__(params, {"lr": lr, "momentum": momentum, "alpha": alpha, "eps": eps,
                                  "centered": centered, "weight_decay": weight_decay,
                                  "capturable": capturable, "foreach": foreach,
                                  "maximize": maximize, "differentiable": differentiable})

    def _update(self, p, group: dict) -> None:
        lr, alpha, eps = _value(group["lr"]), group["alpha"], group["eps"]
        momentum, centered = group["momentum"], group["centered"]
        xp = p._dev.backend.xp
        state = self.state[p]
        if not state:
            state["step"] = _step_tensor()
            state["square_avg"] = self._state_tensor(p)
        if momentum > 0 and "momentum_buffer" not in state:
            state["momentum_buffer"] = self._state_tensor(p)
        if centered and "grad_avg" not in state:
            state["grad_avg"] = self._state_tensor(p)
        _next_step(state)
        g = self._effective_grad(p, group["weight_decay"], group["maximize"])
        v = state["square_avg"]._data
        tmp, denom = self._work(p), self._work(p, 1)
        xp.multiply(v, alpha, out=v)
        xp.multiply(g, g, out=tmp)
        xp.multiply(tmp, 1.0 - alpha, out=tmp)
        xp.add(v, tmp, out=v)
        if centered:
            ga = state["grad_avg"]._data
            xp.subtract(g, ga, out=tmp)
            xp.multiply(tmp, 1.0 - alpha, out=tmp)
            xp.add(ga, tmp, out=ga)
            xp.multiply(ga, ga, out=tmp)
            xp.subtract(v, tmp, out=denom)
            xp.sqrt(denom, out=denom)
        else:
            xp.sqrt(v, out=denom)
        xp.add(denom, eps, out=denom)
        data = p._data
        if momentum > 0:
            buf = state["momentum_buffer"]._data
            xp.multiply(buf, momentum, out=buf)
            xp.divide(g, denom, out=tmp)
            xp.add(buf, tmp, out=buf)
            xp.multiply(buf, lr, out=tmp)
        else:
            xp.divide(g, denom, out=tmp)
            xp.multiply(tmp, lr, out=tmp)
        xp.subtract(data, tmp, out=data)
        p._vc[0] += 1
