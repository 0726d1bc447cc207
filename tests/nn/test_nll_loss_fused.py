"""The one-node nll_loss (2-D input, class indices, no weight) against PyTorch: every reduction,
ignore_index inside and outside the class range, rows all ignored, empty batches, float32
and float64, first and second order, and the out-of-range error."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import autodiff as ad
import autodiff.nn.functional as F
from autodiff.ops.nn_ops import NllLoss

torch = pytest.importorskip("torch")

CASES = list(itertools.product([0, 1, 5, 64], [1, 3, 10], [-100, 0, 2, 7],
                               ["mean", "sum", "none"]))


@pytest.mark.parametrize("n, c, ignore_index, reduction", CASES)
def test_nll_loss_vs_torch(cpu_device, n, c, ignore_index, reduction):
    rng = np.random.default_rng(n * 100 + c)
    for dtype in (np.float32, np.float64):
        x = rng.standard_normal((n, c)).astype(dtype)
        t = rng.integers(0, c, n)
        if ignore_index == 2 and n > 2 and c > 2:
            t[:2] = 2  # some rows ignored
        if ignore_index == 7 and n and c <= 7:
            t[:] = 7  # every row ignored: 'mean' is NaN
        tx = torch.tensor(x, requires_grad=True)
        want = torch.nn.functional.nll_loss(tx, torch.tensor(t), ignore_index=ignore_index,
                                            reduction=reduction)
        g = rng.standard_normal(tuple(want.shape)).astype(dtype)
        want.backward(torch.tensor(g))
        ax = ad.tensor(x, requires_grad=True, device=cpu_device)
        got = F.nll_loss(ax, ad.tensor(t, device=cpu_device), ignore_index=ignore_index,
                         reduction=reduction)
        assert isinstance(got.grad_fn, NllLoss) and got.grad_fn.name() == "NllLossBackward0"
        got.backward(ad.tensor(g, device=cpu_device))
        assert got.dtype.name == str(want.dtype).split(".")[-1]
        assert tuple(got.shape) == tuple(want.shape)
        np.testing.assert_allclose(got.numpy(), want.detach().numpy(), rtol=1e-6, atol=1e-6)
        np.testing.assert_allclose(ax.grad.numpy(), tx.grad.numpy(), rtol=1e-6, atol=1e-7)


def test_nll_loss_second_order_and_unbatched(cpu_device):
    t = ad.tensor([1, -100, 0], device=cpu_device)
    x = ad.randn(3, 4, dtype=ad.float64, device=cpu_device, requires_grad=True)
    assert ad.autograd.gradcheck(lambda x: F.nll_loss(x * x, t), (x,))
    assert ad.autograd.gradgradcheck(lambda x: F.nll_loss(x * x, t), (x,))
    v = ad.tensor([0.5, -1.0, 2.0], device=cpu_device)
    assert F.nll_loss(v, ad.tensor(1, device=cpu_device)).item() == 1.0
    assert F.nll_loss(v, ad.tensor(2, device=cpu_device), reduction="none").shape == ()


def test_nll_loss_bad_class(cpu_device):
    with pytest.raises(IndexError, match=r"in \[0, 4\) or ignore_index -100; got target 5"):
        F.nll_loss(ad.randn(3, 4, device=cpu_device), ad.tensor([1, 5, 0], device=cpu_device))
