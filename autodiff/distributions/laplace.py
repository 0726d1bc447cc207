"""``torch.distributions.laplace``'s import path; the code is in continuous.py."""

from __future__ import annotations

from .continuous import Laplace

__all__ = ["Laplace"]
