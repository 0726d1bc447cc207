"""``torch.distributions.beta``'s import path; the code is in continuous.py."""

from __future__ import annotations

from .continuous import Beta

__all__ = ["Beta"]
