"""CppBackend against the NumpyBackend reference, and proof that the C++ path runs."""

from __future__ import annotations

import numpy as np
import pytest
from cpp_helpers import C, rand

cpp_backend = pytest.importorskip("autodiff.backends.cpp_backend")
from autodiff.backends.numpy_backend import NumpyBackend

CPP = cpp_backend.CppBackend()
REF = NumpyBackend()


def same(got, want, dtype, scale=1.0):
    got_a, want_a = np.asarray(got), np.asarray(want)
    assert type(got) is type(want) or (np.ndim(got) == 0 and np.ndim(want) == 0)
    assert got_a.shape == want_a.shape and got_a.dtype == want_a.dtype
    rtol = (2e-5 if np.dtype(dtype) == np.float32 else 1e-11) * scale
    np.testing.assert_allclose(got_a, want_a, rtol=rtol, atol=rtol, equal_nan=True)


@pytest.fixture(params=[(7, 9), (96, 1031)], ids=["small", "large"])
def shape(request):
    return request.param


def test_binary_and_sum_to(dtype, shape):
    rng = np.random.default_rng(0)
    a, b = rand(rng, shape, dtype), rand(rng, shape[-1:], dtype, 0.5, 2)
    for op in ("add", "sub", "mul", "div"):
        same(getattr(CPP, op)(a, b), getattr(REF, op)(a, b), dtype)
        same(getattr(CPP, op)(a.T, a.T), getattr(REF, op)(a.T, a.T), dtype)
    for s in (shape[-1:], (shape[0], 1), (1, 1), (), shape):
        same(CPP.sum_to(a, s), REF.sum_to(a, s), dtype, 10)


# (g's shape, how g is a broadcast: the axes kept from a smaller array, None = a scalar,
# which operand is the broadcast, the target shape of sum_to)
BROADCAST_PRODUCTS = [
    ((96, 1031), None, "g", (1031,)),  # the gradient of (a * v).sum() wrt v
    ((96, 1031), None, "h", (96, 1)),
    ((96, 1031), None, "g", ()),
    ((4, 96, 33), (0, 2), "g", (96, 1)),  # g constant along axis 1 only, which is reduced
    ((4, 96, 33), (1, 2), "h", (33,)),  # h constant along axis 0 (reduced), not along 2
    ((4, 96, 33), (1,), "g", (4, 1, 33)),  # constant along kept axes only: nothing to fold
    ((5, 0, 7), None, "g", (7,)),
]


@pytest.mark.parametrize("gs,kept,which,shape", BROADCAST_PRODUCTS)
def test_mul_sum_to_of_broadcast_operands(dtype, gs, kept, which, shape):
    """sum_to(g * h, shape) and sum_to(g, shape) where g or h is a stride-0 broadcast (the
    gradient of .sum()): the broadcast axes are folded first (a sum of h there, a count of
    g's copies), the result stays that of the filled-out arrays."""
    rng = np.random.default_rng(12)
    small = tuple(n if kept is not None and d in kept else 1 for d, n in enumerate(gs))
    b = np.broadcast_to(rand(rng, small, dtype), gs)
    full = rand(rng, gs, dtype)
    g, h = (b, full) if which == "g" else (full, b)
    want = NumpyBackend.sum_to(REF, np.multiply(np.ascontiguousarray(g, np.float64), h), shape)
    want_b = NumpyBackend.sum_to(REF, np.ascontiguousarray(b, np.float64), shape)
    tol = {"rtol": 2e-5, "atol": 2e-5 * gs[-1]} if dtype == np.float32 else {"rtol": 1e-11}
    for backend in (CPP, REF):
        got, got_b = backend.mul_sum_to(g, h, shape), backend.sum_to(b, shape)
        assert got.shape == got_b.shape == tuple(shape) and got.dtype == got_b.dtype == dtype
        np.testing.assert_allclose(got, want, **tol)
        np.testing.assert_allclose(got_b, want_b, **tol)


@pytest.mark.parametrize("n", [1, 5, 4096, 4097, 20000])
def test_gradient_kernels_take_a_broadcast_scalar_g(dtype, n):
    """The elementwise gradient kernels read a broadcast scalar g (stride 0) from a block of
    copies: the same result as with g filled out, on every chunk including the last."""
    rng = np.random.default_rng(13)
    x = rand(rng, (n,), dtype, -3, 3)
    g = np.broadcast_to(np.asarray(0.75, dtype), (n,))
    assert g.strides == (0,)
    for name, fn in [("relu_backward", lambda x, g: C.relu_backward(np.maximum(x, 0), g)),
                     ("gelu_backward", C.gelu_backward), ("silu_backward", C.silu_backward),
                     ("abs_backward", C.abs_backward),
                     ("tanh output", lambda y, g: C.output_backward("tanh", y, g))]:
        np.testing.assert_array_equal(fn(x, g), fn(x, np.ascontiguousarray(g)), err_msg=name)
    g2 = np.broadcast_to(np.asarray(0.5, dtype), (2, n)).T  # a 2-d broadcast of a scalar
    np.testing.assert_array_equal(C.silu_backward(np.stack([x, x], 1), g2),
                                  C.silu_backward(np.stack([x, x], 1), np.full((n, 2), 0.5, dtype)))


