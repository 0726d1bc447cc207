"""Copy kernels of the C++ backend: concatenate / stack, edge and constant padding, tril /
triu, each one threaded pass of ``autodiff._C`` over any fixed-size dtype.

Mixed into ``CppBackend``; each override declines to the NumPy kernels (``super()``) for
what it does not cover.
"""

from __future__ import annotations

import numpy as np

from .cpp_nn import _ext

MIN_COPY = 4096  # strided copies: NumPy's loop is as fast on small arrays
_EDGE_MODES = {"reflect": 0, "replicate": 1, "circular": 2}


def _pads_last2(a, widths) -> bool:
    """Whether padding ``widths`` of ndarray ``a`` touch only its last two dims (_C.edge_pad2d)."""
    return (type(a) is np.ndarray and a.ndim >= 2 and a.dtype.kind in "fiub"
            and not any(lo or hi for lo, hi in widths[:-2]))


class CppCopyKernels:
    """Mixin: C++ overrides of NumpyBackend's copy kernels."""

    def concatenate(self, arrays, axis):
        # threaded row copies (NumPy's concatenate is one thread)
        a0 = arrays[0]
        if a0.size * len(arrays) >= 4 * MIN_COPY and a0.ndim and a0.dtype.kind in "fiub" and all(
                type(a) is np.ndarray and a.dtype == a0.dtype for a in arrays):
            return _ext().concatenate(list(arrays), axis)  # (NumPy's is as fast on small arrays)
        return super().concatenate(arrays, axis)

    def stack(self, arrays, axis):
        if arrays and type(arrays[0]) is np.ndarray:  # (concatenate checks the rest)
            ax = axis + arrays[0].ndim + 1 if axis < 0 else axis
            # (a view with a new axis of 1: np.expand_dims costs ~5 us of Python)
            return self.concatenate([a.reshape(a.shape[:ax] + (1,) + a.shape[ax:])
                                     for a in arrays], ax)
        return super().stack(arrays, axis)

    def edge_pad(self, a, widths, mode: str):  # one threaded pass over the last two dims
        if _pads_last2(a, widths):
            (t, b), (lf, r) = widths[-2:]
            return _ext().edge_pad2d(a, (t, b, lf, r), _EDGE_MODES[mode])
        return super().edge_pad(a, widths, mode)

    def pad(self, a, pad_width, value):  # constant padding likewise (value in a's dtype)
        if _pads_last2(a, pad_width) and (a.dtype.kind == "f" or float(value).is_integer()):
            (t, b), (lf, r) = pad_width[-2:]
            return _ext().edge_pad2d(a, (t, b, lf, r), 3, np.asarray([value], a.dtype))
        return super().pad(a, pad_width, value)

    def tril(self, a, k):  # one threaded pass (NumPy: a mask and a where)
        return _ext().tri(a, k, False) if type(a) is np.ndarray and a.size >= MIN_COPY and \
            a.dtype.kind in "fiub" else super().tril(a, k)

    def triu(self, a, k):
        return _ext().tri(a, k, True) if type(a) is np.ndarray and a.size >= MIN_COPY and \
            a.dtype.kind in "fiub" else super().triu(a, k)
