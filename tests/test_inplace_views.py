"""In-place ops through views under autograd (PyTorch's CopySlices) give the gradients of
the equivalent out-of-place program."""

from __future__ import annotations

import numpy as np
import pytest

import autodiff as ad


def _grads_inplace(device):
    x = ad.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], dtype=ad.float64, device=device,
                  requires_grad=True)
    h = x * 2
    h[:, 0] *= 3  # getitem view, mul_ through it
    v = h[1]
    v.add_(x[0] ** 2)  # a second view, an in-place op with a grad-requiring operand
    (h * h).sum().backward()
    return h.detach().numpy().copy(), x.grad.numpy().copy()


def _grads_outofplace(device):
    x = ad.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], dtype=ad.float64, device=device,
                  requires_grad=True)
    h = x * 2
    scale = ad.tensor([[3.0, 1.0, 1.0], [3.0, 1.0, 1.0]], dtype=ad.float64, device=device)
    h = h * scale
    h = ad.stack([h[0], h[1] + x[0] ** 2])
    (h * h).sum().backward()
    return h.detach().numpy().copy(), x.grad.numpy().copy()


def test_inplace_through_views_matches_out_of_place(cpu_device):
    h1, g1 = _grads_inplace(cpu_device)
    h2, g2 = _grads_outofplace(cpu_device)
    np.testing.assert_allclose(h1, h2)
    np.testing.assert_allclose(g1, g2)


def test_inplace_through_views_matches_torch(cpu_device, torch):
    x = torch.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], dtype=torch.float64,
                     requires_grad=True)
    h = x * 2
    h[:, 0] *= 3
    h[1].add_(x[0] ** 2)
    (h * h).sum().backward()
    np.testing.assert_allclose(_grads_inplace(cpu_device)[1], x.grad.numpy())


def test_view_of_leaf_requiring_grad_raises(cpu_device):
    x = ad.ones(3, device=cpu_device, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf"):
        x[:2].mul_(2)


def test_setitem_on_non_leaf_records(cpu_device):
    x = ad.tensor([1.0, 2.0, 3.0], dtype=ad.float64, device=cpu_device, requires_grad=True)
    h = x * 1
    h[1] = x[0] * 5
    h.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [6.0, 0.0, 1.0])


def test_sibling_view_sees_inplace_through_another_view(cpu_device, torch):
    def run(lib, **kw):
        x = lib.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], dtype=lib.float64,
                       requires_grad=True, **kw)
        h = x * 2
        v1, v2 = h[0], h[:, 1]  # overlapping views of one base
        v1.mul_(3)  # through v1 only
        (v2 * v2).sum().backward()  # v2's grad_fn must be re-derived from the new base
        return x.grad.numpy()

    np.testing.assert_allclose(run(ad, device=cpu_device), run(torch))


def test_view_sees_inplace_on_its_base(cpu_device):
    x = ad.tensor([1.0, 2.0, 3.0], dtype=ad.float64, device=cpu_device, requires_grad=True)
    h = x * 1
    v = h[1:]
    h.mul_(x)  # h = x * x, in place on the base
    v.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [0.0, 4.0, 6.0])
