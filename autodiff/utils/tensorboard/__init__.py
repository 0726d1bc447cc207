"""torch.utils.tensorboard: ``SummaryWriter`` writing TensorBoard event files (no TensorFlow
or TensorBoard needed to write them; view with ``tensorboard --logdir runs``)."""

from __future__ import annotations

from .writer import SummaryWriter

__all__ = ["SummaryWriter"]
