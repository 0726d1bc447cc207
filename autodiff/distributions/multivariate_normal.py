"""``torch.distributions.multivariate_normal``'s import path; the code is in multivariate.py."""

from __future__ import annotations

from .multivariate import MultivariateNormal

__all__ = ["MultivariateNormal"]
