"""Adafactor (Shazeer & Stern, 2018) in PyTorch's formulation: factored second moments."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Callable

import numpy as np

from ..tensor import Tensor
from .optimizer import Optimizer, _next_step, _step_tensor, _value, _wrap


def _lerp(xp, start, end, weight: float) -> None:
    """``start.lerp_(end, weight)`` in place on arrays of any shape (PyTorch's branches)."""
    if abs(weight) < 0.5:
        xp.add(start, weight * (end - start), out=start)
    else:
        xp.subtract(end, (end - start) * (1.0 - weight), out=start)


class Adafactor(Optimizer):
    """Adafactor, as ``torch.optim.Adafactor``.

    With ``G = -grad if maximize else grad`` and step ``t``::

        beta2_t = 1 - t^beta2_decay;  rho = min(lr, 1 / sqrt(t))
        alpha = max(eps2, RMS(p)) * rho
        p = p * (1 - lr * weight_decay)
        matrices (factored over the last two dims):
            R = lerp(R, mean(G^2, dim=-1), 1 - beta2_t)
            C = lerp(C, mean(G^2, dim=-2), 1 - beta2_t)
            V = R C / max(mean(R, dim=-2), eps1)
        vectors and scalars: V = lerp(V, G^2, 1 - beta2_t)
        U = G / sqrt(max(V, eps1^2));  p = p - alpha * U / max(1, RMS(U) / d)

    Args:
        params: parameters (Tensors) or parameter groups (dicts).
        lr: the cap on the relative step size rho and the weight-decay factor (default 1e-2).
        beta2_decay: the exponent of the second-moment decay schedule, <= 0 (default -0.8).
        eps: ``(eps1, eps2)``; eps1 None means the parameter dtype's machine epsilon
            (default ``(None, 1e-3)``).
        d: the update-clipping threshold, >= 1 (default 1).
        weight_decay: decoupled weight decay coefficient (default 0).
        foreach: accepted for compatibility (one implementation here).
        maximize: maximize the objective instead of minimizing it.

    State per parameter: ``step`` (a float, as PyTorch's), and ``row_var`` / ``col_var``
    (shapes ``(*, n, 1)`` / ``(*, 1, m)``) for 2-D and larger parameters, else ``variance``.

    Example:
        >>> opt = optim.Adafactor(model.parameters(), lr=1e-2)
    """

    def __init__(self, params: Iterable, lr: float = 1e-2, beta2_decay: float = -0.8,
                 eps: tuple = (None, 1e-3), d: float = 1.0, weight_decay: float = 0.0, *,
                 foreach: bool | None = None, maximize: bool = False) -> None:
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= lr:
            raise ValueError(f"Learning rate should be >= 0 but is: {lr}")
        if not 0.0 >= beta2_decay:
            raise ValueError(f"beta2_decay should be <= 0 but is: {beta2_decay}")
        if eps[0] is not None and not 0.0 <= eps[0]:
            raise ValueError(f"epsilon1 should be >= 0 but is: {eps[0]}")
        if not 0.0 <= eps[1]:
            raise ValueError(f"epsilon2 should be >= 0 but is: {eps[1]}")
        if not 1.0 <= d:
            raise ValueError(f"Clipping threshold d should be >= 1 but is: {d}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"weight_decay should be >= 0 but is: {weight_decay}")
        super().__init__(params, {"lr": lr, "beta2_decay": beta2_decay, "eps": eps, "d": d,
                                  "weight_decay": weight_decay, "foreach": foreach,
                                  "maximize": maximize})

    def step(self, closure: Callable | None = None):
        """One Adafactor update of every parameter that has a gradient."""
        loss = self._closure(closure)
        for group in self.param_groups:
            eps1, eps2 = group["eps"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                if p.is_complex():
                    raise RuntimeError("Adafactor does not support complex parameters")
                if eps1 is None:  # PyTorch resolves it once per group, from the first param
                    eps1 = float(np.finfo(p._data.dtype).eps)
                self._update(p, group, eps1, eps2)
        return loss

    def _init_state(self, p) -> dict:
        state = self.state[p]
        if not state:
            b, shape, dt = p._dev.backend, p._data.shape, p._data.dtype
            state["step"] = _step_tensor()
            if len(shape) > 1:
                state["row_var"] = _wrap(b.zeros(shape[:-1] + (1,), dt), p._dev)
                state["col_var"] = _wrap(b.zeros(shape[:-2] + (1, shape[-1]), dt), p._dev)
            else:
                state["variance"] = self._state_tensor(p)
        return state

    def _update(self, p, group: dict, eps1: float, eps2: float) -> None:
        xp = p._dev.backend.xp
        data = p._data
        state = self._init_state(p)
        g = self._grad_of(p)
        if group["maximize"]:
            g = xp.negative(g)
        t = _next_step(state)
        lr, wd = _value(group["lr"]), group["weight_decay"]
        one_minus_beta2_t = t ** group["beta2_decay"]
        rho_t = min(lr, 1 / (t**0.5))
        numel = max(int(data.size), 1)
        alpha = max(eps2, float(xp.sqrt(xp.sum(data * data))) / (numel**0.5)) * rho_t
        if wd != 0:
            xp.multiply(data, 1 - lr * wd, out=data)
        if data.ndim > 1:
            row_var, col_var = state["row_var"]._data, state["col_var"]._data
            # mean of g^2 along a dim, as PyTorch's norm(g, dim).square() / size
            row_mean = xp.sqrt(xp.sum(g * g, axis=-1, keepdims=True))
            _lerp(xp, row_var, row_mean * row_mean / g.shape[-1], one_minus_beta2_t)
            col_mean = xp.sqrt(xp.sum(g * g, axis=-2, keepdims=True))
            _lerp(xp, col_var, col_mean * col_mean / g.shape[-2], one_minus_beta2_t)
            var_estimate = row_var * col_var  # (*, n, 1) @ (*, 1, m): an outer product
            row_scale = xp.mean(row_var, axis=-2, keepdims=True)
            xp.divide(var_estimate, xp.maximum(row_scale, eps1), out=var_estimate)
        else:
            variance = state["variance"]._data
            _lerp(xp, variance, g * g, one_minus_beta2_t)
            var_estimate = variance.copy()
        # PyTorch's clamp_(min=eps1^2).rsqrt_().mul_(grad)
        update = xp.maximum(var_estimate, eps1 * eps1, out=var_estimate)
        xp.sqrt(update, out=update)
        xp.divide(1.0, update, out=update)
        xp.multiply(update, g, out=update)
        rms = float(xp.sqrt(xp.sum(update * update))) / ((update.size**0.5) * group["d"])
        denom = max(1.0, rms)
        xp.multiply(update, -alpha / denom, out=update)
        xp.add(data, update, out=data)
        p._vc[0] += 1
