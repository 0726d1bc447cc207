"""``torch.distributions.kumaraswamy``'s import path; the code is in transformed.py."""

from __future__ import annotations

from .transformed import Kumaraswamy

__all__ = ["Kumaraswamy"]
