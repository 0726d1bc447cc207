"""Parity cases for the CuPy backend's kernels, shared by the GPU tests (real CuPy) and the
CPU emulation tests (a NumPy stand-in for CuPy that runs the kernels' contracts in NumPy).

A case calls one backend method on arrays and returns an array or a tuple of arrays; it runs
once on the NumPy reference backend with host arrays and once on the backend under test with
the same values moved there by ``put`` (layouts: contiguous, transposed view, strided slice),
and the results must agree.
"""

from __future__ import annotations

import numpy as np

from autodiff.backends.cuda_kernels import reference
from autodiff.backends.numpy_backend import NumpyBackend

REF = NumpyBackend()
TOL = {np.float32: {"rtol": 2e-5, "atol": 2e-6}, np.float64: {"rtol": 1e-12, "atol": 1e-13}}


def make(rng, shape, dtype, layout, put):
    """(host array, device array) with equal values; the device one in ``layout``."""
    if layout == "T" and len(shape) >= 2:
        host = rng.standard_normal(shape[:-2] + (shape[-1], shape[-2])).astype(dtype)
        return host.swapaxes(-1, -2), put(host).swapaxes(-1, -2)
    if layout == "sliced" and len(shape) >= 1:
        host = rng.standard_normal(shape[:-1] + (2 * shape[-1],)).astype(dtype)
        return host[..., ::2], put(host)[..., ::2]
    host = rng.standard_normal(shape).astype(dtype)
    return host, put(host)


def softmax_case(fn, shape, axis):
    def run(b, x):
        return getattr(b, fn)(x, axis % x.ndim)
    return f"{fn}{shape}ax{axis}", run, [shape]


def softmax_bwd_case(fn, shape, axis, log):
    def run(b, x, g):
        y = (b.log_softmax if log else b.softmax)(x, axis % x.ndim)
        return getattr(b, fn)(y, g, axis % x.ndim)
    return f"{fn}{shape}ax{axis}", run, [shape, shape]


def layer_norm_case(shape, nd, affine):
    pshape = shape[len(shape) - nd:]

    def run(b, x, w, bias, g):
        w, bias = (w, bias) if affine else (None, None)
        y, mean, rstd = b.layer_norm(x, w, bias, nd, 1e-5)
        gx, gw, gb = b.layer_norm_backward(g, x, mean, rstd, w, nd)
        return (y, mean, rstd, gx) + ((gw, gb) if affine else ())
    return f"layer_norm{shape}nd{nd}{'affine' if affine else ''}", run, [shape, pshape, pshape,
                                                                         shape]


def bn_case(shape):
    axes = (0,) + tuple(range(2, len(shape)))

    def run(b, x):
        return b.batch_norm_stats(x, axes)
    return f"batch_norm_stats{shape}", run, [shape]


def sum_to_case(gshape, shape):
    def run(b, g):
        return b.sum_to(g, shape)
    return f"sum_to{gshape}->{shape}", run, [gshape]


def mul_sum_to_case(gshape, shape):
    def run(b, g, h):
        if hasattr(b, "mul_sum_to"):
            return b.mul_sum_to(g, h, shape)
        return b.sum_to(g * h, shape)
    return f"mul_sum_to{gshape}->{shape}", run, [gshape, gshape]


def ce_case(rows, c, ignore=-100):
    def run(b, x, gl):
        xp = b.xp
        t = xp.asarray((np.arange(rows) * 7) % max(c, 1), dtype=np.int64)
        if rows > 2:
            t[1] = ignore
        fwd = getattr(b, "cross_entropy", None)
        if fwd is None:  # the reference, written with the NumPy backend
            loss, stats = reference.cross_entropy(b, x, t, ignore)
            return loss, stats, reference.cross_entropy_backward(b, x, t, stats, gl, ignore)
        loss, stats = fwd(x, t, ignore)
        return loss, stats, b.cross_entropy_backward(x, t, stats, gl, ignore)
    return f"cross_entropy{rows}x{c}", run, [(rows, c), (rows,)]


def pointwise_case(method, shape, word=None):
    """A fused activation (or its gradient) of cuda_pointwise.py; ``word`` its mode."""
    words = () if word is None else (word,)

    def run(b, x, g):
        if method == "output_backward":
            y = {"sigmoid": b.sigmoid, "tanh": b.tanh, "sqrt": lambda a: b.sqrt(abs(a))}[word](x)
            return b.output_backward(word, y, g)
        return getattr(b, method)(*((x, g) if method.endswith("_backward") else (x,)), *words)
    return f"{method}{shape}{word or ''}", run, [shape, shape]


