"""A seeded differential audit of reductions, scans and sorting against PyTorch: a broad sweep
(shapes with 0-d, one-element and zero-size dims; dim as None/int/negative/tuple; keepdim;
float32 and float64; non-contiguous inputs; weighted-loss gradients), then one regression test
per discrepancy the audit found. Skipped without PyTorch."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from torch_oracle import C, T, check

import autodiff as ad

RNG = np.random.default_rng(1234)
SHAPES = [(), (1,), (5,), (3, 4), (2, 0), (2, 3, 4)]


def _dims(shape):
    n = len(shape)
    return [None] + ([0, -1] if n else []) + ([(0, -1)] if n >= 2 else [])


def _distinct(*shape):
    """Values without ties, so that every index and gradient rule is determined."""
    n = math.prod(shape)
    return (RNG.permutation(n) / 4.0 - n / 8.0).reshape(shape)


def _kw(dim, keepdim):
    return {} if dim is None else {"dim": dim, "keepdim": keepdim}


SWEEP = [
    ("sum", lambda m, x, kw: m.sum(x, **kw)),
    ("nansum", lambda m, x, kw: m.nansum(x, **kw)),
    ("mean", lambda m, x, kw: m.mean(x, **kw)),
    ("var", lambda m, x, kw: m.var(x, **kw, correction=0)),
    ("std", lambda m, x, kw: m.std(x, **kw)),
    ("var_mean", lambda m, x, kw: m.var_mean(x, **kw, correction=1)),
    ("std_mean", lambda m, x, kw: m.std_mean(x, **kw, correction=0)),
    ("amax", lambda m, x, kw: m.amax(x, **kw)),
    ("amin", lambda m, x, kw: m.amin(x, **kw)),
    ("logsumexp", lambda m, x, kw: m.logsumexp(x, **(kw or {"dim": (0, -1)[: x.ndim]}))),
    ("norm3", lambda m, x, kw: m.norm(x, 3, **kw)),
    ("vector_norm_half", lambda m, x, kw: m.linalg.vector_norm(x, 0.5, **kw)),
    ("vector_norm_fro", lambda m, x, kw: m.linalg.vector_norm(x, 2, **kw)),
    ("count_nonzero", lambda m, x, kw: m.count_nonzero(x, dim=kw.get("dim"))),
]


@pytest.mark.parametrize("name,fn", [pytest.param(n, f, id=n) for n, f in SWEEP])
def test_reduction_sweep(name, fn, cpu_device, torch):
    for shape in SHAPES:
        for dim in _dims(shape):
            for keepdim in (False, True):
                if name in ("amax", "amin", "logsumexp") and 0 in shape:  # see test_empty_*
                    continue
                for dt in (np.float32, np.float64):
                    x = _distinct(*shape).astype(dt)
                    tol = {"rtol": 1e-4, "atol": 1e-5} if dt == np.float32 else {}
                    with warnings.catch_warnings():  # NumPy's "Mean of empty slice" (see
                        # test_mean_of_empty_is_silent) and "Degrees of freedom <= 0", where
                        if math.prod(shape) <= 1:  # PyTorch warns too
                            warnings.simplefilter("ignore", RuntimeWarning)
                        kw = _kw(dim, keepdim)
                        check(lambda m, a, kw=kw: fn(m, a, kw), [x], cpu_device, torch, **tol)


SCANS = [
    ("cumsum", lambda m, x, d: m.cumsum(x, d)),
    ("cumprod", lambda m, x, d: m.cumprod(x, d)),
    ("cummax", lambda m, x, d: m.cummax(x, d)),
    ("cummin", lambda m, x, d: m.cummin(x, d)),
    ("logcumsumexp", lambda m, x, d: m.logcumsumexp(x, d)),
    ("sort", lambda m, x, d: m.sort(x, d)),
    ("sort_desc_stable", lambda m, x, d: m.sort(x, dim=d, descending=True, stable=True)),
    ("argsort", lambda m, x, d: m.argsort(x, d, descending=True)),
    ("max_dim", lambda m, x, d: m.max(x, d)),
    ("min_dim_keep", lambda m, x, d: m.min(x, d, keepdim=True)),
    ("argmax", lambda m, x, d: m.argmax(x, d)),
    ("median_dim", lambda m, x, d: m.median(x, d)),
    ("kthvalue", lambda m, x, d: m.kthvalue(x, 1, d)),
    ("topk", lambda m, x, d: m.topk(x, 1, d)),
    ("topk_smallest", lambda m, x, d: m.topk(x, 1, d, largest=False)),
    ("quantile", lambda m, x, d: m.quantile(x, 0.3, d, interpolation="linear")),
    ("quantile_mid", lambda m, x, d: m.quantile(x, 0.3, d, True, interpolation="midpoint")),
    ("nanquantile", lambda m, x, d: m.nanquantile(x, 0.7, d, interpolation="nearest")),
    ("diff", lambda m, x, d: m.diff(x, 1, d)),
]


@pytest.mark.parametrize("name,fn", [pytest.param(n, f, id=n) for n, f in SCANS])
def test_scan_and_order_sweep(name, fn, cpu_device, torch):
    for shape in [(1,), (5,), (3, 4), (2, 3, 4)]:
        for d in (0, -1):
            check(lambda m, a, d=d: fn(m, a, d), [_distinct(*shape)], cpu_device, torch)
    if name not in ("diff",):  # a 0-d input (diff raises there: see its regression test)
        check(lambda m, a: fn(m, a, 0), [_distinct()], cpu_device, torch)
    check(lambda m, a: fn(m, a, 0), [T(_distinct(3, 4))], cpu_device, torch)  # non-contiguous


def test_tie_rules(cpu_device, torch):
    """Ties: max(dim)/argmax take the first, cummax/cummin the last; amax splits the gradient
    evenly, max(dim) routes it to the returned index; NaN wins max and argmax."""
    x = np.array([[1.0, 3.0, 3.0, 0.0], [2.0, 2.0, -1.0, 2.0]])
    for fn in (lambda m, a: m.max(a, 1), lambda m, a: m.min(a, 0), lambda m, a: m.amax(a, 1),
               lambda m, a: m.amax(a), lambda m, a: m.max(a), lambda m, a: m.cummax(a, 1),
               lambda m, a: m.cummin(a, 0), lambda m, a: m.argmax(a, 1),
               lambda m, a: m.aminmax(a, dim=1), lambda m, a: m.sort(a, dim=1, stable=True)):
        check(fn, [x], cpu_device, torch)
    n = np.array([[1.0, np.nan, 3.0], [2.0, 5.0, 5.0]])
    check(lambda m, a: (m.argmax(a, 1), m.argmin(a), m.max(a, 1)), [C(n)], cpu_device, torch)
    check(lambda m, a: m.sort(a, 1, descending=True), [C(n)], cpu_device, torch)


@pytest.mark.parametrize("dt", ["int32", "uint8", "bool"])
def test_integer_promotion(dt, cpu_device, torch):
    x = RNG.integers(0, 3, (2, 3)).astype(dt)
    check(lambda m, a: (m.sum(a), m.sum(a, 1), m.prod(a, 0), m.cumsum(a, 1), m.cumprod(a, 0),
                        m.nansum(a), m.sum(a, dtype=m.float64), m.mean(a, dtype=m.float32)),
          [x], cpu_device, torch)
    with pytest.raises(RuntimeError):
        ad.mean(ad.tensor(x, device=cpu_device))


def test_empty_rules(cpu_device, torch):
    e = np.zeros((2, 0))
    check(lambda m, a: (m.sum(a), m.prod(a, 1), m.mean(a, 0), m.amax(a, 0), m.logsumexp(a, 1),
                        m.all(a), m.any(a, 1), m.var(a, 0), m.cumsum(a, 1), m.sort(a, 1)),
          [C(e)], cpu_device, torch)
    for fn in (lambda m, a: m.amax(a, 1), lambda m, a: m.max(a), lambda m, a: m.max(a, 1)):
        _same_error(fn, e, cpu_device, torch)


def _same_error(fn, x, device, torch):
    with pytest.raises(Exception) as want:
        fn(torch, torch.tensor(x))
    with pytest.raises(want.type):
        fn(ad, ad.tensor(x, device=device))


# ------------------------------------------------------------- regressions: one per fix
@pytest.mark.filterwarnings("ignore::RuntimeWarning", "ignore::UserWarning")
@pytest.mark.parametrize("dim", [None, 0])
@pytest.mark.parametrize("correction", [5, 7])
def test_var_std_correction_at_least_n_gradient(dim, correction, cpu_device, torch):
    """var: 2 / (n - c) whatever its sign with a dim, inf at n == c; over all of x and n <= c,
    PyTorch's dy * (NaN where x == mean, else inf). Was NaN everywhere."""
    x = np.array([1.0, 2.0, 2.0, 4.0, 1.0])
    for f in ("var", "std"):
        check(lambda m, a, f=f: getattr(m, f)(a, dim, correction=correction), [x], cpu_device,
              torch)


