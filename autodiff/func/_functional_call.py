"""``functional_call``: call a module with other tensors in place of its parameters and
buffers; ``stack_module_state``: stack the state of several same-shaped modules for vmap."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from typing import Any

import autodiff as ad

from ._vmap import check_batch_norm

_MISSING = object()


def _submodule(module: Any, path: str) -> Any:
    for part in path.split(".") if path else ():
        try:
            module = getattr(module, part)
        except AttributeError:
            raise AttributeError(f"{type(module).__name__} has no attribute `{part}`") from None
    return module


def _swap(module: Any, name: str, value: Any) -> Any:
    """Put ``value`` at the dotted ``name`` (``_MISSING``: remove it); return what was there."""
    path, _, attr = name.rpartition(".")
    mod = _submodule(module, path)
    if value is not _MISSING and value is not None and not isinstance(value, ad.Tensor):
        raise TypeError(f"functional_call: {name}: expected a Tensor, got {type(value).__name__}")
    for store in (mod._parameters, mod._buffers):
        if attr in store:
            orig = store[attr]
            if value is _MISSING:
                del store[attr]
            else:
                store[attr] = value  # into the dict: a plain Tensor may stand in for a Parameter
            return orig
    orig = getattr(mod, attr, _MISSING)
    if orig is not _MISSING and orig is not None and not isinstance(orig, ad.Tensor):
        raise TypeError(f"attribute `{attr}`: {orig!r} is not an instance of Tensor")
    if value is not _MISSING:
        setattr(mod, attr, value)
    elif hasattr(mod, attr):
        delattr(mod, attr)
    return orig


def _named_tensors(module: Any) -> dict:
    named = dict(module.named_parameters(remove_duplicate=False))
    named.update(module.named_buffers(remove_duplicate=False))
    return named


def _untie(module: Any, given: dict) -> dict:
    """Extend ``given`` to every name tied (the same tensor) to a given name, as PyTorch's
    tie_weights=True does; raise when tied names were given different values."""
    groups: dict[int, set] = {}
    for name, t in _named_tensors(module).items():
        groups.setdefault(id(t), set()).add(name)
    tied = {n: g for g in groups.values() if len(g) > 1 for n in g}
    out = dict(given)
    for name, value in given.items():
        if name not in tied:
            continue
        names = tied[name]
        if len({id(given[n]) for n in names if n in given}) > 1:
            raise ValueError(f"functional_call got multiple values for keys {sorted(names)}, "
                             f"which are tied. Consider using tie_weights=False")
        for n in names:
            out[n] = value
    return out


@contextlib.contextmanager
def _reparametrize(module: Any, tensors: dict, tie_weights: bool, strict: bool) -> Iterator[None]:
    if tie_weights:
        tensors = _untie(module, tensors)
    if strict:
        valid = set(_named_tensors(module))
        missing, unexpected = sorted(valid - set(tensors)), sorted(set(tensors) - valid)
        msgs = []
        if unexpected:
            msgs.append(f"Unexpected key(s): {', '.join(map(repr, unexpected))}.")
        if missing:
            msgs.append(f"Missing key(s): {', '.join(map(repr, missing))}.")
        if msgs:
            raise RuntimeError(f"Error(s) in reparametrizing for {type(module).__name__}:\n\t"
                               + "\n\t".join(msgs))
    originals: dict = {}
    try:
        for name, value in tensors.items():
            originals[name] = _swap(module, name, value)
        yield
    finally:
        now = {name: _swap(module, name, orig) for name, orig in reversed(originals.items())}
        tensors.update({k: v for k, v in now.items() if k in tensors and v is not _MISSING})


def functional_call(module: Any, parameter_and_buffer_dicts: dict | Sequence[dict],
                    args: Any = None, kwargs: dict | None = None, *, tie_weights: bool = True,
                    strict: bool = False) -> Any:
    """Call ``module`` with the given tensors in place of its parameters and buffers.

    The module's own tensors are put back afterwards, also when the call raises.

    Args:
        module: an ``nn.Module``.
        parameter_and_buffer_dicts: ``{dotted name: tensor}``, or a sequence of such dicts
            with distinct keys. Names the module lacks are set as plain attributes.
        args: the positional argument(s) (a non-tuple is one argument).
        kwargs: keyword arguments of the call.
        tie_weights: a value given for one of several tied names (the same tensor in the
            module) replaces all of them; different values for tied names raise.
        strict: the names must be exactly the module's parameters and buffers.

    Returns:
        What ``module(*args, **kwargs)`` returns.

    Example:
        >>> params = {k: v.detach() for k, v in model.named_parameters()}
        >>> ad.func.grad(lambda p: functional_call(model, p, (x,)).sum())(params)
    """
    if isinstance(parameter_and_buffer_dicts, dict):
        tensors = parameter_and_buffer_dicts
    elif isinstance(parameter_and_buffer_dicts, (list, tuple)):
        if not all(isinstance(d, dict) for d in parameter_and_buffer_dicts):
            raise ValueError("Expected all elements of parameter_and_buffer_dicts to be "
                             "dictionaries")
        counts: dict[str, int] = {}
        for d in parameter_and_buffer_dicts:
            for k in d:
                counts[k] = counts.get(k, 0) + 1
        repeated = [k for k, n in counts.items() if n > 1]
        if repeated:
            raise ValueError(f"{repeated} appeared in multiple dictionaries; behavior of "
                             f"functional call is ambiguous")
        tensors = {k: v for d in parameter_and_buffer_dicts for k, v in d.items()}
    else:
        raise ValueError(f"Expected parameter_and_buffer_dicts to be a dict, or a list/tuple of "
                         f"dicts, but got {type(parameter_and_buffer_dicts)}")
    if args is None:
        args = ()
    elif not isinstance(args, tuple):
        args = (args,)
    with _reparametrize(module, tensors, tie_weights, strict):
        check_batch_norm(module)  # inside vmap: PyTorch's error for unbatched running stats
        return module(*args, **(kwargs or {}))


def _stack_leaf(tensors: list, name: str) -> ad.Tensor:
    flags = {bool(t.requires_grad) for t in tensors}
    if len(flags) > 1:
        raise RuntimeError(f"Expected {name} from each model to have the same .requires_grad")
    result = ad.stack([t.detach() for t in tensors])
    return result.requires_grad_() if flags == {True} else result


def stack_module_state(models: Sequence[Any]) -> tuple[dict, dict]:
    """Stack the parameters and the buffers of same-class modules along a new first dim.

    Returns:
        ``(params, buffers)``, dicts by dotted name; stacked parameters are new leaves that
        require grad (when the originals do), ready for an optimizer and for ``vmap`` over
        ``functional_call``.

    Example:
        >>> params, buffers = stack_module_state([nn.Linear(3, 3) for _ in range(5)])
        >>> params["weight"].shape      # (5, 3, 3)
    """
    models = list(models)
    if not models:
        raise RuntimeError("stack_module_state: Expected at least one model, got 0.")
    if len({bool(m.training) for m in models}) > 1:
        raise RuntimeError("stack_module_state: Expected all models to have the same "
                           "training/eval mode.")
    if any(type(m) is not type(models[0]) for m in models):
        raise RuntimeError("stack_module_state: Expected all models to be of the same class.")
    all_params = [dict(m.named_parameters()) for m in models]
    all_buffers = [dict(m.named_buffers()) for m in models]
    params = {k: _stack_leaf([p[k] for p in all_params], k) for k in all_params[0]}
    buffers = {k: _stack_leaf([b[k] for b in all_buffers], k) for k in all_buffers[0]}
    return params, buffers
