"""Regression tests from an audit of the autograd engine against PyTorch: retained grads and
hooks after in-place ops, gradients the user still holds (hook results, custom backward
results) never stored as a .grad and summed into in place, ``backward(inputs=...)``, views
whose base changed in place, ``mark_dirty``, thread-local grad mode, decorated generators.
A random program of in-place and view ops is compared with PyTorch at the end."""

from __future__ import annotations

import random
import threading

import numpy as np
import pytest

import autodiff as ad

DEVICES = [d for d in ("numpy", "cpp") if d in ad.available_devices()]


def t(values, device, requires_grad=False):
    return ad.tensor(
        np.asarray(values, dtype=np.float64), requires_grad=requires_grad, device=device
    )


def close(x, expected):
    np.testing.assert_allclose(x.numpy(), expected, rtol=1e-12)


# ----------------------------------------------------------------- retain_grad and hooks
def test_retain_grad_follows_an_inplace_op(device):
    a = t([1.0, 2.0], device, True)
    x = a * 3
    x.retain_grad()
    x.mul_(2)  # .grad is the gradient of the new value, as in PyTorch
    (x * x).sum().backward()
    close(x.grad, [12.0, 24.0])
    close(a.grad, [72.0, 144.0])


def test_retain_grad_follows_setitem_and_an_inplace_op_through_a_view(device):
    a = t([1.0, 2.0, 3.0], device, True)
    x = a * 1
    x.retain_grad()
    x[0] = 5.0
    (x * x).sum().backward()
    close(x.grad, [10.0, 4.0, 6.0])
    b = t([1.0, 2.0, 3.0], device, True)
    y = b * 1
    y.retain_grad()
    y[1:].mul_(3)
    (y * y).sum().backward()
    close(y.grad, [2.0, 12.0, 18.0])
    close(b.grad, [2.0, 36.0, 54.0])


def test_retain_grad_and_hooks_on_a_view_whose_base_changed_in_place(device):
    a = t([1.0, 2.0, 3.0], device, True)
    x = a * 1
    v = x[1:]
    v.retain_grad()
    x.mul_(2)
    (v * v).sum().backward()
    close(v.grad, [8.0, 12.0])
    close(a.grad, [0.0, 16.0, 24.0])
    b = t([1.0, 2.0, 3.0], device, True)
    y = b * 1
    w = y[1:]
    y.mul_(2)
    w.register_hook(lambda g: g * 10)  # on the re-derived grad_fn, so it runs
    (w * 1).sum().backward()
    close(b.grad, [0.0, 20.0, 20.0])


def test_hook_result_held_by_the_user_is_not_accumulated_into(device):
    a = t([1.0, 2.0], device, True)
    c = t([5.0, 5.0], device)
    a.register_hook(lambda g: c)
    (a * a).sum().backward()
    (a * a).sum().backward()
    close(a.grad, [10.0, 10.0])
    close(c, [5.0, 5.0])
    b = t([1.0, 2.0], device, True)
    x = b + 0
    x.register_hook(lambda g: c)
    (x * x).sum().backward()
    (b * 3).sum().backward()
    close(b.grad, [8.0, 8.0])
    close(c, [5.0, 5.0])


# ----------------------------------------------------------------- custom Functions
def test_custom_backward_returning_a_held_tensor_is_not_accumulated_into(device):
    y = t([7.0, 8.0], device)

    class PassSaved(ad.autograd.Function):
        @staticmethod
        def forward(ctx, x, w):
            ctx.save_for_backward(w)
            return x * 1

        @staticmethod
        def backward(ctx, g):
            (w,) = ctx.saved_tensors
            return w, None

    a = t([1.0, 2.0], device, True)
    PassSaved.apply(a, y).sum().backward()
    PassSaved.apply(a, y).sum().backward()
    close(a.grad, [14.0, 16.0])
    close(y, [7.0, 8.0])


