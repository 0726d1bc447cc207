"""The distributions, transforms, constraints and KL pairs added after the first families,
against torch.distributions on the same parameters and values (float64)."""

from __future__ import annotations

import math

import numpy as np
import pytest

import autodiff as ad

D = ad.distributions
rng = np.random.default_rng(7)
P = rng.uniform(0.5, 2.5, (2, 3))
Q = rng.uniform(0.5, 2.5, (2, 3))
L = rng.normal(size=(2, 3))
U = rng.uniform(0.1, 0.9, (2, 3))
U[0, 1] = 0.5  # ContinuousBernoulli's Taylor branch
K = rng.uniform(0.2, 2.0, (3, 5))
KS = K / K.sum(-1, keepdims=True)
COUNTS = rng.integers(0, 6, (2, 3)).astype(float)
CONC = np.array([[0.3, 0.0, -0.2], [0.1, -1e-9, 0.5]])


def _spd(n, shape, shift):
    a = rng.normal(size=shape + (n, n))
    return a @ np.swapaxes(a, -1, -2) + shift * np.eye(n)


COV = _spd(3, (2,), 3.0)
CORR = COV / np.sqrt(
    np.diagonal(COV, 0, -2, -1)[..., :, None] * np.diagonal(COV, 0, -2, -1)[..., None, :]
)
W = rng.normal(size=(2, 3, 2))


def _sub(m, module: str):
    """torch keeps the Logit/Exp relaxed families in submodules; we export them at the top."""
    return m if m is D else getattr(m, module)


def _mix(m, probs, loc, scale):
    return m.MixtureSameFamily(m.Categorical(probs=probs), m.Normal(loc, scale))


def _td(m, loc, scale):
    return m.TransformedDistribution(
        m.Normal(loc, scale), [m.AffineTransform(1.0, 2.0), m.ExpTransform()]
    )


