"""Creation functions: dtype inference like PyTorch, shapes in every form, ranges, random
numbers and seeding, NumPy/DLPack sharing, the *_like and new_* forms."""

from __future__ import annotations

import numpy as np
import pytest

import autodiff as ad


@pytest.mark.parametrize("data,dtype", [
    (1.5, ad.float32), ([1.0, 2.0], ad.float32), ([1, 2], ad.int64), (3, ad.int64),
    ([True, False], ad.bool), (True, ad.bool), ([1, 2.5], ad.float32), ([], ad.float32),
    ([[1, 2], [3, 4]], ad.int64), (np.array([1.0, 2.0]), ad.float64),
    (np.array([1, 2], dtype=np.int32), ad.int32), (np.float64(2.0), ad.float64),
    (np.array([1.0], dtype=np.float16), ad.float16),
], ids=["float", "floats", "ints", "int", "bools", "bool", "mixed", "empty", "nested",
        "np_f64", "np_i32", "np_scalar_f64", "np_f16"])
def test_tensor_dtype_inference(data, dtype, device):
    t = ad.tensor(data, device=device)
    assert t.dtype is dtype
    assert t.device == ad.device(device)
    np.testing.assert_array_equal(t.cpu().numpy(), np.asarray(data, dtype=dtype.np))


def test_tensor_explicit_dtype_and_requires_grad(device):
    t = ad.tensor([1, 2], dtype=ad.float64, device=device, requires_grad=True)
    assert t.dtype is ad.float64 and t.requires_grad and t.is_leaf
    with pytest.raises(RuntimeError, match="floating point"):
        ad.tensor([1, 2], device=device, requires_grad=True)


def test_tensor_copies_its_data(device):
    a = np.zeros(3)
    t = ad.tensor(a, device=device)
    a[0] = 5
    assert t.tolist() == [0.0, 0.0, 0.0]


def test_tensor_from_tensors_and_nested_tensors(device):
    a = ad.tensor([1.0, 2.0], device=device)
    b = ad.tensor(a)
    b.add_(1)
    assert a.tolist() == [1.0, 2.0]
    c = ad.tensor([ad.tensor(1.0), ad.tensor(2.0)], device=device)
    assert c.tolist() == [1.0, 2.0]


@pytest.mark.parametrize("fn,value", [(ad.zeros, 0), (ad.ones, 1)], ids=["zeros", "ones"])
def test_fill_creation_shape_forms(fn, value, device):
    for args in [(2, 3), ((2, 3),), ([2, 3],)]:
        t = fn(*args, device=device)
        assert t.shape == (2, 3) and t.dtype is ad.float32 and (t.cpu().numpy() == value).all()
    assert fn(2, dtype=ad.int32, device=device).dtype is ad.int32
    assert fn((), device=device).shape == ()
    assert fn(0, 3, device=device).shape == (0, 3)


def test_empty_and_full(device):
    assert ad.empty(2, 3, device=device).shape == (2, 3)
    assert ad.full((2,), 7, device=device).dtype is ad.int64
    assert ad.full((2,), 7.0, device=device).dtype is ad.float32
    assert ad.full((2,), True, device=device).dtype is ad.bool
    assert ad.full((2, 2), 1.5, dtype=ad.float64, device=device).tolist() == [[1.5] * 2] * 2
    assert ad.full(3, 2.0, device=device).shape == (3,)


def test_like_forms(device):
    ref = ad.ones(2, 3, dtype=ad.float64, device=device)
    for fn in (ad.zeros_like, ad.ones_like, ad.empty_like, ad.rand_like, ad.randn_like):
        t = fn(ref)
        assert t.shape == (2, 3) and t.dtype is ad.float64 and t.device == ref.device
    assert ad.full_like(ref, 4).tolist() == [[4.0] * 3] * 2
    assert ad.zeros_like(ref, dtype=ad.int32).dtype is ad.int32
    assert ad.ones_like(ref, requires_grad=True).requires_grad


def test_new_forms(device):
    ref = ad.ones(2, dtype=ad.float64, device=device)
    for t in (ref.new_zeros(3, 4), ref.new_ones((3, 4)), ref.new_empty(3, 4),
              ref.new_full((3, 4), 2.0)):
        assert t.shape == (3, 4) and t.dtype is ad.float64 and t.device == ref.device
    assert ref.new_full((2,), 2.0).tolist() == [2.0, 2.0]
    t = ref.new_tensor([1, 2])
    assert t.dtype is ad.float64 and t.device == ref.device and t.tolist() == [1.0, 2.0]
    assert ref.new_zeros(2, dtype=ad.int64).dtype is ad.int64


@pytest.mark.parametrize("args,kwargs,expected,dtype", [
    ((5,), {}, np.arange(5), ad.int64),
    ((1, 7, 2), {}, np.arange(1, 7, 2), ad.int64),
    ((0.0, 1.0, 0.25), {}, np.arange(0, 1, 0.25), ad.float32),
    ((0, 1, 0.1), {}, np.arange(10) * 0.1, ad.float32),
    ((3,), {"dtype": ad.float64}, np.arange(3.0), ad.float64),
    ((5, 0, -2), {}, np.array([5, 3, 1]), ad.int64),
], ids=["n", "start_stop_step", "float_step", "tenth", "dtype", "negative"])
def test_arange(args, kwargs, expected, dtype, device):
    t = ad.arange(*args, device=device, **kwargs)
    assert t.dtype is dtype
    np.testing.assert_allclose(t.cpu().numpy(), expected, rtol=1e-6)


