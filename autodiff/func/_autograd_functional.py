"""``ad.autograd.functional``'s higher-level API, as PyTorch's torch.autograd.functional:
vjp, jvp, jacobian, hessian, vhp and hvp of a function of tensors, by reverse mode (jvp by
the double-vjp trick).  ``vectorize`` and ``strategy`` are accepted and give the same values
(rows are computed one backward pass each)."""

from __future__ import annotations

from typing import Any, Callable

import autodiff as ad
from autodiff.autograd.functional import grad as _grad
from autodiff.autograd.grad_mode import enable_grad


def _as_tuple(x: Any, what: str, fn: str) -> tuple[bool, tuple]:
    """(was a tuple, the tensors as a tuple), checking they are tensors."""
    is_tuple = isinstance(x, (tuple, list))
    items = tuple(x) if is_tuple else (x,)
    for i, t in enumerate(items):
        if not isinstance(t, ad.Tensor):
            where = f"{what}[{i}]" if is_tuple else what
            raise TypeError(f"The {where} given to {fn} must be either a Tensor or a tuple of "
                            f"Tensors but the value at index {i} has type {type(t).__name__}.")
    return is_tuple, items


def _prepare(inputs: tuple, create_graph: bool) -> tuple:
    """Fresh graph roots for the inputs: views (connected, under create_graph) or detached
    leaves that require grad."""
    return tuple(t.view_as(t) if create_graph and t.requires_grad else
                 t.detach().requires_grad_(t.is_floating_point()) for t in inputs)


def _grads(outputs, inputs, grad_outputs, create_graph: bool, strict: bool, fn: str) -> tuple:
    """d(outputs . grad_outputs)/d(inputs), zeros where an input is unused (an error with
    strict, as PyTorch's)."""
    pairs = [(o, g) for o, g in zip(outputs, grad_outputs) if o.requires_grad]
    got = _grad([o for o, _ in pairs], list(inputs), [g for _, g in pairs], retain_graph=True,
                create_graph=create_graph, allow_unused=True) if pairs else [None] * len(inputs)
    out = []
    for i, (g, t) in enumerate(zip(got, inputs)):
        if g is None:
            if strict:
                raise RuntimeError(f"The output of the user-provided function is independent "
                                   f"of input {i}. This is not allowed in strict mode.")
            g = ad.zeros_like(t)
        out.append(g)
    return tuple(out)


def _call(func: Callable, inputs: tuple, fn: str) -> tuple[bool, tuple]:
    with enable_grad():
        return _as_tuple(func(*inputs), "outputs of the user-provided function", fn)


def _result(is_tuple: bool, items: tuple, create_graph: bool):
    items = tuple(t if create_graph else t.detach() for t in items)
    return items if is_tuple else items[0]


def _vectors(v, like: tuple, fn: str, what: str) -> tuple:
    if v is None:
        if any(t.numel() != 1 for t in like):
            raise RuntimeError(f"The vector v can only be None if the {what} to the "
                               f"user-provided function is a single Tensor with a single "
                               f"element.")
        return tuple(ad.ones_like(t) for t in like)
    _, vs = _as_tuple(v, "v", fn)
    if len(vs) != len(like) or any(a.shape != b.shape for a, b in zip(vs, like)):
        raise RuntimeError(f"{fn}: v has shapes {[tuple(a.shape) for a in vs]}, expected "
                           f"{[tuple(b.shape) for b in like]}")
    return vs


def vjp(func: Callable, inputs, v=None, create_graph: bool = False, strict: bool = False):
    """(func(inputs), v^T J): the vector-Jacobian product."""
    in_tuple, xs = _as_tuple(inputs, "inputs", "vjp")
    xs = _prepare(xs, create_graph)
    out_tuple, ys = _call(func, xs, "vjp")
    g = _grads(ys, xs, _vectors(v, ys, "vjp", "output"), create_graph, strict, "vjp")
    return _result(out_tuple, ys, create_graph), _result(in_tuple, g, create_graph)


