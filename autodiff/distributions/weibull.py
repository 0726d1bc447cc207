"""``torch.distributions.weibull``'s import path; the code is in transformed.py."""

from __future__ import annotations

from .transformed import Weibull

__all__ = ["Weibull"]
