"""``torch.distributions.lowrank_multivariate_normal``'s import path; the code is in
multivariate_extra.py."""

from __future__ import annotations

from .multivariate_extra import LowRankMultivariateNormal

__all__ = ["LowRankMultivariateNormal"]
