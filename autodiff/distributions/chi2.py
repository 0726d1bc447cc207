"""``torch.distributions.chi2``'s import path; the code is in continuous.py."""

from __future__ import annotations

from .continuous import Chi2

__all__ = ["Chi2"]
