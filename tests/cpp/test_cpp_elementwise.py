"""Binary ops with broadcasting, sum_to and unary math against NumPy, at every SIMD level."""

from __future__ import annotations

import math

import numpy as np
import pytest
from cpp_helpers import ODD_SIZES, C, rand, tol
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

BINARY = {
    "add": np.add,
    "sub": np.subtract,
    "mul": np.multiply,
    "div": np.divide,
    "relu_backward": lambda y, g: g * (y > 0),
}
UNARY = {
    "exp": np.exp,
    "log": np.log,
    "tanh": np.tanh,
    "sigmoid": lambda x: 1 / (1 + np.exp(-x)),
    "relu": lambda x: np.maximum(x, 0),
    "abs": np.abs,
}

BROADCASTS = [
    ((4, 5), (4, 5)),
    ((4, 5), (5,)),
    ((4, 1), (1, 5)),
    ((3, 1, 5), (4, 1)),
    ((2, 3, 4), ()),
    ((), (7,)),
    ((1,), (1025,)),
    ((33, 1, 17), (33, 31, 1)),
    ((0, 3), (3,)),
    ((2, 0, 3), (1, 3)),
]


@pytest.mark.parametrize("op", sorted(BINARY))
@pytest.mark.parametrize("n", ODD_SIZES)
def test_binary_odd_sizes(simd, dtype, op, n):
    rng = np.random.default_rng(n)
    a, b = rand(rng, (n,), dtype), rand(rng, (n,), dtype, 0.5, 2.0)
    for x, y in [(a, b), (a[:1], b), (a, b[:1])]:
        got = getattr(C, op)(x, y)
        assert got.dtype == dtype and got.shape == np.broadcast_shapes(x.shape, y.shape)
        np.testing.assert_allclose(got, BINARY[op](x, y), **tol(dtype))


@pytest.mark.parametrize("op", sorted(BINARY))
@pytest.mark.parametrize("sa,sb", BROADCASTS)
def test_binary_broadcast(simd, dtype, op, sa, sb):
    rng = np.random.default_rng(0)
    a, b = rand(rng, sa, dtype), rand(rng, sb, dtype, 0.5, 2.0)
    for x, y in [(a, b), (b, a)]:
        got = getattr(C, op)(x, y)
        want = BINARY[op](x, y)
        assert got.shape == want.shape and got.dtype == want.dtype
        np.testing.assert_allclose(got, want, **tol(dtype))


def test_binary_views(simd, dtype):
    rng = np.random.default_rng(1)
    a = rand(rng, (37, 45), dtype)
    b = rand(rng, (45, 37), dtype)
    for x, y in [(a, b.T), (a[::2, 1::3], b.T[::2, 1::3]), (a[:, ::-1], a[0]), (a.T, a[:, 3:4].T)]:
        np.testing.assert_allclose(C.mul(x, y), x * y, **tol(dtype))
        np.testing.assert_allclose(C.sub(x, y), x - y, **tol(dtype))


def test_binary_large_threaded(dtype):
    rng = np.random.default_rng(2)
    a, b = rand(rng, (513, 1029), dtype), rand(rng, (1029,), dtype)
    np.testing.assert_allclose(C.add(a, b), a + b, **tol(dtype))
    np.testing.assert_allclose(C.mul(b, a), a * b, **tol(dtype))


@settings(max_examples=60, deadline=None)
@given(
    shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=4, max_side=9),
    op=st.sampled_from(sorted(BINARY)),
    f64=st.booleans(),
)
def test_binary_fuzz(shapes, op, f64):
    dtype = np.float64 if f64 else np.float32
    rng = np.random.default_rng(3)
    a, b = (rand(rng, s, dtype, 0.5, 2.0) for s in shapes.input_shapes)
    got = getattr(C, op)(a, b)
    want = BINARY[op](a, b)
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, **tol(dtype))


