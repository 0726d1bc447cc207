"""``torch.distributions.logistic_normal``'s import path; the code is in transformed.py."""

from __future__ import annotations

from .transformed import LogisticNormal

__all__ = ["LogisticNormal"]
