"""PyTorch's legacy layers: ``CrossMapLRN2d`` (Lua Torch's cross-channel LRN) and
``NLLLoss2d`` (a deprecated alias of ``NLLLoss``). Neither has parameters."""

from __future__ import annotations

import warnings

import numpy as np

from ... import creation
from ...autograd.function import Function
from ...tensor import Tensor
from .loss import NLLLoss
from .module import Module

__all__ = ["CrossMapLRN2d", "NLLLoss2d"]


def _window(channels: int, size: int) -> np.ndarray:
    """(C, C) 0/1 matrix: which channels' squares PyTorch's CrossMapLRN2d sums for each c.

    Its running sum starts with channels [0, pre_pad) and removes channel c - pre_pad only
    for c > pre_pad, so channel 0 is never removed: c's window is channel 0 plus
    [c - pre_pad + 1, c + pre_pad - 1] (PyTorch's behaviour, kept for parity)."""
    pre_pad = int((size - 1) / 2 + 1)
    w = np.zeros((channels, channels))
    for c in range(channels):
        w[c, max(0, c - pre_pad + 1):min(channels, c + pre_pad)] = 1.0
        w[c, 0] = 1.0
    return w


def _back_window(channels: int, size: int) -> np.ndarray:
    """(C, C) 0/1 matrix of the channels PyTorch's backward sums for each c:
    [c - ipp, c - ipp + size - 1] with ipp = size - (size - 1) // 2."""
    ipp = int(size - (size - 1) / 2)
    w = np.zeros((channels, channels))
    for c in range(channels):
        w[c, max(0, c - ipp):max(0, min(channels, c - ipp + size))] = 1.0
    return w


class _CrossMapLRN2dFn(Function):
    """y = x * s^-beta, s = k + alpha / size * (window sums of x^2). The backward is
    PyTorch's legacy one, gy * s^-beta - 2 alpha beta / size * x * (its own window sums of
    gy * y / s), which is not the exact derivative of this forward: kept so that training
    matches PyTorch."""

    @staticmethod
    def forward(ctx, x, size, alpha, beta, k):
        n, c, h, w = x.shape
        win = creation.tensor(_window(c, size), dtype=x.dtype, device=x.device)
        scale = (win @ (x * x).reshape(n, c, h * w)).reshape(n, c, h, w) * (alpha / size) + k
        y = x * scale ** -beta
        ctx.save_for_backward(x, y, scale)
        ctx.args = size, alpha, beta
        return y

    @staticmethod
    def backward(ctx, gy):
        x, y, scale = ctx.saved_tensors
        size, alpha, beta = ctx.args
        n, c, h, w = x.shape
        if int(size - (size - 1) / 2) > size - 1:
            raise RuntimeError(f"CrossMapLRN2d: backward needs size > 1 (as PyTorch's), got "
                               f"{size}")
        win = creation.tensor(_back_window(c, size), dtype=x.dtype, device=x.device)
        ratio = (win @ (gy * y / scale).reshape(n, c, h * w)).reshape(n, c, h, w)
        return gy * scale ** -beta - x * ratio * (2 * alpha * beta / size), None, None, None, None


class CrossMapLRN2d(Module):
    """Local response normalization across channels of a 4-D input:
    y_c = x_c * (k + alpha / size * sum of x_c'^2 over c's window) ^ -beta.

    Args:
        size: channels in the window; alpha=1e-4; beta=0.75; k=1.

    Shape:
        input (N, C, H, W); output the same.

    Example:
        >>> nn.CrossMapLRN2d(3)(ad.randn(2, 5, 4, 4)).shape
        (2, 5, 4, 4)
    """

    def __init__(self, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1) -> None:
        super().__init__()
        self.size, self.alpha, self.beta, self.k = size, alpha, beta, k

    def forward(self, input: Tensor) -> Tensor:
        if input.ndim != 4:
            raise ValueError(f"CrossMapLRN2d: Expected input to be 4D, got {input.ndim}D "
                             f"instead.")
        return _CrossMapLRN2dFn.apply(input, self.size, self.alpha, self.beta, self.k)

    def extra_repr(self) -> str:
        return f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"


class NLLLoss2d(NLLLoss):
    """``NLLLoss`` under its deprecated name (constructing one warns FutureWarning)."""

    def __init__(self, weight=None, size_average=None, ignore_index: int = -100, reduce=None,
                 reduction: str = "mean") -> None:
        warnings.warn("`NLLLoss2d` has been deprecated. Please use `NLLLoss` instead as a "
                      "drop-in replacement and see https://pytorch.org/docs/main/nn.html"
                      "#torch.nn.NLLLoss for more details.", FutureWarning, stacklevel=2)
        super().__init__(weight, size_average, ignore_index, reduce, reduction)
