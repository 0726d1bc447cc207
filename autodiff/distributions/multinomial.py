"""``torch.distributions.multinomial``'s import path; the code is in counts.py."""

from __future__ import annotations

from .counts import Multinomial

__all__ = ["Multinomial"]
