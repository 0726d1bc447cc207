"""``torch.distributions.half_cauchy``'s import path; the code is in transformed.py."""

from __future__ import annotations

from .transformed import HalfCauchy

__all__ = ["HalfCauchy"]
