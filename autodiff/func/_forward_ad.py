"""``ad.autograd.forward_ad``: forward-mode AD with dual tensors, as ``torch.autograd.forward_ad``.

    with forward_ad.dual_level():
        x = forward_ad.make_dual(x0, v)          # x0 carrying the tangent v
        y = f(x)
        y0, jvp = forward_ad.unpack_dual(y)      # f(x0) and J_f(x0) v

How it works: there is no tangent propagation through the ops. ``make_dual`` returns a tensor
that the reverse-mode graph records (a fresh leaf, or a view of ``x0`` when ``x0`` itself
requires grad), and ``unpack_dual(y)`` computes the tangent on demand by the double-vjp trick:
g(u) = J^T u is linear in a dummy cotangent u, so J v = d<g(u), v>/du, two reverse passes.

Forward AD ignores grad mode, as PyTorch's: under ``no_grad`` inside a level, ops whose inputs
derive from a dual are still recorded (the core asks ``_record_under_no_grad``), everything
else is not.

Differences from PyTorch, all from building on the recorded graph:
- a dual tensor, and what is computed from it (also under ``no_grad``), report
  ``requires_grad=True`` and a ``grad_fn`` (PyTorch's do not unless reverse mode tracks them
  too), so a backward from such a tensor reaches what it was computed from;
- each ``unpack_dual`` of a computed tensor costs two backward passes over its graph.
Only one level exists at a time, as in PyTorch ("Nested forward mode AD is not supported").
"""

from __future__ import annotations

import functools
import sys
import weakref
from collections.abc import Callable
from typing import Any, NamedTuple

import autodiff as ad

from ..autograd.function import Function
from ..autograd.grad_mode import state
from ..autograd.node import Node
from ._core import Scope, double_vjp


class _Level:
    """The current dual level and its duals: leaf duals by id, view duals by graph node."""

    def __init__(self) -> None:
        self.current = -1
        self.leaves: dict[int, tuple] = {}  # id(dual) -> (dual, tangent)
        self.nodes: dict[Node, tuple] = {}  # dual.grad_fn -> (dual, tangent)
        self.blocking = False  # set while unpack_dual differentiates: _Primal passes nothing
        self.derived: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # node -> bool


_level = _Level()


class UnpackedDualTensor(NamedTuple):
    """What ``unpack_dual`` returns: the primal and its tangent (None when it has none)."""

    primal: ad.Tensor
    tangent: ad.Tensor | None


class _Primal(Function):
    """y = x without its tangent: unpack_dual does not look through it; dx = dy otherwise."""

    @staticmethod
    def forward(ctx, x):
        return x

    @staticmethod
    def backward(ctx, grad):
        return None if _level.blocking else grad


def enter_dual_level() -> int:
    """Start the forward AD level (only one at a time); returns its number, 0."""
    if _level.current >= 0:
        raise RuntimeError("Nested forward mode AD is not supported at the moment")
    _level.current = 0
    state.fw = _record_under_no_grad
    return 0


def exit_dual_level(*, level: int | None = None) -> None:
    """End the forward AD level: its duals' tangents are forgotten."""
    if level is None:
        level = _level.current
    if level < 0:
        raise RuntimeError("Dual level must be a positive number.")
    if level != _level.current:
        raise RuntimeError("Trying to exit a forward AD level that was not the last one that was "
                           "created. This is not supported.")
    _level.leaves.clear()
    _level.nodes.clear()
    _level.derived = weakref.WeakKeyDictionary()
    _level.current = -1
    state.fw = None


class dual_level:
    """Context manager (and decorator) for a forward AD level: ``with dual_level(): ...``."""

    def __enter__(self) -> int:
        return enter_dual_level()

    def __exit__(self, *exc: object) -> None:
        exit_dual_level()

    def __call__(self, func: Callable) -> Callable:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with dual_level():
                return func(*args, **kwargs)

        return wrapper


def _check_level(level: int | None, api: str) -> int:
    if level is None:
        level = _level.current
    if level >= 0 and level != _level.current:
        raise RuntimeError(f"{api}: level {level} is not the current forward AD level "
                           f"{_level.current}")
    return level