# name: (ctor(module, *params), params, value, moments are finite for the MC check)
# fmt: off
FAMILIES = {
    "Cauchy": (lambda m, a, b: m.Cauchy(a, b), (L, P), L * 0.5, False),
    "StudentT": (lambda m, a, b, c: m.StudentT(a, b, c), (P * 3, L, P), L, True),
    "Chi2": (lambda m, a: m.Chi2(a), (P * 3,), P, True),
    "GammaCdf": (lambda m, a, b: m.Gamma(a, b), (P, Q), P, True),
    "FisherSnedecor": (lambda m, a, b: m.FisherSnedecor(a, b), (P * 3 + 4, P * 3 + 9), P, True),
    "VonMises": (lambda m, a, b: m.VonMises(a, b), (L, P * 2), L + 4, False),
    "ContinuousBernoulli": (lambda m, a: m.ContinuousBernoulli(probs=a), (U,), U[::-1].copy(),
                            True),
    "ContinuousBernoulliLogits": (lambda m, a: m.ContinuousBernoulli(logits=a), (L,), U, True),
    "GeneralizedPareto": (lambda m, a, b, c: m.GeneralizedPareto(a, b, c), (L, P, CONC),
                          L + 0.5 * P, False),
    "LogNormal": (lambda m, a, b: m.LogNormal(a, b * 0.5), (L, P), P, True),
    "HalfNormal": (lambda m, a: m.HalfNormal(a), (P,), Q, True),
    "HalfCauchy": (lambda m, a: m.HalfCauchy(a), (P,), Q, False),
    "Gumbel": (lambda m, a, b: m.Gumbel(a, b), (L, P), L * 2, True),
    "Pareto": (lambda m, a, b: m.Pareto(a, b + 4), (P, Q), P + Q, True),
    "Weibull": (lambda m, a, b: m.Weibull(a, b), (P, Q), Q, True),
    "Kumaraswamy": (lambda m, a, b: m.Kumaraswamy(a, b), (P, Q), U, True),
    "InverseGamma": (lambda m, a, b: m.InverseGamma(a + 4, b), (P, Q), Q, True),
    "LogisticNormal": (lambda m, a, b: m.LogisticNormal(a, b), (L, P),
                       np.array([[0.1, 0.2, 0.3, 0.4], [0.4, 0.3, 0.25, 0.05]]), False),
    "TransformedNormal": (_td, (L, P * 0.3), P * 3, False),
    "RelaxedBernoulli": (lambda m, t, a: m.RelaxedBernoulli(t, probs=a), (np.array(0.7), U),
                         U[::-1].copy(), False),
    "LogitRelaxedBernoulli": (lambda m, t, a: _sub(m, "relaxed_bernoulli")
                              .LogitRelaxedBernoulli(t, logits=a), (np.array(1.3), L), L, False),
    "RelaxedOneHotCategorical": (lambda m, t, a: m.RelaxedOneHotCategorical(t, probs=a),
                                 (np.array(0.6), K), KS[::-1].copy(), False),
    "ExpRelaxedCategorical": (lambda m, t, a: _sub(m, "relaxed_categorical")
                              .ExpRelaxedCategorical(t, logits=a), (np.array(0.9), K),
                              np.log(KS), False),
    "Poisson": (lambda m, a: m.Poisson(a * 3), (P,), COUNTS, True),
    "Binomial": (lambda m, n, a: m.Binomial(n, probs=a), (np.full((2, 3), 6.0), U), COUNTS, True),
    "BinomialLogits": (lambda m, a: m.Binomial(6, logits=a), (L,), COUNTS, True),
    "Geometric": (lambda m, a: m.Geometric(probs=a), (U,), COUNTS, True),
    "GeometricLogits": (lambda m, a: m.Geometric(logits=a), (L,), COUNTS, True),
    "NegativeBinomial": (lambda m, n, a: m.NegativeBinomial(n, probs=a * 0.8), (P * 3, U),
                         COUNTS, True),
    "Multinomial": (lambda m, a: m.Multinomial(7, probs=a), (K,),
                    np.array([[1, 2, 0, 4, 0], [7, 0, 0, 0, 0], [2, 1, 1, 1, 2.0]]), True),
    "OneHotCategoricalST": (lambda m, a: m.OneHotCategoricalStraightThrough(probs=a), (K,),
                            np.eye(5)[[1, 3, 0]], True),
    "LowRankMVN": (lambda m, a, w, d: m.LowRankMultivariateNormal(a, w, d), (L, W, P), Q, True),
    "MixtureSameFamily": (_mix, (KS[:2, :3] / KS[:2, :3].sum(-1, keepdims=True), L, P),
                          np.array([0.3, -1.2]), True),
    "Wishart": (lambda m, df, c: m.Wishart(df, covariance_matrix=c), (np.array([5.0, 7.5]), COV),
                _spd(3, (2,), 1.0), True),
    "WishartTril": (lambda m, df, c: m.Wishart(df, scale_tril=c),
                    (np.array([4.0, 6.0]), np.linalg.cholesky(COV)), _spd(3, (2,), 2.0), False),
    "LKJCholesky": (lambda m, c: m.LKJCholesky(3, c), (np.array([0.5, 2.5]),),
                    np.linalg.cholesky(CORR), False),
}
# fmt: on
NAMES = list(FAMILIES)
INTEGER_PARAMS = {"Binomial": (0,)}


@pytest.fixture(autouse=True)
def _torch_float64():
    """torch's GeneralizedPareto compares with a float32 zero, which fails in float64 unless
    float64 is the default dtype."""
    try:
        import torch
    except ImportError:
        yield
        return
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(old)


def _torch():
    import torch  # only reached from tests that took the `torch` fixture (or skipped)

    return torch


def _tensors(params, lib, grad=False, skip=()):
    out = []
    for i, p in enumerate(params):
        g = grad and i not in skip
        if lib == "torch":
            out.append(_torch().tensor(p, dtype=_torch().float64, requires_grad=g))
        else:
            out.append(ad.tensor(p, dtype=ad.float64, requires_grad=g))
    return out


