"""PyTorch's legacy ``Variable``: ``Variable(t, requires_grad=...)`` returns a tensor that
shares ``t``'s data (``t.detach().requires_grad_(...)``) and every tensor is an instance of
``Variable``, as in PyTorch since 0.4."""

from __future__ import annotations


class _VariableMeta(type):
    def __instancecheck__(cls, other) -> bool:
        from ..tensor import Tensor

        return isinstance(other, Tensor)


class Variable(metaclass=_VariableMeta):
    def __new__(cls, data=None, requires_grad: bool = False, volatile: bool = False):
        from ..creation import empty
        from ..tensor import Tensor

        if data is None:
            return empty(0, requires_grad=requires_grad)
        if not isinstance(data, Tensor):
            raise TypeError(f"Variable data has to be a tensor, but got {type(data).__name__}")
        return data.detach().requires_grad_(requires_grad)
