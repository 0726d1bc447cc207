"""ad.autograd.graph: saved-tensor hooks (saved_tensors_hooks, save_on_cpu,
disable_saved_tensors_hooks), checked against PyTorch's behaviour."""

from __future__ import annotations

import gc
import threading
import weakref

import numpy as np
import pytest

import autodiff as ad

graph = ad.autograd.graph


def _counting():
    log = []

    def pack(t):
        log.append(("pack", tuple(t.shape), ad.is_grad_enabled()))
        return t

    def unpack(p):
        log.append(("unpack", tuple(p.shape)))
        return p

    return log, graph.saved_tensors_hooks(pack, unpack)


def test_pack_once_per_saved_tensor_then_unpack_in_backward(dev):
    a = ad.ones(5, requires_grad=True)
    b = ad.ones(5, requires_grad=True) * 2
    log, hooks = _counting()
    with hooks:
        y = a * b  # saves a and b
        with ad.no_grad():
            a * b  # nothing recorded, nothing packed
        ad.ones(5) * ad.ones(5)  # no input requires grad
    assert log == [("pack", (5,), False)] * 2  # pack runs under no_grad, as PyTorch's
    y.sum().backward()
    assert log[2:] == [("unpack", (5,))] * 2
    np.testing.assert_array_equal(a.grad.numpy(), np.full(5, 2.0))


def test_hooks_that_change_the_stored_value(dev):
    x = ad.tensor([0.5, -1.0, 2.0], requires_grad=True)
    with graph.saved_tensors_hooks(lambda t: t * 4, lambda p: p / 4):
        y = ad.pow(x, 3) + x.exp()  # a saved input and a saved output
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 3 * x.detach().numpy() ** 2 + np.exp([0.5, -1, 2]))


def test_saved_outputs_and_custom_functions(dev):
    class Exp(ad.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            y = x.exp()
            ctx.save_for_backward(x, y)
            return y

        @staticmethod
        def backward(ctx, g):
            assert len(ctx.saved_tensors) == 2  # each access unpacks again
            _, y = ctx.saved_tensors
            return g * y

    a = ad.ones(3, requires_grad=True)
    log = []
    with graph.saved_tensors_hooks(lambda t: log.append(t.grad_fn is not None) or t,
                                   lambda p: log.append("u") or p):
        y = Exp.apply(a)
        z = a.sigmoid()  # an op that saves its output
    assert log == [False, True, True]  # the input (a leaf), Exp's output, sigmoid's output
    (y + z).sum().backward()
    assert log[3:] == ["u"] * 5  # each saved_tensors access unpacks again, as PyTorch
    s = 1 / (1 + np.exp(-1.0))
    np.testing.assert_allclose(a.grad.numpy(), np.full(3, np.e + s * (1 - s)), rtol=1e-6)


def test_nested_hooks_only_the_innermost_applies(dev):
    a = ad.ones(3, requires_grad=True)
    order = []
    with graph.saved_tensors_hooks(lambda t: order.append("outer") or t, lambda p: p):
        with graph.saved_tensors_hooks(lambda t: order.append("inner") or t, lambda p: p):
            a.exp()
        a.exp()
    a.exp()
    assert order == ["inner", "outer"]


def test_retain_graph_unpacks_each_backward_and_frees_after(dev):
    a = ad.ones(3, requires_grad=True)
    log, hooks = _counting()
    with hooks:
        y = a.exp()
    y.sum().backward(retain_graph=True)
    y.sum().backward()
    assert [e[0] for e in log] == ["pack", "unpack", "unpack"]
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        y.sum().backward()


def test_packed_objects_are_released_by_backward(dev):
    class Box:
        def __init__(self, t):
            self.t = t.detach()

    boxes = []

    def pack(t):
        boxes.append(weakref.ref(box := Box(t)))
        return box

    a = ad.ones(3, requires_grad=True)
    with graph.saved_tensors_hooks(pack, lambda b: b.t):
        y = (a * a).exp()
    gc.collect()
    assert boxes and all(b() is not None for b in boxes)
    y.sum().backward()
    assert all(b() is None for b in boxes)


@pytest.mark.parametrize("saved", ["leaf", "non-leaf"])
def test_double_backward_through_unpacked_copies(dev, saved):
    x0 = ad.tensor([1.0, 2.0, -0.5], requires_grad=True)

    def second(hooks):
        x = x0 if saved == "leaf" else x0 * 1
        with hooks:
            y = (x.pow(3) * x.sin()).sum()
        (g,) = ad.autograd.grad(y, x0, create_graph=True)
        return g, ad.autograd.grad(g.sum(), x0)[0]

    plain = second(graph.saved_tensors_hooks(lambda t: t, lambda p: p))
    copied = second(graph.saved_tensors_hooks(lambda t: t.detach() * 4, lambda p: p / 4))
    for p, c in zip(plain, copied):
        np.testing.assert_allclose(c.detach().numpy(), p.detach().numpy(), rtol=1e-6)


def test_save_on_cpu_gives_the_same_gradients(dev):
    lin = ad.nn.Linear(4, 3)
    x = ad.randn(5, 4)
    (want,) = ad.autograd.grad(lin(x).tanh().sum(), lin.weight)
    with graph.save_on_cpu(pin_memory=True):
        y = lin(x).tanh().sum()
    (got,) = ad.autograd.grad(y, lin.weight)
    np.testing.assert_array_equal(got.numpy(), want.numpy())


def test_errors_as_pytorch(dev):
    a = ad.ones(3, requires_grad=True)
    with graph.saved_tensors_hooks(lambda t: 1, lambda p: p):
        y = a.exp()
    with pytest.raises(TypeError, match="unpack_hook expected to be a Tensor but got result of "
                       "type int"):
        y.sum().backward()
    b = a * 1
    modifying = graph.saved_tensors_hooks(lambda t: t.add_(1), lambda p: p)
    with pytest.raises(RuntimeError, match="pack hook is modifying its input in place"), modifying:
        b * b
    identity = graph.saved_tensors_hooks(lambda t: t, lambda p: p)
    with graph.disable_saved_tensors_hooks("hooks are off here"):
        with pytest.raises(RuntimeError, match="hooks are off here"), graph.save_on_cpu():
            pass
        with pytest.raises(RuntimeError, match="inner"), graph.disable_saved_tensors_hooks(
                "inner"), identity:
            pass
        with pytest.raises(RuntimeError, match="hooks are off here"), identity:
            pass
    with identity:
        cannot = graph.disable_saved_tensors_hooks("cannot disable")
        with pytest.raises(RuntimeError, match="cannot disable"), cannot:
            pass
        a.exp()  # still set


def test_no_version_check_through_hooks(dev):
    """PyTorch cannot track versions through hooks, so it does not check them."""
    a = ad.ones(3, requires_grad=True)
    b = a * 1
    with graph.saved_tensors_hooks(lambda t: t.detach(), lambda p: p):
        y = b * b
    with ad.no_grad():
        b.add_(1)
    y.sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), np.full(3, 4.0))


def test_hooks_are_per_thread(dev):
    a = ad.ones(3, requires_grad=True)
    seen, started, done = [], threading.Event(), threading.Event()

    def other():
        started.wait()
        a.exp()
        done.set()

    t = threading.Thread(target=other)
    t.start()
    with graph.saved_tensors_hooks(lambda x: seen.append(1) or x, lambda p: p):
        started.set()
        done.wait()
    t.join()
    assert seen == [] and ad.autograd.node.hooks_active == 0
