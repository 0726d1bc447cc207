"""``local_response_norm``: AlexNet's normalization across neighbouring channels, composed
of a zero pad and an average pool over the channel dim (PyTorch's own formulation)."""

from __future__ import annotations

from ...ops import pad
from ...ops.pooling import avg_pool2d
from ...tensor import Tensor


def local_response_norm(x: Tensor, size: int, alpha: float = 1e-4, beta: float = 0.75,
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
