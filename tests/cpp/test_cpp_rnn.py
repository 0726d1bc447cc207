"""The C++ LSTM and GRU layers (``_C.lstm_forward`` / ``_C.lstm_backward`` behind CppBackend's
``_lstm_forward`` / ``_lstm_backward``, ``_C.gru_*`` behind ``rnn_forward`` / ``rnn_backward``)
against the NumPy backend's time loop."""

from __future__ import annotations

import numpy as np
import pytest
from cpp_helpers import C

cpp_backend = pytest.importorskip("autodiff.backends.cpp_backend")
import autodiff as ad
from autodiff import nn
from autodiff.backends.numpy_backend import NumpyBackend

CPP = cpp_backend.CppBackend()
REF = NumpyBackend()

# (L, N, H): odd hidden sizes around the micro-kernel widths, batch 1, seq 1, H > KC (256)
# so that the K blocking of both GEMMs runs, and the last two big enough for 2 threads.
VARIANTS = [(False, True), (True, False)]  # each direction, each bias setting
SHAPES = [(3, 2, 1), (4, 3, 3), (5, 1, 17), (1, 4, 33), (2, 7, 16), (2, 3, 300), (3, 13, 200)]


def tol(dtype):
    return {"rtol": 1e-4, "atol": 2e-5} if dtype == np.float32 else {"rtol": 1e-10, "atol": 1e-11}


def case(shape, dtype, bias, seed=0):
    n_steps, n, hid = shape
    rng = np.random.default_rng(seed)
    xproj = rng.standard_normal((n_steps, n, 4 * hid)).astype(dtype)
    h0, c0 = (rng.standard_normal((n, hid)).astype(dtype) for _ in range(2))
    w_hh = (rng.standard_normal((4 * hid, hid)) / np.sqrt(hid)).astype(dtype)
    b_hh = rng.standard_normal(4 * hid).astype(dtype) if bias else None
    gy = rng.standard_normal((n_steps, n, 2 * hid)).astype(dtype)
    return xproj, h0, c0, w_hh, b_hh, gy


def close(got, want, dtype):
    assert got.shape == want.shape and got.dtype == want.dtype == dtype
    np.testing.assert_allclose(got, want, **tol(dtype))


@pytest.mark.parametrize("shape", SHAPES, ids=[f"L{s[0]}-N{s[1]}-H{s[2]}" for s in SHAPES])
@pytest.mark.parametrize(("reverse", "bias"), VARIANTS, ids=["fwd-bias", "rev-nobias"])
def test_lstm_matches_numpy(simd, dtype, shape, reverse, bias):
    xproj, h0, c0, w_hh, b_hh, gy = case(shape, dtype, bias)
    y, cache = CPP._lstm_forward(xproj, h0, c0, w_hh, b_hh, reverse)
    y_ref, cache_ref = REF._lstm_forward(xproj, h0, c0, w_hh, b_hh, reverse)
    close(y, y_ref, dtype)
    for got, want in zip(cache, cache_ref):  # the same cache layout: (gates, tanh(c))
        close(got, want, dtype)
    grads = CPP._lstm_backward(gy, y, cache, h0, c0, w_hh, reverse)
    grads_ref = REF._lstm_backward(gy, y_ref, cache_ref, h0, c0, w_hh, reverse)
    assert len(grads) == len(grads_ref) == 5  # d xproj, d h0, d c0, d w_hh, d b_hh
    for got, want in zip(grads, grads_ref):
        close(got, want, dtype)


@pytest.mark.parametrize("shape", SHAPES, ids=[f"L{s[0]}-N{s[1]}-H{s[2]}" for s in SHAPES])
@pytest.mark.parametrize(("reverse", "bias"), VARIANTS, ids=["fwd-bias", "rev-nobias"])
def test_gru_matches_numpy(simd, dtype, shape, reverse, bias):
    hid = shape[2]
    xproj, h0, _, w_hh, b_hh, gy = case(shape, dtype, bias)
    xproj, w_hh, gy = xproj[..., : 3 * hid], w_hh[: 3 * hid], gy[..., :hid]
    b_hh = None if b_hh is None else b_hh[: 3 * hid]
    y, cache = CPP.rnn_forward("GRU", xproj, h0, None, w_hh, b_hh, reverse)
    y_ref, cache_ref = REF.rnn_forward("GRU", xproj, h0, None, w_hh, b_hh, reverse)
    close(y, y_ref, dtype)
    for got, want in zip(cache, cache_ref):  # (gates [r, z, n], n part of h W_hh^T + b_hh)
        close(got, want, dtype)
    grads = CPP.rnn_backward("GRU", gy, y, cache, h0, None, w_hh, reverse)
    grads_ref = REF.rnn_backward("GRU", gy, y_ref, cache_ref, h0, None, w_hh, reverse)
    assert grads[2] is None and grads_ref[2] is None
    for got, want in zip(grads[:2] + grads[3:], grads_ref[:2] + grads_ref[3:]):
        close(got, want, dtype)


