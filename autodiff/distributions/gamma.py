"""``torch.distributions.gamma``'s import path; the code is in continuous.py."""

from __future__ import annotations

from .continuous import Gamma

__all__ = ["Gamma"]
