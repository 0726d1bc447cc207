"""Reparameterized sampling of Gamma, Chi2, Beta and Dirichlet: the implicit gradient of a
standard gamma draw against high-precision values and against PyTorch, and Monte Carlo
gradients of moments against their closed forms."""

from __future__ import annotations

import numpy as np
import pytest

import autodiff as ad
from autodiff.distributions._gamma import standard_gamma_grad

D = ad.distributions

# (x, alpha, dx/dalpha): -(dP/dalpha)(alpha, x) / pdf(x; alpha) by mpmath at 40 digits
# (numerical differentiation of the regularized incomplete gamma function)
REFERENCE = [
    (5.66074e-301, 0.01, 3.9103467685750835e-296),
    (7.17584e-71, 0.01, 1.154965342699149e-66),
    (4.46554e-31, 0.01, 3.095640144136917e-27),
    (1.15311e-10, 0.01, 2.5740301243722415e-07),
    (1.50908, 0.01, 68.47752683306734),
    (6.9727e-11, 0.3, 5.3962289184875265e-09),
    (0.00327034, 0.3, 0.06071496108920223),
    (0.0731311, 0.3, 0.6420639508025324),
    (0.460074, 0.3, 1.9110034139134606),
    (4.61894, 0.3, 4.602219400567089),
    (0.0010005, 1.0, 0.007337625057731991),
    (0.223144, 1.0, 0.49479126088843195),
    (0.693147, 1.0, 0.9680446936963877),
    (1.60944, 1.0, 1.4787339824079415),
    (6.90776, 1.0, 2.6380159971852972),
    (0.105106, 2.5, 0.1458058971236669),
    (1.17127, 2.5, 0.7125930105644732),
    (2.17573, 2.5, 0.9959193543096195),
    (3.64464, 2.5, 1.2829800735285555),
    (10.2575, 2.5, 1.9898164546662886),
    (2.45242, 9.0, 0.4955298701098148),
    (6.42848, 9.0, 0.8568223134109052),
    (8.66895, 9.0, 0.9997360703541884),
    (11.3798, 9.0, 1.1428705758981026),
    (21.1562, 9.0, 1.514788036326799),
    (15.8692, 30.0, 0.7190881955192416),
    (25.3203, 30.0, 0.9227081864872746),
    (29.6673, 30.0, 0.9999769561973382),
    (34.486, 30.0, 1.07726445544029),
    (49.8036, 30.0, 1.2818156109276853),
    (159.13, 200.0, 0.8907936876417484),
    (188.011, 200.0, 0.9702181051978777),
    (199.667, 200.0, 1.0000000914785216),
    (211.795, 200.0, 1.029782118788113),
    (246.566, 200.0, 1.1092272246968657),
    (4784.33, 5000.0, 0.9781486461324423),
    (4940.39, 5000.0, 0.9940483030962864),
    (4999.67, 5000.0, 1.000000332173827),
    (5059.41, 5000.0, 1.0059511395896725),
    (5221.37, 5000.0, 1.021851406787813),
]


def _t(v, dtype=ad.float64, grad=False):
    return ad.tensor(np.asarray(v, dtype=float), dtype=dtype, requires_grad=grad)


def test_standard_gamma_grad_matches_high_precision():
    x, a, ref = (np.array(c) for c in zip(*REFERENCE))
    got = standard_gamma_grad(_t(x), _t(a)).numpy()
    np.testing.assert_allclose(got, ref, rtol=1e-11, atol=0)


def test_standard_gamma_grad_matches_torch(torch):
    # torch's fitted approximation is good to ~1e-2 relative (2e-3 typically), so this
    # is a loose check of the same quantity; the tight one is against REFERENCE above
    rng = np.random.default_rng(1)
    a = np.exp(rng.uniform(np.log(0.05), np.log(500.0), 400))
    x = rng.standard_gamma(a)
    ours = standard_gamma_grad(_t(x), _t(a)).numpy()
    theirs = torch._standard_gamma_grad(torch.tensor(a), torch.tensor(x)).numpy()
    np.testing.assert_allclose(ours, theirs, rtol=1e-2)
    assert np.median(np.abs(ours - theirs) / np.abs(ours)) < 2e-4


def test_standard_gamma_grad_edge_values():
    got = standard_gamma_grad(_t([0.0, 1e-300, np.nan, 3.0]), _t([0.5, 0.5, 1.0, np.nan]))
    got = got.numpy()
    assert got[0] == 0 and 0 <= got[1] < 1e-290 and np.isnan(got[2]) and np.isnan(got[3])