SUM_TO = [
    ((4, 5), (5,)),
    ((4, 5), (4, 1)),
    ((4, 5), (1, 1)),
    ((4, 5), ()),
    ((2, 3, 4, 5), (3, 1, 5)),
    ((2, 3, 4, 5), (1, 4, 1)),
    ((7, 1025), (1025,)),
    ((1025, 7), (1025, 1)),
    ((0, 5), (5,)),
    ((3, 0), (1, 0)),
    ((3, 4), (3, 4)),
]


def _np_sum_to(g, shape):
    lead = g.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, n in enumerate(shape) if n == 1 and g.shape[lead + i] != 1
    )
    return g.sum(axis=axes, keepdims=True).reshape(shape) if axes else g


@pytest.mark.parametrize("gs,shape", SUM_TO)
def test_sum_to(simd, dtype, gs, shape):
    rng = np.random.default_rng(4)
    g = rand(rng, gs, dtype)
    want = _np_sum_to(g, shape)
    got = C.sum_to(g, shape)
    assert got.shape == tuple(shape) and got.dtype == dtype
    np.testing.assert_allclose(got, want, **tol(dtype, 10))


@pytest.mark.parametrize("op", sorted(BINARY))
def test_binary_streaming_stores(simd, dtype, op):
    """Outputs of 16 MiB and more take the non-temporal-store kernels (aligned head, tail)."""
    rng = np.random.default_rng(7)
    rows = (16 << 20) // (1025 * np.dtype(dtype).itemsize) + 1
    a, b = rand(rng, (rows, 1025), dtype), rand(rng, (1025,), dtype, 0.5, 2.0)
    for x, y in [(a, b), (b, a), (a, a), (a, np.full((), 1.5, dtype))]:
        np.testing.assert_array_equal(getattr(C, op)(x, y), BINARY[op](x, y))


MUL_SUM_TO = SUM_TO + [
    ((4096, 33), (33,)),  # rows sliced over the threads
    ((3, 70000), (3, 1)),  # long rows
    ((1, 70000), (1,)),  # one long row split over the threads
    ((8, 16, 9, 9), (1, 16, 1, 1)),  # NCHW per-channel: fused reduction, then sum_to
    ((6, 1, 7), (7,)),
    ((300, 32), (32,)),  # rows grouped into one register band
    ((257, 300), (300,)),  # four bands in tiles of rows, a tail of columns
    ((40, 2100), (2100,)),  # column chunks
]


@pytest.mark.parametrize("gs,shape", MUL_SUM_TO)
def test_mul_sum_to(simd, dtype, gs, shape):
    rng = np.random.default_rng(6)
    g, h = rand(rng, gs, dtype), rand(rng, gs, dtype)
    got = C.mul_sum_to(g, h, shape)
    assert got.shape == tuple(shape) and got.dtype == dtype
    np.testing.assert_allclose(got, _np_sum_to(g.astype(np.float64) * h, shape), **tol(dtype, 10))
    # non-contiguous operands (transposed views) are copied first
    gt, ht = rand(rng, gs[::-1], dtype).T, rand(rng, gs[::-1], dtype).T
    np.testing.assert_allclose(C.mul_sum_to(gt, ht, shape),
                               _np_sum_to(gt.astype(np.float64) * ht, shape), **tol(dtype, 10))


@settings(max_examples=40, deadline=None)
@given(shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=4, max_side=9))
def test_sum_to_fuzz(shapes):
    rng = np.random.default_rng(5)
    small = shapes.input_shapes[0]
    g = rand(rng, shapes.result_shape, np.float64)
    got = C.sum_to(g, small)
    want = g
    lead = g.ndim - len(small)
    want = want.sum(axis=tuple(range(lead))) if lead else want
    for i, n in enumerate(small):
        if n == 1:
            want = want.sum(axis=i, keepdims=True)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("op", sorted(UNARY))
@pytest.mark.parametrize("n", ODD_SIZES)
def test_unary_odd_sizes(simd, dtype, op, n):
    rng = np.random.default_rng(n)
    lo = 0.01 if op == "log" else -10.0
    x = rand(rng, (n,), dtype, lo, 10.0)
    got = getattr(C, op)(x)
    assert got.dtype == dtype and got.shape == x.shape
    want = UNARY[op](x.astype(np.float64)).astype(dtype)
    np.testing.assert_allclose(got, want, **tol(dtype))


