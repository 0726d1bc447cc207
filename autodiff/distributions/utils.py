"""``autodiff.distributions.utils``: the helpers of ``torch.distributions.utils`` that user
code imports (broadcasting parameters, probs/logits conversion, triangular packing)."""

from __future__ import annotations

from ..tensor import Tensor
from ._transforms_structured import tril_matrix_to_vec, vec_to_tril_matrix
from .discrete import _clamp_probs
from .distribution import broadcast_all, lazy_property

__all__ = [
    "broadcast_all",
    "clamp_probs",
    "euler_constant",
    "lazy_property",
    "logits_to_probs",
    "probs_to_logits",
    "tril_matrix_to_vec",
    "vec_to_tril_matrix",
]

euler_constant = 0.57721566490153286060


def clamp_probs(probs: Tensor) -> Tensor:
    """probs clamped to [eps, 1 - eps] of their dtype."""
    return _clamp_probs(probs)


def logits_to_probs(logits: Tensor, is_binary: bool = False) -> Tensor:
    """sigmoid(logits) if binary, else softmax over the last dim."""
    return logits.sigmoid() if is_binary else logits.softmax(-1)


def probs_to_logits(probs: Tensor, is_binary: bool = False) -> Tensor:
    """log p - log(1 - p) if binary, else log p (probs clamped away from 0 and 1)."""
    p = _clamp_probs(probs)
    return p.log() - (-p).log1p() if is_binary else p.log()
