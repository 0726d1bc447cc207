"""x ** 3 as one C++ kernel each way (ActOp kCube) and lerp with a number weight as one C++
pass: bitwise PyTorch's products / fma, forward and
gradient, at every SIMD level, with double backward through the Tensor formula."""

from __future__ import annotations

import numpy as np
import pytest

import autodiff as ad

torch = pytest.importorskip("torch")
_C = pytest.importorskip("autodiff._C")


def _inputs(dtype):
    rng = np.random.default_rng(3)
    x = (rng.standard_normal(1031) * 10).astype(dtype)
    x[:8] = [np.nan, np.inf, -np.inf, 0.0, -0.0, 1e20, -1e-30, 3e12]
    return x, rng.standard_normal(1031).astype(dtype)


@pytest.mark.parametrize("level", _C.supported_simd_levels())
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("exponent", [3, 3.0])
@pytest.mark.parametrize("device", ["cpp", "numpy"])
def test_cube_bitwise_torch(level, dtype, exponent, device):
    before = _C.simd_level()
    _C.set_simd(level)
    try:
        x, g = _inputs(dtype)
        xa = ad.tensor(x, device=device, requires_grad=True)
        xt = torch.tensor(x, requires_grad=True)
        ya, yt = xa ** exponent, xt ** exponent
        ya.backward(ad.tensor(g, device=device))
        yt.backward(torch.tensor(g))
        np.testing.assert_array_equal(ya.detach().numpy(), yt.detach().numpy())
        np.testing.assert_array_equal(xa.grad.numpy(), xt.grad.numpy())
    finally:
        _C.set_simd(before)


def test_cube_double_backward_and_other_dtypes():
    x = np.array([-2.5, -1.0, 0.0, 0.5, 3.0])
    xa, xt = ad.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    (ga,) = ad.autograd.grad((xa ** 3).sum(), xa, create_graph=True)
    (gt,) = torch.autograd.grad((xt ** 3).sum(), xt, create_graph=True)
    np.testing.assert_allclose(ga.detach().numpy(), gt.detach().numpy())
    (gga,) = ad.autograd.grad((ga * ga).sum(), xa)
    (ggt,) = torch.autograd.grad((gt * gt).sum(), xt)
    np.testing.assert_allclose(gga.numpy(), ggt.numpy())
    assert (ad.tensor([1, -2, 3]) ** 3).tolist() == [1, -8, 27]  # ints stay integer products
    assert (ad.tensor([1, -2, 3]) ** 3).dtype == ad.int64
    assert ad.pow(ad.tensor([2.0]), 3).item() == 8.0


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("w", [0.0, 0.3, 0.5, 0.75, 1.0, -0.25, 2.0])
def test_lerp_scalar_weight_bitwise_torch(dtype, w):
    """torch.lerp with a number weight: one C++ fma per element on cpp, bit for bit what
    PyTorch's vectorised loop computes (arrays long enough to take it); gradients too."""
    rng = np.random.default_rng(5)
    a, b = rng.standard_normal(4096).astype(dtype), (rng.standard_normal(4096) * 50).astype(dtype)
    a[:3], b[:3] = [np.inf, np.nan, 1.0], [1.0, 2.0, np.inf]
    xa, ya = ad.tensor(a, requires_grad=True), ad.tensor(b, requires_grad=True)
    xt, yt = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    ra, rt = ad.lerp(xa, ya, w), torch.lerp(xt, yt, w)
    np.testing.assert_array_equal(ra.detach().numpy(), rt.detach().numpy())
    g = rng.standard_normal(4096).astype(dtype)
    ra.backward(ad.tensor(g))
    rt.backward(torch.tensor(g))
    np.testing.assert_array_equal(xa.grad.numpy(), xt.grad.numpy())
    np.testing.assert_array_equal(ya.grad.numpy(), yt.grad.numpy())
