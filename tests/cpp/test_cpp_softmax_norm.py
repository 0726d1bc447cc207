"""softmax / log_softmax (any axis) with fused backward, and fused layer norm."""

from __future__ import annotations

import numpy as np
import pytest
from cpp_helpers import ODD_SIZES, C, num_threads, rand, tol


def softmax_ref(x, axis):
    x = x.astype(np.float64)
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def log_softmax_ref(x, axis):
    x = x.astype(np.float64)
    s = x - x.max(axis=axis, keepdims=True)
    return s - np.log(np.exp(s).sum(axis=axis, keepdims=True))


@pytest.mark.parametrize("n", ODD_SIZES + (5000,))
def test_softmax_rows(simd, dtype, n):
    rng = np.random.default_rng(n)
    x = rand(rng, (3, n), dtype, -20, 20)
    y, ly = C.softmax(x, 1), C.log_softmax(x, 1)
    assert y.dtype == dtype and ly.dtype == dtype
    np.testing.assert_allclose(y, softmax_ref(x, 1), **tol(dtype))
    np.testing.assert_allclose(ly, log_softmax_ref(x, 1), **tol(dtype, 5))
    gy = rand(rng, (3, n), dtype)
    y64 = y.astype(np.float64)
    want = y64 * (gy - (gy * y64).sum(1, keepdims=True))
    np.testing.assert_allclose(C.softmax_backward(y, gy, 1), want, **tol(dtype, 5))
    want = gy - np.exp(ly.astype(np.float64)) * gy.astype(np.float64).sum(1, keepdims=True)
    np.testing.assert_allclose(C.log_softmax_backward(ly, gy, 1), want, **tol(dtype, 50))


@pytest.mark.parametrize("shape", [(4, 5, 6), (2, 33, 17), (1, 7), (0, 4), (3, 0)])
def test_softmax_any_axis(simd, dtype, shape):
    rng = np.random.default_rng(0)
    x = rand(rng, shape, dtype, -5, 5)
    gy = rand(rng, shape, dtype)
    for axis in range(len(shape)):
        y = C.softmax(x, axis)
        ly = C.log_softmax(x, axis)
        if x.size == 0:  # NumPy's reference raises on an empty max; the kernels return empty
            assert y.shape == ly.shape == C.softmax_backward(y, gy, axis).shape == shape
            continue
        np.testing.assert_allclose(y, softmax_ref(x, axis), **tol(dtype))
        np.testing.assert_allclose(ly, log_softmax_ref(x, axis), **tol(dtype, 5))
        want = y * (gy - (gy * y).sum(axis, keepdims=True))
        np.testing.assert_allclose(C.softmax_backward(y, gy, axis), want, **tol(dtype, 5))
        want = gy - np.exp(ly) * gy.sum(axis, keepdims=True)
        np.testing.assert_allclose(C.log_softmax_backward(ly, gy, axis), want, **tol(dtype, 50))
    if x.size:
        np.testing.assert_allclose(C.softmax(x, -1), softmax_ref(x, len(shape) - 1), **tol(dtype))


def test_softmax_views_and_extremes(simd):
    rng = np.random.default_rng(1)
    x = rand(rng, (20, 2050), np.float32, -50, 50)
    for v in (x.T, x[::3, ::2], x[:, ::-1]):
        np.testing.assert_allclose(C.softmax(v, 1), softmax_ref(v, 1), rtol=2e-5, atol=1e-7)
    z = np.array([[-np.inf, 0.0, 1.0], [-np.inf] * 3, [np.nan, 1, 2], [1e30, -1e30, 0]], np.float32)
    with np.errstate(all="ignore"):
        np.testing.assert_allclose(C.softmax(z, 1), softmax_ref(z, 1), equal_nan=True, atol=1e-7)
        np.testing.assert_allclose(
            C.log_softmax(z, 1), log_softmax_ref(z, 1), equal_nan=True, rtol=1e-6
        )
    # a long row whose first block is all -inf
    w = np.full(3000, -np.inf, np.float32)
    w[2500:] = 0.0
    np.testing.assert_allclose(C.softmax(w, 0), softmax_ref(w, 0), atol=1e-9)


