"""``torch.distributions.categorical``'s import path; the code is in discrete.py."""

from __future__ import annotations

from .discrete import Categorical

__all__ = ["Categorical"]