def test_unary(dtype, shape):
    x = rand(np.random.default_rng(1), shape, dtype, 0.1, 5)
    for op in ("exp", "log", "tanh", "sigmoid", "relu"):
        same(getattr(CPP, op)(x), getattr(REF, op)(x), dtype)
        v = x[:, ::2] * 0.5
        same(getattr(CPP, op)(v), getattr(REF, op)(v), dtype)


@pytest.mark.parametrize("axis", [None, (0,), (1,), (0, 1), ()])
@pytest.mark.parametrize("keepdims", [False, True])
def test_reductions(dtype, shape, axis, keepdims):
    x = rand(np.random.default_rng(2), shape, dtype)
    same(CPP.sum(x, axis, keepdims), REF.sum(x, axis, keepdims), dtype, 10)
    same(CPP.mean(x, axis, keepdims), REF.mean(x, axis, keepdims), dtype, 10)
    same(CPP.amax(x, axis, keepdims), REF.amax(x, axis, keepdims), dtype)
    with np.errstate(all="ignore"):
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for corr in (0, 1):
                same(CPP.var(x, axis, corr, keepdims), REF.var(x, axis, corr, keepdims), dtype, 10)


@pytest.mark.parametrize(
    "sa,sb",
    [
        ((64, 70), (70, 65)),
        ((3, 40, 50), (50, 60)),
        ((50,), (50, 60)),
        ((4, 8, 9), (4, 9, 8)),
        ((5, 7), (7, 2)),
    ],
)
def test_matmul(dtype, sa, sb):
    rng = np.random.default_rng(3)
    a, b = rand(rng, sa, dtype), rand(rng, sb, dtype)
    same(CPP.matmul(a, b), REF.matmul(a, b), dtype, 10)
    same(
        CPP.matmul(b.swapaxes(-1, -2), a.swapaxes(-1, -2)) if a.ndim > 1 else REF.matmul(a, b),
        REF.matmul(b.swapaxes(-1, -2), a.swapaxes(-1, -2)) if a.ndim > 1 else REF.matmul(a, b),
        dtype,
        10,
    )


@pytest.mark.parametrize("axis", [0, 1])
def test_softmax_family(dtype, shape, axis):
    rng = np.random.default_rng(4)
    x, gy = rand(rng, shape, dtype, -5, 5), rand(rng, shape, dtype)
    y, ly = CPP.softmax(x, axis), CPP.log_softmax(x, axis)
    same(y, REF.softmax(x, axis), dtype)
    same(ly, REF.log_softmax(x, axis), dtype, 5)
    same(CPP.softmax_backward(y, gy, axis), REF.softmax_backward(y, gy, axis), dtype, 5)
    same(CPP.log_softmax_backward(ly, gy, axis), REF.log_softmax_backward(ly, gy, axis), dtype, 50)


@pytest.mark.parametrize("affine", [True, False])
def test_layer_norm(dtype, shape, affine):
    rng = np.random.default_rng(5)
    x, gy = rand(rng, shape, dtype) * 2 + 1, rand(rng, shape, dtype)
    w = rand(rng, shape[-1:], dtype) if affine else None
    b = rand(rng, shape[-1:], dtype) if affine else None
    got, want = CPP.layer_norm(x, w, b, 1, 1e-5), REF.layer_norm(x, w, b, 1, 1e-5)
    for g, r in zip(got, want):
        same(g, r, dtype, 10)
    _, mean, rstd = want
    got = CPP.layer_norm_backward(gy, x, mean, rstd, w, 1)
    want = REF.layer_norm_backward(gy, x, mean, rstd, w, 1)
    for g, r in zip(got, want):
        if r is None:
            assert g is None
        else:
            same(g, r, dtype, 50)


def test_batch_norm_stats(dtype):
    x = rand(np.random.default_rng(6), (8, 16, 5, 7), dtype)
    for axes in ((0, 2, 3), (0, 1, 2)):
        for g, r in zip(CPP.batch_norm_stats(x, axes), REF.batch_norm_stats(x, axes)):
            same(g, r, dtype, 10)


def test_declines_keep_reference_results():
    i = np.arange(40000, dtype=np.int64)
    same(CPP.add(i, i), REF.add(i, i), np.float32)
    same(CPP.sum(i, None, False), REF.sum(i, None, False), np.float32)
    h = np.ones((300, 300), np.float16)
    same(CPP.matmul(h, h), REF.matmul(h, h), np.float32, 100)
    f = np.ones((300, 300), np.float32)
    same(CPP.add(f, f.astype(np.float64)), REF.add(f, f.astype(np.float64)), np.float64)


