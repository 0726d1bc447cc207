"""The C++ implicit-GEMM conv2d (cpp_nn.py, csrc/kernels/conv.cpp) against the NumPy
reference backend, at every SIMD level: strides, pads, dilation, groups, odd sizes, strided
and broadcast operands, empty batches, gradcheck, errors and declines."""

from __future__ import annotations

import numpy as np
import pytest
from cpp_helpers import C, num_threads, rand

cpp_backend = pytest.importorskip("autodiff.backends.cpp_backend")
import autodiff as ad
from autodiff.backends.cpp_nn import _ConvSaved
from autodiff.backends.numpy_backend import NumpyBackend

CPP = cpp_backend.CppBackend()
REF = NumpyBackend()

# (N, C, H, W), (C_out, kh, kw), stride, pads (top, bottom, left, right), dilation, groups
CASES = [
    ((2, 3, 7, 9), (4, 3, 3), (1, 1), (1, 1, 1, 1), (1, 1), 1),
    ((3, 16, 8, 8), (32, 3, 3), (1, 1), (1, 1, 1, 1), (1, 1), 1),  # CNN benchmark's conv2
    ((2, 5, 13, 11), (7, 3, 3), (1, 1), (0, 0, 0, 0), (1, 1), 1),  # valid: dx via col2im
    ((3, 4, 8, 8), (6, 3, 2), (2, 1), (0, 1, 2, 0), (1, 2), 2),
    ((5, 6, 11, 5), (6, 1, 1), (1, 1), (0, 0, 0, 0), (1, 1), 3),
    ((2, 2, 9, 9), (4, 3, 3), (3, 2), (2, 2, 1, 1), (2, 1), 1),
    ((1, 4, 17, 19), (4, 5, 3), (1, 1), (2, 2, 1, 1), (1, 1), 4),  # depthwise
    ((2, 3, 6, 33), (5, 2, 4), (1, 1), (1, 0, 3, 0), (2, 1), 1),  # asymmetric ("same")
    ((1, 1, 1, 1), (1, 1, 1), (1, 1), (0, 0, 0, 0), (1, 1), 1),
    ((1, 2, 3, 3), (3, 3, 3), (1, 1), (3, 3, 3, 3), (1, 1), 1),  # pads beyond the reach
    # AVX-512's 16-row tile: 47 output channels (an edge panel of 15), groups of 16
    ((2, 8, 10, 12), (47, 3, 3), (1, 1), (1, 1, 1, 1), (1, 1), 1),
    ((2, 6, 5, 35), (32, 3, 3), (1, 1), (1, 1, 1, 1), (1, 1), 2),
    # column strides read a phase-split image: odd widths and left pads, dilation, groups
    ((2, 4, 9, 37), (16, 3, 3), (2, 2), (1, 0, 3, 2), (1, 2), 2),
    ((1, 3, 6, 20), (17, 2, 5), (1, 3), (0, 1, 1, 0), (2, 1), 1),
]
IDS = [f"{c[0]}-{c[1]}-s{c[2]}-p{c[3]}-d{c[4]}-g{c[5]}".replace(" ", "") for c in CASES]


def close(got, want, dtype, scale=1.0):
    assert got.shape == want.shape and got.dtype == want.dtype
    tol = (1e-4 if np.dtype(dtype) == np.float32 else 1e-11) * scale
    np.testing.assert_allclose(got, want, rtol=tol, atol=tol)


