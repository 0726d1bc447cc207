"""``torch.distributions.geometric``'s import path; the code is in counts.py."""

from __future__ import annotations

from .counts import Geometric

__all__ = ["Geometric"]
