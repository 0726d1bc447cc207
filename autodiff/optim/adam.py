"""Adam and AdamW (decoupled weight decay), both with the AMSGrad variant."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Callable

from ..tensor import Tensor
from .optimizer import (
    Optimizer,
    _check_betas,
    _check_flags,
    _check_lr,
    _check_nonneg,
    _next_step,
    _step_tensor,
    _value,
)


def _check_adam_args(name: str, lr, betas, eps: float, weight_decay: float) -> None:
    """PyTorch's argument checks shared by the Adam family, in its order."""
    _check_lr(name, lr)
    _check_nonneg(name, eps=eps)
    _check_betas(name, betas)
    _check_nonneg(name, weight_decay=weight_decay)


class Adam(Optimizer):
    """Adam (Kingma & Ba, 2014), PyTorch's formulation.

    With ``g = grad + weight_decay * p`` (negated first when ``maximize``) and step ``t``::

        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g * g
        v_hat = max(v_hat, v) if amsgrad else v
        p = p - lr / (1 - beta1^t) * m / (sqrt(v_hat) / sqrt(1 - beta2^t) + eps)

    Args:
        params: parameters (Tensors) or parameter groups (dicts).
        lr: learning rate (default 1e-3).
        betas: decay rates of the first and second moment estimates (default (0.9, 0.999)).
        eps: added to the denominator for numerical stability (default 1e-8).
        weight_decay: L2 penalty added to the gradient (default 0).
        amsgrad: keep the running maximum of ``v`` (Reddi et al., 2018).
        maximize: maximize the objective instead of minimizing it.
        decoupled_weight_decay: decay the weights directly, as AdamW (default False).
        foreach, capturable, differentiable, fused: accepted (and checked) as PyTorch does;
            one code path runs here.

    Example:
        >>> opt = optim.Adam(model.parameters(), lr=3e-4)
    """

    def __init__(self, params: Iterable, lr: float = 1e-3, betas: tuple = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0, amsgrad: bool = False, *,
                 foreach=None, maximize: bool = False, capturable: bool = False,
                 differentiable: bool = False, fused=None,
                 decoupled_weight_decay: bool = False) -> None:
        name = type(self).__name__
        if isinstance(lr, Tensor) and foreach and not capturable:
            raise ValueError("lr as a Tensor is not supported for capturable=False and "
                             "foreach=True")
        _check_adam_args(name, lr, betas, eps, weight_decay)
        if isinstance(betas[0], Tensor) != isinstance(betas[1], Tensor):
            raise ValueError(f"betas must be either both floats or both Tensors ({name}: got "
                             f"{type(betas[0]).__name__} and {type(betas[1]).__name__})")
        _check_flags(fused, foreach, differentiable)
        super().__init__(params, {"lr": lr, "betas": tuple(betas), "eps": eps,
                                  "weight_decay": weight_decay, "amsgrad": amsgrad,
                                  "maximize": maximize, "foreach": foreach,
                                  "capturable": capturable, "differentiable": differentiable,
                                  "fused": fused,
                                  "decoupled_weight_decay": decoupled_weight_decay})

    def step(self, closure: Callable | None = None):
        """One Adam update of every parameter that has a gradient; returns closure's loss."""
        loss = self._closure(closure)
        for group in self.param_groups:
            lr, eps, wd = _value(group["lr"]), group["eps"], _value(group["weight_decay"])
            beta1, beta2 = (_value(b) for b in group["betas"])
            amsgrad, maximize = group["amsgrad"], group["maximize"]
            decoupled = group.get("decoupled_weight_decay", False)
            for p in group["params"]:
                if p.grad is None:
                    continue
                self._update(p, lr, beta1, beta2, eps, wd, amsgrad, maximize, decoupled)
        return loss

    def _update(self, p, lr, beta1, beta2, eps, wd, amsgrad, maximize, decoupled) -> None:
        xp = p._dev.backend.xp
        data = p._data
        state = self.state[p]
        if not state:
            state["step"] = _step_tensor()
            state["exp_avg"] = self._state_tensor(p)
            state["exp_avg_sq"] = self._state_tensor(p)
        if amsgrad and "max_exp_avg_sq" not in state:
            state["max_exp_avg_sq"] = self._state_tensor(p)
        t = _next_step(state)
        if decoupled:
            if wd:
                xp.multiply(data, 1.0 - lr * wd, out=data)
            g = self._effective_grad(p, 0.0, maximize)
        else:
            g = self._effective_grad(p, wd, maximize)
        m, v = state["exp_avg"]._data, state["exp_avg_sq"]._data
        fused = getattr(p._dev.backend, "adam_update", None)
        vmax = state["max_exp_avg_sq"]._data if amsgrad else None
        # one pass (a GPU kernel; C++ on cpp) instead of the ufunc sequence below, unless the
        # backend declines (returns False)
        if fused is not None and fused(data, g, m, v, vmax, beta1, beta2, lr / (1.0 - beta1**t),
                                       1.0 / math.sqrt(1.0 - beta2**t), eps) is not False:
            p._vc[0] += 1
            return
        tmp = self._work(p)
        # m += (1 - beta1) * (g - m), PyTorch's lerp
        xp.subtract(g, m, out=tmp)
        xp.multiply(tmp, 1.0 - beta1, out=tmp)
        xp.add(m, tmp, out=m)
        # v = beta2 * v + (1 - beta2) * g * g
        xp.multiply(v, beta2, out=v)
        xp.multiply(g, g, out=tmp)
        xp.multiply(tmp, 1.0 - beta2, out=tmp)
        xp.add(v, tmp, out=v)
        if amsgrad:
            vmax = state["max_exp_avg_sq"]._data
            xp.maximum(vmax, v, out=vmax)
            v = vmax
        step_size = lr / (1.0 - beta1**t)
        # denominator sqrt(v) / sqrt(1 - beta2^t) + eps, then p -= step_size * m / denom
        xp.sqrt(v, out=tmp)
        xp.multiply(tmp, 1.0 / math.sqrt(1.0 - beta2**t), out=tmp)
        xp.add(tmp, eps, out=tmp)
        xp.divide(m, tmp, out=tmp)
        xp.multiply(tmp, step_size, out=tmp)
        xp.subtract(data, tmp, out=data)
        p._vc[0] += 1


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter, 2019): before the Adam update,
    ``p = p * (1 - lr * weight_decay)``; the gradient itself is not changed.

    Args are Adam's; ``weight_decay`` defaults to 1e-2.

    Example:
        >>> opt = optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.01)
    """

    def __init__(self, params: Iterable, lr: float = 1e-3, betas: tuple = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 1e-2, amsgrad: bool = False, *,
                 maximize: bool = False, foreach=None, capturable: bool = False,
                 differentiable: bool = False, fused=None) -> None:
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                         amsgrad=amsgrad, foreach=foreach, maximize=maximize,
                         capturable=capturable, differentiable=differentiable, fused=fused,
                         decoupled_weight_decay=True)
