"""``nn.Parameter``: a Tensor that a Module registers as a learnable parameter."""

from __future__ import annotations


from ..tensor import Tensor


class Parameter(Tensor):
    """A leaf Tensor that requires grad by default and that Modules collect in ``parameters()``.

    It shares memory with ``data``. ``isinstance(p, autodiff.Tensor)`` holds.

    Args:
        data: the initial value (a Tensor; an empty tensor when None).
        requires_grad: whether the parameter takes part in autograd (default True).

    Example:
        >>> w = nn.Parameter(ad.randn(3, 4))
        >>> w.requires_grad
        True
    """

    __slots__ = ()

    def __init__(self, data: Tensor | None = None, requires_grad: bool = True) -> None:
        if data is None:
            from ..creation import empty

            data = empty(0)
        if not isinstance(data, Tensor):
            from ..creation import tensor

            data = tensor(data)
        self._init(data._data, data._dev, False, None)
        if requires_grad and not data.is_floating_point():
            raise RuntimeError(f"Only Tensors of floating point dtype can require gradients "
                               f"(nn.Parameter of {data.dtype.name}: pass requires_grad=False)")
        self._requires_grad = bool(requires_grad)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + Tensor.__repr__(self)

    def __deepcopy__(self, memo) -> Parameter:
        if id(self) in memo:
            return memo[id(self)]
        p = Parameter(Tensor._make(self._dev.backend.copy(self._data), self._dev, False, None),
                      self._requires_grad)  # without its grad, as PyTorch's
        memo[id(self)] = p
        return p

    def __reduce_ex__(self, proto):
        return (Parameter, (self.data, self._requires_grad))
