"""The backward engine: topological order without recursion, gradient accumulation,
hooks, retain_grad, saved-tensor checks and release, anomaly detection."""

from __future__ import annotations

from .grad_mode import state
from .saved import Packed
from .node import Node

Tensor = None  # set by autodiff.tensor


def _root_edges(tensors, grads):
    edges = []
    for i, (t, g) in enumerate(zip(tensors, grads)):
        if not t._requires_grad:
            raise RuntimeError(f"element {i} of tensors does not require grad and does not "
                               f"have a grad_fn (set requires_grad=True on the inputs, and "
                               f"do not build the graph under no_grad())")
        if g is None:
            if t._data.size != 1:
                raise RuntimeError(
                    f"grad can be implicitly created only for scalar outputs; got shape "
                    f"{tuple(t.shape)}. Pass gradient= (a tensor of the same shape)."
                )
            g = Tensor._make(t._dev.backend.ones(t._data.shape, t._data.dtype), t._dev, False, None)
        elif tuple(g.shape) != tuple(t.shape):
            raise RuntimeError(
                f"Mismatch in shape: grad_output[{i}] has a shape of {tuple(g.shape)} and "
                f"output[{i}] has a shape of {tuple(t.shape)}."
            )
        fn = t.grad_fn
        edges.append(((t, 0) if fn is None else (fn, t._output_nr), g))
    return edges


def _collect(root_nodes):
    """Dependency counts (number of consumers inside the graph) of every reachable node."""
    deps = {}
    stack = list(root_nodes)
    seen = set(stack)
    while stack:
        node = stack.pop()
        for e in node.next:
            if e is not None:
                child = e[0]
                if isinstance(child, Node):
                    deps[child] = deps.get(child, 0) + 1
                    if child not in seen:
                        seen.add(child)
                        stack.append(child)
    return deps, seen


def _needed(nodes, deps, root_nodes, targets):
    """Nodes from which some target (leaf tensor id or (node, nr)) is reachable."""
    remaining = dict(deps)
    order = []
    ready = [n for n in root_nodes if remaining.get(n, 0) == 0]
    ready = list(dict.fromkeys(ready))
    while ready:
        node = ready.pop()
        order.append(node)
        for e in node.next:
            if e is not None and isinstance(e[0], Node):
                remaining[e[0]] -= 1
                if remaining[e[0]] == 0:
                    ready.append(e[0])
    needed = set()
    for node in reversed(order):
        for e in node.next:
            if e is None:
                continue
            if isinstance(e[0], Node):
                if e[0] in needed or (e[0], e[1]) in targets:
                    needed.add(node)
                    break
            elif id(e[0]) in targets:
                needed.add(node)
                break
    return needed


class _GradSink:
    """Where gradients land: leaves' .grad (backward) or a capture dict (autograd.grad)."""

    def __init__(self, targets, create_graph: bool) -> None:
        self.targets = targets  # None: accumulate into .grad
        self.captured: dict = {}
        self.create_graph = create_graph
        self.stored: dict = {}  # id(array) -> array already held elsewhere (must not alias)
        self.pending: dict = {}  # id(leaf) -> (leaf, summed grad): leaves with hooks

    def flush(self) -> None:
        """Run leaf hooks once on each hooked leaf's total gradient (as PyTorch does)."""
        pending, self.pending = self.pending, {}
        for t, g in pending.values():
            for hook in t._hooks:
                r = hook(g)
                if r is not None:
                    g = _hook_result(hook, g, r)
                    self.mark_shared(r)  # the hook may keep it: never store it as a .grad
            self._deliver(t, g)
            if self.targets is None:  # Tensor.register_post_accumulate_grad_hook's hooks
                for hook in [h for h in t._hooks or () if hasattr(h, "post")]:
                    hook.post(t)

    def mark_shared(self, g) -> None:
        self.stored[id(g._data)] = g._data

    def owned(self, g):
        """g itself if nothing else holds its array, else a copy (a .grad must not alias)."""
        a = g._data
        if id(a) in self.stored or not g._dev.backend.owns(a):
            if self.create_graph:
                g = g.clone()
            else:
                g = Tensor._make(g._dev.backend.copy(a), g._dev, False, None)
        self.stored[id(g._data)] = g._data
        return g

    def leaf(self, t, g) -> None:
        if t._hooks:  # hooks must see the total, not each contribution: wait for flush()
            prev = self.pending.get(id(t))
            self.pending[id(t)] = (t, g if prev is None else prev[1] + g)
            return
        self._deliver(t, g)

    def _deliver(self, t, g) -> None:
        if self.targets is not None:
            if id(t) in self.targets:
                self._capture(id(t), g)
            return
        self.accumulate(t, g)

    def accumulate(self, t, g) -> None:
        if g._data.dtype != t._data.dtype:
            g = g.to(t.dtype)
        old = t.grad
        if old is None:
            a = g._data
            if id(a) in self.stored or not g._dev.backend.owns(a):
                g = self.owned(g)
            else:
                self.stored[id(a)] = a
            t._grad = g
        elif (self.create_graph or old._requires_grad or old._data.shape != g._data.shape
              or id(old._data) in self.stored  # stored uncopied: may still be flowing
              or not old._dev.backend.owns(old._data) or old._dev is not g._dev):
            t._grad = old + g
        else:
            old._data += g._data  # in-place accumulation, as PyTorch does
            old._vc[0] += 1

    def _capture(self, key, g) -> None:
        prev = self.captured.get(key)
        self.captured[key] = g if prev is None else prev + g


