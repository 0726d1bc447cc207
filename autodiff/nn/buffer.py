"""``nn.Buffer``: a Tensor that, assigned to a Module attribute, registers as a buffer
(PyTorch 2.5+): ``self.running = nn.Buffer(ad.zeros(3), persistent=False)`` is
``self.register_buffer("running", ad.zeros(3), persistent=False)``.

Module.__setattr__ learns this here, wrapped when ``autodiff.nn`` is imported (the one
addition: a Buffer assigned to a name that is not a parameter or a submodule registers)."""

from __future__ import annotations

from ..tensor import Tensor
from .modules.module import Module

__all__ = ["Buffer"]


class Buffer(Tensor):
    """A Tensor marked to become a buffer when assigned to a Module attribute.

    It shares memory with ``data`` and keeps its ``requires_grad``.

    Args:
        data: the value (an empty tensor when None).
        persistent: whether the buffer goes into ``state_dict()`` (default True).

    Example:
        >>> m = nn.Module()
        >>> m.steps = nn.Buffer(ad.zeros(()))
        >>> list(m.state_dict())
        ['steps']
    """

    __slots__ = ("persistent",)

    def __init__(self, data: Tensor | None = None, *, persistent: bool = True) -> None:
        if data is None:
            from ..creation import empty

            data = empty(0)
        if not isinstance(data, Tensor):
            raise TypeError(f"Buffer: expected a Tensor, got {type(data).__name__}")
        self._init(data._data, data._dev, data.requires_grad, None)
        self.persistent = persistent


def _install() -> None:
    module_setattr = Module.__setattr__
    if getattr(module_setattr, "_registers_buffers", False):
        return

    def __setattr__(self, name: str, value) -> None:
        d = self.__dict__
        if (isinstance(value, Buffer) and name not in d.get("_parameters", ())
                and name not in d.get("_modules", ())):
            if "_buffers" not in d:
                raise AttributeError("cannot assign buffer before Module.__init__() call")
            self.register_buffer(name, value, value.persistent)
            return
        module_setattr(self, name, value)

    __setattr__._registers_buffers = True
    __setattr__.__doc__ = module_setattr.__doc__
    Module.__setattr__ = __setattr__


_install()
