"""Utilities: activation checkpointing and (autodiff.utils.data) data loading."""

from __future__ import annotations

from .checkpoint import checkpoint  # noqa: F401
from . import data, hooks  # noqa: E402,F401
