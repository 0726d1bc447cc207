"""autodiff.special's Bessel, Airy, zeta, round and orthogonal polynomials against
torch.special (and mpmath where installed); gradients as PyTorch's, gradchecked in float64."""

from __future__ import annotations

import numpy as np
import pytest

import autodiff as ad

S = ad.special
GRID = np.concatenate([np.linspace(-60, 60, 2001), np.logspace(-8, 2.9, 200),
                       -np.logspace(-8, 2.9, 200), [0.0, 700.0, 710.0, 1e5]])
EDGES = np.array([np.inf, -np.inf, np.nan])
# torch 2.13 drops the leading 1 of Cephes' p1evl denominators in these (error ~3e-7
# absolute, see special_cephes); ours follow Cephes, checked against mpmath below
TORCH_P1EVL = {"bessel_j0", "bessel_j1", "bessel_y0", "bessel_y1", "airy_ai"}
UNARY = ["bessel_j0", "bessel_j1", "bessel_y0", "bessel_y1", "modified_bessel_i0",
         "modified_bessel_i1", "modified_bessel_k0", "modified_bessel_k1",
         "scaled_modified_bessel_k0", "scaled_modified_bessel_k1", "i0e", "i1e",
         "spherical_bessel_j0", "airy_ai"]
POLYS = ["chebyshev_polynomial_t", "chebyshev_polynomial_u", "chebyshev_polynomial_v",
         "chebyshev_polynomial_w", "shifted_chebyshev_polynomial_t",
         "shifted_chebyshev_polynomial_u", "shifted_chebyshev_polynomial_v",
         "shifted_chebyshev_polynomial_w", "hermite_polynomial_h", "hermite_polynomial_he",
         "laguerre_polynomial_l", "legendre_polynomial_p"]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", UNARY)
def test_unary_vs_torch(name, dtype, device, torch):
    x = np.concatenate([GRID, EDGES]).astype(dtype)
    out = getattr(S, name)(ad.tensor(x, device=device)).numpy()
    assert out.dtype == np.dtype(dtype)
    ref = getattr(torch.special, name)(torch.tensor(x.astype(np.float64))).numpy()
    with np.errstate(over="ignore"):
        ref = ref.astype(dtype)  # float32: ours is float64's correctly rounded value
    if name in TORCH_P1EVL:
        tol = {"rtol": 1e-5 if dtype == "float32" else 0, "atol": 5e-6}
    else:
        tol = {"rtol": 1e-13 if dtype == "float64" else 1e-7, "atol": 1e-300}
    np.testing.assert_allclose(out, ref, **tol)


@pytest.mark.parametrize("name,mp", [("bessel_j0", "j0"), ("bessel_j1", "j1"),
                                     ("bessel_y0", "y0"), ("bessel_y1", "y1"),
                                     ("airy_ai", "ai")])
def test_accuracy_vs_mpmath(name, mp):
    mpmath = pytest.importorskip("mpmath")
    f = {"j0": lambda v: mpmath.besselj(0, v), "j1": lambda v: mpmath.besselj(1, v),
         "y0": lambda v: mpmath.bessely(0, v), "y1": lambda v: mpmath.bessely(1, v),
         "ai": mpmath.airyai}[mp]
    x = np.concatenate([np.linspace(0.05, 40, 400), np.logspace(-6, 2, 30)])
    x = x if mp[0] == "y" else np.concatenate([x, -x])
    out = getattr(S, name)(ad.tensor(x, dtype=ad.float64)).numpy()
    ref = np.array([float(f(v)) for v in x])
    np.testing.assert_allclose(out, ref, rtol=1e-11, atol=2e-15)


def test_zeta_vs_torch(device, torch):
    xs = np.array([1.0, 1.0001, 1.5, 2, 3, 4.5, 10, 30, 60, 100, 0.5, -1, np.inf, np.nan])
    qs = np.array([-3.0, -2.5, -0.5, 0.0, 1e-8, 0.3, 1, 2.5, 9, 20, 1e3, 1e6, np.inf, np.nan,
                   -10.5, -30.5])
    x, q = np.meshgrid(xs, qs)
    out = S.zeta(ad.tensor(x, device=device), ad.tensor(q, device=device)).numpy()
    # to the ulp: the last bit follows the host's libm (pow), which differs between builds
    np.testing.assert_allclose(out, torch.special.zeta(torch.tensor(x), torch.tensor(q)),
                               rtol=1e-15, atol=0)
    x32, q32 = x[:, :10].astype(np.float32), q[:, :10].astype(np.float32)
    out32 = S.zeta(ad.tensor(x32), ad.tensor(q32)).numpy()
    ref32 = torch.special.zeta(torch.tensor(x32.astype(np.float64)),
                               torch.tensor(q32.astype(np.float64))).float()
    np.testing.assert_allclose(out32, ref32, rtol=1e-7)
    assert S.zeta(ad.tensor([2.0, 3.0]), 1.0).shape == (2,)  # broadcasting, a number q
    assert S.zeta(2.0, ad.tensor([[1.0], [2.0]])).shape == (2, 1)