def test_fast_path_runs(monkeypatch):
    """float32 contiguous inputs above the thresholds go through autodiff._C."""
    calls = []

    class Spy:
        def __getattr__(self, name):
            fn = getattr(C, name)

            def wrapped(*args, **kw):
                calls.append(name)
                return fn(*args, **kw)

            return wrapped

    monkeypatch.setattr(cpp_backend, "_C", Spy())
    x = np.ones((256, 256), np.float32)
    w = np.ones(256, np.float32)
    CPP.add(x, w), CPP.mul(x, x), CPP.sum_to(x, (256,)), CPP.exp(x), CPP.relu(x)
    CPP.mul_sum_to(x, x, (256,)), CPP.relu_backward(x, x)
    _, lse = CPP.cross_entropy(x, np.zeros(256, np.int64))
    CPP.cross_entropy_backward(x, np.zeros(256, np.int64), lse, np.float32(1))
    CPP.sum(x, (1,), False), CPP.var(x, None, 0, False), CPP.matmul(x, x)
    y = CPP.softmax(x, 1)
    CPP.softmax_backward(y, x, 1), CPP.log_softmax(x, 1)
    _, m, r = CPP.layer_norm(x, w, w, 1, 1e-5)
    CPP.layer_norm_backward(x, x, m, r, w, 1)
    CPP.batch_norm_stats(x, (0,))
    assert set(calls) >= {
        "add",
        "mul",
        "sum_to",
        "mul_sum_to",
        "relu_backward",
        "cross_entropy",
        "cross_entropy_backward",
        "exp",
        "relu",
        "sum",
        "var",
        "matmul",
        "softmax",
        "softmax_backward",
        "log_softmax",
        "layer_norm",
        "layer_norm_backward",
        "batch_norm_stats",
    }


def test_layout_and_selection_routes_match_numpy():
    """The cpp backend's C++ routes for where / concatenate / stack / row gathers / topk /
    copies give NumPy's results, and hand what they do not take (mixed dtypes, 0-d
    indices, broadcast copies) back to NumPy."""
    rng = np.random.default_rng(11)
    a = rng.standard_normal((64, 130)).astype(np.float32)
    b = rng.standard_normal((64, 130))
    ref = NumpyBackend()
    cond = a > 0
    for x, y in [(a, 0.5), (a, a[::-1]), (a, b), (np.float32(1), a)]:
        np.testing.assert_array_equal(CPP.where(cond, x, y), ref.where(cond, x, y))
    np.testing.assert_array_equal(CPP.concatenate([a, b], 1), np.concatenate([a, b], 1))
    np.testing.assert_array_equal(CPP.stack([a, a.T.T], -1), np.stack([a, a], -1))
    rows = rng.integers(-64, 64, (3, 50))
    np.testing.assert_array_equal(CPP.getitem(a, rows), a[rows])
    np.testing.assert_array_equal(CPP.getitem(a, np.array(5)), a[np.array(5)])
    for axis in (0, 1, -1):
        v, i = CPP.topk(a, 7, axis, True, True)
        np.testing.assert_array_equal(v, -np.sort(-a, axis=axis).take(range(7), axis=axis))
        np.testing.assert_array_equal(np.take_along_axis(a, i, axis), v)
    bc = np.broadcast_to(a[:1], a.shape)
    for got in (CPP.copy(bc), CPP.contiguous(a.T), CPP.reshape(a.T, (-1,))):
        assert got.flags.c_contiguous
    np.testing.assert_array_equal(CPP.reshape(a.T, (-1,)), a.T.reshape(-1))
    np.testing.assert_array_equal(CPP.copy(bc), bc)


@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.int16, np.uint8])
@pytest.mark.parametrize("n", [0, 1, 7, 4095, 4096, 4097, 20000])
def test_any_outside_matches_numpy(dtype, n):
    """The one-pass C++ range check of index arrays (int32 / int64, C-contiguous; other
    dtypes and layouts take NumPy's) against NumPy's, with and without a skipped value."""
    rng = np.random.default_rng(n)
    a = rng.integers(0 if dtype == np.uint8 else -5, 20, n).astype(dtype)
    for lo, hi, skip in ((0, 20, None), (-5, 20, None), (0, 10, None), (-5, 19, None),
                         (0, 20, -5), (0, 15, -100), (3, 2, None), (19, 20, 7)):
        for arr in (a, a[::2], a.reshape(1, -1) if n else a):
            assert CPP.any_outside(arr, lo, hi, skip) == REF.any_outside(arr, lo, hi, skip)
    lim = np.iinfo(np.int64)
    ext = np.array([lim.min, -1, 0, lim.max], np.int64)
    for lo, hi in ((lim.min, lim.max), (-1, 1), (0, lim.max), (lim.min, 0)):
        assert CPP.any_outside(ext, lo, hi) == REF.any_outside(ext, lo, hi)
    assert CPP.any_outside(np.array([5, 1]), 0, 4) and not CPP.any_outside(np.array([3, 0]), 0, 4)
