"""The gradient of a gather along one axis (x[rows], x[:, cols], x[..., cols], nearest
upsampling) is a row scatter on every backend: repeated and negative indices accumulate, as
PyTorch's index backward.  Linear upsampling is one lerp along each axis (ops.indexing's
LerpAlong), its adjoint one scatter."""

import numpy as np
import pytest

import autodiff as ad

torch = pytest.importorskip("torch")

_INDEXES = {
    "rows": lambda x, i: x[i],
    "cols": lambda x, i: x[:, i],
    "last": lambda x, i: x[:, :, i],
    "ellipsis": lambda x, i: x[..., i],
    "cols_2d_index": lambda x, i: x[:, i.reshape(2, -1)],
}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", list(_INDEXES))
def test_gather_along_an_axis_backward_matches_torch(device, dtype, name):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((6, 5, 4)).astype(dtype)
    idx = np.array([0, -1, 2, 2, 3, 0])  # repeats and a negative index
    f = _INDEXES[name]
    xt = torch.tensor(x, requires_grad=True)
    yt = f(xt, torch.tensor(idx))
    g = rng.standard_normal(tuple(yt.shape)).astype(dtype)
    yt.backward(torch.tensor(g))
    xa = ad.tensor(x, device=device, requires_grad=True)
    ya = f(xa, idx)
    ya.backward(ad.tensor(g, device=device))
    np.testing.assert_allclose(ya.detach().numpy(), yt.detach().numpy())
    np.testing.assert_allclose(xa.grad.numpy(), xt.grad.numpy(), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("mode", ["nearest", "bilinear"])
def test_upsampling_gradients_match_torch(device, mode):
    x = np.random.default_rng(4).standard_normal((2, 3, 5, 7)).astype(np.float32)
    xt = torch.tensor(x, requires_grad=True)
    torch.nn.functional.interpolate(xt, scale_factor=2.5, mode=mode).pow(2).sum().backward()
    xa = ad.tensor(x, device=device, requires_grad=True)
    ad.nn.functional.interpolate(xa, scale_factor=2.5, mode=mode).pow(2).sum().backward()
    np.testing.assert_allclose(xa.grad.numpy(), xt.grad.numpy(), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("align_corners", [False, True])
@pytest.mark.parametrize("mode,shape,size", [("linear", (2, 3, 5), (9,)),
                                             ("bilinear", (2, 3, 5, 4), (7, 9)),
                                             ("bilinear", (1, 2, 6, 6), (3, 4)),
                                             ("trilinear", (1, 2, 3, 4, 2), (5, 3, 4))])
def test_linear_modes_match_torch_and_second_derivatives(device, mode, shape, size,
                                                         align_corners):
    x = np.random.default_rng(5).standard_normal(shape)
    xt = torch.tensor(x, requires_grad=True)
    yt = torch.nn.functional.interpolate(xt, size=size, mode=mode, align_corners=align_corners)
    (yt ** 3).sum().backward()
    xa = ad.tensor(x, device=device, requires_grad=True)
    ya = ad.nn.functional.interpolate(xa, size=size, mode=mode, align_corners=align_corners)
    (ya ** 3).sum().backward()
    np.testing.assert_allclose(ya.detach().numpy(), yt.detach().numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(xa.grad.numpy(), xt.grad.numpy(), rtol=1e-10, atol=1e-10)
    small = ad.tensor(x, device=device, requires_grad=True)

    def f(t):
        return ad.nn.functional.interpolate(t, size=size, mode=mode,
                                            align_corners=align_corners) ** 2

    assert ad.autograd.gradgradcheck(f, (small,))
