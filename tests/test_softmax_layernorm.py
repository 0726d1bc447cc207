"""softmax, log_softmax and layer_norm (fused primitives): forward against NumPy and gradcheck
in float64 over several dims, with non-contiguous and zero-size inputs, on every device."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import (
    DTYPES,
    Case,
    op_table_tests,
)

import autodiff as ad


def np_softmax(x, axis=-1):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def np_log_softmax(x, axis=-1):
    s = x - x.max(axis=axis, keepdims=True)
    return s - np.log(np.exp(s).sum(axis=axis, keepdims=True))


def np_layer_norm(x, n, w=None, b=None, eps=1e-5):
    axes = tuple(range(x.ndim - n, x.ndim))
    mu = x.mean(axis=axes, keepdims=True)
    var = ((x - mu) ** 2).mean(axis=axes, keepdims=True)
    y = (x - mu) / np.sqrt(var + eps)
    if w is not None:
        y = y * w
    if b is not None:
        y = y + b
    return y


def _ln(n, eps=1e-5):
    return lambda x, *wb: ad.layer_norm(x, x.shape[x.ndim - n:], *wb, eps=eps)


def _np_ln(n, eps=1e-5):
    return lambda x, *wb: np_layer_norm(x, n, *wb, eps=eps)


CASES = [
    Case("softmax", lambda x: x.softmax(-1), np_softmax, (3, 4)),
    Case("softmax_dim0", lambda x: x.softmax(0), lambda x: np_softmax(x, 0), (3, 4)),
    Case("softmax_dim1_3d", lambda x: ad.softmax(x, 1), lambda x: np_softmax(x, 1), (2, 3, 4)),
    Case("softmax_1d", lambda x: x.softmax(0), np_softmax, (5,)),
    Case("softmax_big", lambda x: x.softmax(-1), np_softmax, (2, 40), low=-30, high=30),
    Case("log_softmax", lambda x: x.log_softmax(-1), np_log_softmax, (3, 4)),
    Case("log_softmax_dim0", lambda x: x.log_softmax(0), lambda x: np_log_softmax(x, 0),
         (3, 4)),
    Case("log_softmax_3d", lambda x: ad.log_softmax(x, dim=1), lambda x: np_log_softmax(x, 1),
         (2, 3, 4)),
    Case("softmax_then_log", lambda x: x.softmax(-1).log(), np_log_softmax, (3, 4),
         fwd_tol={"rtol": 1e-4, "atol": 1e-5}),
    Case("layer_norm", _ln(1), _np_ln(1), (3, 4)),
    Case("layer_norm_affine", _ln(1), _np_ln(1), (3, 4), (4,), (4,)),
    Case("layer_norm_weight", _ln(1), _np_ln(1), (2, 3, 4), (4,)),
    Case("layer_norm_2d", _ln(2), _np_ln(2), (2, 3, 4), (3, 4), (3, 4)),
    Case("layer_norm_eps", _ln(1, 0.1), _np_ln(1, 0.1), (3, 5)),
    Case("layer_norm_bias_only", lambda x, b: ad.layer_norm(x, (4,), None, b),
         lambda x, b: np_layer_norm(x, 1, None, b), (3, 4), (4,)),
    # zero-size
    Case("softmax_empty", lambda x: x.softmax(-1), np_softmax, (0, 4), layouts=("contig",)),
    Case("log_softmax_empty", lambda x: x.log_softmax(-1), np_log_softmax, (0, 4),
         layouts=("contig",)),
    Case("layer_norm_empty", _ln(1), _np_ln(1), (0, 4), (4,), (4,), layouts=("contig",)),
]


test_forward, test_forward_noncontiguous, test_gradcheck = op_table_tests(CASES)


@pytest.mark.parametrize("shape", [(4, 1024), (3, 7, 33), (2048,)])
@pytest.mark.parametrize("dtype", DTYPES)
def test_large_rows(shape, dtype, device):
    """Sizes where the C++ fused kernels run (float32, above their thresholds)."""
    rng = np.random.default_rng(1)
    a = rng.standard_normal(shape).astype(dtype)
    x = ad.tensor(a, device=device, requires_grad=True)
    tol = {"rtol": 1e-4, "atol": 1e-5} if dtype == "float32" else {"rtol": 1e-10, "atol": 1e-12}
    np.testing.assert_allclose(x.softmax(-1).cpu().numpy(), np_softmax(a), **tol)
    np.testing.assert_allclose(x.log_softmax(-1).cpu().numpy(), np_log_softmax(a), **tol)
    y = ad.layer_norm(x, shape[-1:])
    np.testing.assert_allclose(y.cpu().numpy(), np_layer_norm(a, 1), rtol=1e-3 if dtype == "float32"
                               else 1e-9, atol=1e-4 if dtype == "float32" else 1e-10)
    g = rng.standard_normal(shape).astype(dtype)
    x.softmax(-1).backward(ad.tensor(g, device=device))
    s = np_softmax(a)
    np.testing.assert_allclose(x.grad.cpu().numpy(), s * (g - (g * s).sum(-1, keepdims=True)),
                               **tol)


def test_softmax_extreme_values_stay_finite(device):
    x = ad.tensor([[1000.0, -1000.0, 0.0], [-1e30, -1e30, -1e30]], device=device)
    assert np.isfinite(x.softmax(-1).cpu().numpy()).all()
    assert np.isfinite(x.log_softmax(-1).cpu().numpy()).all()
    np.testing.assert_allclose(x.softmax(-1).cpu().numpy()[1], [1 / 3] * 3, rtol=1e-6)


def test_softmax_of_int_promotes(device):
    y = ad.tensor([1, 2, 3], device=device).softmax(0)
    assert y.dtype == ad.float32
