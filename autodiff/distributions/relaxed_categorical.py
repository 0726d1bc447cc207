"""``torch.distributions.relaxed_categorical``'s import path; the code is in relaxed.py."""

from __future__ import annotations

from .relaxed import ExpRelaxedCategorical, RelaxedOneHotCategorical

__all__ = ["ExpRelaxedCategorical", "RelaxedOneHotCategorical"]