def run_backward(tensors, grads, retain_graph: bool, create_graph: bool, inputs=None):
    """Backpropagate from ``tensors``. With ``inputs``, return their grads instead of
    accumulating into leaves (autograd.grad)."""
    roots = _root_edges(tensors, grads)
    targets = None
    if inputs is not None:
        targets = {}
        for t in inputs:
            if t.grad_fn is None:
                targets[id(t)] = t
            else:
                targets[(t.grad_fn, t._output_nr)] = t
    sink = _GradSink(targets, create_graph)
    for _, g in roots:
        sink.mark_shared(g)
    buffers: dict = {}
    root_nodes = []
    for (target, nr), g in roots:
        if isinstance(target, Node):
            buf = buffers.get(target)
            if buf is None:
                buf = buffers[target] = [None] * target.n_outputs
                root_nodes.append(target)
            buf[nr] = g if buf[nr] is None else buf[nr] + g
        else:
            sink.leaf(target, g)
    deps, nodes = _collect(root_nodes)
    needed = None if targets is None else _needed(nodes, deps, root_nodes, targets)
    prev_mode = state.enabled
    state.enabled = create_graph
    try:
        _execute(root_nodes, deps, buffers, sink, needed, retain_graph)
        sink.flush()
    finally:
        state.enabled = prev_mode
    if targets is None:
        return None
    return [sink.captured.get(id(t) if t.grad_fn is None else (t.grad_fn, t._output_nr))
            for t in inputs]


def _execute(root_nodes, deps, buffers, sink, needed, retain_graph) -> None:
    create_graph = sink.create_graph
    ready = [n for n in root_nodes if deps.get(n, 0) == 0]
    targets = sink.targets
    leaf, accumulate = sink.leaf, sink.accumulate
    anomaly = state.anomaly and state.anomaly_check_nan
    while ready:
        node = ready.pop()
        grads = buffers.pop(node)
        if node.pre_hooks:
            _run_pre_hooks(node, grads, sink)
        if targets is not None:
            for nr, g in enumerate(grads):
                if g is not None and (node, nr) in targets:
                    sink._capture((node, nr), g)
            if node not in needed:
                continue
        saved = node.saved
        if saved is None or node._versions or node._out_version is not None:
            node.unpack_check()
        elif saved.__class__ is Packed:  # saved_tensors_hooks: unpacked for this backward
            node.saved, node.out_data = saved.unpack(node)
        fast = None if create_graph else node.backward_data
        if all(g is None for g in grads):  # every path here gave None: nothing to pass on
            in_grads = [None] * len(node.next)
        elif fast is not None and grads[0] is not None:  # Ops have one output
            arrays = fast(*[g._data for g in grads])
            if arrays is None:
                in_grads = node.backward(*grads)
            else:
                dev = node._dev
                in_grads = [None if a is None else Tensor._make(a, dev, False, None)
                            for a in arrays]
        else:
            in_grads = node.backward(*grads)
            if node.user_grads:  # a custom backward may return tensors the user holds
                sink.stored.update((id(g._data), g._data) for g in in_grads if g is not None)
        if anomaly:
            _check_anomaly(node, in_grads)
        if not retain_graph and (node.saved or node.out_data is not None):
            node.saved = None  # free what forward saved
            node.out_data = None
        elif saved.__class__ is Packed:
            node.saved, node.out_data = saved, None
        for e, g in zip(node.next, in_grads):
            if e is None:
                continue
            child, nr = e
            if isinstance(child, Node):  # (a None grad still counts towards the child's deps)
                buf = buffers.get(child)
                if buf is None:
                    buf = buffers[child] = [None] * child.n_outputs
                if g is not None:
                    buf[nr] = g if buf[nr] is None else buf[nr] + g
                left = deps[child] - 1
                deps[child] = left
                if not left:
                    ready.append(child)
            elif g is None:
                continue
            elif targets is None and not child._hooks:
                accumulate(child, g)
            else:
                leaf(child, g)


def _run_pre_hooks(node, grads, sink) -> None:
    for nr, hooks in node.pre_hooks.items():
        g = grads[nr]
        if g is None:
            continue
        for hook in hooks:
            r = hook(g)
            if r is not None:
                g = _hook_result(hook, g, r)
                sink.mark_shared(r)
        grads[nr] = g


def _hook_result(hook, g, r):
    """A tensor hook's replacement gradient, which must keep the gradient's shape and dtype
    (PyTorch)."""
    name = getattr(hook, "__name__", type(hook).__name__)
    if getattr(r, "shape", None) != g.shape:
        raise RuntimeError(f"hook '{name}' has changed the size of value: expected a gradient of "
                           f"shape {tuple(g.shape)}, got {tuple(getattr(r, 'shape', ()))}")
    if r.dtype is not g.dtype:
        raise RuntimeError(f"hook '{name}' has changed the type of value (was {g.dtype.name} "
                           f"got {r.dtype.name})")
    return r


def _check_anomaly(node, in_grads) -> None:
    for i, g in enumerate(in_grads):
        if g is not None and g.is_floating_point() and bool(g.isnan().any()):
            trace = getattr(node, "trace", None) or "(no forward trace recorded)"
            raise RuntimeError(
                f"Function '{node.name()}' returned nan values in its {i}th output.\n"
                f"The forward call that created it:\n{trace}"
            )
