"""Graph nodes. ``Node`` is what the backward engine walks; ``Op`` is an internal primitive.

An ``Op`` subclass implements ``forward(self, *tensors, **kw) -> array`` with backend kernels
on the inputs' arrays, and ``backward(self, grad) -> tuple`` with differentiable Tensor ops,
so higher-order gradients come for free. ``Op.apply`` builds the output Tensor and, when grad
mode is on and an input requires grad, links the node into the graph.
"""

from __future__ import annotations

import traceback

from ..errors import DeviceError
from .grad_mode import state

Tensor = None  # set by autodiff.tensor (import cycle)
hooks_active = 0  # how many graph.saved_tensors_hooks are entered, all threads (a global is a
# cheaper first check than the thread-local stack: most programs never set one)

FREED_MESSAGE = (
    "Trying to backward through the graph a second time (or to use saved tensors after they "
    "were freed). Saved intermediate values of the graph are freed when you call .backward() "
    "or autograd.grad(). Specify retain_graph=True if you need to backward a second time."
)


class Node:
    """A recorded operation: edges to its inputs' nodes and what backward needs."""

    __slots__ = ("next", "_versions", "__dict__", "__weakref__")
    n_outputs = 1
    # defaults most nodes keep (class attributes: a node sets only what it uses)
    saved = ()  # tensors forward saved for backward; None once freed
    out_data = None  # the forward output's array, when backward needs it
    _out_version = None
    pre_hooks = None  # {output_nr: [hook, ...]}: tensor hooks on this node's outputs
    trace = None  # the forward stack, recorded under detect_anomaly
    user_grads = False  # backward is user code (custom Function): its grads may be held
    # Optional fast path: backward on raw arrays, used when the backward is not itself
    # recorded (no create_graph). It must compute what ``backward`` computes; it may return
    # None to defer to ``backward``. Written for the hot primitives only, to skip wrapping
    # every intermediate gradient in a Tensor and an Op (a measured per-op cost).
    backward_data = None

    def name(self) -> str:
        return type(self).__name__ + "Backward0"  # PyTorch's names end in the overload number

    def __repr__(self) -> str:
        return f"<{self.name()}>"

    @property
    def next_functions(self) -> tuple:
        """PyTorch-style view of the edges: ((node_or_leaf, output_nr) or (None, 0), ...)."""
        return tuple(e if e is not None else (None, 0) for e in self.next)

    def register_hook(self, nr: int, fn) -> None:
        if self.pre_hooks is None:
            self.pre_hooks = {}
        hooks = self.pre_hooks.setdefault(nr, [])
        # retain_grad's hook stays last: .grad sees every tensor hook (PyTorch >= 2.0)
        hooks.insert(len(hooks) - (bool(hooks) and hasattr(hooks[-1], "retains_grad")), fn)

    def unpack_check(self) -> None:
        """Raise if saved tensors were freed or modified in place since the forward."""
        saved = self.saved
        if saved is None:
            raise RuntimeError(FREED_MESSAGE)
        versions = self._versions
        if versions:
            for i, t in enumerate(saved):
                if t is not None and t._vc[0] != versions[i]:
                    self._raise_modified(t, versions[i])
        ov = self._out_version
        if ov is not None and ov[0][0] != ov[1]:
            raise RuntimeError(
                f"one of the variables needed for gradient computation has been modified by an "
                f"inplace operation: the output of {self.name()} is at version {ov[0][0]}; "
                f"expected version {ov[1]} instead."
            )

    def _raise_modified(self, t, expected: int) -> None:
        raise RuntimeError(
            "one of the variables needed for gradient computation has been modified by an "
            f"inplace operation: [{t.dtype.name} {tuple(t.shape)}], which is input of "
            f"{self.name()}, is at version {t._vc[0]}; expected version {expected} instead."
        )

    def release(self) -> None:
        """Free what forward saved (after a backward without retain_graph)."""
        if self.saved or self.out_data is not None:
            self.saved = None
            self.out_data = None

    def output(self):
        """The forward output as a Tensor linked to this node (for backward formulas)."""
        if self.out_data is None and self.saved is None:
            raise RuntimeError(FREED_MESSAGE)
        return Tensor._make(self.out_data, self._dev, state.enabled, self if state.enabled else None)


