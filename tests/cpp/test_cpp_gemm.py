"""matmul: packed GEMM against NumPy on odd sizes, strided/transposed views, batch broadcasting."""

from __future__ import annotations

import numpy as np
import pytest
from cpp_helpers import ODD_SIZES, C, num_threads, rand
from hypothesis import given, settings
from hypothesis import strategies as st


def check(a, b):
    got = C.matmul(a, b)
    want = np.matmul(a.astype(np.float64), b.astype(np.float64))
    assert got.shape == want.shape and got.dtype == a.dtype
    k = a.shape[-1]
    if a.dtype == np.float32:
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=2e-6 * max(k, 1))
    else:
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-13 * max(k, 1))


@pytest.mark.parametrize("m", ODD_SIZES[:6])
@pytest.mark.parametrize("n", (1, 7, 17, 33))
@pytest.mark.parametrize("k", (1, 3, 31, 257))
def test_gemm_small_odd(simd, dtype, m, n, k):
    rng = np.random.default_rng(m * 1000 + n * 10 + k)
    check(rand(rng, (m, k), dtype), rand(rng, (k, n), dtype))


@pytest.mark.parametrize(
    "m,n,k",
    [
        (1023, 33, 17),
        (31, 1025, 7),
        (17, 31, 1025),
        (300, 200, 600),
        (1, 1025, 300),
        (150, 3100, 40),
    ],
)
def test_gemm_odd_blocks(simd, dtype, m, n, k):
    rng = np.random.default_rng(0)
    check(rand(rng, (m, k), dtype), rand(rng, (k, n), dtype))


@pytest.mark.parametrize("m", (16, 20, 32, 47, 64, 100))
@pytest.mark.parametrize("a_transposed", (False, True))
def test_gemm_tile_choice(simd, dtype, m, a_transposed):
    """AVX-512's 16-row tile where it pads M least (16, 32, 47, 64), AVX2's 6-row tile at
    the same level where that pads less (20, 100): full and edge panels of both packers."""
    rng = np.random.default_rng(m)
    a = rand(rng, (300, m), dtype).T if a_transposed else rand(rng, (m, 300), dtype)
    with num_threads(2):
        check(a, rand(rng, (300, 200), dtype))


def test_gemm_large_threaded(dtype):
    rng = np.random.default_rng(1)
    # more than NC columns, deeper than KC (float 1024, double 512) with a shallow last step
    check(rand(rng, (517, 1100), dtype), rand(rng, (1100, 3200), dtype))


@pytest.mark.parametrize("threads", (2, 3))
@pytest.mark.parametrize(
    "m,n,k",
    [(128, 256, 784), (100, 200, 300), (144, 257, 513), (7, 3100, 260), (60, 6200, 300),
     (300, 1000, 700), (151, 3001, 530)],
)
def test_gemm_split_n_threaded(dtype, threads, m, n, k):
    """One A block, or C twice as wide as tall, and many B panels: threads pack and
    multiply disjoint panels with no barrier per KC step, each packing all of A, including a
    shallower last step and more than one NC block."""
    rng = np.random.default_rng(m + n + k)
    with num_threads(threads):
        for _ in range(3):  # races would show as run-to-run differences
            check(rand(rng, (m, k), dtype), rand(rng, (k, n), dtype))
            check(rand(rng, (m, k), dtype), rand(rng, (n, k), dtype).T)


@pytest.mark.parametrize("threads", (1, 2))
@pytest.mark.parametrize(
    "m,n,k", [(144, 600, 1025), (145, 290, 1025), (145, 289, 2049), (300, 599, 1100),
              (150, 3100, 520), (97, 200, 513)])
def test_gemm_blocking_boundaries(dtype, threads, m, n, k):
    """Shapes on either side of the choice between the deep and the short-A blocking (A of
    144 rows, C twice as wide as tall), deeper than one K block of either."""
    rng = np.random.default_rng(m * n + k)
    with num_threads(threads):
        check(rand(rng, (m, k), dtype), rand(rng, (k, n), dtype))
        check(rand(rng, (k, m), dtype).T, rand(rng, (n, k), dtype).T)


def test_gemm_views(simd, dtype):
    rng = np.random.default_rng(2)
    a, b = rand(rng, (70, 90), dtype), rand(rng, (90, 80), dtype)
    check(a.T[:, :70], b[:70])  # transposed A
    check(a, b.T.T)
    check(a[:, :19], rand(rng, (33, 19), dtype).T)  # x @ W^T: column-major B, k tail of 3
    check(rand(rng, (19, 37), dtype).T, b[:19, :33])  # g^T @ x: column-major A panels
    check(a[::2, :19], rand(rng, (40, 19), dtype)[::2].T)  # column-major B, strided columns
    check(b.T, a.T)  # both transposed
    check(a[::2, ::3], b[::3, ::2])  # strided
    check(a[::-1], b[:, ::-1])  # negative strides
    big = rand(rng, (8, 90, 90), dtype)
    check(big[:, 3, :70].T, big[2, :8, :33])  # arbitrary strides