@pytest.mark.parametrize("op", sorted(UNARY))
def test_unary_views_and_empty(simd, op):
    rng = np.random.default_rng(6)
    x = rand(rng, (31, 33), np.float32, 0.1, 3.0)
    for v in (x.T, x[::2, ::3], x[:, ::-1], x[:0], x.reshape(-1)[:0].reshape(0, 5)):
        got = getattr(C, op)(v)
        assert got.shape == v.shape
        np.testing.assert_allclose(got, UNARY[op](v.astype(np.float64)), rtol=2e-6, atol=1e-7)


def test_relu_backward_special_values(simd, dtype):
    """g where not y <= 0, else 0: a select, as PyTorch's threshold_backward (a NaN y passes g,
    an inf or NaN g where y <= 0 gives 0)."""
    special = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 1.0, -1.0, 1e-45], dtype)
    y, g = np.meshgrid(special, special)
    y, g = np.tile(y, (1, 5)), np.tile(g, (1, 5))  # past one vector, with a tail
    np.testing.assert_array_equal(C.relu_backward(y, g), np.where(y <= 0, dtype(0), g))


def test_unary_special_values(simd):
    x = np.array(
        [
            0.0,
            -0.0,
            np.inf,
            -np.inf,
            np.nan,
            1e-40,
            -1e-40,
            88.8,
            -104.0,
            89.5,
            -87.5,
            -1.0,
            1.0,
            20.0,
            -20.0,
            1e-30,
        ],
        dtype=np.float32,
    )
    with np.errstate(all="ignore"):
        for op, ref in UNARY.items():
            got = getattr(C, op)(x)
            want = ref(x.astype(np.float64)).astype(np.float32)
            np.testing.assert_allclose(got, want, rtol=3e-7, atol=3e-45, equal_nan=True, err_msg=op)


CLAMP_BOUNDS = [(-1.0, 2.0), (0.5, -0.5), (None, 0.0), (0.0, None), (-np.inf, np.inf), (-3, 3)]


@pytest.mark.parametrize("lo, hi", CLAMP_BOUNDS)
@pytest.mark.parametrize("n", ODD_SIZES)
def test_clamp_matches_clip(simd, dtype, lo, hi, n):
    """Exactly np.clip: lo > hi gives hi, a bound of None is none, NaN x stays NaN."""
    x = rand(np.random.default_rng(n), (n,), dtype, -3.0, 3.0)
    x[:: max(1, n // 3)] = np.nan
    got = C.clamp(x, lo, hi)
    assert got.dtype == dtype
    np.testing.assert_array_equal(got, np.clip(x, lo, hi))


def test_clamp_views_empty_and_special_values(simd):
    special = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 1e-45, -2.5, 7.0] * 5, np.float32)
    np.testing.assert_array_equal(C.clamp(special, -1, 1), np.clip(special, -1, 1))
    np.testing.assert_array_equal(C.abs(special), np.abs(special))
    assert not np.signbit(C.abs(special)[~np.isnan(special)]).any()  # |-0| is +0
    x = rand(np.random.default_rng(8), (31, 33), np.float64, -2.0, 2.0)
    for v in (x.T, x[::2, ::3], x[:, ::-1], x[:0]):
        np.testing.assert_array_equal(C.clamp(v, -1, 0.5), np.clip(v, -1, 0.5))
    with pytest.raises(ValueError, match="NaN bound"):
        C.clamp(x, np.nan, 1.0)


def _gelu_ref(x, tanh):
    """float64 GELU and its derivative (math.erfc keeps the x << 0 tail exact)."""
    x = x.astype(np.float64)
    if tanh:
        c = math.sqrt(2 / math.pi)
        th = np.tanh(c * (x + 0.044715 * x**3))
        d = 0.5 * (1 + th) + 0.5 * x * (1 - th * th) * c * (1 + 3 * 0.044715 * x * x)
        return 0.5 * x * (1 + th), d
    cdf = 0.5 * np.vectorize(math.erfc)(-x / math.sqrt(2))
    return x * cdf, cdf + x * np.exp(-0.5 * x * x) / math.sqrt(2 * math.pi)