def test_linspace_and_eye(device):
    np.testing.assert_allclose(ad.linspace(0, 1, 5, device=device).cpu().numpy(),
                               np.linspace(0, 1, 5), rtol=1e-6)
    assert ad.linspace(0, 1, 5).dtype is ad.float32
    assert ad.eye(3, device=device).tolist() == np.eye(3).tolist()
    assert ad.eye(2, 3, device=device).shape == (2, 3)
    assert ad.eye(2, dtype=ad.int64).dtype is ad.int64


def test_random_shapes_ranges_and_dtypes(device):
    r = ad.rand(1000, device=device)
    assert r.dtype is ad.float32 and 0 <= r.cpu().numpy().min() and r.cpu().numpy().max() < 1
    n = ad.randn(2000, dtype=ad.float64, device=device)
    n_host = n.cpu().numpy()
    assert n.dtype is ad.float64 and abs(n_host.mean()) < 0.1 and abs(n_host.std() - 1) < 0.1
    i = ad.randint(3, 7, (100,), device=device)
    assert i.dtype is ad.int64 and i.cpu().numpy().min() >= 3 and i.cpu().numpy().max() < 7
    assert ad.randint(5, (2, 3), device=device).shape == (2, 3)
    assert sorted(ad.randperm(6, device=device).tolist()) == list(range(6))
    assert ad.rand(2, 3, device=device).shape == (2, 3) and ad.randn((4,)).shape == (4,)


def test_manual_seed_reproducibility(device):
    ad.manual_seed(123)
    a = [ad.rand(3, device=device).tolist(), ad.randn(3, device=device).tolist(),
         ad.randint(0, 100, (3,), device=device).tolist()]
    ad.manual_seed(123)
    b = [ad.rand(3, device=device).tolist(), ad.randn(3, device=device).tolist(),
         ad.randint(0, 100, (3,), device=device).tolist()]
    assert a == b
    assert ad.initial_seed() == 123
    c = ad.rand(3, device=device).tolist()
    assert c != a[0]


def test_generator_is_independent_of_global_seed(device):
    g1, g2 = ad.Generator().manual_seed(7), ad.Generator().manual_seed(7)
    ad.manual_seed(0)
    x = ad.randn(4, generator=g1, device=device)
    ad.rand(10)
    y = ad.randn(4, generator=g2, device=device)
    assert x.tolist() == y.tolist()


def test_multinomial(device):
    p = ad.tensor([[0.0, 1.0, 0.0], [0.5, 0.0, 0.5]], device=device)
    s = ad.multinomial(p, 4, replacement=True)
    assert s.shape == (2, 4) and s.dtype is ad.int64
    assert set(s[0].tolist()) == {1} and set(s[1].tolist()) <= {0, 2}
    s = ad.multinomial(ad.tensor([1.0, 2.0, 3.0], device=device), 3)
    assert sorted(s.tolist()) == [0, 1, 2]
    ad.manual_seed(5)
    a = ad.multinomial(ad.ones(10, device=device), 5).tolist()
    ad.manual_seed(5)
    assert ad.multinomial(ad.ones(10, device=device), 5).tolist() == a
    with pytest.raises(RuntimeError, match="without replacement"):
        ad.multinomial(ad.tensor([1.0, 0.0], device=device), 2)
    with pytest.raises(RuntimeError, match="non-negative"):
        ad.multinomial(ad.tensor([1.0, -1.0], device=device), 1)


def test_from_numpy_shares_memory():
    a = np.arange(4.0)
    t = ad.from_numpy(a)
    assert t.dtype is ad.float64 and t.device.type in ("numpy", "cpp")
    a[0] = 10
    assert t[0].item() == 10
    t.add_(1)
    assert a[1] == 2
    assert t.numpy() is a or np.shares_memory(t.numpy(), a)
    with pytest.raises(TypeError, match="ndarray"):
        ad.from_numpy([1, 2])


def test_from_numpy_rejects_unsupported_dtype():
    with pytest.raises(TypeError, match="complex128"):
        ad.from_numpy(np.zeros(2, dtype=np.complex128))


def test_as_tensor_shares_when_it_can():
    a = np.arange(3.0)
    t = ad.as_tensor(a)
    a[0] = 7
    assert t[0].item() == 7
    assert ad.as_tensor(t) is t


def test_dlpack_round_trip_with_numpy(cpu_device):
    t = ad.arange(6.0, device=cpu_device).reshape(2, 3)  # NumPy takes only host DLPack
    a = np.from_dlpack(t)
    assert a.shape == (2, 3) and np.shares_memory(a, t.numpy())
    back = ad.from_dlpack(a)
    assert back.tolist() == t.tolist() and np.shares_memory(back.numpy(), a)
    assert t.__dlpack_device__()[0] == 1  # kDLCPU


def test_default_dtype():
    assert ad.get_default_dtype() is ad.float32
    ad.set_default_dtype(ad.float64)
    try:
        assert ad.tensor([1.0]).dtype is ad.float64
        assert ad.zeros(2).dtype is ad.float64
        assert ad.randn(2).dtype is ad.float64
        assert ad.arange(0, 1, 0.5).dtype is ad.float64
        assert (ad.tensor([1]) / 2).dtype is ad.float64
        assert ad.tensor([1]).exp().dtype is ad.float64
    finally:
        ad.set_default_dtype(ad.float32)
    assert ad.tensor([1.0]).dtype is ad.float32
    with pytest.raises(TypeError, match="floating"):
        ad.set_default_dtype(ad.int64)
