"""nn.utils.parametrizations.orthogonal against PyTorch: orthogonality, values and gradients
for the same original tensor, SGD steps, right_inverse (assignment), the default map, errors;
and linalg.householder_product / geqrf, which it is built on."""

from __future__ import annotations

import numpy as np
import pytest

import autodiff as ad
from autodiff import nn
from autodiff.nn.utils import parametrizations

torch = pytest.importorskip("torch")
TO = torch.nn.utils.parametrizations.orthogonal

RNG = np.random.default_rng(0)
MAPS = ["matrix_exp", "cayley", "householder"]
SHAPES = [(4, 4), (6, 3), (3, 6), (2, 4, 3)]


class Holder(nn.Module):
    def __init__(self, w, device) -> None:
        super().__init__()
        self.weight = nn.Parameter(ad.tensor(w, device=device))


class THolder(torch.nn.Module):
    def __init__(self, w) -> None:
        super().__init__()
        self.weight = torch.nn.Parameter(torch.tensor(w))


def pair(shape, orthogonal_map, triv, device, w=None):
    """(ours, theirs) with the same weight, parametrized, then with the same original (and
    base) so that both compute the same function of the same numbers."""
    w = RNG.standard_normal(shape) if w is None else w
    ours = parametrizations.orthogonal(Holder(w, device), orthogonal_map=orthogonal_map,
                                       use_trivialization=triv)
    theirs = TO(THolder(w), orthogonal_map=orthogonal_map, use_trivialization=triv)
    orig = RNG.standard_normal(shape) * 0.5
    if orthogonal_map == "householder":  # the diagonal holds signs (+-1): keep it
        diag = np.eye(*shape[-2:], dtype=bool)
        orig = np.where(diag, theirs.parametrizations.weight.original.detach().numpy(), orig)
    with torch.no_grad():
        theirs.parametrizations.weight.original.copy_(torch.tensor(orig))
    ours.parametrizations.weight.original.data = ad.tensor(orig, device=device)
    if triv:
        base = theirs.parametrizations.weight[0].base.numpy()
        ours.parametrizations.weight[0].base = ad.tensor(base, device=device)
    return ours, theirs


def orth_error(w: np.ndarray) -> float:
    n, k = w.shape[-2:]
    g = np.swapaxes(w, -1, -2) @ w if n >= k else w @ np.swapaxes(w, -1, -2)
    return float(np.abs(g - np.eye(min(n, k))).max())


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("triv", [True, False], ids=["triv", "notriv"])
@pytest.mark.parametrize("orthogonal_map", MAPS)
def test_values_and_gradients_match_torch(orthogonal_map, triv, shape, cpu_device):
    ours, theirs = pair(shape, orthogonal_map, triv, cpu_device)
    w, tw = ours.weight, theirs.weight
    assert orth_error(w.numpy()) < 1e-12
    np.testing.assert_allclose(w.numpy(), tw.detach().numpy(), atol=1e-10)
    g = RNG.standard_normal(shape)
    (w * ad.tensor(g, device=cpu_device)).sum().backward()
    (tw * torch.tensor(g)).sum().backward()
    np.testing.assert_allclose(ours.parametrizations.weight.original.grad.numpy(),
                               theirs.parametrizations.weight.original.grad.numpy(), atol=1e-9)


@pytest.mark.parametrize("shape", [(4, 4), (5, 3), (3, 5)], ids=str)
@pytest.mark.parametrize("triv", [True, False], ids=["triv", "notriv"])
@pytest.mark.parametrize("orthogonal_map", MAPS)
def test_sgd_steps_match_torch(orthogonal_map, triv, shape):
    ours, theirs = pair(shape, orthogonal_map, triv, None)
    x = RNG.standard_normal((7, shape[1]))
    y = RNG.standard_normal((7, shape[0]))
    p = ours.parametrizations.weight.original
    tp = theirs.parametrizations.weight.original
    opt = torch.optim.SGD([tp], lr=0.1)
    for _ in range(3):
        loss = ((ad.tensor(x) @ ours.weight.T - ad.tensor(y)) ** 2).mean()
        p.grad = None
        loss.backward()
        with ad.no_grad():
            p.sub_(0.1 * p.grad)
        opt.zero_grad()
        ((torch.tensor(x) @ theirs.weight.T - torch.tensor(y)) ** 2).mean().backward()
        opt.step()
    np.testing.assert_allclose(p.numpy(), tp.detach().numpy(), atol=1e-9)
    np.testing.assert_allclose(ours.weight.numpy(), theirs.weight.detach().numpy(), atol=1e-9)
    assert orth_error(ours.weight.numpy()) < 1e-12


@pytest.mark.parametrize("triv", [True, False], ids=["triv", "notriv"])
@pytest.mark.parametrize("orthogonal_map", MAPS)
def test_registration_of_a_square_weight_matches_torch(orthogonal_map, triv):
    """Registering (and assigning) a square non-orthogonal weight: QR is deterministic, so
    original and base are torch's exactly."""
    w = RNG.standard_normal((2, 4, 4))
    ours = parametrizations.orthogonal(Holder(w, None), orthogonal_map=orthogonal_map,
                                       use_trivialization=triv)
    theirs = TO(THolder(w), orthogonal_map=orthogonal_map, use_trivialization=triv)
    for which in ("register", "assign"):
        if which == "assign":
            v = RNG.standard_normal((2, 4, 4))
            if not triv and orthogonal_map != "householder":
                with pytest.raises(NotImplementedError, match="use_trivialization=False"):
                    ours.weight = ad.tensor(v)
                return
            ours.weight = ad.tensor(v)
            theirs.weight = torch.tensor(v)
        np.testing.assert_allclose(ours.parametrizations.weight.original.numpy(),
                                   theirs.parametrizations.weight.original.detach().numpy(),
                                   atol=1e-10)
        if triv:
            np.testing.assert_allclose(ours.parametrizations.weight[0].base.numpy(),
                                       theirs.parametrizations.weight[0].base.numpy(),
                                       atol=1e-10)
        np.testing.assert_allclose(ours.weight.numpy(), theirs.weight.detach().numpy(),
                                   atol=1e-10)


