"""The CuPy backend's Python side on any machine: CuPy replaced by a NumPy stand-in whose
RawModule runs each CUDA kernel's contract in NumPy (tests/cuda/fake_cupy.py). Checks the
launch glue (argument order and types, shapes, axis moves, chunking, merging of partials)
against the NumPy reference backend; the GPU tests check the CUDA code itself."""

from __future__ import annotations

import fake_cupy
import numpy as np
import pytest
from cuda_cases import CASES, check_case

MOD, BACKEND = fake_cupy.load_emulated_backend()
LAYOUTS = ("contig", "T", "sliced")


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_kernel_glue_matches_numpy(case, layout, dtype):
    check_case(case, BACKEND, lambda a: a.copy(), np.asarray, dtype, layout)


@pytest.mark.parametrize("method,args,kernel", [
    ("softmax", ((4, 40), 1), "softmax_forward"),
    ("log_softmax", ((4, 40), 0), "softmax_forward"),
    ("sum_to", ((64, 40), (40,)), "reduce_cols"),
    ("sum_to", ((8, 3, 64), (3, 1)), "reduce_rcs"),
    ("batch_norm_stats", ((8, 3, 64), (0, 2)), "batch_norm_stats_partial"),
])
def test_fast_path_runs(method, args, kernel):
    """float32/float64 inputs take the fused kernel, not the composite."""
    x = np.random.default_rng(0).standard_normal(args[0]).astype(np.float32)
    fake_cupy.LAUNCHES.clear()
    getattr(BACKEND, method)(x, *args[1:])
    assert fake_cupy.LAUNCHES == [kernel]


def test_other_dtypes_decline_to_the_composite():
    x = np.linspace(-1, 1, 12, dtype=np.float16).reshape(3, 4)
    fake_cupy.LAUNCHES.clear()
    y = BACKEND.softmax(x, 1)
    assert fake_cupy.LAUNCHES == [] and y.dtype == np.float16
    np.testing.assert_allclose(y.astype(np.float32).sum(1), 1, rtol=1e-3)


def test_chunked_reductions_merge_partials():
    """Many rows over few SMs: the reductions split into chunks that must merge exactly."""
    rng = np.random.default_rng(1)
    x = rng.standard_normal((1000, 3, 40))
    m, v = BACKEND.batch_norm_stats(x, (0, 2))
    np.testing.assert_allclose(m.ravel(), x.mean((0, 2)), rtol=1e-12)
    np.testing.assert_allclose(v.ravel(), x.var((0, 2)), rtol=1e-12)
    g = rng.standard_normal((5000, 7))
    np.testing.assert_allclose(BACKEND.sum_to(g, (7,)), g.sum(0), rtol=1e-12)


@pytest.mark.parametrize("gshape,shape,plan", [
    ((5, 7), (7,), (5, 7, 1)), ((5, 7), (5, 1), (1, 5, 7)), ((2, 3, 4), (3, 1), (2, 3, 4)),
    ((2, 1, 4), (1, 4), (2, 4, 1)), ((2, 3, 4, 5), (1, 3, 4, 1), (2, 12, 5)),
    ((2, 3, 4), (), None), ((2, 3, 4), (2, 1, 4), None), ((3, 4), (5,), None),
])
def test_rcs_plan(gshape, shape, plan):
    assert MOD.rcs_plan(gshape, shape) == plan


def test_launch_configuration_helpers():
    assert [MOD.threads_for(n) for n in (1, 32, 129, 1024, 4096, 10**7)] == [
        32, 32, 64, 256, 1024, 1024]
    assert MOD.threads_for(10**6, 256) == 256
    per, chunks = MOD.chunking(1000, 3, 8)
    assert per * chunks >= 1000 > per * (chunks - 1) and chunks <= 65535
    assert MOD.chunking(10, 1000, 8) == (10, 1)
    assert MOD.rows_grid(0) == 1 and MOD.rows_grid(2**40) == 2**31 - 1


