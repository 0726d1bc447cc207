"""Memory formats: ``ad.contiguous_format``, ``ad.channels_last``, ``ad.channels_last_3d``,
``ad.preserve_format`` and their type ``ad.memory_format``, as in PyTorch.

A tensor in ``channels_last`` keeps its logical shape (N, C, H, W) and stores C innermost:
strides are those of a contiguous (N, H, W, C) tensor, permuted back. ``to_memory_format``
builds such a tensor from a permute, a copy and a permute (no engine changes needed), and
``is_contiguous_in`` tests the strides; Tensor methods that take ``memory_format=`` (contiguous,
clone, to, empty_like, ...) can delegate to them.

Example:
    >>> import autodiff as ad
    >>> x = to_memory_format(ad.ones(2, 3, 4, 5), ad.channels_last)
    >>> x.stride()  # (60, 1, 15, 3), as torch's x.contiguous(memory_format=torch.channels_last)
"""

from __future__ import annotations


class memory_format:
    """One of PyTorch's memory formats; compared by identity, printed as ``autodiff.<name>``."""

    __slots__ = ("_name",)

    def __init__(self, name: str) -> None:
        self._name = name

    def __repr__(self) -> str:
        return f"autodiff.{self._name}"

    def __reduce__(self):  # pickled by name, so copies stay the singletons
        return self._name


contiguous_format = memory_format("contiguous_format")
channels_last = memory_format("channels_last")
channels_last_3d = memory_format("channels_last_3d")
preserve_format = memory_format("preserve_format")

# logical dims -> storage order (innermost last): N, spatial..., C
_ORDER = {channels_last: (4, (0, 2, 3, 1)), channels_last_3d: (5, (0, 2, 3, 4, 1))}


def _check(t, fmt: memory_format, op: str) -> None:
    if not isinstance(fmt, memory_format):
        raise TypeError(f"{op}: memory_format must be an autodiff.memory_format, got {fmt!r}")
    if fmt in _ORDER and t.ndim != _ORDER[fmt][0]:
        raise RuntimeError(f"{op}: required rank {_ORDER[fmt][0]} tensor to use {fmt} format, "
                           f"got rank {t.ndim}")


def is_contiguous_in(t, fmt: memory_format = contiguous_format) -> bool:
    """Whether ``t``'s strides are those of ``fmt`` (``t.is_contiguous(memory_format=fmt)``)."""
    _check(t, fmt, "is_contiguous")
    if fmt not in _ORDER:
        return t.is_contiguous()
    order = _ORDER[fmt][1]
    expected, step = [0] * t.ndim, 1
    for d in reversed(order):
        expected[d] = step
        step *= t.shape[d]
    return all(t.shape[d] == 1 or t.stride(d) == expected[d] for d in range(t.ndim))


def to_memory_format(t, fmt: memory_format = contiguous_format):
    """``t`` itself when already in ``fmt``, else a copy laid out in ``fmt``
    (``preserve_format`` keeps ``t``'s layout: returns ``t``)."""
    _check(t, fmt, "contiguous")
    if fmt is preserve_format or is_contiguous_in(t, fmt):
        return t
    if fmt not in _ORDER:
        return t.contiguous()
    order = _ORDER[fmt][1]
    inverse = tuple(order.index(d) for d in range(t.ndim))
    return t.permute(*order).contiguous().permute(*inverse)


def _layout_of(t):
    """The channels-last format ``t`` is laid out in, or ``contiguous_format``."""
    if not t.is_contiguous():
        for fmt, (rank, _) in _ORDER.items():
            if t.ndim == rank and is_contiguous_in(t, fmt):
                return fmt
    return contiguous_format


def install(tensor_cls) -> None:
    """Give ``Tensor.contiguous``, ``clone`` and ``is_contiguous`` PyTorch's ``memory_format=``
    keyword (``Tensor.to`` takes it in tensor.py)."""
    contiguous, clone, is_contiguous = (tensor_cls.contiguous, tensor_cls.clone,
                                        tensor_cls.is_contiguous)

    def contiguous_(self, memory_format=contiguous_format):
        if memory_format is contiguous_format:
            return contiguous(self)
        return to_memory_format(self, memory_format)

    def clone_(self, memory_format=preserve_format):
        out = clone(self)
        fmt = _layout_of(self) if memory_format is preserve_format else memory_format
        return out if fmt is contiguous_format else to_memory_format(out, fmt)

    def is_contiguous_(self, memory_format=contiguous_format):
        if memory_format is contiguous_format:
            return is_contiguous(self)
        return is_contiguous_in(self, memory_format)

    for fn, orig in ((contiguous_, contiguous), (clone_, clone), (is_contiguous_, is_contiguous)):
        fn.__name__, fn.__qualname__, fn.__doc__ = orig.__name__, orig.__qualname__, orig.__doc__
        setattr(tensor_cls, orig.__name__, fn)
