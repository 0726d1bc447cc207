"""``torch.distributions.half_normal``'s import path; the code is in transformed.py."""

from __future__ import annotations

from .transformed import HalfNormal

__all__ = ["HalfNormal"]