@pytest.mark.parametrize("approximate", ["none", "tanh"])
@pytest.mark.parametrize("n", ODD_SIZES)
def test_gelu_and_backward(simd, dtype, approximate, n):
    rng = np.random.default_rng(n)
    x = (rng.standard_normal(n) * 4).astype(dtype)
    g = rand(rng, (n,), dtype)
    y, d = _gelu_ref(x, approximate == "tanh")
    got, gx = C.gelu(x, approximate), C.gelu_backward(x, g, approximate)
    assert got.dtype == dtype and gx.shape == (n,)
    atol = 1e-6 if dtype == np.float32 else 1e-13
    np.testing.assert_allclose(got, y, rtol=4 * np.finfo(dtype).eps * 8, atol=atol)
    np.testing.assert_allclose(gx, g * d, rtol=4 * np.finfo(dtype).eps * 8, atol=atol)


def test_gelu_tail_specials_and_errors(simd):
    x = np.array([-12.0, -9.0, np.inf, -np.inf, np.nan, 0.0], np.float32)
    y = C.gelu(x)
    want, _ = _gelu_ref(x[:2], False)  # 1 + erf without cancellation: relative accuracy
    np.testing.assert_allclose(y[:2], want, rtol=1e-4)
    assert y[2] == np.inf and np.isnan(y[3:5]).all() and y[5] == 0
    with pytest.raises(ValueError, match="approximate"):
        C.gelu(x, "fast")
    with pytest.raises(ValueError, match="same shape"):
        C.gelu_backward(x, x[:3])
    with pytest.raises((TypeError, ValueError), match="dtype|float"):
        C.gelu_backward(x, x.astype(np.float64))


def _ulps(got, want):
    """|got - want| in float32 ulps of want (subnormal spacing at the bottom)."""
    spacing = np.spacing(np.abs(want).astype(np.float32)).astype(np.float64)
    return np.abs(got.astype(np.float64) - want) / np.maximum(spacing, 2.0**-149)


def test_gelu_float32_ulps(simd):
    """The float32 GELU and its derivative in ulps of the float64 values, on a grid across
    both sides of the kernels' switch at |x| = 4 sqrt 2 (vectors on either side and mixed)
    and into the tails, where x Phi(x) is tiny and only relative accuracy tells."""
    x = np.concatenate([np.linspace(-14, 14, 40001), np.linspace(-5.7, -5.6, 997),
                        np.linspace(5.6, 5.7, 997)]).astype(np.float32)
    y, d = _gelu_ref(x, False)
    fwd, bwd = _ulps(C.gelu(x), y), _ulps(C.gelu_backward(x, np.ones_like(x)), d)
    core = np.abs(x) < 5.6
    assert fwd[core].max() <= 16 and fwd[~core].max() <= 128, (fwd[core].max(), fwd.max())
    # the derivative has a root at x = -0.7518, where only an absolute bound is meaningful
    away = np.abs(x) >= 2
    assert bwd[away].max() <= 8, bwd[away].max()
    np.testing.assert_allclose(C.gelu_backward(x, np.ones_like(x))[~away], d[~away], atol=2e-7)


@pytest.mark.parametrize("n", ODD_SIZES)
def test_silu_and_abs_backward(simd, dtype, n):
    rng = np.random.default_rng(n)
    x = (rng.standard_normal(n) * 8).astype(dtype)
    x[: min(n, 2)] = 0
    g = rand(rng, (n,), dtype)
    x64 = x.astype(np.float64)
    s = 1 / (1 + np.exp(-x64))
    rtol = 64 * np.finfo(dtype).eps
    np.testing.assert_allclose(C.silu(x), x64 * s, rtol=rtol, atol=1e-37)
    np.testing.assert_allclose(C.silu_backward(x, g), g * s * (1 + x64 * (1 - s)), rtol=rtol,
                               atol=16 * np.finfo(dtype).eps)
    np.testing.assert_array_equal(C.abs_backward(x, g), g * np.sign(x))
    special = np.array([np.nan, np.inf, -np.inf, -0.0], dtype)
    # sgn(NaN) = 0, as PyTorch: abs'(NaN) = 0
    np.testing.assert_array_equal(C.abs_backward(special, np.ones(4, dtype)), [0, 1, -1, 0])
    np.testing.assert_array_equal(C.silu(special), [np.nan, np.inf, np.nan, -0.0])