@pytest.mark.parametrize("shape", [(5, 3), (3, 5), (4, 4)], ids=str)
@pytest.mark.parametrize("orthogonal_map", MAPS)
def test_assigning_an_orthogonal_matrix_keeps_it(orthogonal_map, shape):
    q = np.linalg.qr(RNG.standard_normal((max(shape), max(shape))))[0][:shape[0], :shape[1]]
    m = parametrizations.orthogonal(nn.Linear(shape[1], shape[0], dtype=ad.float64),
                                    orthogonal_map=orthogonal_map)
    m.weight = ad.tensor(q)
    np.testing.assert_allclose(m.weight.numpy(), q, atol=1e-12)
    expected = -np.eye(*shape)  # -Id: every map gives the identity, so weight = base
    np.testing.assert_array_equal(m.parametrizations.weight.original.numpy(), expected)


def test_householder_without_trivialization_assigns_reflectors():
    q = np.linalg.qr(RNG.standard_normal((5, 3)))[0]
    ours = parametrizations.orthogonal(Holder(q, None), "weight", "householder",
                                       use_trivialization=False)
    theirs = TO(THolder(q), "weight", "householder", use_trivialization=False)
    np.testing.assert_allclose(ours.parametrizations.weight.original.numpy(),
                               theirs.parametrizations.weight.original.detach().numpy(),
                               atol=1e-12)
    np.testing.assert_allclose(ours.weight.numpy(), q, atol=1e-12)


def test_default_map_and_float32_linear():
    sq = parametrizations.orthogonal(nn.Linear(4, 4))
    tall = parametrizations.orthogonal(nn.Linear(3, 6))
    assert sq.parametrizations.weight[0].orthogonal_map == "matrix_exp"
    assert tall.parametrizations.weight[0].orthogonal_map == "householder"
    assert sq.weight.dtype == ad.float32
    assert orth_error(tall.weight.numpy().astype(np.float64)) < 1e-5
    assert tuple(tall.weight.shape) == (6, 3)
    assert sq.parametrizations.weight[0].base.shape == (4, 4)


def test_errors_match_torch():
    with pytest.raises(ValueError, match="Got a tensor of 1 dimensions"):
        parametrizations.orthogonal(nn.Linear(3, 3), "bias")
    with pytest.raises(ValueError, match='orthogonal_map has to be one of'):
        parametrizations.orthogonal(nn.Linear(3, 3), orthogonal_map="qr")
    with pytest.raises(ValueError, match="has no parameter or buffer with name 'w'"):
        parametrizations.orthogonal(nn.Linear(3, 3), "w")
    m = parametrizations.orthogonal(nn.Linear(3, 4))
    with pytest.raises(ValueError, match="Expected a matrix or batch of matrices of shape"):
        m.weight = ad.zeros(3, 4)


@pytest.mark.parametrize("shape,k", [((5, 3), 3), ((4, 4), 2), ((2, 6, 3), 3)], ids=str)
def test_geqrf_and_householder_product_match_torch(shape, k):
    a = RNG.standard_normal(shape)
    tx, ttau = torch.geqrf(torch.tensor(a))
    x, tau = ad.geqrf(ad.tensor(a))
    np.testing.assert_allclose(x.numpy(), tx.numpy(), atol=1e-12)
    np.testing.assert_allclose(tau.numpy(), ttau.numpy(), atol=1e-12)
    xa = ad.tensor(tx.numpy(), requires_grad=True)
    ta = ad.tensor(ttau[..., :k].numpy(), requires_grad=True)
    xt = tx.clone().requires_grad_()
    tt = ttau[..., :k].clone().requires_grad_()
    q, tq = ad.linalg.householder_product(xa, ta), torch.linalg.householder_product(xt, tt)
    np.testing.assert_allclose(q.detach().numpy(), tq.detach().numpy(), atol=1e-12)
    g = RNG.standard_normal(shape)
    (q * ad.tensor(g)).sum().backward()
    (tq * torch.tensor(g)).sum().backward()
    np.testing.assert_allclose(xa.grad.numpy(), xt.grad.numpy(), atol=1e-12)
    np.testing.assert_allclose(ta.grad.numpy(), tt.grad.numpy(), atol=1e-12)
    np.testing.assert_array_equal(ad.orgqr(input=xa, input2=ta).detach().numpy(),
                                  q.detach().numpy())  # torch.orgqr's names


def test_householder_product_errors_match_torch():
    a = ad.zeros(5, 3)
    for args, msg in [((ad.zeros(3, 5), ad.zeros(2)), "input.shape\\[-2\\] must be greater"),
                      ((a, ad.zeros(4)), "must be greater than or equal to tau.shape"),
                      ((a, ad.zeros(2, 2)), "one dimension less than input"),
                      ((ad.zeros(5), ad.zeros(1)), "at least 2 dimensions")]:
        with pytest.raises(RuntimeError, match=msg):
            ad.linalg.householder_product(*args)
