"""Stochastic gradient descent with momentum, dampening, Nesterov and weight decay."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Callable

from .optimizer import Optimizer, _check_flags, _check_lr, _check_nonneg, _value, _wrap


class SGD(Optimizer):
    """Stochastic gradient descent (PyTorch's formulation).

    With ``g = grad + weight_decay * p`` (negated first when ``maximize``)::

        b = g                                   (first step)
        b = momentum * b + (1 - dampening) * g  (later steps)
        d = g + momentum * b if nesterov else b (d = g when momentum == 0)
        p = p - lr * d

    Args:
        params: parameters (Tensors) or parameter groups (dicts).
        lr: learning rate (default 1e-3, as PyTorch 2.13).
        momentum: momentum factor (default 0).
        dampening: dampening of the momentum (default 0).
        weight_decay: L2 penalty (default 0).
        nesterov: Nesterov momentum (needs momentum > 0 and dampening == 0).
        maximize: maximize the objective instead of minimizing it.

    Example:
        >>> opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        >>> opt.zero_grad(); loss.backward(); opt.step()
    """

    def __init__(self, params: Iterable, lr: float = 1e-3, momentum: float = 0,
                 dampening: float = 0, weight_decay: float = 0, nesterov: bool = False,
                 *, maximize: bool = False, foreach=None, differentiable: bool = False,
                 fused=None) -> None:
        _check_lr("SGD", lr)
        _check_nonneg("SGD", momentum=momentum, weight_decay=weight_decay)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening (SGD: "
                             f"got momentum={momentum}, dampening={dampening})")
        _check_flags(fused, foreach, differentiable)
        super().__init__(params, {"lr": lr, "momentum": momentum, "dampening": dampening,
                                  "weight_decay": weight_decay, "nesterov": nesterov,
                                  "maximize": maximize, "foreach": foreach,
                                  "differentiable": differentiable, "fused": fused})

    def step(self, closure: Callable | None = None):
        """One SGD update of every parameter that has a gradient; returns closure's loss."""
        loss = self._closure(closure)
        for group in self.param_groups:
            lr, momentum = _value(group["lr"]), group["momentum"]
            wd = _value(group["weight_decay"])
            dampening, nesterov, maximize = group["dampening"], group["nesterov"], \
                group["maximize"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                xp = p._dev.backend.xp
                data = p._data
                if momentum == 0 and not wd:
                    # the hot path: p -= lr * g, one temporary and one in-place pass
                    tmp = self._work(p)
                    xp.multiply(self._grad_of(p), lr, out=tmp)
                    (xp.add if maximize else xp.subtract)(data, tmp, out=data)
                    p._vc[0] += 1
                    continue
                g = self._effective_grad(p, wd, maximize)
                d = g
                if momentum != 0:
                    state = self.state[p]
                    buf_t = state.get("momentum_buffer")
                    if self._fused(p, g, state, buf_t, lr, momentum, dampening, nesterov):
                        continue
                    if buf_t is None:
                        buf = p._dev.backend.copy(g)
                        state["momentum_buffer"] = _wrap(buf, p._dev)
                    else:
                        buf = buf_t._data
                        xp.multiply(buf, momentum, out=buf)
                        if dampening:
                            tmp = self._work(p)
                            xp.multiply(g, 1.0 - dampening, out=tmp)
                            xp.add(buf, tmp, out=buf)
                        else:
                            xp.add(buf, g, out=buf)
                    if nesterov:
                        d = self._work(p)
                        xp.multiply(buf, momentum, out=d)
                        xp.add(d, g, out=d)
                    else:
                        d = buf
                tmp = self._work(p, 1)
                xp.multiply(d, lr, out=tmp)
                xp.subtract(data, tmp, out=data)
                p._vc[0] += 1
        return loss

    @staticmethod
    def _fused(p, g, state, buf_t, lr, momentum, dampening, nesterov) -> bool:
        """The momentum step in one backend pass (C++ on cpp) where the backend has one and
        takes the arrays; the buffer is made on the first step. False: do it in ufuncs."""
        fused = getattr(p._dev.backend, "sgd_update", None)
        if fused is None:
            return False
        first = buf_t is None
        buf = p._dev.backend.xp.empty_like(p._data) if first else buf_t._data
        if fused(p._data, g, buf, lr, momentum, dampening, nesterov, first) is False:
            return False
        if first:
            state["momentum_buffer"] = _wrap(buf, p._dev)
        p._vc[0] += 1
        return True
