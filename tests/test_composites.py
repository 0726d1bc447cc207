"""The PyTorch functions of autodiff/composites.py against PyTorch (values, dtypes, shapes and
gradients, on every device), gradchecked in float64, and their errors."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import compare_with_torch

import autodiff as ad

R = np.random.default_rng(0)
M = R.uniform(-2, 2, (3, 4))
MR = M[::-1].copy()
UNIT = R.uniform(-0.9, 0.9, (2, 5))
X3 = R.uniform(-2, 2, (2, 3, 4))
V = R.uniform(-2, 2, (4,))
SQ = R.uniform(-2, 2, (4, 4))
NANS = np.array([[1.0, np.nan, 2.0], [np.nan, np.nan, 3.0]])
INTS = np.array([[3, 0, -2, 3], [0, 5, 5, 1]])
BOOLS = np.array([[True, False], [False, True]])


def _ix(m, ref, data):
    return m.tensor(data, device=ref.device)


def _by_name(name):
    return lambda m, a: getattr(m, name)(a)


# (name, fn(module, *tensors), arrays)
CASES = [
    ("cumsum_0", lambda m, a: m.cumsum(a, 0), M),
    ("cumsum_neg", lambda m, a: a.cumsum(-1), X3),
    ("cumsum_int", lambda m, a: m.cumsum(a, 1), INTS),
    ("cumsum_bool", lambda m, a: m.cumsum(a, 0), BOOLS),
    ("cumsum_dtype", lambda m, a: m.cumsum(a, 1, dtype=m.float64), INTS),
    ("cumsum_0d", lambda m, a: m.cumsum(a, 0), np.array(2.5)),
    ("index_select", lambda m, a: m.index_select(a, 1, _ix(m, a, [3, 0, 3])), M),
    ("index_select_0d_index", lambda m, a: a.index_select(0, _ix(m, a, 1)), M),
    ("index_select_neg_dim", lambda m, a: a.index_select(-1, _ix(m, a, [1, 1])), X3),
    ("masked_select", lambda m, a: m.masked_select(a, a > 0), M),
    ("masked_select_bcast", lambda m, a, b: a.masked_select(b > 0), M, V),
    ("roll_1", lambda m, a: m.roll(a, 1, 1), M),
    ("roll_neg", lambda m, a: a.roll(-5, 0), M),
    ("roll_multi", lambda m, a: a.roll((1, 2), (0, 2)), X3),
    ("roll_flat", lambda m, a: a.roll(3), M),
    ("diagonal", lambda m, a: m.diagonal(a), M),
    ("diagonal_offset", lambda m, a: a.diagonal(1), M),
    ("diagonal_neg", lambda m, a: a.diagonal(-2), M),
    ("diagonal_dims", lambda m, a: a.diagonal(0, 0, 2), X3),
    ("diagonal_far", lambda m, a: a.diagonal(7), M),
    ("diag_vec", lambda m, a: m.diag(a), V),
    ("diag_vec_k", lambda m, a: m.diag(a, 2), V),
    ("diag_vec_neg", lambda m, a: m.diag(a, -1), V),
    ("diag_mat", lambda m, a: m.diag(a, 1), M),
    ("trace", lambda m, a: m.trace(a), M),
    ("nonzero", lambda m, a: m.nonzero(a), INTS),
    ("nonzero_tuple", lambda m, a: m.nonzero(a, as_tuple=True), INTS),
    ("argwhere", lambda m, a: m.argwhere(a), BOOLS),
    ("isclose", lambda m, a: m.isclose(a, a + 1e-9), M),
    ("isclose_nan", lambda m, a: m.isclose(a, a, equal_nan=True), NANS),
    ("isclose_nan_default", lambda m, a: a.isclose(a), NANS),
    ("isclose_int", lambda m, a: m.isclose(a, a * 0 + 3), INTS),
    ("meshgrid_ij", lambda m, a, b: m.meshgrid(a, b, indexing="ij"), V, V[:3]),
    ("meshgrid_xy", lambda m, a, b, c: m.meshgrid(a, b, c, indexing="xy"), V, V[:3], V[:2]),
    ("unique", lambda m, a: m.unique(a), INTS),
    ("unique_all", lambda m, a: m.unique(a, return_inverse=True, return_counts=True), INTS),
    ("unique_dim", lambda m, a: m.unique(a, dim=1), np.array([[1, 2, 1], [3, 4, 3]])),
    ("lerp", lambda m, a, b: m.lerp(a, b, 0.3), M, MR),
    ("lerp_tensor_weight", lambda m, a, b, w: a.lerp(b, w), M, M * 2, V),
    ("addmm", lambda m, c, a, b: m.addmm(c, a, b, beta=0.5, alpha=2.0), V, M, SQ),
    ("addmm_beta0", lambda m, c, a, b: m.addmm(c, a, b, beta=0), V, M, SQ),
    ("baddbmm", lambda m, c, a, b: m.baddbmm(c, a, b), M, X3, R.uniform(-1, 1, (2, 4, 4))),
    ("logaddexp", lambda m, a, b: m.logaddexp(a, b), M, MR * 3),
    ("logaddexp_inf", lambda m, a: m.logaddexp(a, a),
     np.array([-np.inf, np.inf, 0.0, -1.0])),
    ("hypot", lambda m, a, b: m.hypot(a, b), M, MR),
    ("atan2", lambda m, a, b: m.atan2(a, b), M, MR),
    ("atan2_bcast", lambda m, a, b: a.atan2(b), M, V),
    ("cross", lambda m, a, b: m.cross(a, b, dim=1), X3[:, :, :3].reshape(2, 3, 3)[0],
     X3[:, :, 1:].reshape(2, 3, 3)[1]),
    ("cross_last", lambda m, a, b: a.cross(b, dim=-1), R.uniform(-1, 1, (4, 3)),
     R.uniform(-1, 1, (4, 3))),
    ("median", lambda m, a: m.median(a), M),
    ("median_dim", lambda m, a: m.median(a, 1), M[:, :3]),
    ("median_keepdim", lambda m, a: a.median(0, keepdim=True), X3),
    ("count_nonzero", lambda m, a: m.count_nonzero(a), INTS),
    ("count_nonzero_dim", lambda m, a: a.count_nonzero(1), INTS),
    ("nansum", lambda m, a: m.nansum(a), NANS),
    ("nansum_dim", lambda m, a: a.nansum(1, keepdim=True), NANS),
    ("nanmean", lambda m, a: m.nanmean(a, 0), NANS),
    ("var_mean", lambda m, a: m.var_mean(a, 1), M),
    ("std_mean", lambda m, a: m.std_mean(a, correction=0), M),
    ("aminmax", lambda m, a: m.aminmax(a), M),
    ("aminmax_dim", lambda m, a: a.aminmax(dim=0, keepdim=True), X3),
    ("clamp_min", lambda m, a: m.clamp_min(a, 0.5), M),
    ("clamp_max", lambda m, a: a.clamp_max(-0.5), M),
    ("floor_divide", lambda m, a: m.floor_divide(a, 2), INTS),
    *((f, _by_name(f), UNIT) for f in (
        "tan", "asin", "acos", "atan", "sinh", "cosh", "asinh", "atanh", "expm1", "log2",
        "log10", "exp2", "arcsin", "arctan", "sgn", "deg2rad", "rad2deg")),
    ("acosh", lambda m, a: m.acosh(a.abs() + 1.5), UNIT),
    ("log2_int", lambda m, a: m.log2(a), np.array([1, 2, 8])),
    ("logit", lambda m, a: m.logit(a.abs() * 0.9 + 0.05), UNIT),
    ("logit_eps", lambda m, a: a.logit(eps=0.1), np.array([0.0, 0.05, 0.5, 1.0])),
    ("logit_outside", lambda m, a: a.logit(), np.array([-1.3, 0.3, 1.5])),  # NaN gradients
    ("xlogy", lambda m, a, b: m.xlogy(a, b.abs()), np.array([0.0, 1.5, -2.0, 0.0]),
     np.array([0.0, 2.0, 3.0, np.nan])),
    ("copysign", lambda m, a, b: m.copysign(a, b), UNIT, -UNIT[::-1].copy()),
    ("copysign_zero", lambda m, a, b: a.copysign(b), np.array([1.0, 2.0]), np.array([-0.0, 0.0])),
    ("fmax", lambda m, a, b: m.fmax(a, b), np.array([1.0, np.nan, 3.0, np.nan]),
     np.array([2.0, 1.0, np.nan, np.nan])),
    ("fmin", lambda m, a, b: a.fmin(b), np.array([1.0, np.nan, 3.0]), np.array([2.0, 1.0, 0.5])),
    ("nan_to_num", lambda m, a: m.nan_to_num(a), np.array([np.nan, np.inf, -np.inf, 1.0])),
    ("nan_to_num_args", lambda m, a: a.nan_to_num(1.0, 9.0, -9.0),
     np.array([np.nan, np.inf, -np.inf, 1.0])),
    ("signbit", lambda m, a: m.signbit(a), np.array([-0.0, 0.0, -1.0, 2.0])),
    ("heaviside", lambda m, a: m.heaviside(a.detach(), m.tensor(0.5, dtype=a.dtype, device=a.device)),
     np.array([-1.0, 0.0, 2.0])),
    ("scatter", lambda m, a, b: a.scatter(1, _ix(m, a, [[2, 0], [1, 3], [0, 1]]), b), M,
     R.uniform(-1, 1, (3, 2))),
    ("scatter_value", lambda m, a: m.scatter(a, 0, _ix(m, a, [[2, 1, 0, 2]]), value=7.0), M),
    ("scatter_add_reduce", lambda m, a, b: a.detach().scatter(  # (torch: no derivative)
        0, _ix(m, a, [[1, 1, 0, 2]]), b.detach(), reduce="add"), M, MR),
    ("index_add", lambda m, a, b: a.index_add(0, _ix(m, a, [2, 0, 2]), b, alpha=0.5), M,
     R.uniform(-1, 1, (3, 4))),
    ("index_copy", lambda m, a, b: a.index_copy(1, _ix(m, a, [3, 0]), b), M,
     R.uniform(-1, 1, (3, 2))),
    ("index_fill", lambda m, a: a.index_fill(1, _ix(m, a, [1, 3]), -1.5), M),
    ("take", lambda m, a: m.take(a, _ix(m, a, [[0, 11], [-1, 5]])), M),
    ("take_along_dim", lambda m, a: m.take_along_dim(a, _ix(m, a, [[0], [3], [1]]), 1), M),
    ("take_along_dim_bcast", lambda m, a: a.take_along_dim(_ix(m, a, [[1, 0, 2, 2]]), 0), M),
    ("take_along_dim_flat", lambda m, a: a.take_along_dim(_ix(m, a, [5, 0])), M),
    ("masked_scatter", lambda m, a, b: a.masked_scatter(a > 0, b), M, R.uniform(-1, 1, (12,))),
    ("cumprod", lambda m, a: m.cumprod(a, 1), M),
    ("cumprod_zero", lambda m, a: a.cumprod(0), np.array([[1.5, 0.0], [0.0, 2.0], [3.0, -1.0]])),
    ("cumprod_int", lambda m, a: a.cumprod(1), INTS),
    ("cummax", lambda m, a: m.cummax(a, 1), np.array([[1.0, 3.0, 3.0, 2.0, 5.0]])),
    ("cummin", lambda m, a: a.cummin(0), M),
    ("logcumsumexp", lambda m, a: m.logcumsumexp(a, 1), M * 30),
    ("searchsorted", lambda m, a, b: m.searchsorted(a, b), np.array([1.0, 2.0, 2.0, 5.0]),
     np.array([[0.0, 2.0], [2.5, 9.0]])),
    ("searchsorted_right", lambda m, a, b: m.searchsorted(a, b, right=True),
     np.array([1.0, 2.0, 2.0, 5.0]), np.array([2.0, 5.0])),
    ("searchsorted_2d", lambda m, a, b: m.searchsorted(a, b),
     np.array([[1.0, 3.0], [0.0, 9.0]]), np.array([[2.0, 3.0], [10.0, -1.0]])),
    ("bucketize", lambda m, a, b: m.bucketize(a, b), np.array([0.5, 2.0, 7.0]),
     np.array([1.0, 2.0, 5.0])),
    ("bincount", lambda m, a: m.bincount(a), np.array([0, 3, 3, 1])),
    ("bincount_w", lambda m, a, w: m.bincount(a, w.detach(), minlength=6), np.array([0, 3, 3]),
     np.array([0.5, 1.0, 2.0])),
    ("tensor_split", lambda m, a: m.tensor_split(a, 3, 1), M),
    ("tensor_split_idx", lambda m, a: a.tensor_split([1, 5], dim=1), M),
    ("hsplit", lambda m, a: m.hsplit(a, 2), M),
    ("vsplit", lambda m, a: a.vsplit([1]), M),
    ("kron", lambda m, a, b: m.kron(a, b), M[:2, :3].copy(), R.uniform(-1, 1, (2, 2))),
    ("kron_nd", lambda m, a, b: m.kron(a, b), V, M),
    ("rot90", lambda m, a: m.rot90(a), M),
    ("rot90_k", lambda m, a: a.rot90(3, (1, 2)), X3),
    ("rot90_2", lambda m, a: a.rot90(-2), M),
    ("block_diag", lambda m, a, b, c: m.block_diag(a, b, c), M, V, np.array(2.0)),
    ("cdist", lambda m, a, b: m.cdist(a, b), M, R.uniform(-1, 1, (5, 4))),
    ("cdist_p1", lambda m, a, b: m.cdist(a, b, p=1.0), M, R.uniform(-1, 1, (5, 4))),
    ("dist", lambda m, a, b: m.dist(a, b, 3), M, MR),
    ("quantile", lambda m, a: m.quantile(a, 0.3), M),
    ("quantile_dim", lambda m, a: a.quantile(0.75, dim=1, keepdim=True), M),
    ("quantile_q_tensor", lambda m, a: a.quantile(m.tensor([0.1, 0.5, 1.0], dtype=a.dtype,
                                                            device=a.device), dim=0), M),
    ("quantile_lower", lambda m, a: a.quantile(0.4, 1, interpolation="lower"), M),
    ("quantile_midpoint", lambda m, a: a.quantile(0.4, 1, interpolation="midpoint"), M),
    ("kthvalue", lambda m, a: m.kthvalue(a, 2, 1), M),
    ("msort", lambda m, a: m.msort(a), M),
    ("ravel", lambda m, a: a.ravel(), X3),
]


NAN_GRADS = {"nanmean", "xlogy"}  # PyTorch's gradient is NaN at NaN (and 0/0) entries, ours 0


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.filterwarnings("ignore:The reduce argument of torch.scatter")
@pytest.mark.parametrize("name,fn,arrays", [(c[0], c[1], c[2:]) for c in CASES],
                         ids=[c[0] for c in CASES])
def test_matches_torch(name, fn, arrays, device, torch):
    compare_with_torch(name, fn, arrays, device, torch, grads=name not in NAN_GRADS)


def test_allclose_returns_a_python_bool():
    a = ad.tensor([1.0, 2.0])
    assert ad.allclose(a, a + 1e-9) is True
    assert a.allclose(a + 1) is False


def test_meshgrid_without_indexing_warns_like_torch():
    with pytest.warns(UserWarning, match="indexing"):
        g = ad.meshgrid(ad.arange(2), ad.arange(3))
    assert tuple(g[0].shape) == (2, 3)


@pytest.mark.parametrize("fn", [
    lambda x: ad.cumsum(x, 1),
    lambda x: ad.roll(x, (1, -2), (0, 1)),
    lambda x: ad.diagonal(x, 1),
    lambda x: ad.diag(x[0], -1),
    lambda x: ad.atan2(x, x.flip(0) + 3),
    lambda x: ad.logaddexp(x, x * 2),
    lambda x: ad.cross(x[:, :3], x[:, 1:], dim=1),
    lambda x: ad.median(x, 1).values,
    lambda x: ad.addmm(x[:, 0], x, x.t(), beta=0.5, alpha=2.0),
    lambda x: ad.index_select(x, 0, ad.tensor([2, 0, 2])),
    lambda x: ad.asin(x * 0.9) + ad.acos(x * 0.9) * ad.atan(x),
    lambda x: ad.sinh(x) * ad.cosh(x) + ad.tan(x) + ad.atanh(x * 0.9) + ad.asinh(x),
    lambda x: ad.expm1(x) + ad.log2(x.abs() + 1) + ad.log10(x.abs() + 1) + ad.exp2(x),
    lambda x: ad.logit(x.abs() * 0.9 + 0.05) + ad.xlogy(x, x.abs() + 1),
    lambda x: ad.cumprod(x, 1),
    lambda x: x.scatter(1, ad.tensor([[0, 2], [1, 1], [3, 0]]), x[:, :2] * 2),
    lambda x: x.index_add(0, ad.tensor([1, 1]), x[:2] * x[:2]),
    lambda x: ad.logcumsumexp(x, 0),
    lambda x: ad.quantile(x, 0.35, dim=1),
    lambda x: ad.cdist(x, x.flip(0) + 0.5),
    lambda x: ad.kron(x, x[:2, :2]),
], ids=["cumsum", "roll", "diagonal", "diag", "atan2", "logaddexp", "cross", "median",
        "addmm", "index_select", "inverse_trig", "hyperbolic", "exp_log", "logit_xlogy",
        "cumprod", "scatter", "index_add", "logcumsumexp", "quantile", "cdist", "kron"])
def test_gradcheck_float64(fn):
    x = ad.tensor(np.random.default_rng(2).uniform(-1, 1, (3, 4)), dtype=ad.float64,
                  requires_grad=True)
    assert ad.autograd.gradcheck(fn, (x,))
    assert ad.autograd.gradgradcheck(fn, (x,))


def test_errors_name_the_problem():
    m = ad.tensor(M)
    with pytest.raises(ValueError, match="index must be 0-D or 1-D"):  # (a ShapeError)
        m.index_select(0, ad.tensor([[0]]))
    with pytest.raises(TypeError, match="integer"):
        m.index_select(0, ad.tensor([0.0]))
    with pytest.raises(ValueError, match="same length"):
        m.roll((1, 2), 0)
    with pytest.raises(ValueError, match="cannot be the same"):
        m.diagonal(0, 1, 1)
    with pytest.raises(ValueError, match="size 3"):
        ad.cross(m, m, dim=1)
    with pytest.raises(TypeError, match="same dtype"):
        ad.isclose(m, m.float())
    with pytest.raises(TypeError, match="bool mask"):
        m.masked_select(m)


def test_inplace_forms_write_into_the_tensor_and_keep_the_graph(torch):
    for name, args in [("sqrt_", ()), ("tanh_", ()), ("index_add_", (0, [1, 0], "src")),
                       ("index_fill_", (1, [0], -3.0)), ("scatter_", (1, [[1], [0]], "src1"))]:
        base = np.abs(np.random.default_rng(3).standard_normal((2, 3))) + 0.5
        out = []
        for m in (ad, torch):
            x = m.tensor(base, requires_grad=True)
            y = x * 2
            src = {"src": y[:2] * 1, "src1": y[:, :1] * 1}
            extra = [m.tensor(a) if isinstance(a, list) else src.get(a, a)
                     if isinstance(a, str) else a for a in args]
            z = getattr(y, name)(*extra)
            assert z is y, name
            (y * y).sum().backward()
            out.append((y.detach().numpy(), x.grad.numpy()))
        np.testing.assert_allclose(out[0][0], out[1][0], rtol=1e-6, err_msg=name)
        np.testing.assert_allclose(out[0][1], out[1][1], rtol=1e-6, err_msg=name)
