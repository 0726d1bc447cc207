"""``nn.attention``: PyTorch's ``SDPBackend`` and ``sdpa_kernel`` for
``F.scaled_dot_product_attention``.

autodiff has one attention implementation (the math one), so choosing kernels changes nothing;
``sdpa_kernel`` validates its argument as torch does and records the selection for the
duration of the ``with`` block (``current_backends()``), so ported code runs unchanged.

Example:
    >>> from autodiff.nn.attention import SDPBackend, sdpa_kernel
    >>> with sdpa_kernel(SDPBackend.MATH):
    ...     out = F.scaled_dot_product_attention(q, k, v)
"""

from __future__ import annotations

import contextlib
import enum
from collections.abc import Iterator

__all__ = ["WARN_FOR_UNFUSED_KERNELS", "SDPBackend", "sdpa_kernel"]

WARN_FOR_UNFUSED_KERNELS = False


class SDPBackend(enum.IntEnum):
    """The kernels PyTorch can pick for scaled dot-product attention (same values)."""

    ERROR = -1
    MATH = 0
    FLASH_ATTENTION = 1
    EFFICIENT_ATTENTION = 2
    CUDNN_ATTENTION = 3
    OVERRIDEABLE = 4


_ALL = [SDPBackend.MATH, SDPBackend.FLASH_ATTENTION, SDPBackend.EFFICIENT_ATTENTION,
        SDPBackend.CUDNN_ATTENTION, SDPBackend.OVERRIDEABLE]
_enabled: list[SDPBackend] = list(_ALL)


class SDPBackendTypeError(TypeError, AssertionError):
    """torch raises AssertionError for a bad ``backends``; this is also a TypeError."""


def current_backends() -> list[SDPBackend]:
    """The backends enabled by the innermost ``sdpa_kernel`` (all of them outside one)."""
    return list(_enabled)


@contextlib.contextmanager
def sdpa_kernel(backends: list[SDPBackend] | SDPBackend,
                set_priority: bool = False) -> Iterator[dict]:
    """Select the attention kernels for the ``with`` block (a no-op choice in autodiff).

    Args:
        backends: one SDPBackend or a list of them.
        set_priority: whether the list order is a priority order (recorded, no effect).

    Raises:
        SDPBackendTypeError: ``backends`` is neither an SDPBackend nor a list (an
            AssertionError, as in torch, and a TypeError).
    """
    if not isinstance(backends, (list, SDPBackend)):
        raise SDPBackendTypeError("Backend must be an instance of SDPBackend or a list of "
                                  f"SDPBackend instances, got {type(backends).__name__}")
    backends = [backends] if isinstance(backends, SDPBackend) else list(dict.fromkeys(backends))
    global _enabled
    previous, _enabled = _enabled, [b for b in backends if b in _ALL]
    try:
        yield {}
    finally:
        _enabled = previous
