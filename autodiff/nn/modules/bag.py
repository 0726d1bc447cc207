"""EmbeddingBag (sums, means or maxes of bags of embeddings) and MultiLabelMarginLoss."""

from __future__ import annotations

from ... import creation
from ...autograd.grad_mode import no_grad
from ...errors import ShapeError
from ...optim.sparse_adam import mark_sparse_grad
from ...tensor import Tensor
from .. import functional as F
from .. import init
from ..parameter import Parameter
from ._loss_base import _Loss
from .module import Module


class EmbeddingBag(Module):
    """Sums, means or maxes of bags of rows of a ``num_embeddings`` x ``embedding_dim`` table,
    without materializing the per-position lookups. The weight is drawn from N(0, 1); the
    padding_idx row is zero and left out of every bag.

    Args:
        num_embeddings, embedding_dim; max_norm=None, norm_type=2.0; mode="mean" ("sum",
        "max"); include_last_offset=False; padding_idx=None.

    Shape:
        input (B, L) or (M,) with offsets (B,); per_sample_weights like input (mode "sum");
        output (B, embedding_dim).

    Example:
        >>> bag = nn.EmbeddingBag(10, 3, mode="sum")
        >>> bag(ad.tensor([1, 2, 4, 5, 4]), ad.tensor([0, 2])).shape
        (2, 3)
    """

    def __init__(self, num_embeddings: int, embedding_dim: int, max_norm: float | None = None,
                 norm_type: float = 2.0, scale_grad_by_freq: bool = False, mode: str = "mean",
                 sparse: bool = False, _weight=None, include_last_offset: bool = False,
                 padding_idx: int | None = None, device=None, dtype=None) -> None:
        super().__init__()
        if padding_idx is not None:
            if not -num_embeddings <= padding_idx < num_embeddings:
                raise ValueError(f"EmbeddingBag: padding_idx {padding_idx} must be within "
                                 f"num_embeddings {num_embeddings}")
            padding_idx %= num_embeddings
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        self.max_norm, self.norm_type, self.mode = max_norm, norm_type, mode
        self.scale_grad_by_freq, self.sparse = scale_grad_by_freq, sparse
        self.include_last_offset, self.padding_idx = include_last_offset, padding_idx
        if _weight is None:
            self.weight = Parameter(creation.empty(num_embeddings, embedding_dim, device=device,
                                                   dtype=dtype))
            self.reset_parameters()
        else:
            if tuple(_weight.shape) != (num_embeddings, embedding_dim):
                raise ShapeError(f"EmbeddingBag: _weight shape {tuple(_weight.shape)} does not "
                                 f"match ({num_embeddings}, {embedding_dim})")
            self.weight = Parameter(_weight)
        if sparse:  # SparseAdam takes its (dense) gradient as row-sparse, as PyTorch's
            mark_sparse_grad(self.weight)

    def reset_parameters(self) -> None:
        init.normal_(self.weight)
        if self.padding_idx is not None:
            with no_grad():
                self.weight[self.padding_idx] = 0.0

    def forward(self, input: Tensor, offsets: Tensor | None = None,
                per_sample_weights: Tensor | None = None) -> Tensor:
        return F.embedding_bag(input, self.weight, offsets, self.max_norm, self.norm_type,
                               self.scale_grad_by_freq, self.mode, self.sparse,
                               per_sample_weights, self.include_last_offset, self.padding_idx)

    @classmethod
    def from_pretrained(cls, embeddings: Tensor, freeze: bool = True,
                        max_norm: float | None = None, norm_type: float = 2.0,
                        scale_grad_by_freq: bool = False, mode: str = "mean",
                        sparse: bool = False, include_last_offset: bool = False,
                        padding_idx: int | None = None) -> EmbeddingBag:
        """An EmbeddingBag whose weight is ``embeddings`` (2-D), frozen unless freeze=False."""
        if embeddings.ndim != 2:
            raise ValueError(f"EmbeddingBag.from_pretrained: embeddings are expected to be "
                             f"2-dimensional, got shape {tuple(embeddings.shape)}")
        rows, cols = embeddings.shape
        bag = cls(rows, cols, max_norm, norm_type, scale_grad_by_freq, mode, sparse,
                  _weight=embeddings, include_last_offset=include_last_offset,
                  padding_idx=padding_idx)
        bag.weight.requires_grad = not freeze
        return bag

    def extra_repr(self) -> str:
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.max_norm is not None:
            s += f", max_norm={self.max_norm}"
        if self.norm_type != 2:
            s += f", norm_type={self.norm_type}"
        s += f", mode='{self.mode}'"
        if self.padding_idx is not None:
            s += f", padding_idx={self.padding_idx}"
        return s


class MultiLabelMarginLoss(_Loss):
    """Multi-class multi-label hinge loss: per sample, the sum over target labels j (listed in
    the target row up to its first -1) and non-target classes i of max(0, 1 - x[j] + x[i]),
    divided by C.

    Shape:
        input (N, C) or (C,), target int64 of the same shape; output scalar, or (N,) with
        reduction "none".
    """

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.multilabel_margin_loss(input, target, reduction=self.reduction)
