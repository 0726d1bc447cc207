"""conv_transpose2d on the cpp device (one C++ kernel: conv2d's input gradient, csrc/bind_conv.cpp)
against the NumPy device's composite (W^T x, then fold) and PyTorch: strides, pads,
output_padding, dilation, groups, bias, odd sizes, strided inputs, empty batches, every SIMD
level, 1 and 2 threads, gradcheck, double backward and the binding's errors."""

from __future__ import annotations

import numpy as np
import pytest
from cpp_helpers import C, num_threads, rand

import autodiff as ad
import autodiff.nn.functional as F

# (N, C_in, H, W), (C_out / groups, kh, kw), stride, padding, output_padding, dilation, groups
CASES = [
    ((2, 3, 5, 6), (4, 3, 3), (1, 1), (0, 0), (0, 0), (1, 1), 1),
    ((2, 3, 5, 6), (4, 3, 3), (1, 1), (1, 1), (0, 0), (1, 1), 1),  # stride 1: the flipped forward
    ((2, 4, 7, 5), (3, 4, 4), (2, 2), (1, 1), (0, 0), (1, 1), 1),  # the usual 2x upsampler
    ((3, 4, 4, 9), (2, 3, 3), (2, 2), (1, 1), (1, 1), (1, 1), 2),
    ((1, 6, 3, 3), (1, 3, 3), (3, 2), (2, 0), (2, 1), (1, 1), 6),  # depthwise, op > pad
    ((2, 2, 5, 5), (3, 2, 3), (1, 2), (1, 1), (1, 1), (2, 1), 1),  # op < dilation (stride 1)
    ((2, 5, 6, 7), (5, 1, 1), (2, 3), (0, 0), (1, 2), (1, 1), 1),  # 1x1 (a scatter)
    ((1, 8, 17, 3), (47, 3, 3), (1, 1), (1, 1), (0, 0), (1, 1), 1),  # 47: an edge panel
    ((1, 1, 1, 1), (1, 1, 1), (1, 1), (0, 0), (0, 0), (1, 1), 1),
    ((2, 64, 9, 10), (40, 3, 3), (1, 1), (1, 1), (0, 0), (1, 1), 1),  # Winograd's size
]
IDS = [f"{c[0]}-{c[1]}-s{c[2]}-p{c[3]}-op{c[4]}-d{c[5]}-g{c[6]}".replace(" ", "") for c in CASES]


def tensors(case, dtype, device, seed=0, bias=True):
    xshape, (ocg, kh, kw), *_, groups = case
    rng = np.random.default_rng(seed)
    arrays = (rand(rng, xshape, dtype), rand(rng, (xshape[1], ocg, kh, kw), dtype),
              rand(rng, (ocg * groups,), dtype))
    ts = [ad.tensor(a, device=device, requires_grad=True) for a in arrays]
    return ts if bias else ts[:2] + [None]


def run(case, dtype, device, x_view=None):
    x, w, b = tensors(case, dtype, device)
    _, _, stride, padding, output_padding, dilation, groups = case
    xi = x if x_view is None else x_view(x)
    y = F.conv_transpose2d(xi, w, b, stride, padding, output_padding, groups, dilation)
    gy = rand(np.random.default_rng(1), tuple(y.shape), dtype)
    y.backward(ad.tensor(gy, device=device))
    return y, [y.numpy(), x.grad.numpy(), w.grad.numpy(), b.grad.numpy()]


def assert_close(got, want, dtype):
    tol = 1e-4 if dtype == np.float32 else 1e-11
    for g, r in zip(got, want):
        assert g.shape == r.shape and g.dtype == r.dtype
        np.testing.assert_allclose(g, r, rtol=tol, atol=tol * (1 + np.abs(r).max()))


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_conv_transpose2d_vs_numpy(case, dtype, simd):
    y, got = run(case, dtype, "cpp")
    assert type(y.grad_fn).__name__ == "ConvTranspose2d"  # the one-kernel path ran
    assert_close(got, run(case, dtype, "cpu")[1], dtype)


@pytest.mark.parametrize("threads", [1, 2])
def test_conv_transpose2d_threads_and_strided_input(threads, dtype):
    case = ((4, 6, 9, 14), (5, 3, 3), (2, 2), (1, 1), (1, 1), (1, 1), 2)
    views = (None, lambda x: x[::2, :, 1:, 1::2], lambda x: x.transpose(2, 3).transpose(2, 3))
    with num_threads(threads):
        for view in views:
            assert_close(run(case, dtype, "cpp", view)[1], run(case, dtype, "cpu", view)[1],
                         dtype)