@pytest.mark.parametrize(
    "sa,sb",
    [
        ((5,), (5,)),
        ((5,), (5, 3)),
        ((4, 5), (5,)),
        ((2, 3, 4), (4,)),
        ((4,), (2, 4, 3)),
        ((2, 3, 4), (4, 5)),
        ((3, 4), (2, 4, 5)),
        ((2, 1, 3, 4), (5, 4, 6)),
        ((7, 3, 4), (7, 4, 2)),
        ((0, 3, 4), (4, 5)),
        ((3, 0), (0, 4)),
        ((2, 3, 0), (2, 0, 4)),
        ((0, 4), (4, 0)),
        ((6, 40, 50), (50, 60)),
        ((64, 9, 9), (64, 9, 9)),
    ],
)
def test_matmul_semantics(simd, dtype, sa, sb):
    rng = np.random.default_rng(3)
    check(rand(rng, sa, dtype), rand(rng, sb, dtype))


def test_matmul_batch_views(dtype):
    rng = np.random.default_rng(4)
    x = rand(rng, (4, 6, 30, 20), dtype)
    w = rand(rng, (20, 10), dtype)
    check(x[:, ::2], w)  # no fold: strided batch
    check(x.transpose(1, 0, 2, 3), w)  # folds only when rows are evenly spaced
    check(x, x.transpose(0, 1, 3, 2))  # batched A @ A^T
    check(x[:, :, :5, :].transpose(0, 1, 3, 2), x[:, :, :5, :])


@settings(max_examples=60, deadline=None)
@given(
    batch=st.lists(st.integers(1, 3), max_size=2),
    m=st.integers(1, 40),
    n=st.integers(1, 40),
    k=st.integers(0, 40),
    a1=st.booleans(),
    b1=st.booleans(),
    ta=st.booleans(),
    tb=st.booleans(),
    f64=st.booleans(),
    bcast=st.integers(0, 2),
)
def test_matmul_fuzz(batch, m, n, k, a1, b1, ta, tb, f64, bcast):
    dtype = np.float64 if f64 else np.float32
    rng = np.random.default_rng(5)
    ba = tuple(batch) if bcast != 1 else tuple(1 for _ in batch)
    bb = tuple(batch) if bcast != 2 else ()
    a = rand(rng, ba + (k, m), dtype).swapaxes(-1, -2) if ta else rand(rng, ba + (m, k), dtype)
    b = rand(rng, bb + (n, k), dtype).swapaxes(-1, -2) if tb else rand(rng, bb + (k, n), dtype)
    if a1 and not ba:  # 1-D operands only without batch dims
        a = a[0]
    if b1 and not bb:
        b = b[:, 0]
    check(a, b)


def layouts(rng, m, n, k, dtype):
    """A and B as the small-GEMM path meets them: plain, transposed views (q @ k^T,
    x @ W^T), sliced views and reversed rows."""
    a, b = rand(rng, (m, k), dtype), rand(rng, (k, n), dtype)
    yield a, b
    yield a, rand(rng, (n, k), dtype).T  # x @ W^T: column-major B (the narrow dot path)
    yield rand(rng, (k, m), dtype).T, b  # column-major A
    yield rand(rng, (m + 2, 2 * k + 1), dtype)[1:-1, 1::2], rand(rng, (k, n + 5), dtype)[:, 3:-2]
    yield a, b[::-1]  # negative row stride of B


@pytest.mark.parametrize("m", ODD_SIZES[:6])
@pytest.mark.parametrize("n", (1, 3, 4, 7, 10, 17, 33))
@pytest.mark.parametrize("k", (3, 64, 257))  # 257: one more than KC, so C accumulates
def test_gemm_small_path(simd, dtype, m, n, k):
    rng = np.random.default_rng(m * 1000 + n * 10 + k)
    for a, b in layouts(rng, m, n, k, dtype):
        check(a, b)


@pytest.mark.parametrize("m,n,k", [(3, 900, 300), (6, 40, 2000), (5, 17, 600), (1, 33, 64)])
def test_gemm_small_path_b_in_place(simd, dtype, m, n, k):
    """One row panel reads a row-major B in place however big it is, edge panel packed."""
    rng = np.random.default_rng(6)
    a, b = rand(rng, (m, k), dtype), rand(rng, (k, n + 3), dtype)
    check(a, b[:, :n])
    check(a, b[::-1, 3:])


