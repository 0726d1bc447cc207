"""The Optimizer base class: parameter groups, per-parameter state, (de)serialization.

Optimizers update parameters in place on the backend arrays (``p._data``) with the array
module's in-place ufuncs (``xp.multiply(buf, m, out=buf)``), outside the autograd graph,
and bump each parameter's version counter so a graph that saved the old value notices.
Per-parameter state (``optimizer.state[p]``) holds Tensors, so ``state_dict()`` can be
written with ``ad.save`` and read back on any device.

Hooks, as PyTorch's: ``register_step_pre_hook``/``register_step_post_hook`` on one optimizer,
``register_optimizer_step_pre_hook``/``..._post_hook`` on all of them, and hooks around
``state_dict`` and ``load_state_dict``. Every subclass's ``step`` is wrapped at class creation
(``__init_subclass__``), so the step hooks fire for any optimizer, once per ``step()`` call even
when an overriding ``step`` calls ``super().step()``.
"""

from __future__ import annotations

import copy
import functools
import warnings
from collections import OrderedDict, defaultdict
from collections.abc import Iterable
from itertools import chain
from typing import Any, Callable

import numpy as np

from ..autograd.grad_mode import enable_grad
from ..device import device as _device
from ..dtypes import float32, float64, get_default_dtype
from ..tensor import Tensor
from ..utils.hooks import RemovableHandle, new_args_kwargs


class _Required:
    """Sentinel for a hyper-parameter without a default (``lr`` of SGD)."""

    def __repr__(self) -> str:
        return "<required parameter>"


required = _Required()

# hyper-parameters that are tuples (a saved file may hand them back as lists)
_TUPLE_KEYS = ("betas", "etas", "step_sizes")


def _wrap(arr, dev) -> Tensor:
    return Tensor._make(arr, dev, False, None)


def _host():
    """The device of host-side state (PyTorch keeps ``step`` on the CPU)."""
    return _device("cpu")


_global_optimizer_pre_hooks: OrderedDict = OrderedDict()
_global_optimizer_post_hooks: OrderedDict = OrderedDict()


def _register(hooks: dict, hook: Callable, prepend: bool = False) -> RemovableHandle:
    if not callable(hook):
        raise TypeError(f"hook must be callable, got {type(hook).__name__}")
    handle = RemovableHandle(hooks)
    hooks[handle.id] = hook
    if prepend:
        hooks.move_to_end(handle.id, last=False)
    return handle


def register_optimizer_step_pre_hook(hook: Callable) -> RemovableHandle:
    """Register ``hook(optimizer, args, kwargs) -> None | (new_args, new_kwargs)`` to run before
    every optimizer's ``step`` (before the optimizer's own pre-hooks). ``args`` starts with the
    optimizer, as in PyTorch."""
    return _register(_global_optimizer_pre_hooks, hook)


def register_optimizer_step_post_hook(hook: Callable) -> RemovableHandle:
    """Register ``hook(optimizer, args, kwargs) -> None`` to run after every optimizer's
    ``step`` (after the optimizer's own post-hooks)."""
    return _register(_global_optimizer_post_hooks, hook)


def _hook_step(step: Callable) -> Callable:
    """``step`` with the step hooks around it (PyTorch's ``Optimizer.profile_hook_step``)."""
    if getattr(step, "_hooked", False):
        return step

    @functools.wraps(step)
    def wrapper(*args, **kwargs):
        self = args[0]
        if self.__dict__.get("_in_step"):  # super().step() inside a hooked step
            return step(*args, **kwargs)
        for pre_hook in chain(_global_optimizer_pre_hooks.values(),
                              self.__dict__.get("_optimizer_step_pre_hooks", {}).values()):
            result = pre_hook(self, args, kwargs)
            if result is not None:
                args, kwargs = new_args_kwargs(result, str(step))
        if self.__dict__.get("_state_unchecked"):  # the first step after load_state_dict
            _check_state_shapes(self)
        self._in_step = True
        try:
            out = step(*args, **kwargs)
        finally:
            self._in_step = False
        for post_hook in chain(self.__dict__.get("_optimizer_step_post_hooks", {}).values(),
                               _global_optimizer_post_hooks.values()):
            post_hook(self, args, kwargs)
        return out

    wrapper._hooked = True
    return wrapper