def _make(name, lib, grad=False):
    ctor, params = FAMILIES[name][:2]
    ts = _tensors(params, lib, grad, INTEGER_PARAMS.get(name, ()))
    return ctor(_torch().distributions if lib == "torch" else D, *ts), ts


def _value(name, lib):
    v = FAMILIES[name][2]
    if lib == "torch":
        return _torch().tensor(v, dtype=_torch().float64)
    return ad.tensor(v, dtype=ad.float64)


def _np(t):
    return np.asarray(t.detach().numpy(), dtype=float)


def _close(a, t, rtol=1e-9, atol=1e-11):
    np.testing.assert_allclose(_np(a), _np(t), rtol=rtol, atol=atol)


def _both(fn_a, fn_t):
    """Compare when torch implements it; otherwise ours must raise NotImplementedError too."""
    try:
        t = fn_t()
    except NotImplementedError:
        with pytest.raises(NotImplementedError):
            fn_a()
        return
    _close(fn_a(), t)


@pytest.mark.parametrize("name", NAMES)
def test_stats_vs_torch(name, torch):
    d, _ = _make(name, "ad")
    t, _ = _make(name, "torch")
    assert d.batch_shape == tuple(t.batch_shape) and d.event_shape == tuple(t.event_shape)
    assert set(d.arg_constraints) == set(t.arg_constraints)
    assert d.has_rsample == t.has_rsample
    assert type(d.support).__name__ == type(t.support).__name__
    assert d.support.event_dim == t.support.event_dim
    _close(d.log_prob(_value(name, "ad")), t.log_prob(_value(name, "torch")))
    for stat in ("mean", "variance", "stddev", "mode", "entropy"):
        _both(
            lambda s=stat: getattr(d, s)() if s == "entropy" else getattr(d, s),
            lambda s=stat: getattr(t, s)() if s == "entropy" else getattr(t, s),
        )
    if not t.support.is_discrete and not d.event_shape:
        _both(lambda: d.cdf(_value(name, "ad")), lambda: t.cdf(_value(name, "torch")))
        _both(
            lambda: d.icdf(ad.tensor(U, dtype=ad.float64)),
            lambda: t.icdf(torch.tensor(U, dtype=torch.float64)),
        )


@pytest.mark.parametrize("name", NAMES)
def test_log_prob_grads_vs_torch(name, torch):
    d, dts = _make(name, "ad", grad=True)
    t, tts = _make(name, "torch", grad=True)
    la, lt = d.log_prob(_value(name, "ad")).sum(), t.log_prob(_value(name, "torch")).sum()
    try:
        lt = lt + t.entropy().sum()
        la = la + d.entropy().sum()
    except NotImplementedError:
        pass
    la.backward()
    lt.backward()
    for a, b in zip(dts, tts):
        if b.grad is not None:
            np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("name", NAMES)
def test_sample_shapes_and_expand(name, torch):
    d, _ = _make(name, "ad")
    s = d.sample((2, 4))
    assert s.shape == (2, 4) + d.batch_shape + d.event_shape
    assert not s.requires_grad
    if d.has_rsample:
        d2, ts = _make(name, "ad", grad=True)
        r = d2.rsample((3,))
        assert r.shape == (3,) + d.batch_shape + d.event_shape
        r.sum().backward()
        assert any(t.grad is not None for t in ts)
        assert all(np.all(np.isfinite(t.grad.numpy())) for t in ts if t.grad is not None)
    e = d.expand((5,) + d.batch_shape)
    assert e.batch_shape == (5,) + d.batch_shape
    assert e.sample().shape == (5,) + d.batch_shape + d.event_shape
    lp = e.log_prob(_value(name, "ad"))
    assert lp.shape == (5,) + d.batch_shape
    _close(lp[0], d.log_prob(_value(name, "ad")))


