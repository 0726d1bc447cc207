"""``nn.Module``: the base class of every layer, holding parameters, buffers and submodules."""

from __future__ import annotations

import warnings
from collections import OrderedDict
from collections.abc import Iterator
from typing import Any, Callable

from ... import dtypes
from ...autograd.grad_mode import no_grad
from ...device import device as _device
from ...tensor import Tensor
from ...utils.hooks import RemovableHandle, new_args_kwargs
from ..buffer import buffer_mark
from ..parameter import Parameter
from ._hooks import (  # PyTorch's nn.modules.module.register_module_*_hook
    ALWAYS_CALLED,
    BACKWARD,
    BACKWARD_PRE,
    FORWARD,
    FORWARD_PRE,
    WITH_KWARGS,
    _BackwardHook,
    register_module_forward_hook,  # noqa: F401
    register_module_forward_pre_hook,  # noqa: F401
    register_module_full_backward_hook,  # noqa: F401
    register_module_full_backward_pre_hook,  # noqa: F401
)
from ._state_dict import StateDictMixin


def _addindent(s: str, n: int) -> str:
    lines = s.split("\n")
    if len(lines) == 1:
        return s
    return lines[0] + "\n" + "\n".join(" " * n + line for line in lines[1:])



def _check_slot(kind: str, name: str, value, cls, cls_name: str, owner, store) -> None:
    """The checks register_parameter and register_buffer share: a dot-free name, a value
    of the right type (or None), and no other attribute of that name (member or method)."""
    if not isinstance(name, str):
        raise TypeError(f"{kind} name should be a string. Got {type(name).__name__}")
    if "." in name or not name:
        raise KeyError(f"{kind} name must be a non-empty string without '.', got {name!r}")
    if value is not None and not isinstance(value, cls):
        raise TypeError(f"cannot assign '{type(value).__name__}' object to {kind} '{name}' "
                        f"({cls_name} or None required)")
    if name not in store and hasattr(owner, name):  # as PyTorch: nothing is replaced
        raise KeyError(f"attribute '{name}' already exists")


