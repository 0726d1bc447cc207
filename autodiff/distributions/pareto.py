"""``torch.distributions.pareto``'s import path; the code is in transformed.py."""

from __future__ import annotations

from .transformed import Pareto

__all__ = ["Pareto"]
