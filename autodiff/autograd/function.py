"""Custom differentiable functions, PyTorch style:

    class Square(ad.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return 2 * x * grad

    y = Square.apply(x)
"""

from __future__ import annotations

import traceback

from . import node as _node
from .grad_mode import no_grad, state
from .node import Node, _edge
from .saved import _Saved, pack

Tensor = None  # set by autodiff.autograd.__init__


class FunctionCtx(Node):
    """The ``ctx`` of a custom Function; it is also the graph node."""

    user_grads = True

    def save_for_backward(self, *tensors) -> None:
        for i, t in enumerate(tensors):
            if t is not None and not isinstance(t, Tensor):
                raise TypeError(f"save_for_backward can only save variables, but argument "
                                f"{i} is of type {type(t).__name__}")
        self.to_save = tensors

    def save_for_forward(self, *tensors) -> None:
        """Keep tensors for ``jvp``, which reads them as ``ctx.saved_tensors``."""
        if not all(t is None or isinstance(t, Tensor) for t in tensors):
            raise TypeError("save_for_forward expects all arguments to be tensors; you should "
                            "save non-tensors as attributes on ctx.")
        self.for_forward = tensors

    def mark_non_differentiable(self, *tensors) -> None:
        self.non_differentiable = {id(t) for t in tensors}

    def mark_dirty(self, *tensors) -> None:
        self.dirty = tensors

    def set_materialize_grads(self, value: bool) -> None:
        self.materialize_grads = bool(value)

    @property
    def saved_tensors(self) -> tuple:
        self.unpack_check()
        out = []
        for item in self.saved:
            if isinstance(item, (_SavedOutput, _Saved)):
                out.append(item.unpack(self))
            else:
                out.append(item)
        return tuple(out)

    @property
    def needs_input_grad(self) -> tuple:
        return self._needs

    def name(self) -> str:
        return self.fn_cls.__name__ + "Backward"

    def backward(self, *grads):
        grads = list(grads)
        if self.materialize_grads:
            for i, g in enumerate(grads):
                if g is None and self.out_meta[i][1] is not None:  # not for non-tensor outputs
                    shape, dt, dev = self.out_meta[i]
                    grads[i] = Tensor._make(dev.backend.zeros(shape, dt), dev, False, None)
        result = None
        if self.fn_cls.jvp is not Function.jvp:  # forward AD takes the jvp, as PyTorch
            from ..func._forward_ad import backward_from_jvp

            result = backward_from_jvp(self, grads)
        if result is None:
            result = self.fn_cls.backward(self, *grads)
        if not isinstance(result, tuple):
            result = (result,)
        n = len(self.next)
        if len(result) < n:
            raise RuntimeError(f"function {self.name()} returned an incorrect number of "
                               f"gradients (expected {n}, got {len(result)})")
        result = tuple(result[:n]) if len(result) > n and all(
            r is None for r in result[n:]) else result
        if len(result) != n:
            raise RuntimeError(f"function {self.name()} returned an incorrect number of "
                               f"gradients (expected {n}, got {len(result)})")
        out = []
        for i, (g, shape) in enumerate(zip(result, self.in_shapes)):
            if g is not None and self.next[i] is not None:
                if not isinstance(g, Tensor):
                    raise TypeError(f"function {self.name()} returned a {type(g).__name__} as "
                                    f"gradient {i}; expected a Tensor or None")
                if tuple(g.shape) != shape and _expandable(shape, tuple(g.shape)):
                    g = g.sum_to_size(shape)  # as PyTorch: a broadcast gradient is reduced
                if tuple(g.shape) != shape:
                    raise RuntimeError(f"Function {self.name()} returned an invalid gradient at "
                                       f"index {i} - got {tuple(g.shape)} but expected shape "
                                       f"compatible with {shape}")
            out.append(g if self.next[i] is not None else None)
        return tuple(out)


def _expandable(shape: tuple, to: tuple) -> bool:
    return len(shape) <= len(to) and all(
        a in (1, b) for a, b in zip(reversed(shape), reversed(to)))


def _index_of(items, t) -> int:
    """Position of ``t`` in ``items`` by identity (``list.index`` compares with ``==``, which is
    element-wise on tensors)."""
    return next(k for k, w in enumerate(items) if w is t)


class _SavedOutput:
    """An output saved for backward, kept as data (a Tensor would make a reference cycle)."""

    __slots__ = ("index", "data", "_vc", "dtype", "shape")

    def __init__(self, index, t) -> None:
        self.index, self.data, self._vc = index, t._data, t._vc
        self.dtype, self.shape = t.dtype, t.shape

    def unpack(self, ctx):
        dev = ctx.out_meta[self.index][2]
        t = Tensor._make(self.data, dev, state.enabled, ctx if state.enabled else None)
        t._output_nr = self.index
        return t


