"""``vmap``: map a function over a batch dimension of its inputs (``torch.func.vmap``).

It calls ``func`` once per batch element, in a Python loop, and stacks the results: correct
for any function (and differentiable, and composable with ``grad`` and with itself), but as
slow as that loop. PyTorch instead runs ``func`` once on batched tensors.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any

import autodiff as ad

from ._core import func_name
from ._pytree import broadcast_prefix, tree_flatten, tree_unflatten

_RANDOM_ERROR = ("vmap: called random operation while in randomness error mode. Please either "
                 "use the 'same' or 'different' randomness flags on vmap or perform the "
                 "randomness operation out of vmap")
_BATCH_NORM_ERROR = (
    "Batch norm got a batched tensor as input while the running_mean or running_var, which "
    "will be updated in place, were not batched.\nIf you are using a module and do not need "
    "eval mode, please set `track_running_stats` to be False.If you are using a prebuilt "
    "module and do not need eval mode, please see the functorch website for resources on how "
    "to patch your module to work with vmap")


class _State(threading.local):
    def __init__(self) -> None:
        self.levels: list[set] = []  # per active vmap: ids of the current element's slices


_state = _State()


def check_batch_norm(module: Any) -> None:
    """Inside vmap, PyTorch's error for a BatchNorm in training mode whose running stats (which
    it would update in place) are not batched; called for a module vmap maps directly and by
    ``functional_call``, and by the BatchNorm modules themselves (F.batch_norm is not seen)."""
    if not _state.levels or not isinstance(module, ad.nn.Module):
        return
    from ..nn.modules.normalization import _BatchNorm

    batched = set().union(*_state.levels)
    for m in module.modules():
        if (isinstance(m, _BatchNorm) and m.training and m.track_running_stats
                and m.running_mean is not None and m.running_var is not None
                and not (id(m.running_mean) in batched and id(m.running_var) in batched)):
            raise RuntimeError(_BATCH_NORM_ERROR)


def _process_inputs(func: Callable, in_dims: Any, args: tuple) -> tuple[int, list, list, Any]:
    """(batch size, flat in_dims (non-negative or None), flat args, args' structure)."""
    head = f"vmap({func_name(func)}, in_dims={in_dims}, ...)(<inputs>)"
    if not isinstance(in_dims, (int, tuple)):
        raise ValueError(f"{head}: expected `in_dims` to be int or a (potentially nested) tuple "
                         f"matching the structure of inputs, got: {type(in_dims)}.")
    if not args:
        raise ValueError(f"vmap({func_name(func)})(<inputs>): got no inputs. Maybe you forgot "
                         f"to add inputs, or you are trying to vmap over a function with no "
                         f"inputs. The latter is unsupported.")
    flat_args, spec = tree_flatten(args)
    flat_dims = broadcast_prefix(in_dims, spec)
    if flat_dims is None:
        raise ValueError(f"{head}: in_dims is not compatible with the structure of `inputs`. "
                         f"in_dims has structure {tree_flatten(in_dims)[1]} but inputs has "
                         f"structure {spec}.")
    for i, (arg, d) in enumerate(zip(flat_args, flat_dims)):
        if d is None:
            continue
        if not isinstance(d, int) or isinstance(d, bool):
            raise ValueError(f"{head}: Got in_dim={d} for an input but in_dim must be either an "
                             f"integer dimension or None.")
        if not isinstance(arg, ad.Tensor):
            raise ValueError(f"{head}: Got in_dim={d} for an input but the input is of type "
                             f"{type(arg)}. We cannot vmap over non-Tensor arguments, please "
                             f"use None as the respective in_dim")
        if not -arg.dim() <= d < arg.dim():
            raise ValueError(f"{head}: Got in_dim={d} for some input, but that input is a Tensor "
                             f"of dimensionality {arg.dim()} so expected in_dim to satisfy "
                             f"-{arg.dim()} <= in_dim < {arg.dim()}.")
        flat_dims[i] = d % arg.dim()
    sizes = [a.shape[d] for a, d in zip(flat_args, flat_dims) if d is not None]
    if not sizes:
        raise ValueError("vmap: Expected at least one Tensor to vmap over")
    if any(s != sizes[0] for s in sizes):
        raise ValueError(f"vmap: Expected all tensors to have the same size in the mapped "
                         f"dimension, got sizes {sizes} for the mapped dimension")
    return sizes[0], flat_dims, flat_args, spec


def _out_dims_flat(func: Callable, out_dims: Any, output: Any, spec: Any) -> list:
    if isinstance(output, ad.Tensor):
        if isinstance(out_dims, int) or out_dims is None:
            return [out_dims]
        if isinstance(out_dims, tuple) and len(out_dims) == 1:
            return list(out_dims)
        flat = None
    else:
        flat = broadcast_prefix(out_dims, spec)
    if flat is None:
        raise ValueError(f"vmap({func_name(func)}, ..., out_dims={out_dims})(<inputs>): out_dims "
                         f"is not compatible with the structure of `outputs`. out_dims has "
                         f"structure {tree_flatten(out_dims)[1]} but outputs has structure "
                         f"{spec}.")
    return flat


def _same(values: list) -> bool:
    first = values[0]
    return all(v is first or (tuple(v.shape) == tuple(first.shape) and bool((v == first).all()))
               for v in values[1:])


def _combine(func: Callable, outs: list, out_dims: Any, empty: bool) -> Any:
    """Stack the per-element outputs along out_dims (``empty``: a batch of size 0, where
    ``outs`` holds one output computed on zeros, for the shapes)."""
    name = func_name(func)
    flat0, spec = tree_flatten(outs[0])
    flats = [flat0]
    for o in outs[1:]:
        flat, s = tree_flatten(o)
        if s != spec:
            raise ValueError(f"vmap({name}, ...): `{name}` returned outputs of different "
                             f"structures for different batch elements: {spec} and {s}")
        flats.append(flat)
    dims = _out_dims_flat(func, out_dims, outs[0], spec)
    result = []
    for j, d in enumerate(dims):
        values = [f[j] for f in flats]
        if d is None:
            if isinstance(values[0], ad.Tensor) and not empty and not _same(values):
                raise ValueError(f"vmap({name}, ...): `{name}` can not return a BatchedTensor "
                                 f"when out_dim is None")
            result.append(values[0])
        elif not isinstance(values[0], ad.Tensor):
            raise ValueError(f"vmap({name}, ...): `{name}` must only return Tensors, got type "
                             f"{type(values[0])}. Did you mean to set out_dims= to None for "
                             f"output?")
        elif empty:
            v = values[0].unsqueeze(d)  # checks d as stack would
            shape = list(v.shape)
            shape[d % v.dim()] = 0
            result.append(ad.zeros(tuple(shape), dtype=v.dtype, device=v.device))
        else:
            result.append(ad.stack(values, dim=d))
    return tree_unflatten(result, spec)


def _check_out_dims(func: Callable, out_dims: Any) -> None:
    for d in tree_flatten(out_dims)[0]:
        if d is not None and (not isinstance(d, int) or isinstance(d, bool)):
            raise ValueError(f"vmap({func_name(func)}, ..., out_dims={out_dims}): `out_dims` must "
                             f"be an int, None or a python collection of ints representing where "
                             f"in the outputs the vmapped dimension should appear.")


def vmap(func: Callable, in_dims: int | tuple = 0, out_dims: int | tuple | None = 0,
         randomness: str = "error", *, chunk_size: int | None = None) -> Callable:
    """Vectorize ``func`` over a dimension of its inputs (``torch.func.vmap``), by a loop.

    Args:
        func: takes tensors without the batch dimension; returns a pytree of tensors.
        in_dims: the batched dimension of each input: an int for all, or a tuple matching the
            arguments (nested like each argument, a leaf covering a whole subtree); None for
            an input that is not batched. Negative dims count from the end.
        out_dims: where the batch dimension goes in each output (None: the output is the same
            for every element and is returned once).
        randomness: 'error' (a random op inside ``func`` raises), 'different' (each element
            draws its own numbers) or 'same' (each element sees the same random numbers).
        chunk_size: accepted for PyTorch compatibility; the loop already goes one at a time.

    Returns:
        A function taking the batched inputs (keyword arguments are passed through unbatched).

    Shape:
        x: (N, *) with in_dims=0 -> func sees (*); outputs (N, *out) with out_dims=0.

    Example:
        >>> per_sample = ad.func.vmap(ad.func.grad(loss), in_dims=(None, 0, 0))(params, x, y)
    """
    if randomness not in ("error", "different", "same"):
        raise RuntimeError(f"Only allowed values for randomness are 'error', 'different', or "
                           f"'same'. Got {randomness}")
    if chunk_size is not None and (not isinstance(chunk_size, int) or chunk_size <= 0):
        raise ValueError(f"vmap: chunk_size should be None or greater than 0. (got {chunk_size})")
    _check_out_dims(func, out_dims)

    @functools.wraps(func, updated=())
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        size, flat_dims, flat_args, spec = _process_inputs(func, in_dims, args)
        from ..random import default_generator as rng

        start = rng.get_state()
        outs = []
        for i in range(max(size, 1)):
            if randomness == "same":
                rng.set_state(start)
            before = rng.get_state() if randomness == "error" else None
            flat = [a if d is None else _element(a, d, i, size)
                    for a, d in zip(flat_args, flat_dims)]
            _state.levels.append({id(a) for a, d in zip(flat, flat_dims) if d is not None})
            try:
                check_batch_norm(func)
                outs.append(func(*tree_unflatten(flat, spec), **kwargs))
            finally:
                _state.levels.pop()
            if before is not None and rng.get_state() != before:
                raise RuntimeError(_RANDOM_ERROR)
        return _combine(func, outs, out_dims, empty=size == 0)

    return wrapped


def replace_all_batch_norm_modules_(root: Any) -> Any:
    """Make every BatchNorm in ``root`` (``root`` included) stop tracking running stats, in
    place, so it can run under vmap in training mode (``torch.func``'s function of this name):
    running_mean, running_var and num_batches_tracked become None.

    Returns:
        ``root``.
    """
    from ..nn.modules.normalization import _BatchNorm

    for m in root.modules():
        if isinstance(m, _BatchNorm) and m.track_running_stats:
            m.running_mean = None
            m.running_var = None
            m.num_batches_tracked = None
            m.track_running_stats = False
    return root


def _element(a: ad.Tensor, d: int, i: int, size: int) -> ad.Tensor:
    if size == 0:  # no element to take: zeros of an element's shape, for the output shapes
        shape = tuple(n for k, n in enumerate(a.shape) if k != d)
        return ad.zeros(shape, dtype=a.dtype, device=a.device)
    return a.select(d, i)