@pytest.mark.parametrize("n", [1, 7, 1025])
def test_output_backward(simd, dtype, n):
    rng = np.random.default_rng(n)
    y, g = rand(rng, (n,), dtype, 0.1, 0.9), rand(rng, (n,), dtype)
    want = {"sigmoid": g * y * (1 - y), "tanh": g * (1 - y * y), "sqrt": g / (2 * y)}
    for op, w in want.items():
        np.testing.assert_allclose(C.output_backward(op, y, g), w, **tol(dtype))
    with pytest.raises(ValueError, match="'sigmoid', 'tanh' or 'sqrt'"):
        C.output_backward("exp", y, g)
    with pytest.raises(ValueError, match="same shape"):
        C.output_backward("tanh", y, g[:0])


def test_sqrt_is_correctly_rounded(simd, dtype):
    x = np.concatenate([np.random.default_rng(4).random(1025) * 100,
                        [0.0, -0.0, -1.0, np.inf, np.nan, 1e-300]]).astype(dtype)
    with np.errstate(invalid="ignore"):
        want = np.sqrt(x)
    got = C.sqrt(x)
    np.testing.assert_array_equal(got, want)  # bit-exact, NaN for x < 0
    assert np.array_equal(np.signbit(got), np.signbit(want))  # sqrt(-0) = -0


def _adam_numpy(p, g, m, v, vmax, beta1, beta2, step, ibc, eps):
    """The optimizer's ufunc sequence (autodiff/optim/adam.py), in the arrays' dtype."""
    m += (g - m) * (1.0 - beta1)
    v *= beta2
    v += g * g * (1.0 - beta2)
    if vmax is not None:
        np.maximum(vmax, v, out=vmax)
        v = vmax
    p -= m / (np.sqrt(v) * ibc + eps) * step


@pytest.mark.parametrize("amsgrad", [False, True])
@pytest.mark.parametrize("n", [1, 7, 33, 16385, 100_003])
def test_adam_update_matches_the_optimizer_sequence(dtype, amsgrad, n):
    rng = np.random.default_rng(n)
    p, g, m = (rand(rng, (n,), dtype) for _ in range(3))
    v = np.abs(rand(rng, (n,), dtype))
    vmax = np.abs(rand(rng, (n,), dtype)) if amsgrad else None
    if n > 3:
        g[1], v[2] = np.nan, np.inf  # NaN and inf flow through as in NumPy
    want = [a.copy() for a in (p, m, v)] + ([vmax.copy()] if amsgrad else [None])
    args = (0.9, 0.999, 1e-3 / (1 - 0.9 ** 3), 1 / np.sqrt(1 - 0.999 ** 3), 1e-8)
    with np.errstate(all="ignore"):
        _adam_numpy(want[0], g, want[1], want[2], want[3], *args)
    C.adam_update(p, g, m, v, vmax, *args)
    for got, w in zip((p, m, v, vmax), want):
        if w is not None:
            np.testing.assert_allclose(got, w, rtol=tol(dtype, 2)["rtol"], equal_nan=True)


