"""``torch.distributions.negative_binomial``'s import path; the code is in counts.py."""

from __future__ import annotations

from .counts import NegativeBinomial

__all__ = ["NegativeBinomial"]
