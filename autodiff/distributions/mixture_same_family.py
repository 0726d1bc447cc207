"""``torch.distributions.mixture_same_family``'s import path; the code is in
multivariate_extra.py."""

from __future__ import annotations

from .multivariate_extra import MixtureSameFamily

__all__ = ["MixtureSameFamily"]
