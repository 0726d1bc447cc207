"""``ad.func``: function transforms, as ``torch.func``: ``grad``, ``grad_and_value``, ``vjp``,
``jvp``, ``jacrev``, ``jacfwd``, ``hessian``, ``vmap``, ``functional_call``,
``stack_module_state`` and ``replace_all_batch_norm_modules_``.

    params = {k: v.detach() for k, v in model.named_parameters()}

    def loss(params, x, y):
        out = ad.func.functional_call(model, params, (x.unsqueeze(0),))
        return ad.nn.functional.mse_loss(out, y.unsqueeze(0))

    per_sample_grads = ad.func.vmap(ad.func.grad(loss), in_dims=(None, 0, 0))(params, x, y)

What differs from PyTorch, honestly:
- ``vmap`` calls the function once per batch element in a Python loop and stacks the
  results. It is correct (any function, any nesting, differentiable) but not fast: N calls,
  not one batched call. ``out_dims=None`` is accepted when every element returns equal
  values (PyTorch decides by data flow); a batch of size 0 calls the function once on zeros
  to learn the output shapes; ``randomness='error'`` notices a random op by the global
  generator's state changing (a generator passed as ``generator=`` goes unnoticed).
- ``jvp``, ``jacfwd`` and ``ad.autograd.forward_ad`` are reverse mode underneath: a
  Jacobian-vector product is two backward passes (the double-vjp trick), and ``jacfwd``
  builds the Jacobian row by row like ``jacrev``; the numbers are the same.
- Inputs are differentiated through fresh leaves (or views, when the caller's autograd tracks
  them), so results are differentiable by the caller exactly when they depend on something
  the caller tracks, as in PyTorch.

Pytrees are nested dicts, lists, tuples and namedtuples (``tree_flatten``/``tree_unflatten``).
"""

from __future__ import annotations

from ._functional_call import functional_call, stack_module_state
from ._pytree import TreeSpec, tree_flatten, tree_map, tree_unflatten
from ._transforms import grad, grad_and_value, hessian, jacfwd, jacrev, jvp, vjp
from ._vmap import replace_all_batch_norm_modules_, vmap

__all__ = [
    "TreeSpec", "functional_call", "grad", "grad_and_value", "hessian", "jacfwd", "jacrev", "jvp",
    "replace_all_batch_norm_modules_", "stack_module_state", "tree_flatten", "tree_map",
    "tree_unflatten", "vjp", "vmap",
]
