"""``torch.distributions.wishart``'s import path; the code is in multivariate_extra.py."""

from __future__ import annotations

from .multivariate_extra import Wishart

__all__ = ["Wishart"]
