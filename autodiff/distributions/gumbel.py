"""``torch.distributions.gumbel``'s import path; the code is in transformed.py."""

from __future__ import annotations

from .transformed import Gumbel

__all__ = ["Gumbel"]
