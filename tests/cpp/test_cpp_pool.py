"""max_pool2d, avg_pool2d and their backwards against the NumPy backend's window views."""

from __future__ import annotations

import numpy as np
import pytest
from cpp_helpers import C, num_threads

from autodiff.backends.numpy_backend import NumpyBackend

REF = NumpyBackend()
# (input shape, kernel, dilation, pads (top, bottom, left, right), stride)
GEOMS = [
    ((2, 3, 8, 8), (2, 2), (1, 1), (0, 0, 0, 0), (2, 2)),
    ((1, 2, 7, 9), (3, 3), (1, 1), (1, 1, 1, 1), (1, 1)),
    ((2, 1, 9, 7), (2, 3), (1, 1), (0, 1, 1, 2), (2, 3)),  # ceil-mode extra bottom/right pad
    ((1, 3, 11, 10), (3, 2), (2, 2), (2, 2, 1, 1), (2, 1)),  # dilated
    ((3, 2, 5, 5), (1, 1), (1, 1), (0, 0, 0, 0), (1, 1)),
    ((1, 1, 4, 33), (4, 4), (1, 1), (0, 0, 2, 2), (4, 4)),
]


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("shape,kernel,dilation,pads,stride", GEOMS)
def test_max_pool2d_matches_numpy(dtype, threads, shape, kernel, dilation, pads, stride):
    rng = np.random.default_rng(0)
    x = rng.integers(-3, 3, shape).astype(dtype)  # ties: the first in the window wins
    x.reshape(-1)[5::17] = np.nan  # NaN wins and propagates
    with num_threads(threads):
        y, idx = C.max_pool2d(x, kernel, dilation, pads, stride)
        g = rng.standard_normal(y.shape).astype(dtype)
        gx = C.max_pool2d_backward(g, idx, shape[2:], kernel, dilation, pads, stride)
    xf = np.where(np.isnan(x), np.inf, x)  # the reference's argmax takes the first NaN
    wy, widx = REF.max_pool2d(xf, kernel, dilation, pads, stride)
    np.testing.assert_array_equal(np.where(np.isinf(wy) & (wy > 0), np.nan, wy), y)
    nan_win = np.isnan(y)
    np.testing.assert_array_equal(idx[~nan_win], widx[~nan_win])
    assert idx.dtype == np.int64 and idx.shape == y.shape + (1,)
    want = REF.max_pool2d_scatter(g, idx, shape[2:], kernel, dilation, pads, stride)
    np.testing.assert_allclose(gx, want, rtol=1e-5, atol=1e-6)  # summation order differs


def test_max_pool2d_errors_and_bad_indices():
    x = np.zeros((1, 1, 4, 4), np.float32)
    with pytest.raises(ValueError, match=r"\(N, C, H, W\)"):
        C.max_pool2d(x[0], (2, 2), (1, 1), (0, 0, 0, 0), (2, 2))
    with pytest.raises(ValueError, match=">= 1"):
        C.max_pool2d(x, (2, 2), (1, 1), (0, 0, 0, 0), (0, 2))
    with pytest.raises(ValueError, match="larger than the padded input"):
        C.max_pool2d(x, (5, 5), (1, 1), (0, 0, 0, 0), (1, 1))
    y, idx = C.max_pool2d(x, (2, 2), (1, 1), (0, 0, 0, 0), (2, 2))
    with pytest.raises(ValueError, match="idx"):
        C.max_pool2d_backward(y, idx[..., 0], (4, 4), (2, 2), (1, 1), (0, 0, 0, 0), (2, 2))
    bad = np.full_like(idx, 99)  # outside every window: skipped, never written out of bounds
    gx = C.max_pool2d_backward(np.ones_like(y), bad, (4, 4), (2, 2), (1, 1), (0, 0, 0, 0), (2, 2))
    assert not gx.any()