def max_pool_case(shape, kernel, dilation, pads, stride):
    """Max pooling forward (values, in-window argmax) and its scatter backward."""
    def run(b, x):
        y, idx = b.max_pool2d(x, kernel, dilation, pads, stride)
        g = b.xp.ascontiguousarray(y * 3 + 1)
        return y, idx, b.max_pool2d_scatter(g, idx, shape[2:], kernel, dilation, pads, stride)
    return f"max_pool2d{shape}k{kernel}d{dilation}p{pads}s{stride}", run, [shape]


CASES = [
    *(softmax_case(fn, s, ax) for fn in ("softmax", "log_softmax")
      for s, ax in [((7, 33), -1), ((1, 1), -1), ((3, 1000), -1), ((2, 4097), -1),
                    ((5, 6, 7), 0), ((5, 6, 7), 1), ((0, 9), -1), ((17,), 0)]),
    *(softmax_bwd_case(fn, s, ax, fn.startswith("log")) for fn in
      ("softmax_backward", "log_softmax_backward")
      for s, ax in [((7, 33), -1), ((3, 1000), -1), ((5, 6, 7), 1), ((0, 5), -1)]),
    *(layer_norm_case(s, nd, aff) for s, nd in [((4, 33), 1), ((3, 5, 7), 2), ((2, 1024), 1),
                                                 ((1, 1), 1), ((6, 4099), 1), ((300, 64), 1)]
      for aff in (True, False)),
    *(bn_case(s) for s in [(4, 3, 8, 8), (2, 5, 33), (3, 2, 2, 2), (64, 3, 40), (2, 4)]),
    *(sum_to_case(g, s) for g, s in [((5, 7), (7,)), ((5, 7), (5, 1)), ((4, 3, 50), (3, 1)),
                                     ((4, 3, 50), (1, 3, 1)), ((300, 40), (1, 40)),
                                     ((2, 3, 4), ()), ((2, 3, 4), (3, 1)), ((6, 1, 5), (1, 5)),
                                     ((2, 3, 4, 5), (3, 1, 1)), ((5, 7), (1, 1))]),
    *(mul_sum_to_case(g, s) for g, s in [((5, 7), (7,)), ((4, 3, 50), (3, 1)),
                                         ((300, 40), (40,)), ((2, 3, 4), (2, 1, 4))]),
    *(ce_case(r, c) for r, c in [(5, 7), (1, 1), (3, 1000), (64, 10), (4, 4097)]),
    *(max_pool_case(*a) for a in [
        ((2, 3, 8, 8), (2, 2), (1, 1), (0, 0, 0, 0), (2, 2)),
        ((2, 3, 9, 7), (3, 3), (1, 1), (1, 1, 1, 1), (2, 2)),
        ((1, 2, 7, 7), (2, 2), (1, 1), (0, 1, 0, 1), (2, 2)),  # ceil mode
        ((1, 2, 10, 9), (3, 2), (2, 1), (1, 1, 0, 0), (1, 2)),
        ((1, 1, 5, 5), (3, 3), (1, 1), (0, 0, 0, 0), (1, 1)),  # overlapping windows
        ((0, 2, 4, 4), (2, 2), (1, 1), (0, 0, 0, 0), (2, 2))]),
    *(pointwise_case(m, s, w) for m, w in [
        ("erf", None), ("sigmoid", None), ("silu", None), ("silu_backward", None),
        ("gelu", "none"), ("gelu", "tanh"), ("gelu_backward", "none"), ("gelu_backward", "tanh"),
        ("output_backward", "sigmoid"), ("output_backward", "tanh"), ("output_backward", "sqrt")]
      for s in [(7, 33), (1,), (0, 3), (3, 70001)]),
]


def check_case(case, backend, put, to_host, dtype, layout, seed=0):
    """Run ``case`` on the reference and on ``backend``; assert the results agree."""
    name, run, shapes = case
    rng = np.random.default_rng(seed)
    pairs = [make(rng, s, dtype, layout, put) for s in shapes]
    want = run(REF, *[h for h, _ in pairs])
    got = run(backend, *[d for _, d in pairs])
    want = want if isinstance(want, tuple) else (want,)
    got = got if isinstance(got, tuple) else (got,)
    assert len(want) == len(got), name
    for i, (w, g) in enumerate(zip(want, got)):
        g = to_host(g)
        assert g.shape == np.shape(w), f"{name}[{i}]: shape {g.shape} != {np.shape(w)}"
        assert g.dtype == np.asarray(w).dtype, f"{name}[{i}]: dtype {g.dtype} != {w.dtype}"
        # absolute tolerance relative to the output's scale: sums of many terms may cancel
        tol = TOL[dtype]
        scale = float(np.nanmax(np.abs(w))) if np.size(w) and np.isfinite(w).any() else 0.0
        np.testing.assert_allclose(g, w, err_msg=f"{name}[{i}]", equal_nan=True,
                                   rtol=tol["rtol"], atol=tol["atol"] + tol["rtol"] * scale)
