"""Regressions found by a cross-audit of the PyTorch-name extras against PyTorch 2.13: 0-size
and 0-d inputs (trapezoid, unique_consecutive, LU, histogram, scatter_reduce), frexp of
subnormals, and the torch.linalg names lu_factor_ex and vander. Literal expected values are
PyTorch's, so only the oracle comparisons need PyTorch."""

from __future__ import annotations

import numpy as np
import pytest

import autodiff as ad


def _np(t):
    return t.detach().numpy()


# ----------------------------------------------------------------- frexp of subnormals
@pytest.mark.parametrize(
    "dtype, values, mantissa, exponent",
    [
        ("float64", [1e-310, 5e-324, 1e-40], [0.5752618, 0.5, 0.5445], [-1029, -1073, -132]),
        ("float32", [1e-40, 1e-45, 3.0], [0.5444, 0.5, 0.75], [-132, -148, 2]),
    ],
)
def test_frexp_subnormal_mantissa_is_finite(dtype, values, mantissa, exponent):
    m, e = ad.frexp(ad.tensor(values, dtype=getattr(ad, dtype)))
    np.testing.assert_allclose(_np(m), mantissa, rtol=1e-4)
    np.testing.assert_array_equal(_np(e), exponent)


def test_frexp_gradient_is_two_to_minus_exponent():
    x = ad.tensor([3.0, 0.1, -6.0], dtype=ad.float64, requires_grad=True)
    ad.frexp(x)[0].sum().backward()
    np.testing.assert_array_equal(_np(x.grad), [0.25, 8.0, 0.125])


# ----------------------------------------------------------------- 0-size inputs
def test_trapezoid_of_no_samples_is_zero():
    np.testing.assert_array_equal(_np(ad.trapezoid(ad.zeros(2, 0))), [0.0, 0.0])
    np.testing.assert_array_equal(_np(ad.trapezoid(ad.zeros(0, 3), dim=0)), [0.0, 0.0, 0.0])
    np.testing.assert_array_equal(_np(ad.trapezoid(ad.zeros(2, 0), ad.zeros(0))), [0.0, 0.0])
    assert tuple(ad.cumulative_trapezoid(ad.zeros(2, 0)).shape) == (2, 0)
    assert tuple(ad.cumulative_trapezoid(ad.zeros(0, 3), dim=0).shape) == (0, 3)


def test_unique_consecutive_of_empty_input():
    values, inverse, counts = ad.unique_consecutive(
        ad.zeros(0, dtype=ad.int64), return_inverse=True, return_counts=True
    )
    assert values.shape == inverse.shape == counts.shape == (0,)
    values, inverse, counts = ad.unique_consecutive(
        ad.zeros(0, 3, dtype=ad.int64), return_inverse=True, return_counts=True, dim=0
    )
    assert (tuple(values.shape), tuple(inverse.shape), tuple(counts.shape)) == ((0, 3), (0,), (0,))


@pytest.mark.parametrize("shape", [(0, 0), (2, 0, 3), (0, 3, 3)])
def test_lu_of_0_size_matrices(shape):
    P, L, U = ad.linalg.lu(ad.zeros(*shape))
    m, n = shape[-2:]
    k = min(m, n)
    batch = shape[:-2]
    assert (tuple(P.shape), tuple(L.shape), tuple(U.shape)) == (
        batch + (m, m),
        batch + (m, k),
        batch + (k, n),
    )
    LU, piv = ad.linalg.lu_factor(ad.zeros(*shape))
    assert tuple(LU.shape) == shape and tuple(piv.shape) == batch + (k,)


def test_histogram_of_empty_input_spans_0_to_1():
    hist, edges = ad.histogram(ad.zeros(0, dtype=ad.float64), bins=3)
    np.testing.assert_allclose(_np(edges), [0, 1 / 3, 2 / 3, 1])
    np.testing.assert_array_equal(_np(hist), [0, 0, 0])
    _, edges = ad.histogram(ad.zeros(0), bins=2, range=(2.0, 2.0))
    np.testing.assert_allclose(_np(edges), [1.5, 2.0, 2.5])


# ----------------------------------------------------------------- scatter_reduce on 0-d self
@pytest.mark.parametrize(
    "reduce, include_self, y, dself, dsrc",
    [
        ("sum", True, 5.0, 1.0, 1.0),
        ("prod", True, 6.0, 3.0, 2.0),
        ("mean", True, 2.5, 0.5, 0.5),
        ("mean", False, 3.0, 0.0, 1.0),
        ("amax", True, 3.0, 0.0, 1.0),
        ("amin", True, 2.0, 1.0, 0.0),
    ],
)
def test_scatter_reduce_0d(reduce, include_self, y, dself, dsrc):
    x = ad.tensor(2.0, requires_grad=True)
    s = ad.tensor(3.0, requires_grad=True)
    out = (x * 1).scatter_reduce(0, ad.tensor(0), s, reduce, include_self=include_self)
    assert tuple(out.shape) == ()
    out.backward()
    assert (out.item(), x.grad.item(), s.grad.item()) == (y, dself, dsrc)


