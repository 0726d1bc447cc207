"""``ad.grad``: gradients of outputs with respect to chosen inputs, without touching .grad."""

from __future__ import annotations

from . import engine


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         allow_unused=None, only_inputs=True, materialize_grads=False, is_grads_batched=False):
    """Return d(outputs)/d(inputs) as a tuple (differentiable again with create_graph)."""
    if is_grads_batched:  # a loop over the batch, kept outside the core (PyTorch vmaps)
        from ..func._batched_grad import batched_grad
        return batched_grad(grad, outputs, inputs, grad_outputs, retain_graph, create_graph,
                            allow_unused, materialize_grads)
    if materialize_grads and allow_unused is False:
        raise ValueError("Expected allow_unused to be True or not passed when "
                         "materialize_grads=True, but got: allow_unused=False.")
    outputs, inputs, grad_outputs = as_lists(outputs, inputs, grad_outputs)
    if not inputs:
        raise RuntimeError("grad requires non-empty inputs.")
    for i, t in enumerate(inputs):
        if not t.requires_grad:
            raise RuntimeError(f"One of the differentiated Tensors (input {i}) does not require "
                               f"grad")
    if retain_graph is None:
        retain_graph = create_graph
    result = engine.run_backward(outputs, grad_outputs, retain_graph, create_graph, inputs)
    out = []
    for i, (t, g) in enumerate(zip(inputs, result)):
        if g is None:
            if materialize_grads:
                from ..creation import zeros_like

                g = zeros_like(t)
            elif not allow_unused:
                raise RuntimeError(f"One of the differentiated Tensors (input {i}, shape "
                                   f"{tuple(t.shape)}) appears to not have been used in the "
                                   f"graph. Set allow_unused=True if this is the desired "
                                   f"behavior.")
        out.append(g)
    return tuple(out)


def as_lists(outputs, inputs, grad_outputs) -> tuple:
    """``grad``'s arguments as three lists (a single Tensor or None expanded), checked."""
    Tensor = engine.Tensor
    outputs = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    inputs = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    if grad_outputs is None:
        grad_outputs = [None] * len(outputs)
    else:
        grad_outputs = [grad_outputs] if isinstance(grad_outputs, Tensor) else list(grad_outputs)
    if len(grad_outputs) != len(outputs):
        raise RuntimeError(f"grad: got {len(grad_outputs)} grad_outputs for {len(outputs)} "
                           f"outputs")
    return outputs, inputs, grad_outputs


_HIGHER = ("vjp", "jvp", "jacobian", "hessian", "vhp", "hvp")


def __getattr__(name: str):
    if name in _HIGHER:  # PyTorch's autograd.functional API (kept outside the core)
        from ..func import _autograd_functional

        return getattr(_autograd_functional, name)
    raise AttributeError(f"module 'autodiff.autograd.functional' has no attribute '{name}'")