@pytest.mark.parametrize("name", [n for n in NAMES if FAMILIES[n][3]])
def test_sample_moments(name):
    d, _ = _make(name, "ad")
    n = 4000
    s = _np(d.sample((n,)))
    mean, var = _np(d.mean), _np(d.variance)
    se = np.sqrt(s.var(0) / n)
    assert np.all(np.abs(s.mean(0) - mean) <= 5 * se + 1e-9), (s.mean(0), mean)
    m4 = ((s - s.mean(0)) ** 4).mean(0)
    se_var = np.sqrt(np.maximum(m4 - s.var(0) ** 2, 0) / n)
    assert np.all(np.abs(s.var(0) - var) <= 6 * se_var + 1e-9), (s.var(0), var)


def test_support_of_samples():
    for name in NAMES:
        d, _ = _make(name, "ad")
        if name not in ("Cauchy", "VonMises"):
            assert bool(d.support.check(d.sample((50,))).all()), name


def test_vonmises_sample_circular_moments():
    d = D.VonMises(
        ad.tensor([0.5, -2.0], dtype=ad.float64), ad.tensor([0.3, 4.0], dtype=ad.float64)
    )
    s = _np(d.sample((20000,)))
    assert np.all((s >= -math.pi) & (s < math.pi))
    resultant = np.cos(s - np.array([0.5, -2.0])).mean(0)  # = I1(k) / I0(k) = 1 - variance
    np.testing.assert_allclose(resultant, 1 - _np(d.variance), atol=0.02)


def test_gamma_cdf_matches_torch_and_differentiates_in_value(torch):
    a = np.array([0.05, 0.7, 3.0, 45.0, 2e4])
    x = np.array([0.01, 1.3, 2.0, 50.0, 2.01e4])
    da = D.Gamma(ad.tensor(a, dtype=ad.float64), 1.0)
    dt = torch.distributions.Gamma(torch.tensor(a), 1.0)
    va = ad.tensor(x, dtype=ad.float64, requires_grad=True)
    vt = torch.tensor(x, requires_grad=True)
    ca, ct = da.cdf(va), dt.cdf(vt)
    _close(ca, ct, rtol=1e-9)  # torch's own error reaches 3e-10 at (45, 50)
    ref = [
        0.815559805741285,
        0.8318426416092265,
        0.32332358381693654,
        0.7789597673745553,
        0.7606167055614177,
    ]  # mpmath, 30 digits
    np.testing.assert_allclose(_np(ca), ref, rtol=1e-12)
    ca.sum().backward()
    ct.sum().backward()
    _close(va.grad, vt.grad, rtol=1e-10)
    with pytest.raises(NotImplementedError):
        a_grad = ad.tensor(a, dtype=ad.float64, requires_grad=True)
        D.Gamma(a_grad, 1.0).cdf(ad.tensor(x, dtype=ad.float64)).sum().backward()


