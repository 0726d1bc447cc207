"""_C.prod (products over any axes, in float64) against NumPy and PyTorch, every SIMD level,
the cpp backend's prod and the Prod op's gradient on the cpp device."""

from __future__ import annotations

import numpy as np
import pytest
from cpp_helpers import LEVELS, ODD_SIZES, C, num_threads, rand

import autodiff as ad

cpp_backend = pytest.importorskip("autodiff.backends.cpp_backend")

SHAPES_AXES = [
    ((7,), None),
    ((17, 31), (0,)),
    ((17, 31), (1,)),
    ((17, 31), None),
    ((3, 33, 5), (1,)),
    ((3, 33, 5), (0, 2)),
    ((3, 33, 5), (0, 1)),
    ((2, 3, 4, 5), (0, 2, 3)),
    ((2, 1, 4), (1,)),
    ((4, 5), ()),
    ((0, 5), (0,)),
    ((0, 5), (1,)),
    ((3, 0, 2), (0, 2)),
    ((300, 3), (0,)),  # narrow columns, sliced rows
    ((2, 700, 1100), (1,)),  # two column chunks, sliced rows
    ((2, 70_000), (1,)),  # long rows, in pieces
]


def _values(rng, shape, dtype):
    """Factors near 1 (with signs): products of thousands stay in range."""
    x = rand(rng, shape, dtype, 0.9, 1.1)
    return (x * np.where(rng.random(shape) < 0.3, -1, 1)).astype(dtype)


def _ref(x, axis, keepdims):
    return np.asarray(x.astype(np.float64).prod(axis=axis, keepdims=keepdims)).astype(x.dtype)


def _tol(dtype, n):
    # float64: rounding of n products (in any order); float32: rounded once from float64
    if np.dtype(dtype) == np.float32:
        return {"rtol": 2e-7, "atol": 0}
    return {"rtol": 4e-16 * max(n, 1), "atol": 0}


@pytest.mark.parametrize("shape,axis", SHAPES_AXES)
@pytest.mark.parametrize("keepdims", [False, True])
def test_prod(simd, dtype, shape, axis, keepdims):
    x = _values(np.random.default_rng(0), shape, dtype)
    got = C.prod(x, axis, keepdims)
    want = _ref(x, axis, keepdims)
    assert got.shape == want.shape and got.dtype == dtype
    n = x.size // max(want.size, 1)
    np.testing.assert_allclose(got, want, **_tol(dtype, n))


@pytest.mark.parametrize("n", ODD_SIZES)
def test_prod_odd_sizes_bitwise_across_levels_and_threads(dtype, n):
    """Every level and thread count gives the same bits (one multiplication order)."""
    x = _values(np.random.default_rng(n), (3, n), dtype)
    before = C.simd_level()
    try:
        results = []
        for level in LEVELS:
            C.set_simd(level)
            for threads in (1, 2):
                with num_threads(threads):
                    results.append([C.prod(x, a, False) for a in (0, 1, None)])
    finally:
        C.set_simd(before)
    for r in results[1:]:
        for got, want in zip(r, results[0]):
            np.testing.assert_array_equal(got, want)
    for got, a in zip(results[0], (0, 1, None)):
        np.testing.assert_allclose(got, _ref(x, a, False), **_tol(dtype, n))


def test_prod_views_special_values_and_torch(simd, dtype):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    base = _values(rng, (40, 50), dtype)
    base[3, 7], base[5, 9], base[8, 1], base[8, 2] = 0.0, np.inf, np.nan, -np.inf
    base[11, 4], base[11, 5] = 0.0, np.inf  # 0 * inf = nan
    base[12, 0] = -0.0  # a negative zero: the sign of the product
    for x in (base, base.T, base[::2, 1::3], base[::-1]):
        for axis in (0, 1, None):
            got = C.prod(x, axis, False)
            want = torch.from_numpy(np.ascontiguousarray(x)).prod(
                *(() if axis is None else (axis,))
            )
            # (PyTorch's float32 product rounds each of its up to 50 steps)
            rtol = 50 * np.finfo(dtype).eps
            np.testing.assert_allclose(got, want.numpy(), rtol=rtol, equal_nan=True)
            keep = ~np.isnan(got)  # (the signs of zeros and infinities; a NaN's means nothing)
            np.testing.assert_array_equal(np.signbit(got[keep]), np.signbit(want.numpy()[keep]))