# ----------------------------------------------------------------- new torch.linalg names
def test_lu_factor_ex_reports_instead_of_raising():
    A = ad.tensor([[[1.0, 2.0], [2.0, 4.0]], [[1.0, 0.0], [0.0, 1.0]]])
    _, piv, info = ad.linalg.lu_factor_ex(A)
    np.testing.assert_array_equal(_np(info), [2, 0])
    assert info.dtype is ad.int32 and tuple(piv.shape) == (2, 2)
    with pytest.raises(RuntimeError, match="is zero"):
        ad.linalg.lu_factor_ex(ad.zeros(2, 2), check_errors=True)


def test_linalg_vander_literal_and_errors():
    v = ad.linalg.vander(ad.tensor([0, 2, 3]))
    np.testing.assert_array_equal(_np(v), [[1, 0, 0], [1, 2, 4], [1, 3, 9]])
    assert v.dtype is ad.int64
    with pytest.raises(RuntimeError, match="N must be greater than 1"):
        ad.linalg.vander(ad.randn(3), N=1)


def test_linalg_vander_and_lu_factor_ex_against_torch(torch):
    rng = np.random.default_rng(0)
    for x_np, N in ((rng.standard_normal((2, 3)), None), (np.array([0.0, 1.0, -2.0]), 5)):
        x = ad.tensor(x_np, requires_grad=True)
        xt = torch.tensor(x_np, requires_grad=True)
        w = rng.standard_normal(x_np.shape + (N or x_np.shape[-1],))
        y, yt = ad.linalg.vander(x, N=N), torch.linalg.vander(xt, N=N)
        np.testing.assert_allclose(_np(y), yt.detach().numpy(), rtol=1e-12)
        (y * ad.tensor(w)).sum().backward()
        (yt * torch.tensor(w)).sum().backward()
        np.testing.assert_allclose(_np(x.grad), xt.grad.numpy(), rtol=1e-12, atol=1e-12)
    a_np = rng.standard_normal((2, 3, 3))
    ours, theirs = (
        ad.linalg.lu_factor_ex(ad.tensor(a_np)),
        torch.linalg.lu_factor_ex(torch.tensor(a_np)),
    )
    for o, t in zip(ours, theirs):
        np.testing.assert_allclose(_np(o), t.numpy(), rtol=1e-12, atol=1e-12)


def test_frexp_and_empty_inputs_against_torch(torch):
    v = np.array([1e-310, 5e-324, 0.0, -3.5, 8.0, 1e-40])
    m, e = ad.frexp(ad.tensor(v))
    mt, et = torch.frexp(torch.tensor(v))
    np.testing.assert_allclose(_np(m), mt.numpy(), rtol=1e-12)
    np.testing.assert_array_equal(_np(e), et.numpy())
    np.testing.assert_array_equal(
        _np(ad.trapezoid(ad.zeros(2, 0))), torch.trapezoid(torch.zeros(2, 0)).numpy()
    )
    _, edges = ad.histogram(ad.zeros(0), bins=4)
    np.testing.assert_allclose(_np(edges), torch.histogram(torch.zeros(0), bins=4)[1].numpy())


def test_mode_of_a_row_whose_mode_is_nan():
    nan = float("nan")
    values, index = ad.mode(ad.tensor([nan, 1.0, nan, 1.0, nan]))
    assert np.isnan(values.item()) and index.item() == 4
    np.testing.assert_array_equal(_np(ad.mode(ad.tensor([[1.0, nan, 1.0]]), 1)[0]), [1.0])


@pytest.mark.filterwarnings("ignore:.*weight_norm.*deprecated:FutureWarning")
@pytest.mark.parametrize("style", ["parametrizations", "hook"])
def test_weight_norm_on_an_lstm_weight_is_used_by_forward(style):
    """The RNN modules read their weights through getattr, so a parametrized (or hook-computed)
    weight is the one the recurrence uses, and its magnitude g gets a gradient."""
    model = ad.nn.LSTM(3, 4, bidirectional=True).double()
    plain = ad.nn.LSTM(3, 4, bidirectional=True).double()
    plain.load_state_dict(model.state_dict())
    name = "weight_hh_l0_reverse"
    if style == "parametrizations":
        model = ad.nn.utils.parametrizations.weight_norm(model, name=name)
        g = model.parametrizations.weight_hh_l0_reverse.original0
    else:
        model = ad.nn.utils.weight_norm(model, name=name)
        g = model.weight_hh_l0_reverse_g
    with ad.no_grad():
        g.mul_(2.0)  # the effective weight is now twice the original one
        plain.weight_hh_l0_reverse.mul_(2.0)
    x = ad.tensor(np.random.default_rng(0).standard_normal((5, 2, 3)))
    y, y0 = model(x)[0], plain(x)[0]
    np.testing.assert_allclose(_np(y), _np(y0), rtol=1e-12, atol=1e-12)
    y.sum().backward()
    assert g.grad is not None and float(g.grad.abs().sum()) > 0
