"""copy_contiguous (the cpp backend's contiguous / copying reshape) against NumPy."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from cpp_helpers import C, num_threads


def _views(a):
    yield a.T
    yield a[::-1]
    yield a[:, ::-2]
    yield a[1::3, 2:]
    yield a[..., ::-1]  # rows read backwards (flip along the last dim)
    yield a[::2, ..., :2:-1]
    yield np.swapaxes(a, 0, -1)
    if a.ndim == 3:
        yield a.transpose(0, 2, 1)
        yield a.transpose(1, 0, 2)[:, ::-1]
    if a.ndim == 4:
        yield a.transpose(0, 2, 3, 1)  # NCHW -> NHWC
        yield a.transpose(3, 1, 0, 2)


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("shape", [(7, 9), (33, 65), (64, 64), (1000, 17), (3, 31, 33),
                                   (2, 8, 16, 40), (1, 64, 1, 33)])
@pytest.mark.parametrize("dt", [np.float32, np.float64, np.int32, np.int16, np.bool_,
                                np.complex64, np.complex128])
def test_copy_contiguous_matches_numpy(simd, threads, shape, dt):
    rng = np.random.default_rng(0)
    a = (rng.standard_normal(shape) * 100).astype(dt)
    with num_threads(threads):
        for v in _views(a):
            got = C.copy_contiguous(v)
            assert got.flags.c_contiguous and got.dtype == v.dtype and got.shape == v.shape
            np.testing.assert_array_equal(got, v)
            assert not np.shares_memory(got, a)


def test_copy_contiguous_bits_and_edge_cases(simd):
    bits = np.arange(64 * 64, dtype=np.uint32).reshape(64, 64) | np.uint32(0x7FC00000)
    nans = bits.view(np.float32)  # NaN payloads survive: the copy moves bits
    np.testing.assert_array_equal(C.copy_contiguous(nans.T).view(np.uint32), bits.T)
    for a in (np.zeros((0, 5), np.float32).T, np.full((), 3.0),
              np.ones((5, 1), np.float32)[::2]):
        got = C.copy_contiguous(a)
        assert got.shape == a.shape and got.flags.c_contiguous
        np.testing.assert_array_equal(got, a)
    row = np.arange(40, dtype=np.float32)
    for b in (np.broadcast_to(row, (33, 40)), np.broadcast_to(row[:, None], (40, 33)),
              np.broadcast_to(np.float32(2), (5, 6))):  # stride-0 dims
        np.testing.assert_array_equal(C.copy_contiguous(b), b)
    obj = np.array([[1, "a"], [None, 2.5]], dtype=object).T  # falls back to NumPy
    assert C.copy_contiguous(obj).tolist() == obj.tolist()
    raw = np.zeros(4 * 65 + 1, np.uint8)[1:].view(np.float32).reshape(5, 13)  # misaligned
    np.testing.assert_array_equal(C.copy_contiguous(raw.T), raw.T)


@pytest.mark.parametrize("dt", [np.float32, np.float64, np.int32, np.int64])
def test_where_matches_numpy(dt):
    rng = np.random.default_rng(1)
    a = (rng.standard_normal((37, 65)) * 50).astype(dt)
    b = (rng.standard_normal((37, 65)) * 50).astype(dt)
    c = rng.random((37, 65)) > 0.5
    zero = np.zeros((), dt)
    cases = [(c, a, b), (c[:1], a, b), (c[:, :1], a, b[:1]), (c, a, zero), (c, zero, b),
             (c.T, a.T, b.T), (c[::2, ::-3], a[::2, ::-3], b[::2, ::-3]), (np.array(True), a, b),
             (c[:, :0], a[:, :0], b[:, :0]), (c[None], a, b[:, None, :1].reshape(37, 1))]
    for cc, x, y in cases:
        got = C.where(cc, x, y)
        assert got.dtype == dt and got.flags.c_contiguous
        np.testing.assert_array_equal(got, np.where(cc, x, y))
    nan = np.array([np.nan, -0.0, np.inf], np.float32)
    np.testing.assert_array_equal(C.where(np.array([True, True, False]), nan, nan[::-1]),
                                  [np.nan, -0.0, np.nan])


def test_where_errors():
    a = np.ones((3, 4), np.float32)
    with pytest.raises(TypeError, match="bool"):
        C.where(a, a, a)
    with pytest.raises(TypeError, match="dtype"):
        C.where(a > 0, a, a.astype(np.float64))
    with pytest.raises(TypeError, match="dtype"):
        C.where(a > 0, a.astype(np.int16), a.astype(np.int16))
    with pytest.raises(ValueError, match="broadcast"):
        C.where(a > 0, a, np.ones((5,), np.float32))


@pytest.mark.parametrize("threads", [1, 2])
def test_concatenate_matches_numpy(threads):
    rng = np.random.default_rng(2)
    a = rng.standard_normal((5, 6, 7)).astype(np.float32)
    big = rng.standard_normal((301, 1001)).astype(np.float32)  # few large pieces: split runs
    cases = [([a, a[:, :2]], 1), ([a, a], 0), ([a, a[..., ::2], a[..., :0]], -1),
             ([a.T, a.T], 1), ([a.astype(np.int16)] * 3, 2), ([(a > 0)[:0], a > 0], 0),
             ([a[:1]], 0), ([big], 0), ([big, big[:7], big[:0], big], 0),
             ([big[:2], big[:2, :999], big[:2, :5]], 1), ([big.astype(np.int8)] * 3, 0)]
    # rows read in place: slices along the axis, strided and reversed and broadcast rows,
    # rows made of several dims; or copied first (a row itself strided)
    b4 = rng.standard_normal((6, 7, 8, 5)).astype(np.float32)
    views = [b4[:, 1:5], b4[::2], b4[::-1], b4[:, ::-1], np.broadcast_to(b4[:1], b4.shape),
             b4[:, :, ::2], b4[..., 1:3], b4.transpose(1, 0, 2, 3), b4[:1], b4[:, :0]]
    cases += [([v, b4[:, :, :4], v], axis) for v in views for axis in range(4)
              if v.shape[:axis] + v.shape[axis + 1:] == (6, 7, 4, 5)[:axis] + (6, 7, 4, 5)[
                  axis + 1:]]
    cases += [([v, v, v], axis) for v in views for axis in range(4)]
    cases += [([big[:, 500:], big[:, :500]], 1), ([big[::3, 1:].astype(np.int8)] * 2, 1)]
    with num_threads(threads):
        for arrays, axis in cases:
            got = C.concatenate(arrays, axis)
            assert got.flags.c_contiguous and got.dtype == arrays[0].dtype
            np.testing.assert_array_equal(got, np.concatenate(arrays, axis))


def test_concatenate_errors():
    a = np.zeros((2, 3), np.float32)
    with pytest.raises(ValueError, match="must match exactly"):
        C.concatenate([a, np.zeros((3, 3), np.float32)], 1)
    with pytest.raises(ValueError, match="must match exactly"):
        C.concatenate([a, a.astype(np.float64)], 0)
    with pytest.raises(ValueError, match="at least one"):
        C.concatenate([], 0)
    with pytest.raises(ValueError, match="out of bounds"):
        C.concatenate([a, a], 2)
    with pytest.raises(TypeError, match="object"):
        C.concatenate([np.array([[None]], dtype=object)] * 2, 0)


@pytest.mark.parametrize("threads", [1, 2])
def test_take_rows_matches_numpy(threads):
    rng = np.random.default_rng(3)
    a = rng.standard_normal((50, 3, 7)).astype(np.float32)
    with num_threads(threads):
        for arr, rows in [(a, rng.integers(-50, 50, (4, 9))), (a.T.copy(), np.array([0, 6, -1])),
                          (a[:, 1], np.arange(50)[::-1]), (a.astype(np.int64), np.zeros(0, int)),
                          (a > 0, np.array([3], np.uint8)), (a[::2], np.array([[1], [2]]))]:
            got = C.take_rows(arr, rows)
            np.testing.assert_array_equal(got, arr[rows])
            assert got.dtype == arr.dtype and got.flags.c_contiguous
    with pytest.raises(IndexError, match="index 50 is out of bounds for axis 0 with size 50"):
        C.take_rows(a, np.array([1, 50]))
    with pytest.raises(IndexError):
        C.take_rows(a, np.array([-51]))
    with pytest.raises(TypeError, match="integers"):
        C.take_rows(a, np.array([1.0]))


@pytest.mark.parametrize("threads", [1, 2])
def test_tri_matches_numpy(threads):
    rng = np.random.default_rng(5)
    shapes = [(5, 7), (7, 5), (3, 4, 6), (2, 0, 3), (2, 3, 0), (1, 1), (2, 2, 33, 17), (300, 257)]
    with num_threads(threads):
        for shape in shapes:
            for dt in (np.float32, np.float64, np.int8, np.int64, np.bool_, np.uint16):
                a = (rng.standard_normal(shape) * 10).astype(dt)
                views = (a, a[..., ::-1], np.swapaxes(a, -1, -2))
                for v, k, upper in itertools.product(views, (-40, -3, -1, 0, 1, 2, 40),
                                                     (False, True)):
                    got = C.tri(v, k, upper)
                    assert got.flags.c_contiguous and got.dtype == v.dtype
                    np.testing.assert_array_equal(got, (np.triu if upper else np.tril)(v, k))


def test_tri_errors():
    with pytest.raises(ValueError, match="at least 2 dims"):
        C.tri(np.zeros(3, np.float32), 0, False)
    with pytest.raises(ValueError, match="triu"):
        C.tri(np.array([[None]], dtype=object), 0, True)


@pytest.mark.parametrize("threads", [1, 2])
def test_edge_pad2d_matches_numpy(threads):
    rng = np.random.default_rng(6)
    np_modes = {0: "reflect", 1: "edge", 2: "wrap", 3: "constant"}
    shapes = [(2, 3, 5, 7), (1, 1, 4, 4), (3, 6, 2), (5, 3), (2, 0, 3), (2, 3, 0), (0, 2, 2),
              (2, 8, 9, 7)]
    with num_threads(threads):
        for shape, dt, mode in itertools.product(shapes, (np.float32, np.float64, np.int8,
                                                          np.int16, np.bool_), range(4)):
            a = (rng.standard_normal(shape) * 10).astype(dt)[..., ::-1]  # strided: copied
            h, w = shape[-2:]
            cap = {0: (h - 1, w - 1), 1: (3, 3) if h and w else (0, 0), 2: (h, w), 3: (3, 3)}
            for t, b, lf, r in itertools.product(range(4), repeat=4):
                if max(t, b) > min(cap[mode][0], 3) or max(lf, r) > min(cap[mode][1], 3):
                    continue
                kw = {"constant_values": 3} if mode == 3 else {}
                want = np.pad(a, [(0, 0)] * (a.ndim - 2) + [(t, b), (lf, r)], np_modes[mode], **kw)
                value = np.asarray([3], dt) if mode == 3 else None
                np.testing.assert_array_equal(C.edge_pad2d(a, (t, b, lf, r), mode, value), want)


def test_edge_pad2d_errors():
    x = np.zeros((2, 3), np.float32)
    for pads, mode in [((2, 0, 0, 0), 0), ((0, 0, 0, 4), 2), ((-1, 0, 0, 0), 1), ((0,) * 4, 4)]:
        with pytest.raises(ValueError, match="do not fit"):
            C.edge_pad2d(x, pads, mode)
    with pytest.raises(ValueError, match="do not fit"):
        C.edge_pad2d(np.zeros((0, 3), np.float32), (1, 0, 0, 0), 1)
    with pytest.raises(TypeError, match="1-element array"):
        C.edge_pad2d(x, (1, 1, 1, 1), 3, np.asarray([3.0]))
    with pytest.raises(ValueError, match="at least 2 dims"):
        C.edge_pad2d(np.zeros(3, np.float32), (0, 0, 1, 1), 0)
