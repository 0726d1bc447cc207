"""Autograd semantics: backward rules, accumulation, retain_grad, hooks, grad modes, freed
graphs, ad.grad (higher order, allow_unused), version counters, in-place ops, deep graphs,
anomaly detection and checkpointing."""

from __future__ import annotations

import gc
import weakref

import numpy as np
import pytest

import autodiff as ad


def leaf(values, device="numpy", dtype=ad.float64):
    return ad.tensor(values, dtype=dtype, device=device, requires_grad=True)


# ------------------------------------------------------------------ backward basics
def test_backward_non_scalar_without_gradient_raises(device):
    x = leaf([1.0, 2.0], device)
    with pytest.raises(RuntimeError, match="scalar"):
        (x * 2).backward()


def test_backward_with_gradient(device):
    x = leaf([1.0, 2.0], device)
    (x * x).backward(ad.tensor([1.0, 10.0], dtype=ad.float64, device=device))
    assert x.grad.tolist() == [2.0, 40.0]


def test_backward_gradient_shape_mismatch_raises(device):
    x = leaf([1.0, 2.0], device)
    with pytest.raises(RuntimeError, match=r"\(3,\).*\(2,\)"):
        (x * 2).backward(ad.ones(3, dtype=ad.float64, device=device))


def test_backward_on_tensor_without_grad_raises(device):
    with pytest.raises(RuntimeError, match="does not require grad"):
        ad.ones(2, device=device).sum().backward()


def test_gradients_accumulate(device):
    x = leaf([1.0, 2.0], device)
    (x * 3).sum().backward()
    (x * x).sum().backward()
    assert x.grad.tolist() == [5.0, 7.0]


def test_grad_is_a_fresh_tensor_not_aliasing_the_incoming_gradient(device):
    x = leaf([1.0, 2.0], device)
    g = ad.tensor([1.0, 1.0], dtype=ad.float64, device=device)
    (x * 1).backward(g)
    x.grad.add_(5)
    assert g.tolist() == [1.0, 1.0]


def test_shared_input_used_twice(device):
    x = leaf([3.0], device)
    y = x * x + x
    y.sum().backward()
    assert x.grad.tolist() == [7.0]


def test_diamond_graph(device):
    x = leaf([2.0], device)
    a = x * 3
    b = a.exp()
    c = a * a
    (b + c).sum().backward()
    np.testing.assert_allclose(x.grad.cpu().numpy(), [3 * np.exp(6.0) + 2 * 6.0 * 3])


def test_leaf_and_grad_fn_flags(device):
    x = leaf([1.0], device)
    y = x * 2
    assert x.is_leaf and x.grad_fn is None
    assert not y.is_leaf and y.requires_grad and y.grad_fn is not None
    assert "Mul" in y.grad_fn.name()
    z = ad.ones(1, device=device)
    assert z.is_leaf and not (z * 2).requires_grad


def test_non_leaf_grad_is_none_without_retain_grad(device):
    x = leaf([1.0, 2.0], device)
    y = x * 2
    y.sum().backward()
    assert y.grad is None and x.grad is not None


def test_retain_grad(device):
    x = leaf([1.0, 2.0], device)
    y = x * 2
    y.retain_grad()
    assert y.retains_grad
    (y * y).sum().backward()
    assert y.grad.tolist() == [4.0, 8.0]
    assert x.grad.tolist() == [8.0, 16.0]


def test_backward_inputs_argument(device):
    a, b = leaf([1.0], device), leaf([2.0], device)
    (a * b).sum().backward(inputs=[a])
    assert a.grad.tolist() == [2.0] and b.grad is None


# ------------------------------------------------------------------ hooks
def test_leaf_hook_replaces_gradient(device):
    x = leaf([1.0, 2.0], device)
    seen = []
    x.register_hook(lambda g: seen.append(g.tolist()))
    x.register_hook(lambda g: g * 10)
    (x * 3).sum().backward()
    assert seen == [[3.0, 3.0]]
    assert x.grad.tolist() == [30.0, 30.0]


def test_non_leaf_hook_changes_upstream_grads(device):
    x = leaf([1.0, 2.0], device)
    y = x * 2
    seen = []
    y.register_hook(lambda g: seen.append(g.tolist()) or g + 1)
    (y * y).sum().backward()
    assert seen == [[4.0, 8.0]]
    assert x.grad.tolist() == [10.0, 18.0]


def test_leaf_hook_sees_the_total_gradient_once(device):
    """A leaf used twice: its hook runs once, on the sum (a non-linear hook shows it)."""
    x = leaf([1.0, 2.0], device)
    calls = []
    x.register_hook(lambda g: calls.append(g.tolist()) or g.clamp(max=4.0))
    (x * 2 + x * 3).sum().backward()
    assert calls == [[5.0, 5.0]] and x.grad.tolist() == [4.0, 4.0]
    x.grad = None
    (gx,) = ad.grad((x * 2 + x * 3).sum(), x)
    assert gx.tolist() == [4.0, 4.0]


