"""``torch.distributions.bernoulli``'s import path; the code is in discrete.py."""

from __future__ import annotations

from .discrete import Bernoulli

__all__ = ["Bernoulli"]
