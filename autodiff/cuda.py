"""``ad.cuda``: whether a CUDA GPU (through CuPy) can be used here."""

from __future__ import annotations

from . import backends


def is_available() -> bool:
    """True when CuPy imports and sees a GPU; False (never an exception) otherwise."""
    try:
        return backends.cuda_unavailable_reason() is None
    except Exception:
        return False


def device_count() -> int:
    try:
        return backends.cuda_device_count()
    except Exception:
        return 0


def unavailable_reason() -> str | None:
    """Why CUDA cannot be used here (None when it can)."""
    return backends.cuda_unavailable_reason()


def synchronize(device=None) -> None:
    if is_available():
        import cupy

        cupy.cuda.Device(0 if device is None else int(str(device).split(":")[-1])).synchronize()


def manual_seed(seed: int) -> None:
    """All random numbers come from one host generator; this seeds it."""
    from .random import manual_seed as _seed

    _seed(seed)


manual_seed_all = manual_seed


def __getattr__(name: str):
    """``ad.cuda.amp``: torch.cuda.amp's deprecated ``autocast``/``GradScaler`` aliases."""
    if name == "amp":
        from .amp._aliases import cuda_amp

        return cuda_amp
    raise AttributeError(f"module 'autodiff.cuda' has no attribute {name!r}")