@pytest.mark.parametrize("offset", [1e4, 1e6, 1e30, -1e30])
@pytest.mark.parametrize("n", [7, 1024, 3000])
def test_log_softmax_of_large_logits(simd, dtype, offset, n):
    """(x - max) - log(sum): taking x - lse in one step lost log(sum) to lse's rounding
    (every output 0 at offset 1e30)."""
    x = (rand(np.random.default_rng(n), (3, n), np.float64) + offset).astype(dtype)
    for axis, v in ((1, x), (0, np.ascontiguousarray(x.T))):
        np.testing.assert_allclose(C.log_softmax(v, axis), log_softmax_ref(v, axis),
                                   rtol=1e-6, atol=2e-5)


@pytest.mark.parametrize("m", [-89.0, -20.0, 0.0, 35.5, 80.0, 89.9, 90.5, 200.0])
def test_softmax_exps_taken_without_rounding_x_minus_max(simd, m):
    """Logits up to a max m, spread less than 86: the float32 vector levels take exp(x - m)
    with m folded into the exp (|m| <= 90), not of a rounded x - m (64 ulps near m = 80)."""
    rng = np.random.default_rng(int(m * 10) % 1000)
    x = (m - rng.uniform(0, 80, (4, 1500))).astype(np.float32)
    want = softmax_ref(x, 1)
    rel = np.abs(C.softmax(x, 1) - want) / want
    # ~2.3 ulps where the exp is unrounded; beyond |m| = 90 the rounding of x - m stays
    assert rel.max() < (4e-7 if abs(m) <= 90 else 8e-6), rel.max()


