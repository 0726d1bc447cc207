"""The row kernels (softmax, log-softmax, layer norm; forward and backward) on every path
they can take on a GPU: the row cached in shared memory or re-read from global memory, past
48 KiB of shared memory (opted in), a row per warp or per block, 16-byte packs or single elements (misaligned base or n
not a multiple of the pack). Each against the NumPy backend in float64."""

from __future__ import annotations

import numpy as np
import pytest

import autodiff as ad

pytestmark = [pytest.mark.gpu,
              pytest.mark.skipif(not ad.cuda.is_available(), reason="no CUDA GPU/CuPy")]

if ad.cuda.is_available():
    import cupy

    from autodiff.backends import cupy_backend as cb

REF = ad.device("numpy").backend


@pytest.fixture(scope="module")
def b():
    return ad.device("cuda").backend


def _misaligned(a: np.ndarray, offset: int):
    """``a`` on the GPU, C-contiguous, starting ``offset`` elements into its allocation."""
    flat = cupy.empty(a.size + offset, dtype=a.dtype)
    flat[offset:] = cupy.asarray(a.ravel())
    return flat[offset:].reshape(a.shape)


def _close(got, want, dtype):
    tol = 2e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(cupy.asnumpy(got), want, rtol=tol, atol=tol)


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("offset", [0, 1], ids=["aligned", "misaligned"])
@pytest.mark.parametrize("team", ["warp-if-short", "block"])
@pytest.mark.parametrize("cache", ["fit", "never"])
@pytest.mark.parametrize("n", [1, 3, 8, 100, 1024, 1030, 20_000])
def test_row_kernel_paths(b, monkeypatch, n, cache, team, offset, dtype):
    monkeypatch.setattr(cb, "ROW_CACHE_BYTES", None if cache == "fit" else 0)
    monkeypatch.setattr(cb, "WARP_ROW_MAX", cb.WARP_ROW_MAX if team == "warp-if-short" else 0)
    rng = np.random.default_rng(n)
    rows = 5
    x = (rng.standard_normal((rows, n)) * 3).astype(dtype)
    gy = rng.standard_normal((rows, n)).astype(dtype)
    w = rng.standard_normal(n).astype(dtype)
    bias = rng.standard_normal(n).astype(dtype)
    dx, dgy = _misaligned(x, offset), _misaligned(gy, offset)
    for fn in ("softmax", "log_softmax"):
        y = getattr(REF, fn)(x, 1)
        _close(getattr(b, fn)(dx, 1), y, dtype)
        _close(getattr(b, fn + "_backward")(_misaligned(y, offset), dgy, 1),
               getattr(REF, fn + "_backward")(y, gy, 1), dtype)
    for wb in ((None, None), (w, bias), (w, None)):
        dwb = [None if p is None else _misaligned(p, offset) for p in wb]
        got = b.layer_norm(dx, *dwb, 1, 1e-5)
        want = REF.layer_norm(x, *wb, 1, 1e-5)
        for g, r in zip(got, want):
            _close(g, r, dtype)
        mean, rstd = want[1], want[2]
        got = b.layer_norm_backward(dgy, dx, cupy.asarray(mean), cupy.asarray(rstd), dwb[0], 1)
        want = REF.layer_norm_backward(gy, x, mean, rstd, wb[0], 1)
        for g, r in zip(got, want):
            if r is None:
                assert g is None
            else:
                _close(g, r, dtype)


def test_cached_rows_past_48k_opt_in(b):
    """A 20000-float row needs 80 KB of shared memory (160 KB for the backward): above the
    default 48 KiB, so the launcher opts the kernel in; on a GPU without that much it falls
    back to the uncached kernel. Either way the result matches."""
    x = np.random.default_rng(0).standard_normal((3, 20_000)).astype(np.float32)
    _close(b.softmax(cupy.asarray(x), 1), REF.softmax(x, 1), np.float32)
    _, smem = b._row_kernel("softmax_forward<{T}, false, {cache}, false>", np.float32, 20_000, 1)
    limit = int(b.device.attributes.get("MaxSharedMemoryPerBlockOptin", 48 * 1024))
    assert smem == (80_000 if 80_000 + 1024 <= limit else 0)
