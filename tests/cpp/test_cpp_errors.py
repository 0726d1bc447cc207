"""Bad inputs raise Python exceptions that name the op, never crash."""

from __future__ import annotations

import numpy as np
import pytest
from cpp_helpers import C

f32 = np.ones((3, 4), np.float32)


@pytest.mark.parametrize("op", ["add", "sub", "mul", "div"])
def test_binary_errors(op):
    fn = getattr(C, op)
    with pytest.raises(TypeError, match=f"{op}: expected a float32 or float64 array, got int64"):
        fn(np.ones(3, np.int64), np.ones(3, np.int64))
    with pytest.raises(TypeError, match="same dtype, got float32 and float64"):
        fn(f32, f32.astype(np.float64))
    with pytest.raises(
        ValueError, match=r"could not be broadcast together with shapes \(3, 4\) and \(5,\)"
    ):
        fn(f32, np.ones(5, np.float32))
    with pytest.raises(TypeError):
        fn(f32, np.ones(4, ">f4"))  # non-native byte order


def test_unary_errors():
    for op in ("exp", "log", "tanh", "sigmoid", "relu"):
        with pytest.raises(TypeError, match=f"{op}: expected a float32 or float64"):
            getattr(C, op)(np.ones(3, np.int32))
        with pytest.raises(TypeError, match=op):
            getattr(C, op)(np.ones(3, np.complex64))


def test_matmul_errors():
    with pytest.raises(
        ValueError, match=r"matmul: shapes \(3, 4\) and \(5, 2\) are not aligned: 4 != 5"
    ):
        C.matmul(f32, np.ones((5, 2), np.float32))
    with pytest.raises(ValueError, match="at least 1-D"):
        C.matmul(np.ones((), np.float32), f32)
    with pytest.raises(ValueError, match="batch dims"):
        C.matmul(np.ones((2, 3, 4), np.float32), np.ones((3, 4, 5), np.float32))
    with pytest.raises(TypeError, match="same dtype"):
        C.matmul(f32, np.ones((4, 2)))
    with pytest.raises(TypeError, match="float32 or float64"):
        C.matmul(np.ones((2, 2), np.int64), np.ones((2, 2), np.int64))


def test_reduce_errors():
    with pytest.raises(ValueError, match="axis 2 is out of bounds"):
        C.sum(f32, (2,))
    with pytest.raises(ValueError, match="duplicate"):
        C.mean(f32, (0, 0))
    with pytest.raises(TypeError, match="axis must be"):
        C.sum(f32, "x")
    with pytest.raises(ValueError, match="zero-size"):
        C.amax(np.ones((0, 3), np.float32), (0,))
    with pytest.raises(
        ValueError, match=r"sum_to: cannot reduce an array of shape \(3, 4\) to shape \(3,\)"
    ):
        C.sum_to(f32, (3,))
    with pytest.raises(ValueError, match="sum_to"):
        C.sum_to(f32, (2, 3, 4))
    with pytest.raises(ValueError, match=r"mul_sum_to: g and h must have one shape, got \(3, 4\)"):
        C.mul_sum_to(f32, np.ones((4, 3), np.float32), (4,))
    with pytest.raises(ValueError, match=r"mul_sum_to: cannot reduce .* to shape \(3,\)"):
        C.mul_sum_to(f32, f32, (3,))
    with pytest.raises(TypeError, match="mul_sum_to"):
        C.mul_sum_to(f32, f32.astype(np.float64), (4,))
    with pytest.raises(ValueError, match="batch_norm_stats"):
        C.batch_norm_stats(f32, (0, 1))


def test_softmax_norm_errors():
    with pytest.raises(ValueError, match="axis 2 is out of bounds"):
        C.softmax(f32, 2)
    with pytest.raises(ValueError, match="same shape"):
        C.softmax_backward(f32, np.ones((3, 5), np.float32), 1)
    with pytest.raises(ValueError, match=r"expected weight of shape \(4,\), got \(3,\)"):
        C.layer_norm(f32, np.ones(3, np.float32), None, 1, 1e-5)
    with pytest.raises(TypeError, match="weight dtype"):
        C.layer_norm(f32, np.ones(4), None, 1, 1e-5)
    with pytest.raises(ValueError, match="n_norm_dims"):
        C.layer_norm(f32, None, None, 3, 1e-5)
    _, m, r = C.layer_norm(f32, None, None, 1, 1e-5)
    with pytest.raises(ValueError, match="mean and rstd need 3 elements"):
        C.layer_norm_backward(f32, f32, m[:2], r, None, 1)


def test_dispatch_controls():
    before = C.simd_level()
    for level in ("avx512", "avx2", "neon"):
        if level not in C.supported_simd_levels():
            with pytest.raises(ValueError, match=f"does not support {level}"):
                C.set_simd(level)
    with pytest.raises(ValueError, match="expected one of"):
        C.set_simd("sse9")
    assert C.simd_level() == before
    n = C.get_num_threads()
    with pytest.raises(ValueError):
        C.set_num_threads(0)
    C.set_num_threads(1)
    try:
        np.testing.assert_allclose(C.matmul(f32, f32.T), f32 @ f32.T)
    finally:
        C.set_num_threads(n)


def test_concurrent_calls_from_python_threads():
    """Kernels release the GIL; pack buffers are per thread, so concurrent calls are safe."""
    from concurrent.futures import ThreadPoolExecutor

    rng = np.random.default_rng(0)
    a = rng.standard_normal((150, 170)).astype(np.float32)
    b = rng.standard_normal((170, 130)).astype(np.float32)
    want_mm, want_sm = a @ b, C.softmax(a, 1)

    def work(i):
        if i % 2:
            return np.abs(C.matmul(a, b) - want_mm).max()
        return np.abs(C.softmax(a, 1) - want_sm).max()

    with ThreadPoolExecutor(4) as ex:
        errs = list(ex.map(work, range(40)))
    assert max(errs) < 1e-3