# (input shape, kernel, pads, stride): windows that tile the image (2x2, 1x2, 3x3, 4x4, with
# rows and columns left over), overlapping ones, padded ones, ceil-mode extra pads, no planes
AVG_GEOMS = [
    ((2, 3, 8, 8), (2, 2), (0, 0, 0, 0), (2, 2)),
    ((2, 3, 9, 7), (2, 2), (0, 0, 0, 0), (2, 2)),
    ((3, 2, 5, 17), (1, 2), (0, 0, 0, 0), (1, 2)),
    ((1, 2, 10, 11), (3, 3), (0, 0, 0, 0), (3, 3)),
    ((1, 2, 9, 13), (4, 4), (0, 0, 0, 0), (4, 4)),
    ((1, 2, 7, 9), (3, 3), (1, 1, 1, 1), (1, 1)),
    ((2, 1, 9, 7), (2, 3), (0, 1, 1, 2), (2, 3)),
    ((1, 3, 11, 10), (3, 2), (1, 1, 1, 1), (2, 1)),
    ((1, 2, 6, 7), (2, 2), (1, 1, 1, 2), (2, 2)),
    ((1, 2, 7, 8), (3, 3), (1, 1, 1, 2), (3, 3)),
    ((1, 1, 4, 33), (4, 4), (0, 0, 2, 2), (4, 4)),
    ((0, 3, 4, 4), (2, 2), (0, 0, 0, 0), (2, 2)),
]


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("shape,kernel,pads,stride", AVG_GEOMS)
def test_avg_pool2d_matches_numpy(dtype, threads, shape, kernel, pads, stride):
    rng = np.random.default_rng(1)
    x = rng.standard_normal(shape).astype(dtype)
    oh = (shape[2] + pads[0] + pads[1] - kernel[0]) // stride[0] + 1
    ow = (shape[3] + pads[2] + pads[3] - kernel[1]) // stride[1] + 1
    div_h, div_w = rng.integers(1, 6, oh), rng.integers(1, 6, ow)  # any per-row/column factors
    with num_threads(threads):
        y = C.avg_pool2d(x, kernel, pads, stride, div_h, div_w)
        g = rng.standard_normal(y.shape).astype(dtype)
        gx = C.avg_pool2d_backward(g, shape[2:], kernel, pads, stride, div_h, div_w)
        y_strided = C.avg_pool2d(np.repeat(x, 2, axis=3)[..., ::2], kernel, pads, stride,
                                 div_h, div_w)
    want = REF.avg_pool2d(x, kernel, pads, stride, div_h, div_w)
    tol = dict(rtol=1e-6, atol=1e-6) if dtype == np.float32 else dict(rtol=1e-13, atol=1e-13)
    assert y.shape == want.shape == (shape[0], shape[1], oh, ow) and y.dtype == dtype
    np.testing.assert_allclose(y, want, **tol)
    np.testing.assert_array_equal(y_strided, y)  # a non-contiguous input: the same result
    want_gx = REF.avg_pool2d_backward(g, shape[2:], kernel, pads, stride, div_h, div_w)
    assert gx.shape == shape and gx.dtype == dtype
    np.testing.assert_allclose(gx, want_gx, **tol)


def test_avg_pool2d_errors():
    x = np.zeros((1, 1, 4, 4), np.float32)
    two = np.array([2, 2])
    with pytest.raises(ValueError, match=r"\(N, C, H, W\)"):
        C.avg_pool2d(x[0], (2, 2), (0, 0, 0, 0), (2, 2), two, two)
    with pytest.raises(ValueError, match="larger than the padded input"):
        C.avg_pool2d(x, (5, 5), (0, 0, 0, 0), (1, 1), two, two)
    with pytest.raises(ValueError, match="div_w as 2 integers"):
        C.avg_pool2d(x, (2, 2), (0, 0, 0, 0), (2, 2), two, np.array([2.0, 2.0]))
    with pytest.raises(ValueError, match="div_h as 2 integers"):
        C.avg_pool2d(x, (2, 2), (0, 0, 0, 0), (2, 2), np.array([2]), two)
    with pytest.raises(ValueError, match=r"expected gy of shape \(1, 1, 2, 2\)"):
        C.avg_pool2d_backward(np.zeros((1, 1, 3, 2), np.float32), (4, 4), (2, 2),
                              (0, 0, 0, 0), (2, 2), two, two)
    with pytest.raises(TypeError):
        C.avg_pool2d(x.astype(np.int32), (2, 2), (0, 0, 0, 0), (2, 2), two, two)
    big = np.array([2**40, 2**40])  # the divisor is formed in floating point: no overflow
    assert np.isfinite(C.avg_pool2d(x + 1, (2, 2), (0, 0, 0, 0), (2, 2), big, big)).all()
