"""``autodiff.nn``: the Module system, layers, losses, ``functional``, ``init`` and ``utils``
(gradient clipping, LoRA), with PyTorch's names, arguments and parameter layouts."""

from __future__ import annotations

from . import functional, init, utils  # noqa: F401
from .modules import *  # noqa: F401,F403
from .parameter import Parameter  # noqa: F401