def test_conv_transpose2d_vs_torch():
    torch = pytest.importorskip("torch")
    case = CASES[3]
    x, w, b = tensors(case, np.float32, "cpp")
    y = F.conv_transpose2d(x, w, b, 2, 1, 1, 2)
    want = torch.nn.functional.conv_transpose2d(*(torch.tensor(t.numpy()) for t in (x, w, b)),
                                                stride=2, padding=1, output_padding=1, groups=2)
    np.testing.assert_allclose(y.numpy(), want.numpy(), rtol=1e-5, atol=1e-5)


def test_conv_transpose2d_empty():
    x = ad.zeros(0, 4, 5, 5, device="cpp", requires_grad=True)
    w = ad.randn(4, 3, 3, 3, device="cpp", requires_grad=True)
    y = F.conv_transpose2d(x, w, stride=2)
    assert tuple(y.shape) == (0, 3, 11, 11)
    y.sum().backward()
    assert np.all(w.grad.numpy() == 0) and x.grad.shape == x.shape
    x = ad.zeros(2, 0, 5, 5, device="cpp", requires_grad=True)  # no input channels: the bias
    w = ad.zeros(0, 3, 3, 3, device="cpp", requires_grad=True)
    b = ad.tensor([1.0, 2.0, 3.0], device="cpp", requires_grad=True)
    y = F.conv_transpose2d(x, w, b, stride=2)
    np.testing.assert_array_equal(y.numpy()[1, :, 4, 7], [1, 2, 3])
    y.sum().backward()
    np.testing.assert_array_equal(b.grad.numpy(), [242.0] * 3)


def test_conv_transpose2d_gradcheck_cpp():
    case = CASES[4]
    x, w, b = tensors(case, np.float64, "cpp")

    def f(x, w, b):
        return F.conv_transpose2d(x, w, b, (3, 2), (2, 0), (2, 1), 6)

    assert ad.autograd.gradcheck(f, (x, w, b))
    assert ad.autograd.gradgradcheck(f, (x, w, b))  # create_graph: the composite's graph


def test_conv_transpose2d_module_uses_cpp():
    m = ad.nn.ConvTranspose2d(4, 3, 3, stride=2, padding=1, output_padding=1).to("cpp")
    y = m(ad.randn(2, 4, 5, 5, device="cpp"))
    assert tuple(y.shape) == (2, 3, 10, 10) and type(y.grad_fn).__name__ == "ConvTranspose2d"


@pytest.mark.parametrize("args, match", [
    (((2, 4, 5, 5), (4, 3, 3, 3), None, (11, 11), (2, 2), (0, 0, 0, 0), (1, 1), 1), None),
    (((2, 4, 5, 5), (4, 3, 3, 3), None, (12, 11), (1, 1), (0, 0, 0, 0), (1, 1), 1),
     r"needs an input of shape \(2, 4, 10, 9\), got \(2, 4, 5, 5\)"),
    (((2, 4, 5, 5), (4, 3, 3, 3), (4,), (11, 11), (2, 2), (0, 0, 0, 0), (1, 1), 1),
     r"expected bias of shape \(3,\), got \(4,\)"),
    (((2, 4, 5, 5), (4, 3, 3, 3), None, (11, 11), (2, 2), (0, 0, 0, 0), (1, 1), 0),
     "groups must be >= 1"),
    (((2, 4, 5, 5), (4, 3, 3, 3), None, (-3, 11), (2, 2), (0, 0, 0, 0), (1, 1), 1),
     "does not fit"),
    (((2, 4, 5, 5), (4, 3, 3), None, (11, 11), (2, 2), (0, 0, 0, 0), (1, 1), 1),
     "4-D input and a 4-D weight"),
    (((2, 4, 5, 5), (4, 3, 3, 3), None, (11, 11), (2, 0), (0, 0, 0, 0), (1, 1), 1),
     "stride and dilation must be >= 1"),
])
def test_conv_transpose2d_binding_errors(args, match):
    xs, ws, bs, size, stride, pads, dil, groups = args
    x, w = np.ones(xs, np.float32), np.ones(ws, np.float32)
    b = None if bs is None else np.ones(bs, np.float32)
    if match is None:
        assert C.conv_transpose2d(x, w, b, size, stride, pads, dil, groups).shape == (2, 3, 11, 11)
        return
    with pytest.raises(ValueError, match=match):
        C.conv_transpose2d(x, w, b, size, stride, pads, dil, groups)
    with pytest.raises(TypeError, match="dtype"):
        C.conv_transpose2d(x, w.astype(np.float64), b, size, stride, pads, dil, groups)
