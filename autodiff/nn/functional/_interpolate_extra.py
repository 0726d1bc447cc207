"""The resampling modes ``F.interpolate`` routes here: "nearest-exact", "area" and "bicubic",
and the source index of "nearest" and "nearest-exact" (``nearest_index``).

Each is separable: along every spatial dim a fixed (out, in) matrix (PyTorch's sampling
positions and weights) multiplies the input, so gradients and double backward are matmul's;
the nearest modes gather instead (exact, and an inf stays an inf rather than inf * 0 = NaN).
"""

from __future__ import annotations

import math

import numpy as np

from ...creation import tensor
from ...dtypes import float64
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


def nearest_index(n: int, o: int, s, exact: bool, x: Tensor) -> np.ndarray:
    """The input index of each of the ``o`` outputs along a dim of ``n`` of ``x``, as PyTorch's
    CPU kernels compute it: ``floor(j * scale)`` ("nearest") or ``floor((j + 0.5) * scale)``
    ("nearest-exact"), clamped to ``n - 1``, where ``scale`` is ``1 / s`` for a given scale
    factor ``s`` (not n / o) and ``n / o`` without, the product rounded to float32 (floorf).
    For 3-D and 5-D inputs ``scale`` is in the op's math type (float64 for float64 input);
    for 4-D inputs (ATen's nearest_idx) always float32, and "nearest" copies a dim where
    o == n and takes j // 2 where o == 2 n, whatever the scale factor."""
    j = np.arange(o)
    four_d = x.ndim == 4
    if four_d and not exact and o in (n, 2 * n):
        return j if o == n else j // 2
    xp = np.float64 if x.dtype == float64 and not four_d else np.float32
    scale = xp(1.0 / s) if s else xp(n) / xp(o)
    src = (j + (0.5 if exact else 0.0)) * np.float64(scale)
    return np.minimum(np.floor(src.astype(np.float32)).astype(np.int64), n - 1)


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
            idx = nearest_index(n, o, s, True, x)
            idx = tensor(idx, device=x.device)
            x = x[(slice(None),) * (2 + i) + (idx,)]
            continue
        x = _along(x, 2 + i, m)
    return x
