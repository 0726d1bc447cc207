"""Activation checkpointing: recompute a function's activations in backward instead of
keeping them (the memory-efficient DenseNet trick)."""

from __future__ import annotations

from ..autograd import engine
from ..autograd.function import Function
from ..autograd.grad_mode import enable_grad
from ..random import default_generator


class _Checkpoint(Function):
    @staticmethod
    def forward(ctx, fn, preserve_rng_state, *args):
        ctx.fn = fn
        ctx.rng_state = default_generator.get_state() if preserve_rng_state else None
        ctx.args = args
        ctx.save_for_backward(*[a for a in args if isinstance(a, engine.Tensor)])
        return fn(*args)

    @staticmethod
    def backward(ctx, *grads):
        Tensor = engine.Tensor
        ctx.saved_tensors  # raises if freed or modified in place
        detached = []
        for a in ctx.args:
            if isinstance(a, Tensor):
                d = a.detach()
                d = Tensor._make(d._data, d._dev, a.requires_grad, None)
                detached.append(d)
            else:
                detached.append(a)
        if ctx.rng_state is not None:
            current = default_generator.get_state()
            default_generator.set_state(ctx.rng_state)
        try:
            with enable_grad():
                outputs = ctx.fn(*detached)
        finally:
            if ctx.rng_state is not None:
                default_generator.set_state(current)
        outputs = outputs if isinstance(outputs, tuple) else (outputs,)
        pairs = [(o, g) for o, g in zip(outputs, grads)
                 if isinstance(o, Tensor) and o.requires_grad and g is not None]
        if pairs:
            engine.run_backward([o for o, _ in pairs], [g for _, g in pairs], False, False)
        return (None, None) + tuple(d.grad if isinstance(d, Tensor) else None for d in detached)


def checkpoint(function, *args, use_reentrant=None, preserve_rng_state=True, **kwargs):
    """Run ``function(*args)`` without storing its intermediate activations; they are
    recomputed during backward. Parameters used inside still receive gradients.

    Example:
        >>> y = ad.utils.checkpoint(block, x)
    """
    if kwargs:
        raise ValueError(f"checkpoint: unexpected keyword arguments {sorted(kwargs)}")
    return _Checkpoint.apply(function, preserve_rng_state, *args)
