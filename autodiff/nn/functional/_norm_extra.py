"""``local_response_norm``: AlexNet's normalization across neighbouring channels, composed
of a zero pad and an average pool over the channel dim (PyTorch's own formulation); and
``batch_norm``: ``autodiff.ops.norm.batch_norm`` with PyTorch's empty-batch case."""

from __future__ import annotations

from ...ops import pad
from ...ops.norm import batch_norm as _batch_norm
from ...ops.pooling import avg_pool2d
from ...tensor import Tensor


def batch_norm(input: Tensor, running_mean: Tensor | None, running_var: Tensor | None,
               weight: Tensor | None = None, bias: Tensor | None = None,
               training: bool = False, momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Batch normalization over every dim but the channel dim 1 of (N, C, *): per channel,
    y = (x - E[x]) / sqrt(Var[x] + eps) * weight + bias, with batch statistics in training
    (updating the running statistics, when given, with ``momentum``) and the running ones in
    eval mode.

    An empty input in training (N = 0, or a spatial size 0) gives an empty output and leaves
    the running statistics as they are, as PyTorch; weight and bias get zero gradients.

    Shape:
        input (N, C, *), running_mean / running_var / weight / bias (C,), output like input.
    Example:
        >>> F.batch_norm(ad.randn(4, 3), None, None, training=True).shape
        (4, 3)
    """
    if training and input.ndim >= 2 and input.numel() == 0:
        channels = (1, input.shape[1]) + (1,) * (input.ndim - 2)
        out = input.clone() if weight is None else input * weight.reshape(channels)
        return out if bias is None else out + bias.reshape(channels)
    return _batch_norm(input, running_mean, running_var, weight, bias, training, momentum, eps)


def local_response_norm(input: Tensor, size: int, alpha: float = 1e-4, beta: float = 0.75,
                        k: float = 1.0) -> Tensor:
    """b_c = a_c / (k + alpha / n * sum of a_c'^2 over the n = ``size`` channels c' around c)
    ^ beta, the window running from c - n // 2 to c + (n - 1) // 2 (zeros beyond the ends).

    Args:
        x: (N, C, *) with at least one dim after C.
        size: number of neighbouring channels in the sum; alpha, beta, k: as above.

    Returns:
        Tensor of x's shape.

    Example:
        >>> F.local_response_norm(ad.randn(2, 6, 4, 4), size=3).shape
        (2, 6, 4, 4)
    """
    x = input
    if x.ndim < 3:
        raise ValueError(f"local_response_norm: expected 3D or higher dimensionality input "
                         f"(got {x.ndim} dimensions)")
    if x.numel() == 0:
        return x
    n, c = x.shape[:2]
    sq = (x * x).reshape(n, 1, c, -1)
    sq = pad(sq, (0, 0, size // 2, (size - 1) // 2))
    div = avg_pool2d(sq, (size, 1), stride=1).reshape(tuple(x.shape))
    return x / (div * alpha + k).pow(beta)
