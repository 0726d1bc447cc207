"""``torch.distributions.independent``'s import path; the code is in multivariate.py."""

from __future__ import annotations

from .multivariate import Independent

__all__ = ["Independent"]