# ------------------------------------------------------------------ KL
# fmt: off
KL_PAIRS = [
    ("Cauchy", (L, P), "Cauchy", (Q, P)), ("Gumbel", (L, P), "Gumbel", (Q, Q)),
    ("Pareto", (P, Q), "Pareto", (P * 0.5, P)), ("Poisson", (P,), "Poisson", (Q,)),
    ("Geometric", (U,), "Geometric", (U[::-1].copy(),)), ("HalfNormal", (P,), "HalfNormal", (Q,)),
    ("Binomial", (np.full((2, 3), 6.0), U), "Binomial", (np.full((2, 3), 6.0), U[::-1].copy())),
    ("ContinuousBernoulli", (U,), "ContinuousBernoulli", (U[::-1].copy(),)),
    ("LowRankMVN", (L, W, P), "LowRankMVN", (Q, W[::-1].copy(), Q)),
    ("LogNormal", (L, P), "LogNormal", (Q, Q)), ("Chi2", (P * 3,), "Chi2", (Q * 2,)),
]
# fmt: on
CROSS = {  # (p family, q family) with constructors from the existing suite
    "Normal": (lambda m, a, b: m.Normal(a, b), (L, P)),
    "Exponential": (lambda m, a: m.Exponential(a), (P,)),
    "Gamma": (lambda m, a, b: m.Gamma(a, b), (P, Q)),
    "Beta": (lambda m, a, b: m.Beta(a, b), (P, Q)),
    "Uniform": (lambda m, a, b: m.Uniform(a, b), (U * 0.5, U * 0.9)),
    "Laplace": (lambda m, a, b: m.Laplace(a, b), (L, P)),
    "Bernoulli": (lambda m, a: m.Bernoulli(probs=a), (U,)),
    "Gumbel": (lambda m, a, b: m.Gumbel(a, b), (L, P)),
    "Pareto": (lambda m, a, b: m.Pareto(a, b + 2), (P, Q)),
    "ContinuousBernoulli": (lambda m, a: m.ContinuousBernoulli(probs=a), (U,)),
    "Poisson": (lambda m, a: m.Poisson(a), (P,)),
}
CROSS_PAIRS = [
    (p, q)
    for p, q in __import__("itertools").product(CROSS, CROSS)
    if p != q and (p, q) not in (("Normal", "Gamma"),)
]


def _kl_check(torch, make_p, make_q):
    (pa, pts), (qa, _) = make_p("ad"), make_q("ad")
    (pt, tts), (qt, _) = make_p("torch"), make_q("torch")
    try:
        kt = torch.distributions.kl_divergence(pt, qt)
    except NotImplementedError:
        with pytest.raises(NotImplementedError):
            D.kl_divergence(pa, qa)
        return
    ka = D.kl_divergence(pa, qa)
    _close(ka, kt)
    finite = np.isfinite(_np(kt))
    if finite.any() and kt.requires_grad:
        (ka * ad.tensor(finite.astype(float), dtype=ad.float64)).sum().backward()
        (kt * torch.tensor(finite.astype(float))).sum().backward()
        for a, b in zip(pts, tts):
            if b.grad is not None:
                np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("pair", KL_PAIRS, ids=[f"{p[0]}-{p[2]}" for p in KL_PAIRS])
def test_kl_same_family_vs_torch(pair, torch):
    pn, pp, qn, qp = pair

    def make(name, params):
        def build(lib):
            base = FAMILIES[name][0] if name in FAMILIES else CROSS[name][0]
            ts = _tensors(params, lib, grad=True, skip=INTEGER_PARAMS.get(name, ()))
            return base(torch.distributions if lib == "torch" else D, *ts), ts

        return build

    _kl_check(torch, make(pn, pp), make(qn, qp))


@pytest.mark.parametrize("pair", CROSS_PAIRS, ids=[f"{p}-{q}" for p, q in CROSS_PAIRS])
def test_kl_cross_family_vs_torch(pair, torch):
    def make(name):
        def build(lib):
            ts = _tensors(CROSS[name][1], lib, grad=True)
            return CROSS[name][0](torch.distributions if lib == "torch" else D, *ts), ts

        return build

    _kl_check(torch, make(pair[0]), make(pair[1]))


def test_exponential_family_bregman_kl_and_entropy():
    from autodiff.distributions.kl_extra import _kl_expfamily_expfamily

    p = D.Gamma(ad.tensor(P, dtype=ad.float64), ad.tensor(Q, dtype=ad.float64))
    q = D.Gamma(ad.tensor(Q, dtype=ad.float64), ad.tensor(P, dtype=ad.float64))
    _close(_kl_expfamily_expfamily(p, q), D.kl_divergence(p, q))
    for d in (
        p,
        D.Normal(ad.tensor(L, dtype=ad.float64), ad.tensor(P, dtype=ad.float64)),
        D.Poisson(ad.tensor(P, dtype=ad.float64)),
    ):
        if type(d) is not D.Poisson:
            _close(D.ExponentialFamily.entropy(d), d.entropy())
    with pytest.raises(NotImplementedError):
        _kl_expfamily_expfamily(p, D.Poisson(ad.tensor(P, dtype=ad.float64)))


