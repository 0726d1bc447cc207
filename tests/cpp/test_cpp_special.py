"""_C.erfinv and _C.addc (csrc/kernels/special.cpp). erfinv against the NumPy backend's
float32 erfinv (the same Acklam rational: bit for bit, at every SIMD clone and thread count),
against a float64 reference (within an ulp), on the edges (+-1, beyond, NaN, signed zeros),
odd sizes, views, and through ad.erfinv on the cpp device with its gradient; addc against
NumPy's ufunc sequence of addcmul / addcdiv."""

from __future__ import annotations

import math

import numpy as np
import pytest
from cpp_helpers import ODD_SIZES, C, num_threads

import autodiff as ad
from autodiff.special import _erfinv, _erfinv_single

RNG = np.random.default_rng(7)


def _bits(a):
    return np.ascontiguousarray(a).view(np.uint32)


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("n", ODD_SIZES + (70001,))
def test_matches_numpy_bit_for_bit(n, threads):
    y = RNG.uniform(-1, 1, n).astype(np.float32)
    y[::7] *= np.float32(0.001)  # near zero
    y[1::11] = np.sign(y[1::11]) * (1 - RNG.uniform(0, 0.05, y[1::11].size))  # tails
    with num_threads(threads):
        np.testing.assert_array_equal(_bits(C.erfinv(y)), _bits(_erfinv_single(np, y)))


def test_edges_and_accuracy():
    edges = np.array([1, -1, 1.5, -2, np.inf, -np.inf, np.nan, 0.0, -0.0, 1e-38, -1e-45,
                      0.9515, 0.95151, 0.999999940395, -0.5], np.float32)
    got = C.erfinv(edges)
    np.testing.assert_array_equal(_bits(got), _bits(_erfinv_single(np, edges)))
    assert got[0] == np.inf and got[1] == -np.inf and np.isnan(got[2:7]).all()
    assert _bits(got[7:9]).tolist() == [0, 0x80000000]  # signed zeros kept
    y = RNG.uniform(-1, 1, 200001).astype(np.float32)
    ref = _erfinv(np, y.astype(np.float64))  # Newton-refined float64
    ok = ref != 0
    ulp = np.abs(C.erfinv(y)[ok] - ref[ok]) / np.spacing(np.abs(ref[ok]).astype(np.float32))
    assert ulp.max() <= 1.0


def test_views_and_shapes():
    y = RNG.uniform(-1, 1, (30, 41)).astype(np.float32)
    for v in (y.T, y[::2, 1::3], y[:0], np.asarray(y[3, 4])):
        got = C.erfinv(v)
        assert got.shape == v.shape and got.flags.c_contiguous
        np.testing.assert_array_equal(_bits(got), _bits(_erfinv_single(np, v)))


def test_dtype_error():
    with pytest.raises(TypeError, match="float32"):
        C.erfinv(np.zeros(3))
    with pytest.raises(TypeError, match="float32"):
        C.erfinv(np.zeros(3, np.float32).astype(">f4"))


def test_through_autodiff_with_gradient():
    y = RNG.uniform(-0.99, 0.99, 5000).astype(np.float32)
    t = ad.tensor(y, device="cpp", requires_grad=True)
    out = ad.erfinv(t)
    np.testing.assert_array_equal(_bits(out.detach().numpy()), _bits(_erfinv_single(np, y)))
    out.sum().backward()
    want = math.sqrt(math.pi) / 2 * np.exp(out.detach().numpy().astype(np.float64) ** 2)
    np.testing.assert_allclose(t.grad.numpy(), want, rtol=1e-5)


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_addc_matches_the_ufunc_sequence(dtype, threads):
    """_C.addc (addcmul / addcdiv): NumPy's t1 * t2 (or / t2), * value, + x, bit for bit."""
    x, a, b = (RNG.standard_normal((301, 517)).astype(dtype) for _ in range(3))
    b[0, :5] = 0  # division by zero: inf / nan as NumPy's
    with num_threads(threads):
        for value, div in [(1, False), (0.5, False), (-3.7, True), (1, True), (1e-3, True)]:
            with np.errstate(all="ignore"):
                r = a / b if div else a * b
                want = (r * dtype(value) if value != 1 else r) + x
            got = C.addc(x.T.copy().T, a, b, value, div)  # (a Fortran-ordered x copied)
            np.testing.assert_array_equal(got, want)
    for args in [(x, a[:3], b), (x, a, b.astype(np.float16))]:
        with pytest.raises((ValueError, TypeError)):
            C.addc(*args, 1.0, False)


def test_addcmul_on_cpp_uses_one_pass():
    x, a, b = (ad.tensor(RNG.standard_normal((64, 128)).astype(np.float32), device="cpp",
                         requires_grad=True) for _ in range(3))
    y = ad.addcdiv(x, a, b, value=0.25)
    want = x.detach().numpy() + (a.detach().numpy() / b.detach().numpy()) * np.float32(0.25)
    np.testing.assert_array_equal(y.detach().numpy(), want)
    y.sum().backward()
    np.testing.assert_allclose(b.grad.numpy(), -0.25 * a.detach().numpy() / b.detach().numpy() ** 2,
                               rtol=1e-5)
