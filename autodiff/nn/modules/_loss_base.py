"""Base classes of the loss layers."""

from __future__ import annotations

from ..functional._loss import _legacy
from .module import Module


class _Loss(Module):
    def __init__(self, size_average=None, reduce=None, reduction: str = "mean") -> None:
        super().__init__()
        self.reduction = _legacy(size_average, reduce, reduction)


class _WeightedLoss(_Loss):
    def __init__(self, weight=None, size_average=None, reduce=None,
                 reduction: str = "mean") -> None:
        super().__init__(size_average, reduce, reduction)
        if weight is not None:
            self.register_buffer("weight", weight)
        else:
            self.weight = None
