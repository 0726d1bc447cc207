"""``torch.distributions.poisson``'s import path; the code is in counts.py."""

from __future__ import annotations

from .counts import Poisson

__all__ = ["Poisson"]
