"""L-BFGS with an optional strong-Wolfe line search, a port of PyTorch's ``torch.optim.LBFGS``
(itself after Mark Schmidt's minFunc).

All parameters are handled as one flat vector (the concatenation of every parameter, in
order). The flat vectors are backend arrays on the parameters' device; the scalars of the
algorithm (dot products, step lengths, losses) are Python floats.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Callable

from .optimizer import Optimizer, _cast_state, _wrap

# the state carried from one step() to the next, and which entries hold flat arrays
_HISTORY = ("d", "t", "old_dirs", "old_stps", "ro", "H_diag", "prev_flat_grad", "prev_loss")
_ARRAYS = ("d", "old_dirs", "old_stps", "prev_flat_grad")


def _cubic_interpolate(x1, f1, g1, x2, f2, g2, bounds=None):
    """The minimizer of the cubic through (x1, f1, g1) and (x2, f2, g2), clamped to
    ``bounds`` (default: the interval between x1 and x2); the midpoint when it has none."""
    if bounds is not None:
        xmin_bound, xmax_bound = bounds
    else:
        xmin_bound, xmax_bound = (x1, x2) if x1 <= x2 else (x2, x1)
    d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2)
    d2_square = d1**2 - g1 * g2
    if d2_square >= 0:
        d2 = math.sqrt(d2_square)
        if x1 <= x2:
            min_pos = x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
        else:
            min_pos = x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2))
        return min(max(min_pos, xmin_bound), xmax_bound)
    return (xmin_bound + xmax_bound) / 2.0


def _strong_wolfe(obj_func, xp, t, d, f, g, gtd, c1=1e-4, c2=0.9, tolerance_change=1e-9,
                  max_ls=25):
    """Find a step ``t`` along ``d`` meeting the strong Wolfe conditions: a bracketing
    phase, then a zoom phase by cubic interpolation. ``obj_func(t)`` returns the loss and
    the flat gradient at ``x + t * d``. Returns ``(f_new, g_new, t, evaluations)``."""
    d_norm = float(xp.abs(d).max())
    g = g.copy()
    f_new, g_new = obj_func(t)
    ls_func_evals = 1
    gtd_new = float(xp.dot(g_new, d))
    t_prev, f_prev, g_prev, gtd_prev = 0, f, g, gtd
    done = False
    ls_iter = 0
    while ls_iter < max_ls:  # bracketing
        if f_new > (f + c1 * t * gtd) or (ls_iter > 1 and f_new >= f_prev):
            bracket, bracket_f = [t_prev, t], [f_prev, f_new]
            bracket_g, bracket_gtd = [g_prev, g_new.copy()], [gtd_prev, gtd_new]
            break
        if abs(gtd_new) <= -c2 * gtd:
            bracket, bracket_f, bracket_g = [t], [f_new], [g_new]
            done = True
            break
        if gtd_new >= 0:
            bracket, bracket_f = [t_prev, t], [f_prev, f_new]
            bracket_g, bracket_gtd = [g_prev, g_new.copy()], [gtd_prev, gtd_new]
            break
        # interpolate in [t + 0.01 (t - t_prev), 10 t]
        min_step = t + 0.01 * (t - t_prev)
        max_step = t * 10
        tmp = t
        t = _cubic_interpolate(t_prev, f_prev, gtd_prev, t, f_new, gtd_new,
                               bounds=(min_step, max_step))
        t_prev, f_prev, g_prev, gtd_prev = tmp, f_new, g_new.copy(), gtd_new
        f_new, g_new = obj_func(t)
        ls_func_evals += 1
        gtd_new = float(xp.dot(g_new, d))
        ls_iter += 1
    if ls_iter == max_ls:  # reached the evaluation budget
        bracket, bracket_f, bracket_g = [0, t], [f, f_new], [g, g_new]

    # zoom: shrink the bracket until a point meets the conditions
    insuf_progress = False
    low_pos, high_pos = (0, 1) if bracket_f[0] <= bracket_f[-1] else (1, 0)
    while not done and ls_iter < max_ls:
        if abs(bracket[1] - bracket[0]) * d_norm < tolerance_change:
            break
        t = _cubic_interpolate(bracket[0], bracket_f[0], bracket_gtd[0],
                               bracket[1], bracket_f[1], bracket_gtd[1])
        # keep t away from the bracket's ends unless the last try made too little progress
        eps = 0.1 * (max(bracket) - min(bracket))
        if min(max(bracket) - t, t - min(bracket)) < eps:
            if insuf_progress or t >= max(bracket) or t <= min(bracket):
                if abs(t - max(bracket)) < abs(t - min(bracket)):
                    t = max(bracket) - eps
                else:
                    t = min(bracket) + eps
                insuf_progress = False
            else:
                insuf_progress = True
        else:
            insuf_progress = False
        f_new, g_new = obj_func(t)
        ls_func_evals += 1
        gtd_new = float(xp.dot(g_new, d))
        ls_iter += 1
        if f_new > (f + c1 * t * gtd) or f_new >= bracket_f[low_pos]:
            bracket[high_pos], bracket_f[high_pos] = t, f_new
            bracket_g[high_pos], bracket_gtd[high_pos] = g_new.copy(), gtd_new
            low_pos, high_pos = (0, 1) if bracket_f[0] <= bracket_f[1] else (1, 0)
        else:
            if abs(gtd_new) <= -c2 * gtd:
                done = True
            elif gtd_new * (bracket[high_pos] - bracket[low_pos]) >= 0:
                bracket[high_pos], bracket_f[high_pos] = bracket[low_pos], bracket_f[low_pos]
                bracket_g[high_pos] = bracket_g[low_pos]
                bracket_gtd[high_pos] = bracket_gtd[low_pos]
            bracket[low_pos], bracket_f[low_pos] = t, f_new
            bracket_g[low_pos], bracket_gtd[low_pos] = g_new.copy(), gtd_new
    return bracket_f[low_pos], bracket_g[low_pos], bracket[low_pos], ls_func_evals


class LBFGS(Optimizer):
    """L-BFGS, PyTorch's formulation: each ``step(closure)`` runs up to ``max_iter``
    iterations, each a two-loop recursion over the last ``history_size`` curvature pairs
    for the direction ``d``, then a step ``p = p + t * d`` with ``t = lr`` (the first
    iteration ever: ``min(1, 1 / |g|_1) * lr``) or one found by a strong-Wolfe line search.

    It stops early when ``max|g| <= tolerance_grad``, when ``max|t * d|`` or the change of
    the loss falls below ``tolerance_change``, or after ``max_eval`` closure evaluations.
    Its state (``d``, ``t``, ``old_dirs``, ``old_stps``, ``ro``, ``H_diag``,
    ``prev_flat_grad``, ``prev_loss``, ``func_evals``, ``n_iter``) is kept under the first
    parameter, as in PyTorch.

    Args:
        params: parameters (Tensors); one parameter group only.
        lr: learning rate (default 1).
        max_iter: iterations per ``step()`` (default 20).
        max_eval: closure evaluations per ``step()`` (default ``max_iter * 5 // 4``).
        tolerance_grad: stop when the largest gradient entry is at most this (default 1e-7).
        tolerance_change: stop when the loss or the step changes less (default 1e-9).
        history_size: number of curvature pairs kept (default 100).
        line_search_fn: None (a fixed step) or ``"strong_wolfe"``.

    Example:
        >>> opt = optim.LBFGS([x], lr=1, line_search_fn="strong_wolfe")
        >>> def closure():
        ...     opt.zero_grad()
        ...     loss = f(x)
        ...     loss.backward()
        ...     return loss
        >>> opt.step(closure)
    """

    def __init__(self, params: Iterable, lr: float = 1, max_iter: int = 20,
                 max_eval: int | None = None, tolerance_grad: float = 1e-7,
                 tolerance_change: float = 1e-9, history_size: int = 100,
                 line_search_fn: str | None = None) -> None:
        if lr < 0.0:
            raise ValueError(f"LBFGS: invalid learning rate {lr}; expected >= 0")
        if line_search_fn not in (None, "strong_wolfe"):
            raise ValueError(f"LBFGS: line_search_fn must be None or 'strong_wolfe', got "
                             f"{line_search_fn!r}")
        if max_eval is None:
            max_eval = max_iter * 5 // 4
        super().__init__(params, {"lr": lr, "max_iter": max_iter, "max_eval": max_eval,
                                  "tolerance_grad": tolerance_grad,
                                  "tolerance_change": tolerance_change,
                                  "history_size": history_size,
                                  "line_search_fn": line_search_fn})
        if len(self.param_groups) != 1:
            raise ValueError("LBFGS doesn't support per-parameter options (parameter groups)")
        self._params = self.param_groups[0]["params"]

    def add_param_group(self, param_group: dict) -> None:
        if self.param_groups:
            raise ValueError("LBFGS doesn't support per-parameter options (parameter groups)")
        super().add_param_group(param_group)

    # ----------------------------------------------------------------- flat vectors
    def _backend(self):
        return self._params[0]._dev.backend

    def _gather_flat_grad(self):
        """A new flat array of every parameter's gradient (zeros where it has none)."""
        b = self._backend()
        views = []
        for p in self._params:
            if p.grad is None:
                views.append(b.zeros((p._data.size,), p._data.dtype))
            else:
                views.append(self._grad_of(p).reshape(-1))
        return b.contiguous(b.xp.concatenate(views, 0))

    def _add_grad(self, step_size: float, update) -> None:
        """``p += step_size * update`` for each parameter's slice of the flat ``update``."""
        xp = self._backend().xp
        offset = 0
        for p in self._params:
            n = p._data.size
            tmp = self._work(p)
            xp.multiply(update[offset:offset + n].reshape(p._data.shape), step_size, out=tmp)
            xp.add(p._data, tmp, out=p._data)
            p._vc[0] += 1
            offset += n

    def _clone_param(self) -> list:
        b = self._backend()
        return [b.copy(p._data) for p in self._params]

    def _set_param(self, params_data: list) -> None:
        for p, data in zip(self._params, params_data):
            p._data[...] = data
            p._vc[0] += 1

    def _directional_evaluate(self, closure, x, t, d):
        """The loss and flat gradient at ``x + t * d``; the parameters go back to ``x``."""
        self._add_grad(t, d)
        loss = float(self._closure(closure))
        flat_grad = self._gather_flat_grad()
        self._set_param(x)
        return loss, flat_grad

    # ----------------------------------------------------------------- state
    def _save_state(self, state: dict, hist: dict) -> None:
        """Store the history as PyTorch does, arrays wrapped as Tensors (for ``ad.save``)."""
        dev = self._params[0]._dev
        for key in _HISTORY:
            v = hist[key]
            if key in _ARRAYS and v is not None:
                v = [_wrap(a, dev) for a in v] if isinstance(v, list) else _wrap(v, dev)
            state[key] = v

    @staticmethod
    def _load(value):
        if value is None:
            return None
        if isinstance(value, list):
            return [t._data for t in value]
        return value._data

    def load_state_dict(self, state_dict: dict) -> None:
        """As ``Optimizer.load_state_dict``; also moves the saved history onto the device."""
        super().load_state_dict(state_dict)
        for p, state in self.state.items():
            for key in ("old_dirs", "old_stps"):
                if key in state:
                    state[key] = [_cast_state(key, t, p) for t in state[key]]

    # ----------------------------------------------------------------- step
    def _direction(self, state: dict, flat_grad, hist: dict, xp):
        """The search direction: steepest descent on the first iteration, then the two-loop
        recursion over the curvature pairs in ``hist`` (updated with the last step first)."""
        if state["n_iter"] == 1:
            hist.update(old_dirs=[], old_stps=[], ro=[], H_diag=1)
            return -flat_grad
        old_dirs, old_stps, ro = hist["old_dirs"], hist["old_stps"], hist["ro"]
        y = flat_grad - hist["prev_flat_grad"]
        s = hist["d"] * hist["t"]
        ys = float(xp.dot(y, s))
        if ys > 1e-10:  # keep the pair only when the curvature is positive
            if len(old_dirs) == self.param_groups[0]["history_size"]:
                old_dirs.pop(0)
                old_stps.pop(0)
                ro.pop(0)
            old_dirs.append(y)
            old_stps.append(s)
            ro.append(1.0 / ys)
            hist["H_diag"] = ys / float(xp.dot(y, y))
        if "al" not in state:
            state["al"] = [None] * self.param_groups[0]["history_size"]
        al = state["al"]
        q = -flat_grad
        for i in range(len(old_dirs) - 1, -1, -1):
            al[i] = float(xp.dot(old_stps[i], q)) * ro[i]
            q += old_dirs[i] * -al[i]
        d = r = q * hist["H_diag"]
        for i in range(len(old_dirs)):
            be_i = float(xp.dot(old_dirs[i], r)) * ro[i]
            r += old_stps[i] * (al[i] - be_i)
        return d

    def step(self, closure: Callable):
        """Run up to ``max_iter`` L-BFGS iterations; ``closure`` re-evaluates the model,
        calls ``backward()`` and returns the loss. Returns the first loss evaluated."""
        if closure is None:
            raise RuntimeError("LBFGS.step: expected a closure that re-evaluates the model "
                               "and returns the loss, got None")
        group = self.param_groups[0]
        lr, max_iter, max_eval = group["lr"], group["max_iter"], group["max_eval"]
        tolerance_grad, tolerance_change = group["tolerance_grad"], group["tolerance_change"]
        xp = self._backend().xp
        state = self.state[self._params[0]]
        state.setdefault("func_evals", 0)
        state.setdefault("n_iter", 0)

        orig_loss = self._closure(closure)
        loss = float(orig_loss)
        current_evals = 1
        state["func_evals"] += 1
        flat_grad = self._gather_flat_grad()
        opt_cond = float(xp.abs(flat_grad).max()) <= tolerance_grad
        if opt_cond:  # already optimal
            return orig_loss
        hist = {k: self._load(state.get(k)) if k in _ARRAYS else state.get(k) for k in _HISTORY}
        n_iter = 0
        while n_iter < max_iter:
            n_iter += 1
            state["n_iter"] += 1
            hist["d"] = d = self._direction(state, flat_grad, hist, xp)
            if hist["prev_flat_grad"] is None:
                hist["prev_flat_grad"] = flat_grad.copy()
            else:
                hist["prev_flat_grad"][...] = flat_grad
            hist["prev_loss"] = loss
            # the step length: lr, scaled down on the very first iteration
            if state["n_iter"] == 1:
                t = min(1.0, 1.0 / float(xp.abs(flat_grad).sum())) * lr
            else:
                t = lr
            hist["t"] = t
            gtd = float(xp.dot(flat_grad, d))
            if gtd > -tolerance_change:  # not a descent direction
                break
            ls_func_evals = 0
            if group["line_search_fn"] is not None:
                x_init = self._clone_param()

                def obj_func(step_t, x_init=x_init, d=d):
                    return self._directional_evaluate(closure, x_init, step_t, d)

                loss, flat_grad, t, ls_func_evals = _strong_wolfe(
                    obj_func, xp, t, d, loss, flat_grad, gtd, max_ls=max_eval - current_evals)
                hist["t"] = t
                self._add_grad(t, d)
                opt_cond = float(xp.abs(flat_grad).max()) <= tolerance_grad
            else:
                self._add_grad(t, d)
                if n_iter != max_iter:  # re-evaluate unless this was the last iteration
                    loss = float(self._closure(closure))
                    flat_grad = self._gather_flat_grad()
                    opt_cond = float(xp.abs(flat_grad).max()) <= tolerance_grad
                    ls_func_evals = 1
            current_evals += ls_func_evals
            state["func_evals"] += ls_func_evals
            if n_iter == max_iter or current_evals >= max_eval or opt_cond:
                break
            if float(xp.abs(d).max()) * abs(t) <= tolerance_change:  # max|t * d|
                break
            if abs(loss - hist["prev_loss"]) < tolerance_change:
                break
        self._save_state(state, hist)
        return orig_loss
