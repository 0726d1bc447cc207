"""Fixtures for the C++ kernel tests: every SIMD level this CPU supports, restored after."""

from __future__ import annotations

import numpy as np
import pytest

C = pytest.importorskip("autodiff._C")


@pytest.fixture(params=C.supported_simd_levels())
def simd(request):
    """Run the test at one SIMD level (scalar reference, avx2, ...), then restore."""
    before = C.simd_level()
    C.set_simd(request.param)
    yield request.param
    C.set_simd(before)


@pytest.fixture(params=[np.float32, np.float64], ids=["float32", "float64"])
def dtype(request):
    return request.param