def _scan(t: ad.Tensor) -> tuple[dict, bool]:
    """(the duals ``t`` is computed from, whether its graph also reaches tensors that reverse
    mode tracks for the caller). Stops at ``_Primal`` nodes: no tangent flows through them."""
    found: dict = {}
    lv = _level
    if not t.requires_grad:
        return found, False
    if t.grad_fn is None:
        if id(t) in lv.leaves:
            found[id(t)] = lv.leaves[id(t)]
            return found, False
        return found, True
    outer = False
    stack, seen = [t.grad_fn], set()
    while stack:
        node = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        if node in lv.nodes:
            found[node] = lv.nodes[node]
        if getattr(node, "fn_cls", None) is _Primal:
            outer = True  # made only for tensors that reverse mode tracks
            continue
        for e in node.next:
            if e is None:
                continue
            child = e[0]
            if isinstance(child, Node):
                stack.append(child)
            elif id(child) in lv.leaves:
                found[id(child)] = lv.leaves[id(child)]
            else:
                outer = True
    return found, outer


def _derives_from_dual(node: Node) -> bool:
    """Whether a dual of the level is reachable from ``node`` (not through a ``_Primal``),
    remembered per node: a node's inputs never change."""
    lv = _level
    known = lv.derived.get(node)
    if known is not None:
        return known
    stack, seen, found = [node], set(), False
    while stack and not found:
        n = stack.pop()
        if n in seen:
            continue
        seen.add(n)
        known = lv.derived.get(n)
        if n in lv.nodes or known:
            found = True
        elif known is None and getattr(n, "fn_cls", None) is not _Primal:
            for e in n.next:
                if e is not None:
                    if isinstance(e[0], Node):
                        stack.append(e[0])
                    elif id(e[0]) in lv.leaves:
                        found = True
    lv.derived[node] = found
    return found


def _record_under_no_grad(inputs) -> bool:
    """The core's question under no_grad inside a level: record this op (an input derives
    from a dual, so its result carries a tangent)?"""
    return any(t is not None and t._requires_grad
               and (id(t) in _level.leaves if t.grad_fn is None
                    else _derives_from_dual(t.grad_fn))
               for t in inputs)


def make_dual(tensor: ad.Tensor, tangent: ad.Tensor, *, level: int | None = None) -> ad.Tensor:
    """A tensor equal to ``tensor`` that carries ``tangent`` (same shape) at the current level.

    Example:
        >>> with dual_level():
        ...     y = make_dual(x, v).sin()
        ...     unpack_dual(y).tangent          # x.cos() * v
    """
    level = _check_level(level, "make_dual")
    if level < 0:
        raise RuntimeError("Trying to create a dual Tensor for forward AD but no level exists, "
                           "make sure to enter_dual_level() first.")
    for what, t in (("primal", tensor), ("tangent", tangent)):
        if not isinstance(t, ad.Tensor):
            raise TypeError(f"make_dual: expected the {what} to be a Tensor, got "
                            f"{type(t).__name__}")
        if not t.is_floating_point():
            raise ValueError(f"Expected {what} to be floating point or complex, but got: "
                             f"{t.dtype}")
    if tuple(tensor.shape) != tuple(tangent.shape):
        raise RuntimeError(f"Trying to set a forward gradient that has a different size than "
                           f"that of the original Tensor, this is not supported. Tensor is of "
                           f"size {list(tensor.shape)} while the given forward gradient is of "
                           f"size {list(tangent.shape)}.")
    if _scan(tensor)[0]:
        raise RuntimeError(f"Making a dual Tensor based on a Tensor that already has a forward "
                           f"gradient at the same level {level} is not supported.")
    if tensor.requires_grad and state.enabled:  # a view: reverse mode still reaches `tensor`
        dual = tensor[...]
        _level.nodes[dual.grad_fn] = (dual, tangent)
    else:
        dual = tensor.detach().requires_grad_()
        _level.leaves[id(dual)] = (dual, tangent)
    return dual


