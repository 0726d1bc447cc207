"""Backend registry: device names -> Backend objects, created lazily, one per device.

A new backend is one module plus one line in ``_MODULES``.
"""

from __future__ import annotations

import ctypes
import importlib
import os
import sys
import warnings

from .._config import config

_MODULES = {
    "numpy": ("autodiff.backends.numpy_backend", "NumpyBackend"),
    "cpp": ("autodiff.backends.cpp_backend", "CppBackend"),
    "cuda": ("autodiff.backends.cupy_backend", "CupyBackend"),
}

_instances: dict = {}
_cpp_error: str | None = None
_cpp_checked = False


def cpp_unavailable_reason() -> str | None:
    """None when the C++ extension imports, else why not (warned once)."""
    global _cpp_checked, _cpp_error
    if not _cpp_checked:
        _cpp_checked = True
        try:
            _import_extension()
            importlib.import_module("autodiff.backends.cpp_backend")
        except Exception as exc:  # ImportError, or a broken build
            _cpp_error = f"{type(exc).__name__}: {exc}"
            warnings.warn(
                f"autodiff: C++ extension autodiff._C is not available ({_cpp_error}); "
                "running on the NumPy backend. Reinstall with a C++17 compiler to build it.",
                UserWarning, stacklevel=3)
    return _cpp_error


def _import_extension():
    """Import autodiff._C with a short OpenMP spin (GOMP_SPINCOUNT=30000, some tens of
    microseconds) unless the user chose a policy (OMP_WAIT_POLICY / GOMP_SPINCOUNT).
    libgomp's default spins ~300k iterations after each parallel region; on small shared
    machines the spinning workers starve every other thread (ours, OpenBLAS's, other
    processes'), which made loaded 2-core runs several times slower. A short spin still
    catches back-to-back kernels. libgomp reads the setting when the extension loads it, so
    the variable is set only around the import."""
    chosen = "OMP_WAIT_POLICY" in os.environ or "GOMP_SPINCOUNT" in os.environ
    if not chosen:
        os.environ["GOMP_SPINCOUNT"] = "30000"
    try:
        return importlib.import_module("autodiff._C")
    finally:
        if not chosen:
            del os.environ["GOMP_SPINCOUNT"]


def cuda_unavailable_reason() -> str | None:
    """None when CuPy imports and sees at least one GPU, else why not."""
    try:
        import cupy  # noqa: F401
    except Exception as exc:
        return f"CuPy is not installed or does not import ({type(exc).__name__}: {exc}); " \
               "install it with pip install 'autodiff[cuda]'"
    try:
        n = cupy.cuda.runtime.getDeviceCount()
    except Exception as exc:
        return f"CuPy found no usable CUDA driver/GPU ({type(exc).__name__}: {exc})"
    if n < 1:
        return "CuPy found no GPU"
    try:
        importlib.import_module("autodiff.backends.cupy_backend")
    except ImportError as exc:
        return f"the CuPy backend does not import ({exc})"
    return None


def cuda_device_count() -> int:
    if cuda_unavailable_reason() is not None:
        return 0
    import cupy

    return int(cupy.cuda.runtime.getDeviceCount())


def _tune_malloc() -> None:
    """Keep freed tensor memory in the process instead of returning it to the OS.

    glibc serves blocks above a (dynamic, 128 KiB-32 MiB) threshold with mmap and trims the
    heap top past 2x that threshold, so the multi-MiB arrays of every forward and backward
    pass were mapped, page-faulted in and unmapped again each step: a 2048x1024 tanh
    forward+backward took 18 ms instead of 4.7 ms on the C++ backend. A fixed 32 MiB mmap
    threshold and a 1 GiB trim threshold let the heap reuse them (as PyTorch users get from
    jemalloc). Opt out with AUTODIFF_MALLOC_TUNE=0."""
    if not config.malloc_tune or not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL("libc.so.6")
        m_trim_threshold, m_mmap_threshold = -1, -3
        libc.mallopt(m_mmap_threshold, 32 << 20)
        libc.mallopt(m_trim_threshold, 1 << 30)
    except (OSError, AttributeError):  # not glibc: nothing to tune
        pass


_tune_malloc()


def get_backend(kind: str, index: int | None = None):
    """The Backend object for a device kind ('numpy', 'cpp', 'cuda') and index."""
    key = (kind, index)
    backend = _instances.get(key)
    if backend is None:
        module_name, cls_name = _MODULES[kind]
        cls = getattr(importlib.import_module(module_name), cls_name)
        backend = _instances[key] = cls(index)
    return backend