def test_mark_dirty_on_a_leaf_raises_and_on_a_view_rebases_its_base(device):
    class Double(ad.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            x.mul_(2)
            ctx.mark_dirty(x)
            return x

        @staticmethod
        def backward(ctx, g):
            return g * 2

    a = t([1.0, 2.0], device, True)
    with pytest.raises(RuntimeError, match="leaf Variable"):
        Double.apply(a)
    b = t([1.0, 2.0, 3.0], device, True)
    x = b * 1
    Double.apply(x[1:])
    (x * x).sum().backward()
    close(x, [1.0, 4.0, 6.0])
    close(b.grad, [2.0, 16.0, 24.0])


def test_custom_function_with_a_non_tensor_output(device):
    class WithCount(ad.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2, 5

        @staticmethod
        def backward(ctx, g, g_count):
            return g * 2

    a = t([1.0, 2.0], device, True)
    y, k = WithCount.apply(a)
    y.sum().backward()
    assert k == 5
    close(a.grad, [2.0, 2.0])


# ----------------------------------------------------------------- backward(inputs=...)
def test_backward_inputs_do_not_alias_each_other(device):
    a = t([1.0, 2.0], device, True)
    b = t([3.0, 4.0], device, True)
    (a + b).sum().backward(inputs=[a, b])  # add passes one array to both
    (a * 1).sum().backward()  # summed in place into a.grad only
    close(a.grad, [2.0, 2.0])
    close(b.grad, [1.0, 1.0])


def test_autograd_backward_honours_inputs(device):
    a = t([1.0, 2.0], device, True)
    b = t([3.0, 4.0], device, True)
    ad.autograd.backward([(a * b).sum()], inputs=[a])
    close(a.grad, [3.0, 4.0])
    assert b.grad is None


# ----------------------------------------------------------------- views and in-place
def test_inplace_on_a_view_after_its_base_changed_in_place(device):
    a = t([2.0, 0.5], device, True)
    x = a * 1
    v = x[:1]
    x.clamp_(max=1.0)  # v's grad_fn predates the clamp: it must be re-derived first
    v.mul_(3)
    x.sum().backward()
    close(x, [3.0, 0.5])
    close(a.grad, [0.0, 1.0])


def test_inplace_on_a_view_taken_under_no_grad_raises(device):
    a = t([1.0, 2.0, 3.0], device, True)
    x = a * 2
    with ad.no_grad():
        v = x[1:]
    with pytest.raises(RuntimeError, match="no_grad"):
        v.mul_(2)
    with pytest.raises(RuntimeError, match="no_grad"):
        v.copy_(t([1.0, 1.0], device))
    with ad.no_grad():
        v.mul_(2)  # allowed where the write is not meant to be recorded
    close(x, [2.0, 8.0, 12.0])


def test_detach_inplace_of_a_view_raises(device):
    a = t([1.0, 2.0], device, True)
    x = a * 2
    with pytest.raises(RuntimeError, match="detach views in-place"):
        x[:1].detach_()
    x.detach_()
    assert not x.requires_grad and x.is_leaf


# ----------------------------------------------------------------- grad mode
def test_grad_mode_is_thread_local(device):
    a = t([1.0], device, True)
    entered, release, seen = threading.Event(), threading.Event(), []

    def worker():
        with ad.no_grad():
            entered.set()
            release.wait(10)

    th = threading.Thread(target=worker)
    th.start()
    entered.wait(10)
    try:
        assert (a * 2).requires_grad  # the other thread's no_grad is not seen here
    finally:
        release.set()
        th.join()
    with ad.no_grad():
        th = threading.Thread(target=lambda: seen.append(ad.is_grad_enabled()))
        th.start()
        th.join()
    assert seen == [True]  # a new thread starts with grad enabled


def test_no_grad_decorates_a_generator_step_by_step(device):
    a = t([1.0], device, True)

    @ad.no_grad()
    def gen():
        for _ in range(2):
            got = yield a * 2
            assert got is None
        return "done"

    outs, g = [], gen()
    outs.append(next(g))
    assert ad.is_grad_enabled()  # restored between the steps
    outs.append(next(g))
    with pytest.raises(StopIteration):
        next(g)
    assert [o.requires_grad for o in outs] == [False, False]


def test_inference_mode_false_enables_grad(device):
    a = t([1.0], device, True)
    with ad.no_grad(), ad.inference_mode(False):
        assert (a * 2).requires_grad


# ----------------------------------------------------------------- random programs vs torch
def _mk(lib, dev, values):
    if dev is None:
        return lib.tensor(values, requires_grad=True)
    return ad.tensor(values, requires_grad=True, device=dev)


def _view(rng, x):
    choices = [lambda v: v.unsqueeze(0)]
    if x.ndim >= 1:
        k = rng.randrange(x.shape[0])
        choices.append(lambda v: v.select(0, k))
        if x.shape[0] > 1:
            choices.append(lambda v: v[1:])
        if x.shape[-1] > 1:
            choices.append(lambda v: v[..., :-1])
    if x.ndim == 2:
        choices += [lambda v: v.t(), lambda v: v.diagonal(), lambda v: v[:, ::2]]
    return rng.choice(choices)(x)


def _inplace(rng, x, pool):
    others = [p for p in pool if tuple(p.shape) == tuple(x.shape) and p is not x]
    other = rng.choice(others) if others else None
    c = rng.random() + 0.5
    op = rng.randrange(9)
    if op == 0 or other is None:
        x.mul_(c)
    elif op == 1:
        x.exp_()
    elif op == 2:
        x.clamp_(0.7, 1.3)
    elif op == 3:
        x.fill_(c)
    elif op == 4:
        x.add_(other * 1.0)
    elif op == 5:
        x.mul_(other)
    elif op == 6:
        x.copy_(other * 1.0)
    elif op == 7 and x.ndim:
        x[0] = other[0] * 1.0
    else:
        x.div_(c)


def _program(lib, dev, seed):
    rng = random.Random(seed)
    n_leaves, n_steps = rng.randint(1, 3), rng.randint(2, 12)
    leaves = [
        _mk(lib, dev, np.random.default_rng(seed * 7 + i).uniform(0.5, 1.5, (3, 4)))
        for i in range(n_leaves)
    ]
    pool, kept = [leaf * 1.0 for leaf in leaves], []
    try:
        for _ in range(n_steps):
            x, kind = rng.choice(pool), rng.random()
            if kind < 0.35:
                pool.append(_view(rng, x))
            elif kind < 0.5:
                pool.append(x * (rng.random() + 0.5) if rng.random() < 0.5 else x.exp())
            elif kind < 0.55:
                x.retain_grad()
                kept.append(x)
            else:
                _inplace(rng, x, pool)
        loss = sum(((p * (k + 1)).sin()).sum() for k, p in enumerate(pool))
        loss.backward(retain_graph=True)
        loss.backward()
    except RuntimeError as e:
        return "error", str(e)
    values = [np.array(p.detach().numpy()) for p in pool]
    return "ok", values + [
        None if p.grad is None else np.array(p.grad.numpy()) for p in leaves + kept
    ]


@pytest.mark.parametrize("dev", DEVICES)
def test_random_inplace_view_programs_like_torch(torch, dev):
    compared = 0
    for seed in range(150):
        want, got = _program(torch, None, seed), _program(ad, dev, seed)
        if want[0] == "error" or got[0] == "error":
            # where PyTorch refuses a saved value changed in place, autodiff's backward reads
            # the copy its in-place op saved and gives the right gradient; aliasing errors
            # may come at another step; other errors must agree
            lenient = "modified by an inplace" in want[1] or "memory location" in want[1]
            assert lenient or want[0] == got[0], (seed, want[1], got[1])
            continue
        compared += 1
        for w, g in zip(want[1], got[1]):
            assert (w is None) == (g is None), seed
            if w is not None:
                np.testing.assert_allclose(g, w, rtol=1e-9, atol=1e-12, err_msg=str(seed))
    assert compared > 60
