"""``torch.distributions.lkj_cholesky``'s import path; the code is in multivariate_extra.py."""

from __future__ import annotations

from .multivariate_extra import LKJCholesky

__all__ = ["LKJCholesky"]
