"""``torch.distributions.von_mises``'s import path; the code is in continuous_extra.py."""

from __future__ import annotations

from .continuous_extra import VonMises

__all__ = ["VonMises"]
