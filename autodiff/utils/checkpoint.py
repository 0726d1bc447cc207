"""Activation checkpointing: recompute a function's activations in backward instead of
keeping them (the memory-efficient DenseNet trick), with the semantics of PyTorch's
``use_reentrant=False``: parameters used inside get their gradients even when no input
requires grad, ``autograd.grad`` through a checkpoint writes no ``.grad``, keyword arguments
pass through, and double backward works."""

from __future__ import annotations

import sys
import types

from ..autograd import engine
from ..autograd import functional as _functional
from ..autograd.function import Function
from ..autograd.grad_mode import enable_grad, state
from ..random import default_generator


def _leaves_of(outputs, exclude: set) -> list:
    """The leaf tensors requiring grad (parameters) that ``outputs`` were computed from."""
    seen, leaves, stack = set(), [], [o.grad_fn for o in outputs if o.grad_fn is not None]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        for edge in node.next:
            if edge is None:
                continue
            target = edge[0]
            if isinstance(target, engine.Tensor):
                if id(target) not in exclude and id(target) not in seen:
                    seen.add(id(target))
                    leaves.append(target)
            else:
                stack.append(target)
    return leaves


def _stand_ins(args, connected: bool) -> list:
    """The tensor args as fresh graph roots: views of them (connected, for double backward)
    or detached leaves that require grad as they do."""
    Tensor = engine.Tensor
    return [(a.view_as(a) if connected and a.requires_grad else
             Tensor._make(a._data, a._dev, a.requires_grad, None))
            if isinstance(a, Tensor) else a for a in args]


class _Checkpoint(Function):
    @staticmethod
    def forward(ctx, run, *inputs):
        ctx.run = run
        ctx.save_for_backward(*inputs)  # raises in backward if changed in place
        ctx.mark_non_differentiable(*[o for o, g in zip(run.outputs, run.differentiable)
                                      if not g])
        return run.outputs

    @staticmethod
    def backward(ctx, *grads):
        run = ctx.run
        ctx.saved_tensors
        connected = state.enabled  # backward(create_graph=True)
        args = _stand_ins(run.args, connected)
        if run.rng_state is not None:
            current = default_generator.get_state()
            default_generator.set_state(run.rng_state)
        try:
            with enable_grad():
                outputs = run.function(*args, **run.kwargs)
        finally:
            if run.rng_state is not None:
                default_generator.set_state(current)
        outputs = [o for o in (outputs if isinstance(outputs, tuple) else (outputs,))
                   if isinstance(o, engine.Tensor)]
        wrt = [args[i] for i in run.tensor_arg_pos] + list(run.leaves)
        pairs = [(o, g) for o, g in zip(outputs, grads)
                 if isinstance(o, engine.Tensor) and o.requires_grad and g is not None]
        need = [i for i, t in enumerate(wrt) if t.requires_grad]
        out = [None] * len(wrt)
        if pairs and need:
            got = _functional.grad([o for o, _ in pairs], [wrt[i] for i in need],
                                   [g for _, g in pairs], create_graph=connected,
                                   allow_unused=True)
            for i, g in zip(need, got):
                out[i] = g
        return (None,) + tuple(out)


class _Run:
    """What a checkpointed call needs again in backward."""

    def __init__(self, function, args, kwargs, rng_state) -> None:
        self.function, self.args, self.kwargs, self.rng_state = function, args, kwargs, rng_state
        self.tensor_arg_pos = [i for i, a in enumerate(args) if isinstance(a, engine.Tensor)]
        self.outputs = self.leaves = self.differentiable = None


def checkpoint(function, *args, use_reentrant=None, preserve_rng_state=True,
               determinism_check="default", debug=False, **kwargs):
    """Run ``function(*args, **kwargs)`` without keeping its intermediate activations; they
    are recomputed during backward (with the RNG state of the forward, so dropout masks
    match).  Parameters used inside receive their gradients as without checkpointing.
    ``use_reentrant`` is accepted for PyTorch compatibility; both values behave as PyTorch's
    ``use_reentrant=False`` (the variant it recommends).

    Example:
        >>> y = ad.utils.checkpoint.checkpoint(block, x, use_reentrant=False)
    """
    if not state.enabled:
        return function(*args, **kwargs)
    run = _Run(function, args, kwargs,
               default_generator.get_state() if preserve_rng_state else None)
    roots = _stand_ins(args, False)  # the graph of the first run stops at the args
    with enable_grad():
        outputs = function(*roots, **kwargs)
    single = not isinstance(outputs, tuple)
    outputs = (outputs,) if single else outputs
    tensors = [o for o in outputs if isinstance(o, engine.Tensor)]
    run.leaves = _leaves_of(tensors, {id(r) for r in roots})
    run.outputs = tuple(t.detach() for t in tensors)  # the first run's graph is dropped
    run.differentiable = [t.requires_grad for t in tensors]
    inputs = [args[i] for i in run.tensor_arg_pos] + run.leaves
    if not any(run.differentiable) or not any(t.requires_grad for t in inputs):
        return outputs[0] if single else outputs
    result = _Checkpoint.apply(run, *inputs)
    it = iter(result if isinstance(result, tuple) else (result,))
    result = tuple(next(it) if isinstance(o, engine.Tensor) else o for o in outputs)
    return result[0] if single else result


def checkpoint_sequential(functions, segments: int, input, use_reentrant=None, **kwargs):
    """Run the modules (or functions) in sequence, checkpointing all but the last of
    ``segments`` runs of them, as PyTorch's."""
    functions = list(functions.children() if hasattr(functions, "children") else functions)
    size = -(-len(functions) // segments) if functions else 1
    for start in range(0, len(functions), size):
        chunk = functions[start:start + size]

        def run_chunk(x, chunk=chunk):
            for f in chunk:
                x = f(x)
            return x

        last = start + size >= len(functions)
        input = run_chunk(input) if last else checkpoint(run_chunk, input, **kwargs)
    return input


class _CallableModule(types.ModuleType):
    """``ad.utils.checkpoint(fn, x)`` and ``ad.utils.checkpoint.checkpoint(fn, x)`` both."""

    def __call__(self, function, *args, **kwargs):
        return checkpoint(function, *args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