def _edge(t):
    if t is None or not t._requires_grad:
        return None
    if t._base is not None and t._base.grad_fn is not t._base_fn:
        _regenerate_view(t)  # its base was changed in place through another view
    fn = t.grad_fn
    return (t, 0) if fn is None else (fn, t._output_nr)


class Op(Node):
    """An internal differentiable primitive with one output."""

    __slots__ = ("backend", "_dev")
    is_view = 0  # 1: the output is always a view of input 0; 2: it may be (checked)

    def forward(self, *inputs, **kwargs):  # pragma: no cover - abstract
        raise NotImplementedError

    def backward(self, grad):  # pragma: no cover - abstract
        raise NotImplementedError

    @classmethod
    def apply(cls, *inputs, **kwargs):
        x = inputs[0]
        dev = x._dev
        requires = False
        for t in inputs:
            if t is not None:
                if t._dev is not dev:
                    _device_mismatch(cls, dev, t._dev)
                if t._requires_grad:
                    requires = True
        node = object.__new__(cls)
        node.backend = dev.backend
        node._dev = dev
        data = node.forward(*inputs, **kwargs)
        if requires and (state.enabled or state.fw is not None and state.fw(inputs)):
            out = Tensor._make(data, node._dev, True, node)
            edges = []
            for t in inputs:
                if t is None or not t._requires_grad:
                    edges.append(None)
                else:
                    if t._base is not None and t._base.grad_fn is not t._base_fn:
                        _regenerate_view(t)  # its base was changed in place through another view
                    fn = t.grad_fn
                    edges.append((t, 0) if fn is None else (fn, t._output_nr))
            node.next = tuple(edges)
            saved = node.saved
            node._versions = tuple([t._vc[0] if t is not None else 0 for t in saved]
                                   ) if saved else ()
            if node.out_data is not None:
                node._out_version = (out._vc, 0)
            if hooks_active and state.saved_hooks:
                from .saved import pack_op

                pack_op(node, out)
            if state.anomaly:
                node.trace = "".join(traceback.format_stack()[:-2])
        else:
            out = Tensor._make(data, node._dev, False, None)
        if cls.is_view:
            _share_view(out, x, cls, kwargs)
        return out

    def save_output(self, data):
        """Keep the forward output for backward; returns it (for ``return self.save_output(y)``)."""
        self.out_data = data
        return data

    @property
    def needs_input_grad(self) -> tuple:
        return tuple(e is not None for e in self.next)


def _regenerate_view(t) -> None:
    """Re-derive a view's grad_fn from its base's current one (after an in-place op through
    another view of the same base rebased it), as PyTorch does."""
    from .grad_mode import enable_grad

    base = t._base
    with enable_grad():
        view = base
        for cls, kw in t._view_chain:
            view = cls.apply(view, **kw)
    t.grad_fn, t._output_nr, t._base_fn = view.grad_fn, 0, base.grad_fn
    if t._retains_grad:
        t.retain_grad()


def _device_mismatch(cls, a, b):
    raise DeviceError(f"{cls.__name__.lower()}: tensors are on different devices, {a} and {b}; "
                      f"move one with .to()")


def _share_view(out, x, cls, kwargs) -> None:
    """Make ``out`` (a view of ``x``'s memory) share x's version counter and remember how to
    re-create it from the root base (for in-place ops through views)."""
    if cls.is_view == 1 or x._dev.backend.xp.may_share_memory(out._data, x._data):
        out._vc = x._vc
        if x._base is None:
            out._base, out._view_chain = x, ((cls, kwargs),)
        else:
            out._base, out._view_chain = x._base, x._view_chain + ((cls, kwargs),)
        out._base_fn = out._base.grad_fn
