"""autodiff.special against torch.special, Python's math and (when installed) mpmath."""

from __future__ import annotations

import math

import numpy as np
import pytest

import autodiff as ad

S = ad.special
X_GAMMA = np.concatenate([np.linspace(-20.5, -0.05, 60) + 1e-3, np.logspace(-6, 0, 20),
                          np.linspace(0.5, 3, 40), np.linspace(3, 150, 20), [1e4, 1e8]])
Y_ERFINV = np.concatenate([np.linspace(-0.999, 0.999, 101), 1 - np.logspace(-12, -2, 8),
                           -1 + np.logspace(-12, -2, 8), np.logspace(-200, -3, 6), [0.0]])
DTYPES = ["float32", "float64"]
CASES = [  # name, ad fn, torch fn name, inputs, float64 rtol
    ("gammaln", S.gammaln, "gammaln", X_GAMMA, 1e-11),
    ("digamma", S.digamma, "digamma", X_GAMMA, 1e-11),
    ("erfinv", S.erfinv, "erfinv", Y_ERFINV, 1e-12),
    ("erfc", S.erfc, "erfc", np.linspace(-6, 25, 90), 1e-12),
    ("ndtr", S.ndtr, "ndtr", np.linspace(-5, 8, 60), 1e-9),  # torch's cancels for x << 0
    ("ndtri", S.ndtri, "ndtri", np.concatenate([np.linspace(1e-3, 0.999, 80),
                                                np.logspace(-250, -4, 10)]), 1e-12),
    ("log_ndtr", S.log_ndtr, "log_ndtr", np.linspace(-100, 30, 120), 1e-11),
    ("i0", S.i0, "i0", np.linspace(-50, 50, 81), 1e-12),
    ("i1", S.i1, "i1", np.linspace(-50, 50, 81), 1e-12),
    ("sinc", S.sinc, "sinc", np.linspace(-4, 4, 41), 1e-12),
    ("entr", S.entr, "entr", np.array([-1.0, 0.0, 1e-8, 0.3, 1.0, 5.0]), 1e-12),
    ("expit", S.expit, "expit", np.linspace(-30, 30, 31), 1e-12),
    ("logit", S.logit, "logit", np.linspace(0.01, 0.99, 31), 1e-12),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_values_vs_torch(case, dtype, device, torch):
    name, fn, tname, x, rtol = case
    x = x.astype(dtype)
    out = fn(ad.tensor(x, device=device)).numpy()
    # float32 against float64 torch on the same inputs (torch's own float32 ndtr cancels)
    ref = getattr(torch.special, tname)(torch.tensor(x.astype(np.float64))).numpy()
    assert out.dtype == np.dtype(dtype)
    tol = {"rtol": rtol, "atol": 1e-300} if dtype == "float64" else \
        {"rtol": 2e-5, "atol": 1e-37}
    if dtype == "float32" and name in ("gammaln", "digamma"):
        tol["atol"] = 2e-5  # float32 near the zeros of lgamma/digamma
    if dtype == "float32" and name == "sinc":
        tol["atol"] = 1e-6  # sin(pi x) at the integers: float32 pi
    np.testing.assert_allclose(out, ref, **tol)


def test_polygamma_vs_torch(torch):
    x = X_GAMMA[X_GAMMA > 0]
    for n in (1, 2, 3):
        out = ad.polygamma(n, ad.tensor(x, dtype=ad.float64)).numpy()
        ref = torch.special.polygamma(n, torch.tensor(x)).numpy()
        np.testing.assert_allclose(out, ref, rtol=1e-9)


def test_trigamma_negative_vs_mpmath():
    mpmath = pytest.importorskip("mpmath")
    x = np.linspace(-10.5, 0.4, 37) + 1e-3
    out = ad.polygamma(1, ad.tensor(x, dtype=ad.float64)).numpy()
    np.testing.assert_allclose(out, [float(mpmath.polygamma(1, v)) for v in x], rtol=1e-12)


def test_gammaln_vs_math_lgamma():
    x = X_GAMMA
    out = ad.lgamma(ad.tensor(x, dtype=ad.float64)).numpy()
    np.testing.assert_allclose(out, [math.lgamma(v) for v in x], rtol=1e-12, atol=1e-15)


def test_poles_and_limits():
    t = ad.tensor([0.0, -1.0, -2.0], dtype=ad.float64)
    assert np.all(np.isinf(ad.lgamma(t).numpy()))
    e = ad.erfinv(ad.tensor([-1.0, 1.0, 1.5], dtype=ad.float64)).numpy()
    assert e[0] == -np.inf and e[1] == np.inf and np.isnan(e[2])
    assert ad.special.ndtri(ad.tensor([0.0, 1.0])).numpy().tolist() == [-np.inf, np.inf]


def test_erf_erfinv_roundtrip(device):
    y = ad.tensor(Y_ERFINV[np.abs(Y_ERFINV) < 1 - 1e-9], dtype=ad.float64, device=device)
    np.testing.assert_allclose(ad.special.erf(ad.erfinv(y)).numpy(), y.numpy(), rtol=1e-13,
                               atol=1e-300)


def test_xlogy_xlog1py(torch):
    x = np.array([0.0, 0.0, 1.5, -2.0])
    y = np.array([0.0, -1.0, 2.0, 0.5])
    np.testing.assert_allclose(S.xlog1py(ad.tensor(x), ad.tensor(y)).numpy(),
                               torch.special.xlog1py(torch.tensor(x), torch.tensor(y)).numpy())
    np.testing.assert_allclose(S.xlogy(ad.tensor(x), ad.tensor(y)).numpy(),
                               torch.special.xlogy(torch.tensor(x), torch.tensor(y)).numpy())


def test_softmax_family():
    x = ad.randn(3, 4)
    np.testing.assert_allclose(S.softmax(x, 1).numpy(), x.softmax(1).numpy())
    np.testing.assert_allclose(S.log_softmax(x, 1).numpy(), x.log_softmax(1).numpy())
    np.testing.assert_allclose(S.logsumexp(x, 1).numpy(), x.logsumexp(1).numpy())


GRAD_CASES = [
    ("gammaln", S.gammaln, "gammaln", [-2.5, -0.3, 0.2, 1.0, 2.5, 7.0, 40.0]),
    ("digamma", S.digamma, "digamma", [-2.5, -0.3, 0.2, 1.0, 2.5, 7.0, 40.0]),
    ("erfinv", S.erfinv, "erfinv", [-0.99, -0.5, 0.0, 0.3, 0.9, 0.999]),
    ("erfc", S.erfc, "erfc", [-2.0, 0.0, 0.5, 3.0]),
    ("ndtri", S.ndtri, "ndtri", [0.01, 0.3, 0.5, 0.8, 0.999]),
    ("log_ndtr", S.log_ndtr, "log_ndtr", [-30.0, -3.0, 0.0, 2.0, 6.0]),
    ("i0", S.i0, "i0", [-3.0, 0.0, 0.5, 4.0, 25.0]),
    ("sinc", S.sinc, "sinc", [-1.5, 0.0, 0.3, 2.2]),
]


@pytest.mark.parametrize("case", GRAD_CASES, ids=[c[0] for c in GRAD_CASES])
def test_grad_vs_torch(case, device, torch):
    _, fn, tname, x = case
    a = ad.tensor(x, dtype=ad.float64, device=device, requires_grad=True)
    fn(a).sum().backward()
    t = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    getattr(torch.special, tname)(t).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), t.grad.numpy(), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("case", GRAD_CASES + [
    ("i1", S.i1, "i1", [-3.0, 0.5, 4.0, 25.0]),
    ("polygamma1", lambda v: ad.polygamma(1, v), None, [-1.5, 0.7, 3.0, 12.0]),
], ids=[c[0] for c in GRAD_CASES] + ["i1", "polygamma1"])
def test_gradcheck_gradgradcheck(case):
    x = ad.tensor(case[3], dtype=ad.float64, requires_grad=True)
    assert ad.autograd.gradcheck(case[1], (x,), eps=1e-6, atol=1e-6, rtol=1e-4)
    assert ad.autograd.gradgradcheck(case[1], (x,), eps=1e-6, atol=1e-5, rtol=1e-3)


def test_tensor_methods_and_exports():
    x = ad.tensor([0.5, 2.0], dtype=ad.float64)
    np.testing.assert_allclose(x.lgamma().numpy(), [math.lgamma(0.5), 0.0], atol=1e-15)
    np.testing.assert_allclose(x.digamma().numpy(), ad.digamma(x).numpy())
    np.testing.assert_allclose(ad.tensor([0.5]).erfinv().numpy(), [0.4769362762044699],
                               rtol=1e-6)
    assert S.psi is S.digamma
    with pytest.raises(ValueError):
        ad.polygamma(-1, x)