# ------------------------------------------------------------------ transforms
MATS = rng.normal(size=(2, 3, 3))
TRANSFORMS = {  # name: (ctor(module, to_tensor), x)
    "Exp": (lambda m, t: m.ExpTransform(), L),
    "ExpInv": (lambda m, t: m.ExpTransform().inv, P),
    "Affine": (lambda m, t: m.AffineTransform(1.5, -2.0), L),
    "AffineTensor": (lambda m, t: m.AffineTransform(t(L), t(P)), Q),
    "AffineEvent": (lambda m, t: m.AffineTransform(t(L[0]), t(-P[0]), event_dim=1), L),
    "Sigmoid": (lambda m, t: m.SigmoidTransform(), L * 3),
    "Tanh": (lambda m, t: m.TanhTransform(), L * 0.5),
    "Softplus": (lambda m, t: m.SoftplusTransform(), L * 2),
    "Power": (lambda m, t: m.PowerTransform(t(Q)), P),
    "Abs": (lambda m, t: m.AbsTransform(), L),
    "Compose": (
        lambda m, t: m.ComposeTransform(
            [m.AffineTransform(0.5, 2.0), m.ExpTransform(), m.PowerTransform(t(np.array(2.0)))]
        ),
        L,
    ),
    "Independent": (lambda m, t: m.IndependentTransform(m.SigmoidTransform(), 1), L),
    "Reshape": (lambda m, t: m.ReshapeTransform((3,), (3, 1)), L),
    "Softmax": (lambda m, t: m.SoftmaxTransform(), L),
    "StickBreaking": (lambda m, t: m.StickBreakingTransform(), L),
    "LowerCholesky": (lambda m, t: m.LowerCholeskyTransform(), MATS),
    "PositiveDefinite": (lambda m, t: m.PositiveDefiniteTransform(), MATS),
    "CorrCholesky": (lambda m, t: m.CorrCholeskyTransform(), L),
    "Cat": (
        lambda m, t: m.CatTransform([m.ExpTransform(), m.AffineTransform(1.0, 2.0)], -1, [1, 2]),
        L,
    ),
    "Stack": (lambda m, t: m.StackTransform([m.ExpTransform(), m.SigmoidTransform()], 0), L),
    "CDF": (lambda m, t: m.CumulativeDistributionTransform(m.Normal(t(L), t(P))), Q),
}


def _lib(torch, lib):
    if lib == "torch":
        return torch.distributions, lambda v: torch.tensor(v, dtype=torch.float64)
    return D, lambda v: ad.tensor(v, dtype=ad.float64)


@pytest.mark.parametrize("name", list(TRANSFORMS))
def test_transform_vs_torch(name, torch):
    ctor, x = TRANSFORMS[name]
    (ma, ta), (mt, tt) = _lib(torch, "ad"), _lib(torch, "torch")
    da, dt = ctor(ma, ta), ctor(mt, tt)
    xa = ad.tensor(x, dtype=ad.float64, requires_grad=True)
    xt = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    ya, yt = da(xa), dt(xt)
    _close(ya, yt)
    _close(da.inv(ya), dt.inv(yt))
    assert da.bijective == dt.bijective
    assert da.domain.event_dim == dt.domain.event_dim
    assert da.codomain.event_dim == dt.codomain.event_dim
    assert type(da.codomain).__name__ == type(dt.codomain).__name__
    assert tuple(da.forward_shape(x.shape)) == tuple(dt.forward_shape(x.shape))
    assert tuple(da.inverse_shape(ya.shape)) == tuple(dt.inverse_shape(yt.shape))
    _both(lambda: da.sign * ta(1.0), lambda: dt.sign * tt(1.0))
    _both(lambda: da.log_abs_det_jacobian(xa, ya), lambda: dt.log_abs_det_jacobian(xt, yt))
    oa, ot = ya.sum(), yt.sum()
    try:
        ot = ot + dt.log_abs_det_jacobian(xt, yt).sum()
        oa = oa + da.log_abs_det_jacobian(xa, ya).sum()
    except NotImplementedError:
        pass
    oa.backward()
    ot.backward()
    np.testing.assert_allclose(xa.grad.numpy(), xt.grad.numpy(), rtol=1e-8, atol=1e-10)