def test_adam_update_views_aliasing_and_errors():
    p, m, v = np.ones(8, np.float32), np.zeros(8, np.float32), np.zeros(8, np.float32)
    g = np.arange(16, dtype=np.float32)[::2]  # a strided gradient is copied
    C.adam_update(p, g, m, v, None, 0.9, 0.999, 0.1, 1.0, 1e-8)
    np.testing.assert_allclose(m, g * np.float32(0.1))
    m2 = np.ones(8, np.float32)
    C.adam_update(p, m2, m2, v, None, 0.5, 0.5, 0.1, 1.0, 1e-8)  # g is m: read as it was
    np.testing.assert_allclose(m2, 1.0)
    with pytest.raises(ValueError, match=r"writeable C-contiguous arrays of one shape, got "
                                         r"\(4,\) for \(8,\)"):
        C.adam_update(p, g, m[:4], v, None, 0.9, 0.999, 0.1, 1.0, 1e-8)
    with pytest.raises(ValueError, match=r"g of shape \(4,\) for a parameter of shape \(8,\)"):
        C.adam_update(p, g[:4], m, v, None, 0.9, 0.999, 0.1, 1.0, 1e-8)
    with pytest.raises(TypeError, match="same dtype"):
        C.adam_update(p, g.astype(np.float64), m, v, None, 0.9, 0.999, 0.1, 1.0, 1e-8)
    with pytest.raises(ValueError, match="writeable"):
        C.adam_update(p, g, np.zeros((8, 2), np.float32)[:, 0], v, None, 0.9, 0.999, 0.1, 1.0,
                      1e-8)


@pytest.mark.parametrize("first", [False, True])
@pytest.mark.parametrize("dampening,nesterov", [(0.0, False), (0.3, False), (0.0, True)])
@pytest.mark.parametrize("n", [1, 7, 33, 16385, 100_003])
def test_sgd_update_matches_the_optimizer_sequence(dtype, n, dampening, nesterov, first):
    rng = np.random.default_rng(n)
    p, g, b = (rand(rng, (n,), dtype) for _ in range(3))
    if n > 3:
        g[1], b[2] = np.nan, np.inf
    lr, mom = dtype(0.05), dtype(0.9)
    with np.errstate(all="ignore"):  # autodiff/optim/sgd.py's ufuncs, in the arrays' dtype
        wb = g.copy() if first else b * mom + (g * dtype(1 - dampening) if dampening else g)
        d = wb * mom + g if nesterov else wb
        wp = p - d * lr
    C.sgd_update(p, g, b, 0.05, 0.9, dampening, nesterov, first)
    # the same operations in the same order (bit-exact on x86; a compiler may fuse them)
    np.testing.assert_allclose(b, wb, rtol=tol(dtype, 2)["rtol"], equal_nan=True)
    np.testing.assert_allclose(p, wp, rtol=tol(dtype, 2)["rtol"], equal_nan=True)


def test_sgd_update_aliasing_and_errors():
    p, b = np.ones(8, np.float32), np.zeros(8, np.float32)
    C.sgd_update(p, b, b, 0.1, 0.9, 0.0, False, False)  # g is the buffer: read as it was
    np.testing.assert_array_equal(p, 1.0)
    g = np.arange(16, dtype=np.float32)[::2]  # a strided gradient is copied
    C.sgd_update(p, g, b, 0.1, 0.9, 0.0, False, True)
    np.testing.assert_array_equal(b, g)
    with pytest.raises(ValueError, match=r"writeable C-contiguous arrays of one shape"):
        C.sgd_update(p, g, b[:4], 0.1, 0.9, 0.0, False, False)
    with pytest.raises(ValueError, match=r"g of shape \(4,\) for a parameter of shape"):
        C.sgd_update(p, g[:4], b, 0.1, 0.9, 0.0, False, False)
    with pytest.raises(TypeError, match="same dtype"):
        C.sgd_update(p, g, b.astype(np.float64), 0.1, 0.9, 0.0, False, False)
    C.sgd_update(p[:0], g[:0], b[:0], 0.1, 0.9, 0.0, False, False)  # zero-size


# The activations of csrc/kernels/activation_ops.h, as NumPy formulas (evaluated in float64).
SELU = (1.6732632423543772, 1.0507009873554805, 1.0)


def _softplus(x, p):
    z = x * p[0]
    return np.where(z > p[1], x, np.log1p(np.exp(z)) / p[0])


def _elu(x, p):
    return np.where(x > 0, x * p[1], np.expm1(x * p[2]) * p[0] * p[1])


