"""``torch.distributions.inverse_gamma``'s import path; the code is in transformed.py."""

from __future__ import annotations

from .transformed import InverseGamma

__all__ = ["InverseGamma"]