def unpack_dual(tensor: ad.Tensor, *, level: int | None = None) -> UnpackedDualTensor:
    """``(primal, tangent)`` of a tensor computed from duals; tangent None when it depends on
    none (or outside a level). Neither part carries a tangent itself.

    Example:
        >>> with dual_level():
        ...     primal, tangent = unpack_dual(make_dual(x, v) ** 2)   # x ** 2, 2 * x * v
    """
    level = _check_level(level, "unpack_dual")
    if level < 0:
        return UnpackedDualTensor(tensor, None)
    if not isinstance(tensor, ad.Tensor):
        raise TypeError(f"unpack_dual: expected a Tensor, got {type(tensor).__name__}")
    found, outer = _scan(tensor)
    if not found:
        return UnpackedDualTensor(tensor, None)
    keep = state.enabled and outer  # reverse mode tracks the result for the caller
    primal = _Primal.apply(tensor) if keep else tensor.detach()
    duals = list(found.values())
    if len(duals) == 1 and duals[0][0] is tensor:
        return UnpackedDualTensor(primal, duals[0][1])
    if not tensor.is_floating_point():
        return UnpackedDualTensor(primal, None)
    create = state.enabled and (outer or any(v.requires_grad for _, v in duals))
    _level.blocking = True  # no tangent flows back through a _Primal
    try:
        (tangent,) = double_vjp(Scope(), [tensor], [d for d, _ in duals], [v for _, v in duals],
                                create)
    finally:
        _level.blocking = False
    if tangent is None:  # depends on a dual through ops whose derivative is nothing (round)
        return UnpackedDualTensor(primal, ad.zeros_like(tensor))
    if create and tangent.requires_grad:
        tangent = _Primal.apply(tangent)
    return UnpackedDualTensor(primal, tangent)


class _JvpTransposed(Function):
    """For ``unpack_dual``'s double vjp through a custom Function that defines only ``jvp``:
    g(u) = J^T u at the zero cotangent u (zeros), whose backward, J w, is the Function's jvp."""

    @staticmethod
    def forward(ctx, fctx, *grads):
        ctx.fctx = fctx
        g = next(g for g in grads if g is not None)
        return tuple(None if shape is None else ad.zeros(shape, dtype=g.dtype, device=g.device)
                     for shape in fctx.in_shapes)

    @staticmethod
    def backward(ctx, *tangents):
        fctx = ctx.fctx
        saved = fctx.saved, fctx._versions  # jvp reads what forward gave save_for_forward
        fctx.saved, fctx._versions = getattr(fctx, "for_forward", ()), ()
        try:
            out = fctx.fn_cls.jvp(fctx, *tangents)
        finally:
            fctx.saved, fctx._versions = saved
        return (None, *(out if isinstance(out, tuple) else (out,)))


def backward_from_jvp(ctx, grads: tuple) -> tuple | None:
    """Inside ``unpack_dual``, the backward of a custom Function that defines ``jvp``, built
    from the jvp (PyTorch's forward AD calls jvp; ours differentiates backward); else None."""
    if not _level.blocking:
        return None
    out = _JvpTransposed.apply(ctx, *grads)
    return out if isinstance(out, tuple) else (out,)


def gradcheck_jacobians(outputs: Callable, inputs: tuple, diff_idx: list) -> dict:
    """gradcheck(check_forward_ad=True)'s Jacobians, {i: (inputs[i].numel(), outputs' total)}:
    row k holds the outputs' tangents when inputs[i] carries the k-th unit tangent."""
    import numpy as np

    jac = {}
    for i in diff_idx:
        rows, x = [], inputs[i]
        for k in range(x.numel()):
            v = ad.zeros(x.numel(), dtype=x.dtype, device=x.device)
            v[k] = 1
            with dual_level():
                args = list(inputs)
                args[i] = make_dual(x.detach(), v.view(x.shape))
                rows.append(np.concatenate([
                    np.zeros(o.numel()) if t is None else t.detach().cpu().numpy().astype(np.float64)
                    .ravel() for o in outputs(*args) for t in [unpack_dual(o).tangent]]))
        jac[i] = np.stack(rows)
    return jac


# ``import autodiff.autograd.forward_ad`` finds this module too (it lives outside the core)
sys.modules.setdefault("autodiff.autograd.forward_ad", sys.modules[__name__])