ACT_FORWARD = {
    "hardshrink": lambda x, p: np.where(abs(x) <= p[0], 0, x),
    "softshrink": lambda x, p: np.where(x > p[0], x - p[0], np.where(x < -p[0], x + p[0], x * 0)),
    "threshold": lambda x, p: np.where(x <= p[0], p[1], x),
    "softplus": _softplus,
    "logsigmoid": lambda x, p: np.minimum(x, 0) - np.log1p(np.exp(-abs(x))),
    "elu": _elu,
    "leaky_relu": lambda x, p: np.where(x > 0, x, x * p[0]),
    "hardsigmoid": lambda x, p: np.clip(x + 3, 0, 6) / 6,
    "hardswish": lambda x, p: x * np.clip(x + 3, 0, 6) / 6,
    "huber": lambda x, p: np.minimum(abs(x), p[0]) * (abs(x) - np.minimum(abs(x), p[0]) * 0.5)
    * p[1],
    "cube": lambda x, p: x * x * x,
}
ACT_BACKWARD = {
    "leaky_relu": lambda x, g, p: np.where(x > 0, g, g * p[0]),
    "hardtanh": lambda x, g, p: np.where((x > p[0]) & (x < p[1]), g, 0),
    "hardsigmoid": lambda x, g, p: np.where((x > -3) & (x < 3), g * (1 / 6), 0),
    "hardswish": lambda x, g, p: np.where(x >= 3, g, np.where(x <= -3, 0, g * (x / 3 + 0.5))),
    "huber": lambda x, g, p: g * np.clip(x, -p[0], p[0]) * p[1],
    "hardshrink": lambda x, g, p: np.where(abs(x) > p[0], g, 0),
    "softshrink": lambda x, g, p: np.where(abs(x) > p[0], g, 0),
    "threshold": lambda x, g, p: np.where(x <= p[0], 0, g),
    "softplus": lambda x, g, p: np.where(x * p[0] > p[1], g, g / (1 + np.exp(-x * p[0]))),
    "logsigmoid": lambda x, g, p: g / (1 + np.exp(x)),
    "elu": lambda x, g, p: np.where(x > 0, g * p[1], g * p[2] * p[0] * p[1] * np.exp(x * p[2])),
    "cube": lambda x, g, p: g * (3 * (x * x)),
}
ACT_PARAMS = {"leaky_relu": (0.1, 0.0), "hardtanh": (-2.0, 3.0), "huber": (1.5, 0.5),
              "softplus": (1.5, 4.0), "elu": SELU, "hardshrink": (2.0,), "softshrink": (3.0,),
              "threshold": (-1.0, 7.0)}


@pytest.mark.parametrize("n", (0,) + ODD_SIZES + (70000,))
@pytest.mark.parametrize("op", sorted(ACT_BACKWARD))
def test_activation_and_backward(simd, dtype, op, n):
    rng = np.random.default_rng(n)
    x = rand(rng, n, dtype, -5, 5)
    x[:12] = np.array([-4, -3, -1e-8, 0, -0.0, 3, 4, np.nan, np.inf, -np.inf, 2, -2])[:n]
    g = rand(rng, n, dtype)
    p = ACT_PARAMS.get(op, (0.0, 0.0))
    x64, g64 = x.astype(np.float64), g.astype(np.float64)
    with np.errstate(invalid="ignore", over="ignore"):
        if op in ACT_FORWARD:
            got = C.activation(op, x, *p)
            assert got.dtype == dtype and got.shape == x.shape
            np.testing.assert_allclose(got, ACT_FORWARD[op](x64, p), **tol(dtype))
        want = ACT_BACKWARD[op](x64, g64, p)
        g15 = ACT_BACKWARD[op](x64, np.full_like(x64, 1.5), p)
    got = C.activation_backward(op, x, g, *p)
    assert got.dtype == dtype
    np.testing.assert_allclose(got, want, **tol(dtype))
    # a broadcast gradient (that of .sum()) and a strided x
    g1 = np.broadcast_to(np.asarray(1.5, dtype), x.shape)
    np.testing.assert_allclose(C.activation_backward(op, x, g1, *p), g15, **tol(dtype))
    xs = np.repeat(x, 2)[::2]
    np.testing.assert_allclose(C.activation_backward(op, xs, g, *p), want, **tol(dtype))


