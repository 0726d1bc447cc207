"""Model-zoo tests need autodiff.nn; skip (naming the missing layer) while it is incomplete."""

from __future__ import annotations

import pytest


def need_nn(*names: str):
    """Skip unless ``autodiff.nn`` provides every layer in ``names``."""
    try:
        from autodiff import nn
    except ImportError as exc:  # pragma: no cover - only while nn is being written
        pytest.skip(f"autodiff.nn does not import: {exc}")
    missing = [n for n in names if not hasattr(nn, n)]
    if missing:
        pytest.skip(f"autodiff.nn lacks {', '.join(missing)}")
