"""Average pooling (a primitive with its own adjoint since the sixteenth session) against
PyTorch: every divisor rule, 1-D/2-D/3-D-batchless inputs, adaptive pooling's even-bin and
global paths, gradients, double backward and the argument checks."""

from __future__ import annotations

import numpy as np
import pytest

import autodiff as ad
import autodiff.nn.functional as F

torch = pytest.importorskip("torch")
TF = torch.nn.functional

# (input shape, kernel, stride, padding, ceil_mode, count_include_pad, divisor_override)
CASES = [
    ((2, 3, 8, 8), 2, None, 0, False, True, None),
    ((2, 3, 9, 7), 2, None, 0, False, True, None),
    ((2, 3, 9, 7), 2, None, 0, True, True, None),
    ((1, 2, 7, 9), 3, 1, 1, False, True, None),
    ((1, 2, 7, 9), 3, 1, 1, False, False, None),
    ((1, 2, 7, 9), 3, 2, 1, True, False, None),
    ((1, 2, 7, 9), 3, 2, 1, True, True, None),
    ((2, 1, 6, 11), (2, 3), (1, 2), (1, 1), True, False, None),
    ((2, 1, 6, 11), (3, 2), (2, 1), (0, 1), False, True, 5),
    ((1, 2, 10, 11), 3, None, 0, False, True, None),
    ((3, 9, 9), 3, 2, 1, False, False, None),  # batchless
    ((0, 2, 4, 4), 2, None, 0, False, True, None),  # no planes
]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shape,k,s,p,ceil,cip,override", CASES)
def test_avg_pool2d_matches_torch(cpu_device, dtype, shape, k, s, p, ceil, cip, override):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape).astype(dtype)
    xt = torch.tensor(x, requires_grad=True)
    yt = TF.avg_pool2d(xt, k, s, p, ceil, cip, override)
    g = rng.standard_normal(tuple(yt.shape)).astype(dtype)
    yt.backward(torch.tensor(g))
    xa = ad.tensor(x, requires_grad=True, device=cpu_device)
    ya = F.avg_pool2d(xa, k, s, p, ceil, cip, override)
    ya.backward(ad.tensor(g, device=cpu_device))
    tol = 1e-6 if dtype == "float32" else 1e-13
    assert ya.shape == tuple(yt.shape) and ya.dtype == getattr(ad, dtype)
    np.testing.assert_allclose(ya.numpy(), yt.detach().numpy(), rtol=tol, atol=tol)
    np.testing.assert_allclose(xa.grad.numpy(), xt.grad.numpy(), rtol=tol, atol=tol)


@pytest.mark.parametrize("size", [1, (2, 3), (3, None), (4, 6), (3, 4), (5, 5)])
def test_adaptive_avg_pool2d_matches_torch(cpu_device, size):
    x = np.random.default_rng(1).standard_normal((2, 3, 8, 12))
    xt = torch.tensor(x, requires_grad=True)
    yt = TF.adaptive_avg_pool2d(xt, size)
    (yt * yt).sum().backward()
    xa = ad.tensor(x, requires_grad=True, device=cpu_device)
    ya = F.adaptive_avg_pool2d(xa, size)
    (ya * ya).sum().backward()
    np.testing.assert_allclose(ya.numpy(), yt.detach().numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(xa.grad.numpy(), xt.grad.numpy(), rtol=1e-12, atol=1e-12)


def test_avg_pool1d_and_module_match_torch(cpu_device):
    x = np.random.default_rng(2).standard_normal((2, 3, 11)).astype(np.float32)
    got = F.avg_pool1d(ad.tensor(x, device=cpu_device), 3, 2, 1, True, False).numpy()
    np.testing.assert_allclose(got, TF.avg_pool1d(torch.tensor(x), 3, 2, 1, True, False),
                               rtol=1e-6, atol=1e-6)
    m = ad.nn.AvgPool2d(2, ceil_mode=True).to(cpu_device)
    xi = np.random.default_rng(3).standard_normal((1, 2, 5, 5)).astype(np.float32)
    np.testing.assert_allclose(m(ad.tensor(xi, device=cpu_device)).numpy(),
                               torch.nn.AvgPool2d(2, ceil_mode=True)(torch.tensor(xi)),
                               rtol=1e-6, atol=1e-6)


def test_avg_pool2d_gradcheck_and_double_backward(cpu_device):
    x = ad.tensor(np.random.default_rng(4).standard_normal((1, 2, 6, 7)), requires_grad=True,
                  device=cpu_device)
    for f in (lambda t: F.avg_pool2d(t, 3, 2, 1, True, False),
              lambda t: F.avg_pool2d(t, 2),
              lambda t: F.avg_pool2d(t, (2, 3), (1, 2), 1, divisor_override=4)):
        assert ad.autograd.gradcheck(f, (x,))
        assert ad.autograd.gradgradcheck(lambda t: f(t) ** 2, (x,))
    # the adjoint pair: d/dg <avg_pool(x), g> is the spread of g, whose own gradient is a pool
    (gx,) = ad.autograd.grad(F.avg_pool2d(x, 3, 1, 1).pow(2).sum(), x, create_graph=True)
    (ggx,) = ad.autograd.grad(gx.sum(), x)
    xt = torch.tensor(x.numpy(), requires_grad=True)
    (gxt,) = torch.autograd.grad(TF.avg_pool2d(xt, 3, 1, 1).pow(2).sum(), xt,
                                 create_graph=True)
    (ggxt,) = torch.autograd.grad(gxt.sum(), xt)
    np.testing.assert_allclose(ggx.numpy(), ggxt.numpy(), rtol=1e-12, atol=1e-12)


def test_avg_pool2d_of_integers_and_bad_arguments(cpu_device):
    x = ad.arange(16, device=cpu_device).reshape(1, 1, 4, 4).float()
    np.testing.assert_array_equal(F.avg_pool2d(x, 2).numpy(),
                                  TF.avg_pool2d(torch.arange(16.).reshape(1, 1, 4, 4), 2))
    with pytest.raises(ValueError, match="divisor_override must be non-zero"):
        F.avg_pool2d(x, 2, divisor_override=0)
    with pytest.raises(ValueError, match="at most half of effective kernel size"):
        F.avg_pool2d(x, 2, padding=2)
    with pytest.raises(ValueError, match="3-D .* or 4-D"):
        F.avg_pool2d(x[0, 0], 2)
