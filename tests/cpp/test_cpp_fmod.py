"""_C.fmod / _C.remainder (exact, PyTorch's CPU semantics) against NumPy and PyTorch on every
SIMD level: special values, odd sizes, broadcasting, views, zero-size; the cpp backend's
float_remainder and the gradients of fmod / remainder on the cpp device."""

from __future__ import annotations

import numpy as np
import pytest
from cpp_helpers import ODD_SIZES, C, num_threads

import autodiff as ad

cpp_backend = pytest.importorskip("autodiff.backends.cpp_backend")

SPECIAL = [
    0.0,
    -0.0,
    np.inf,
    -np.inf,
    np.nan,
    1e-45,
    -1e-45,
    1e-38,
    1e-310,
    3e38,
    -3e38,
    1e300,
    1.0,
    -1.0,
    0.7,
    -0.7,
    2.5,
    -2.5,
    1e10,
    -1e10,
    7.0,
    -7.0,
    1e-30,
    16777217.0,
    2.0**52 + 1,
    6.0,
    0.1,
]


def _bits(x):
    x = np.asarray(x)
    return x.view(np.uint32 if x.dtype == np.float32 else np.uint64)


def assert_same(got, want):
    """Equal bit for bit, NaN for NaN (whatever its sign and payload)."""
    got, want = np.asarray(got), np.asarray(want)
    assert got.shape == want.shape and got.dtype == want.dtype
    nan = np.isnan(want)
    np.testing.assert_array_equal(np.isnan(got), nan)
    np.testing.assert_array_equal(_bits(got)[~nan], _bits(want)[~nan])


def _ref(op, a, b):
    """C's fmod (NumPy's, exact), and PyTorch's remainder formula on it in the dtype."""
    with np.errstate(all="ignore"):
        r = np.fmod(a, b)
        if op == "remainder":
            b = np.broadcast_to(b, r.shape)
            r = np.where((r != 0) & ((r < 0) != (b < 0)), r + b, r)
    return r


def _operands(rng, shape, dtype):
    a = (rng.standard_normal(shape) * np.exp(rng.uniform(-8, 8, shape))).astype(dtype)
    b = (rng.standard_normal(shape) * np.exp(rng.uniform(-4, 4, shape))).astype(dtype)
    return a, b


@pytest.mark.parametrize("op", ["fmod", "remainder"])
def test_special_values_against_torch(simd, dtype, op):
    """Every pair of special values, as PyTorch's scalar kernel (C's fmod); its vector kernel
    gives NaN for float32 quotients beyond float32's range (fmod(3e38, 0.7)), which C's fmod,
    NumPy and this kernel give exactly."""
    torch = pytest.importorskip("torch")
    with np.errstate(all="ignore"):
        s = np.array(SPECIAL).astype(dtype)
    a, b = np.meshgrid(s, s, indexing="ij")
    got = getattr(C, op)(a, b)
    assert_same(got, _ref(op, a, b))
    want = np.array(
        [[getattr(torch, op)(torch.tensor(x), torch.tensor(y)).item() for y in s] for x in s], dtype
    )
    assert_same(got, want)


@pytest.mark.parametrize("op", ["fmod", "remainder"])
def test_random_against_torch_vector_kernel(dtype, op):
    torch = pytest.importorskip("torch")
    a, b = _operands(np.random.default_rng(0), (64, 129), dtype)
    want = getattr(torch, op)(torch.from_numpy(a), torch.from_numpy(b)).numpy()
    assert_same(getattr(C, op)(a, b), want)
    assert_same(
        getattr(C, op)(a, np.array(0.7, dtype)),
        getattr(torch, op)(torch.from_numpy(a), 0.7).numpy(),
    )


