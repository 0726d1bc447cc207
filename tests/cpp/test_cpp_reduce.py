"""sum / mean / amax / var over any axes and batch_norm_stats against NumPy."""

from __future__ import annotations

import numpy as np
import pytest
from cpp_helpers import ODD_SIZES, C, num_threads, rand, tol
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

SHAPES_AXES = [
    ((7,), None),
    ((7,), (0,)),
    ((17, 31), (0,)),
    ((17, 31), (1,)),
    ((17, 31), None),
    ((3, 33, 5), (1,)),
    ((3, 33, 5), (0, 2)),
    ((3, 33, 5), (0, 1)),
    ((2, 3, 4, 5), (0, 2, 3)),
    ((2, 3, 4, 5), (1, 3)),
    ((2, 1, 4), (1,)),
    ((4, 5), ()),
    ((0, 5), (0,)),
    ((0, 5), (1,)),
    ((3, 0, 2), (0, 2)),
]


def _ref(op, x, axis, keepdims, correction=0):
    x64 = x.astype(np.float64)
    with np.errstate(all="ignore"):
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if op == "sum":
                r = x64.sum(axis=axis, keepdims=keepdims)
            elif op == "mean":
                r = x64.mean(axis=axis, keepdims=keepdims)
            elif op == "amax":
                r = x64.max(axis=axis, keepdims=keepdims)
            else:
                r = x64.var(axis=axis, ddof=correction, keepdims=keepdims)
    return np.asarray(r).astype(x.dtype)


@pytest.mark.parametrize("op", ["sum", "mean", "amax", "var"])
@pytest.mark.parametrize("shape,axis", SHAPES_AXES)
@pytest.mark.parametrize("keepdims", [False, True])
def test_reduce(simd, dtype, op, shape, axis, keepdims):
    rng = np.random.default_rng(0)
    x = rand(rng, shape, dtype)
    if op == "amax" and x.size == 0 and axis is not None and any(shape[a] == 0 for a in axis):
        with pytest.raises(ValueError, match="zero-size"):
            C.amax(x, axis, keepdims)
        return
    if op == "amax" and x.size == 0 and axis is None:
        return
    args = (x, axis, 0.0, keepdims) if op == "var" else (x, axis, keepdims)
    got = getattr(C, op)(*args)
    want = _ref(op, x, axis, keepdims)
    assert got.shape == want.shape and got.dtype == dtype
    np.testing.assert_allclose(got, want, equal_nan=True, **tol(dtype, 10))


@pytest.mark.parametrize("n", ODD_SIZES + (100_003,))
@pytest.mark.parametrize("op", ["sum", "mean", "amax", "var"])
def test_reduce_rows_odd(simd, dtype, op, n):
    rng = np.random.default_rng(n)
    x = rand(rng, (3, n), dtype) + 1.5
    for axis in ((1,), (0,), None):
        args = (x, axis, 1.0, False) if op == "var" else (x, axis, False)
        got = getattr(C, op)(*args)
        want = _ref(op, x, axis, False, correction=1)
        with np.errstate(all="ignore"):
            np.testing.assert_allclose(got, want, equal_nan=True, **tol(dtype, 10))


@pytest.mark.parametrize("n", [1, 2, 7, 8, 9, 16, 23, 24, 31, 33, 40])
@pytest.mark.parametrize("threads", [1, 2])
def test_reduce_many_short_rows(simd, dtype, n, threads):
    """Many rows shorter than the kernels' 4-vector step: whole vectors, then scalars; one
    element a row is a copy (not a view of the input)."""
    rng = np.random.default_rng(n)
    x = rand(rng, (20001, n), dtype)
    with num_threads(threads):
        for op in ("sum", "mean", "amax"):
            got = getattr(C, op)(x, (1,), False)
            np.testing.assert_allclose(got, _ref(op, x, (1,), False), **tol(dtype, 10))
        if n == 1:
            got = C.sum(x, (1,), True)
            got[0, 0] += 1
            assert got[0, 0] != x[0, 0]


def test_reduce_single_long_row_threaded(dtype):
    rng = np.random.default_rng(1)
    x = rand(rng, (1_000_001,), dtype) + 3.0
    np.testing.assert_allclose(C.sum(x), x.astype(np.float64).sum(), rtol=1e-6)
    np.testing.assert_allclose(C.var(x), x.astype(np.float64).var(), rtol=1e-5)
    x[123_457] = 99.0
    assert C.amax(x) == 99.0
    x[777_777] = np.nan
    assert np.isnan(C.amax(x)) and np.isnan(C.amax(x[:-1].reshape(1000, 1000), (1,))).any()