def jvp(func: Callable, inputs, v=None, create_graph: bool = False, strict: bool = False):
    """(func(inputs), J v): the Jacobian-vector product (by differentiating a vjp in its
    vector)."""
    in_tuple, xs = _as_tuple(inputs, "inputs", "jvp")
    xs = _prepare(xs, create_graph)
    vs = _vectors(v, xs, "jvp", "input")
    out_tuple, ys = _call(func, xs, "jvp")
    with enable_grad():
        us = tuple(ad.zeros_like(y).requires_grad_(True) for y in ys)
        g = _grads(ys, xs, us, True, strict, "jvp")
        jv = _grads(g, us, vs, create_graph, strict, "jvp")
    return _result(out_tuple, ys, create_graph), _result(out_tuple, jv, create_graph)


def jacobian(func: Callable, inputs, create_graph: bool = False, strict: bool = False,
             vectorize: bool = False, strategy: str = "reverse-mode"):
    """d func(inputs) / d inputs: for output i and input j a tensor of shape
    output_i.shape + input_j.shape, nested as PyTorch's (tuples where inputs or outputs were
    tuples)."""
    if strategy not in ("reverse-mode", "forward-mode"):
        raise ValueError('Expected strategy to be either "forward-mode" or "reverse-mode".')
    in_tuple, xs = _as_tuple(inputs, "inputs", "jacobian")
    xs = _prepare(xs, create_graph)
    out_tuple, ys = _call(func, xs, "jacobian")
    rows = []
    for y in ys:
        flat = y.reshape(-1)
        per_in = [[] for _ in xs]
        for k in range(flat.numel()):
            onehot = ad.zeros_like(flat)
            onehot[k] = 1.0
            for j, g in enumerate(_grads([flat], xs, [onehot], create_graph, strict, "jacobian")):
                per_in[j].append(g)
        jac = tuple((ad.stack(gs) if gs else ad.zeros((0, *x.shape), dtype=x.dtype,
                                                      device=x.device))
                    .reshape(*y.shape, *x.shape) for gs, x in zip(per_in, xs))
        rows.append(_result(in_tuple, jac, create_graph))
    return tuple(rows) if out_tuple else rows[0]


def hessian(func: Callable, inputs, create_graph: bool = False, strict: bool = False,
            vectorize: bool = False, outer_jacobian_strategy: str = "reverse-mode"):
    """The Hessian of a scalar function: for inputs i, j a tensor of shape
    input_i.shape + input_j.shape (nested in tuples where inputs were a tuple)."""
    in_tuple, xs = _as_tuple(inputs, "inputs", "hessian")

    def gradient(*args):
        out_tuple, ys = _call(func, args, "hessian")
        if out_tuple or ys[0].numel() != 1:
            raise RuntimeError("The function given to hessian should return a single Tensor "
                               "with a single element")
        y = ys[0].reshape(())
        g = _grads([y], args, [ad.ones_like(y)], True, strict, "hessian")
        return g if in_tuple else g[0]

    return jacobian(gradient, xs if in_tuple else xs[0], create_graph, strict, vectorize,
                    outer_jacobian_strategy)


def vhp(func: Callable, inputs, v=None, create_graph: bool = False, strict: bool = False):
    """(func(inputs), v^T H) of a scalar function."""
    in_tuple, xs = _as_tuple(inputs, "inputs", "vhp")
    xs = _prepare(xs, create_graph)
    vs = _vectors(v, xs, "vhp", "input")
    out_tuple, ys = _call(func, xs, "vhp")
    if out_tuple or ys[0].numel() != 1:
        raise RuntimeError("The function given to vhp should return a single Tensor with a "
                           "single element")
    with enable_grad():
        y = ys[0].reshape(())
        g = _grads([y], xs, [ad.ones_like(y)], True, strict, "vhp")
        h = _grads(g, xs, vs, create_graph, strict, "vhp")
    return _result(False, ys, create_graph), _result(in_tuple, h, create_graph)


def hvp(func: Callable, inputs, v=None, create_graph: bool = False, strict: bool = False):
    """(func(inputs), H v) of a scalar function (the same values as vhp: H is symmetric)."""
    return vhp(func, inputs, v, create_graph, strict)