def test_lstm_fast_path_runs(monkeypatch):
    """float32 contiguous inputs never reach the NumPy loop on "cpp"."""

    def refuse(*args):
        raise AssertionError("the NumPy LSTM loop ran")

    for name in ("_lstm_forward", "_lstm_backward", "rnn_forward", "rnn_backward"):
        monkeypatch.setattr(NumpyBackend, name, refuse)
    xproj, h0, c0, w_hh, b_hh, gy = case((3, 2, 5), np.float32, True)
    y, cache = CPP._lstm_forward(xproj, h0, c0, w_hh, b_hh, False)
    CPP._lstm_backward(gy, y, cache, h0, c0, w_hh, False)
    y, cache = CPP.rnn_forward("GRU", xproj[..., :15], h0, None, w_hh[:15], b_hh[:15], False)
    CPP.rnn_backward("GRU", gy[..., :5], y, cache, h0, None, w_hh[:15], False)


def test_lstm_views_and_declines(dtype):
    """Strided views are copied in the binding; float16 declines to the NumPy loop."""
    xproj, h0, c0, w_hh, b_hh, gy = case((3, 4, 6), dtype, True)
    wide = np.zeros((3, 8, 48), dtype)
    wide[:, ::2, ::2] = xproj
    w_t = np.ascontiguousarray(w_hh.T).T  # Fortran-ordered W_hh
    y, cache = CPP._lstm_forward(wide[:, ::2, ::2], h0, c0, w_t, b_hh, False)
    y_ref, cache_ref = REF._lstm_forward(xproj, h0, c0, w_hh, b_hh, False)
    close(y, y_ref, dtype)
    gy_b = np.broadcast_to(gy[:1], gy.shape)  # zero strides, as sum()'s backward gives
    for got, want in zip(
        CPP._lstm_backward(gy_b, y, cache, h0, c0, w_t, False),
        REF._lstm_backward(gy_b, y_ref, cache_ref, h0, c0, w_hh, False),
    ):
        close(got, want, dtype)
    half = [a.astype(np.float16) for a in (xproj, h0, c0, w_hh, b_hh)]
    y16, _ = CPP._lstm_forward(*half, False)
    assert y16.dtype == np.float16


def test_lstm_binding_errors():
    xproj, h0, c0, w_hh, b_hh, gy = case((2, 3, 4), np.float32, True)
    with pytest.raises(
        ValueError,
        match=r"lstm_forward: expected h0 of shape \(3, 4\), got "
        r"\(3, 5\)",
    ):
        C.lstm_forward(xproj, np.zeros((3, 5), np.float32), c0, w_hh, b_hh)
    with pytest.raises(
        ValueError,
        match=r"expected xproj of shape \(L, N, 4\*H\), got \(2, 3, "
        r"15\)",
    ):
        C.lstm_forward(xproj[..., :15], h0, c0, w_hh, b_hh)
    with pytest.raises(ValueError, match=r"expected b_hh of shape \(16,\), got \(15,\)"):
        C.lstm_forward(xproj, h0, c0, w_hh, b_hh[:15])
    with pytest.raises(ValueError, match=r"expected w_hh of shape \(16, 4\)"):
        C.lstm_forward(xproj, h0, c0, w_hh.T, b_hh)
    with pytest.raises(TypeError, match="same dtype"):
        C.lstm_forward(xproj, h0.astype(np.float64), c0, w_hh, b_hh)
    with pytest.raises(TypeError, match="float32 or float64"):
        C.lstm_forward(xproj.astype(np.int32), h0, c0, w_hh, b_hh)
    y, act, tc = C.lstm_forward(xproj, h0, c0, w_hh, b_hh)
    with pytest.raises(ValueError, match=r"lstm_backward: expected gy of shape \(2, 3, 8\)"):
        C.lstm_backward(gy[:1], y, act, tc, h0, c0, w_hh)
    with pytest.raises(ValueError, match=r"expected tc of shape \(2, 3, 4\)"):
        C.lstm_backward(gy, y, act, tc[:, :2], h0, c0, w_hh)
    with pytest.raises(ValueError, match=r"gru_forward: expected xproj of shape \(L, N, 3\*H\)"):
        C.gru_forward(xproj[..., :13], h0, w_hh[:12])
    with pytest.raises(ValueError, match=r"gru_forward: expected w_hh of shape \(12, 4\)"):
        C.gru_forward(xproj[..., :12], h0, w_hh)
    y, act, hn = C.gru_forward(xproj[..., :12], h0, w_hh[:12])
    with pytest.raises(ValueError, match=r"gru_backward: expected hn of shape \(2, 3, 4\)"):
        C.gru_backward(gy[..., :4], y, act, hn[:1], h0, w_hh[:12])