def test_empty_argmax_raises_index_error(cpu_device, torch):
    """argmax of no elements is an IndexError in PyTorch, max a RuntimeError: both, now."""
    for fn in (lambda m, a: m.argmax(a), lambda m, a: m.argmin(a), lambda m, a: m.max(a),
               lambda m, a: m.amax(a, 0)):
        _same_error(fn, np.zeros(0), cpu_device, torch)


def test_norm_zero_order_is_differentiable(cpu_device, torch):
    """ord 0 counts non-zeros with a zero gradient (was a constant without grad)."""
    x = np.array([[0.0, 1.5, -2.0], [0.0, 0.0, 3.0]])
    check(lambda m, a: (m.norm(a, 0), m.linalg.vector_norm(a, 0, 1)), [x], cpu_device, torch)


def test_negative_order_norm_with_zero_element(cpu_device, torch):
    """A zero element makes a p < 0 norm 0 with a zero gradient (was NaN)."""
    x = np.array([[0.0, 1.5, -2.0], [1.0, 0.5, 3.0]])
    check(lambda m, a: (m.norm(a, -1, 1), m.linalg.vector_norm(a, -2)), [x], cpu_device, torch)


def test_norm_without_identity_on_empty_raises(cpu_device, torch):
    for p in (-1, -0.5, math.inf, -math.inf):
        _same_error(lambda m, a, p=p: m.linalg.vector_norm(a, p), np.zeros(0), cpu_device, torch)
        _same_error(lambda m, a, p=p: m.norm(a, p, 1), np.zeros((2, 0)), cpu_device, torch)
    check(lambda m, a: m.linalg.vector_norm(a, -1, 0), [C(np.zeros((0, 2)).T)], cpu_device,
          torch)


