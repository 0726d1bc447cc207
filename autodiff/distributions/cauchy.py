"""``torch.distributions.cauchy``'s import path; the code is in continuous_extra.py."""

from __future__ import annotations

from .continuous_extra import Cauchy

__all__ = ["Cauchy"]
