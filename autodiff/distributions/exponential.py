"""``torch.distributions.exponential``'s import path; the code is in continuous.py."""

from __future__ import annotations

from .continuous import Exponential

__all__ = ["Exponential"]
