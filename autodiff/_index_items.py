"""PyTorch's reading of the rare index items, kept out of the core's hot path
(``autodiff/ops/indexing.py`` calls these only for items it does not know, or for an index
with more than one ``...``)."""

from __future__ import annotations

_VALID = ("only integers, slices (`:`), ellipsis (`...`), None and long or byte Variables are "
          "valid indices (got {})")


def odd_item(i):
    """An index item that is not a slice, Tensor, list or array: a str or bytes is PyTorch's
    TypeError, a float, dict or other object its IndexError; ints, None, ``...`` pass."""
    if isinstance(i, (str, bytes)):
        raise TypeError(f"new(): invalid data type '{type(i).__name__}'")
    if i is None or i is Ellipsis or isinstance(i, tuple) or hasattr(type(i), "__index__"):
        return i
    raise IndexError(_VALID.format(type(i).__name__))


def array_item(a):
    """A list index as an array: a list holding str or bytes is PyTorch's TypeError."""
    if a.dtype.kind in "SU":
        raise TypeError(f"new(): invalid data type '{'str' if a.dtype.kind == 'U' else 'bytes'}'")
    return a


def one_ellipsis(items: list, ndim: int) -> list:
    """``items`` with its second and later ``...`` dropped, as PyTorch reads them: each ``...``
    skips the dims no item names, so past the first one every later item is out of range
    unless no dim is left unnamed."""
    named = 0
    for i in items:
        if i is not None and i is not Ellipsis:
            bool_array = getattr(i, "dtype", None) is not None and i.dtype.kind == "b"
            named += i.ndim if bool_array else 1
    first, second = [k for k, i in enumerate(items) if i is Ellipsis][:2]
    rest = [i for i in items[second:] if i is not Ellipsis]
    if rest and ndim > named:
        raise IndexError(f"index {tuple(items)!r} is out of range for a tensor of {ndim} dims: "
                         f"each '...' stands for the {ndim - named} unnamed dims")
    return items[:first + 1] + [i for i in items[first + 1:] if i is not Ellipsis]