def test_nansum_dtype(cpu_device, torch):
    x = np.array([1, 2, 3], dtype=np.int32)
    check(lambda m, a: (m.nansum(a, dtype=m.float64), m.nansum(a, 0, dtype=m.int16)), [x],
          cpu_device, torch)


def test_cumprod_small_integer_dtype(cpu_device, torch):
    """cumprod(dtype=int16) of int32 is int16 (NumPy's cumprod promoted it to int64)."""
    x = np.array([[1, 2], [3, 4]], dtype=np.int32)
    check(lambda m, a: (m.cumprod(a, 0, dtype=m.int16), m.cumprod(a.to(m.int8), 1)), [x],
          cpu_device, torch)


def test_quantile_zero_dim_and_empty(cpu_device, torch):
    x = np.array(3.0)
    for f in ("quantile", "nanquantile"):
        check(lambda m, a, f=f: (getattr(m, f)(a, 0.5, 0), getattr(m, f)(a, 0.5, 0, True),
                                 getattr(m, f)(a, 0.5, None, True)), [x], cpu_device, torch)
        _same_error(lambda m, a, f=f: getattr(m, f)(a, 0.5), np.zeros(0), cpu_device, torch)
        _same_error(lambda m, a, f=f: getattr(m, f)(a, 0.5, 1), np.zeros((2, 0)), cpu_device,
                    torch)


