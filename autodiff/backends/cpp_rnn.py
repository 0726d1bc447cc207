"""LSTM and GRU layers on the C++ backend: the whole time loop in ``autodiff._C``.

``CppRnnKernels`` is mixed into ``CppBackend``. It overrides the NumPy backend's
``_lstm_forward`` / ``_lstm_backward`` with ``_C.lstm_forward`` / ``_C.lstm_backward``, which
keep the same contract: y is (L, N, 2H) [h | c], the cache is (activated gates [i, f, g, o],
tanh(c)), so either backward can consume either forward's cache. GRU layers go to
``_C.gru_forward`` / ``_C.gru_backward`` the same way (cache: gates [r, z, n] and the n part
of h W_hh^T + b_hh, as ``NNKernels.rnn_forward`` keeps them). The C++ loop packs W_hh once
and fuses each step's hidden-to-hidden GEMM with the cell (measured in docs/benchmarks.md:
the Python loop spent ~40% of an LSTM's time in per-step calls and packing). Anything else
(other dtypes, mixed dtypes, non-ndarrays) declines to the NumPy loop.
"""

from __future__ import annotations

import numpy as np

_FLOATS = frozenset((np.dtype(np.float32), np.dtype(np.float64)))


def _ext():
    from .cpp_backend import _load

    return _load()


def _same_float(*arrays) -> bool:
    """Every array is an ndarray of one float32/float64 dtype (None entries are skipped)."""
    dt = arrays[0].dtype if type(arrays[0]) is np.ndarray else None
    return dt in _FLOATS and all(
        a is None or (type(a) is np.ndarray and a.dtype is dt) for a in arrays
    )


class CppRnnKernels:
    """LSTM / GRU forward and backpropagation through time in C++ (float32 AVX2, float64
    scalar cell math)."""

    def rnn_forward(self, mode, xproj, h0, c0, w_hh, b_hh, reverse):
        if mode == "GRU":
            if _same_float(xproj, h0, w_hh, b_hh):
                y, acts, hn = _ext().gru_forward(xproj, h0, w_hh, b_hh, bool(reverse))
                return y, (acts, hn)
            self._decline("gru_forward", "dtype or not an ndarray", getattr(xproj, "dtype", None))
        return super().rnn_forward(mode, xproj, h0, c0, w_hh, b_hh, reverse)

    def rnn_backward(self, mode, gy, y, cache, h0, c0, w_hh, reverse):
        if mode == "GRU":
            if _same_float(cache[0], cache[1], gy, y, h0, w_hh):
                dx, dh0, dw, db = _ext().gru_backward(gy, y, *cache, h0, w_hh, bool(reverse))
                return dx, dh0, None, dw, db
            self._decline("gru_backward", "dtype or not an ndarray", getattr(gy, "dtype", None))
        return super().rnn_backward(mode, gy, y, cache, h0, c0, w_hh, reverse)

    def _lstm_forward(self, xproj, h0, c0, w_hh, b_hh, reverse):
        if c0 is not None and _same_float(xproj, h0, c0, w_hh, b_hh):
            y, acts, tcs = _ext().lstm_forward(xproj, h0, c0, w_hh, b_hh, bool(reverse))
            return y, (acts, tcs)
        self._decline("lstm_forward", "dtype or not an ndarray", getattr(xproj, "dtype", None))
        return super()._lstm_forward(xproj, h0, c0, w_hh, b_hh, reverse)

    def _lstm_backward(self, gy, y, cache, h0, c0, w_hh, reverse):
        acts, tcs = cache
        if c0 is not None and _same_float(acts, tcs, gy, y, h0, c0, w_hh):
            return _ext().lstm_backward(gy, y, acts, tcs, h0, c0, w_hh, bool(reverse))
        self._decline("lstm_backward", "dtype or not an ndarray", getattr(acts, "dtype", None))
        return super()._lstm_backward(gy, y, cache, h0, c0, w_hh, reverse)
