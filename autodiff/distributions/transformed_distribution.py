"""``torch.distributions.transformed_distribution``'s import path; the code is in transformed.py."""

from __future__ import annotations

from .transformed import TransformedDistribution

__all__ = ["TransformedDistribution"]
