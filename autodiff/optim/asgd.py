"""ASGD: averaged stochastic gradient descent (Polyak & Juditsky, 1992)."""

from __future__ import annotations

from collections.abc import Iterable

from ..tensor import Tensor
from .optimizer import (
    Optimizer,
    _check_lr,
    _check_nonneg,
    _next_step,
    _scalar,
    _scalar_state,
    _set_scalar,
    _step_tensor,
    _value,
)


class ASGD(Optimizer):
    """Averaged SGD, PyTorch's formulation.

    With ``g = grad + weight_decay * p`` (negated first when ``maximize``), step ``t`` and
    the per-parameter ``eta`` (starting at ``lr``) and ``mu`` (starting at 1)::

        p = p * (1 - lambd * eta) - eta * g
        ax = p if mu == 1 else ax + mu * (p - ax)     (the running average, state["ax"])
        eta = lr / (1 + lambd * lr * t)^alpha
        mu = 1 / max(1, t - t0)

    ``eta`` and ``mu`` are rounded to float32, as PyTorch keeps them in float32 0-dim
    tensors (float64 when that is the default dtype).

    Args:
        params: parameters (Tensors) or parameter groups (dicts).
        lr: learning rate (default 1e-2).
        lambd: decay term (default 1e-4).
        alpha: power of the eta update (default 0.75).
        t0: the step at which averaging starts (default 1e6).
        weight_decay: L2 penalty (default 0).
        maximize: maximize the objective instead of minimizing it.

    Example:
        >>> opt = optim.ASGD(model.parameters(), lr=0.01, t0=100)
        >>> averaged = opt.state[p]["ax"]
    """

    def __init__(self, params: Iterable, lr: float = 1e-2, lambd: float = 1e-4,
                 alpha: float = 0.75, t0: float = 1e6, weight_decay: float = 0,
                 foreach=None, maximize: bool = False, differentiable: bool = False,
                 capturable: bool = False) -> None:
        _check_lr("ASGD", lr)
        _check_nonneg("ASGD", weight_decay=weight_decay)
        super().__init__(params, {"lr": lr, "lambd": lambd, "alpha": alpha, "t0": t0,
                                  "weight_decay": weight_decay, "foreach": foreach,
                                  "maximize": maximize, "differentiable": differentiable,
                                  "capturable": capturable})

    def _update(self, p, group: dict) -> None:
        lr, lambd = _value(group["lr"]), group["lambd"]
        xp = p._dev.backend.xp
        data = p._data
        state = self.state[p]
        if not state:
            state["step"] = _step_tensor()
            state["eta"] = _scalar_state(p, lr)
            state["mu"] = _scalar_state(p, 1.0)
            state["ax"] = self._state_tensor(p)
        t = _next_step(state)
        g = self._effective_grad(p, group["weight_decay"], group["maximize"])
        eta, mu = float(state["eta"]._data), float(state["mu"]._data)
        ax, tmp = state["ax"]._data, self._work(p)
        xp.multiply(data, 1.0 - lambd * eta, out=data)
        xp.multiply(g, -eta, out=tmp)
        xp.add(data, tmp, out=data)
        if mu != 1:
            xp.subtract(data, ax, out=tmp)
            xp.multiply(tmp, mu, out=tmp)
            xp.add(ax, tmp, out=ax)
        else:
            ax[...] = data
        # PyTorch: eta.copy_(torch.as_tensor(new_eta)): rounded first to the default dtype, or
        # to lr's dtype when lr is a tensor
        eta = lr / ((1 + lambd * lr * t) ** group["alpha"])
        lr_t = group["lr"]
        eta = float(lr_t._data.dtype.type(eta)) if isinstance(lr_t, Tensor) else _scalar(eta)
        _set_scalar(state["eta"], eta)
        _set_scalar(state["mu"], _scalar(1 / max(1, t - group["t0"])))
        p._vc[0] += 1
