"""``torch.distributions.generalized_pareto``'s import path; the code is in continuous_extra.py."""

from __future__ import annotations

from .continuous_extra import GeneralizedPareto

__all__ = ["GeneralizedPareto"]
