"""``torch.nn.modules.utils``'s helpers, which ported layer code imports: ``_single``,
``_pair``, ``_triple``, ``_quadruple``, ``_ntuple``, ``_reverse_repeat_tuple`` and
``consume_prefix_in_state_dict_if_present`` (load a DataParallel state dict into a plain model).
"""

from __future__ import annotations

import collections.abc
from itertools import repeat
from typing import Any

__all__ = ["consume_prefix_in_state_dict_if_present"]


def _ntuple(n: int, name: str = "parse"):
    """A parser turning a scalar into an n-tuple (an iterable becomes a tuple as it is)."""

    def parse(x):
        if isinstance(x, collections.abc.Iterable):
            return tuple(x)
        return tuple(repeat(x, n))

    parse.__name__ = name
    return parse


_single = _ntuple(1, "_single")
_pair = _ntuple(2, "_pair")
_triple = _ntuple(3, "_triple")
_quadruple = _ntuple(4, "_quadruple")


def _reverse_repeat_tuple(t, n: int) -> tuple:
    """``t`` reversed with each entry repeated n times: conv padding as ``F.pad`` takes it."""
    return tuple(x for x in reversed(t) for _ in range(n))


def consume_prefix_in_state_dict_if_present(state_dict: dict[str, Any], prefix: str) -> None:
    """Strip ``prefix`` (e.g. ``"module."`` of a DataParallel model) from the keys of
    ``state_dict`` in place, and from its ``_metadata`` if it has one, as PyTorch does."""
    for key in list(state_dict):
        if key.startswith(prefix):
            state_dict[key[len(prefix):]] = state_dict.pop(key)
    meta = getattr(state_dict, "_metadata", None)
    if meta is not None:
        for key in list(meta):
            if key and (key == prefix.replace(".", "") or key.startswith(prefix)):
                meta[key[len(prefix):]] = meta.pop(key)
