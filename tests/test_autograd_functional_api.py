"""ad.autograd.functional.{vjp, jvp, jacobian, hessian, vhp, hvp} against PyTorch's, on
single and tuple inputs and outputs, with create_graph and strict."""

from __future__ import annotations

import numpy as np
import pytest

import autodiff as ad

torch = pytest.importorskip("torch")

RNG = np.random.default_rng(0)
A, B = RNG.standard_normal(3), RNG.standard_normal((2, 3))
V3, V2 = RNG.standard_normal(3), RNG.standard_normal(2)


def _f1(x):
    return (x.sin() * x).sum()


def _f2(x, w):
    return (w @ x).tanh()


def _f3(x, w):
    return (w @ x).exp(), x * 2


CASES = {
    "jacobian": lambda L, T: L.autograd.functional.jacobian(_f2, (T(A), T(B))),
    "jacobian_single": lambda L, T: L.autograd.functional.jacobian(lambda x: _f2(x, T(B)), T(A)),
    "jacobian_tuple_out": lambda L, T: L.autograd.functional.jacobian(_f3, (T(A), T(B))),
    "hessian": lambda L, T: L.autograd.functional.hessian(_f1, T(A)),
    "hessian_tuple": lambda L, T: L.autograd.functional.hessian(
        lambda x, y: (x * y).sin().sum(), (T(A), T(A[::-1].copy()))),
    "vjp": lambda L, T: L.autograd.functional.vjp(_f2, (T(A), T(B)), T(V2)),
    "vjp_scalar": lambda L, T: L.autograd.functional.vjp(_f1, T(A)),
    "jvp": lambda L, T: L.autograd.functional.jvp(lambda x: _f2(x, T(B)), T(A), T(V3)),
    "vhp": lambda L, T: L.autograd.functional.vhp(_f1, T(A), T(V3)),
    "hvp": lambda L, T: L.autograd.functional.hvp(_f1, T(A), T(V3)),
}


def _numpy(r):
    if isinstance(r, (tuple, list)):
        return tuple(_numpy(x) for x in r)
    return r.detach().numpy()


def _assert_same(ours, theirs):
    assert type(ours) is type(theirs)
    if isinstance(ours, tuple):
        assert len(ours) == len(theirs)
        for a, b in zip(ours, theirs):
            _assert_same(a, b)
    else:
        assert ours.shape == theirs.shape
        np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("device", ["numpy", "cpp"])
@pytest.mark.parametrize("name", list(CASES))
def test_matches_pytorch(device, name):
    ours = CASES[name](ad, lambda x: ad.tensor(x, device=device))
    theirs = CASES[name](torch, torch.tensor)
    _assert_same(_numpy(ours), _numpy(theirs))


def test_create_graph_and_strict():
    x = ad.tensor(A, requires_grad=True)
    jac = ad.autograd.functional.jacobian(lambda t: t.exp(), x, create_graph=True)
    assert jac.requires_grad
    jac.sum().backward()  # d/dx sum(diag(exp(x))) = exp(x)
    np.testing.assert_allclose(x.grad.numpy(), np.exp(A))
    assert not ad.autograd.functional.jacobian(lambda t: t.exp(), x).requires_grad
    with pytest.raises(RuntimeError, match="independent of input 1"):
        ad.autograd.functional.vjp(lambda a, b: a * 2, (x, ad.tensor(A)), ad.ones(3),
                                   strict=True)
    _, (ga, gb) = ad.autograd.functional.vjp(lambda a, b: a * 2, (x, ad.tensor(A)), ad.ones(3))
    assert gb.tolist() == [0.0, 0.0, 0.0]