def test_zeta_gradients(device, torch):
    x, q = [2.5, 3.0, 1.5], [0.5, 2.0, 7.0]
    aq = ad.tensor(q, dtype=ad.float64, device=device, requires_grad=True)
    S.zeta(ad.tensor(x, dtype=ad.float64, device=device), aq).sum().backward()
    tq = torch.tensor(q, dtype=torch.float64, requires_grad=True)
    torch.special.zeta(torch.tensor(x, dtype=torch.float64), tq).sum().backward()
    np.testing.assert_allclose(aq.grad.numpy(), tq.grad.numpy(), rtol=1e-12)
    assert ad.autograd.gradcheck(lambda t: S.zeta(ad.tensor(x, dtype=ad.float64), t),
                                 (ad.tensor(q, dtype=ad.float64, requires_grad=True),))
    ax = ad.tensor(x, dtype=ad.float64, requires_grad=True)
    with pytest.raises(NotImplementedError, match="derivative for 'zeta'"):
        S.zeta(ax, 1.0).sum().backward()


@pytest.mark.parametrize("name", ["i0e", "i1e"])
def test_i0e_i1e_gradients(name, device, torch):
    x = [-30.0, -3.0, -0.5, 0.0, 0.5, 4.0, 9.0, 25.0]
    a = ad.tensor(x, dtype=ad.float64, device=device, requires_grad=True)
    getattr(S, name)(a).sum().backward()
    t = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    getattr(torch.special, name)(t).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), t.grad.numpy(), rtol=1e-12, atol=1e-15)
    xs = ad.tensor([-3.0, -0.5, 0.7, 4.0, 9.0], dtype=ad.float64, requires_grad=True)
    assert ad.autograd.gradcheck(getattr(S, name), (xs,))
    assert ad.autograd.gradgradcheck(getattr(S, name), (xs,))


@pytest.mark.parametrize("name", [n for n in UNARY if n not in ("i0e", "i1e")] + POLYS)
def test_no_gradient_as_torch(name, torch):
    args = (ad.tensor([0.5, 1.5], requires_grad=True),) + ((3,) if name in POLYS else ())
    targs = (torch.tensor([0.5, 1.5], requires_grad=True),) + ((3,) if name in POLYS else ())
    assert not getattr(S, name)(*args).requires_grad
    assert not getattr(torch.special, name)(*targs).requires_grad


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", POLYS)
def test_polynomials_vs_torch(name, dtype, device, torch):
    x = np.concatenate([np.linspace(-3, 3, 121), [-1.0, 1.0, 0.0, 0.5, np.inf, -np.inf, 1e3]])
    n = np.array([-3, -1, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 15, 25, 60])
    xx, nn = np.meshgrid(x.astype(dtype), n)
    out = getattr(S, name)(ad.tensor(xx, device=device), ad.tensor(nn, device=device)).numpy()
    ref = getattr(torch.special, name)(torch.tensor(xx.astype(np.float64)), torch.tensor(nn))
    assert out.dtype == np.dtype(dtype)
    with np.errstate(over="ignore"):
        ref = ref.numpy().astype(dtype)
    np.testing.assert_allclose(out, ref, rtol=1e-12 if dtype == "float64" else 1e-6,
                               atol=1e-12 if dtype == "float64" else 1e-6)
    # NaN x: NaN (torch 2.13 returns uninitialised memory for several of these)
    assert np.isnan(getattr(S, name)(ad.tensor([np.nan]), 3).numpy()).all()


def test_polynomial_argument_forms(torch):
    for name in POLYS:
        f, tf = getattr(S, name), getattr(torch.special, name)
        for args in [(0.3, [2, 5]), ([0.3, 0.7], 3.7), ([0.3, -0.2], [[1], [4]])]:
            a = [ad.tensor(v) if isinstance(v, list) else v for v in args]
            t = [torch.tensor(v) if isinstance(v, list) else v for v in args]
            out, ref = f(*a), tf(*t)
            assert out.dtype.name == str(ref.dtype).split(".")[1], name
            np.testing.assert_allclose(out.numpy(), ref.numpy(), rtol=1e-6, atol=1e-6)
    assert S.legendre_polynomial_p(ad.tensor([0.5]), ad.tensor([3.0], dtype=ad.float64)).dtype \
        == ad.float64


def test_round(torch):
    x = np.array([1.2345, 2.5, -0.125, 3.5, -2.5, 1234.5678])
    for d in (0, 1, 2, -1):
        np.testing.assert_allclose(S.round(ad.tensor(x), decimals=d).numpy(),
                                   torch.special.round(torch.tensor(x), decimals=d).numpy())
    a = ad.tensor(x, requires_grad=True)
    S.round(a).sum().backward()
    assert (a.grad.numpy() == 0).all()


def test_names_match_torch(torch):
    missing = {n for n in dir(torch.special) if not n.startswith("_") and not hasattr(S, n)}
    assert missing <= {"common_args", "multi_dim_common", "torch"}
    assert hasattr(ad, "i0") and hasattr(ad, "round")
