"""``torch.distributions.binomial``'s import path; the code is in counts.py."""

from __future__ import annotations

from .counts import Binomial

__all__ = ["Binomial"]
