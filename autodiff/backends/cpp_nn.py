"""nn-layer kernels of the C++ backend: conv2d forward and backward from ``autodiff._C``.

Mixed into ``CppBackend``. The C++ convolution is an implicit GEMM (csrc/kernels/conv.h):
a GEMM-style micro-kernel reads B straight from a zero-framed copy of each image, so no
(C*kh*kw, N*oh*ow) im2col matrix is written, read back, packed and transposed as in the
NumPy lowering (on the (32, 16, 32, 32) 3x3 benchmark that matrix is 20 MB, and moving it
cost more than the arithmetic). It covers every stride, dilation,
padding and group count for float32/float64 ndarrays; anything else declines to the NumPy
kernels.
"""

from __future__ import annotations

import numpy as np

_C = None  # autodiff._C, imported on first use (CppBackend() has loaded it by then)
_FLOATS = frozenset((np.dtype(np.float32), np.dtype(np.float64)))


def _ext():
    global _C
    if _C is None:
        from .. import _C as ext

        _C = ext
    return _C


class _ConvSaved:
    """What conv2d_backward needs from a C++ forward: the input itself (no im2col)."""

    __slots__ = ("x",)

    def __init__(self, x) -> None:
        self.x = x


class CppNNKernels:
    """Mixin: C++ overrides of the nn kernels of NNKernels (declining via super())."""

    def conv2d_forward(self, x, weight, bias, kernel, dilation, pads, stride, groups):
        if (type(x) is np.ndarray and type(weight) is np.ndarray and x.dtype is weight.dtype
                and x.dtype in _FLOATS and x.ndim == 4 and weight.ndim == 4
                and (bias is None or (type(bias) is np.ndarray and bias.dtype is x.dtype))):
            y = _ext().conv2d(x, weight, bias, stride, pads, dilation, groups)
            return y, _ConvSaved(x)
        self._decline("conv2d", "dtype or not an ndarray", getattr(x, "dtype", None))
        return super().conv2d_forward(x, weight, bias, kernel, dilation, pads, stride, groups)

    def conv2d_backward(self, g, cols, weight, x_shape, kernel, dilation, pads, stride, groups,
                        need_x, need_w, need_b):
        if type(cols) is not _ConvSaved:  # the forward ran in NumPy
            return super().conv2d_backward(g, cols, weight, x_shape, kernel, dilation, pads,
                                           stride, groups, need_x, need_w, need_b)
        x = cols.x
        if type(g) is not np.ndarray or g.dtype is not x.dtype:
            g = np.asarray(g, dtype=x.dtype)
        return _ext().conv2d_backward(g, x, weight, stride, pads, dilation, groups, bool(need_x),
                                      bool(need_w), bool(need_b))

    def conv_transpose2d_fits(self, x, weight) -> bool:
        """Whether conv_transpose2d (and its backward) run here: float32/64 ndarrays."""
        return (type(x) is np.ndarray and type(weight) is np.ndarray and x.dtype is weight.dtype
                and x.dtype in _FLOATS)

    def conv_transpose2d(self, x, weight, bias, size, dilation, pads, stride, groups):
        return _ext().conv_transpose2d(x, weight, bias, size, stride, pads, dilation, groups)

    def conv_transpose2d_backward(self, g, x, weight, dilation, pads, stride, groups, need_x,
                                  need_w, need_b):
        """(dx, dW, db) of conv_transpose2d: conv2d of g; conv2d's weight gradient with g as
        its input and x as its output gradient; g summed per channel."""
        C = _ext()
        if type(g) is not np.ndarray or g.dtype is not x.dtype:
            g = np.asarray(g, dtype=x.dtype)
        gx = C.conv2d(g, weight, None, stride, pads, dilation, groups) if need_x else None
        gw = C.conv2d_backward(x, g, weight, stride, pads, dilation, groups, False, True,
                               False)[1] if need_w else None
        gb = g.sum(axis=(0, 2, 3)) if need_b else None
        return gx, gw, gb

    def lerp_along(self, x, axis, lo, hi, frac):  # one C++ pass (NumPy: two takes, 3 passes)
        if type(x) is np.ndarray and x.dtype in _FLOATS:
            return _ext().lerp_rows(x, axis, lo, hi, frac)
        return super().lerp_along(x, axis, lo, hi, frac)

    def lerp_along_backward(self, g, axis, lo, hi, frac, n):
        if type(g) is np.ndarray and g.dtype in _FLOATS:
            return _ext().lerp_rows_backward(g, axis, lo, hi, frac, n)
        return super().lerp_along_backward(g, axis, lo, hi, frac, n)