@pytest.mark.parametrize("threads", (1, 2))
def test_matmul_batched_small(simd, dtype, threads):
    """Attention-shaped batches (per-head q @ k^T and attn @ v) with broadcast batch dims."""
    rng = np.random.default_rng(7)
    with num_threads(threads):
        q, kt = rand(rng, (2, 3, 17, 31), dtype), rand(rng, (2, 3, 33, 31), dtype)
        check(q, kt.swapaxes(-1, -2))
        check(rand(rng, (2, 3, 17, 33), dtype), kt)
        check(q[:1], kt[:, :1].swapaxes(-1, -2))  # (1, 3) and (2, 1) broadcast to (2, 3)
        check(rand(rng, (3, 7, 65), dtype), rand(rng, (4, 1, 3, 65), dtype).swapaxes(-1, -2))
        check(q[:, :, ::2, 1:], rand(rng, (30, 10), dtype))  # strided rows: no fold into one GEMM


@pytest.mark.parametrize("threads", (1, 2, 3))
@pytest.mark.parametrize("n", (1, 5, 8, 17, 1023, 1025, 4100))
@pytest.mark.parametrize("k", (1, 3, 9, 16, 17, 300))
def test_gemm_vector(simd, dtype, threads, n, k):
    """M = 1 (a vector-matrix product) reads B in place, threads splitting N: row-major B
    (in column chunks, rows eight at a time, with row and column tails), column-major B (dot
    products four columns at a time), a strided A row, a negative row stride of B, and a B
    that is neither (the packed path)."""
    rng = np.random.default_rng(n * 31 + k)
    with num_threads(threads):
        a, b = rand(rng, (1, k), dtype), rand(rng, (k, n + 2), dtype)
        check(a, b[:, 1:-1])
        check(rand(rng, (1, 2 * k), dtype)[:, ::2], b[::-1, 2:])
        check(a, rand(rng, (n, k), dtype).T)
        check(a, rand(rng, (2 * n, 2 * k), dtype)[::2, ::2].T)
        check(a[0], b)  # 1-D @ 2-D


@pytest.mark.parametrize("threads", (1, 2, 3))
@pytest.mark.parametrize("m", (1, 5, 17, 1025))
@pytest.mark.parametrize("k", (1, 9, 300))
def test_gemm_matrix_vector(simd, dtype, threads, m, k):
    """N = 1 (a matrix-vector product) goes to the same in-place path, transposed: A
    row-major (dot products), A column-major (A's columns stream), A strided both ways (the
    packed path), a 1-D vector, a negative stride, and a batch of matrix-vector products."""
    rng = np.random.default_rng(m * 7 + k)
    with num_threads(threads):
        x = rand(rng, (k, 1), dtype)
        a = rand(rng, (m, k), dtype)
        check(a, x)
        check(rand(rng, (k, m), dtype).T, x)
        check(rand(rng, (2 * m, 2 * k), dtype)[::2, ::2], x)
        check(a, x[:, 0])
        check(a[::-1], rand(rng, (2 * k, 1), dtype)[::2])
        check(rand(rng, (3, m, k), dtype), rand(rng, (3, k, 1), dtype))


@pytest.mark.parametrize("threads", (1, 2, 3))
@pytest.mark.parametrize("n,k", [(2, 64), (3, 300), (4, 1024), (10, 192), (15, 257)])
def test_gemm_narrow_split(simd, dtype, threads, n, k):
    """A narrow B (N < 16, deep K) goes to the dot-product kernel at any thread count, the
    threads splitting M in whole tiles: B column-major (x @ W^T), row-major (its columns
    copied contiguous first), strided both ways, and with a negative row stride."""
    rng = np.random.default_rng(n * 100 + k)
    with num_threads(threads):
        for m in (5, 1023):
            a = rand(rng, (m, k), dtype)
            check(a, rand(rng, (n, k), dtype).T)
            check(a, rand(rng, (k, n), dtype))
            check(a, rand(rng, (2 * k, 3 * n), dtype)[::2, ::3])
            check(a, rand(rng, (k, n), dtype)[::-1])


@pytest.mark.parametrize("threads", (2, 3))
@pytest.mark.parametrize("m,n,k", [(16, 16, 65536), (5, 7, 4099), (17, 33, 5000), (64, 10, 8192)])
def test_gemm_split_k(dtype, threads, m, n, k):
    """A small C over a long K: the threads split K into their own partial C's and add them
    up (odd run lengths, a transposed A as in a weight gradient, a strided B)."""
    rng = np.random.default_rng(m + n + k)
    with num_threads(threads):
        check(rand(rng, (m, k), dtype), rand(rng, (k, n), dtype))
        check(rand(rng, (k, m), dtype).T, rand(rng, (k, 2 * n), dtype)[:, ::2])


@pytest.mark.parametrize("threads", (1, 2))
def test_fma_peak(simd, threads):
    """The FMA limit the GEMM benchmark reports against: a positive rate at every level, and
    no more than a core can do (16 float lanes x 2 pipes x 2 flop x 6 GHz) per thread."""
    gflops = C._fma_peak(threads, 0.0)
    assert 0 < gflops < threads * 384
