"""The fused cross-entropy node (2-D logits, class indices) against the composite formula,
first and second order, with ignore_index and every reduction."""

from __future__ import annotations

import numpy as np
import pytest

import autodiff as ad
import autodiff.nn.functional as F
from autodiff.ops.nn_ops import CrossEntropy


def _composite(x, t, ignore_index, reduction):
    valid = (t != ignore_index).to(x.dtype)
    safe = ad.where(t != ignore_index, t, 0)
    loss = -x.log_softmax(1).gather(1, safe.unsqueeze(1)).squeeze(1) * valid
    if reduction == "none":
        return loss
    return loss.sum() if reduction == "sum" else loss.sum() / valid.sum()


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_fused_matches_composite(cpu_device, reduction):
    rng = np.random.default_rng(0)
    xs = rng.standard_normal((6, 4))
    t = ad.tensor([0, 3, -100, 1, 1, 2], device=cpu_device)
    x1 = ad.tensor(xs, device=cpu_device, requires_grad=True)
    x2 = ad.tensor(xs, device=cpu_device, requires_grad=True)
    y1 = F.cross_entropy(x1, t, reduction=reduction)
    assert isinstance(y1.grad_fn, CrossEntropy)  # the fast path ran
    y2 = _composite(x2, t, -100, reduction)
    np.testing.assert_allclose(y1.detach().numpy(), y2.detach().numpy(), rtol=1e-12)
    (y1.sum() if reduction == "none" else y1).backward()
    (y2.sum() if reduction == "none" else y2).backward()
    np.testing.assert_allclose(x1.grad.numpy(), x2.grad.numpy(), rtol=1e-12, atol=1e-14)


def test_fused_second_order(cpu_device):
    t = ad.tensor([0, 2, 1], device=cpu_device)
    x = ad.tensor(np.random.default_rng(1).standard_normal((3, 3)), device=cpu_device,
                  requires_grad=True)
    assert ad.autograd.gradcheck(lambda x: F.cross_entropy(x, t), (x,))
    assert ad.autograd.gradgradcheck(lambda x: F.cross_entropy(x, t), (x,))


def test_fused_rejects_out_of_range_targets(cpu_device):
    x = ad.zeros(2, 3, device=cpu_device)
    with pytest.raises(IndexError, match=r"\[0, 3\)"):
        F.cross_entropy(x, ad.tensor([0, 3], device=cpu_device))


def test_fused_offset_logits_float32(cpu_device):
    """Logits offset by 1e6 in float32: loss and gradient as the float64 composite. The row
    max and log-sum travel apart to the backward; their sum rounded to float32 (ulp 0.0625)
    put relative errors of up to 3% into every probability."""
    rng = np.random.default_rng(2)
    xs = (rng.standard_normal((8, 30)) + 1e6).astype(np.float32)
    t = ad.tensor(rng.integers(0, 30, 8), device=cpu_device)
    x32 = ad.tensor(xs, device=cpu_device, requires_grad=True)
    x64 = ad.tensor(xs.astype(np.float64), device=cpu_device, requires_grad=True)
    y32, y64 = F.cross_entropy(x32, t), _composite(x64, t, -100, "mean")
    y32.backward()
    y64.backward()
    np.testing.assert_allclose(y32.item(), y64.item(), rtol=2e-6)
    np.testing.assert_allclose(x32.grad.numpy(), x64.grad.numpy(), rtol=1e-5, atol=1e-8)
