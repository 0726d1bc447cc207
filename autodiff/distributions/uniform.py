"""``torch.distributions.uniform``'s import path; the code is in continuous.py."""

from __future__ import annotations

from .continuous import Uniform

__all__ = ["Uniform"]