@pytest.mark.parametrize("n", [64, 1023, 2050])
def test_softmax_exp_range_edges(simd, n):
    """The forward takes a short exp when a block's x - max stays within [-86, 0]; blocks
    reaching into the subnormal range, -inf masks, inf and NaN (with any payload) must
    take the full-range exp and match the float64 reference."""
    rng = np.random.default_rng(n)
    base = rand(rng, (n,), np.float32, -5, 0)
    rows = {}
    edges = np.array([0, -85.9, -86.1, -87.2, -87.5, -95, -103, -104, -110], np.float32)
    rows["edges"] = base.copy()
    rows["edges"][7 : 7 + edges.size] = edges
    rows["edges_late"] = base.copy()  # inside the second block of a long row
    rows["edges_late"][-edges.size :] = edges - 1
    rows["masked"] = base.copy()
    rows["masked"][n // 2 :] = -np.inf
    rows["pos_inf"] = base.copy()
    rows["pos_inf"][n // 3] = np.inf
    payload_nan = np.array([0x7FC001FF, 0xFFC0017F], np.uint32).view(np.float32)
    for k, v in enumerate(payload_nan):
        rows[f"nan{k}"] = base.copy()
        rows[f"nan{k}"][n // 2 - 3] = v
    for name, row in rows.items():
        x = np.stack([row, base])
        with np.errstate(all="ignore"):
            want, lwant = softmax_ref(x, 1), log_softmax_ref(x, 1)
            y, ly = C.softmax(x, 1), C.log_softmax(x, 1)
        np.testing.assert_allclose(y, want, rtol=2e-6, atol=2e-45, equal_nan=True, err_msg=name)
        np.testing.assert_allclose(ly, lwant, rtol=1e-6, atol=1e-6, equal_nan=True, err_msg=name)
        assert np.isnan(y[0]).any() == np.isnan(want[0]).any(), name


def ln_ref(x, w, b, k, eps):
    axes = tuple(range(x.ndim - k, x.ndim))
    x = x.astype(np.float64)
    mean = x.mean(axis=axes, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=axes, keepdims=True)
    rstd = 1 / np.sqrt(var + eps)
    y = (x - mean) * rstd
    if w is not None:
        y = y * w
    if b is not None:
        y = y + b
    batch = x.shape[: x.ndim - k]
    return y, mean.reshape(batch), rstd.reshape(batch)


def ln_bwd_ref(gy, x, mean, rstd, w, k):
    axes = tuple(range(x.ndim - k, x.ndim))
    bs = mean.shape + (1,) * k
    gy, x = gy.astype(np.float64), x.astype(np.float64)
    xhat = (x - mean.reshape(bs)) * rstd.reshape(bs)
    batch_axes = tuple(range(x.ndim - k))
    g = gy * w if w is not None else gy
    gx = rstd.reshape(bs) * (
        g - g.mean(axes, keepdims=True) - xhat * (g * xhat).mean(axes, keepdims=True)
    )
    if w is None:
        return gx, None, None
    return gx, (gy * xhat).sum(batch_axes), gy.sum(batch_axes)


@pytest.mark.parametrize(
    "shape,k",
    [
        ((5, 7), 1),
        ((3, 4, 33), 1),
        ((3, 4, 17), 2),
        ((2, 1025), 1),
        ((1, 1), 1),
        ((0, 8), 1),
        ((6, 3), 2),
    ],
)
@pytest.mark.parametrize("affine", ["both", "weight", "bias", "none"])
def test_layer_norm(simd, dtype, shape, k, affine):
    rng = np.random.default_rng(0)
    x = rand(rng, shape, dtype) * 3 + 2
    ps = shape[len(shape) - k :]
    w = rand(rng, ps, dtype) if affine in ("both", "weight") else None
    b = rand(rng, ps, dtype) if affine in ("both", "bias") else None
    y, mean, rstd = C.layer_norm(x, w, b, k, 1e-5)
    wy, wm, wr = ln_ref(x, w, b, k, 1e-5)
    assert y.shape == x.shape and mean.shape == wm.shape and rstd.shape == wr.shape
    assert y.dtype == dtype and mean.dtype == dtype
    np.testing.assert_allclose(y, wy, **tol(dtype, 10))
    np.testing.assert_allclose(mean, wm, **tol(dtype, 10))
    np.testing.assert_allclose(rstd, wr, **tol(dtype, 10))
    gy = rand(rng, shape, dtype)
    gx, gw, gb = C.layer_norm_backward(gy, x, mean, rstd, w, k)
    rx, rw, rb = ln_bwd_ref(gy, x, mean, rstd, w, k)
    np.testing.assert_allclose(gx, rx, **tol(dtype, 50))
    if w is None:
        assert gw is None and gb is None
    else:
        assert gw.shape == ps and gb.shape == ps and gw.dtype == dtype
        np.testing.assert_allclose(gw, rw, **tol(dtype, 50))
        np.testing.assert_allclose(gb, rb, **tol(dtype, 50))


def test_layer_norm_large_threaded_and_views():
    rng = np.random.default_rng(1)
    x = rand(rng, (513, 770), np.float32)[:, 1:]  # non-contiguous rows
    w, b = rand(rng, (769,), np.float32), rand(rng, (769,), np.float32)
    y, mean, rstd = C.layer_norm(x, w, b, 1, 1e-5)
    wy, _, _ = ln_ref(x, w, b, 1, 1e-5)
    np.testing.assert_allclose(y, wy, rtol=1e-4, atol=1e-4)
    gy = rand(rng, x.shape, np.float32)
    gx, gw, gb = C.layer_norm_backward(gy, x, mean, rstd, w, 1)
    rx, rw, rb = ln_bwd_ref(gy, x, mean, rstd, w, 1)
    np.testing.assert_allclose(gx, rx, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(gw, rw, rtol=1e-4, atol=1e-3)
    np.testing.assert_allclose(gb, rb, rtol=1e-4, atol=1e-3)


@pytest.mark.parametrize("affine", ["both", "weight", "bias", "none"])
def test_streaming_outputs_match_cached_path(simd, dtype, affine):
    """Outputs of 16 MiB or more are written with non-temporal stores; rows longer than the
    pipelined kernels' 256 KiB take the one-row kernels, which store after a scalar head that
    aligns each row to 32 bytes (rows of an odd length start at every alignment).  Rows are
    independent, so the first rows must match the same rows computed alone, which stay
    below the threshold and take the cached path."""
    n = (256 << 10) // np.dtype(dtype).itemsize + 1
    rows = (16 << 20) // (n * np.dtype(dtype).itemsize) + 1
    rng = np.random.default_rng(7)
    x = rand(rng, (rows, n), dtype, -8, 8)
    gy = rand(rng, (rows, n), dtype)
    few = slice(0, 9)
    for fwd, bwd in ((C.softmax, C.softmax_backward), (C.log_softmax, C.log_softmax_backward)):
        y = fwd(x, 1)
        np.testing.assert_allclose(y[few], fwd(x[few], 1), **tol(dtype))
        np.testing.assert_allclose(bwd(y, gy, 1)[few], bwd(y[few], gy[few], 1), **tol(dtype))
    w = rand(rng, (n,), dtype) if affine in ("both", "weight") else None
    b = rand(rng, (n,), dtype) if affine in ("both", "bias") else None
    y, mean, rstd = C.layer_norm(x, w, b, 1, 1e-5)
    y9, mean9, rstd9 = C.layer_norm(x[few], w, b, 1, 1e-5)
    np.testing.assert_allclose(y[few], y9, **tol(dtype))
    np.testing.assert_allclose(y[few], ln_ref(x[few], w, b, 1, 1e-5)[0], **tol(dtype, 5))
    gx = C.layer_norm_backward(gy, x, mean, rstd, w, 1)[0]
    gx9 = C.layer_norm_backward(gy[few], x[few], mean9, rstd9, w, 1)[0]
    np.testing.assert_allclose(gx[few], gx9, **tol(dtype))


@pytest.mark.parametrize("shape", [(1, 16), (2, 32), (5, 64), (33, 256), (300, 512), (70, 1024),
                                   (9, 4096), (1, 17), (3, 23), (40, 77), (65, 197), (12, 1000),
                                   (7, 4095), (5, 20001), (3, 65536), (9, 1), (40, 3), (33, 10),
                                   (64, 15)])
def test_pipelined_rows_cached(simd, dtype, shape):
    """Rows of 16 elements to 256 KiB take the pipelined row kernels below the streaming
    threshold, whatever the output's address; rows whose length is not a multiple of the
    kernels' step end in a step that overlaps the previous one, whose sums must count each
    element once.  Shorter rows take the softmax family's kernels that hold a row in
    registers, loaded past its end but in a block's last rows.  The rows around a special
    one must come out as computed alone."""
    if shape[1] * np.dtype(dtype).itemsize > (256 << 10):
        shape = (shape[0], shape[1] // 2)
    rng = np.random.default_rng(shape[0])
    x = rand(rng, shape, dtype, -8, 8)
    gy = rand(rng, shape, dtype)
    if shape[0] > 2:
        # the softmax forward hands this row to its one-row kernel
        x[1, min(2, shape[1] - 1)] = np.nan
    with np.errstate(invalid="ignore"):
        y, ly = C.softmax(x, 1), C.log_softmax(x, 1)
        np.testing.assert_allclose(y, softmax_ref(x, 1), equal_nan=True, **tol(dtype))
        np.testing.assert_allclose(ly, log_softmax_ref(x, 1), equal_nan=True, **tol(dtype, 5))
    x[np.isnan(x)] = 0
    y, ly = C.softmax(x, 1), C.log_softmax(x, 1)
    y64 = y.astype(np.float64)
    want = y64 * (gy - (gy * y64).sum(1, keepdims=True))
    np.testing.assert_allclose(C.softmax_backward(y, gy, 1), want, **tol(dtype, 5))
    want = gy - np.exp(ly.astype(np.float64)) * gy.astype(np.float64).sum(1, keepdims=True)
    np.testing.assert_allclose(C.log_softmax_backward(ly, gy, 1), want, **tol(dtype, 50))
    w = rand(rng, shape[1:], dtype)
    for wi, bi in ((w, w), (w, None), (None, w), (None, None)):
        out, mean, rstd = C.layer_norm(x, wi, bi, 1, 1e-5)
        np.testing.assert_allclose(out, ln_ref(x, wi, bi, 1, 1e-5)[0], **tol(dtype, 5))
        got = C.layer_norm_backward(gy, x, mean, rstd, wi, 1)
        want = ln_bwd_ref(gy, x, mean, rstd, wi, 1)
        for g, r in zip(got, want):
            if r is not None:
                np.testing.assert_allclose(g, r, **tol(dtype, 50))


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("n", [1, 2, 5, 8, 10, 15])
def test_short_rows_stored_past_their_end(simd, threads, n):
    """Rows shorter than 16 elements are written as whole vectors running into the next
    rows, which are written after (the block's last rows through a buffer); log-softmax takes
    its rows in groups of 8 with one vector log.  Rows that go to the one-row kernel (NaN, a
    -inf row, a range too wide for the shifted exp) sit at group edges and at the end, where
    a neighbour's overrun must not clobber them; every row must equal its own computation.
    Layer norm's short rows take the same stores."""
    rows = 4099
    rng = np.random.default_rng(n)
    x = rand(rng, (rows, n), np.float32, -8, 8)
    special = [0, 7, 8, 15, 16, 17, 1000, 2049, rows - 2, rows - 1]
    for k, r in enumerate(special):
        if k % 3 == 1:
            x[r] = -np.inf
        else:
            x[r, k % n] = np.nan if k % 3 == 0 else 1e30
    gy = rand(rng, (rows, n), np.float32)
    with num_threads(threads):
        with np.errstate(all="ignore"):
            y, ly = C.softmax(x, 1), C.log_softmax(x, 1)
            np.testing.assert_allclose(y, softmax_ref(x, 1), equal_nan=True, **tol(np.float32))
            np.testing.assert_allclose(ly, log_softmax_ref(x, 1), equal_nan=True,
                                       **tol(np.float32, 5))
            for r in special + [1, 9, rows - 3]:
                np.testing.assert_array_equal(C.softmax(x[r:r + 1], 1)[0], y[r], err_msg=r)
                np.testing.assert_array_equal(C.log_softmax(x[r:r + 1], 1)[0], ly[r], err_msg=r)
            yf = C.softmax(rand(rng, (rows, n), np.float32, -8, 8), 1)
            y64 = yf.astype(np.float64)
            want = y64 * (gy - (gy * y64).sum(1, keepdims=True))
            np.testing.assert_allclose(C.softmax_backward(yf, gy, 1), want, **tol(np.float32, 5))
            want = gy - y64 * gy.astype(np.float64).sum(1, keepdims=True)
            np.testing.assert_allclose(C.log_softmax_backward(np.log(yf), gy, 1), want,
                                       **tol(np.float32, 50))
        xf = rand(rng, (rows, n), np.float32, -8, 8) * 10 + 3  # layer norm, same store path
        w, b = rand(rng, (n,), np.float32), rand(rng, (n,), np.float32)
        for wi, bi in ((w, b), (w, None), (None, b), (None, None)):
            out, mean, rstd = C.layer_norm(xf, wi, bi, 1, 1e-5)
            want = ln_ref(xf, wi, bi, 1, 1e-5)
            np.testing.assert_allclose(out, want[0], **tol(np.float32, 5))
            np.testing.assert_allclose(mean.ravel(), xf.astype(np.float64).mean(1), rtol=1e-5,
                                       atol=1e-5)
            for r in (0, 7, 8, rows - 2, rows - 1):
                np.testing.assert_array_equal(C.layer_norm(xf[r:r + 1], wi, bi, 1, 1e-5)[0][0],
                                              out[r], err_msg=r)


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("tail", [0, 21])
def test_pipelined_rows_match_reference(simd, dtype, threads, tail):
    """Streaming outputs whose rows are at most 256 KiB take the software-pipelined row
    kernels (row_pipeline.h: row r - 1 is written inside row r's first pass), with
    non-temporal stores where n is a multiple of 16, else plain ones and an overlapping last
    step.  Every row is checked against float64, with rows the pipeline must hand to the
    one-row kernel (an all -inf row, a NaN, a range too wide for the shifted exp) between
    ordinary ones, and the layer-norm weight and bias gradients summed over all rows."""
    n = (1024 if dtype == np.float32 else 512) - tail  # rows of about 4 KiB
    rows = (16 << 20) // (n * np.dtype(dtype).itemsize) + 3
    rng = np.random.default_rng(11)
    x = rand(rng, (rows, n), dtype, -8, 8)
    x[5] = -np.inf
    x[6, 3] = np.nan
    x[7, 100:] = -200.0  # exp underflows: outside the shifted exp's range
    x[8, 0] = 1e30
    gy = rand(rng, (rows, n), dtype)
    with num_threads(threads):
        with np.errstate(all="ignore"):
            y = C.softmax(x, 1)
            np.testing.assert_allclose(y, softmax_ref(x, 1), equal_nan=True, **tol(dtype))
            np.testing.assert_allclose(C.log_softmax(x, 1), log_softmax_ref(x, 1), equal_nan=True,
                                       **tol(dtype, 5))
            y[5:9] = C.softmax(x[9:13], 1)  # finite rows for the backward
            y64 = y.astype(np.float64)
            want = y64 * (gy - (gy * y64).sum(1, keepdims=True))
            np.testing.assert_allclose(C.softmax_backward(y, gy, 1), want, **tol(dtype, 5))
            ly = np.log(y)
            want = gy - y64 * gy.astype(np.float64).sum(1, keepdims=True)
            np.testing.assert_allclose(C.log_softmax_backward(ly, gy, 1), want, **tol(dtype, 50))
        xf = x.copy()
        xf[5:9] = x[9:13] * 100 + 1e3  # finite rows, one far from zero mean
        w = rand(rng, (n,), dtype)
        b = rand(rng, (n,), dtype)
        for wi, bi in ((w, b), (w, None), (None, b), (None, None)):
            y, mean, rstd = C.layer_norm(xf, wi, bi, 1, 1e-5)
            want = ln_ref(xf, wi, bi, 1, 1e-5)
            np.testing.assert_allclose(y, want[0], **tol(dtype, 5))
            np.testing.assert_allclose(mean.ravel(), xf.astype(np.float64).mean(1), **tol(dtype))
            gx, gw, gb = C.layer_norm_backward(gy, xf, mean, rstd, wi, 1)
            gx9 = C.layer_norm_backward(gy[:9], xf[:9], mean[:9], rstd[:9], wi, 1)[0]
            np.testing.assert_allclose(gx[:9], gx9, **tol(dtype))
            if wi is not None:
                xh = (xf - mean.reshape(-1, 1).astype(np.float64)) * rstd.reshape(-1, 1)
                np.testing.assert_allclose(gw, (gy * xh).sum(0), rtol=1e-3, atol=1e-3)
                np.testing.assert_allclose(gb, gy.astype(np.float64).sum(0), rtol=1e-3, atol=1e-3)


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("shape", [(4, 3, 17), (2, 5, 7, 9), (1, 1, 3)])
@pytest.mark.parametrize("affine", [True, False])
def test_batch_norm_backward_channels(dtype, threads, shape, affine):
    from autodiff.backends.numpy_backend import NumpyBackend

    rng = np.random.default_rng(9)
    x = (rng.standard_normal(shape) * 2 + 1).astype(dtype)
    gy = rng.standard_normal(shape).astype(dtype)
    axes = (0,) + tuple(range(2, len(shape)))
    mean = x.mean(axis=axes, keepdims=True)
    rstd = (1 / np.sqrt(x.var(axis=axes, keepdims=True) + 1e-5)).astype(dtype)
    w = rng.standard_normal(shape[1]).astype(dtype) if affine else None
    with num_threads(threads):
        gx, gw, gb = C.batch_norm_backward(gy, x, mean, rstd, w)
    want = NumpyBackend().batch_norm_backward(gy, x, mean, rstd, w, axes)
    for got, ref in zip((gx, gw, gb), want):
        assert got.shape == ref.shape and got.dtype == dtype
        np.testing.assert_allclose(got, ref, rtol=2e-4 if dtype == np.float32 else 1e-10,
                                   atol=2e-4 if dtype == np.float32 else 1e-10)


def test_batch_norm_backward_errors():
    x = np.zeros((2, 3, 4), np.float32)
    m = np.zeros(3, np.float32)
    with pytest.raises(ValueError, match="same shape|one shape"):
        C.batch_norm_backward(x[:1], x, m, m, None)
    with pytest.raises(ValueError, match="need 3 values"):
        C.batch_norm_backward(x, x, m[:2], m, None)
    with pytest.raises(ValueError, match="weight needs 3"):
        C.batch_norm_backward(x, x, m, m, m[:1])
    gx, gw, gb = C.batch_norm_backward(x[..., :0], x[..., :0], m, m, None)  # zero-size
    assert gx.shape == (2, 3, 0) and not gw.any() and not gb.any()


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("shape", [(4, 3, 17), (2, 5, 7, 9), (1, 1, 3), (3, 2), (33, 7, 31)])
def test_channel_affine(dtype, threads, shape):
    rng = np.random.default_rng(4)
    x = rng.standard_normal(shape).astype(dtype)
    scale, shift = (rng.standard_normal(shape[1]).astype(dtype) for _ in range(2))
    cs = (1, shape[1]) + (1,) * (len(shape) - 2)
    want = x * scale.reshape(cs) + shift.reshape(cs)
    with num_threads(threads):
        got = C.channel_affine(x, scale.reshape(cs), shift)
        strided = C.channel_affine(np.swapaxes(x, 0, -1).copy().swapaxes(0, -1), scale, shift)
    assert got.shape == shape and got.dtype == dtype
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(strided, want, rtol=1e-6, atol=1e-6)


def test_channel_affine_errors():
    x = np.zeros((2, 3, 4), np.float32)
    m = np.zeros(3, np.float32)
    with pytest.raises(ValueError, match="need 3 values"):
        C.channel_affine(x, m[:2], m)
    with pytest.raises(ValueError, match=r"\(N, C, \.\.\.\)"):
        C.channel_affine(m, m, m)
    with pytest.raises(TypeError, match="same dtype"):
        C.channel_affine(x, m.astype(np.float64), m)
    assert C.channel_affine(x[..., :0], m, m).shape == (2, 3, 0)
    assert C.channel_affine(x[:0], m, m).shape == (0, 3, 4)