class Function:
    """Base class of custom autograd functions: define static ``forward`` and ``backward``."""

    @staticmethod
    def forward(ctx, *args, **kwargs):  # pragma: no cover - abstract
        raise NotImplementedError("a Function subclass must define forward(ctx, ...)")

    @staticmethod
    def backward(ctx, *grads):
        raise NotImplementedError("You must implement either the backward or vjp method for "
                                  "your custom autograd.Function to use it with backward mode AD.")

    @staticmethod
    def jvp(ctx, *grad_inputs):
        """Override to give forward mode AD the tangents of the outputs from those of the
        inputs (one per forward argument, None for non-tensors)."""
        raise NotImplementedError("You must implement the jvp function for custom "
                                  "autograd.Function to use it with forward mode AD.")

    @staticmethod
    def setup_context(ctx, inputs, output):
        """Override (with a forward that takes no ctx) to save what backward needs, as
        PyTorch's setup_context style."""
        raise NotImplementedError("setup_context is not implemented.")

    @classmethod
    def apply(cls, *args, **kwargs):
        ctx = FunctionCtx.__new__(FunctionCtx)
        ctx.fn_cls = cls
        ctx.saved = ()
        ctx.out_data = None
        ctx._out_version = None
        ctx.pre_hooks = None
        ctx.to_save = ()
        ctx.non_differentiable = set()
        ctx.materialize_grads = True
        ctx.dirty = ()
        tensors = [a for a in args if isinstance(a, Tensor)]
        ctx._needs = tuple(isinstance(a, Tensor) and a._requires_grad for a in args)
        with no_grad():
            if cls.setup_context is Function.setup_context:
                outputs = cls.forward(ctx, *args, **kwargs)
            else:  # forward(*args) without ctx, then setup_context(ctx, inputs, output)
                outputs = cls.forward(*args, **kwargs)
                cls.setup_context(ctx, args, outputs)
        single = not isinstance(outputs, tuple)
        outs = (outputs,) if single else outputs
        record = any(t._requires_grad for t in tensors) and (
            state.enabled or state.fw is not None and state.fw(tensors))  # forward AD: no_grad
        if not record:
            return outputs
        ctx.next = tuple(_edge(a) if isinstance(a, Tensor) else None for a in args)
        ctx.in_shapes = tuple(tuple(a.shape) if isinstance(a, Tensor) else None for a in args)
        wrapped = []
        for i, o in enumerate(outs):
            if not isinstance(o, Tensor):
                wrapped.append(o)
                continue
            dirty = any(o is d for d in ctx.dirty)
            root = o if o._base is None else o._base
            if dirty and root._requires_grad and root.grad_fn is None:
                raise RuntimeError("a leaf Variable that requires grad has been used in an "
                                   "in-place operation.")
            if any(o is a for a in args) and not dirty:
                o = o.detach()
                o = Tensor._make(o._data, o._dev, False, None)
            if id(o) in ctx.non_differentiable or not o.is_floating_point():
                o._requires_grad = False
            else:
                o.grad_fn, o._output_nr, o._requires_grad = ctx, i, True
                if dirty:
                    o._vc[0] += 1
                    if o._base is not None:  # an in-place change of a view: rebase its base
                        o._rebase_view(o)
            wrapped.append(o)
        ctx.n_outputs = len(outs)
        ctx.out_meta = tuple((tuple(o.shape), o._data.dtype, o._dev) if isinstance(o, Tensor)
                             else ((), None, None) for o in wrapped)
        ctx.saved = tuple(_SavedOutput(_index_of(wrapped, t), t) if any(t is w for w in wrapped)
                          else t for t in ctx.to_save)
        ctx._versions = tuple(0 if t is None else t._vc[0] for t in ctx.saved)
        if _node.hooks_active and state.saved_hooks:  # saved_tensors_hooks: each one packed
            ctx.saved = tuple(t if t is None else pack(wrapped[t.index], t.index) if isinstance(
                t, _SavedOutput) else pack(t) for t in ctx.saved)
            ctx._versions = ()
        ctx.to_save = ()
        if state.anomaly:
            ctx.trace = "".join(traceback.format_stack()[:-1])
        return wrapped[0] if single else tuple(wrapped)



def once_differentiable(backward):
    """Decorator for a Function's ``backward`` that is not differentiable itself (PyTorch's):
    it runs with grad disabled, so its results carry no graph."""

    def wrapper(ctx, *grads):
        with no_grad():
            return backward(ctx, *grads)

    wrapper.__name__, wrapper.__doc__ = backward.__name__, backward.__doc__
    return wrapper