def check(x, w, b, gy, stride, pads, dil, groups, dtype):
    kernel = w.shape[2:]
    y, saved = CPP.conv2d_forward(x, w, b, kernel, dil, pads, stride, groups)
    assert type(saved) is _ConvSaved  # the C++ path ran
    y_ref, cols = REF.conv2d_forward(x, w, b, kernel, dil, pads, stride, groups)
    close(y, y_ref, dtype)
    if gy is None:
        gy = rand(np.random.default_rng(1), y_ref.shape, dtype)
    got = CPP.conv2d_backward(
        gy, saved, w, x.shape, kernel, dil, pads, stride, groups, True, True, b is not None
    )
    want = REF.conv2d_backward(
        np.ascontiguousarray(gy),
        cols,
        w,
        x.shape,
        kernel,
        dil,
        pads,
        stride,
        groups,
        True,
        True,
        b is not None,
    )
    for g, r in zip(got, want):
        assert (g is None) == (r is None)
        if g is not None:
            close(g, r, dtype, 10)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_conv2d_vs_numpy(case, dtype, simd):
    xshape, (oc, kh, kw), stride, pads, dil, groups = case
    rng = np.random.default_rng(0)
    x = rand(rng, xshape, dtype)
    w = rand(rng, (oc, xshape[1] // groups, kh, kw), dtype)
    check(x, w, rand(rng, (oc,), dtype), None, stride, pads, dil, groups, dtype)
    check(x, w, None, None, stride, pads, dil, groups, dtype)


def test_conv2d_strided_operands(dtype, simd):
    rng = np.random.default_rng(2)
    x = rand(rng, (4, 3, 10, 14), dtype)[::2, :, 1:, ::2]  # (2, 3, 9, 7), every stride odd
    xt = np.ascontiguousarray(rand(rng, (3, 2, 7, 9), dtype).transpose(1, 0, 3, 2))
    w = rand(rng, (8, 3, 3, 3), dtype)[::2]
    b = rand(rng, (8,), dtype)[::2]
    for xi in (x, xt.transpose(0, 1, 3, 2).transpose(0, 1, 3, 2), x[..., ::-1]):
        gys = (
            None,  # contiguous; then a broadcast dy (a sum's backward) and a sliced one
            np.broadcast_to(dtype(0.5), (2, 4, 9, 7)),
            rand(rng, (2, 4, 9, 14), dtype)[..., ::2],
            rand(rng, (4, 2, 7, 9), dtype).transpose(1, 0, 3, 2),
        )
        for gy in gys:
            check(xi, w, b, gy, (1, 1), (1, 1, 1, 1), (1, 1), 1, dtype)


WINOGRAD_CASES = [  # 3x3, stride 1: odd sizes (edge tiles), every padding, blocks of
    # whole images and of tile rows, channels past a micro-panel and the micro-kernel's depth
    ((2, 3, 7, 9), 4, (1, 1, 1, 1)),
    ((3, 5, 2, 2), 6, (1, 1, 1, 1)),
    ((2, 5, 13, 11), 7, (0, 0, 0, 0)),
    ((1, 4, 6, 33), 5, (1, 0, 2, 0)),
    ((1, 2, 3, 3), 3, (2, 2, 2, 2)),
    ((2, 19, 70, 41), 33, (1, 1, 1, 1)),
    ((5, 300, 5, 6), 17, (1, 2, 0, 1)),
]


@pytest.fixture
def winograd():
    before = C.conv_winograd_mode()
    C.set_conv_winograd(2)  # wherever the geometry allows
    yield
    C.set_conv_winograd(before)


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("case", WINOGRAD_CASES, ids=str)
def test_conv2d_winograd_vs_numpy(case, threads, dtype, winograd):
    xshape, oc, pads = case
    rng = np.random.default_rng(5)
    x = rand(rng, xshape, dtype)
    w = rand(rng, (oc, xshape[1], 3, 3), dtype)
    with num_threads(threads):
        check(x, w, rand(rng, (oc,), dtype), None, (1, 1), pads, (1, 1), 1, dtype)
        check(x[:, :, ::-1, 1:], w, None, None, (1, 1), pads, (1, 1), 1, dtype)  # strided x


def test_conv2d_winograd_modes_agree():
    rng = np.random.default_rng(6)
    x, w = rand(rng, (4, 32, 12, 12), np.float32), rand(rng, (48, 32, 3, 3), np.float32)
    before = C.conv_winograd_mode()
    try:
        out = {}
        for mode in (0, 1, 2):
            C.set_conv_winograd(mode)
            assert C.conv_winograd_mode() == mode
            out[mode] = C.conv2d(x, w, None, (1, 1), (1, 1, 1, 1), (1, 1), 1)
        np.testing.assert_array_equal(out[1], out[2])  # used by default at this size
        np.testing.assert_allclose(out[0], out[2], rtol=1e-4, atol=1e-4)
        C.set_conv_winograd(7)
        assert C.conv_winograd_mode() == 2  # clamped
    finally:
        C.set_conv_winograd(before)


def test_conv2d_empty(dtype):
    w = np.ones((4, 3, 3, 3), dtype)
    for xshape in ((0, 3, 5, 5), (2, 3, 5, 5)):
        x = np.ones(xshape, dtype)
        y, saved = CPP.conv2d_forward(x, w[:0], None, (3, 3), (1, 1), (1, 1, 1, 1), (1, 1), 1)
        assert y.shape == (xshape[0], 0, 5, 5)
    x = np.ones((0, 3, 5, 5), dtype)
    for stride, pads, oh in (((1, 1), (1, 1, 1, 1), 5), ((2, 2), (0, 0, 0, 0), 2)):
        y, saved = CPP.conv2d_forward(x, w, w[:, 0, 0, 0], (3, 3), (1, 1), pads, stride, 1)
        assert y.shape == (0, 4, oh, oh) and type(saved) is _ConvSaved
        gx, gw, gb = CPP.conv2d_backward(
            y, saved, w, x.shape, (3, 3), (1, 1), pads, stride, 1, True, True, True
        )
        assert gx.shape == x.shape and gx.dtype == dtype
        np.testing.assert_array_equal(gw, np.zeros_like(w))  # a sum over no images
        np.testing.assert_array_equal(gb, np.zeros(4, dtype))


def test_conv2d_gradcheck_cpp():
    rng = np.random.default_rng(3)
    with ad.default_device("cpp"):
        x = ad.tensor(rng.standard_normal((2, 4, 6, 5)), requires_grad=True)
        w = ad.tensor(rng.standard_normal((6, 2, 3, 2)), requires_grad=True)
        b = ad.tensor(rng.standard_normal(6), requires_grad=True)
        for stride, padding, dilation in (((1, 1), 1, 1), ((2, 1), (0, 2), (1, 2))):

            def fn(x, w, b, stride=stride, padding=padding, dilation=dilation):
                return ad.nn.functional.conv2d(x, w, b, stride, padding, dilation, groups=2)

            assert ad.autograd.gradcheck(fn, (x, w, b))


def test_conv2d_module_uses_cpp():
    rng = np.random.default_rng(4)
    with ad.default_device("cpp"):
        m = ad.nn.Conv2d(3, 5, 3, padding=1)
        x = ad.tensor(rng.standard_normal((2, 3, 6, 6)).astype(np.float32), requires_grad=True)
        y = m(x)
    assert type(y.grad_fn.cols) is _ConvSaved
    y.sum().backward()
    assert x.grad.shape == x.shape and m.weight.grad.shape == m.weight.shape


def test_conv2d_declines_to_numpy():
    x = np.ones((1, 2, 4, 4), np.float32)
    w = np.ones((3, 2, 3, 3), np.float64)  # mixed dtypes: the NumPy kernel runs
    y, cols = CPP.conv2d_forward(x, w, None, (3, 3), (1, 1), (0, 0, 0, 0), (1, 1), 1)
    assert type(cols) is not _ConvSaved and y.shape == (1, 3, 2, 2)
    gx, gw, gb = CPP.conv2d_backward(
        np.ones_like(y),
        cols,
        w,
        x.shape,
        (3, 3),
        (1, 1),
        (0, 0, 0, 0),
        (1, 1),
        1,
        True,
        True,
        False,
    )
    assert gx.shape == x.shape and gw.shape == w.shape and gb is None


@pytest.mark.parametrize(
    "xshape, wshape, stride, pads, dil, groups, match",
    [
        ((1, 2, 4), (3, 2, 3, 3), (1, 1), (0,) * 4, (1, 1), 1, r"4-D input"),
        ((1, 2, 4, 4), (3, 3, 3, 3), (1, 1), (0,) * 4, (1, 1), 1, r"does not fit input"),
        ((1, 4, 4, 4), (3, 2, 3, 3), (1, 1), (0,) * 4, (1, 1), 2, r"C_out divisible"),
        ((1, 2, 4, 4), (3, 2, 5, 3), (1, 1), (0,) * 4, (1, 1), 1, r"does not fit the padded"),
        ((1, 2, 4, 4), (3, 2, 3, 3), (0, 1), (0,) * 4, (1, 1), 1, r"stride and dilation"),
        ((1, 2, 4, 4), (3, 2, 3, 3), (1, 1), (0, -1, 0, 0), (1, 1), 1, r"pads"),
        ((1, 2, 4, 4), (3, 2, 3, 3), (1, 1), (0,) * 4, (1, 1), 0, r"groups"),
        ((1, 2, 4, 4), (3, 2, 0, 3), (1, 1), (1,) * 4, (1, 1), 1, r"empty kernel"),
    ],
)
def test_conv2d_errors(xshape, wshape, stride, pads, dil, groups, match):
    x, w = np.ones(xshape, np.float32), np.ones(wshape, np.float32)
    with pytest.raises(ValueError, match=match):
        C.conv2d(x, w, None, stride, pads, dil, groups)


def test_conv2d_backward_errors():
    x, w = np.ones((2, 2, 5, 5), np.float32), np.ones((3, 2, 3, 3), np.float32)
    with pytest.raises(ValueError, match=r"expected dy of shape \(2, 3, 3, 3\), got"):
        C.conv2d_backward(
            np.ones((2, 3, 3, 4), np.float32), x, w, (1, 1), (0,) * 4, (1, 1), 1, True, True, True
        )
    with pytest.raises(TypeError, match="same dtype"):
        C.conv2d_backward(
            np.ones((2, 3, 3, 3)), x, w, (1, 1), (0,) * 4, (1, 1), 1, True, True, True
        )
    with pytest.raises(TypeError, match="float32 or float64"):
        C.conv2d(x.astype(np.int32), w.astype(np.int32), None, (1, 1), (0,) * 4, (1, 1), 1)
    with pytest.raises(ValueError, match=r"expected bias of shape \(3,\)"):
        C.conv2d(x, w, np.ones(4, np.float32), (1, 1), (0,) * 4, (1, 1), 1)