class Optimizer:
    """Base class of every optimizer.

    Args:
        params: an iterable of Tensors (that require grad), or of dicts, each a parameter
            group with a ``"params"`` entry and hyper-parameters overriding ``defaults``.
        defaults: the default hyper-parameters of each group.

    Subclasses implement ``step()``; they read hyper-parameters from ``self.param_groups``
    and keep per-parameter state in ``self.state[p]``.
    """

    def __init__(self, params: Iterable, defaults: dict) -> None:
        if isinstance(params, Tensor):
            raise TypeError("params argument given to the optimizer should be an iterable of "
                            f"Tensors or dicts, but got {type(params).__name__}")
        self._optimizer_step_pre_hooks: OrderedDict = OrderedDict()
        self._optimizer_step_post_hooks: OrderedDict = OrderedDict()
        self._optimizer_state_dict_pre_hooks: OrderedDict = OrderedDict()
        self._optimizer_state_dict_post_hooks: OrderedDict = OrderedDict()
        self._optimizer_load_state_dict_pre_hooks: OrderedDict = OrderedDict()
        self._optimizer_load_state_dict_post_hooks: OrderedDict = OrderedDict()
        self.defaults = dict(defaults)
        self.state: defaultdict = defaultdict(dict)
        self.param_groups: list[dict] = []
        self._scratch: dict = {}
        groups = list(params)
        if not groups:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "step" in cls.__dict__:
            cls.step = _hook_step(cls.__dict__["step"])

    def __getstate__(self) -> dict:
        """The instance dict without an LR scheduler's wrapper of ``step`` (it holds this
        optimizer weakly: a copy would step the original, and it cannot be pickled)."""
        state = self.__dict__.copy()
        if hasattr(state.get("step"), "_wrapped_by_lr_sched"):
            del state["step"]
        return state

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines += [f"    {k}: {v}" for k, v in sorted(group.items()) if k != "params"]
        return "\n".join(lines) + "\n)"

    # ----------------------------------------------------------------- groups
    def add_param_group(self, param_group: dict) -> None:
        """Add a group of parameters (a dict with ``"params"``) with its own hyper-parameters."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, got {type(param_group).__name__}")
        group = dict(param_group)
        params = group["params"]
        group["params"] = [params] if isinstance(params, Tensor) else list(params)
        if group["params"] and all(isinstance(p, tuple) and len(p) == 2 for p in group["params"]):
            # model.named_parameters(), as PyTorch accepts: names kept as param_names
            group["param_names"] = [n for n, _ in group["params"]]
            group["params"] = [p for _, p in group["params"]]
        for p in group["params"]:
            if not isinstance(p, Tensor):
                raise TypeError(f"optimizer can only optimize Tensors, got {type(p).__name__}")
            if not p.is_leaf:
                raise ValueError("can't optimize a non-leaf Tensor")
        for name, default in self.defaults.items():
            if default is required and name not in group:
                raise ValueError(f"parameter group didn't specify a value of required "
                                 f"optimization parameter {name}")
            group.setdefault(name, default)
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        if any(id(p) in seen for p in group["params"]):
            raise ValueError("some parameters appear in more than one parameter group")
        if len({id(p) for p in group["params"]}) != len(group["params"]):
            warnings.warn("optimizer contains a parameter group with duplicate parameters; in "
                          "future, this will cause an error (as PyTorch warns)", stacklevel=3)
        self.param_groups.append(group)

    # ----------------------------------------------------------------- hooks
    def _hooks(self, name: str) -> OrderedDict:
        """The hook dict ``name``, made here when a subclass skipped ``Optimizer.__init__``."""
        return self.__dict__.setdefault(name, OrderedDict())

    def register_step_pre_hook(self, hook: Callable) -> RemovableHandle:
        """Register ``hook(optimizer, args, kwargs) -> None | (new_args, new_kwargs)``, called
        before ``step`` (``args`` starts with the optimizer); a returned pair replaces the
        arguments ``step`` gets."""
        return _register(self._hooks("_optimizer_step_pre_hooks"), hook)

    def register_step_post_hook(self, hook: Callable) -> RemovableHandle:
        """Register ``hook(optimizer, args, kwargs) -> None``, called after ``step``."""
        return _register(self._hooks("_optimizer_step_post_hooks"), hook)

    def register_state_dict_pre_hook(self, hook: Callable,
                                     prepend: bool = False) -> RemovableHandle:
        """Register ``hook(optimizer) -> None``, called first thing in ``state_dict()``
        (before the hooks already registered when ``prepend``)."""
        return _register(self._hooks("_optimizer_state_dict_pre_hooks"), hook, prepend)

    def register_state_dict_post_hook(self, hook: Callable,
                                      prepend: bool = False) -> RemovableHandle:
        """Register ``hook(optimizer, state_dict) -> state_dict | None``, called on the dict
        ``state_dict()`` returns; a returned dict replaces it."""
        return _register(self._hooks("_optimizer_state_dict_post_hooks"), hook, prepend)

    def register_load_state_dict_pre_hook(self, hook: Callable,
                                          prepend: bool = False) -> RemovableHandle:
        """Register ``hook(optimizer, state_dict) -> state_dict | None``, called on (a shallow
        copy of) the dict given to ``load_state_dict``; a returned dict is loaded instead."""
        return _register(self._hooks("_optimizer_load_state_dict_pre_hooks"), hook, prepend)

    def register_load_state_dict_post_hook(self, hook: Callable,
                                           prepend: bool = False) -> RemovableHandle:
        """Register ``hook(optimizer) -> None``, called after ``load_state_dict`` loaded."""
        return _register(self._hooks("_optimizer_load_state_dict_post_hooks"), hook, prepend)

    # ----------------------------------------------------------------- gradients
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset the gradients of every parameter (to None by default, as PyTorch does)."""
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                if set_to_none:
                    p.grad = None
                else:
                    g = p.grad
                    if g.grad_fn is not None:
                        p.grad = g = g.detach()
                    g._writable()[...] = 0
                    g._vc[0] += 1

    @_hook_step
    def step(self, closure: Callable | None = None):
        """Perform one optimization step; ``closure`` re-evaluates the model and returns the
        loss. The default applies ``self._update(p, group)`` to every parameter that has a
        gradient (optimizers with a per-parameter rule define just ``_update``)."""
        if type(self)._update is Optimizer._update:
            raise NotImplementedError(f"{type(self).__name__} defines neither step nor _update")
        loss = self._closure(closure)
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    self._update(p, group)
        return loss

    def _update(self, p, group: dict) -> None:
        """One parameter's update (see ``step``)."""
        raise NotImplementedError

    def _closure(self, closure):
        if closure is None:
            return None
        with enable_grad():
            return closure()

    # ----------------------------------------------------------------- helpers for steps
    def _work(self, p: Tensor, slot: int = 0):
        """A reusable scratch array shaped like ``p`` (one per device, shape, dtype and slot);
        steps handle one parameter at a time, so parameters of one shape can share it."""
        arr = p._data
        key = (p._dev, arr.shape, arr.dtype.str, slot)
        buf = self._scratch.get(key)
        if buf is None:
            buf = self._scratch[key] = p._dev.backend.empty(arr.shape, arr.dtype)
        return buf

    @staticmethod
    def _grad_of(p: Tensor):
        """The gradient array of ``p``, cast to ``p``'s dtype when they differ."""
        g = p.grad._data
        if g.dtype != p._data.dtype:
            g = g.astype(p._data.dtype)
        return g

    def _effective_grad(self, p: Tensor, weight_decay: float, maximize: bool):
        """``(-g if maximize else g) + weight_decay * p`` without touching ``p.grad``."""
        g = self._grad_of(p)
        if not weight_decay and not maximize:
            return g
        xp = p._dev.backend.xp
        out = self._work(p, 7)
        if weight_decay:
            xp.multiply(p._data, weight_decay, out=out)
            (xp.subtract if maximize else xp.add)(out, g, out=out)
        else:
            xp.negative(g, out=out)
        return out

    def _lerp(self, p: Tensor, m, g, weight: float) -> None:
        """``m += weight * (g - m)`` in place, as PyTorch's ``lerp_`` (which switches to
        ``g - (g - m) * (1 - weight)`` for weights of 0.5 and above). Uses work slot 6."""
        xp = p._dev.backend.xp
        tmp = self._work(p, 6)
        xp.subtract(g, m, out=tmp)
        if abs(weight) < 0.5:
            xp.multiply(tmp, weight, out=tmp)
            xp.add(m, tmp, out=m)
        else:
            xp.multiply(tmp, 1.0 - weight, out=tmp)
            xp.subtract(g, tmp, out=m)

    def _state_tensor(self, p: Tensor, fill: float = 0.0) -> Tensor:
        """A new state tensor shaped like ``p`` filled with ``fill``."""
        b = p._dev.backend
        return _wrap(b.full(p._data.shape, fill, p._data.dtype), p._dev)

    # ----------------------------------------------------------------- state dict
    def state_dict(self) -> dict:
        """``{"state": {index: {...}}, "param_groups": [{..., "params": [index, ...]}]}``,
        with parameters replaced by their position across groups, as in PyTorch."""
        for pre_hook in self._hooks("_optimizer_state_dict_pre_hooks").values():
            pre_hook(self)
        index: dict = {}
        groups = []
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            packed["params"] = []
            for p in group["params"]:
                index.setdefault(id(p), len(index))
                packed["params"].append(index[id(p)])
            groups.append(packed)
        state = {index[id(p)]: dict(s) for p, s in self.state.items() if id(p) in index}
        state_dict = {"state": state, "param_groups": groups}
        for post_hook in self._hooks("_optimizer_state_dict_post_hooks").values():
            result = post_hook(self, state_dict)
            if result is not None:
                state_dict = result
        return state_dict

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore hyper-parameters and state saved by ``state_dict()`` (state tensors are
        copied onto each parameter's device and floating dtype)."""
        if isinstance(state_dict, dict):
            state_dict = state_dict.copy()  # shallow, as PyTorch: pre-hooks may edit it
            for pre_hook in self._hooks("_optimizer_load_state_dict_pre_hooks").values():
                result = pre_hook(self, state_dict)
                if result is not None:
                    state_dict = result
        if not isinstance(state_dict, dict) or "param_groups" not in state_dict:
            raise ValueError("load_state_dict: expected a dict with 'state' and "
                             f"'param_groups', got {type(state_dict).__name__}")
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(f"loaded state dict has {len(saved_groups)} parameter groups, "
                             f"the optimizer has {len(self.param_groups)}")
        for i, (mine, saved) in enumerate(zip(self.param_groups, saved_groups)):
            if len(mine["params"]) != len(saved["params"]):
                raise ValueError(f"loaded state dict's group {i} has {len(saved['params'])} "
                                 f"parameters, the optimizer's has {len(mine['params'])}")
        by_index = {}
        for mine, saved in zip(self.param_groups, saved_groups):
            by_index.update(zip(saved["params"], mine["params"]))
        saved_state = state_dict.get("state", {})
        self.state = defaultdict(dict)
        for key, values in saved_state.items():
            k = int(key) if isinstance(key, str) and key.lstrip("-").isdigit() else key
            if k not in by_index:
                raise ValueError(f"loaded state dict has state for parameter {key!r}, which "
                                 f"is in no parameter group")
            p = by_index[k]
            self.state[p] = {name: _cast_state(name, v, p) for name, v in values.items()}
        for mine, saved in zip(self.param_groups, saved_groups):
            for k, v in saved.items():
                if k != "params":
                    mine[k] = tuple(v) if isinstance(v, list) and k in _TUPLE_KEYS else \
                        copy.deepcopy(v)
        self._state_unchecked = True  # shapes checked at the next step, as PyTorch fails there
        for post_hook in self._hooks("_optimizer_load_state_dict_post_hooks").values():
            post_hook(self)


# per-parameter state shaped like its parameter (Adafactor's factored row_var / col_var and
# L-BFGS's flat history are not)
_PARAM_SHAPED = ("exp_avg", "exp_avg_sq", "max_exp_avg_sq", "exp_inf", "square_avg",
                 "acc_delta", "grad_avg", "sum", "ax", "momentum_buffer", "prev", "step_size",
                 "variance")


def _check_state_shapes(opt: Optimizer) -> None:
    """Raise a clear error when loaded state does not fit its parameter (PyTorch fails in
    ``step`` with a size mismatch; our kernels would name only their own arrays)."""
    for gi, group in enumerate(opt.param_groups):
        for pi, p in enumerate(group["params"]):
            state = opt.state.get(p) or {}
            for key in _PARAM_SHAPED:
                v = state.get(key)
                if isinstance(v, Tensor) and tuple(v.shape) != tuple(p.shape):
                    raise RuntimeError(
                        f"{type(opt).__name__}.step: state '{key}' of parameter {pi} in "
                        f"param_groups[{gi}] has shape {tuple(v.shape)}, but the parameter has "
                        f"shape {tuple(p.shape)}; was the loaded state_dict saved for other "
                        f"parameters?")
    opt._state_unchecked = False


def _scalar_dtype():
    """The dtype of PyTorch's scalar optimizer state (``step``, NAdam's ``mu_product``, ASGD's
    ``eta`` and ``mu``): float64 when that is the default dtype, else float32."""
    return float64 if get_default_dtype() is float64 else float32


def _scalar(value: float) -> float:
    """``value`` rounded as PyTorch rounds a Python float put in a tensor of the default
    dtype (``torch.as_tensor(value)``): float32, or float64 when that is the default."""
    if get_default_dtype() is float64:
        return float(value)
    return float(np.float32(value))


def _step_tensor(value: float = 0.0) -> Tensor:
    """A new 0-dim step counter on the host, of the scalar dtype, as PyTorch's ``state["step"]``."""
    return _wrap(np.array(value, dtype=_scalar_dtype().np), _host())


def _next_step(state: dict) -> float:
    """``state["step"] += 1`` in place (a plain number from an old state dict becomes a
    tensor, as PyTorch's ``__setstate__`` does); returns the new count as a float."""
    step = state.get("step")
    if not isinstance(step, Tensor):
        step = state["step"] = _step_tensor(float(step or 0))
    arr = step._data
    arr[...] = arr + 1
    return float(arr)


def _scalar_state(p: Tensor, value: float) -> Tensor:
    """A 0-dim state tensor of the scalar dtype on ``p``'s device (NAdam's ``mu_product``)."""
    b = p._dev.backend
    return _wrap(b.full((), value, _scalar_dtype().np), p._dev)


def _set_scalar(t: Tensor, value) -> float:
    """``t.copy_(value)`` on a 0-dim state tensor (rounded to its dtype); returns the float."""
    arr = t._data
    arr[...] = value
    return float(arr)


def _value(v) -> float:
    """A hyper-parameter as a float (PyTorch accepts a 1-element tensor for ``lr``)."""
    return float(v) if isinstance(v, Tensor) else v


def _invalid(name: str, torch_message: str, expected: str) -> ValueError:
    """PyTorch's message for a bad hyper-parameter, then the optimizer and what it expects."""
    return ValueError(f"{torch_message} ({name}: expected {expected})")


def _check_lr(name: str, lr, strict: bool = False) -> None:
    """PyTorch's checks of ``lr``: a number or a 1-element tensor, >= 0 (> 0 if ``strict``)."""
    if isinstance(lr, Tensor) and lr.numel() != 1:
        raise ValueError(f"Tensor lr must be 1-element ({name}: got shape {tuple(lr.shape)})")
    if (lr <= 0.0) if strict else (lr < 0.0):
        raise _invalid(name, f"Invalid learning rate: {lr}",
                       f"{'>' if strict else '>='} 0, got learning rate {_value(lr)}")


def _check_nonneg(name: str, **values) -> None:
    """PyTorch's ``Invalid <what> value: v`` for each negative value (``eps`` is "epsilon")."""
    for key, v in values.items():
        if not 0.0 <= v:
            what = "epsilon" if key == "eps" else key
            raise _invalid(name, f"Invalid {what} value: {v}", f"{key} >= 0, got {v}")


def _check_betas(name: str, betas) -> None:
    for i, b in enumerate(betas[:2]):
        if not 0.0 <= b < 1.0:
            raise _invalid(name, f"Invalid beta parameter at index {i}: {b}",
                           f"betas[{i}] in [0, 1), got {b}")


def _check_flags(fused, foreach, differentiable) -> None:
    """PyTorch's checks of the implementation flags (which all run one code path here)."""
    if fused and differentiable:
        raise RuntimeError("`fused` does not support `differentiable`")
    if fused and foreach:
        raise RuntimeError("`fused` and `foreach` cannot be `True` together.")


# 0-dim scalar state kept in its own dtype when loaded. PyTorch casts all but ``step`` to the
# parameter's dtype, so a float64 model resumes NAdam/ASGD with float64 scalars and drifts
# (~1e-10) from the uninterrupted run; keeping the saved dtype resumes exactly.
_SCALAR_KEYS = ("mu_product", "eta", "mu")


def _cast_state(name: str, value: Any, p: Tensor) -> Any:
    """A private copy of a saved state value, as PyTorch's load policy: ``step`` keeps its
    device and dtype; other tensors go to ``p``'s device (floats to ``p``'s dtype, but for
    the scalars of ``_SCALAR_KEYS``)."""
    if not isinstance(value, Tensor):
        return copy.deepcopy(value)
    t = value.detach()
    if name != "step":
        if t._dev is not p._dev:
            t = t.to(p._dev)
        if t.is_floating_point() and t.dtype is not p.dtype and name not in _SCALAR_KEYS:
            t = t.to(p.dtype)
    b = t._dev.backend
    return _wrap(b.contiguous(b.copy(t._data)), t._dev)
