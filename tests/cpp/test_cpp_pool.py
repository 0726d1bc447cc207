"""max_pool2d and its backward against the NumPy backend's window views."""

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
