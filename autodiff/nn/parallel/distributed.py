"""``nn.parallel.DistributedDataParallel``: raises, as torch does without a process group."""

from __future__ import annotations

from ..modules.module import Module


class ProcessGroupNotInitializedError(ValueError, RuntimeError):
    """torch raises ValueError here; it is also a RuntimeError, so either ``except`` catches it."""


class DistributedDataParallel(Module):
    """PyTorch's DDP. autodiff has no distributed backend, so no process group can exist and
    construction always raises torch's error (``init_process_group`` has not been called).

    Args:
        module: the model torch would wrap; the other arguments are accepted and unused.

    Raises:
        ProcessGroupNotInitializedError: a ValueError (torch's type) and a RuntimeError.
    """

    def __init__(self, module: Module, device_ids=None, output_device=None, dim: int = 0,
                 broadcast_buffers=None, init_sync: bool = True, process_group=None,
                 **kwargs) -> None:
        super().__init__()
        raise ProcessGroupNotInitializedError(
            "Default process group has not been initialized, please make sure to call "
            "init_process_group. (autodiff has no distributed backend: use the model "
            "directly, or nn.DataParallel, on one device.)")
