"""autodiff.distributions against torch.distributions on the same (batched) parameters."""

from __future__ import annotations

import numpy as np
import pytest

import autodiff as ad

D = ad.distributions
rng = np.random.default_rng(0)
P = rng.uniform(0.5, 2.0, (3, 4))
Q = rng.uniform(0.5, 2.0, (3, 4))
L = rng.normal(size=(3, 4))
U = rng.uniform(0.1, 0.9, (3, 4))
K = rng.uniform(0.2, 2.0, (3, 5))


def _mvn_params():
    a = rng.normal(size=(2, 3, 3))
    return rng.normal(size=(2, 3)), a @ a.transpose(0, 2, 1) + 3 * np.eye(3)


MU, COV = _mvn_params()
MU2, COV2 = _mvn_params()

# name, ctor(params, lib) -> dist, (params p, params q), value, has cdf/icdf
FAMILIES = {
    "Normal": (lambda m, a, b: m.Normal(a, b), (L, P), (Q, P), L * 0.7, True),
    "Uniform": (lambda m, a, b: m.Uniform(a, a + b), (L, P), (L - 0.1, P + 0.5), L + 0.3 * P,
                True),
    "Laplace": (lambda m, a, b: m.Laplace(a, b), (L, P), (Q, P), L * 0.5, True),
    "Exponential": (lambda m, a: m.Exponential(a), (P,), (Q,), U * 3, True),
    "Gamma": (lambda m, a, b: m.Gamma(a, b), (P, Q), (Q, P), U * 3, False),
    "Beta": (lambda m, a, b: m.Beta(a, b), (P, Q), (Q, P), U, False),
    "Bernoulli": (lambda m, a: m.Bernoulli(probs=a), (U,), (U[::-1].copy(),),
                  (U > 0.5).astype(float), False),
    "BernoulliLogits": (lambda m, a: m.Bernoulli(logits=a), (L,), (Q,),
                        (U > 0.5).astype(float), False),
    "Categorical": (lambda m, a: m.Categorical(probs=a), (K,), (K[::-1].copy(),),
                    np.array([0, 4, 2]), False),
    "CategoricalLogits": (lambda m, a: m.Categorical(logits=a), (K,), (-K,),
                          np.array([1, 3, 0]), False),
    "OneHotCategorical": (lambda m, a: m.OneHotCategorical(probs=a), (K,), (K[::-1].copy(),),
                          np.eye(5)[[0, 4, 2]], False),
    "Dirichlet": (lambda m, a: m.Dirichlet(a), (K,), (K[::-1].copy(),),
                  K / K.sum(-1, keepdims=True), False),
    "MVNcov": (lambda m, a, b: m.MultivariateNormal(a, covariance_matrix=b), (MU, COV),
               (MU2, COV2), MU * 0.3, False),
    "MVNtril": (lambda m, a, b: m.MultivariateNormal(a, scale_tril=b),
                (MU, np.linalg.cholesky(COV)), (MU2, np.linalg.cholesky(COV2)), MU2, False),
    "MVNprec": (lambda m, a, b: m.MultivariateNormal(a, precision_matrix=b), (MU, COV),
                (MU2, COV2), MU2, False),
    "IndependentNormal": (lambda m, a, b: m.Independent(m.Normal(a, b), 1), (L, P), (Q, P),
                          L * 0.7, False),
}
NAMES = list(FAMILIES)
DISCRETE_VALUE = {"Categorical", "CategoricalLogits"}


def _make(name, params, lib, device=None, grad=False):
    import torch

    if lib == "torch":
        ts = [torch.tensor(p, dtype=torch.float64, requires_grad=grad) for p in params]
        return FAMILIES[name][0](torch.distributions, *ts), ts
    ts = [ad.tensor(p, dtype=ad.float64, device=device, requires_grad=grad) for p in params]
    return FAMILIES[name][0](D, *ts), ts


def _value(name, lib, device=None):
    v = FAMILIES[name][3]
    import torch

    if name in DISCRETE_VALUE:
        return torch.tensor(v) if lib == "torch" else ad.tensor(v, device=device)
    return torch.tensor(v, dtype=torch.float64) if lib == "torch" else \
        ad.tensor(v, dtype=ad.float64, device=device)


