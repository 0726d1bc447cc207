"""Rprop: resilient backpropagation, per-coordinate step sizes driven by gradient signs."""

from __future__ import annotations

from collections.abc import Iterable

from .optimizer import Optimizer, _check_lr, _invalid, _next_step, _step_tensor, _value


class Rprop(Optimizer):
    """Rprop (Riedmiller & Braun, 1993), PyTorch's formulation (the iRprop- variant).

    With ``g`` the gradient (negated when ``maximize``), ``g_prev`` the gradient kept from the
    previous step and ``s`` the per-coordinate step size (starting at ``lr``)::

        f = eta_plus if g * g_prev > 0, eta_minus if g * g_prev < 0, 1 otherwise
        s = clamp(s * f, step_size_min, step_size_max)
        g = 0 where g * g_prev < 0          (skip the update after a sign change)
        p = p - sign(g) * s;  g_prev = g

    Args:
        params: parameters (Tensors) or parameter groups (dicts).
        lr: the initial step size (default 1e-2); read once, when a parameter's state is made.
        etas: ``(eta_minus, eta_plus)``, with ``0 < eta_minus < 1 < eta_plus``
            (default (0.5, 1.2)).
        step_sizes: ``(step_size_min, step_size_max)`` (default (1e-6, 50)).
        maximize: maximize the objective instead of minimizing it.

    Example:
        >>> opt = optim.Rprop(model.parameters(), lr=0.01, etas=(0.5, 1.2))
    """

    def __init__(self, params: Iterable, lr: float = 1e-2, etas: tuple = (0.5, 1.2),
                 step_sizes: tuple = (1e-6, 50), *, capturable: bool = False, foreach=None,
                 maximize: bool = False, differentiable: bool = False) -> None:
        _check_lr("Rprop", lr)
        if not 0.0 < etas[0] < 1.0 < etas[1]:
            raise _invalid("Rprop", f"Invalid eta values: {etas[0]}, {etas[1]}",
                           f"0 < eta_minus < 1 < eta_plus, got {tuple(etas)}")
        super().__init__(params, {"lr": lr, "etas": tuple(etas),
                                  "step_sizes": tuple(step_sizes), "foreach": foreach,
                                  "maximize": maximize, "differentiable": differentiable,
                                  "capturable": capturable})

    def _update(self, p, group: dict) -> None:
        (eta_minus, eta_plus), (lo, hi) = group["etas"], group["step_sizes"]
        xp = p._dev.backend.xp
        state = self.state[p]
        if not state:
            state["step"] = _step_tensor()
            state["prev"] = self._state_tensor(p)
            state["step_size"] = self._state_tensor(p, _value(group["lr"]))
        _next_step(state)
        g = self._effective_grad(p, 0.0, group["maximize"])
        prev, size = state["prev"]._data, state["step_size"]._data
        factor, new_g = self._work(p), self._work(p, 1)
        xp.multiply(g, prev, out=factor)
        xp.sign(factor, out=factor)
        flipped = factor < 0
        factor[factor > 0] = eta_plus
        factor[flipped] = eta_minus
        factor[factor == 0] = 1
        xp.multiply(size, factor, out=size)
        xp.clip(size, lo, hi, out=size)
        new_g[...] = g
        new_g[flipped] = 0
        # p -= sign(g) * step_size; the new g is the next step's g_prev
        xp.sign(new_g, out=factor)
        xp.multiply(factor, size, out=factor)
        xp.subtract(p._data, factor, out=p._data)
        prev[...] = new_g
        p._vc[0] += 1