def test_hook_handle_remove(device):
    x = leaf([1.0], device)
    h = x.register_hook(lambda g: g * 100)
    h.remove()
    (x * 1).sum().backward()
    assert x.grad.tolist() == [1.0]


def test_hook_on_tensor_without_grad_raises(device):
    with pytest.raises(RuntimeError, match="doesn't require"):
        ad.ones(1, device=device).register_hook(lambda g: g)


# ------------------------------------------------------------------ grad modes
def test_no_grad_context_and_is_grad_enabled(device):
    x = leaf([1.0], device)
    assert ad.is_grad_enabled()
    with ad.no_grad():
        assert not ad.is_grad_enabled()
        y = x * 2
        with ad.enable_grad():
            assert ad.is_grad_enabled()
            z = x * 2
    assert ad.is_grad_enabled()
    assert not y.requires_grad and y.grad_fn is None
    assert z.requires_grad


def test_grad_modes_as_decorators(device):
    x = leaf([1.0], device)

    @ad.no_grad()
    def f(t):
        return t * 2

    @ad.enable_grad()
    def g(t):
        return t * 2

    @ad.set_grad_enabled(False)
    def h(t):
        return t * 2

    assert ad.is_grad_enabled()  # the decorator did not switch the mode
    assert not f(x).requires_grad and not h(x).requires_grad
    with ad.no_grad():
        assert g(x).requires_grad
    assert ad.is_grad_enabled()


def test_set_grad_enabled(device):
    x = leaf([1.0], device)
    with ad.set_grad_enabled(False):
        assert not (x * 2).requires_grad
        with ad.set_grad_enabled(True):
            assert (x * 2).requires_grad
    assert ad.is_grad_enabled()
    ad.set_grad_enabled(False)  # as a function: acts immediately
    try:
        assert not ad.is_grad_enabled()
    finally:
        ad.set_grad_enabled(True)
    assert ad.is_grad_enabled()


def test_no_grad_restores_on_exception():
    with pytest.raises(ValueError), ad.no_grad():
        raise ValueError
    assert ad.is_grad_enabled()