def test_lstm_empty():
    xproj, h0, c0, w_hh, b_hh, _ = case((0, 3, 4), np.float32, True)
    y, act, tc = C.lstm_forward(xproj, h0, c0, w_hh, b_hh)
    assert y.shape == (0, 3, 8) and act.shape == (0, 3, 16) and tc.shape == (0, 3, 4)
    dx, dh0, dc0, dw, db = C.lstm_backward(
        np.zeros((0, 3, 8), np.float32), y, act, tc, h0, c0, w_hh
    )
    assert dx.shape == (0, 3, 16)
    for g in (dh0, dc0, dw, db):
        assert not g.any()
    y, _, _ = C.lstm_forward(np.zeros((2, 0, 16), np.float32), h0[:0], c0[:0], w_hh, b_hh)
    assert y.shape == (2, 0, 8)


@pytest.mark.parametrize(
    "kw", [{"num_layers": 2, "bidirectional": True}, {"bias": False}], ids=["2l-bi", "nobias"]
)
@pytest.mark.parametrize("cls", ["LSTM", "GRU"])
def test_nn_rnn_cpp_matches_numpy(dtype, kw, cls):
    """nn.LSTM / nn.GRU end to end: outputs and every gradient agree on "cpp" and "numpy"."""
    results = []
    for dev in ("numpy", "cpp"):
        ad.manual_seed(3)
        m = getattr(nn, cls)(5, 17, **kw)
        m.to(ad.float32 if dtype == np.float32 else ad.float64).to(dev)
        x = ad.tensor(
            np.random.default_rng(4).standard_normal((6, 3, 5)).astype(dtype),
            device=dev,
            requires_grad=True,
        )
        out, state = m(x)
        h, c = state if cls == "LSTM" else (state, state)
        (out.sum() + (h * h).sum() + c.sum()).backward()
        results.append(
            [out.numpy(), h.numpy(), c.numpy(), x.grad.numpy()]
            + [p.grad.numpy() for p in m.parameters()]
        )
    for got, want in zip(results[1], results[0]):
        close(got, want, dtype)


@pytest.mark.parametrize("kw", [{"bidirectional": True}, {"bias": False}], ids=["bi", "nobias"])
def test_nn_lstm_cpp_gradcheck(kw):
    m = nn.LSTM(2, 3, **kw).to(ad.float64).to("cpp")
    x = ad.tensor(
        np.random.default_rng(5).standard_normal((3, 2, 2)), device="cpp", requires_grad=True
    )
    dirs = 2 if kw.get("bidirectional") else 1
    h0, c0 = (
        ad.tensor(
            np.random.default_rng(k).standard_normal((dirs, 2, 3)), device="cpp", requires_grad=True
        )
        for k in (6, 7)
    )
    assert ad.autograd.gradcheck(lambda x, h, c: m(x, (h, c))[0], (x, h0, c0))


def test_nn_gru_cpp_gradcheck():
    m = nn.GRU(2, 3, bidirectional=True).to(ad.float64).to("cpp")
    x = ad.tensor(
        np.random.default_rng(5).standard_normal((3, 2, 2)), device="cpp", requires_grad=True
    )
    h0 = ad.tensor(
        np.random.default_rng(6).standard_normal((2, 2, 3)), device="cpp", requires_grad=True
    )
    assert ad.autograd.gradcheck(lambda x, h: m(x, h)[0], (x, h0))
