"""A tiny pytree: nested dicts, lists, tuples and namedtuples whose leaves are anything else
(tensors, numbers, None), as ``torch.utils._pytree`` treats them.

    leaves, spec = tree_flatten({"w": w, "b": [b0, b1]})   # [w, b0, b1]
    tree_unflatten([2 * t for t in leaves], spec)           # same structure, new leaves
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def _is_namedtuple(x: Any) -> bool:
    return isinstance(x, tuple) and hasattr(type(x), "_fields")


def _is_node(x: Any) -> bool:
    return isinstance(x, (list, tuple, dict))


def _children(x: Any) -> tuple[list, Any]:
    """(children, context) of a node; the context (dict keys) rebuilds it."""
    if isinstance(x, dict):
        keys = list(x)
        return [x[k] for k in keys], keys
    return list(x), None


class TreeSpec:
    """The structure of a pytree: a node type, its context (dict keys) and child specs;
    ``TreeSpec(None, None, [])`` is a leaf."""

    __slots__ = ("children", "context", "num_leaves", "type")

    def __init__(self, type_: type | None, context: Any, children: list[TreeSpec]) -> None:
        self.type, self.context, self.children = type_, context, children
        self.num_leaves = 1 if type_ is None else sum(c.num_leaves for c in children)

    def is_leaf(self) -> bool:
        return self.type is None

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, TreeSpec) and self.type is other.type
                and self.context == other.context and self.children == other.children)

    def __hash__(self) -> int:  # specs are compared, rarely hashed
        return hash((self.type, len(self.children)))

    def __repr__(self) -> str:
        if self.type is None:
            return "*"
        inner = ", ".join(repr(c) for c in self.children)
        if self.type is dict or issubclass(self.type, dict):
            inner = ", ".join(f"{k!r}: {c!r}" for k, c in zip(self.context, self.children))
        return f"TreeSpec({self.type.__name__}, [{inner}])"


LEAF = TreeSpec(None, None, [])


def tree_flatten(tree: Any) -> tuple[list, TreeSpec]:
    """Leaves of ``tree`` in order (dicts in insertion order) and its structure."""
    leaves: list = []

    def go(x: Any) -> TreeSpec:
        if not _is_node(x):
            leaves.append(x)
            return LEAF
        kids, ctx = _children(x)
        return TreeSpec(type(x), ctx, [go(k) for k in kids])

    return leaves, go(tree)


def tree_unflatten(leaves: list, spec: TreeSpec) -> Any:
    """Inverse of ``tree_flatten``: put ``leaves`` back into the structure ``spec``."""
    leaves = list(leaves)
    if len(leaves) != spec.num_leaves:
        raise ValueError(f"tree_unflatten: expected {spec.num_leaves} leaves, got {len(leaves)}")
    it = iter(leaves)

    def go(s: TreeSpec) -> Any:
        if s.type is None:
            return next(it)
        kids = [go(c) for c in s.children]
        if issubclass(s.type, dict):
            return s.type(zip(s.context, kids))
        if issubclass(s.type, tuple) and hasattr(s.type, "_fields"):  # namedtuple
            return s.type(*kids)
        return s.type(kids)

    return go(spec)


def tree_map(fn: Callable[[Any], Any], tree: Any) -> Any:
    """Apply ``fn`` to every leaf, keeping the structure."""
    leaves, spec = tree_flatten(tree)
    return tree_unflatten([fn(x) for x in leaves], spec)


def broadcast_prefix(prefix: Any, spec: TreeSpec) -> list | None:
    """Flatten ``prefix`` against ``spec``: a leaf of ``prefix`` (an int, None) covers the whole
    subtree at its place. None when ``prefix`` is not a prefix of the structure ``spec``."""
    out: list = []

    def go(p: Any, s: TreeSpec) -> bool:
        if not _is_node(p):
            out.extend([p] * s.num_leaves)
            return True
        if s.type is None or type(p) is not s.type:
            return False
        kids, ctx = _children(p)
        if len(kids) != len(s.children):
            return False
        if ctx is not None:  # dicts match by key
            if set(ctx) != set(s.context):
                return False
            kids = [p[k] for k in s.context]
        return all(go(k, c) for k, c in zip(kids, s.children))

    return out if go(prefix, spec) else None
