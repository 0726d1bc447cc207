"""Devices: parsing of device strings, the default device, and what is available here."""

from __future__ import annotations

import contextlib

from . import backends
from ._config import config


class Device:
    """A place tensors live: ``numpy``, ``cpp`` or ``cuda:N``. ``str(dev)`` is canonical."""

    __slots__ = ("type", "index", "_name", "backend")

    def __init__(self, type_: str, index: int | None) -> None:
        self.type = type_
        self.index = index
        self._name = type_ if index is None else f"{type_}:{index}"
        self.backend = backends.get_backend(type_, index)  # the kernels of this device

    def __str__(self) -> str:
        return self._name

    def __repr__(self) -> str:
        return f"device(type='{self.type}'" + ("" if self.index is None else f", index={self.index}") + ")"

    def __eq__(self, other) -> bool:
        if isinstance(other, Device):
            return other is self or other._name == self._name
        if isinstance(other, str):
            try:
                return device(other) is self
            except (ValueError, RuntimeError):
                return False
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._name)

    def __reduce__(self):
        return (device, (self._name,))


_cache: dict = {}


def _parse(name: str) -> tuple[str, int | None]:
    text = name.strip().lower()
    kind, _, idx = text.partition(":")
    if kind == "cpu":
        if idx:
            raise ValueError(f"device 'cpu' takes no index, got {name!r}")
        # the host device: cpp when the extension imports, unless AUTODIFF_DEVICE=numpy chose
        # NumPy as this program's CPU device (then .to("cpu") and map_location="cpu" keep
        # tensors beside the ones created by default)
        numpy_host = str(config.device).strip().lower() == "numpy"
        kind = "cpp" if backends.cpp_unavailable_reason() is None and not numpy_host else "numpy"
    if kind not in ("numpy", "cpp", "cuda"):
        raise ValueError(
            f"unknown device {name!r}; expected one of numpy, cpp, cuda, cuda:N, cpu "
            f"(available here: {', '.join(available_devices())})"
        )
    if kind != "cuda":
        if idx:
            raise ValueError(f"device {kind!r} takes no index, got {name!r}")
        return kind, None
    if not idx:
        return "cuda", 0
    if not idx.isdigit():
        raise ValueError(f"bad CUDA device index in {name!r}; expected cuda:N with N >= 0")
    return "cuda", int(idx)


def device(name) -> Device:
    """Return the Device for ``name`` (a string, a Device, or a torch-like device)."""
    if isinstance(name, Device):
        return name
    dev = _cache.get(name)
    if dev is not None:
        return dev
    if not isinstance(name, str):
        name = str(name)
    kind, index = _parse(name)
    _check_available(kind, index, name)
    key = (kind, index)
    dev = _cache.get(key)
    if dev is None:
        dev = _cache[key] = Device(kind, index)
    _cache[name] = dev
    return dev


def _check_available(kind: str, index: int | None, asked: str) -> None:
    if kind == "cpp":
        reason = backends.cpp_unavailable_reason()
        if reason is not None:
            raise RuntimeError(
                f"device {asked!r} needs the C++ extension autodiff._C, which is not available: "
                f"{reason}. Available devices: {', '.join(available_devices())}"
            )
    elif kind == "cuda":
        reason = backends.cuda_unavailable_reason()
        if reason is not None:
            raise RuntimeError(
                f"device {asked!r} is not available: {reason}. "
                f"Available devices: {', '.join(available_devices())}"
            )
        count = backends.cuda_device_count()
        if index >= count:
            raise RuntimeError(f"device {asked!r}: only {count} CUDA device(s) here")


def available_devices() -> list[str]:
    """Names of the devices usable on this machine, e.g. ['numpy', 'cpp', 'cuda:0']."""
    out = ["numpy"]
    if backends.cpp_unavailable_reason() is None:
        out.append("cpp")
    out += [f"cuda:{i}" for i in range(backends.cuda_device_count())]
    return out


_default: Device | None = None


def get_default_device() -> Device:
    """The device of tensors created without ``device=`` (AUTODIFF_DEVICE, else 'cpu')."""
    global _default
    if _default is None:
        try:
            _default = device(config.device)
        except (ValueError, RuntimeError) as exc:
            raise RuntimeError(f"AUTODIFF_DEVICE={config.device!r} cannot be used: {exc}") from None
    return _default


def set_default_device(device=None, *, name=None) -> None:
    """Set the device of tensors and modules created without ``device=`` (PyTorch's
    parameter name ``device``; ``name=`` is the one API.md gives)."""
    global _default
    if device is None and name is None:
        raise TypeError("set_default_device() missing 1 required argument: 'device'")
    _default = globals()["device"](device if name is None else name)


@contextlib.contextmanager
def default_device(name):
    """Context manager: ``with ad.default_device('numpy'): ...``."""
    global _default
    previous = get_default_device()
    _default = device(name)
    try:
        yield _default
    finally:
        _default = previous
