"""``nn.DataParallel`` on one device: a wrapper that forwards to ``.module`` (see __init__)."""

from __future__ import annotations

from typing import Any

from ..modules.module import Module


class DataParallel(Module):
    """Wrap ``module`` as torch's DataParallel does without GPUs: no scatter or replicas.

    Args:
        module: the model; available as ``.module``, its state_dict keys prefixed ``module.``.
        device_ids, output_device, dim: accepted for PyTorch compatibility; ``device_ids`` is
            ``[]`` afterwards, as in torch on a machine without CUDA.

    Shape:
        Whatever ``module`` takes and returns.

    Example:
        >>> model = nn.DataParallel(nn.Linear(4, 2))
        >>> list(model.state_dict())  # ['module.weight', 'module.bias']
    """

    def __init__(self, module: Module, device_ids=None, output_device=None, dim: int = 0) -> None:
        super().__init__()
        self.module = module
        self.device_ids: list = []
        self.output_device = None
        self.dim = dim

    def forward(self, *inputs: Any, **kwargs: Any) -> Any:
        return self.module(*inputs, **kwargs)


def data_parallel(module: Module, inputs: Any, device_ids=None, output_device=None, dim: int = 0,
                  module_kwargs: Any | None = None) -> Any:
    """Functional DataParallel: ``module(*inputs, **module_kwargs)`` on one device."""
    inputs = inputs if isinstance(inputs, tuple) else (inputs,)
    return module(*inputs, **(module_kwargs or {}))
