"""Shared helpers of the C++ kernel tests (imported by name: no clash with other conftests)."""

from __future__ import annotations

import contextlib

import numpy as np
import pytest

C = pytest.importorskip("autodiff._C")

LEVELS = C.supported_simd_levels()
ODD_SIZES = (1, 3, 7, 17, 31, 33, 1023, 1025)


def tol(dtype, scale: float = 1.0) -> dict:
    """Tolerances for comparing a kernel with NumPy at this dtype."""
    if np.dtype(dtype) == np.float32:
        return {"rtol": 2e-5 * scale, "atol": 2e-6 * scale}
    return {"rtol": 1e-12 * scale, "atol": 1e-13 * scale}


def rand(rng, shape, dtype, lo=-2.0, hi=2.0):
    return rng.uniform(lo, hi, size=shape).astype(dtype)


@contextlib.contextmanager
def num_threads(n: int):
    """The extension's thread count set to n inside the block, restored after; the
    contention guard off meanwhile, so that n threads run even while other test workers
    hold the cores."""
    before, guard = C.get_num_threads(), C.contention_guard()
    C.set_num_threads(n)
    C.set_contention_guard(False)
    try:
        yield
    finally:
        C.set_num_threads(before)
        C.set_contention_guard(guard)
