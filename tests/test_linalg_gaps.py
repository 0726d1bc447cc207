"""autodiff.linalg's LinAlgError, *_ex variants, cond, tensorinv/tensorsolve and the LDL^T
family against torch.linalg; gradients gradchecked in float64."""

from __future__ import annotations

import math

import numpy as np
import pytest

import autodiff as ad

L = ad.linalg
SING = np.array([[1.0, 2.0], [2.0, 4.0]])
NOT_PD = np.array([[1.0, 2.0], [2.0, 1.0]])
EYE = np.eye(2)
ERROR_CASES = [  # name, call on (module, tensor), input
    ("inv", lambda m, a: m.inv(a), SING),
    ("inv_batch", lambda m, a: m.inv(a), np.stack([EYE, SING])),
    ("cholesky", lambda m, a: m.cholesky(a), NOT_PD),
    ("cholesky_batch", lambda m, a: m.cholesky(a), np.stack([EYE, NOT_PD])),
    ("solve", lambda m, a: m.solve(a, a[..., 0]), SING),
    ("solve_batch", lambda m, a: m.solve(a, a), np.stack([EYE, SING])),
    ("inv_ex", lambda m, a: m.inv_ex(a, check_errors=True), SING),
    ("cholesky_ex", lambda m, a: m.cholesky_ex(a, check_errors=True), np.stack([EYE, NOT_PD])),
    ("solve_ex", lambda m, a: m.solve_ex(a, a, check_errors=True), SING),
]


@pytest.mark.parametrize("case", ERROR_CASES, ids=[c[0] for c in ERROR_CASES])
def test_linalg_error_message_as_torch(case, device, torch):
    _, call, a = case
    with pytest.raises(torch.linalg.LinAlgError) as ref:
        call(torch.linalg, torch.tensor(a))
    with pytest.raises(L.LinAlgError) as ours:
        call(L, ad.tensor(a, device=device))
    assert str(ours.value) == str(ref.value)
    assert issubclass(L.LinAlgError, RuntimeError)


@pytest.mark.parametrize("name,a", [("inv_ex", SING), ("cholesky_ex", NOT_PD),
                                    ("cholesky_ex", np.array([[np.nan, 0.0], [0.0, 1.0]])),
                                    ("inv_ex", np.stack([EYE, SING, 2 * EYE]))])
def test_ex_info_and_values(name, a, device, torch):
    out, info = getattr(L, name)(ad.tensor(a, device=device))
    rout, rinfo = getattr(torch.linalg, name)(torch.tensor(a))
    np.testing.assert_array_equal(info.numpy(), rinfo.numpy())
    assert info.dtype == ad.int32
    np.testing.assert_array_equal(out.numpy(), rout.numpy())  # LAPACK's partial results


def test_ex_success_is_differentiable(torch):
    a = np.array([[4.0, 1.0, 0.5], [1.0, 3.0, 0.2], [0.5, 0.2, 2.0]])
    b = np.array([[1.0, 2.0], [0.0, 1.0], [3.0, -1.0]])
    for fn, tfn in [(lambda x: L.inv_ex(x).inverse, lambda x: torch.linalg.inv_ex(x).inverse),
                    (lambda x: L.cholesky_ex(x, upper=True).L,
                     lambda x: torch.linalg.cholesky_ex(x, upper=True).L),
                    (lambda x: L.solve_ex(x, ad.tensor(b)).result,
                     lambda x: torch.linalg.solve_ex(x, torch.tensor(b)).result)]:
        x = ad.tensor(a, requires_grad=True)
        np.testing.assert_allclose(fn(x).detach().numpy(), tfn(torch.tensor(a)).numpy(),
                                   rtol=1e-12)
        assert ad.autograd.gradcheck(lambda t, f=fn: f((t + t.mT) / 2), (x,))  # symmetric A
        assert L.inv_ex(x).info.item() == 0


@pytest.mark.parametrize("p", [None, 2, -2, "fro", "nuc", math.inf, -math.inf, 1, -1])
def test_cond_vs_torch(p, device, torch):
    rng = np.random.default_rng(0)
    a = rng.standard_normal((3, 4, 4))
    out = L.cond(ad.tensor(a, device=device), p).numpy()
    np.testing.assert_allclose(out, torch.linalg.cond(torch.tensor(a), p).numpy(), rtol=1e-10)
    sing = L.cond(ad.tensor(SING), p).item()
    ref = torch.linalg.cond(torch.tensor(SING), p).item()
    if p == -2:  # sigma_min / sigma_max
        assert sing < 1e-15 and ref < 1e-15
    else:
        assert (math.isinf(sing) and math.isinf(ref)) or sing > 1e15 and ref > 1e15
    x = ad.tensor(a[0] + 4 * np.eye(4), requires_grad=True)
    if p not in (math.inf, -math.inf, 1, -1):  # max / min of |entries|: kinks
        assert ad.autograd.gradcheck(lambda t: L.cond(t, p), (x,))


