"""``torch.distributions.dirichlet``'s import path; the code is in discrete.py."""

from __future__ import annotations

from .discrete import Dirichlet

__all__ = ["Dirichlet"]
