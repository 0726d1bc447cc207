"""Saved tensors under ``graph.saved_tensors_hooks``: packed when the graph records an op (or a
custom Function), unpacked each time backward reads them. A node recorded under hooks keeps a
``Packed`` in place of its saved tensors and saved output; the engine unpacks it for each
backward through the node. As PyTorch, versions are not checked through hooks."""

from __future__ import annotations

from . import node as _node
from .grad_mode import no_grad, state
from .node import Node


class _Saved:
    """One saved tensor as the pack hook returned it; ``edge``: where its gradient went (None
    when it required none); ``output_nr``: set when it is the node's own output."""

    __slots__ = ("edge", "output_nr", "packed", "unpack_hook")

    def unpack(self, node: Node):
        t = self.unpack_hook(self.packed)
        if not isinstance(t, _node.Tensor):
            raise TypeError(f"Output of saved tensor unpack_hook expected to be a Tensor but got "
                            f"result of type {type(t).__name__}")
        if not state.enabled:  # a backward that is not recorded: the values are enough
            return t
        fn, nr = (node, self.output_nr) if self.output_nr is not None else self.edge or (None, 0)
        if fn is None or t is fn or t.grad_fn is fn and t._output_nr == nr:
            return t
        if not isinstance(fn, Node):  # a leaf: reached through a view of it (an identity)
            fn, nr = fn.view(fn.shape).grad_fn, 0
        linked = _node.Tensor._make(t._data, t._dev, True, fn)  # as PyTorch, the unpacked
        linked._output_nr = nr  # tensor takes the saved one's place in the graph
        return linked


class Packed:
    """An op node's saved tensors and saved output, packed."""

    __slots__ = ("items", "out")

    def __init__(self, items: tuple, out) -> None:
        self.items, self.out = items, out

    def unpack(self, node: Node) -> tuple:
        """(the saved tensors, the output's array) for one backward through ``node``."""
        out = None if self.out is None else self.out.unpack(node)._data
        return tuple(None if s is None else s.unpack(node) for s in self.items), out


def pack(t, output_nr: int | None = None) -> _Saved:
    """``t`` through the innermost pack hook, under no_grad (as PyTorch)."""
    pack_hook, unpack_hook = state.saved_hooks[-1]
    version = t._vc[0]
    with no_grad():
        packed = pack_hook(t)
    if t._vc[0] != version:
        raise RuntimeError(
            "A saved tensor pack hook is modifying its input in place. Tensors provided as input "
            "to pack hook cannot be modified by in-place operations as this can lead to "
            "unexpected side-effects. Please open an issue if you need to perform in-place "
            "operations on the input to a pack hook.")
    s = _Saved()
    s.unpack_hook, s.packed, s.output_nr = unpack_hook, packed, output_nr
    s.edge = None if output_nr is not None or not t._requires_grad else (
        (t, 0) if t.grad_fn is None else (t.grad_fn, t._output_nr))
    return s


def pack_op(node: Node, out) -> None:
    """Replace what an op node saved (tensors, output) by what the pack hook makes of it."""
    if node.saved or node.out_data is not None:
        items = tuple(None if t is None else pack(t) for t in node.saved)
        node.saved = Packed(items, None if node.out_data is None else pack(out, 0))
        node.out_data, node._versions, node._out_version = None, (), None
