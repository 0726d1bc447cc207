"""``torch.distributions.normal``'s import path; the code is in continuous.py."""

from __future__ import annotations

from .continuous import Normal

__all__ = ["Normal"]