def test_transform_cache_equality_and_inverse_identity():
    t = D.ExpTransform(cache_size=1)
    x = ad.tensor([0.5, 1.0], dtype=ad.float64)
    y = t(x)
    assert t(x) is y and t.inv(y) is x and t.inv.inv is t
    assert D.ExpTransform() == D.ExpTransform() and D.ExpTransform() != D.SigmoidTransform()
    assert D.AffineTransform(1.0, 2.0) == D.AffineTransform(1.0, 2.0)
    assert D.identity_transform(x) is x
    with pytest.raises(ValueError):
        D.ExpTransform(cache_size=2)
    with pytest.raises(ValueError):
        D.ReshapeTransform((2, 3), (4,))


CONSTRAINTS = {  # name: (ctor(constraints module, to_tensor), unconstrained x)
    "real": (lambda c, t: c.real, L),
    "positive": (lambda c, t: c.positive, L),
    "nonnegative": (lambda c, t: c.nonnegative, L),
    "greater_than": (lambda c, t: c.greater_than(1.5), L),
    "greater_than_eq": (lambda c, t: c.greater_than_eq(t(P)), L),
    "less_than": (lambda c, t: c.less_than(2.0), L),
    "interval": (lambda c, t: c.interval(-1.0, 3.0), L),
    "half_open_interval": (lambda c, t: c.half_open_interval(t(L), t(L + P)), Q),
    "unit_interval": (lambda c, t: c.unit_interval, L),
    "simplex": (lambda c, t: c.simplex, L),
    "corr_cholesky": (lambda c, t: c.corr_cholesky, L),
    "lower_cholesky": (lambda c, t: c.lower_cholesky, MATS),
    "positive_definite": (lambda c, t: c.positive_definite, MATS),
    "independent": (lambda c, t: c.independent(c.positive, 1), L),
    "cat": (lambda c, t: c.cat([c.positive, c.real], -1, [1, 2]), L),
    "stack": (lambda c, t: c.stack([c.positive, c.unit_interval], 0), L),
}


@pytest.mark.parametrize("registry", ["biject_to", "transform_to"])
@pytest.mark.parametrize("name", list(CONSTRAINTS))
def test_constraint_registry_vs_torch(name, registry, torch):
    ctor, x = CONSTRAINTS[name]
    (ma, ta), (mt, tt) = _lib(torch, "ad"), _lib(torch, "torch")
    ca, ct = ctor(ma.constraints, ta), ctor(mt.constraints, tt)
    assert type(ca).__name__ == type(ct).__name__ and ca.event_dim == ct.event_dim
    try:
        trans_t = getattr(mt, registry)(ct)
    except NotImplementedError:
        with pytest.raises(NotImplementedError):
            getattr(ma, registry)(ca)
        return
    trans_a = getattr(ma, registry)(ca)
    assert type(trans_a).__name__ == type(trans_t).__name__
    ya = trans_a(ta(x))
    _close(ya, trans_t(tt(x)))
    assert bool(ca.check(ya).all())
    _close(ca.check(ya).to(ad.float64), ct.check(trans_t(tt(x))).double())


