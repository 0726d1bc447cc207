"""``nn.parallel``: PyTorch's ``DataParallel`` and ``DistributedDataParallel`` wrappers.

autodiff runs a model on one device, so ``DataParallel`` behaves as torch's does on a machine
without GPUs: it holds the model as ``.module`` (state_dict keys gain a ``module.`` prefix) and
forwards to it unchanged. autodiff has no distributed backend (no ``init_process_group``), so
``DistributedDataParallel`` raises torch's "Default process group has not been initialized"
error, as torch does when no process group exists.
"""

from __future__ import annotations

from .data_parallel import DataParallel, data_parallel
from .distributed import DistributedDataParallel

__all__ = ["DataParallel", "DistributedDataParallel", "data_parallel"]
