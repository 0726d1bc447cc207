"""Fixes from a PyTorch-parity audit of tensor ops (fourteenth session): PyTorch's
var/std(input, unbiased) overload, a bool refused as a dim, float16 var/std/norm accumulated
in float32, bare @no_grad / @enable_grad decorators, and NumPy float scalars in lists keeping
their precision."""

from __future__ import annotations

import numpy as np
import pytest

import autodiff as ad

torch = pytest.importorskip("torch")

DEVICES = ["numpy", "cpp"]
DATA = [[1.0, 2.0, 3.0], [4.0, 5.0, 9.0]]


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("name", ["var", "std"])
@pytest.mark.parametrize("args", [(False,), (True,), (1, False), (0, True, True), ()])
def test_var_std_unbiased_overload(device, name, args):
    got = getattr(ad.tensor(DATA, device=device), name)(*args)
    want = getattr(torch.tensor(DATA), name)(*args)
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-6)
    assert got.shape == tuple(want.shape)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("name", ["var_mean", "std_mean"])
@pytest.mark.parametrize("args", [(False,), (1, False), (1, True, True)])
def test_var_mean_std_mean_positional(device, name, args):
    got = getattr(ad, name)(ad.tensor(DATA, device=device), *args)
    want = getattr(torch, name)(torch.tensor(DATA), *args)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g.numpy(), w.numpy(), rtol=1e-6)


@pytest.mark.parametrize("name", ["sum", "mean", "amax", "max", "argmax", "softmax"])
def test_bool_is_not_a_dim(name):
    with pytest.raises(TypeError, match="bool"):
        getattr(ad.tensor(DATA), name)(True)


@pytest.mark.parametrize("device", DEVICES)
def test_float16_var_std_norm_accumulate_in_float32(device):
    h = np.random.RandomState(0).randn(300, 300).astype(np.float16)
    x = ad.tensor(h, device=device, requires_grad=True)
    t = torch.tensor(h)
    for got, want in ((x.var(), t.var()), (x.std(), t.std()), (x.norm(), t.norm()),
                      (x.var(1), t.var(1)), (x.std(0, keepdim=True), t.std(0, keepdim=True))):
        assert got.dtype == ad.float16
        np.testing.assert_allclose(got.detach().numpy().astype(np.float32),
                                   want.numpy().astype(np.float32), rtol=2e-3)
    big = np.array([1000, 3000, -2000], np.float16)  # its variance overflows float16
    np.testing.assert_allclose(float(ad.tensor(big, device=device).std()),
                               float(torch.tensor(big).std()), rtol=2e-3)
    assert float(ad.full((1000,), 300.0, dtype=ad.float16, device=device).norm()) == 9488.0
    x.std().backward()
    assert x.grad.dtype == ad.float16 and np.isfinite(x.grad.numpy()).all()


def test_bare_grad_mode_decorators():
    @ad.no_grad
    def double(x):
        return x * 2

    x = ad.ones(2, requires_grad=True)
    assert not double(x).requires_grad and double.__name__ == "double"
    with ad.no_grad():
        @ad.enable_grad
        def triple(x):
            return x * 3

        assert triple(x).requires_grad
    with ad.no_grad() as mode:
        assert isinstance(mode, ad.no_grad) and not (x * 2).requires_grad


@pytest.mark.parametrize("data", [
    [np.float64(1.5)], [[np.float64(1.0)], [np.float64(2.0)]], [np.float64(1.5), 2.0],
    [np.float32(1.5), 2.0], [np.float16(1.5), 2.0], [np.float16(1.5)],
    [np.float32(1), np.float64(2)], [np.float64(1), 2], [1.5], [np.int64(2)]])
def test_numpy_scalars_in_lists_keep_their_dtype(data):
    assert ad.tensor(data).dtype.name == str(torch.tensor(data).dtype).split(".")[1]


@pytest.mark.parametrize("args", [(-5, 5, 4), (0, 1, 5), (-3.7, 2, 5), (2.9, -7.5, 6), (0, 10, 1)])
@pytest.mark.parametrize("dtype", ["int64", "int32"])
def test_integer_linspace_truncates_as_pytorch(args, dtype):
    got = ad.linspace(*args, dtype=getattr(ad, dtype))
    want = torch.linspace(*args, dtype=getattr(torch, dtype))
    assert got.dtype.name == dtype and got.numpy().tolist() == want.tolist()


@pytest.mark.parametrize("device", DEVICES)
def test_flip_varargs_size_keyword_and_numpy_force(device):
    x, t = ad.arange(24, device=device).reshape(2, 3, 4), torch.arange(24).reshape(2, 3, 4)
    for got, want in ((x.flip(0, 2), t.flip(0, 2)), (x.flip(1), t.flip(1)),
                      (ad.flip(x, (0, 1)), torch.flip(t, (0, 1))), (x.flip([2]), t.flip([2]))):
        np.testing.assert_array_equal(got.numpy(), want.numpy())
    for make in ("zeros", "ones", "empty"):
        assert getattr(ad, make)(size=(2, 3), device=device).shape == (2, 3)
        with pytest.raises(TypeError):
            getattr(ad, make)(2, size=(2, 3))
    w = ad.ones(2, device=device, requires_grad=True)
    np.testing.assert_array_equal(w.numpy(force=True), [1.0, 1.0])


@pytest.mark.parametrize("device", DEVICES)
def test_hook_may_not_change_the_gradient_shape(device):
    x = ad.tensor([1.0, 2.0], device=device, requires_grad=True)
    x.register_hook(lambda g: g.sum())  # on a leaf
    with pytest.raises(RuntimeError, match="changed the size"):
        (x * 3).sum().backward()
    y = ad.tensor([1.0, 2.0], device=device, requires_grad=True)
    z = y * 2
    z.register_hook(lambda g: g[:1])  # on an intermediate
    with pytest.raises(RuntimeError, match="changed the size"):
        z.sum().backward()
    w = ad.tensor([1.0, 2.0], device=device, requires_grad=True)
    w.register_hook(lambda g: g * 2)
    (w * 3).sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), [6.0, 6.0])
