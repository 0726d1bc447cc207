"""What the transforms share: a ``Scope`` per transform call (its fresh differentiable inputs,
PyTorch's functorch "level"), gradients that are zeros rather than None, argnums checks, and
the double-vjp trick that gives Jacobian-vector products from reverse mode."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import autodiff as ad

from ..autograd.grad_mode import enable_grad, state
from ..autograd.node import Node
from ._pytree import tree_map


def func_name(func: Callable) -> str:
    return getattr(func, "__name__", None) or repr(func)


class Scope:
    """One transform call. ``diff(t)`` gives the tensor the function sees for an input it is
    differentiated against: a view linked to ``t`` when the caller records a graph through
    ``t`` (so the result stays differentiable, as nested transforms need), else a fresh leaf.
    ``export`` hands results back detached unless the caller can differentiate them."""

    def __init__(self) -> None:
        self.outer = state.enabled  # the caller records graphs (the transform runs with grad on)
        self.internal: set[int] = set()  # ids of the leaves this scope made
        self._alive: list = []  # keeps those leaves (and so their ids) alive

    def diff(self, t: Any) -> ad.Tensor:
        if not isinstance(t, ad.Tensor):
            raise ValueError(f"Thing passed to transform API must be Tensor, got {type(t)}")
        if not t.is_floating_point():
            raise RuntimeError("only Tensors of floating point dtype can require gradients")
        if t.requires_grad and self.outer:
            with enable_grad():
                return t[...]
        return self.leaf(t)

    def leaf(self, t: ad.Tensor) -> ad.Tensor:
        x = t.detach().requires_grad_()
        self.internal.add(id(x))
        self._alive.append(x)
        return x

    def reaches_outer(self, tensors: Sequence) -> bool:
        """Whether the graph of any of ``tensors`` reaches a leaf this scope did not make:
        only then can the caller differentiate what the transform computes from them."""
        stack, seen = [], set()
        for t in tensors:
            if isinstance(t, ad.Tensor) and t.requires_grad:
                if t.grad_fn is None:
                    if id(t) not in self.internal:
                        return True
                else:
                    stack.append(t.grad_fn)
        while stack:
            node = stack.pop()
            if node in seen:
                continue
            seen.add(node)
            for e in node.next:
                if e is None:
                    continue
                if isinstance(e[0], Node):
                    stack.append(e[0])
                elif id(e[0]) not in self.internal:
                    return True
        return False

    def export(self, tree: Any) -> Any:
        """Tensors of ``tree`` as the caller gets them: detached unless differentiable there."""

        def one(x: Any) -> Any:
            if not isinstance(x, ad.Tensor) or not x.requires_grad:
                return x
            return x if self.outer and self.reaches_outer([x]) else x.detach()

        return tree_map(one, tree)


def autograd_grad(outputs: Sequence, inputs: Sequence, grad_outputs: Sequence | None = None,
                  create_graph: bool = False, retain_graph: bool = True) -> list:
    """``ad.autograd.grad`` over the outputs that require grad; zeros for unreached inputs."""
    if grad_outputs is None:
        grad_outputs = [None] * len(outputs)
    pairs = [(o, g) for o, g in zip(outputs, grad_outputs) if o.requires_grad]
    if not pairs:
        return [ad.zeros_like(x) for x in inputs]
    grads = ad.autograd.grad([o for o, _ in pairs], list(inputs), [g for _, g in pairs],
                             retain_graph=retain_graph or create_graph,
                             create_graph=create_graph, allow_unused=True)
    return [ad.zeros_like(x) if g is None else g for x, g in zip(inputs, grads)]


def double_vjp(scope: Scope, outputs: Sequence, inputs: Sequence, tangents: Sequence,
               create_graph: bool) -> list:
    """J v for every output (None where it does not depend on ``inputs``), by reverse mode
    twice: g(u) = J^T u is linear in a dummy cotangent u, so d<g(u), v>/du = J v."""
    result: list = [None] * len(outputs)
    live = [i for i, o in enumerate(outputs) if o.requires_grad and o.is_floating_point()]
    if not live:
        return result
    us = [scope.leaf(ad.zeros_like(outputs[i])) for i in live]
    gs = ad.autograd.grad([outputs[i] for i in live], list(inputs), us, retain_graph=True,
                          create_graph=True, allow_unused=True)
    pairs = [(g, v if v.dtype == g.dtype else v.to(g.dtype))
             for g, v in zip(gs, tangents) if g is not None and g.requires_grad]
    if not pairs:
        return result
    jv = ad.autograd.grad([g for g, _ in pairs], us, [v for _, v in pairs], retain_graph=True,
                          create_graph=create_graph, allow_unused=True)
    for i, t in zip(live, jv):
        result[i] = ad.zeros_like(outputs[i]) if t is None else t
    return result


def check_argnums(argnums: Any, num_args: int) -> tuple[tuple[int, ...], bool]:
    """(normalised argnums, whether argnums was a tuple), with PyTorch's errors."""
    def one(a: Any) -> int:
        if not isinstance(a, int) or isinstance(a, bool):
            raise RuntimeError(f"argnum must be int, got: {type(a)}")
        if -num_args <= a < num_args:
            return a % num_args
        raise RuntimeError(f"Got argnum={a}, but only {num_args} positional inputs")

    if isinstance(argnums, int) and not isinstance(argnums, bool):
        return (one(argnums),), False
    if not isinstance(argnums, tuple):
        raise RuntimeError(f"argnums must be int or Tuple[int, ...], got: {type(argnums)}")
    if not argnums:
        raise RuntimeError("argnums must be non-empty")
    idx = tuple(one(a) for a in argnums)
    if len(set(idx)) != len(idx):
        raise RuntimeError(f"argnums elements must be unique, got {argnums}")
    return idx, True


def check_tensor_outputs(flat: list, api: str, output: Any) -> None:
    if not flat:
        raise RuntimeError(f"{api}: Expected f to be a function that has non-empty output (got "
                           f"output = {output})")
    for o in flat:
        if not isinstance(o, ad.Tensor):
            raise RuntimeError(f"{api}: expected f(*primals) to return only tensors, got "
                               f"unsupported type {type(o)}")


def split_aux(output: Any, has_aux: bool, api: str) -> tuple[Any, Any]:
    if not has_aux:
        return output, None
    if not (isinstance(output, tuple) and len(output) == 2):
        raise RuntimeError(f"{api}: output of function f should be a tuple: (output, aux) if "
                           f"has_aux is True")
    return output
