"""``autodiff.nn``: the Module system, layers, losses, ``functional``, ``init`` and ``utils``
(gradient clipping, LoRA), with PyTorch's names, arguments and parameter layouts."""

from __future__ import annotations

from . import functional, init, utils
from .modules import *
from .parameter import Parameter