def _close(a, t, rtol=1e-9):
    np.testing.assert_allclose(a.detach().numpy(), t.detach().numpy(), rtol=rtol, atol=1e-10)


@pytest.mark.parametrize("name", NAMES)
def test_stats_vs_torch(name, device, torch):
    d, _ = _make(name, FAMILIES[name][1], "ad", device)
    t, _ = _make(name, FAMILIES[name][1], "torch")
    assert d.batch_shape == tuple(t.batch_shape) and d.event_shape == tuple(t.event_shape)
    _close(d.log_prob(_value(name, "ad", device)), t.log_prob(_value(name, "torch")))
    _close(d.entropy(), t.entropy())
    for stat in ("mean", "variance", "stddev", "mode"):
        a, b = getattr(d, stat), getattr(t, stat)
        np.testing.assert_allclose(a.detach().numpy().astype(float),
                                   b.detach().numpy().astype(float), rtol=1e-9, atol=1e-12)
    if FAMILIES[name][4]:
        v = _value(name, "ad", device)
        _close(d.cdf(v), t.cdf(_value(name, "torch")))
        _close(d.icdf(ad.tensor(U, dtype=ad.float64, device=device)),
               t.icdf(torch.tensor(U, dtype=torch.float64)))


@pytest.mark.parametrize("name", NAMES)
def test_kl_and_grads_vs_torch(name, device, torch):
    pa, qa = FAMILIES[name][1], FAMILIES[name][2]
    d, dts = _make(name, pa, "ad", device, grad=True)
    dq, _ = _make(name, qa, "ad", device)
    t, tts = _make(name, pa, "torch", grad=True)
    tq, _ = _make(name, qa, "torch")
    kl_a = D.kl_divergence(d, dq)
    kl_t = torch.distributions.kl_divergence(t, tq)
    _close(kl_a, kl_t)
    (kl_a.sum() + d.log_prob(_value(name, "ad", device)).sum()).backward()
    (kl_t.sum() + t.log_prob(_value(name, "torch")).sum()).backward()
    for a, b in zip(dts, tts):
        ga, gb = a.grad.numpy(), b.grad.numpy()
        if name == "MVNtril" and ga.ndim == 3:  # the upper triangle is never read: we give
            ga, gb = np.tril(ga), np.tril(gb)  # it 0, torch a nonzero artifact there
        np.testing.assert_allclose(ga, gb, rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("name", NAMES)
def test_sample_shapes_and_expand(name, torch):
    d, _ = _make(name, FAMILIES[name][1], "ad")
    s = d.sample((2, 5))
    assert s.shape == (2, 5) + d.batch_shape + d.event_shape
    e = d.expand((7,) + d.batch_shape)
    assert e.batch_shape == (7,) + d.batch_shape
    assert e.sample().shape == (7,) + d.batch_shape + d.event_shape
    assert e.log_prob(d.sample()).shape == (7,) + d.batch_shape


@pytest.mark.parametrize("name", ["Normal", "Uniform", "Laplace", "Exponential", "Gamma",
                                  "Beta", "Bernoulli", "Dirichlet", "MVNcov",
                                  "OneHotCategorical"])
def test_empirical_moments(name):
    d, _ = _make(name, FAMILIES[name][1], "ad")
    s = d.sample((20000,)).numpy()
    mean, var = d.mean.detach().numpy(), d.variance.detach().numpy()
    np.testing.assert_allclose(s.mean(0), mean, atol=0.05 * (1 + np.abs(mean).max()) +
                               4 * np.sqrt(var.max() / 20000))
    np.testing.assert_allclose(s.var(0), var, rtol=0.1, atol=0.02)


def test_categorical_empirical_frequencies():
    d = D.Categorical(probs=ad.tensor(K, dtype=ad.float64))
    s = d.sample((20000,)).numpy()
    freq = np.stack([(s == k).mean(0) for k in range(5)], -1)
    np.testing.assert_allclose(freq, K / K.sum(-1, keepdims=True), atol=0.02)


def test_seed_reproducible():
    for ctor in (lambda: D.Normal(ad.zeros(3), ad.ones(3)), lambda: D.Gamma(ad.ones(3), 1.0),
                 lambda: D.Categorical(logits=ad.zeros(4))):
        ad.manual_seed(3)
        a = ctor().sample((4,)).numpy()
        ad.manual_seed(3)
        np.testing.assert_array_equal(a, ctor().sample((4,)).numpy())


@pytest.mark.parametrize("name", ["Normal", "Uniform", "Laplace", "Exponential", "MVNtril"])
def test_rsample_grads_flow(name):
    d, ts = _make(name, FAMILIES[name][1], "ad", grad=True)
    assert d.has_rsample
    (d.rsample((3,)) ** 2).sum().backward()
    for t in ts:
        assert t.grad is not None and np.all(np.isfinite(t.grad.numpy()))
        assert np.abs(t.grad.numpy()).sum() > 0


def test_normal_rsample_grad_exact():
    loc = ad.tensor([1.0, 2.0], dtype=ad.float64, requires_grad=True)
    scale = ad.tensor([0.5, 3.0], dtype=ad.float64, requires_grad=True)
    ad.manual_seed(0)
    x = D.Normal(loc, scale).rsample()
    x.sum().backward()
    np.testing.assert_allclose(loc.grad.numpy(), [1.0, 1.0])
    np.testing.assert_allclose(scale.grad.numpy(), ((x - loc) / scale).detach().numpy())


@pytest.mark.parametrize("ctor", [
    lambda: D.Normal(0.0, -1.0), lambda: D.Normal(ad.zeros(2), ad.tensor([1.0, 0.0])),
    lambda: D.Uniform(1.0, 0.0), lambda: D.Bernoulli(probs=ad.tensor([1.5])),
    lambda: D.Exponential(ad.tensor([-1.0])), lambda: D.Gamma(ad.tensor([0.0]), 1.0),
    lambda: D.Beta(ad.tensor([1.0]), ad.tensor([-1.0])),
    lambda: D.Categorical(probs=ad.tensor([0.5, -0.1])),
    lambda: D.Dirichlet(ad.tensor([1.0, 0.0])),
    lambda: D.MultivariateNormal(ad.zeros(2), covariance_matrix=-ad.eye(2)),
    lambda: D.MultivariateNormal(ad.zeros(2), scale_tril=ad.ones(2, 2)),
    lambda: D.MultivariateNormal(ad.zeros(2)),
    lambda: D.Bernoulli(probs=ad.tensor([0.5]), logits=ad.tensor([0.0])),
])
def test_invalid_parameters_raise_value_error(ctor):
    with pytest.raises(ValueError):
        ctor()


def test_log_prob_outside_support_raises():
    with pytest.raises(ValueError, match="support"):
        D.Exponential(ad.ones(2)).log_prob(ad.tensor([-1.0, 1.0]))
    with pytest.raises(ValueError, match="support"):
        D.Bernoulli(probs=ad.tensor([0.3])).log_prob(ad.tensor([0.5]))
    d = D.Exponential(ad.ones(2), validate_args=False)
    assert d.log_prob(ad.tensor([-1.0, 1.0])).shape == (2,)
    with pytest.raises(ValueError):
        D.Normal(0.0, -1.0, validate_args=True)
    D.Normal(0.0, -1.0, validate_args=False)


def test_register_kl_dispatch():
    class MyNormal(D.Normal):
        pass

    p = MyNormal(ad.zeros(2), ad.ones(2))
    assert D.kl_divergence(p, D.Normal(ad.zeros(2), ad.ones(2))).numpy().tolist() == [0, 0]

    @D.register_kl(MyNormal, MyNormal)
    def _kl(p, q):
        return ad.ones(2) * 7

    assert D.kl_divergence(p, p).numpy().tolist() == [7, 7]
    with pytest.raises(NotImplementedError):
        D.kl_divergence(D.Normal(0.0, 1.0), D.Poisson(1.0))
