"""SparseAdam: Adam restricted to the rows a sparse gradient touches, as PyTorch's.

This engine has no sparse tensor layout: every gradient is dense. PyTorch's SparseAdam
rejects dense gradients (``RuntimeError: SparseAdam does not support dense gradients,
please consider Adam instead``) and so does this one, unless the parameter has been
declared row-sparse with ``mark_sparse_grad(param)`` - what ``nn.Embedding(sparse=True)``
gives in PyTorch. For such a parameter the dense gradient stands for a sparse one whose
indices are the rows (slices along dim 0) holding a nonzero entry; only those rows of the
moments and of the parameter are updated, with PyTorch's arithmetic. A row that was looked
up but whose summed gradient is exactly zero is therefore skipped here, where PyTorch would
decay its moments and move it (the one way the two can differ).
"""

from __future__ import annotations

import math
import weakref
from collections.abc import Iterable
from typing import Callable

from ..tensor import Tensor
from .optimizer import Optimizer

__all__ = ["SparseAdam", "mark_sparse_grad"]

# id(param) -> weakref(param): parameters whose dense gradient stands for a row-sparse one
_SPARSE_GRAD: dict = {}


def mark_sparse_grad(param: Tensor, sparse: bool = True) -> Tensor:
    """Declare (or, with ``sparse=False``, undeclare) that ``param``'s gradient is row-sparse,
    as the weight of ``nn.Embedding(sparse=True)`` is in PyTorch, so SparseAdam accepts it.
    Returns ``param``.

    Example:
        >>> emb = nn.Embedding(1000, 16, sparse=True)
        >>> opt = optim.SparseAdam([mark_sparse_grad(emb.weight)], lr=1e-2)
    """
    if not isinstance(param, Tensor):
        raise TypeError(f"mark_sparse_grad: expected a Tensor, got {type(param).__name__}")
    key = id(param)
    if sparse:
        _SPARSE_GRAD[key] = weakref.ref(param, lambda _ref, k=key: _SPARSE_GRAD.pop(k, None))
    else:
        _SPARSE_GRAD.pop(key, None)
    return param


def _is_sparse_grad(p: Tensor) -> bool:
    ref = _SPARSE_GRAD.get(id(p))
    return (ref is not None and ref() is p) or bool(getattr(p.grad, "is_sparse", False))


class SparseAdam(Optimizer):
    """Adam's update applied only to the rows a (row-sparse) gradient touches.

    For the rows ``i`` with a nonzero gradient (``g = -grad`` when ``maximize``), step ``t``::

        m[i] = m[i] + (1 - beta1) * (g[i] - m[i])
        v[i] = v[i] + (1 - beta2) * (g[i]^2 - v[i])
        p[i] = p[i] - lr * sqrt(1 - beta2^t) / (1 - beta1^t) * m[i] / (sqrt(v[i]) + eps)

    Other rows keep their moments and values. The step counter advances on every step.

    Args:
        params: parameters (Tensors) or parameter groups (dicts); each gradient must be
            declared row-sparse with ``mark_sparse_grad`` (see the module docstring).
        lr: learning rate, > 0 (default 1e-3).
        betas: decay rates of the moment estimates (default (0.9, 0.999)).
        eps: added to the denominator, > 0 (default 1e-8).
        maximize: maximize the objective instead of minimizing it.

    Example:
        >>> emb = nn.Embedding(1000, 16, sparse=True)
        >>> opt = optim.SparseAdam([mark_sparse_grad(emb.weight)], lr=1e-2)
    """

    def __init__(self, params: Iterable, lr: float = 1e-3, betas: tuple = (0.9, 0.999),
                 eps: float = 1e-8, maximize: bool = False) -> None:
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 < lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 < eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= betas[0] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
        if not 0.0 <= betas[1] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")
        super().__init__(params, {"lr": lr, "betas": betas, "eps": eps, "maximize": maximize})
        complex_params = [[i, j] for i, group in enumerate(self.param_groups)
                          for j, p in enumerate(group["params"]) if p.is_complex()]
        if complex_params:
            raise ValueError(f"Complex params at indices {complex_params}: SparseAdam does not "
                             f"support complex parameters")

    def step(self, closure: Callable | None = None):
        """One SparseAdam update of every parameter that has a gradient."""
        loss = self._closure(closure)
        for group in self.param_groups:
            params = [p for p in group["params"] if p.grad is not None]
            for p in params:
                if not _is_sparse_grad(p):
                    raise RuntimeError("SparseAdam does not support dense gradients, please "
                                       "consider Adam instead")
            for p in params:
                self._update(p, group)
        return loss

    def _update(self, p, group: dict) -> None:
        xp = p._dev.backend.xp
        state = self.state[p]
        if not state:
            state["step"] = 0
            state["exp_avg"] = self._state_tensor(p)
            state["exp_avg_sq"] = self._state_tensor(p)
        state["step"] = t = state["step"] + 1
        g = self._grad_of(p)
        if group.get("maximize", False):
            g = xp.negative(g)
        nonzero = g != 0
        if g.ndim > 1:
            nonzero = xp.any(nonzero, axis=tuple(range(1, g.ndim)))
        if g.ndim == 0:
            if not bool(nonzero):
                return
            rows = ...
        else:
            rows = xp.nonzero(nonzero)[0]
            if rows.size == 0:  # an empty sparse gradient: no update (PyTorch skips it too)
                return
        beta1, beta2 = group["betas"]
        data, m, v = p._data, state["exp_avg"]._data, state["exp_avg_sq"]._data
        values = g[rows]
        old_m, old_v = m[rows], v[rows]
        upd_m = (values - old_m) * (1 - beta1)
        upd_v = (values * values - old_v) * (1 - beta2)
        m[rows] = old_m + upd_m
        v[rows] = old_v + upd_v
        numer = upd_m + old_m
        denom = xp.sqrt(upd_v + old_v) + group["eps"]
        step_size = group["lr"] * math.sqrt(1 - beta2**t) / (1 - beta1**t)
        data[rows] = data[rows] + (-step_size) * (numer / denom)
        p._vc[0] += 1
