"""``autodiff.nn``: the Module system, layers, losses, ``functional``, ``init`` and ``utils``
(gradient clipping, LoRA), with PyTorch's names, arguments and parameter layouts."""

from __future__ import annotations

from . import functional, init, utils
from .modules import *
from .parameter import Parameter
from .parallel import DataParallel  # noqa: E402 (nn.parallel, nn.DataParallel)

# torch.nn.attention (SDPBackend, sdpa_kernel); the * import above had bound modules/attention.py
attention = __import__("importlib").import_module(".attention", __name__)
from .buffer import Buffer  # noqa: E402 (nn.Buffer: a Module attribute that registers a buffer)
from .modules.adaptive import AdaptiveLogSoftmaxWithLoss  # noqa: E402
from .modules.legacy import CrossMapLRN2d, NLLLoss2d  # noqa: E402
from .modules.rnn import RNNCellBase  # noqa: E402
