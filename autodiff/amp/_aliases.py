"""PyTorch's deprecated spellings: ``ad.cuda.amp.autocast/GradScaler/custom_fwd/custom_bwd``
and ``ad.cpu.amp.autocast/GradScaler``. Each warns (``FutureWarning``) and does what the
``ad.amp`` form with that device type does, as ``torch.cuda.amp`` and ``torch.cpu.amp`` do:
so a 'cuda' one without CUDA warns again and is disabled.
"""

from __future__ import annotations

import types
import warnings
from collections.abc import Callable

from .. import dtypes
from .autocast_mode import autocast, custom_bwd, custom_fwd
from .grad_scaler import GradScaler


def _deprecated(old: str, new: str) -> None:
    warnings.warn(
        f"`{old}(args...)` is deprecated. Please use `{new}` instead.", FutureWarning, stacklevel=3
    )


def _named(cls: type, module: str, name: str) -> type:
    cls.__module__, cls.__name__, cls.__qualname__ = module, name, name
    return cls


def _autocast_alias(device: str) -> type:
    """``autocast(device, ...)`` under its deprecated ``ad.<device>.amp.autocast`` name (float16
    by default on every device: autodiff has no bfloat16, PyTorch's CPU default)."""

    class Alias(autocast):
        def __init__(self, enabled: bool = True, dtype: dtypes.DType = dtypes.float16,
                     cache_enabled: bool = True) -> None:
            _deprecated(f"autodiff.{device}.amp.autocast",
                        f"autodiff.amp.autocast('{device}', args...)")
            super().__init__(device, enabled=enabled, dtype=dtype, cache_enabled=cache_enabled)

    Alias.__doc__ = f"``autodiff.amp.autocast('{device}', ...)`` under its deprecated name."
    return Alias


def _scaler_alias(device: str) -> type:
    """``GradScaler(device, ...)`` under its deprecated ``ad.<device>.amp.GradScaler`` name."""

    class Alias(GradScaler):
        def __init__(self, init_scale: float = 2.0**16, growth_factor: float = 2.0,
                     backoff_factor: float = 0.5, growth_interval: int = 2000,
                     enabled: bool = True) -> None:
            _deprecated(f"autodiff.{device}.amp.GradScaler",
                        f"autodiff.amp.GradScaler('{device}', args...)")
            super().__init__(device, init_scale, growth_factor, backoff_factor, growth_interval,
                             enabled)

    Alias.__doc__ = f"``autodiff.amp.GradScaler('{device}', ...)`` under its deprecated name."
    return Alias


def _cuda_custom_fwd(
    fwd: Callable | None = None, *, cast_inputs: dtypes.DType | None = None
) -> Callable:
    _deprecated(
        "autodiff.cuda.amp.custom_fwd", "autodiff.amp.custom_fwd(args..., device_type='cuda')"
    )
    return custom_fwd(fwd, device_type="cuda", cast_inputs=cast_inputs)


def _cuda_custom_bwd(bwd: Callable | None = None) -> Callable:
    _deprecated(
        "autodiff.cuda.amp.custom_bwd", "autodiff.amp.custom_bwd(args..., device_type='cuda')"
    )
    return custom_bwd(bwd, device_type="cuda")


cuda_amp = types.ModuleType("autodiff.cuda.amp", "torch.cuda.amp's deprecated aliases.")
cuda_amp.autocast = _named(_autocast_alias("cuda"), cuda_amp.__name__, "autocast")
cuda_amp.GradScaler = _named(_scaler_alias("cuda"), cuda_amp.__name__, "GradScaler")
cuda_amp.custom_fwd = _cuda_custom_fwd
cuda_amp.custom_bwd = _cuda_custom_bwd

cpu_amp = types.ModuleType("autodiff.cpu.amp", "torch.cpu.amp's deprecated aliases.")
cpu_amp.autocast = _named(_autocast_alias("cpu"), cpu_amp.__name__, "autocast")
cpu_amp.GradScaler = _named(_scaler_alias("cpu"), cpu_amp.__name__, "GradScaler")

cpu = types.ModuleType(
    "autodiff.cpu", "``ad.cpu``: only ``ad.cpu.amp`` (torch.cpu.amp's deprecated aliases) for now."
)
cpu.amp = cpu_amp