class Module(StateDictMixin):
    """Base class of all layers: subclasses set parameters and submodules as attributes in
    ``__init__`` and define ``forward``.

    Example:
        >>> class Net(nn.Module):
        ...     def __init__(self):
        ...         super().__init__()
        ...         self.fc = nn.Linear(4, 2)
        ...     def forward(self, x):
        ...         return self.fc(x).relu()
    """

    training: bool

    def __init__(self, *args, **kwargs) -> None:
        if args or kwargs:
            raise TypeError(f"{type(self).__name__}.__init__() got unexpected arguments")
        d = self.__dict__
        d["training"] = True
        d["_parameters"] = OrderedDict()
        d["_buffers"] = OrderedDict()
        d["_non_persistent_buffers_set"] = set()
        d["_modules"] = OrderedDict()
        d["_forward_hooks"] = OrderedDict()
        d["_forward_pre_hooks"] = OrderedDict()
        d["_backward_hooks"] = OrderedDict()
        d["_backward_pre_hooks"] = OrderedDict()

    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"Module [{type(self).__name__}] is missing the required "
                                  f"\"forward\" function")

    def __call__(self, *args, **kwargs):
        d = self.__dict__  # .get: modules pickled before these hooks existed
        if FORWARD_PRE or self._forward_pre_hooks:  # (most calls have none)
            with_kw = d.get("_hooks_with_kwargs", ())
            for hid, hook in (*FORWARD_PRE.items(), *self._forward_pre_hooks.items()):
                if hid in with_kw:
                    r = hook(self, args, kwargs)
                    if r is not None:
                        args, kwargs = new_args_kwargs(r, "forward pre-hook")
                else:
                    r = hook(self, args)
                    if r is not None:
                        args = r if isinstance(r, tuple) else (r,)
        bw = None
        if d.get("_backward_hooks") or d.get("_backward_pre_hooks") or BACKWARD or BACKWARD_PRE:
            bw = _BackwardHook(self, (*BACKWARD.values(), *self._backward_hooks.values()),
                               (*BACKWARD_PRE.values(), *self._backward_pre_hooks.values()))
            args = bw.setup_input(args)
        try:
            out = self.forward(*args, **kwargs)
        except Exception:
            always = ALWAYS_CALLED | d.get("_hooks_always_called", set())
            if always:
                self._run_forward_hooks(args, kwargs, None, always)
            raise
        if self._forward_hooks or FORWARD:  # (most calls have none: no method call for them)
            out = self._run_forward_hooks(args, kwargs, out)
        if bw is not None:
            if not isinstance(out, (Tensor, tuple)):
                warnings.warn(f"For backward hooks to be called, module output should be a "
                              f"Tensor or a tuple of Tensors but received {type(out)}",
                              UserWarning, stacklevel=2)
            out = bw.setup_output(out)
        return out

    # ------------------------------------------------------------- registration
    def __setattr__(self, name: str, value: Any) -> None:
        d = self.__dict__
        params = d.get("_parameters")
        if isinstance(value, Parameter):
            if params is None:
                raise AttributeError("cannot assign parameters before Module.__init__() call")
            if name not in params:  # replacing keeps the parameter's position (PyTorch)
                self._drop(name)
            params[name] = value
        elif params is not None and name in params:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(f"cannot assign '{type(value).__name__}' as parameter "
                                f"'{name}' (nn.Parameter or None expected)")
            if value is not None and not isinstance(value, Parameter):
                raise TypeError(f"cannot assign 'Tensor' as parameter '{name}' (nn.Parameter "
                                f"or None expected)")
            params[name] = value
        elif isinstance(value, Module):
            if "_modules" not in d:
                raise AttributeError("cannot assign module before Module.__init__() call")
            if name not in d["_modules"]:  # replacing keeps the child's position
                self._drop(name)
            d["_modules"][name] = value
        elif "_modules" in d and name in d["_modules"]:
            if value is not None:
                raise TypeError(f"cannot assign '{type(value).__name__}' as child module "
                                f"'{name}' (nn.Module or None expected)")
            d["_modules"][name] = value
        elif isinstance(value, Tensor) and (persistent := buffer_mark(value)) is not None:
            if "_buffers" not in d:  # an nn.Buffer (a marked plain Tensor, as in PyTorch)
                raise AttributeError("cannot assign buffer before Module.__init__() call")
            self.register_buffer(name, value, persistent)
        elif "_buffers" in d and name in d["_buffers"]:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(f"cannot assign '{type(value).__name__}' as buffer '{name}' "
                                f"(Tensor or None expected)")
            d["_buffers"][name] = value
        else:
            object.__setattr__(self, name, value)

    def _drop(self, name: str) -> None:
        d = self.__dict__
        d.pop(name, None)
        for key in ("_parameters", "_buffers", "_modules"):
            if key in d:
                d[key].pop(name, None)

    def __getattr__(self, name: str):
        d = self.__dict__
        for key in ("_parameters", "_buffers", "_modules"):
            store = d.get(key)
            if store is not None and name in store:
                return store[name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name: str) -> None:
        d = self.__dict__
        for key in ("_parameters", "_buffers", "_modules"):
            if name in d[key]:
                del d[key][name]
                d["_non_persistent_buffers_set"].discard(name)
                return
        object.__delattr__(self, name)

    def __dir__(self):
        return sorted(set(super().__dir__()) | set(self._parameters) | set(self._buffers)
                      | set(self._modules))

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Add a parameter (or None, a declared-but-absent parameter) under ``name``."""
        _check_slot("parameter", name, param, Parameter, "nn.Parameter", self, self._parameters)
        if name not in self._parameters:  # re-registering keeps its position (PyTorch)
            self._drop(name)
        self._parameters[name] = param

    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True) -> None:
        """Add a tensor that is state but not a parameter (e.g. BatchNorm's running_mean)."""
        _check_slot("buffer", name, tensor, Tensor, "Tensor", self, self._buffers)
        if name not in self._buffers:  # re-registering keeps its position (PyTorch)
            self._drop(name)
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent_buffers_set.discard(name)
        else:
            self._non_persistent_buffers_set.add(name)

    def add_module(self, name: str, module: Module | None) -> None:
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{type(module).__name__} is not a Module subclass")
        if not isinstance(name, str):
            raise TypeError(f"module name should be a string. Got {type(name).__name__}")
        if "." in name or not name:
            raise KeyError(f"module name must be a non-empty string without '.', got {name!r}")
        if name not in self._modules and hasattr(self, name):
            raise KeyError(f"attribute '{name}' already exists")
        if name not in self._modules:
            self._drop(name)
        self._modules[name] = module

    register_module = add_module

    def get_submodule(self, target: str) -> Module:
        mod = self
        for part in target.split(".") if target else ():
            if part not in mod._modules:
                raise AttributeError(f"{type(mod).__name__} has no submodule `{part}`")
            mod = mod._modules[part]
        return mod

    def get_parameter(self, target: str) -> Parameter:
        return self._get_member(target, "_parameters", "an nn.Parameter")

    def get_buffer(self, target: str) -> Tensor:
        return self._get_member(target, "_buffers", "a buffer")

    def _get_member(self, target: str, store: str, what: str):
        mod_path, _, name = target.rpartition(".")
        mod = self.get_submodule(mod_path)
        if not hasattr(mod, name):
            raise AttributeError(f"{mod._get_name()} has no attribute `{name}`")
        if name not in getattr(mod, store):
            raise AttributeError(f"`{name}` is not {what}")
        return getattr(mod, name)

    # ------------------------------------------------------------- iteration
    def named_modules(self, memo=None, prefix: str = "", remove_duplicate: bool = True):
        if memo is None:
            memo = set()
        if remove_duplicate:
            if id(self) in memo:
                return
            memo.add(id(self))
        yield prefix, self
        for name, m in self._modules.items():
            if m is None:
                continue
            yield from m.named_modules(memo, prefix + ("." if prefix else "") + name,
                                       remove_duplicate)

    def modules(self) -> Iterator[Module]:
        for _, m in self.named_modules():
            yield m

    def named_children(self) -> Iterator[tuple[str, Module]]:
        seen = set()
        for name, m in self._modules.items():
            if m is not None and id(m) not in seen:
                seen.add(id(m))
                yield name, m

    def children(self) -> Iterator[Module]:
        for _, m in self.named_children():
            yield m

    def _named_members(self, store: str, prefix: str, recurse: bool, remove_duplicate=True):
        seen = set()
        mods = (self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate) if recurse
                else [(prefix, self)])
        for mp, m in mods:
            for name, v in getattr(m, store).items():
                if v is None or (remove_duplicate and id(v) in seen):
                    continue
                seen.add(id(v))
                yield mp + ("." if mp else "") + name, v

    def named_parameters(self, prefix: str = "", recurse: bool = True,
                         remove_duplicate: bool = True) -> Iterator[tuple[str, Parameter]]:
        yield from self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self, prefix: str = "", recurse: bool = True,
                      remove_duplicate: bool = True) -> Iterator[tuple[str, Tensor]]:
        yield from self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    # ------------------------------------------------------------- modes and state
    def train(self, mode: bool = True) -> Module:
        if not isinstance(mode, bool):
            raise ValueError("training mode is expected to be boolean")
        self.__dict__["training"] = mode
        for m in self.children():  # each child's own train() (an override may freeze a part)
            m.train(mode)
        return self

    def eval(self) -> Module:
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        for p in self.parameters():
            if p.grad is None:
                continue
            if set_to_none:
                p.grad = None
            else:  # in place, as PyTorch: the same grad object stays
                if p.grad.grad_fn is not None:
                    p.grad = p.grad.detach()
                p.grad.requires_grad_(False)
                p.grad.zero_()

    def apply(self, fn: Callable[[Module], None]) -> Module:
        for m in self.children():
            m.apply(fn)
        fn(self)
        return self

    def _run_forward_hooks(self, args, kwargs, out, only=None):
        """The forward hooks on ``out``; with ``only`` (forward raised), just those ids, each
        of whose own errors becomes a warning (forward's error is the one raised)."""
        with_kw = WITH_KWARGS | self.__dict__.get("_hooks_with_kwargs", set())
        for hid, hook in (*FORWARD.items(), *self._forward_hooks.items()):
            if only is not None and hid not in only:
                continue
            try:
                r = hook(self, args, kwargs, out) if hid in with_kw else hook(self, args, out)
            except Exception as e:
                if only is None:
                    raise
                warnings.warn(f"forward hook with ``always_call=True`` raised an exception that "
                              f"was silenced as another error was raised in forward: {e}")
                continue
            if r is not None:
                out = r
        return out

    def _add_forward_hook(self, hooks, hook, prepend, with_kwargs, always_call=False):
        h = self._add_hook(hooks, hook, prepend)
        for flag, name in ((with_kwargs, "_hooks_with_kwargs"),
                           (always_call, "_hooks_always_called")):
            if flag:
                self.__dict__.setdefault(name, set()).add(h.id)  # ids are never reused
        return h

    def register_forward_hook(self, hook: Callable, *, prepend: bool = False,
                              with_kwargs: bool = False, always_call: bool = False
                              ) -> RemovableHandle:
        """``hook(module, args, output)`` (with_kwargs: ``hook(module, args, kwargs,
        output)``) runs after forward; a non-None result replaces the output.  always_call:
        it runs also when forward raises (output None)."""
        return self._add_forward_hook(self._forward_hooks, hook, prepend, with_kwargs,
                                      always_call)

    def register_forward_pre_hook(self, hook: Callable, *, prepend: bool = False,
                                  with_kwargs: bool = False) -> RemovableHandle:
        """``hook(module, args)`` runs before forward; a non-None result replaces the args.
        with_kwargs: ``hook(module, args, kwargs)``, returning None or (args, kwargs)."""
        return self._add_forward_hook(self._forward_pre_hooks, hook, prepend, with_kwargs)

    def register_full_backward_hook(self, hook: Callable, prepend: bool = False
                                    ) -> RemovableHandle:
        """``hook(module, grad_input, grad_output)`` runs once the grads w.r.t. the positional
        tensor inputs are known (None for non-tensor args); a non-None result (a tuple as
        long as grad_input) replaces grad_input. Inputs and outputs pass through an identity
        autograd Function, as in PyTorch."""
        return self._add_hook(self._backward_hooks, hook, prepend)

    def register_full_backward_pre_hook(self, hook: Callable, prepend: bool = False
                                        ) -> RemovableHandle:
        """``hook(module, grad_output)`` runs when the grads w.r.t. the outputs are known; a
        non-None result (a tuple as long as grad_output) replaces grad_output."""
        return self._add_hook(self._backward_pre_hooks, hook, prepend)

    def register_backward_hook(self, hook: Callable) -> RemovableHandle:
        """Deprecated: registered as a full backward hook (see register_full_backward_hook)."""
        warnings.warn("register_backward_hook is deprecated; autodiff registers it as "
                      "register_full_backward_hook", FutureWarning, stacklevel=2)
        return self._add_hook(self._backward_hooks, hook, False)

    @staticmethod
    def _add_hook(hooks: OrderedDict, hook: Callable, prepend: bool) -> RemovableHandle:
        h = RemovableHandle(hooks)
        hooks[h.id] = hook
        if prepend:
            hooks.move_to_end(h.id, last=False)
        return h

    # ------------------------------------------------------------- device and dtype
    def _apply(self, fn: Callable[[Tensor], Tensor], recurse: bool = True) -> Module:
        """Replace every parameter's and buffer's storage by ``fn(tensor)``, in place: a
        Parameter keeps its identity (optimizers still hold it); its grad moves along.  The
        children's own _apply runs first (a subclass may override it to convert a cache)."""
        if recurse:
            for m in self.children():
                m._apply(fn)
        with no_grad():
            for p in self._parameters.values():
                if p is None:
                    continue
                p.data = fn(p.data)
                if p.grad is not None:
                    p._grad = fn(p.grad)
            for k, b in self._buffers.items():
                if b is not None:
                    self._buffers[k] = fn(b)
        return self

    def to(self, *args, **kwargs) -> Module:
        """to(device), to(dtype), to(device, dtype), to(tensor): move and/or cast (floating
        parameters and buffers only are cast) in place; returns self."""
        dev, dt = kwargs.pop("device", None), kwargs.pop("dtype", None)
        kwargs.pop("non_blocking", None)
        fmt = kwargs.pop("memory_format", None)  # channels_last: the 4-D weights, as PyTorch
        if kwargs:
            raise TypeError(f"Module.to() got unexpected keyword arguments {sorted(kwargs)}")
        for a in args:
            if isinstance(a, Tensor):
                dev, dt = a.device, a.dtype
            elif isinstance(a, dtypes.DType) or (
                    isinstance(a, str) and a.replace("autodiff.", "") in dtypes._BY_NAME):
                dt = a
            elif a is not None:
                dev = a
        target = None if dev is None else _device(dev)
        dt = None if dt is None else dtypes.from_any(dt)
        if dt is not None and not dt.is_floating_point:
            raise TypeError(f"Module.to only accepts floating point dtypes, got {dt.name}")

        def move(t: Tensor) -> Tensor:
            if target is not None and t.device is not target:
                t = t.to(target)
            if dt is not None and t.is_floating_point() and t.dtype is not dt:
                t = t.to(dt)
            if fmt is not None and t.ndim == {"channels_last": 4, "channels_last_3d": 5}.get(
                    getattr(fmt, "_name", None)):
                t = t.contiguous(memory_format=fmt)
            return t

        return self._apply(move)

    def cpu(self) -> Module:
        """Parameters and buffers on a host device (numpy or cpp) stay; others move to "cpu",
        as ``Tensor.cpu()`` does."""
        return self._apply(lambda t: t if t._dev.backend.is_cpu else t.to("cpu"))

    def cuda(self, device=None) -> Module:
        return self.to("cuda" if device is None else f"cuda:{device}")

    def float(self) -> Module:
        return self.to(dtypes.float32)

    def double(self) -> Module:
        return self.to(dtypes.float64)

    def half(self) -> Module:
        return self.to(dtypes.float16)

    def type(self, dst_type) -> Module:
        """Cast every parameter and buffer (integer ones too, unlike to()) to ``dst_type``."""
        dt = dtypes.from_any(dst_type)
        return self._apply(lambda t: t if t.dtype is dt else t.to(dt))

    def to_empty(self, *, device=None, recurse: bool = True) -> Module:
        """Replace every parameter and buffer by uninitialised memory on ``device``."""
        from ...creation import empty_like

        return self._apply(lambda t: empty_like(t, device=device or t.device), recurse)

    def share_memory(self) -> Module:
        """A no-op: parameters are host (or CUDA) arrays that processes do not share."""
        return self

    # ------------------------------------------------------------- repr
    def extra_repr(self) -> str:
        """The layer's arguments, shown inside its repr's parentheses."""
        return ""

    def _get_name(self) -> str:
        return type(self).__name__

    def __repr__(self) -> str:
        extra = self.extra_repr()
        lines = extra.split("\n") if extra else []
        for name, m in self._modules.items():
            lines.append(f"({name}): " + _addindent(repr(m), 2))
        if not lines:
            return self._get_name() + "()"
        if len(lines) == 1 and not self._modules:
            return f"{self._get_name()}({lines[0]})"
        return self._get_name() + "(\n  " + "\n  ".join(lines) + "\n)"
