"""``nn.Buffer``: a Tensor that, assigned to a Module attribute, registers as a buffer
(PyTorch 2.5+): ``self.running = nn.Buffer(ad.zeros(3), persistent=False)`` is
``self.register_buffer("running", ad.zeros(3), persistent=False)``.

As in PyTorch, ``nn.Buffer(t)`` is a plain Tensor (``type(m.running) is Tensor``) that shares
``t``'s memory and is marked; ``isinstance(x, nn.Buffer)`` is True for a marked tensor.
A Tensor has slots, not a ``__dict__``, so the mark (and ``persistent``) is kept here, by id,
and dropped when the tensor is collected; ``Module.__setattr__`` reads it."""

from __future__ import annotations

import weakref

from ..tensor import Tensor

__all__ = ["Buffer"]

# id(tensor) -> (weak reference, persistent); an entry leaves when its tensor is collected,
# before the id can be reused.
_MARKS: dict[int, tuple[weakref.ref, bool]] = {}


def buffer_mark(t: Tensor) -> bool | None:
    """``persistent`` of a tensor made by ``nn.Buffer``, None for any other tensor."""
    entry = _MARKS.get(id(t))
    return entry[1] if entry is not None and entry[0]() is t else None


class _BufferMeta(type):
    def __instancecheck__(cls, instance) -> bool:
        if cls is Buffer and isinstance(instance, Tensor) and buffer_mark(instance) is not None:
            return True
        return super().__instancecheck__(instance)


class Buffer(Tensor, metaclass=_BufferMeta):
    """A Tensor marked to become a buffer when assigned to a Module attribute.

    ``Buffer(data)`` returns a plain Tensor sharing memory with ``data`` and keeping its
    ``requires_grad`` (PyTorch: ``data.detach().requires_grad_(data.requires_grad)``), marked
    so that ``isinstance(t, nn.Buffer)`` is True and a Module registers it on assignment.

    Args:
        data: the value (an empty tensor when None).
        persistent: whether the buffer goes into ``state_dict()`` (default True).

    Example:
        >>> m = nn.Module()
        >>> m.steps = nn.Buffer(ad.zeros(()))
        >>> list(m.state_dict()), type(m.steps) is ad.Tensor
        (['steps'], True)
    """

    __slots__ = ()

    def __new__(cls, data: Tensor | None = None, *, persistent: bool = True) -> Tensor:
        if data is None:
            from ..creation import empty

            data = empty(0)
        if not isinstance(data, Tensor):
            raise TypeError(f"Buffer: expected a Tensor, got {type(data).__name__}")
        t = data.detach().requires_grad_(data.requires_grad)
        key = id(t)
        _MARKS[key] = (weakref.ref(t, lambda _, key=key: _MARKS.pop(key, None)), persistent)
        return t
