"""Utilities: activation checkpointing and (autodiff.utils.data) data loading."""

from __future__ import annotations

from . import checkpoint  # noqa: F401  (a callable module: checkpoint(fn, x) as before)
from . import data, hooks  # noqa: E402,F401