def test_sort_topk_and_scatter_paths():
    a = np.array([[3.0, 1.0, 3.0, 2.0], [0.0, 0.0, -1.0, 5.0]], dtype=np.float32)
    ref = fake_cupy.load_emulated_backend  # noqa: F841 (keeps the import used)
    from cuda_cases import REF

    for desc in (False, True):
        v, i = BACKEND.sort(a, 1, desc, True)
        rv, ri = REF.sort(a, 1, desc, True)
        np.testing.assert_array_equal(v, rv)
        np.testing.assert_array_equal(i, ri)
    idx = np.array([[0, 0, 1], [1, 1, 1]])
    src = np.ones((2, 3), np.float32)
    np.testing.assert_array_equal(BACKEND.scatter_add(np.zeros((2, 2), np.float32), 1, idx, src),
                                  REF.scatter_add(np.zeros((2, 2), np.float32), 1, idx, src))
    rows = np.array([0, 2, 0])
    g = np.arange(6, dtype=np.float64).reshape(3, 2)
    np.testing.assert_array_equal(BACKEND.index_add((3, 2), (rows,), g),
                                  REF.index_add((3, 2), (rows,), g))
    mask = np.array([True, False, True])
    np.testing.assert_array_equal(BACKEND.index_add((3,), (mask,), np.ones(2)),
                                  REF.index_add((3,), (mask,), np.ones(2)))


@pytest.mark.parametrize("idx,bad", [
    (np.array([0, 2, -3]), False), (np.array([3]), True), (np.array([-4]), True),
    ((Ellipsis, np.array([3])), False), ((Ellipsis, np.array([4])), True),
    ((slice(None), np.array([[1], [-5]])), True), ((None, 1, np.array([3, 0])), False),
    ((np.ones((3, 4), bool), ), False), ((np.array([True, False, True]), np.array([4, 0])), True),
    ((np.array([True, False, True]), np.array([3, 0])), False),
], ids=lambda v: repr(v) if isinstance(v, bool) else None)
def test_out_of_range_array_indices_raise(idx, bad):
    """CuPy wraps such indices around; the backend checks first, as NumPy and PyTorch raise."""
    a = np.arange(12.0).reshape(3, 4)
    if bad:
        with pytest.raises(IndexError, match="out of range"):
            BACKEND.getitem(a, idx)
        with pytest.raises(IndexError, match="out of range"):
            BACKEND.setitem(a.copy(), idx, 0.0)
    else:
        np.testing.assert_array_equal(BACKEND.getitem(a, idx), a[idx])


def test_gather_indices_are_checked():
    """ops.gather asks the backend whether an index leaves [0, size) (internal gathers of
    argmax/sort do not)."""
    assert not BACKEND.any_outside(np.array([[3], [0], [2]]), 0, 4)
    assert BACKEND.any_outside(np.array([[3], [0], [-1]]), 0, 4)
    assert BACKEND.any_outside(np.array([[4, 0]]), 0, 4)


def test_every_kernel_is_guarded_by_the_device_context():
    for name in ("softmax", "layer_norm", "matmul", "zeros", "copy", "sum_to", "unfold"):
        fn = getattr(MOD.CupyBackend, name, None)
        if fn is not None:
            assert fn.__wrapped__ is not None, name


@pytest.mark.parametrize("shape,axis,m", [((3, 4), 1, 2), ((3, 4), 0, 5), ((2, 3, 4), 1, 6),
                                          ((2, 3, 4), 2, 1), ((5,), 0, 7)])
def test_gather_kernel_matches_take_along_axis(shape, axis, m):
    rng = np.random.default_rng(1)
    a = rng.standard_normal(shape)[..., ::1]
    ishape = shape[:axis] + (m,) + shape[axis + 1:]
    idx = rng.integers(-shape[axis], shape[axis], ishape)
    got = BACKEND.gather(np.swapaxes(np.swapaxes(a, 0, -1).copy(), 0, -1), axis, idx)
    np.testing.assert_array_equal(got, np.take_along_axis(a, idx % shape[axis], axis))
