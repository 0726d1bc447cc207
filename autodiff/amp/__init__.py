"""``ad.amp``: automatic mixed precision, as ``torch.amp``.

``autocast(device_type)`` runs matmuls and convolutions in float16 and losses in float32
inside a region (see ``autocast_mode``); ``GradScaler`` scales the loss so float16 gradients
do not underflow and skips steps whose gradients overflow (see ``grad_scaler``).

    scaler = ad.amp.GradScaler("cpu")
    with ad.autocast("cpu"):
        loss = F.cross_entropy(model(x), y)
    scaler.scale(loss).backward()
    scaler.step(opt)
    scaler.update()
"""

from __future__ import annotations

from .autocast_mode import (
    autocast,
    custom_bwd,
    custom_fwd,
    get_autocast_dtype,
    is_autocast_available,
    is_autocast_enabled,
)
from .grad_scaler import GradScaler, OptState

__all__ = [
    "GradScaler",
    "OptState",
    "autocast",
    "custom_bwd",
    "custom_fwd",
    "get_autocast_dtype",
    "is_autocast_available",
    "is_autocast_enabled",
]
