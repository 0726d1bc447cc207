"""``torch.distributions.log_normal``'s import path; the code is in transformed.py."""

from __future__ import annotations

from .transformed import LogNormal

__all__ = ["LogNormal"]
