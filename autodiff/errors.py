"""Exception types. Each subclasses both the Python type our style guide names and the
RuntimeError PyTorch raises, so code written for either catches them."""

from __future__ import annotations


class ShapeError(RuntimeError, ValueError):
    """Shapes that do not fit: ``mul: cannot broadcast (3, 4) with (5,)``."""


class DeviceError(RuntimeError, ValueError):
    """Tensors on different devices, or a device that is not available."""


class DTypeError(RuntimeError, TypeError):
    """A dtype an op does not accept: ``exp: expected a floating dtype, got int64``."""


class IndexRangeError(RuntimeError, IndexError):
    """An index outside its dim: ``gather: index out of bounds for dim 0 of size 3``."""
