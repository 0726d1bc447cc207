"""Measured accuracy of the float32 vector math against float64 NumPy, in ulp."""

from __future__ import annotations

import math

import numpy as np
import pytest
from cpp_helpers import C

# Documented bounds (docs/benchmarks.md): the AVX2 kernels measure <= 2 ulp on these ranges.
RANGES = {
    "exp": (-103.0, 88.7),
    "log": (1e-37, 1e37),
    "tanh": (-10.0, 10.0),
    "sigmoid": (-80.0, 80.0),
    "erf": (-6.0, 6.0),
}
REF = {
    "exp": np.exp,
    "log": np.log,
    "tanh": np.tanh,
    "sigmoid": lambda x: 1 / (1 + np.exp(-x)),
    "erf": np.vectorize(math.erf),
}
MAX_ULP = 3


def max_ulp(op: str) -> float:
    lo, hi = RANGES[op]
    rng = np.random.default_rng(0)
    if op == "log":
        x = np.exp(rng.uniform(np.log(lo), np.log(hi), 200_000)).astype(np.float32)
    else:
        x = rng.uniform(lo, hi, 200_000).astype(np.float32)
    x = np.concatenate([x, np.linspace(lo, hi, 50_001, dtype=np.float32)])
    got = getattr(C, op)(x).astype(np.float64)
    ref = REF[op](x.astype(np.float64))
    ulp = np.spacing(np.abs(ref).astype(np.float32)).astype(np.float64)
    ulp = np.maximum(ulp, np.float64(np.finfo(np.float32).smallest_subnormal))
    return float(np.max(np.abs(got - ref) / ulp))


@pytest.mark.parametrize("op", sorted(RANGES))
def test_ulp(simd, op):
    err = max_ulp(op)
    assert err <= MAX_ULP, f"{op} at {simd}: {err:.2f} ulp"


if __name__ == "__main__":
    for level in C.supported_simd_levels():
        C.set_simd(level)
        print(level, {op: round(max_ulp(op), 2) for op in sorted(RANGES)})