def test_cond_rectangular_and_bad_p(torch):
    a = np.random.default_rng(1).standard_normal((5, 3))
    np.testing.assert_allclose(L.cond(ad.tensor(a)).numpy(),
                               torch.linalg.cond(torch.tensor(a)).numpy(), rtol=1e-12)
    with pytest.raises(RuntimeError):
        L.cond(ad.tensor(a), 3)


def test_tensorinv_tensorsolve(device, torch):
    rng = np.random.default_rng(2)
    a = rng.standard_normal((6, 2, 3))
    np.testing.assert_allclose(L.tensorinv(ad.tensor(a, device=device), 1).numpy(),
                               torch.linalg.tensorinv(torch.tensor(a), 1).numpy(), rtol=1e-10)
    a4, b = rng.standard_normal((2, 3, 6)), rng.standard_normal((2, 3))
    np.testing.assert_allclose(L.tensorsolve(ad.tensor(a4), ad.tensor(b)).numpy(),
                               torch.linalg.tensorsolve(torch.tensor(a4), torch.tensor(b)).numpy(),
                               rtol=1e-10)
    a5 = rng.standard_normal((6, 2, 3))
    np.testing.assert_allclose(L.tensorsolve(ad.tensor(a5), ad.tensor(b), dims=(0,)).numpy(),
                               torch.linalg.tensorsolve(torch.tensor(a5), torch.tensor(b),
                                                        dims=(0,)).numpy(), rtol=1e-10)
    with pytest.raises(RuntimeError):
        L.tensorsolve(ad.tensor(a5), ad.tensor(rng.standard_normal(6)), dims=(0,))
    x = ad.tensor(a4, requires_grad=True)
    assert ad.autograd.gradcheck(lambda t: L.tensorsolve(t, ad.tensor(b)), (x,))
    assert ad.autograd.gradcheck(lambda t: L.tensorinv(t, 1), (ad.tensor(a, requires_grad=True),))


def test_ldl_factor_and_solve_equal_torch(device, torch):
    rng = np.random.default_rng(3)
    for trial in range(60):
        n = int(rng.integers(1, 9))
        m = rng.standard_normal((n, n))
        m = m + m.T
        if trial % 3 == 0:
            m[np.diag_indices(n)] *= 0.01  # 2 x 2 pivots
        ld, piv = L.ldl_factor(ad.tensor(m, device=device))
        tld, tpiv = torch.linalg.ldl_factor(torch.tensor(m))
        np.testing.assert_array_equal(piv.numpy(), tpiv.numpy())
        np.testing.assert_allclose(ld.numpy(), tld.numpy(), rtol=1e-10, atol=1e-12)
        b = rng.standard_normal((n, 2))
        x = L.ldl_solve(ld, piv, ad.tensor(b, device=device)).numpy()
        np.testing.assert_allclose(m @ x, b, atol=1e-8)
        np.testing.assert_allclose(x, torch.linalg.ldl_solve(tld, tpiv, torch.tensor(b)).numpy(),
                                   rtol=1e-8, atol=1e-10)


def test_ldl_batched_ex_and_no_derivative(torch):
    rng = np.random.default_rng(4)
    m = rng.standard_normal((3, 4, 4))
    m = m + np.swapaxes(m, -1, -2)
    m[1] = 0.0
    ld, piv, info = L.ldl_factor_ex(ad.tensor(m, dtype=ad.float32))
    tld, tpiv, tinfo = torch.linalg.ldl_factor_ex(torch.tensor(m, dtype=torch.float32))
    np.testing.assert_array_equal(info.numpy(), tinfo.numpy())
    np.testing.assert_array_equal(piv.numpy(), tpiv.numpy())
    np.testing.assert_allclose(ld.numpy(), tld.numpy(), rtol=1e-5, atol=1e-6)
    assert ld.dtype == ad.float32
    with pytest.raises(L.LinAlgError):
        L.ldl_factor(ad.tensor(m))
    a = ad.tensor(m[0], requires_grad=True)
    ld, piv = L.ldl_factor(a)
    with pytest.raises(RuntimeError, match="derivative for aten::linalg_ldl_factor_ex"):
        ld.sum().backward()


def test_eig_points_to_eigh():
    for fn in (L.eig, L.eigvals):
        with pytest.raises(NotImplementedError, match="eigh|eigvalsh"):
            fn(ad.eye(2))


def test_names_match_torch(torch):
    missing = {n for n in dir(torch.linalg) if not n.startswith("_") and not hasattr(L, n)}
    assert missing <= {"common_notes"}