# ------------------------------------------------------------------ freed graphs
def test_second_backward_through_freed_graph_raises(device):
    x = leaf([1.0, 2.0], device)
    y = (x.exp() * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        y.backward()


def test_retain_graph_allows_second_backward(device):
    x = leaf([1.0, 2.0], device)
    y = (x.exp() * x).sum()
    y.backward(retain_graph=True)
    first = x.grad.cpu().numpy().copy()
    y.backward()
    np.testing.assert_allclose(x.grad.cpu().numpy(), 2 * first)


def test_saved_tensors_freed_after_backward(device):
    x = leaf(np.ones(4), device)
    h = x * 2
    ref = weakref.ref(h)
    y = (h * h).sum()
    node = y.grad_fn
    del h
    gc.collect()
    assert ref() is not None  # saved by the Mul node
    y.backward()
    gc.collect()
    assert ref() is None, "a saved tensor outlived backward"
    assert node is not None


# ------------------------------------------------------------------ ad.grad
def test_grad_returns_tuple_and_leaves_dot_grad_alone(device):
    x, w = leaf([1.0, 2.0], device), leaf([3.0, 4.0], device)
    gx, gw = ad.grad((x * w).sum(), [x, w])
    assert gx.tolist() == [3.0, 4.0] and gw.tolist() == [1.0, 2.0]
    assert x.grad is None and w.grad is None


def test_grad_create_graph_higher_order(device):
    x = leaf([0.5, -1.0], device)
    (g,) = ad.grad(x.tanh().sum(), x, create_graph=True)
    assert g.requires_grad
    (gg,) = ad.grad(g.sum(), x)
    t = np.tanh(x.cpu().numpy())
    np.testing.assert_allclose(gg.cpu().numpy(), -2 * t * (1 - t * t))


def test_grad_of_grad_then_backward_accumulates(device):
    x = leaf([2.0], device)
    (g,) = ad.grad((x ** 3).sum(), x, create_graph=True)
    g.sum().backward()
    assert x.grad.tolist() == [12.0]


def test_grad_allow_unused(device):
    x, unused = leaf([1.0], device), leaf([1.0], device)
    with pytest.raises(RuntimeError, match="allow_unused=True"):
        ad.grad((x * 2).sum(), [x, unused])
    gx, gu = ad.grad((x * 2).sum(), [x, unused], allow_unused=True)
    assert gx.tolist() == [2.0] and gu is None


def test_grad_with_grad_outputs_and_non_leaf_input(device):
    x = leaf([1.0, 2.0], device)
    h = x * 3
    y = h * h
    (gh,) = ad.grad(y, h, grad_outputs=ad.ones(2, dtype=ad.float64, device=device))
    assert gh.tolist() == [6.0, 12.0]


def test_grad_of_input_without_grad_raises(device):
    x = leaf([1.0], device)
    with pytest.raises(RuntimeError, match="does not require grad"):
        ad.grad((x * 2).sum(), ad.ones(1, device=device))


# ------------------------------------------------------------------ version counter
def test_inplace_change_of_saved_tensor_raises(device):
    x = leaf([1.0, 2.0], device)
    h = x * 2
    y = (h * h).sum()  # Mul saves h
    h.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.backward()


def test_inplace_change_of_saved_output_raises(device):
    x = leaf([1.0, 2.0], device)
    y = x.exp()  # Exp saves its output
    z = y.sum()
    y.mul_(2)
    with pytest.raises(RuntimeError, match="inplace"):
        z.backward()


def test_inplace_change_of_saved_leaf_data_raises(device):
    w = leaf([1.0, 2.0], device)
    x = ad.tensor([3.0, 4.0], dtype=ad.float64, device=device)
    y = (w * x).sum()  # saves x
    x.add_(1)
    with pytest.raises(RuntimeError, match="inplace"):
        y.backward()


def test_inplace_through_a_view_bumps_the_base_version(device):
    x = ad.tensor([1.0, 2.0, 3.0], dtype=ad.float64, device=device)
    w = leaf([1.0, 1.0, 1.0], device)
    y = (w * x).sum()
    x[1:].mul_(2)
    assert x._version == 1
    with pytest.raises(RuntimeError, match="inplace"):
        y.backward()


def test_inplace_change_of_an_operand_backward_does_not_read_is_allowed(device):
    """w * 3 needs only the 3 for dw (as in PyTorch), so updating w under no_grad is fine."""
    w = leaf([1.0, 2.0], device)
    y = (w * 3).sum() + (w / 4).sum()
    with ad.no_grad():
        w.mul_(2)
    y.backward()
    assert w.grad.tolist() == [3.25, 3.25]


def test_inplace_methods_bump_version(device):
    x = ad.zeros(3, device=device)
    ops = [lambda t: t.add_(1), lambda t: t.sub_(1), lambda t: t.mul_(2), lambda t: t.div_(2),
           lambda t: t.zero_(), lambda t: t.fill_(3), lambda t: t.copy_(ad.ones(3)),
           lambda t: t.clamp_(0, 1), lambda t: t.normal_(), lambda t: t.uniform_(),
           lambda t: t.masked_fill_(ad.tensor([True, False, True], device=device), 0.0),
           lambda t: t.__setitem__(0, 5.0)]
    for i, op in enumerate(ops, 1):
        op(x)
        assert x._version == i


@pytest.mark.parametrize("name,inplace,outplace", [
    ("add_", lambda h, o: h.add_(o, alpha=2), lambda h, o: h + 2 * o),
    ("sub_", lambda h, o: h.sub_(o), lambda h, o: h - o),
    ("mul_", lambda h, o: h.mul_(o), lambda h, o: h * o),
    ("div_", lambda h, o: h.div_(o + 3), lambda h, o: h / (o + 3)),
    ("iadd", lambda h, o: h.__iadd__(o), lambda h, o: h + o),
    ("imul", lambda h, o: h.__imul__(o), lambda h, o: h * o),
    ("clamp_", lambda h, o: h.clamp_(-1, 1), lambda h, o: h.clamp(-1, 1)),
    ("masked_fill_", lambda h, o: h.masked_fill_(o > 0, 0.5), lambda h, o: h.masked_fill(o > 0,
                                                                                        0.5)),
    ("copy_", lambda h, o: h.copy_(o * 2), lambda h, o: o * 2 + 0 * h),
    ("copy_const", lambda h, o: h.copy_(ad.ones_like(o)) * o, lambda h, o: (0 * h + 1) * o),
    ("fill_", lambda h, o: h.fill_(0.5) * o, lambda h, o: (0 * h + 0.5) * o),
    ("zero_", lambda h, o: h.zero_() + o, lambda h, o: 0 * h + o),
    ("view_mul_", lambda h, o: (h[1:].mul_(o[1:]), h)[1],
     lambda h, o: ad.cat([h[:1], h[1:] * o[1:]])),
    ("view_iadd", lambda h, o: (h[::2].__iadd__(o[:2]), h)[1],
     lambda h, o: ad.stack([h[0] + o[0], h[1], h[2] + o[1]])),
    ("setitem", lambda h, o: h.__setitem__(slice(1, None), o[:2]) or h,
     lambda h, o: ad.cat([h[:1], o[:2]])),
])
def test_inplace_on_non_leaf_matches_out_of_place(name, inplace, outplace, device):
    rng = np.random.default_rng(0)
    a0, b0 = rng.standard_normal(3), rng.standard_normal(3)
    grads = []
    for f in (inplace, outplace):
        a, b = leaf(a0, device), leaf(b0, device)
        h = a.sin()  # saves its input, not its output, so h may be changed in place
        r = f(h, b)
        r = h if r is None else r
        (r * ad.tensor([1.0, 2.0, 3.0], dtype=ad.float64, device=device)).sum().backward()
        grads.append([r.cpu().numpy().copy()]
                     + [np.zeros(3) if t.grad is None else t.grad.cpu().numpy().copy()
                        for t in (a, b)])
    for got, want in zip(*grads):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


def test_inplace_on_leaf_requiring_grad_raises(device):
    x = leaf([1.0], device)
    for op in (lambda: x.add_(1), lambda: x.mul_(2), lambda: x.zero_(),
               lambda: x.__setitem__(0, 1.0), lambda: x.normal_()):
        with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
            op()
    with ad.no_grad():  # allowed without recording (optimizer updates)
        x.add_(1)
    assert x.tolist() == [2.0]


# ------------------------------------------------------------------ deep graphs
def test_ten_thousand_op_chain_backprops(device):
    x = leaf([1.0], device)
    y = x
    for _ in range(10_000):
        y = y * 1.0001
    y.sum().backward()
    np.testing.assert_allclose(x.grad.cpu().numpy(), [1.0001 ** 10_000], rtol=1e-9)


def test_deep_chain_is_freed_without_recursion_error(device):
    x = leaf([1.0], device)
    y = x
    for _ in range(10_000):
        y = y + 1
    del y
    gc.collect()


# ------------------------------------------------------------------ anomaly detection
# NumPy warns on 1/0 where PyTorch is silent; these tests are about the values
def test_detect_anomaly_names_the_forward_op(device):
    x = leaf([-1.0, 1.0], device)
    with ad.autograd.detect_anomaly():
        y = x.sqrt()  # d sqrt(x)/dx at -1 is NaN (an inf passes, as in PyTorch)
        with pytest.raises(RuntimeError, match=r"SqrtBackward.*(\n|.)*test_autograd"):
            y.sum().backward()
    assert not ad.autograd.is_anomaly_enabled()


def test_without_anomaly_mode_nan_grads_pass_silently(device):
    x = leaf([0.0, 1.0], device)
    x.sqrt().sum().backward()
    assert np.isinf(x.grad.cpu().numpy()[0])


# ------------------------------------------------------------------ checkpoint
def _block(x, w):
    return (x @ w).tanh() @ w.T


def test_checkpoint_matches_plain_grads(device):
    rng = np.random.default_rng(0)
    x0, w0 = rng.standard_normal((4, 3)), rng.standard_normal((3, 3))
    results = []
    for use_ckpt in (False, True):
        x, w = leaf(x0, device), leaf(w0, device)
        out = ad.utils.checkpoint(_block, x, w) if use_ckpt else _block(x, w)
        (out * out).sum().backward()
        results.append(tuple(t.cpu().numpy().copy() for t in (out, x.grad, w.grad)))
    for got, want in zip(results[1], results[0]):
        np.testing.assert_allclose(got, want, rtol=1e-12)


def test_checkpoint_parameter_captured_by_closure(device):
    """A parameter used inside fn but not passed as an argument still gets its gradient."""
    rng = np.random.default_rng(1)
    x0, w0 = rng.standard_normal((2, 3)), rng.standard_normal((3, 3))
    results = []
    for use_ckpt in (False, True):
        x, w = leaf(x0, device), leaf(w0, device)

        def fn(t):
            return (t @ w).sigmoid()  # noqa: B023 (called in this iteration)

        out = ad.utils.checkpoint(fn, x) if use_ckpt else fn(x)
        out.sum().backward()
        assert w.grad is not None, "the closed-over parameter got no gradient"
        results.append((x.grad.cpu().numpy().copy(), w.grad.cpu().numpy().copy()))
    for got, want in zip(results[1], results[0]):
        np.testing.assert_allclose(got, want, rtol=1e-12)


def test_checkpoint_input_without_grad(device):
    w = leaf([[1.0, 2.0], [3.0, 4.0]], device)
    x = ad.tensor([[1.0, 1.0]], dtype=ad.float64, device=device)
    out = ad.utils.checkpoint(lambda t, p: (t @ p).exp(), x, w)
    out.sum().backward()
    np.testing.assert_allclose(w.grad.cpu().numpy(), [[np.exp(4.0), np.exp(6.0)]] * 2)
