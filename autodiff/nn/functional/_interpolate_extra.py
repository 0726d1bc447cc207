"""The resampling modes ``F.interpolate`` routes here: "nearest-exact", "area" and "bicubic".

Each is separable: along every spatial dim a fixed (out, in) matrix (PyTorch's sampling
positions and weights) multiplies the input, so gradients and double backward are matmul's.
"""

from __future__ import annotations

import math

import numpy as np

from ...creation import tensor
from ...errors import ShapeError
from ...tensor import Tensor

_A = -0.75  # PyTorch's (and OpenCV's) cubic convolution coefficient


def _cubic_weights(t: float) -> list:
    """Keys' cubic convolution weights of the taps at floor - 1 .. floor + 2."""

    def near(v):  # |v| <= 1
        return ((_A + 2) * v - (_A + 3)) * v * v + 1

    def far(v):  # 1 < |v| < 2
        return ((_A * v - 5 * _A) * v + 8 * _A) * v - 4 * _A

    return [far(t + 1), near(t), near(1 - t), far(2 - t)]


def _scale(n: int, o: int, s, align_corners: bool) -> float:
    if align_corners:
        return (n - 1) / (o - 1) if o > 1 else 0.0
    return 1.0 / s if s else n / o


def _bicubic_matrix(n: int, o: int, s, align_corners: bool) -> np.ndarray:
    m, scale = np.zeros((o, n)), _scale(n, o, s, align_corners)
    for j in range(o):
        src = j * scale if align_corners else (j + 0.5) * scale - 0.5  # not clamped at 0
        i0 = math.floor(src)
        for k, w in enumerate(_cubic_weights(src - i0)):
            m[j, min(max(i0 - 1 + k, 0), n - 1)] += w  # border taps repeat the edge
    return m


def _area_matrix(n: int, o: int) -> np.ndarray:
    """Adaptive average pooling: row i averages [floor(i n / o), ceil((i + 1) n / o))."""
    m = np.zeros((o, n))
    for i in range(o):
        start, end = (i * n) // o, -(-((i + 1) * n) // o)
        m[i, start:end] = 1.0 / (end - start)
    return m


def _nearest_exact_matrix(n: int, o: int, s) -> np.ndarray:
    m, scale = np.zeros((o, n)), _scale(n, o, s, False)
    for j in range(o):
        m[j, min(math.floor((j + 0.5) * scale), n - 1)] = 1.0
    return m


def _along(x: Tensor, d: int, m: np.ndarray) -> Tensor:
    """Apply the (out, in) matrix ``m`` along dim d of x."""
    mt = tensor(m.T, dtype=x.dtype, device=x.device)
    return (x.transpose(d, -1) @ mt).transpose(d, -1)


def resample(x: Tensor, out: list, sf: list, mode: str, align_corners) -> Tensor:
    """``F.interpolate`` for mode "nearest-exact", "area" or "bicubic" (4-D input only), the
    output sizes ``out`` and scale factors ``sf`` (None: from the sizes) already resolved."""
    if mode != "bicubic" and align_corners is not None:
        raise ValueError("interpolate: align_corners option can only be set with the "
                         "interpolating modes: linear | bilinear | bicubic | trilinear")
    if mode == "bicubic" and x.ndim != 4:
        raise ShapeError(f"interpolate: mode 'bicubic' expects a 4-D input, got shape "
                         f"{tuple(x.shape)}")
    if not x.is_floating_point():
        raise TypeError(f"interpolate: mode {mode!r} expects a floating input, got "
                        f"{x.dtype.name}")
    for i, (o, s) in enumerate(zip(out, sf)):
        n = x.shape[2 + i]
        if mode == "bicubic":
            m = _bicubic_matrix(n, o, s, bool(align_corners))
        elif mode == "area":
            m = _area_matrix(n, o)
        else:
            m = _nearest_exact_matrix(n, o, s)
        x = _along(x, 2 + i, m)
    return x
