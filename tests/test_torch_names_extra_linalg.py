"""The PyTorch names of autodiff/torch_names_extra.py, second part: linear algebra and
statistics, queries and casts, creation, random sampling, global switches, ``vmap``, the
top-level ``nn.functional`` aliases, and the errors PyTorch raises on bad input."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from torch_oracle import C, T, check, ints, rnd

import autodiff as ad

X, Y = rnd(3, 4), rnd(4)


# ----------------------------------------------------------------- linear algebra
SQ, SQ4 = rnd(3, 3) + 3 * np.eye(3), rnd(2, 4, 4)
SPD = SQ @ SQ.T
LOW = np.tril(rnd(3, 3)) + 3 * np.eye(3)


def _lu_solve(m, a, b):
    lu, piv = m.linalg.lu_factor(a)
    return (
        m.linalg.lu_solve(lu, piv, b),
        m.linalg.lu_solve(lu, piv, b, adjoint=True),
        m.linalg.lu_solve(lu, piv, b.mT, left=False),
        m.lu_solve(b, lu, piv),
    )


LINALG = [
    ("vdot", lambda m, a, b: (m.vdot(a, b), a.vdot(b)), [rnd(4), rnd(4)]),
    ("inner", lambda m, a, b: (m.inner(a, b), a.inner(b[0])), [rnd(2, 3, 4), T(rnd(5, 4))]),
    ("inner_scalar", lambda m, a, b: m.inner(a, b), [np.array(2.0), X]),
    (
        "addmv",
        lambda m, x, a, v: (m.addmv(x, a, v), x.addmv(a, v, beta=0.5, alpha=2)),
        [rnd(3), T(X), Y],
    ),
    (
        "addr",
        lambda m, x, a, b: (m.addr(x, a, b), x.addr(a, b, beta=0, alpha=3)),
        [rnd(1, 4), rnd(3), Y],
    ),
    (
        "addbmm",
        lambda m, x, a, b: (m.addbmm(x, a, b, alpha=2), x.addbmm(a, b, beta=2)),
        [rnd(4), rnd(2, 3, 2), rnd(2, 2, 4)],
    ),
    (
        "matrix_exp",
        lambda m, a: (m.matrix_exp(a), a.matrix_exp(), m.linalg.matrix_exp(a * 3)),
        [rnd(2, 3, 3)],
    ),
    ("matrix_exp_big", lambda m, a: m.matrix_exp(a), [T(rnd(4, 4) * 4)]),
    (
        "cholesky_solve",
        lambda m, b, L: (m.cholesky_solve(b, L), b.cholesky_solve(L.mT, True)),
        [rnd(3, 2), LOW],
    ),
    ("cholesky_solve_batch", lambda m, b, L: m.cholesky_solve(b, L), [rnd(2, 3, 2), LOW]),
    ("cholesky_inverse", lambda m, L: (m.cholesky_inverse(L), L.mT.cholesky_inverse(True)), [LOW]),
    (
        "triangular_solve",
        lambda m, b, A: (
            m.triangular_solve(b, A),
            b.triangular_solve(A, False, True),
            m.triangular_solve(b, A, unitriangular=True),
        ),
        [rnd(3, 2), SQ],
    ),
    (
        "solve_triangular",
        lambda m, A, B: (
            m.linalg.solve_triangular(A, B, upper=False),
            m.linalg.solve_triangular(A, B.mT, upper=True, left=False, unitriangular=True),
        ),
        [SQ, rnd(3, 2)],
    ),
    ("lu", lambda m, a: m.lu(a), [SQ]),
    ("lu_batch_rect", lambda m, a: (m.linalg.lu_factor(a), m.linalg.lu(a)), [rnd(2, 3, 5)]),
    ("lu_tall", lambda m, a: (m.linalg.lu_factor(a), m.linalg.lu(a)), [T(rnd(3, 5))]),
    ("lu_unpack", lambda m, a: m.lu_unpack(*m.linalg.lu_factor(a)), [SQ4]),
    ("lu_solve", _lu_solve, [SQ4, rnd(2, 4, 3)]),
    (
        "lu_singular",
        lambda m, a: (m.linalg.lu(a), m.lu(a, get_infos=True)),
        [C([[0.0, 0.0], [0.0, 1.0]])],
    ),
    (
        "nuclear_frobenius",
        lambda m, a: (m.nuclear_norm(a), m.frobenius_norm(a, (0, 1)), m.nuclear_norm(a, True)),
        [X],
    ),
    ("cov", lambda m, x: (m.cov(x), x.cov(correction=0), m.cov(x[0])), [T(X)]),
    (
        "cov_weights",
        lambda m, x, a: (
            m.cov(x, fweights=m.tensor([1, 2, 0, 3]), aweights=a),
            m.cov(x, aweights=a, correction=2),
        ),
        [X, rnd(4, lo=0.1, hi=2)],
    ),
    ("cov_int", lambda m, x: m.cov(x), [C([[1, 2, 4], [0, 3, 3]])]),
    ("corrcoef", lambda m, x: (m.corrcoef(x), x.corrcoef(), m.corrcoef(x[1])), [X]),
    ("histc", lambda m, x: (m.histc(x, 5), x.histc(4, -1, 1), m.histc(x[:1, :1], 3)), [C(X)]),
    (
        "histogram",
        lambda m, x, w: (
            m.histogram(x, 4),
            x.histogram(3, range=(-1.0, 1.0), weight=w, density=True),
            m.histogram(x, m.tensor([-1.0, 0.0, 0.5, 2.0], dtype=m.float64)),
        ),
        [C(X), C(np.abs(X))],
    ),
    ("histogram_const", lambda m, x: m.histogram(x, 2), [C([1.0, 1.0])]),
]


@pytest.mark.parametrize("case", LINALG, ids=[c[0] for c in LINALG])
def test_linalg(case, cpu_device, torch):
    check(*case[1:3], cpu_device, torch, *case[3:], rtol=1e-6, atol=1e-8)


def test_chain_matmul_warns(cpu_device, torch):
    a = [rnd(2, 3), rnd(3, 4), rnd(4, 2)]
    with pytest.warns(UserWarning, match="deprecated"):
        check(lambda m, *ms: m.chain_matmul(*ms), a, cpu_device, torch)


# ----------------------------------------------------------------- queries, casts, aliases
QUERIES = [
    ("casts", lambda m, x: (x.byte(), x.char(), x.short(), x.ndimension()), [C(np.abs(X) * 9)]),
    (
        "signed",
        lambda m, x: (
            x.is_signed(),
            x.byte().is_signed(),
            m.is_signed(x),
            x.is_complex(),
            m.is_complex(x),
            x.is_conj(),
            x.is_neg(),
            x.is_inference(),
        ),
        [C(X)],
    ),
    (
        "nonzero_same",
        lambda m, x, y: (
            x[:1, :1].is_nonzero(),
            m.is_nonzero(y[:1] * 0),
            x.is_same_size(x.mT),
            m.is_same_size(x, x * 2),
        ),
        [C(X), C(Y)],
    ),
    (
        "equal",
        lambda m, x, y: (
            x.equal(x * 1),
            m.equal(x, y),
            x.equal(x.mT),
            m.equal(m.tensor([1, 2]), m.tensor([1.0, 2.0])),
        ),
        [C(X), C(Y)],
    ),
    (
        "conj_real",
        lambda m, x: (
            x.conj(),
            m.conj(x),
            x.resolve_conj(),
            m.resolve_neg(x),
            x.conj_physical(),
            x.real,
            m.real(x),
        ),
        [T(X)],
    ),
    ("adjoint_H", lambda m, x: (x.adjoint(), m.adjoint(x), x.mH, x.H * 2), [T(X)]),
    (
        "dist_bincount_ger",
        lambda m, x, y, i: (x.dist(y), x.dist(y, 1), i.bincount(), m.outer(y, y)),
        [X, Y, C(ints(5, lo=0))],
    ),
    (
        "hardshrink_prelu",
        lambda m, x: (x.hardshrink(0.6), x.prelu(m.tensor([0.1], dtype=m.float64))),
        [X],
    ),
    (
        "result_types",
        lambda m, a, b: (
            m.result_type(a, b),
            m.result_type(a, 2.5),
            m.result_type(2, b),
            m.result_type(True, 2),
            m.result_type(a[0], m.tensor([1], dtype=m.uint8)),
        ),
        [C(ints(3)), C(rnd(3).astype(np.float32))],
    ),
    (
        "scalar_tensor",
        lambda m: (m.scalar_tensor(3), m.scalar_tensor(True), m.scalar_tensor(2, dtype=m.int64)),
        [],
    ),
]


@pytest.mark.parametrize("case", QUERIES, ids=[c[0] for c in QUERIES])
def test_queries(case, cpu_device, torch):
    check(*case[1:3], cpu_device, torch, *case[3:])


def test_dtype_rules(torch):
    names = ["float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8", "bool"]
    for a in names:
        for b in names:
            ta, tb = getattr(torch, a), getattr(torch, b)
            assert ad.promote_types(a, b).name == str(torch.promote_types(ta, tb))[6:]
            assert ad.can_cast(getattr(ad, a if a != "bool" else "bool"), b) == torch.can_cast(
                ta, tb
            ), (a, b)


def test_tensor_properties(cpu_device):
    x = ad.ones(2, 3, device=cpu_device)
    assert x.is_cpu and x.output_nr == 0 and x.pin_memory() is x and not x.is_pinned()
    assert x.T.dim_order() == (1, 0) and x.dim_order() == (0, 1)
    assert x[1].data_ptr() == x.data_ptr() + 3 * x.element_size()
    assert x.share_memory_() is x and ad.get_device(x) == x.get_device()
    assert ad.Size([2, 3]) == x.shape and ad.Size([2, 3]).numel() == 6
    assert ad.newaxis is None and ad.default_generator is not None
    with pytest.raises(RuntimeError, match="imag"):
        _ = x.imag
    with pytest.raises(RuntimeError, match="matrices"):
        _ = ad.ones(3, device=cpu_device).H


def test_apply_map_and_random_fills(cpu_device):
    x = ad.arange(4, dtype=ad.float64, device=cpu_device)
    assert x.apply_(lambda v: v * v).tolist() == [0, 1, 4, 9]
    assert x.map_(ad.tensor([1.0], device=cpu_device), lambda a, b: a + b).tolist() == [1, 2, 5, 10]
    ad.manual_seed(0)
    g = ad.zeros(20000, device=cpu_device).geometric_(0.25)
    assert g.min().item() >= 1 and abs(g.mean().item() - 4) < 0.15
    c = ad.zeros(20000, dtype=ad.float64, device=cpu_device).cauchy_(1.0, 2.0)
    assert abs(c.median().item() - 1.0) < 0.1
    ln = ad.zeros(20000, dtype=ad.float64, device=cpu_device).log_normal_(0.0, 0.5)
    assert abs(ln.log().mean().item()) < 0.02 and abs(ln.log().std().item() - 0.5) < 0.02
    with pytest.raises(RuntimeError, match="requires grad"):
        ad.ones(2, requires_grad=True).apply_(abs)


# ----------------------------------------------------------------- creation and random
def test_range_and_windows(cpu_device, torch):
    with pytest.warns(UserWarning, match="deprecated"):
        r = ad.range(0, 1, 0.3, device=cpu_device)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        np.testing.assert_allclose(r.numpy(), torch.range(0, 1, 0.3).numpy())
        assert ad.range(3, 0, -1, dtype=ad.int64).tolist() == [3, 2, 1, 0]
        with pytest.raises(RuntimeError, match="nonzero"):
            ad.range(0, 3, 0)
    for name in ("hann", "hamming", "blackman", "bartlett", "kaiser"):
        for n, periodic in ((0, True), (1, False), (6, True), (7, False)):
            a = getattr(ad, name + "_window")(n, periodic, device=cpu_device)
            t = getattr(torch, name + "_window")(n, periodic)
            assert a.dtype is ad.float32
            np.testing.assert_allclose(a.numpy(), t.numpy(), atol=2e-7, err_msg=name)
    k = ad.kaiser_window(6, False, 5.0, dtype=ad.float64)
    np.testing.assert_allclose(
        k.numpy(), torch.kaiser_window(6, False, 5.0, dtype=torch.float64).numpy()
    )
    with pytest.raises(RuntimeError):
        ad.hann_window(4, dtype=ad.int64)


def test_random_sampling(cpu_device):
    ad.manual_seed(1)
    mean = ad.zeros(2, 1, dtype=ad.float64, device=cpu_device, requires_grad=True)
    s = ad.normal(mean, ad.full((3,), 2.0, dtype=ad.float64, device=cpu_device))
    assert s.shape == (2, 3) and s.dtype is ad.float64 and s.requires_grad
    s.sum().backward()
    assert mean.grad.tolist() == [[0.0], [0.0]]  # PyTorch's (zero) gradient
    big = ad.normal(3.0, ad.full((20000,), 2.0, device=cpu_device))
    assert abs(big.mean().item() - 3) < 0.1 and abs(big.std().item() - 2) < 0.1
    assert ad.normal(0.0, 1.0, (4, 2), device=cpu_device).dtype is ad.float32
    p = ad.poisson(ad.full((20000,), 3.0, device=cpu_device))
    assert p.dtype is ad.float32 and abs(p.mean().item() - 3) < 0.1
    b = ad.binomial(ad.full((20000,), 10.0, device=cpu_device), ad.full((20000,), 0.3))
    assert abs(b.mean().item() - 3) < 0.1 and b.max().item() <= 10
    r = ad.randint_like(ad.ones(1000, device=cpu_device), 2, 5)
    assert r.dtype is ad.float32 and set(np.unique(r.numpy())) == {2.0, 3.0, 4.0}
    assert ad.randint_like(ad.ones(3, dtype=ad.int32), 4).dtype is ad.int32
    with pytest.raises(RuntimeError, match="std"):
        ad.normal(ad.zeros(2), ad.tensor([-1.0, 1.0]))
    with pytest.raises(RuntimeError, match="rate"):
        ad.poisson(ad.tensor([-1.0]))


def test_rng_state_roundtrip():
    state = ad.get_rng_state()
    assert state.dtype is ad.uint8
    a = ad.rand(5)
    ad.set_rng_state(state)
    assert ad.rand(5).tolist() == a.tolist()
    with pytest.raises(RuntimeError):
        ad.set_rng_state(ad.zeros(3, dtype=ad.uint8))


def test_switches(torch):
    assert not ad.are_deterministic_algorithms_enabled()
    ad.use_deterministic_algorithms(True, warn_only=True)
    assert ad.are_deterministic_algorithms_enabled()
    assert ad.is_deterministic_algorithms_warn_only_enabled()
    assert ad.get_deterministic_debug_mode() == 1
    ad.set_deterministic_debug_mode("default")
    assert not ad.are_deterministic_algorithms_enabled()
    with pytest.raises(RuntimeError):
        ad.set_deterministic_debug_mode("x")
    assert ad.get_float32_matmul_precision() == "highest"
    ad.set_float32_matmul_precision("high")
    assert ad.get_float32_matmul_precision() == "high"
    with pytest.warns(UserWarning):
        ad.set_float32_matmul_precision("bad")
    ad.set_float32_matmul_precision("highest")
    assert not ad.is_anomaly_enabled()
    ad.set_anomaly_enabled(True)
    assert ad.is_anomaly_enabled() and ad.is_anomaly_check_nan_enabled()
    ad.set_anomaly_enabled(False)
    assert not ad.is_anomaly_enabled() and not ad.is_inference_mode_enabled()
    x = ad.tensor([1.123456, 2.5], dtype=ad.float64)
    ad.set_printoptions(precision=2)
    assert repr(x).startswith("tensor([1.12, 2.50]")
    ad.set_printoptions(sci_mode=True)
    assert repr(x).startswith("tensor([1.12e+00, 2.50e+00]")
    ad.set_printoptions(threshold=3, edgeitems=1)
    assert repr(ad.arange(10.0)).startswith("tensor([0.,  ..., 9.]")
    ad.set_printoptions(profile="default")
    assert repr(x).startswith("tensor([1.1235, 2.5000]")
    with pytest.raises(ValueError, match="unknown profile"):
        ad.set_printoptions(profile="long")
    ad.set_warn_always(True)
    assert ad.is_warn_always_enabled()
    ad.set_warn_always(False)
    ad.set_num_interop_threads(2)
    assert ad.get_num_interop_threads() == 2 and ad.set_flush_denormal(True) is False


def test_asarray_frombuffer_vmap(cpu_device, torch):
    arr = np.arange(3.0)
    assert ad.asarray(arr).numpy().base is not None or ad.asarray(arr)._data is arr
    c = ad.asarray(arr, copy=True)
    c[0] = 5.0
    assert arr[0] == 0
    buf = bytearray(np.arange(4, dtype=np.int32).tobytes())
    assert ad.frombuffer(buf, dtype=ad.int32, count=2, offset=4).tolist() == [1, 2]
    w = rnd(3, 2)
    f = lambda m, a, b: m.vmap(lambda r, v: ((r * v).sum(), r * 2), in_dims=(0, None))(a, b)
    check(f, [w, rnd(2)], cpu_device, torch)
    check(lambda m, a: m.vmap(lambda r: r.exp(), in_dims=1, out_dims=1)(a), [w], cpu_device, torch)
    from autodiff.torch_misc_extra import _vmap_loop  # the fallback without autodiff.func

    loop = _vmap_loop(lambda r, v: ((r * v).sum(), r * 2), (0, None), 0)
    check(lambda m, a, b: loop(a, b) if m is ad else f(m, a, b), [w, rnd(2)], cpu_device, torch)


def test_functional_aliases(cpu_device, torch):
    x, w = rnd(1, 2, 5, 5), rnd(3, 2, 3, 3)
    check(
        lambda m, a, k: (
            m.conv2d(a, k, padding=1),
            m.max_pool2d(a, 2),
            m.selu(a),
            m.pixel_shuffle(a[:, :1].repeat(1, 4, 1, 1), 2),
            m.cosine_similarity(a, a * 2 + 1),
            m.pdist(a[0, 0]),
            m.pairwise_distance(a[0, 0], a[0, 1]),
            m.constant_pad_nd(a, [1, 2]),
        ),
        [x, w],
        cpu_device,
        torch,
        rtol=1e-5,
    )
    check(
        lambda m, a: (
            m.adaptive_max_pool1d(a, 2),
            m.max_pool1d_with_indices(a, 2),
            m.conv1d(a, a[..., :2].expand(3, 2, 2)),
        ),
        [rnd(1, 2, 6)],
        cpu_device,
        torch,
        rtol=1e-5,
    )
    wt, idx = rnd(5, 3), C(ints(4, lo=0, hi=5))
    check(lambda m, e, i: m.embedding(e, i), [wt, idx], cpu_device, torch)
    check(
        lambda m, a, g, b: m.batch_norm(a, g, b, None, None, True, 0.1, 1e-5, False),
        [rnd(4, 3), rnd(3), rnd(3)],
        cpu_device,
        torch,
        rtol=1e-5,
    )


# ----------------------------------------------------------------- errors
ERRORS = [
    ("renorm_1d", lambda m: m.ones(3).renorm(2, 0, 1)),
    ("renorm_maxnorm", lambda m: m.ones(2, 2).renorm(2, 0, -1)),
    ("split_with_sizes", lambda m: m.ones(5).split_with_sizes([2, 2])),
    ("unfold_size", lambda m: m.ones(5).unfold(0, 6, 1)),
    ("unfold_step", lambda m: m.ones(5).unfold(0, 2, 0)),
    ("fill_diagonal_1d", lambda m: m.ones(3).fill_diagonal_(2)),
    ("fill_diagonal_uneven", lambda m: m.ones(2, 3, 3).fill_diagonal_(2)),
    ("dsplit_2d", lambda m: m.zeros(2, 3).dsplit(1)),
    ("dsplit_uneven", lambda m: m.zeros(2, 3, 5).dsplit(2)),
    ("vdot_dtypes", lambda m: m.zeros(3).vdot(m.zeros(3, dtype=m.float64))),
    ("vdot_2d", lambda m: m.vdot(m.zeros(2, 2), m.zeros(2))),
    ("inner_sizes", lambda m: m.inner(m.ones(2, 3), m.ones(2))),
    ("float_power_", lambda m: m.ones(3).float_power_(2)),
    ("frac_int", lambda m: m.ones(3, dtype=m.int64).frac()),
    ("frexp_int", lambda m: m.frexp(m.tensor([1, 2]))),
    ("gcd_float", lambda m: m.gcd(m.ones(2), m.ones(2))),
    ("positive_bool", lambda m: m.ones(2, dtype=m.bool).positive()),
    ("is_nonzero_many", lambda m: m.ones(2).is_nonzero()),
    ("is_nonzero_empty", lambda m: m.ones(0).is_nonzero()),
    ("histc_int", lambda m: m.histc(m.arange(5), bins=3)),
    ("histogram_dtypes", lambda m: m.histogram(m.ones(3, dtype=m.float64), m.ones(2))),
    ("index_put_dtypes", lambda m: m.ones(2, 3).index_put((m.tensor([0]),), m.tensor([1, 2, 3]))),
    ("index_put_bounds", lambda m: m.ones(2, 3).index_put((m.tensor([5]),), m.ones(3))),
    ("combinations_2d", lambda m: m.combinations(m.ones(2, 2))),
    ("vander_2d", lambda m: m.vander(m.ones(2, 2))),
    ("fliplr_1d", lambda m: m.fliplr(m.ones(3))),
    ("matrix_exp_rect", lambda m: m.matrix_exp(m.ones(2, 3))),
    ("lu_factor_singular", lambda m: m.linalg.lu_factor(m.zeros(2, 2))),
    ("lu_no_pivot", lambda m: m.linalg.lu_factor(m.eye(2), pivot=False)),
    ("cov_3d", lambda m: m.cov(m.ones(2, 2, 2))),
    ("diag_embed_dims", lambda m: m.diag_embed(m.ones(2), 0, 0, 0)),
    ("diagonal_scatter_shape", lambda m: m.diagonal_scatter(m.ones(3, 3), m.ones(2))),
    ("select_scatter_index", lambda m: m.select_scatter(m.ones(2, 3), m.ones(3), 0, 2)),
    ("unravel_float", lambda m: m.unravel_index(m.tensor([1.0]), (2,))),
    ("imag", lambda m: m.ones(2).imag),
    ("adjoint_1d", lambda m: m.ones(2).adjoint()),
    ("t_leaf", lambda m: m.ones(2, 3, requires_grad=True).t_()),
    (
        "igamma_grad_a",
        lambda m: m.igamma(m.ones(2, requires_grad=True), m.ones(2)).sum().backward(),
    ),
    ("cholesky_solve_rect", lambda m: m.cholesky_solve(m.ones(2, 1), m.ones(2, 3))),
    ("hann_int", lambda m: m.hann_window(3, dtype=m.int64)),
]


@pytest.mark.parametrize("case", ERRORS, ids=[c[0] for c in ERRORS])
def test_errors(case, torch):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises((RuntimeError, ValueError, TypeError, IndexError)):
            case[1](torch)
    with pytest.raises((RuntimeError, ValueError, TypeError, IndexError)):
        case[1](ad)
