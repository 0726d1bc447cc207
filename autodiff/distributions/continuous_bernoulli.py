"""``torch.distributions.continuous_bernoulli``'s import path; the code is in
continuous_extra.py."""

from __future__ import annotations

from .continuous_extra import ContinuousBernoulli

__all__ = ["ContinuousBernoulli"]
