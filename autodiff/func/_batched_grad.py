"""``ad.autograd.grad(..., is_grads_batched=True)``: the leading dim of every grad_output is a
batch, and each result stacks the vector-Jacobian products of the batch's elements.

PyTorch vmaps one backward pass over the batch; this loops, one backward per element (the
graph retained until the last), and stacks. It lives here, outside the core, which only calls
it. Errors are PyTorch's, including its vmap's (a 0-d grad_output, sizes that differ).
"""

from __future__ import annotations

import autodiff as ad


def _batched_grad_outputs(outputs: list, grad_outputs: list) -> tuple[list, int]:
    """The grad_outputs, checked (shapes, one batch size), and the batch size."""
    gos = []
    for i, (out, go) in enumerate(zip(outputs, grad_outputs)):
        if go is None:  # PyTorch makes ones of the output's shape, then vmaps over them
            if out.numel() != 1:
                raise RuntimeError("grad can be implicitly created only for scalar outputs")
            go = ad.ones_like(out)
        if go.ndim == 0:
            if out.ndim == 0 and go is not grad_outputs[i]:
                raise ValueError("vmap(vjp, in_dims=0, ...)(<inputs>): Got in_dim=0 for some "
                                 "input, but that input is a Tensor of dimensionality 0 so "
                                 "expected in_dim to satisfy 0 <= in_dim < 0.")
            raise IndexError("invalid index of a 0-dim tensor. Use `tensor.item()` in Python "
                             "or `tensor.item<T>()` in C++ to convert a 0-dim tensor to a "
                             "number")
        if tuple(go.shape[1:]) != tuple(out.shape):
            raise RuntimeError(
                f"If `is_grads_batched=True`, we interpret the first dimension of each "
                f"grad_output as the batch dimension. The sizes of the remaining dimensions "
                f"are expected to match the shape of corresponding output, but a mismatch was "
                f"detected: grad_output[{i}] has a shape of {tuple(go.shape[1:])} and "
                f"output[{i}] has a shape of {tuple(out.shape)}. If you only want some tensors "
                f"in `grad_output` to be considered batched, consider using vmap.")
        gos.append(go)
    sizes = [go.shape[0] for go in gos]
    if any(s != sizes[0] for s in sizes):
        raise ValueError(f"vmap: Expected all tensors to have the same size in the mapped "
                         f"dimension, got sizes {sizes} for the mapped dimension")
    if sizes[0] == 0:
        raise IndexError("index 0 is out of bounds for dimension 0 with size 0")
    return gos, sizes[0]


def batched_grad(grad, outputs, inputs, grad_outputs, retain_graph, create_graph,
                 allow_unused, materialize_grads) -> tuple:
    """``grad`` (autograd.grad) once per batch element of the grad_outputs, stacked."""
    from ..autograd.functional import as_lists

    outputs, inputs, grad_outputs = as_lists(outputs, inputs, grad_outputs)
    gos, size = _batched_grad_outputs(outputs, grad_outputs)
    if retain_graph is None:
        retain_graph = create_graph
    per_element = []
    for b in range(size):
        per_element.append(grad(outputs, inputs, [go[b] for go in gos],
                                retain_graph=retain_graph or b < size - 1,
                                create_graph=create_graph,
                                allow_unused=allow_unused or materialize_grads))
    result = []
    for j, x in enumerate(inputs):
        column = [r[j] for r in per_element]
        if column[0] is None:  # unused (by the graph's structure: for every element)
            # PyTorch materializes an unbatched zeros_like(input) here
            result.append(ad.zeros_like(x).requires_grad_(create_graph)
                          if materialize_grads else None)
        else:
            result.append(ad.stack(column))
    return tuple(result)
