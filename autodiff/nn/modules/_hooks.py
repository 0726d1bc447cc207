"""The machinery of ``Module``'s hooks: the identity nodes where its full backward hooks see
the gradients, and PyTorch's global module hooks (``nn.modules.module.register_module_
forward_pre_hook``, ``_forward_hook``, ``_full_backward_hook``, ``_full_backward_pre_hook``),
which run for every module before the module's own hooks of the same kind
(``Module.__call__`` reads their tables)."""

from __future__ import annotations

import warnings
from collections import OrderedDict
from typing import Callable

from ...autograd.function import Function
from ...autograd.grad_mode import state
from ...tensor import Tensor
from ...utils.hooks import RemovableHandle

FORWARD_PRE: OrderedDict = OrderedDict()
FORWARD: OrderedDict = OrderedDict()
BACKWARD: OrderedDict = OrderedDict()
BACKWARD_PRE: OrderedDict = OrderedDict()
WITH_KWARGS: set = set()  # ids of the global forward hooks called with the kwargs
ALWAYS_CALLED: set = set()  # ids of those that run also when forward raises


def _add(table: OrderedDict, hook: Callable) -> RemovableHandle:
    handle = RemovableHandle(table)
    table[handle.id] = hook
    return handle


def register_module_forward_pre_hook(hook: Callable) -> RemovableHandle:
    """``hook(module, args)`` before every module's forward (and its own pre-hooks); a
    non-None result replaces the args."""
    return _add(FORWARD_PRE, hook)


def register_module_full_backward_hook(hook: Callable) -> RemovableHandle:
    """``hook(module, grad_input, grad_output)`` for every module, before its own full backward
    hooks (see ``Module.register_full_backward_hook``)."""
    return _add(BACKWARD, hook)


def register_module_full_backward_pre_hook(hook: Callable) -> RemovableHandle:
    """``hook(module, grad_output)`` for every module, before its own backward pre-hooks."""
    return _add(BACKWARD_PRE, hook)


def register_module_forward_hook(hook: Callable, *, with_kwargs: bool = False,
                                 always_call: bool = False) -> RemovableHandle:
    """``hook(module, args, output)`` (with_kwargs: ``hook(module, args, kwargs, output)``)
    after every module's forward (before its own forward hooks); a non-None result replaces
    the output. always_call: it runs also when forward raises (output None)."""
    handle = _add(FORWARD, hook)
    for flag, ids in ((with_kwargs, WITH_KWARGS), (always_call, ALWAYS_CALLED)):
        if flag:
            ids.add(handle.id)  # (handle ids are never reused)
    return handle


class _BackwardHookFunction(Function):
    """Identity on tensors whose backward hands the gradients to ``hook`` (torch's
    BackwardHookFunction): the node where a Module's full backward hooks see its grads."""

    @staticmethod
    def forward(ctx, hook, materialize, *args):
        ctx.hook = hook
        ctx.set_materialize_grads(materialize)
        outs = tuple(a if a.requires_grad else a.detach() for a in args)
        ctx.mark_non_differentiable(*[o for o in outs if not o.requires_grad])
        return outs

    @staticmethod
    def backward(ctx, *grads):
        return (None, None, *ctx.hook(grads))


def _pack(index: list, values, n: int) -> tuple:
    res = [None] * n
    for i, v in zip(index, values):
        res[i] = v
    return tuple(res)


def _check_len(kind: str, got, expected: tuple) -> tuple:
    if len(got) != len(expected):
        raise RuntimeError(f"Backward {kind} returned an invalid number of grad_"
                           f"{'output' if kind == 'pre hook' else 'input'}, got {len(got)}, "
                           f"but expected {len(expected)}")
    return tuple(got)


class _BackwardHook:
    """One forward call's full backward hooks (torch.utils.hooks.BackwardHook): the positional
    tensor inputs and the tensor outputs pass through a ``_BackwardHookFunction`` each; the
    output node records grad_output (running the pre-hooks), the input node runs the hooks."""

    def __init__(self, module, hooks: tuple, pre_hooks: tuple) -> None:
        self.module, self.hooks, self.pre_hooks = module, hooks, pre_hooks
        self.grad_outputs = self.in_index = self.out_index = None
        self.n_in = self.n_out = 0

    @staticmethod
    def _wrap(args: tuple, hook, materialize: bool):
        index = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
        if not (state.enabled and any(args[i].requires_grad for i in index)):
            return args, None
        new = list(args)
        outs = _BackwardHookFunction.apply(hook, materialize, *(args[i] for i in index))
        for i, t in zip(index, outs):
            new[i] = t
        return tuple(new), index

    def setup_input(self, args: tuple) -> tuple:
        self.n_in = len(args)
        args, self.in_index = self._wrap(args, self._on_input_grads, True)
        return args

    def setup_output(self, result):
        single = not isinstance(result, tuple)
        outs = (result,) if single else result
        self.n_out = len(outs)
        outs, self.out_index = self._wrap(outs, self._on_output_grads, False)
        return outs[0] if single else outs

    def _on_output_grads(self, grads: tuple) -> tuple:
        self.grad_outputs = _pack(self.out_index, grads, self.n_out)
        for hook in self.pre_hooks:
            r = hook(self.module, self.grad_outputs)
            if r is not None:
                self.grad_outputs = _check_len("pre hook", r, self.grad_outputs)
        local = self.grad_outputs
        if self.in_index is None:  # no input requires grad: the hooks fire here, as torch's
            warnings.warn("Full backward hook is firing when gradients are computed with "
                          "respect to module outputs since no inputs require gradients.",
                          UserWarning, stacklevel=2)
            grad_in = (None,) * self.n_in
            for hook in self.hooks:
                r = hook(self.module, grad_in, self.grad_outputs)
                if r is not None and not (isinstance(r, tuple) and all(g is None for g in r)):
                    raise RuntimeError("Backward hook for Modules where no input requires "
                                       "gradient should always return None or None for all "
                                       "gradients.")
            self.grad_outputs = None
        return tuple(local[i] for i in self.out_index)

    def _on_input_grads(self, grads: tuple) -> tuple:
        if self.grad_outputs is None:  # reached without passing the outputs (double backward)
            return grads
        res = _pack(self.in_index, grads, self.n_in)
        for hook in self.hooks:
            r = hook(self.module, res, self.grad_outputs)
            if r is not None:
                res = _check_len("hook", r, res)
        self.grad_outputs = None
        return tuple(res[i] for i in self.in_index)
