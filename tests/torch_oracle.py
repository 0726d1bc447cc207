"""PyTorch as the oracle of tests/test_torch_names_extra*.py: ``check(fn, inputs, device,
torch)`` calls ``fn(m, *tensors)`` once with ``m = autodiff`` and once with ``m = torch`` and
compares values, dtypes and (float64) gradients.

NumPy float inputs require grad unless wrapped in ``C(...)`` (a constant); ``T(...)`` builds
one as a transposed, non-contiguous view; other inputs (numbers, lists) pass through as is.
A case of a table is one line: ``(id, fn, inputs[, grad])``.
"""

from __future__ import annotations

import warnings

import numpy as np

import autodiff as ad

R = np.random.default_rng(0)


class C:
    """An input that does not require grad."""

    def __init__(self, a) -> None:
        self.a = np.asarray(a)


class T:
    """An input built as the transpose of a contiguous array: a non-contiguous view."""

    def __init__(self, a) -> None:
        self.a = np.asarray(a)


def rnd(*shape, lo=-2.0, hi=2.0):
    return R.uniform(lo, hi, shape)


def ints(*shape, lo=-9, hi=10):
    return R.integers(lo, hi, shape)


def _inputs(args, dev, torch):
    """(autodiff inputs, torch inputs, [(ad leaf, torch leaf, transposed)])."""
    a_in, t_in, leaves = [], [], []
    for a in args:
        if not isinstance(a, (np.ndarray, C, T)):
            a_in.append(a)
            t_in.append(a)
            continue
        arr = a.a if isinstance(a, (C, T)) else a
        g = not isinstance(a, C) and arr.dtype.kind == "f"
        if isinstance(a, T):
            la = ad.tensor(np.ascontiguousarray(arr.swapaxes(-1, -2)), device=dev, requires_grad=g)
            lt = torch.tensor(np.ascontiguousarray(arr.swapaxes(-1, -2)), requires_grad=g)
            a_in.append(la.mT)
            t_in.append(lt.mT)
            assert not a_in[-1].is_contiguous()
        else:
            la, lt = ad.tensor(arr, device=dev, requires_grad=g), torch.tensor(arr, requires_grad=g)
            a_in.append(la)
            t_in.append(lt)
        if g:
            leaves.append((la, lt))
    return a_in, t_in, leaves


def _flat(out):
    if isinstance(out, (tuple, list)):
        return [o for x in out for o in _flat(x)]
    return [out]


def _same(a, t, rtol, atol):
    if isinstance(t, (bool, int, float)) or t is None:
        assert a == t, (a, t)
        return
    if not hasattr(t, "dtype"):  # e.g. a dtype
        assert str(a).split(".")[-1] == str(t).split(".")[-1], (a, t)
        return
    assert a.dtype.name == str(t.dtype).split(".")[-1], (a.dtype, t.dtype)
    assert tuple(a.shape) == tuple(t.shape), (tuple(a.shape), tuple(t.shape))
    np.testing.assert_allclose(
        a.detach().cpu().numpy(), t.detach().numpy(), rtol=rtol, atol=atol, equal_nan=True
    )


def check(fn, args, dev, torch, grad=True, rtol=1e-6, atol=1e-9):
    """fn(autodiff, ...) matches fn(torch, ...) in values, dtypes and gradients."""
    a_in, t_in, leaves = _inputs(args, dev, torch)
    previous = ad.get_default_device()
    ad.set_default_device(dev)  # tensors the case creates land on dev
    try:
        outs_a = _flat(fn(ad, *a_in))
    finally:
        ad.set_default_device(previous)
    with warnings.catch_warnings():  # PyTorch's deprecation notices (torch.lu, ...)
        warnings.simplefilter("ignore")
        outs_t = _flat(fn(torch, *t_in))
    assert len(outs_a) == len(outs_t)
    for a, t in zip(outs_a, outs_t):
        _same(a, t, rtol, atol)
    diff = [
        (a, t) for a, t in zip(outs_a, outs_t) if hasattr(t, "requires_grad") and t.requires_grad
    ]
    if not (grad and leaves and diff):
        return
    loss_a = loss_t = 0
    for a, t in diff:
        w = R.standard_normal(tuple(t.shape))
        loss_a = loss_a + (a * ad.tensor(w, device=dev)).sum()
        loss_t = loss_t + (t * torch.tensor(w)).sum()
    loss_a.backward()
    loss_t.backward()
    for la, lt in leaves:
        if lt.grad is None:
            assert la.grad is None or not la.grad.numpy().any()
            continue
        assert la.grad is not None
        tg = torch.zeros(lt.shape, dtype=lt.dtype) if lt.grad._is_zerotensor() else lt.grad
        np.testing.assert_allclose(la.grad.numpy(), tg.numpy(), rtol=rtol, atol=1e-8)