@pytest.mark.parametrize("op", ["fmod", "remainder"])
@pytest.mark.parametrize("n", ODD_SIZES + (4099,))
def test_odd_sizes_and_broadcasting(simd, dtype, op, n):
    rng = np.random.default_rng(n)
    a, b = _operands(rng, (3, n), dtype)
    a[0, : n // 2] = a[1, : n // 2] * 7  # quotients near integers; some exact multiples
    b[0, : n // 2] = a[1, : n // 2]
    f = getattr(C, op)
    assert_same(f(a, b), _ref(op, a, b))
    for x, y in ((a, b[:1]), (a[:, :1], b), (a[0], b[:, :1]), (a, b[0, 0]), (a[1, 0], b)):
        x, y = np.asarray(x), np.asarray(y)
        assert_same(f(x, y), _ref(op, x, y))


@pytest.mark.parametrize("op", ["fmod", "remainder"])
def test_large_quotients_take_libm_exactly(simd, dtype, op):
    """|a / b| >= 2^52, b = 0 and b = inf lanes mixed into vectors of ordinary ones."""
    rng = np.random.default_rng(7)
    a, b = _operands(rng, (1000,), dtype)
    a[::7] = np.finfo(dtype).max / 3
    b[::11] = np.finfo(dtype).tiny
    b[::13] = 0.0
    b[::17] = -np.inf
    assert_same(getattr(C, op)(a, b), _ref(op, a, b))


@pytest.mark.parametrize("op", ["fmod", "remainder"])
def test_views_threads_and_empty(dtype, op):
    rng = np.random.default_rng(3)
    a, b = _operands(rng, (130, 257), dtype)
    f = getattr(C, op)
    with num_threads(2):
        for x, y in ((a.T, b.T), (a[::2, 1::3], b[1::2, ::3]), (a[::-1], b), (a.T, b[:1].T)):
            assert_same(f(x, y), _ref(op, x, y))
    for shape in ((0,), (0, 5), (3, 0)):
        e = np.zeros(shape, dtype)
        assert f(e, e).shape == shape and f(e, np.ones(1, dtype)).shape == shape


def test_errors():
    x = np.ones((2, 3), np.float32)
    with pytest.raises(
        TypeError, match="fmod: operands must have the same dtype, got float32 and float64"
    ):
        C.fmod(x, x.astype(np.float64))
    with pytest.raises(
        TypeError, match="remainder: expected a float32 or float64 array, got int64"
    ):
        C.remainder(x.astype(np.int64), x.astype(np.int64))
    with pytest.raises(
        ValueError,
        match=r"fmod: operands could not be broadcast together "
        r"with shapes \(2, 3\) and \(4,\)",
    ):
        C.fmod(x, np.ones(4, np.float32))


def test_backend_routes_floats_to_cpp_and_declines_the_rest():
    cpp = cpp_backend.CppBackend()
    a, b = _operands(np.random.default_rng(4), (8, 9), np.float32)
    assert_same(cpp.float_remainder(a, b, True), _ref("remainder", a, b))
    assert_same(cpp.float_remainder(a, b, False), _ref("fmod", a, b))
    assert cpp.float_remainder(a, b.astype(np.float64), True) is None
    assert cpp.float_remainder(a.astype(np.float16), b.astype(np.float16), True) is None


@pytest.mark.parametrize("name", ["fmod", "remainder"])
def test_tensor_ops_on_cpp_against_torch_with_gradients(dtype, name):
    torch = pytest.importorskip("torch")
    a, b = _operands(np.random.default_rng(5), (32, 70), dtype)
    g = np.random.default_rng(6).standard_normal((32, 70)).astype(dtype)
    with ad.default_device("cpp"):
        ta, tb = ad.tensor(a, requires_grad=True), ad.tensor(b[0], requires_grad=True)
        y = getattr(ad, name)(ta, tb)
        y.backward(ad.tensor(g))
        s = getattr(ad, name)(ta.detach(), -0.7)  # tensor-scalar form
    pa, pb = torch.tensor(a, requires_grad=True), torch.tensor(b[0], requires_grad=True)
    py = getattr(torch, name)(pa, pb)
    py.backward(torch.from_numpy(g))
    assert_same(y.numpy(), py.detach().numpy())
    assert_same(s.numpy(), getattr(torch, name)(torch.from_numpy(a), -0.7).numpy())
    np.testing.assert_allclose(ta.grad.numpy(), pa.grad.numpy())
    np.testing.assert_allclose(tb.grad.numpy(), pb.grad.numpy(), rtol=1e-5)


def test_gradcheck_cpp():
    rng = np.random.default_rng(8)
    a = rng.uniform(-5, 5, (5, 7))
    b = rng.uniform(0.5, 2, 7) * np.where(rng.random(7) < 0.5, -1, 1)
    with ad.default_device("cpp"):
        ta, tb = ad.tensor(a, requires_grad=True), ad.tensor(b, requires_grad=True)
        for f in (ad.fmod, ad.remainder):
            assert ad.autograd.gradcheck(f, (ta, tb))
