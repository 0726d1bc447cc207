"""Distance layers: PairwiseDistance and CosineSimilarity."""

from __future__ import annotations

from ...tensor import Tensor
from .. import functional as F
from .module import Module


class PairwiseDistance(Module):
    """||x1 - x2 + eps||_p over the last dimension.

    Args:
        p: the norm degree (2.0). eps: added to the difference (1e-6). keepdim: keep the
        reduced dimension (False).
    Shape:
        x1, x2 (N, D) or (D,) (broadcastable); output (N,) or () ((N, 1) with keepdim).
    Example:
        >>> nn.PairwiseDistance()(ad.zeros(2, 3), ad.ones(2, 3)).shape
        (2,)
    """

    def __init__(self, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False) -> None:
        super().__init__()
        self.norm, self.eps, self.keepdim = p, eps, keepdim

    def forward(self, x1: Tensor, x2: Tensor) -> Tensor:
        return F.pairwise_distance(x1, x2, self.norm, self.eps, self.keepdim)


class CosineSimilarity(Module):
    """x1 . x2 / max(||x1|| ||x2||, eps) along ``dim``.

    Args:
        dim: the dimension of the vectors (1). eps: guards the division (1e-8).
    Shape:
        x1, x2 (*_1, D, *_2) (broadcastable), output (*_1, *_2).
    """

    def __init__(self, dim: int = 1, eps: float = 1e-8) -> None:
        super().__init__()
        self.dim, self.eps = dim, eps

    def forward(self, x1: Tensor, x2: Tensor) -> Tensor:
        return F.cosine_similarity(x1, x2, self.dim, self.eps)