def test_kthvalue_out_of_range_is_runtime_error(cpu_device, torch):
    _same_error(lambda m, a: m.kthvalue(a, 2, 0), np.array(1.0), cpu_device, torch)
    _same_error(lambda m, a: m.kthvalue(a, 4, 0), np.ones(3), cpu_device, torch)


def test_diff_edges(cpu_device, torch):
    """diff of a 0-d tensor raises a RuntimeError; n beyond the size gives an empty dim."""
    _same_error(lambda m, a: m.diff(a), np.array(1.0), cpu_device, torch)
    check(lambda m, a: (m.diff(a, 2, 0), m.diff(a, 3, 1)), [np.ones((1, 2))], cpu_device, torch)


def test_topk_zero_dim(cpu_device, torch):
    check(lambda m, a: (m.topk(a, 1), m.topk(a, 0, largest=False)), [np.array(2.5)], cpu_device,
          torch)


def test_searchsorted_sorter(cpu_device, torch):
    seq = np.array([3.0, -1.0, 2.0, 0.5, 2.0])
    vals = np.array([[2.0, -3.0], [0.5, 9.0]])
    for right in (False, True):
        check(lambda m, s, v, r=right: m.searchsorted(s, v, right=r,
                                                      sorter=m.argsort(s, stable=True)),
              [C(seq), C(vals)], cpu_device, torch)


# ------------------------------------------------------------- known, not fixed here
def test_sum_dtype_bool(torch):
    check(lambda m, a: m.sum(a, dtype=m.bool), [np.array([0, 2])], "numpy", torch)


def test_any_uint8_keeps_dtype(torch):
    check(lambda m, a: m.any(a), [np.array([0, 2], dtype=np.uint8)], "numpy", torch)


def test_nanmean_all_nan_gradient(torch):
    check(lambda m, a: m.nanmean(a, 1), [np.array([[np.nan, np.nan], [1.0, np.nan]])],
          "numpy", torch)


def test_mean_of_empty_is_silent(cpu_device):
    ad.tensor(np.zeros((2, 0)), device=cpu_device).mean(1)


@pytest.mark.parametrize("kw", [{}, {"dim": 1}, {"dim": 1, "keepdim": True}, {"keepdim": True}])
@pytest.mark.parametrize("name", ["quantile", "nanquantile"])
def test_quantile_of_a_0d_q_is_a_scalar_result(torch, cpu_device, name, kw):
    x = RNG.random((3, 4))
    want = getattr(torch, name)(torch.tensor(x), torch.tensor(0.3, dtype=torch.float64), **kw)
    got = getattr(ad, name)(ad.tensor(x, device=cpu_device),
                            ad.tensor(0.3, dtype=ad.float64, device=cpu_device),
                            **kw)
    assert tuple(got.shape) == tuple(want.shape)
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-12)


def test_binomial_and_poisson_of_0d_parameters(cpu_device):
    ad.manual_seed(0)
    b = ad.binomial(ad.tensor(5.0, device=cpu_device), ad.tensor(0.5, device=cpu_device))
    p = ad.poisson(ad.tensor(3.0, device=cpu_device))
    assert b.shape == () and p.shape == () and b.dtype is ad.float32
    assert 0 <= b.item() <= 5 and b.item() == int(b.item()) and p.item() >= 0
