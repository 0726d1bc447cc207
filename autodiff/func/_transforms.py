"""``grad``, ``grad_and_value``, ``vjp``, ``jvp``, ``jacrev``, ``jacfwd`` and ``hessian`` as
function transforms (``torch.func``), built on the reverse-mode engine. Each call makes its
own differentiable copies of the inputs (see ``_core.Scope``), so the transforms nest:
``hessian(f) = jacfwd(jacrev(f))``, ``grad(grad(f))``, ``vmap(grad(f))``."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import autodiff as ad

from ..autograd.grad_mode import enable_grad
from ._core import Scope, autograd_grad, check_argnums, check_tensor_outputs, double_vjp, split_aux
from ._pytree import tree_flatten, tree_map, tree_unflatten


def _wraps(func: Callable) -> Callable:
    return functools.wraps(func, updated=())  # a Module's __dict__ must not be copied


def _diff_args(scope: Scope, args: tuple, argnums: Any) -> tuple[list, Any, bool]:
    """(args with the differentiated ones replaced, those replacements, argnums was a tuple)."""
    idx, as_tuple = check_argnums(argnums, len(args))
    new = list(args)
    diff = []
    for i in idx:
        new[i] = tree_map(scope.diff, args[i])
        diff.append(new[i])
    return new, (tuple(diff) if as_tuple else diff[0]), as_tuple


def grad_and_value(func: Callable, argnums: int | tuple[int, ...] = 0,
                   has_aux: bool = False) -> Callable:
    """``func``'s gradient with respect to ``args[argnums]`` and its value.

    Args:
        func: returns a scalar Tensor (or ``(scalar, aux)`` with ``has_aux``).
        argnums: which positional argument(s) to differentiate; each may be a pytree of tensors.
        has_aux: ``func`` returns ``(output, aux)``; aux is passed through, not differentiated.

    Returns:
        A function returning ``(grads, value)`` or ``(grads, (value, aux))``; grads has the
        structure of the differentiated argument(s) (a tuple for a tuple ``argnums``).

    Example:
        >>> g, v = ad.func.grad_and_value(lambda x: (x ** 2).sum())(ad.ones(3))
    """
    api = "grad_and_value(f)(*args)"

    @_wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        scope = Scope()
        with enable_grad():
            new_args, diff, _ = _diff_args(scope, args, argnums)
            output = func(*new_args, **kwargs)
        output, aux = split_aux(output, has_aux, api)
        if not isinstance(output, ad.Tensor):
            raise RuntimeError(f"{api}: Expected f(*args) to return a Tensor, got {type(output)}")
        if output.dim() != 0:
            raise RuntimeError(f"{api}: Expected f(*args) to return a scalar Tensor, got tensor "
                               f"with {output.dim()} dims. Maybe you wanted to use the vjp or "
                               f"jacrev APIs instead?")
        flat, spec = tree_flatten(diff)
        create = scope.outer and scope.reaches_outer([output])
        grads = tree_unflatten(autograd_grad([output], flat, create_graph=create), spec)
        value = scope.export(output)
        if has_aux:
            return grads, (value, scope.export(aux))
        return grads, value

    return wrapper


def grad(func: Callable, argnums: int | tuple[int, ...] = 0, has_aux: bool = False) -> Callable:
    """The gradient of a scalar function with respect to ``args[argnums]`` (``torch.func.grad``).

    Returns ``grads`` (or ``(grads, aux)`` with ``has_aux``); see ``grad_and_value``.

    Example:
        >>> ad.func.grad(lambda x: x.sin().sum())(x)        # x.cos()
        >>> ad.func.grad(ad.func.grad(lambda x: x.sin()))(ad.tensor(1.0))  # -sin(1)
    """
    gv = grad_and_value(func, argnums, has_aux)

    @_wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        grads, value = gv(*args, **kwargs)
        return (grads, value[1]) if has_aux else grads

    return wrapper


def vjp(func: Callable, *primals: Any, has_aux: bool = False) -> tuple:
    """``func(*primals)`` and a function giving vector-Jacobian products (``torch.func.vjp``).

    Returns:
        ``(output, vjp_fn)`` or ``(output, vjp_fn, aux)``. ``vjp_fn(cotangents, retain_graph=
        True, create_graph=None)`` takes cotangents shaped like ``output`` and returns a tuple,
        one gradient per primal (zeros where the output does not depend on it).

    Example:
        >>> out, vjp_fn = ad.func.vjp(ad.sin, x)
        >>> (gx,) = vjp_fn(ad.ones_like(out))   # x.cos()
    """
    api = "vjp(f, *primals)"
    scope = Scope()
    with enable_grad():
        diff = tree_map(scope.diff, primals)
        output = func(*diff)
    output, aux = split_aux(output, has_aux, "vjp(f, *primals)")
    flat_out, out_spec = tree_flatten(output)
    check_tensor_outputs(flat_out, api, output)
    for o in flat_out:
        if not o.is_floating_point():
            raise RuntimeError(f"vjp(f, ...): All outputs of f must be floating-point or complex "
                               f"Tensors, got Tensor with dtype {o.dtype}")
    flat_diff, diff_spec = tree_flatten(diff)

    def vjp_fn(cotangents: Any, retain_graph: bool = True, create_graph: bool | None = None):
        flat_ct, ct_spec = tree_flatten(cotangents)
        if ct_spec != out_spec:
            raise RuntimeError(f"Expected pytree structure of cotangents to be the same as pytree "
                               f"structure of outputs to the function. cotangents: {ct_spec}, "
                               f"primal output: {out_spec}")
        for i, (o, c) in enumerate(zip(flat_out, flat_ct)):
            if not isinstance(c, ad.Tensor) or tuple(c.shape) != tuple(o.shape):
                got = tuple(c.shape) if isinstance(c, ad.Tensor) else type(c).__name__
                raise RuntimeError(f"Mismatch in shape: grad_output[{i}] has a shape of {got} "
                                   f"and output[{i}] has a shape of {tuple(o.shape)}.")
        if create_graph is None:
            create_graph = ad.is_grad_enabled() and (
                scope.reaches_outer(flat_out) or any(c.requires_grad for c in flat_ct))
        grads = autograd_grad(flat_out, flat_diff, flat_ct, create_graph, retain_graph)
        return tree_unflatten(grads, diff_spec)

    if has_aux:
        return scope.export(output), vjp_fn, scope.export(aux)
    return scope.export(output), vjp_fn


def _tensor_list(flat: list, api: str, name: str) -> None:
    if not flat:
        raise RuntimeError(f"{api}: Expected {name} to contain at least one Tensor.")
    for t in flat:
        if not isinstance(t, ad.Tensor):
            raise RuntimeError(f"{api}: Expected {name} to only contain Tensors, got {type(t)}")


def jvp(func: Callable, primals: tuple, tangents: tuple, *, strict: bool = False,
        has_aux: bool = False) -> tuple:
    """``func(*primals)`` and its Jacobian times ``tangents`` (``torch.func.jvp``).

    Computed with two reverse passes (the double-vjp trick), so it costs about twice a
    gradient, not one forward pass as PyTorch's forward mode does.

    Returns:
        ``(output, jvp_out)`` or ``(output, jvp_out, aux)``; ``jvp_out`` is shaped like output
        (zeros where it does not depend on the primals; an error instead with ``strict``).

    Example:
        >>> out, tangent = ad.func.jvp(ad.sin, (x,), (ad.ones_like(x),))   # x.cos()
    """
    api = "jvp(f, primals, tangents)"
    if not isinstance(primals, tuple):
        raise RuntimeError(f"{api}: Expected primals to be a tuple. E.g. it should be valid to "
                           f"call f(*primals).")
    flat_p, p_spec = tree_flatten(primals)
    flat_t, t_spec = tree_flatten(tangents)
    if p_spec != t_spec:
        raise RuntimeError(f"{api}: Expected primals and tangents to have the same python "
                           f"structure. For example, if primals is a tuple of 3 tensors, tangents "
                           f"also must be. Got primals with structure {p_spec} and tangents with "
                           f"structure {t_spec}")
    _tensor_list(flat_p, api, "primals")
    _tensor_list(flat_t, api, "tangents")
    for p, t in zip(flat_p, flat_t):
        if tuple(p.shape) != tuple(t.shape):
            raise RuntimeError(f"Trying to set a forward gradient that has a different size than "
                               f"that of the original Tensor, this is not supported. Tensor is "
                               f"of size {list(p.shape)} while the given forward gradient is of "
                               f"size {list(t.shape)}.")
    scope = Scope()
    with enable_grad():
        diff = [scope.diff(p) for p in flat_p]
        output = func(*tree_unflatten(diff, p_spec))
    output, aux = split_aux(output, has_aux, api)
    flat_out, out_spec = tree_flatten(output)
    check_tensor_outputs(flat_out, api, output)
    create = scope.outer and (scope.reaches_outer(flat_out) or any(t.requires_grad for t in flat_t))
    tangents_out = double_vjp(scope, flat_out, diff, flat_t, create)
    if strict and any(t is None for t in tangents_out):
        raise RuntimeError("jvp(f, primals, tangents, strict=True): The output of f is "
                           "independent of the inputs. This is not allowed with strict=True.")
    tangents_out = [ad.zeros_like(o) if t is None else t for o, t in zip(flat_out, tangents_out)]
    result = (scope.export(output), tree_unflatten(tangents_out, out_spec))
    return result + (scope.export(aux),) if has_aux else result


def _jacobian(api: str, func: Callable, argnums: Any, has_aux: bool) -> Callable:
    """jacrev and jacfwd: one reverse pass per output element (a row of the Jacobian each)."""

    @_wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        scope = Scope()
        with enable_grad():
            new_args, diff, _ = _diff_args(scope, args, argnums)
            output = func(*new_args, **kwargs)
        output, aux = split_aux(output, has_aux, "vjp(f, *primals)")
        flat_out, out_spec = tree_flatten(output)
        check_tensor_outputs(flat_out, "vjp(f, *primals)", output)
        for o in flat_out:
            if not o.is_floating_point():
                raise RuntimeError(f"{api}: Expected all outputs to be floating-point Tensors, "
                                   f"got Tensor with dtype {o.dtype}")
        flat_in, in_spec = tree_flatten(diff)
        create = scope.outer and scope.reaches_outer(flat_out)
        jacs = [tree_unflatten(_jac_rows(o, flat_in, create), in_spec) for o in flat_out]
        jac = tree_unflatten(jacs, out_spec)
        return (jac, scope.export(aux)) if has_aux else jac

    return wrapper


def _jac_rows(out: ad.Tensor, inputs: list, create: bool) -> list:
    """d out / d x for each input x, shaped out.shape + x.shape."""
    shapes = [tuple(out.shape) + tuple(x.shape) for x in inputs]
    n = out.numel()
    if n == 0 or not out.requires_grad:
        return [ad.zeros(s, dtype=x.dtype, device=x.device) for s, x in zip(shapes, inputs)]
    basis = ad.eye(n, dtype=out.dtype, device=out.device)
    rows: list[list] = [[] for _ in inputs]
    for k in range(n):
        grads = autograd_grad([out], inputs, [basis[k].reshape(out.shape)], create, True)
        for r, g in zip(rows, grads):
            r.append(g)
    return [ad.stack(r).reshape(s) for r, s in zip(rows, shapes)]


def jacrev(func: Callable, argnums: int | tuple[int, ...] = 0, *, has_aux: bool = False,
           chunk_size: int | None = None, _preallocate_and_copy: bool = False) -> Callable:
    """The Jacobian of ``func`` with respect to ``args[argnums]`` by reverse mode.

    Returns:
        A function returning the Jacobian: the output's structure, each leaf holding the
        structure of the differentiated argument(s), of shape ``out.shape + in.shape``
        (with ``has_aux``: ``(jacobian, aux)``). ``chunk_size`` is checked but not needed: the
        rows are computed one backward pass at a time.

    Example:
        >>> ad.func.jacrev(ad.sin)(x)     # diag(x.cos())
    """
    if not (chunk_size is None or chunk_size > 0):
        raise ValueError("jacrev: `chunk_size` should be greater than 0.")
    return _jacobian("jacrev", func, argnums, has_aux)


def jacfwd(func: Callable, argnums: int | tuple[int, ...] = 0, has_aux: bool = False, *,
           randomness: str = "error") -> Callable:
    """The Jacobian of ``func`` with respect to ``args[argnums]`` (``torch.func.jacfwd``).

    The same numbers and structure as ``jacrev``; computed by reverse mode too (our forward
    mode is reverse mode twice, so a column at a time would cost more than a row at a time).

    Example:
        >>> ad.func.jacfwd(lambda x, y: x * y, argnums=(0, 1))(x, y)   # (diag(y), diag(x))
    """
    if randomness not in ("error", "different", "same"):
        raise RuntimeError(f"Only allowed values for randomness are 'error', 'different', or "
                           f"'same'. Got {randomness}")
    return _jacobian("jacfwd", func, argnums, has_aux)


def hessian(func: Callable, argnums: int | tuple[int, ...] = 0) -> Callable:
    """The Hessian of a scalar ``func``: ``jacfwd(jacrev(func, argnums), argnums)``.

    Example:
        >>> ad.func.hessian(lambda x: x.sin().sum())(x)   # diag(-x.sin())
    """
    return jacfwd(jacrev(func, argnums), argnums)
