"""``torch.distributions.one_hot_categorical``'s import path; the code is in
counts.py and discrete.py."""

from __future__ import annotations

from .counts import OneHotCategoricalStraightThrough
from .discrete import OneHotCategorical

__all__ = ["OneHotCategorical", "OneHotCategoricalStraightThrough"]