@pytest.mark.parametrize("op", ["softplus", "logsigmoid", "elu"])
def test_transcendental_activations_float32_ulps(simd, op):
    """float32 against float64 over [-30, 30] and the ranges' edges: a few ulp (beta and
    input_scale 1: a scaled float32 argument carries its own rounding, as in PyTorch)."""
    x = np.concatenate([np.linspace(-30, 30, 200003), [-104, -88, 88, 1e-30, -1e-30, 0.4999,
                                                      0.5, -0.5, 1e-7, -1e-7]]).astype(np.float32)
    p = {"softplus": (1.0, 20.0), "elu": SELU}.get(op, ())
    x64 = x.astype(np.float64)
    with np.errstate(over="ignore"):
        for got, want in ((C.activation(op, x, *p), ACT_FORWARD[op](x64, p)),
                          (C.activation_backward(op, x, np.ones_like(x), *p),
                           ACT_BACKWARD[op](x64, np.ones_like(x64), p))):
            want32 = want.astype(np.float32)
            ulp = np.spacing(np.maximum(abs(want32), np.finfo(np.float32).tiny))
            assert np.max(abs(got - want) / ulp) <= 4, (op, x[np.argmax(abs(got - want) / ulp)])


def test_activation_errors():
    x = np.ones(3, np.float32)
    with pytest.raises(ValueError, match="op must be"):
        C.activation("relu7", x)
    with pytest.raises(ValueError, match="clamp"):
        C.activation("hardtanh", x)
    with pytest.raises(ValueError, match="same shape"):
        C.activation_backward("hardswish", x, np.ones(4, np.float32))
    with pytest.raises(TypeError):
        C.activation_backward("hardswish", x, np.ones(3))


@pytest.mark.parametrize("n", (0,) + ODD_SIZES)
@pytest.mark.parametrize("w", (0.0, 0.3, 0.5, 0.7, 1.0, -0.2, 1.5))
def test_lerp_scalar_weight(simd, dtype, n, w):
    """fma(w, b - a, a) for |w| < 0.5, else fma(w - 1, b - a, b): every element the same fma
    whatever the level (float64 reference with one rounding of the fma's inputs)."""
    rng = np.random.default_rng(n)
    a, b = rand(rng, n, dtype), rand(rng, n, dtype, -100, 100)
    a[:3], b[:3] = np.array([np.inf, np.nan, 0.0])[:n], np.array([1.0, 2.0, -0.0])[:n]
    d = (b - a).astype(np.float64)  # (rounded as the kernel's subtraction)
    c, base = (dtype(w), a) if abs(w) < 0.5 else (dtype(w) - dtype(1), b)
    with np.errstate(invalid="ignore"):
        want = base + np.float64(c) * d
        err = np.finfo(dtype).eps * (abs(base) + abs(np.float64(c) * d))  # one rounding
    got = C.lerp(a, b, w)
    assert got.dtype == dtype and got.shape == a.shape
    finite = np.isfinite(want)
    assert np.all(abs(got[finite] - want[finite]) <= err[finite])
    np.testing.assert_array_equal(got[~finite], want[~finite].astype(dtype))
    if n > 3:  # exact at both ends (where finite: 0 * inf is NaN, as in PyTorch)
        np.testing.assert_array_equal(C.lerp(a[3:], b[3:], 0.0), a[3:])
        np.testing.assert_array_equal(C.lerp(a[3:], b[3:], 1.0), b[3:])
    # strided operands are copied contiguous first
    np.testing.assert_array_equal(C.lerp(np.repeat(a, 2)[::2], b, w), got)


def test_lerp_errors():
    a = np.ones(3, np.float32)
    with pytest.raises(ValueError, match="same shape"):
        C.lerp(a, np.ones(4, np.float32), 0.5)
    with pytest.raises(TypeError):
        C.lerp(a, np.ones(3), 0.5)
