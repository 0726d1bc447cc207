"""Broadcasting primitives: Expand (a view, or a small filled copy) and its adjoint SumTo."""

from __future__ import annotations

from ..autograd.node import Op
from ..errors import ShapeError


def sum_to(g, shape):
    """Reduce ``g`` to ``shape`` by summing broadcast dims (identity when shapes match)."""
    return g if g._data.shape == shape else SumTo.apply(g, shape=shape)


class SumTo(Op):
    """y = sum of x over the dims broadcasting added; dx = expand(dy, x.shape)."""

    def forward(self, x, shape):
        self.in_shape = x._data.shape
        return self.backend.sum_to(x._data, shape)

    def backward(self, g):
        return (expand(g, self.in_shape),)

    def backward_data(self, g):
        return (self.backend.broadcast_to(g, self.in_shape),)


def _expanded_strides(a, shape) -> tuple:
    """a's strides seen at ``shape`` (NumPy's broadcasting; ValueError where it fails)."""
    lead = len(shape) - a.ndim
    if lead < 0 or any(n < 0 for n in shape[:lead]):
        raise ValueError
    strides = [0] * lead
    for n, step, want in zip(a.shape, a.strides, shape[lead:]):
        if n != want and n != 1:
            raise ValueError
        strides.append(step if n == want and n != 1 else 0)
    return tuple(strides)


class Expand(Op):
    """y = broadcast_to(reshape(x, kept), shape) (a view); dx = reshape(sum_to(dy, kept)).

    ``kept`` (optional) first reshapes x, e.g. to put back the dims a reduction removed:
    the backward of ``sum(x, dim)`` is one Expand."""

    is_view = 2  # small expansions are filled copies (see NumpyBackend.broadcast_to)

    def forward(self, x, shape, kept=None, view=False):
        self.in_shape = x._data.shape
        self.kept = kept
        data = x._data if kept is None else x._data.reshape(kept)
        try:
            if view:  # Tensor.expand: always a (writable, stride-0) view, as in PyTorch
                return self.backend.xp.lib.stride_tricks.as_strided(
                    data, tuple(shape), _expanded_strides(data, shape))
            return self.backend.broadcast_to(data, shape)
        except ValueError:
            raise ShapeError(f"expand: cannot expand shape {tuple(x.shape)} to {tuple(shape)}"
                             ) from None

    def backward(self, g):
        if self.kept is None:
            return (sum_to(g, self.in_shape),)
        return (sum_to(g, self.kept).reshape(self.in_shape),)

    def backward_data(self, g):
        if self.kept is None:
            return (self.backend.sum_to(g, self.in_shape),)
        return (self.backend.sum_to(g, self.kept).reshape(self.in_shape),)


def expand(x, shape):
    return Expand.apply(x, shape=tuple(shape))