@pytest.mark.parametrize(
    "name",
    [
        "positive",
        "nonnegative",
        "unit_interval",
        "greater_than",
        "less_than",
        "interval",
        "simplex",
        "independent",
        "cat",
        "stack",
        "real",
    ],
)
def test_constraint_check_and_repr_vs_torch(name, torch):
    ctor, _ = CONSTRAINTS[name]
    (ma, ta), (mt, tt) = _lib(torch, "ad"), _lib(torch, "torch")
    ca, ct = ctor(ma.constraints, ta), ctor(mt.constraints, tt)
    assert repr(ca) == repr(ct) or name in ("cat", "stack")
    for v in (L, P - 1, KS[:2, :3], np.array([[0.2, 0.8, 0.0], [0.5, 0.25, 0.25]])):
        _close(ca.check(ta(v)).to(ad.float64), ct.check(tt(v)).double())


def test_discrete_constraints_vs_torch(torch):
    (ma, ta), (mt, tt) = _lib(torch, "ad"), _lib(torch, "torch")
    v = np.array([[0.0, 1.0, 2.5], [3.0, -1.0, 1.0]])
    for make in (
        lambda c: c.boolean,
        lambda c: c.nonnegative_integer,
        lambda c: c.positive_integer,
        lambda c: c.integer_interval(0, 2),
        lambda c: c.one_hot,
        lambda c: c.multinomial(3),
        lambda c: c.lower_triangular,
        lambda c: c.square,
        lambda c: c.symmetric,
    ):
        ca, ct = make(ma.constraints), make(mt.constraints)
        assert ca.is_discrete == ct.is_discrete and ca.event_dim == ct.event_dim
        for arr in (v, np.eye(3), MATS[0]):
            _close(ca.check(ta(arr)).to(ad.float64), ct.check(tt(arr)).double())
    assert D.constraints.is_dependent(D.Uniform.support)
    assert not D.constraints.is_dependent(D.constraints.real)


# fmt: off
INVALID = [
    lambda: D.Cauchy(0.0, -1.0), lambda: D.StudentT(ad.tensor([-1.0])),
    lambda: D.Chi2(ad.tensor([0.0])), lambda: D.Poisson(ad.tensor([-0.5])),
    lambda: D.Binomial(ad.tensor([2.5]), probs=ad.tensor([0.5])),
    lambda: D.Geometric(probs=ad.tensor([0.0])), lambda: D.Pareto(1.0, -2.0),
    lambda: D.VonMises(0.0, 0.0), lambda: D.Weibull(1.0, 0.0), lambda: D.HalfNormal(-1.0),
    lambda: D.LowRankMultivariateNormal(ad.zeros(2), ad.zeros(3, 1), ad.ones(2)),
    lambda: D.Wishart(ad.tensor(1.0), covariance_matrix=ad.eye(3)),
    lambda: D.LKJCholesky(1), lambda: D.Multinomial(3, probs=ad.tensor([0.5, -0.2])),
    lambda: D.MixtureSameFamily(D.Categorical(ad.ones(2)), D.Normal(ad.zeros(3), 1.0)),
    lambda: D.TransformedDistribution(D.Normal(0.0, 1.0), "exp"),
]
# fmt: on


@pytest.mark.parametrize("ctor", INVALID)
def test_invalid_parameters_raise_value_error(ctor):
    with pytest.raises(ValueError):
        ctor()


def test_values_outside_support_raise():
    with pytest.raises(ValueError, match="support"):
        D.Poisson(ad.ones(2)).log_prob(ad.tensor([1.5, 1.0]))
    with pytest.raises(ValueError, match="support"):
        D.LogNormal(0.0, 1.0).log_prob(ad.tensor([-1.0]))
    with pytest.raises(ValueError, match="support"):
        D.Pareto(ad.tensor([2.0]), ad.tensor([1.0])).log_prob(ad.tensor([1.0]))
    assert D.Poisson(ad.ones(2), validate_args=False).log_prob(ad.tensor([1.5, 1.0])).shape == (2,)
