"""``ad.autograd.graph``: hooks on the tensors the graph saves for backward, as PyTorch's.

    with ad.autograd.graph.saved_tensors_hooks(pack, unpack):
        y = model(x)        # pack(t) once for each tensor an op saves; the graph keeps its result
    y.sum().backward()      # unpack(packed) when backward reads the saved tensor

Only the innermost pair applies; the hooks are per thread. The packing itself is in
``autograd/saved.py``; ops recorded without hooks pay one check of a module global.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from typing import Any

from . import node as _node
from .grad_mode import state
from .node import Node

__all__ = ["Node", "disable_saved_tensors_hooks", "save_on_cpu", "saved_tensors_hooks"]
_lock = threading.Lock()  # around node.hooks_active, counted over all threads


class saved_tensors_hooks:
    """Set a pair of pack / unpack hooks for the tensors that ops save for backward.

    Args:
        pack_hook: ``pack_hook(tensor) -> Any``, called once for each tensor an op saves (under
            no_grad); the graph keeps what it returns instead of the tensor.
        unpack_hook: ``unpack_hook(packed) -> Tensor``, called when backward reads the saved
            tensor; it should give back a tensor equal to the one packed.

    Example:
        >>> with saved_tensors_hooks(lambda t: t * 4, lambda p: p / 4):
        ...     y = x.pow(2)
    """

    def __init__(self, pack_hook: Callable[[Any], Any], unpack_hook: Callable[[Any], Any]):
        self.pack_hook = pack_hook
        self.unpack_hook = unpack_hook

    def __enter__(self) -> None:
        if state.saved_hooks_disabled is not None:
            raise RuntimeError(state.saved_hooks_disabled)
        with _lock:
            _node.hooks_active += 1
        state.saved_hooks = state.saved_hooks + ((self.pack_hook, self.unpack_hook),)

    def __exit__(self, *exc) -> None:
        state.saved_hooks = state.saved_hooks[:-1]
        with _lock:
            _node.hooks_active -= 1


class save_on_cpu(saved_tensors_hooks):
    """Keep the saved tensors on the CPU and move them back to their device for backward.

    Args:
        pin_memory: accepted for PyTorch's signature (no pinned memory here).
        device_type: accepted for PyTorch's signature.
    """

    def __init__(self, pin_memory: bool = False, device_type: str = "cuda") -> None:
        def pack_to_cpu(tensor):
            return tensor.device, tensor.cpu()

        def unpack_from_cpu(packed):
            device, tensor = packed
            return tensor.to(device)

        super().__init__(pack_to_cpu, unpack_from_cpu)


@contextlib.contextmanager
def disable_saved_tensors_hooks(error_message: str):
    """Within it, setting saved-tensor hooks raises ``RuntimeError(error_message)``; entering it
    while hooks are set raises the same."""
    prev = state.saved_hooks_disabled
    try:
        if state.saved_hooks:
            raise RuntimeError(error_message)
        state.saved_hooks_disabled = error_message
        yield
    finally:
        state.saved_hooks_disabled = prev
