"""Exception types. Each subclasses both the Python type our style guide names and the
RuntimeError PyTorch raises, so code written for either catches them."""

from __future__ import annotations


class ShapeError(RuntimeError, ValueError):
    """Shapes that do not fit: ``mul: cannot broadcast (3, 4) with (5,)``."""


class DeviceError(RuntimeError, ValueError):
    """Tensors on different devices, or a device that is not available."""


class DTypeError(RuntimeError, TypeError):
    """A dtype an op does not accept: ``exp: expected a floating dtype, got int64``."""


class ArgumentError(RuntimeError, ValueError):
    """A bad argument value: ``zeros: Trying to create tensor with negative dimension -1``."""


class IndexRangeError(RuntimeError, IndexError):
    """An index outside its dim: ``gather: index out of bounds for dim 0 of size 3``."""


def index_range_error(op: str, dim: int, n: int) -> IndexRangeError:
    """PyTorch's range check failed: an index of ``op`` outside [0, n) along ``dim``."""
    return IndexRangeError(f"{op}: index out of bounds for dim {dim} of size {n} (index values "
                           f"must be in [0, {n}))")


def bool_subtraction_error(n_bools: int) -> RuntimeError:
    """PyTorch's refusal of ``-`` with one or two bool operands."""
    if n_bools == 2:
        return RuntimeError("Subtraction, the `-` operator, with two bool tensors is not "
                            "supported. Use the `^` or `logical_xor()` operator instead.")
    return RuntimeError("Subtraction, the `-` operator, with a bool tensor is not supported. If "
                        "you are trying to invert a mask, use the `~` or `logical_not()` operator "
                        "instead.")
