"""Weight normalization (Salimans & Kingma, 2016), PyTorch's hook-based API: ``weight_norm``
replaces a parameter ``w`` by ``w_g`` (magnitude) and ``w_v`` (direction) and recomputes
``w = w_g * w_v / ||w_v||`` before every forward."""

from __future__ import annotations

import warnings
from typing import TypeVar

from ...tensor import Tensor
from ..modules.module import Module
from ..parameter import Parameter

__all__ = ["WeightNorm", "weight_norm", "remove_weight_norm"]

T_module = TypeVar("T_module", bound=Module)


def norm_except_dim(v: Tensor, pow: float = 2, dim: int = 0) -> Tensor:
    """The ``pow``-norm of ``v`` over every dim but ``dim`` (kept as size 1); dim=-1: the norm
    of the whole tensor (0-d), as ``torch.norm_except_dim``."""
    if dim == -1:
        return v.norm(pow)
    dim %= v.ndim
    others = tuple(d for d in range(v.ndim) if d != dim)
    return v.norm(pow, dim=others, keepdim=True) if others else v.abs()


def _weight_norm(v: Tensor, g: Tensor, dim: int) -> Tensor:
    """w = v * g / ||v|| (norm over every dim but ``dim``); differentiable in g and v."""
    return v * (g / norm_except_dim(v, 2, dim))


def _is_lazy(t) -> bool:
    return getattr(t, "is_lazy", False)


class WeightNorm:
    """The forward pre-hook that recomputes ``module.<name>`` from ``<name>_g`` and
    ``<name>_v``."""

    def __init__(self, name: str, dim: int | None) -> None:
        self.name, self.dim = name, -1 if dim is None else dim

    def compute_weight(self, module: Module) -> Tensor:
        return _weight_norm(getattr(module, self.name + "_v"), getattr(module, self.name + "_g"),
                            self.dim)

    @staticmethod
    def apply(module: Module, name: str, dim: int | None) -> WeightNorm:
        for hook in module._forward_pre_hooks.values():
            if isinstance(hook, WeightNorm) and hook.name == name:
                raise RuntimeError(f"Cannot register two weight_norm hooks on the same "
                                   f"parameter {name}")
        fn = WeightNorm(name, dim)
        weight = module._parameters.get(name)
        if weight is None:
            raise ValueError(f"weight_norm: {type(module).__name__} has no parameter '{name}'")
        if _is_lazy(weight):
            raise ValueError("The module passed to `WeightNorm` can't have uninitialized "
                             "parameters. Make sure to run the dummy forward before applying "
                             "weight normalization")
        del module._parameters[name]
        module.register_parameter(name + "_g", Parameter(norm_except_dim(weight, 2, fn.dim).data))
        module.register_parameter(name + "_v", Parameter(weight.data))
        setattr(module, name, fn.compute_weight(module))
        module.register_forward_pre_hook(fn)
        return fn

    def remove(self, module: Module) -> None:
        weight = self.compute_weight(module)
        delattr(module, self.name)
        del module._parameters[self.name + "_g"]
        del module._parameters[self.name + "_v"]
        setattr(module, self.name, Parameter(weight.data))

    def __call__(self, module: Module, inputs) -> None:
        setattr(module, self.name, self.compute_weight(module))


def weight_norm(module: T_module, name: str = "weight", dim: int | None = 0) -> T_module:
    """Apply weight normalization to ``module.<name>``: w = g * v / ||v||.

    Deprecated in PyTorch (a FutureWarning, as there) in favour of
    ``nn.utils.parametrizations.weight_norm``.

    Args:
        module: the module holding the parameter.
        name: the parameter's name.
        dim: the dim kept by the norm (0: one norm per output row/channel); None: one norm of
            the whole tensor.

    Returns:
        The module, with parameters ``<name>_g`` (shape of the norm) and ``<name>_v`` (the
        parameter's shape) in place of ``<name>``.

    Example:
        >>> m = nn.utils.weight_norm(nn.Linear(20, 40))
        >>> m.weight_g.shape, m.weight_v.shape
        ((40, 1), (40, 20))
    """
    warnings.warn("`autodiff.nn.utils.weight_norm` is deprecated in favor of "
                  "`autodiff.nn.utils.parametrizations.weight_norm`.", FutureWarning,
                  stacklevel=2)
    WeightNorm.apply(module, name, dim)
    return module


def remove_weight_norm(module: T_module, name: str = "weight") -> T_module:
    """Undo ``weight_norm``: ``<name>`` becomes a plain parameter holding g * v / ||v||."""
    return _remove_hook(module, WeightNorm, name, "weight_norm")


def _remove_hook(module: T_module, hook_cls: type, name: str, label: str) -> T_module:
    """Remove the ``hook_cls`` forward pre-hook of parameter ``name`` (weight or spectral
    norm), restoring the plain parameter."""
    for k, hook in module._forward_pre_hooks.items():
        if isinstance(hook, hook_cls) and hook.name == name:
            hook.remove(module)
            del module._forward_pre_hooks[k]
            return module
    raise ValueError(f"{label} of '{name}' not found in {module}")