def test_prod_in_float64_beyond_float32_steps():
    """A float32 product whose partial products leave float32's range is rounded once."""
    x = np.array([[1e30, 1e30, 1e-30, 1e-30, 3.0]], np.float32)
    np.testing.assert_allclose(C.prod(x, 1, False), [3.0], rtol=1e-6)
    tiny = np.full((1, 40), 0.1, np.float32)  # 1e-40: a subnormal float32 result
    np.testing.assert_allclose(C.prod(tiny, 1, False), _ref(tiny, 1, False), rtol=1e-3)


def test_prod_errors():
    with pytest.raises(TypeError, match="prod: expected a float32 or float64 array, got int64"):
        C.prod(np.ones(3, np.int64), None, False)
    with pytest.raises(ValueError, match="prod: axis 2 is out of bounds"):
        C.prod(np.ones((2, 2)), 2, False)
    with pytest.raises(ValueError, match="prod: duplicate value in axis"):
        C.prod(np.ones((2, 2)), (0, 0), False)


def test_backend_prod_runs_cpp_and_declines(monkeypatch):
    cpp, calls = cpp_backend.CppBackend(), []
    monkeypatch.setattr(
        cpp_backend,
        "_C",
        type("Spy", (), {"__getattr__": lambda s, k: (calls.append(k), getattr(C, k))[1]})(),
    )
    x = _values(np.random.default_rng(2), (64, 128), np.float32)
    np.testing.assert_allclose(cpp.prod(x, (1,), False), _ref(x, 1, False), rtol=2e-7)
    assert calls == ["prod"]
    r = cpp.prod(x, None, False)  # a full reduction returns a NumPy scalar, as NumPy's
    assert type(r) is np.float32
    xi = np.ones((64, 128), np.int32)
    assert cpp.prod(xi, (0,), True).dtype == np.int32 and calls == ["prod", "prod"]


def test_prod_gradcheck_cpp():
    rng = np.random.default_rng(3)
    x = rng.uniform(0.5, 1.5, (6, 70)) * np.where(rng.random((6, 70)) < 0.5, -1, 1)
    with ad.default_device("cpp"):
        t = ad.tensor(x, requires_grad=True)
        for dim in (0, 1):
            assert ad.autograd.gradcheck(lambda a, d=dim: a.prod(d), (t,))
        x[2, 3] = 0.0  # a zero: the product of the others
        z = ad.tensor(x, requires_grad=True)
        assert ad.autograd.gradcheck(lambda a: a.prod(1), (z,))


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_cumprod_reverse(dtype, axis):
    x = _values(np.random.default_rng(4), (33, 17), dtype)
    want = np.flip(np.cumprod(np.flip(x.astype(np.float64), axis), axis), axis).astype(dtype)
    np.testing.assert_allclose(C.cumprod(x, axis, True), want, **_tol(dtype, 33))
    np.testing.assert_allclose(
        C.cumprod(x.T, axis, True),
        np.flip(np.cumprod(np.flip(x.T.astype(np.float64), axis), axis), axis).astype(dtype),
        **_tol(dtype, 33),
    )


@pytest.mark.parametrize("dim", [0, 1, None])
def test_prod_backward_with_zeros_against_torch(dtype, dim):
    """Zeros in the input: the gradient is the product of the others (from the C++
    cumulative products both ways at this size), as PyTorch's."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(5)
    x = _values(rng, (64, 128), dtype)
    x[::3, 7] = 0.0
    x[3, 9] = 0.0  # a row with two zeros
    g = rng.standard_normal((128,) if dim == 0 else (64,) if dim == 1 else ()).astype(dtype)
    with ad.default_device("cpp"):
        t = ad.tensor(x, requires_grad=True)
        (t.prod() if dim is None else t.prod(dim)).backward(ad.tensor(g))
    tt = torch.tensor(x, requires_grad=True)
    (tt.prod() if dim is None else tt.prod(dim)).backward(torch.from_numpy(g))
    rtol = 1e-4 if np.dtype(dtype) == np.float32 else 1e-10
    np.testing.assert_allclose(t.grad.numpy(), tt.grad.numpy(), rtol=rtol, atol=1e-30)
