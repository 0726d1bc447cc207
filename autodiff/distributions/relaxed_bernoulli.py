"""``torch.distributions.relaxed_bernoulli``'s import path; the code is in relaxed.py."""

from __future__ import annotations

from .relaxed import LogitRelaxedBernoulli, RelaxedBernoulli

__all__ = ["LogitRelaxedBernoulli", "RelaxedBernoulli"]
