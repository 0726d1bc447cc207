"""Fixes from the sixteenth session's tensor-op audit against PyTorch: float32 variance of data
far from zero, reductions and scans of small float types, and special values, dtypes and
keyword forms where autodiff differed from PyTorch."""

from __future__ import annotations

import numpy as np
import pytest

import autodiff as ad

torch = pytest.importorskip("torch")

DEVICES = ["numpy", "cpp"]


@pytest.mark.parametrize("device", DEVICES)
def test_float32_variance_of_data_far_from_zero(device):
    rng = np.random.RandomState(0)
    a = (1e5 + rng.randn(4096, 8) * 0.1).astype(np.float32)
    exact = a.astype(np.float64)
    x = ad.tensor(a, device=device)
    rel = lambda got, want: np.abs(got / want - 1).max()  # noqa: E731
    assert rel(x.var(0, unbiased=False).numpy(), exact.var(0)) < 1e-6  # columns (was 3e-2)
    assert rel(ad.tensor(a.T.copy(), device=device).var(1).numpy(), exact.var(0, ddof=1)) < 1e-6
    assert rel(x.var().numpy(), exact.var(ddof=1)) < 1e-6
    assert rel(x.std(0).numpy(), exact.std(0, ddof=1)) < 1e-6
    b = (1e4 + rng.randn(8, 3, 16, 16)).astype(np.float32)
    bn = ad.nn.BatchNorm2d(3).to(device)
    bn(ad.tensor(b, device=device))
    want = 0.9 + 0.1 * b.astype(np.float64).var((0, 2, 3), ddof=1)
    np.testing.assert_allclose(bn.running_var.numpy(), want, rtol=1e-6)
    stats = ad.nn.BatchNorm1d(8).to(device)
    stats(x)
    np.testing.assert_allclose(stats.running_var.numpy(), 0.9 + 0.1 * exact.var(0, ddof=1),
                               rtol=1e-6)
