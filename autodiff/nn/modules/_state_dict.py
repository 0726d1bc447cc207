"""Module.state_dict / load_state_dict with PyTorch's extension points: a subclass may override
``_save_to_state_dict`` / ``_load_from_state_dict`` (e.g. to rename the keys of old
checkpoints), ``get_extra_state`` / ``set_extra_state`` (saved under ``_extra_state``), and
register the four state-dict hooks; ``state_dict()`` carries each module's ``_version`` in its
``_metadata``, as PyTorch's, so a module can tell an old layout from a new one."""

from __future__ import annotations

from collections import OrderedDict, namedtuple
from typing import Any, Callable

import numpy as np

from ...autograd.grad_mode import no_grad
from ...creation import tensor
from ...tensor import Tensor
from ...utils.hooks import RemovableHandle
from ..parameter import Parameter

_EXTRA_STATE = "_extra_state"


class _IncompatibleKeys(namedtuple("_IncompatibleKeys", ["missing_keys", "unexpected_keys"])):
    def __repr__(self) -> str:  # as PyTorch's (the class name, _IncompatibleKeys, shows)
        return super().__repr__() if any(self) else "<All keys matched successfully>"


IncompatibleKeys = _IncompatibleKeys


class StateDictMixin:
    """The state-dict half of nn.Module (mixed into it)."""

    _version: int = 1  # a module whose state-dict layout changes bumps it (BatchNorm: 2)

    def _hook_dict(self, name: str) -> OrderedDict:
        return self.__dict__.setdefault(name, OrderedDict())

    def _register(self, name: str, hook: Callable) -> RemovableHandle:
        hooks = self._hook_dict(name)
        h = RemovableHandle(hooks)
        hooks[h.id] = hook
        return h

    def register_state_dict_pre_hook(self, hook: Callable) -> RemovableHandle:
        """``hook(module, prefix, keep_vars)`` runs before the module saves its state."""
        return self._register("_state_dict_pre_hooks", hook)

    def register_state_dict_post_hook(self, hook: Callable) -> RemovableHandle:
        """``hook(module, state_dict, prefix, local_metadata)`` runs after it (in place)."""
        return self._register("_state_dict_hooks", hook)

    def register_load_state_dict_pre_hook(self, hook: Callable) -> RemovableHandle:
        """``hook(module, state_dict, prefix, local_metadata, strict, missing_keys,
        unexpected_keys, error_msgs)`` runs before the module loads its part."""
        return self._register("_load_state_dict_pre_hooks", hook)

    def register_load_state_dict_post_hook(self, hook: Callable) -> RemovableHandle:
        """``hook(module, incompatible_keys)`` runs after load_state_dict; it may edit the
        key lists in place (strict mode raises on what is left)."""
        return self._register("_load_state_dict_post_hooks", hook)

    def get_extra_state(self) -> Any:
        """Override (with set_extra_state) to save state other than tensors; the return value
        goes in the state dict under ``<prefix>_extra_state``."""
        raise RuntimeError("Reached a code path in Module.get_extra_state() that should never "
                           "be called: override it with set_extra_state()")

    def set_extra_state(self, state: Any) -> None:
        """Restore what get_extra_state returned."""
        raise RuntimeError("Reached a code path in Module.set_extra_state() that should never "
                           "be called: override it with get_extra_state()")

    def _has_extra_state(self) -> bool:
        return type(self).get_extra_state is not StateDictMixin.get_extra_state

    def _save_to_state_dict(self, destination: dict, prefix: str, keep_vars: bool) -> None:
        """Put this module's own parameters, persistent buffers and extra state (not its
        children's) in ``destination``."""
        for name, p in self._parameters.items():
            if p is not None:
                destination[prefix + name] = p if keep_vars else p.detach()
        for name, b in self._buffers.items():
            if b is not None and name not in self._non_persistent_buffers_set:
                destination[prefix + name] = b if keep_vars else b.detach()
        if self._has_extra_state():
            destination[prefix + _EXTRA_STATE] = self.get_extra_state()

    def state_dict(self, *args, destination=None, prefix: str = "", keep_vars: bool = False):
        """An ordered dict of every parameter and persistent buffer by dotted name (PyTorch's
        positional (destination, prefix, keep_vars) is accepted too)."""
        if args:
            destination, prefix, keep_vars = (args + (destination, prefix, keep_vars)[
                len(args):])[:3]
        if destination is None:
            destination = OrderedDict()
            destination._metadata = OrderedDict()
        local_metadata = {"version": self._version}
        if hasattr(destination, "_metadata"):
            destination._metadata[prefix[:-1]] = local_metadata
        for hook in self.__dict__.get("_state_dict_pre_hooks", {}).values():
            hook(self, prefix, keep_vars)
        self._save_to_state_dict(destination, prefix, keep_vars)
        for name, m in self._modules.items():
            if m is not None:
                m.state_dict(destination=destination, prefix=prefix + name + ".",
                             keep_vars=keep_vars)
        for hook in self.__dict__.get("_state_dict_hooks", {}).values():
            if hook(self, destination, prefix, local_metadata) is not None:
                raise RuntimeError("state_dict post-hook must return None")
        return destination

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys,
                              unexpected_keys, error_msgs) -> None:
        """Load this module's own entries of ``state_dict`` (keys ``prefix + name``), noting
        missing and unexpected keys and errors in the lists given, as PyTorch's."""
        for hook in self.__dict__.get("_load_state_dict_pre_hooks", {}).values():
            hook(self, state_dict, prefix, local_metadata, strict, missing_keys,
                 unexpected_keys, error_msgs)
        own = {**{k: v for k, v in self._parameters.items() if v is not None},
               **{k: v for k, v in self._buffers.items()
                  if v is not None and k not in self._non_persistent_buffers_set}}
        assign = local_metadata.get("assign_to_params_buffers", False)
        with no_grad():
            for name, target in own.items():
                key = prefix + name
                if key not in state_dict:
                    if strict:
                        missing_keys.append(key)
                    continue
                self._load_one(key, name, state_dict[key], target, assign, error_msgs)
        extra = prefix + _EXTRA_STATE
        if self._has_extra_state():
            if extra in state_dict:
                self.set_extra_state(state_dict[extra])
            elif strict:
                missing_keys.append(extra)
        elif strict and extra in state_dict:
            unexpected_keys.append(extra)
        if strict:
            for key in state_dict:
                if key.startswith(prefix) and key != extra:
                    first = key[len(prefix):].split(".", 1)[0]
                    if first not in self._modules and first not in own:
                        unexpected_keys.append(key)

    def _load_one(self, key, name, src, target, assign, error_msgs) -> None:
        if isinstance(src, np.ndarray) or (not isinstance(src, Tensor) and
                                           np.asarray(src).dtype != object):
            src = tensor(src, device=target.device)
        if not isinstance(src, Tensor):
            error_msgs.append(f'While copying the parameter named "{key}", expected Tensor or '
                              f'Tensor-like object from checkpoint but received {type(src)}')
            return
        lazy = getattr(target, "is_lazy", False)
        if lazy and src.numel():  # as torch's lazy modules: the checkpoint gives the shape
            target.materialize(tuple(src.shape))
        if not lazy and target.ndim == 0 and src.ndim == 1 and src.shape[0] == 1:
            src = src[0]  # old checkpoints kept scalars as (1,)
        if tuple(src.shape) != tuple(target.shape):
            error_msgs.append(f"size mismatch for {key}: copying a param with shape "
                              f"{tuple(src.shape)} from checkpoint, the shape in current model "
                              f"is {tuple(target.shape)}.")
            return
        if assign:
            if name in self._parameters:
                if not isinstance(src, Parameter):
                    src = Parameter(src, requires_grad=target.requires_grad)
                src.requires_grad_(target.requires_grad)
                self._parameters[name] = src
            else:
                self._buffers[name] = src
            return
        if src.device is not target.device:
            src = src.to(target.device)
        target.copy_(src.to(target.dtype))

    def load_state_dict(self, state_dict, strict: bool = True,
                        assign: bool = False) -> IncompatibleKeys:
        """Copy values (Tensors or arrays) into the parameters and buffers by name; with
        ``assign``, put the given tensors in their place (their dtype and device kept; a
        parameter keeps its requires_grad), as PyTorch.

        Raises:
            RuntimeError: listing missing and unexpected keys (when ``strict``) and keys whose
                shape does not match (always).
        """
        if not isinstance(state_dict, dict):
            raise TypeError(f"Expected state_dict to be dict-like, got {type(state_dict)}.")
        metadata = getattr(state_dict, "_metadata", None)
        state_dict = OrderedDict(state_dict)  # the modules' hooks may edit their copy
        missing: list[str] = []
        unexpected: list[str] = []
        errors: list[str] = []

        def load(module, local: dict, prefix: str) -> None:
            meta = {} if metadata is None else dict(metadata.get(prefix[:-1], {}))
            if assign:
                meta["assign_to_params_buffers"] = True
            module._load_from_state_dict(local, prefix, meta, True, missing, unexpected,
                                         errors)
            for name, child in module._modules.items():
                if child is not None:
                    sub = prefix + name + "."
                    load(child, {k: v for k, v in local.items() if k.startswith(sub)}, sub)
            keys = IncompatibleKeys(missing, unexpected)
            for hook in module.__dict__.get("_load_state_dict_post_hooks", {}).values():
                if hook(module, keys) is not None:
                    raise RuntimeError("Hooks registered with "
                                       "``register_load_state_dict_post_hook`` are not expected "
                                       "to return new values.")

        load(self, state_dict, "")
        if strict:
            if unexpected:
                errors.insert(0, "Unexpected key(s) in state_dict: "
                              + ", ".join(f'"{k}"' for k in unexpected) + ".")
            if missing:
                errors.insert(0, "Missing key(s) in state_dict: "
                              + ", ".join(f'"{k}"' for k in missing) + ".")
        if errors:
            raise RuntimeError(f"Error(s) in loading state_dict for {type(self).__name__}:\n\t"
                               + "\n\t".join(errors))
        return IncompatibleKeys(missing, unexpected)