def test_gamma_rsample_per_sample_gradient():
    a = _t([0.3, 2.0, 40.0], grad=True)
    b = _t([1.5, 0.5, 2.0], grad=True)
    x = D.Gamma(a, b).rsample()
    x.sum().backward()
    z = (x * b).detach()  # the standard gamma draw
    np.testing.assert_allclose(
        a.grad.numpy(), (standard_gamma_grad(z, a.detach()) / b.detach()).numpy()
    )
    np.testing.assert_allclose(b.grad.numpy(), (-x / b).detach().numpy())


def _per_sample(n, values):
    """Parameters repeated n times (a batch of n), so each draw's gradient is kept apart."""
    return [_t(np.broadcast_to(v, (n,) + np.shape(v)).copy(), grad=True) for v in values]


def _check_mc(grads, expected, k=4.5):
    grads = np.asarray(grads)
    mean, se = grads.mean(0), grads.std(0) / np.sqrt(grads.shape[0])
    assert np.all(np.abs(mean - expected) <= k * se + 1e-12), (mean, expected, se)


@pytest.mark.parametrize("alpha,rate", [(0.2, 1.0), (1.0, 2.0), (3.5, 0.5), (60.0, 3.0)])
def test_gamma_mc_gradient_of_moments(alpha, rate):
    a, b = _per_sample(4000, [alpha, rate])
    x = D.Gamma(a, b).rsample()
    (x * x).sum().backward()  # E[x^2] = a (a + 1) / b^2
    _check_mc(a.grad.numpy(), (2 * alpha + 1) / rate**2)
    _check_mc(b.grad.numpy(), -2 * alpha * (alpha + 1) / rate**3)
    a.grad = None
    D.Gamma(a, b).rsample().sum().backward()  # E[x] = a / b: d/da = 1 / b
    _check_mc(a.grad.numpy(), 1 / rate)


def test_chi2_rsample_gradient():
    (df,) = _per_sample(4000, [3.0])
    d = D.Chi2(df)
    assert d.has_rsample and isinstance(d, D.Gamma)
    d.rsample().sum().backward()  # E[x] = df
    _check_mc(df.grad.numpy(), 1.0)


@pytest.mark.parametrize("c1,c0", [(0.5, 0.7), (2.0, 5.0), (30.0, 8.0)])
def test_beta_mc_gradient_of_mean(c1, c0):
    a, b = _per_sample(4000, [c1, c0])
    D.Beta(a, b).rsample().sum().backward()  # E[x] = a / (a + b)
    _check_mc(a.grad.numpy(), c0 / (c1 + c0) ** 2)
    _check_mc(b.grad.numpy(), -c1 / (c1 + c0) ** 2)


def test_dirichlet_mc_gradient_of_mean():
    conc = np.array([0.6, 2.0, 4.5])
    s = conc.sum()
    for j in range(3):  # E[x_j] = c_j / S: d/dc_i = (delta_ij S - c_j) / S^2
        (c,) = _per_sample(4000, [conc])
        D.Dirichlet(c).rsample()[..., j].sum().backward()
        _check_mc(c.grad.numpy(), ((np.arange(3) == j) * s - conc[j]) / s**2)


def test_dirichlet_rsample_shapes_and_support():
    c = _t(np.full((2, 3), 0.05), grad=True)
    x = D.Dirichlet(c).rsample((5,))
    assert x.shape == (5, 2, 3)
    xs = x.detach().numpy()
    assert np.all(xs > 0) and np.allclose(xs.sum(-1), 1)
    x[..., 0].sum().backward()
    assert np.all(np.isfinite(c.grad.numpy()))


def test_rsample_float32_and_shapes():
    a = _t([1.0, 2.0], dtype=ad.float32, grad=True)
    for d in (D.Gamma(a, 1.0), D.Beta(a, a), D.Chi2(a), D.Dirichlet(a)):
        x = d.rsample((4, 3))
        assert x.dtype == ad.float32 and x.shape == (4, 3) + d.batch_shape + d.event_shape
        x.sum().backward()
        assert np.all(np.isfinite(a.grad.numpy()))
        a.grad = None


def test_sample_has_no_grad_and_is_seeded():
    a = _t([2.0], grad=True)
    ad.manual_seed(5)
    s1 = D.Gamma(a, 1.0).sample((3,))
    ad.manual_seed(5)
    s2 = D.Gamma(a, 1.0).rsample((3,))
    assert not s1.requires_grad and s2.requires_grad
    np.testing.assert_array_equal(s1.numpy(), s2.detach().numpy())
