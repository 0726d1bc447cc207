"""Fused cross-entropy (forward and backward) against a float64 NumPy reference."""

from __future__ import annotations

import numpy as np
import pytest
from cpp_helpers import ODD_SIZES, C, rand, tol


def reference(x, t, ignore):
    """(loss, stats = (row max, log-sum), dloss/dx) in float64."""
    x = x.astype(np.float64)
    m = x.max(1, keepdims=True)
    ls = np.log(np.exp(x - m).sum(1, keepdims=True))
    valid = t != ignore
    loss = np.where(valid, (m + ls)[:, 0] - x[np.arange(len(t)), np.where(valid, t, 0)], 0)
    p = np.exp(x - m - ls)
    p[np.arange(len(t)), np.where(valid, t, 0)] -= 1
    return loss, np.concatenate([m, ls], axis=1), p * valid[:, None]


@pytest.mark.parametrize("c", ODD_SIZES)
@pytest.mark.parametrize("ignore", [-100, 0])
def test_cross_entropy(simd, dtype, c, ignore):
    rng = np.random.default_rng(c)
    n = 37
    x = rand(rng, (n, c), dtype, -10, 10)
    t = rng.integers(0, c, n)
    t[::4] = ignore
    loss, stats = C.cross_entropy(x, t, ignore)
    want_loss, want_stats, want_p = reference(x, t, ignore)
    assert loss.dtype == dtype and stats.dtype == dtype
    assert loss.shape == (n,) and stats.shape == (n, 2)
    np.testing.assert_allclose(loss, want_loss, **tol(dtype, 20))
    np.testing.assert_allclose(stats, want_stats, **tol(dtype, 20))
    g = rand(rng, (n,), dtype)
    for gl, scale in [(g, g[:, None]), (np.asarray(0.25, dtype), 0.25)]:
        got = C.cross_entropy_backward(x, t, stats, gl, ignore)
        np.testing.assert_allclose(got, want_p * scale, **tol(dtype, 20))


@pytest.mark.parametrize("c", [2, 10, 1000])
def test_cross_entropy_many_rows(dtype, c):
    """Rows go in blocks of about 2048 elements (one exp call a block): many blocks, a
    partial last one, ignored rows among them, split over threads."""
    rng = np.random.default_rng(c)
    n = 5003
    x = rand(rng, (n, c), dtype, -10, 10)
    t = rng.integers(0, c, n)
    t[::7] = -100
    x[14, 0] = np.inf  # an ignored row: its loss and gradient stay 0
    want_loss, want_stats, want_p = reference(x[15:], t[15:], -100)
    loss, stats = C.cross_entropy(x, t, -100)
    g = rand(rng, (n,), dtype)
    got = C.cross_entropy_backward(x, t, stats, g, -100)
    assert loss[14] == 0 and not got[14].any()
    np.testing.assert_allclose(loss[15:], want_loss, **tol(dtype, 20))
    np.testing.assert_allclose(stats[15:], want_stats, **tol(dtype, 20))
    np.testing.assert_allclose(got[15:], want_p * g[15:, None], **tol(dtype, 20))


@pytest.mark.parametrize("offset", [1e4, 1e6, 1e8])
def test_cross_entropy_of_offset_logits(simd, offset):
    """(m - x[t]) + log(sum) and exp((x - m) - log(sum)), the max and log-sum kept apart:
    lse = m + log(sum) rounded to float32 lost the log-sum (an error of ulp(1e6) / 2 = 0.03 at
    offset 1e6) in the loss, and the same relative error in every probability of the
    backward; on the C++ kernel and the NumPy backend."""
    from autodiff.backends.numpy_backend import NumpyBackend

    rng = np.random.default_rng(int(np.log10(offset)))
    x = (rng.standard_normal((16, 50)) + offset).astype(np.float32)
    t = rng.integers(0, 50, 16)
    want_loss, _, want_grad = reference(x, t, -100)
    g = np.ones(16, np.float32)
    for fwd, bwd in ((C.cross_entropy, C.cross_entropy_backward),
                     (NumpyBackend().cross_entropy, NumpyBackend().cross_entropy_backward)):
        loss, stats = fwd(x, t, -100)
        np.testing.assert_allclose(loss, want_loss, rtol=2e-6)
        np.testing.assert_allclose(bwd(x, t, stats, g, -100), want_grad, rtol=1e-5, atol=1e-7)


def test_cross_entropy_views_and_int32(simd, dtype):
    rng = np.random.default_rng(1)
    x = rand(rng, (20, 30), dtype)[::2, ::3]  # non-contiguous logits are copied
    t = rng.integers(0, 10, 10).astype(np.int32)
    loss, _ = C.cross_entropy(x, t)
    np.testing.assert_allclose(loss, reference(x, t, -100)[0], **tol(dtype, 20))


def test_cross_entropy_infinite_logits():
    x = np.array([[np.inf, 0.0], [-np.inf, 1.0], [-np.inf, -np.inf]], np.float32)
    t = np.array([1, 1, 0])
    loss, stats = C.cross_entropy(x, t)
    # as the NumPy reference: an infinite max is shifted by 0
    assert loss[0] == np.inf and np.isnan(loss[2])
    assert stats[0].tolist() == [0, np.inf] and stats[2].tolist() == [0, -np.inf]
    np.testing.assert_allclose(loss[1], 0, atol=1e-6)


def test_cross_entropy_errors():
    x = np.zeros((4, 3), np.float32)
    with pytest.raises(IndexError, match=r"target values must be in \[0, 3\) or ignore_index -100"):
        C.cross_entropy(x, np.array([0, 1, 3, 0]))
    with pytest.raises(IndexError, match="must be in"):
        C.cross_entropy(x, np.array([0, -1, 2, 0]))
    with pytest.raises(ValueError, match=r"1-D integer array of 4 class indices, got float32"):
        C.cross_entropy(x, np.zeros(4, np.float32))
    with pytest.raises(ValueError, match=r"got int64 of shape \(3,\)"):
        C.cross_entropy(x, np.zeros(3, np.int64))
    with pytest.raises(ValueError, match=r"logits must be 2-D \(N, C\), got shape \(4,\)"):
        C.cross_entropy(np.zeros(4, np.float32), np.zeros(4, np.int64))
    with pytest.raises(ValueError, match="no classes"):
        C.cross_entropy(np.zeros((4, 0), np.float32), np.zeros(4, np.int64))
    t, stats = np.zeros(4, np.int64), np.zeros((4, 2), np.float32)
    with pytest.raises(ValueError, match=r"scalar or of shape \(4,\), got \(2,\)"):
        C.cross_entropy_backward(x, t, stats, np.ones(2, np.float32))
    with pytest.raises(ValueError, match=r"stats .* must have shape \(4, 2\), got \(4,\)"):
        C.cross_entropy_backward(x, t, stats[:, 0], np.asarray(1, np.float32))
    with pytest.raises(TypeError, match="same dtype"):
        C.cross_entropy_backward(x, t, stats.astype(np.float64), np.asarray(1, np.float32))
