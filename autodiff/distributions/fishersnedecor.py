"""``torch.distributions.fishersnedecor``'s import path; the code is in continuous_extra.py."""

from __future__ import annotations

from .continuous_extra import FisherSnedecor

__all__ = ["FisherSnedecor"]