def test_reduce_views_and_nan(simd):
    rng = np.random.default_rng(2)
    x = rand(rng, (40, 50), np.float32)
    for v in (x.T, x[::3, 1::2], x[:, ::-1]):
        np.testing.assert_allclose(C.sum(v, (0,)), v.sum(0), rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(C.amax(v, (1,)), v.max(1))
    x[5, 7] = np.nan
    assert np.isnan(C.amax(x, (0,))[7]) and np.isnan(C.amax(x, (1,))[5])
    assert np.isnan(C.amax(x, (0,))).sum() == 1


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("op", ["sum", "mean", "amax", "var"])
def test_reduce_columns_folded_and_sliced(dtype, op, threads):
    """The column layout: narrow rows folded k at a time (with a remainder of rows), and
    the rows sliced over the threads when there are fewer column chunks than threads; sums
    in register bands (several, in tiles of rows, with a tail of columns)."""
    rng = np.random.default_rng(5)
    with num_threads(threads):
        for outer, n, inner in [(1, 1000, 3), (3, 33, 16), (1, 7, 17), (2, 517, 100),
                                (1, 129, 511), (1, 300, 513), (1, 4099, 1), (5, 1, 8),
                                (2, 100, 32), (1, 257, 300), (1, 40, 2100)]:
            x = rand(rng, (outer, n, inner), dtype) + 1.0
            if op == "amax":
                x[-1, n - 1, inner // 2] = np.nan  # in the last (remainder) rows
            args = (x, (1,), 1.0, False) if op == "var" else (x, (1,), False)
            got = getattr(C, op)(*args)
            want = _ref(op, x, (1,), False, correction=1)
            with np.errstate(all="ignore"):
                np.testing.assert_allclose(got, want, equal_nan=True, **tol(dtype, 10))
            if op == "amax":
                assert np.isnan(got[-1, inner // 2]) and np.isnan(got).sum() == 1


@pytest.mark.parametrize("correction", [0.0, 1.0, 12.0])
def test_var_of_channels_without_transpose(dtype, correction):
    """var over (reduced, kept, reduced) axes, as batch norm takes it, with any correction
    (n - correction = 0 gives inf or nan, as NumPy)."""
    x = rand(np.random.default_rng(6), (3, 5, 4), dtype) * 2 + 1
    for keep in (False, True):
        got = C.var(x, (0, 2), correction, keep)
        want = _ref("var", x, (0, 2), keep, correction=int(correction))
        assert got.shape == want.shape and got.dtype == dtype
        with np.errstate(all="ignore"):
            np.testing.assert_allclose(got, want, equal_nan=True, **tol(dtype, 10))


@settings(max_examples=50, deadline=None)
@given(
    x=hnp.arrays(
        np.float64,
        hnp.array_shapes(min_dims=1, max_dims=4, max_side=6),
        elements=st.floats(-100, 100),
    ),
    data=st.data(),
)
def test_reduce_fuzz(x, data):
    axes = data.draw(
        st.lists(st.integers(0, x.ndim - 1), unique=True).map(lambda a: tuple(sorted(a)))
    )
    keep = data.draw(st.booleans())
    for op in ("sum", "mean", "var"):
        args = (x, axes, 0.0, keep) if op == "var" else (x, axes, keep)
        np.testing.assert_allclose(
            getattr(C, op)(*args), _ref(op, x, axes, keep), rtol=1e-9, atol=1e-9, equal_nan=True
        )


@pytest.mark.parametrize("shape", [(8, 3), (4, 3, 17), (2, 5, 7, 9), (33, 1), (1, 4, 1025), (0, 3)])
def test_batch_norm_stats(simd, dtype, shape):
    rng = np.random.default_rng(3)
    x = rand(rng, shape, dtype) * 3 + 1
    axes = (0,) + tuple(range(2, len(shape)))
    mean, var = C.batch_norm_stats(x, axes)
    with np.errstate(all="ignore"), pytest.warns(RuntimeWarning) if x.size == 0 else _null():
        wm = x.astype(np.float64).mean(axis=axes, keepdims=True)
        wv = x.astype(np.float64).var(axis=axes, keepdims=True)
    assert mean.shape == wm.shape and var.shape == wv.shape and mean.dtype == dtype
    np.testing.assert_allclose(mean, wm, equal_nan=True, **tol(dtype, 10))
    np.testing.assert_allclose(var, wv, equal_nan=True, **tol(dtype, 10))


def test_batch_norm_stats_other_axis():
    x = np.random.default_rng(4).normal(size=(4, 5, 6)).astype(np.float32)
    mean, var = C.batch_norm_stats(x, (0, 1))
    np.testing.assert_allclose(mean, x.mean(axis=(0, 1), keepdims=True), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(var, x.var(axis=(0, 1), keepdims=True), rtol=1e-5, atol=1e-6)


class _null:
    def __enter__(self):
        return self

    def __exit__(self, *a):
        return False


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("shape,rows_shape", [((7, 3), (20,)), ((50, 1025), (4, 33)),
                                              ((5,), (9,)), ((3, 2, 700), (2, 5)), ((4, 0), (3,))])
def test_index_add_rows(dtype, threads, shape, rows_shape):
    rng = np.random.default_rng(7)
    rows = rng.integers(-shape[0], shape[0], rows_shape)  # repeats and negatives
    g = rand(rng, rows_shape + shape[1:], dtype)
    with num_threads(threads):
        out = np.zeros(shape, dtype)
        C.index_add_rows(out, rows, g)
    want = np.zeros(shape, np.float64)
    np.add.at(want, rows, g.astype(np.float64))
    np.testing.assert_allclose(out, want, **tol(dtype, 10))


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("shape,axis,rows_shape", [
    ((64, 33, 5), 1, (70,)), ((6, 9, 1), 1, (2, 3)), ((4, 5, 3000), 1, (7,)),
    ((2048, 16), 1, (32,)), ((3, 4, 17), 2, (5, 2)), ((2, 3), 1, (0,)), ((0, 4, 2), 1, (3,))])
def test_index_add_rows_along_an_axis(dtype, threads, shape, axis, rows_shape):
    """x[:, rows] and x[..., rows]'s backward (nearest upsampling): narrow and blocked rows."""
    rng = np.random.default_rng(9)
    rows = rng.integers(-shape[axis], shape[axis], rows_shape)  # repeats and negatives
    g = rand(rng, shape[:axis] + rows_shape + shape[axis + 1:], dtype)
    with num_threads(threads):
        out = np.zeros(shape, dtype)
        C.index_add_rows(out, rows, g, axis)
    want = np.zeros(shape, np.float64)
    np.add.at(want, (slice(None),) * axis + (rows,), g.astype(np.float64))
    np.testing.assert_allclose(out, want, **tol(dtype, 10))


@pytest.mark.parametrize("shape,axis,m", [((4, 16, 16), 1, 32), ((5, 3, 7), 2, 11),
                                          ((9, 2), 0, 4), ((2, 1, 3), 1, 5), ((0, 4), 1, 3)])
def test_lerp_rows_and_adjoint(dtype, shape, axis, m):
    rng = np.random.default_rng(10)
    n = shape[axis]
    lo = rng.integers(0, n, m)
    hi = np.minimum(lo + 1, n - 1)  # equal at the edge, as upsampling's
    frac = rng.uniform(0, 1, m)
    x = rand(rng, shape, dtype)
    at = (slice(None),) * axis
    f = frac.astype(dtype).reshape((-1,) + (1,) * (len(shape) - axis - 1))
    want = x[at + (lo,)] * (1 - f) + x[at + (hi,)] * f
    np.testing.assert_allclose(C.lerp_rows(x, axis, lo, hi, frac), want, **tol(dtype))
    g = rand(rng, want.shape, dtype)
    gx = np.zeros(shape, np.float64)
    np.add.at(gx, at + (lo,), g * (1 - f))
    np.add.at(gx, at + (hi,), g * f)
    np.testing.assert_allclose(C.lerp_rows_backward(g, axis, lo, hi, frac, n), gx,
                               **tol(dtype, 4))
    xs = np.repeat(x, 2, axis=-1)[..., ::2]  # a strided x
    np.testing.assert_allclose(C.lerp_rows(xs, axis, lo, hi, frac), want, **tol(dtype))


def test_lerp_rows_errors():
    x, i = np.ones((3, 4), np.float32), np.array([0, 3])
    with pytest.raises(IndexError, match="out of bounds for an axis of size 4"):
        C.lerp_rows(x, 1, i, i + 1, np.zeros(2))
    with pytest.raises(ValueError, match="axis 2 is out of range"):
        C.lerp_rows(x, 2, i, i, np.zeros(2))
    with pytest.raises(ValueError, match="vectors of one length"):
        C.lerp_rows(x, 1, i, i, np.zeros(3))
    with pytest.raises(TypeError, match="integers"):
        C.lerp_rows(x, 1, i.astype(float), i, np.zeros(2))
    with pytest.raises(ValueError, match="g has 4 rows"):
        C.lerp_rows_backward(x, 1, i, i, np.zeros(2), 4)


def test_index_add_rows_errors():
    out, g = np.zeros((4, 3), np.float32), np.ones((2, 3), np.float32)
    with pytest.raises(IndexError, match="out of bounds for dimension 0 with size 4"):
        C.index_add_rows(out, np.array([1, 4]), g)
    with pytest.raises(IndexError):
        C.index_add_rows(out, np.array([-5, 0]), g)
    with pytest.raises(ValueError, match=r"g must have shape \(2, 3\)"):
        C.index_add_rows(out, np.array([0, 1]), g[:, :2])
    with pytest.raises(TypeError, match="integers"):
        C.index_add_rows(out, np.array([0.0, 1.0]), g)
    with pytest.raises((TypeError, ValueError), match="dtype|float"):
        C.index_add_rows(out, np.array([0, 1]), g.astype(np.float64))
    with pytest.raises(ValueError, match="C-contiguous"):
        C.index_add_rows(np.zeros((3, 4), np.float32).T, np.array([0, 1]), g)
    with pytest.raises(IndexError, match="out of bounds for dimension 1 with size 3"):
        C.index_add_rows(out, np.array([0, 3]), np.ones((4, 2), np.float32), 1)
    with pytest.raises(ValueError, match="axis 2 is out of range"):
        C.index_add_rows(out, np.array([0, 1]), g, 2)
    with pytest.raises(ValueError, match=r"g must have shape \(4, 2\)"):
        C.index_add_rows(out, np.array([0, 1]), g, 1)
    rows = np.array([-1, 0])
    C.index_add_rows(out, rows, g)
    assert rows.tolist() == [-1, 0] and out[3].tolist() == [1, 1, 1]  # caller's rows untouched


@pytest.mark.parametrize("largest", [True, False])
@pytest.mark.parametrize("shape,k", [((3, 50), 5), ((1, 1), 1), ((4, 7), 7), ((2, 3, 300), 64),
                                     ((5, 0), 0), ((6, 9), 0)])
def test_topk_rows(dtype, largest, shape, k):
    rng = np.random.default_rng(8)
    x = rng.integers(-20, 20, shape).astype(dtype)  # many ties
    if x.size:
        x.reshape(-1)[:: 7] = np.nan
    v, i = C.topk(x, k, largest)
    assert v.shape == shape[:-1] + (k,) and i.dtype == np.int64
    key = np.where(np.isnan(x), np.inf, x)  # NaN above every number
    order = np.argsort(-key if largest else key, axis=-1, kind="stable")[..., :k]
    np.testing.assert_array_equal(i, order)  # ties: the lower index first
    np.testing.assert_array_equal(v, np.take_along_axis(x, order, -1))


def test_topk_rows_errors_and_sorted_input():
    x = np.arange(1000, dtype=np.float32)  # ascending: every element enters the buffer
    v, i = C.topk(x, 10)
    assert i.tolist() == list(range(999, 989, -1))
    with pytest.raises(ValueError, match="out of range"):
        C.topk(x, 1001)
    with pytest.raises(ValueError, match="at least a 1-D"):
        C.topk(np.ones((), np.float32), 1)


def _stable_order(x, descending):
    """np's stable argsort with NaN above every number and -0.0 equal to 0.0 (PyTorch's)."""
    if descending:  # stable among ties: sort the reversed row, map back, reverse
        n = x.shape[-1]
        return n - 1 - np.flip(np.argsort(np.flip(x, -1), -1, kind="stable"), -1)
    return np.argsort(x, -1, kind="stable")


@pytest.mark.parametrize("descending", [False, True])
@pytest.mark.parametrize("n", (0, 2, 24, 32) + ODD_SIZES + (70_001,))
def test_sort_rows(dtype, descending, n):
    rng = np.random.default_rng(n)
    for x in (rng.standard_normal((3, n)).astype(dtype),
              rng.integers(-4, 4, (5, n)).astype(dtype)):  # many ties
        if n and x.dtype.kind == "f" and x[0, 0] == round(x[0, 0]):
            x[:, ::7] = np.nan
            x[:, 1::5] = -0.0
            x[:, 2::9] = np.inf
            x[:, 3::11] = -np.inf
        v, i = C.sort(x, descending)
        assert v.shape == i.shape == x.shape and v.dtype == dtype and i.dtype == np.int64
        order = _stable_order(x, descending)
        np.testing.assert_array_equal(i, order)
        np.testing.assert_array_equal(v, np.take_along_axis(x, order, -1))


@pytest.mark.parametrize("threads", [1, 2])
def test_sort_rows_threaded_views_and_errors(threads):
    rng = np.random.default_rng(2)
    with num_threads(threads):
        x = rng.standard_normal((40, 300, 7))[:, ::2, 3]  # a strided view: copied first
        v, i = C.sort(x)
        np.testing.assert_array_equal(i, np.argsort(x, -1, kind="stable"))
        np.testing.assert_array_equal(v, np.sort(x, -1))
        # (2, 3, 0) and (0, 5): nothing to sort
        assert C.sort(np.zeros((2, 3, 0), np.float32))[1].shape == (2, 3, 0)
        assert C.sort(np.zeros((0, 5), np.float32))[0].shape == (0, 5)
    with pytest.raises(ValueError, match="at least a 1-D"):
        C.sort(np.ones((), np.float32))
    with pytest.raises(TypeError, match="float32, float64, int32 or int64 array, got int16"):
        C.sort(np.ones(3, np.int16))


@pytest.mark.parametrize("descending", [False, True])
@pytest.mark.parametrize("itype", [np.int32, np.int64])
def test_sort_rows_integers(itype, descending):
    rng = np.random.default_rng(3)
    info = np.iinfo(itype)
    for x in (rng.integers(info.min, info.max, (4, 1000), dtype=itype, endpoint=True),
              rng.integers(-3, 3, (6, 77)).astype(itype)):  # ties
        x[:, :2] = [info.min, info.max]
        v, i = C.sort(x, descending)
        assert v.dtype == itype and i.dtype == np.int64
        order = _stable_order(x, descending)
        np.testing.assert_array_equal(i, order)
        np.testing.assert_array_equal(v, np.take_along_axis(x, order, -1))


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("shape,m", [((3, 7), 5), ((2, 3, 33), 40), ((1025, 17), 17),
                                     ((4, 1), 3), ((0, 5), 2), ((3, 4), 0)])
def test_gather_and_scatter_add_last(dtype, threads, shape, m):
    rng = np.random.default_rng(m)
    x = rand(rng, shape, dtype)
    n = shape[-1]
    idx = rng.integers(0, n, shape[:-1] + (m,))  # repeats
    with num_threads(threads):
        got = C.gather_last(x, idx)
        np.testing.assert_array_equal(got, np.take_along_axis(x, idx, -1))
        src = rand(rng, idx.shape, dtype)
        out = x.copy()
        C.scatter_add_last(out, idx, src)
        want = x.astype(np.float64)
        grid = np.indices(idx.shape, sparse=True)
        np.add.at(want, tuple(grid[:-1]) + (idx,), src)
        np.testing.assert_allclose(out, want, **tol(dtype, 4))


def test_gather_and_scatter_add_last_views_aliasing_and_errors():
    x = np.arange(24, dtype=np.float32).reshape(4, 6)
    idx = np.array([[5, 0], [1, 1], [2, 3], [0, 0]], np.int32)
    np.testing.assert_array_equal(C.gather_last(x[:, ::2], idx % 3), np.take_along_axis(
        x[:, ::2], idx % 3, -1))  # a strided input is copied
    out = np.ones((4, 2), np.float32)
    C.scatter_add_last(out, np.zeros((4, 2), np.int64), out)  # src is out: read as it was
    assert out.tolist() == [[3, 1]] * 4
    with pytest.raises(IndexError, match="index 6 is out of bounds for the last dimension, of "
                                         "size 6"):
        C.gather_last(x, np.array([[0], [6], [0], [0]]))
    with pytest.raises(IndexError, match="index -7 is out of bounds"):
        C.scatter_add_last(x.copy(), np.array([[0], [0], [-7], [0]]), np.ones((4, 1), np.float32))
    with pytest.raises(IndexError, match="index -1 is out of bounds"):  # PyTorch's range [0, n)
        C.gather_last(x, np.array([[0], [0], [-1], [0]]))
    with pytest.raises(ValueError, match=r"index of shape \(3, 1\) must match the array's shape "
                                         r"\(4, 6\) in every dimension but the last"):
        C.gather_last(x, np.zeros((3, 1), np.int64))
    with pytest.raises(TypeError, match="index must be integers"):
        C.gather_last(x, np.zeros((4, 1), np.float32))
    with pytest.raises(ValueError, match="src of shape"):
        C.scatter_add_last(x.copy(), np.zeros((4, 1), np.int64), np.ones((4, 2), np.float32))
    with pytest.raises(ValueError, match="writeable C-contiguous"):
        C.scatter_add_last(x.T, np.zeros((6, 1), np.int64), np.ones((6, 1), np.float32))


@settings(max_examples=60, deadline=None)
@given(
    x=hnp.arrays(
        st.sampled_from([np.float32, np.float64]),
        hnp.array_shapes(min_dims=1, max_dims=3, max_side=40),
        elements=st.floats(allow_nan=True, allow_infinity=True, width=32),
    ),
    descending=st.booleans(),
    data=st.data(),
)
def test_sort_gather_scatter_fuzz(x, descending, data):
    """Any values (NaN, infinities, signed zeros, ties) and shapes: the radix sort against
    NumPy's stable argsort, and the last-axis gather / scatter-add against NumPy."""
    v, i = C.sort(x, descending)
    order = _stable_order(x, descending)
    np.testing.assert_array_equal(i, order)
    np.testing.assert_array_equal(v, np.take_along_axis(x, order, -1))
    n = x.shape[-1]
    m = data.draw(st.integers(0, 2 * n))
    idx = data.draw(hnp.arrays(np.int64, x.shape[:-1] + (m,), elements=st.integers(0, n - 1)))
    np.testing.assert_array_equal(C.gather_last(x, idx), np.take_along_axis(x, idx, -1))
    src = np.ones(idx.shape, x.dtype)
    out = np.zeros(x.shape, x.dtype)
    C.scatter_add_last(out, idx, src)
    want = np.zeros(x.shape)
    np.add.at(want, tuple(np.indices(idx.shape, sparse=True)[:-1]) + (idx,), 1.0)
    np.testing.assert_array_equal(out, want)


@pytest.mark.parametrize("shape,axis", [((0,), 0), ((1,), 0), ((1025,), -1), ((3, 5, 7), 1),
                                        ((33, 17), 0), ((33, 17), 1), ((2, 3, 300), 2),
                                        ((4, 0, 3), 1), ((2, 600, 3), 1), ((), 0)])
@pytest.mark.parametrize("reverse", [False, True])
def test_cumsum_in_double_rounded_once(dtype, shape, axis, reverse):
    x = np.random.default_rng(len(shape)).standard_normal(shape).astype(dtype)
    xs = x if x.ndim == 0 else x.swapaxes(0, -1).copy().swapaxes(0, -1)  # a strided view
    flip = (lambda a: np.flip(a, axis)) if reverse and x.ndim else (lambda a: a)
    want = flip(np.cumsum(flip(x).astype(np.float64), axis=axis if x.ndim else None))
    want = want.reshape(x.shape).astype(dtype)
    for a in (x, xs):
        got = C.cumsum(a, axis, reverse)
        assert got.dtype == dtype and got.shape == x.shape
        np.testing.assert_array_equal(got, want)
    with pytest.raises(ValueError, match="out of range"):
        C.cumsum(x, max(x.ndim, 1), reverse)


@pytest.mark.parametrize("shape,axis", [((0,), 0), ((1,), 0), ((1025,), -1), ((3, 5, 7), 1),
                                        ((33, 17), 0), ((33, 17), 1), ((2, 3, 300), 2),
                                        ((4, 0, 3), 1), ((2, 600, 3), 1), ((), 0)])
def test_cumprod_in_double_rounded_once(dtype, shape, axis):
    rng = np.random.default_rng(len(shape))
    x = np.asarray(rng.random(shape) * 1.2 + 0.4, dtype)  # products neither vanish nor overflow
    if x.size > 3:
        x.flat[2], x.flat[3] = 0.0, np.nan  # zeros and NaN carry on as in NumPy
    xs = x if x.ndim == 0 else x.swapaxes(0, -1).copy().swapaxes(0, -1)  # a strided view
    want = np.cumprod(x.astype(np.float64), axis=axis if x.ndim else None)
    want = want.reshape(x.shape).astype(dtype)
    for a in (x, xs):
        got = C.cumprod(a, axis)
        assert got.dtype == dtype and got.shape == x.shape
        np.testing.assert_array_equal(got, want)
    with pytest.raises(ValueError, match="cumprod: axis .* out of range"):
        C.cumprod(x, max(x.ndim, 1))
