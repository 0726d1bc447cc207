"""``python -m autodiff.info``: version, devices, SIMD level, threads, CuPy/CUDA, BLAS."""

from __future__ import annotations

import platform

import numpy as np

from . import __version__, backends
from .device import available_devices, get_default_device


def simd_level() -> str | None:
    """The SIMD level the C++ kernels run ('avx2', 'scalar', ...), or None without them."""
    if backends.cpp_unavailable_reason() is not None:
        return None
    from . import _C

    return _C.simd_level()


def _blas() -> str:
    try:
        from threadpoolctl import threadpool_info

        libs = [f"{i['internal_api']} {i.get('version') or ''} ({i.get('architecture') or '?'}, "
                f"{i['num_threads']} threads)" for i in threadpool_info() if i["user_api"] == "blas"]
        if libs:
            return "; ".join(libs)
    except ImportError:
        pass
    cfg = getattr(np, "show_config", None)
    try:
        info = np.__config__.CONFIG["Build Dependencies"]["blas"]  # numpy >= 1.26
        return f"{info.get('name')} {info.get('version')}"
    except (AttributeError, KeyError, TypeError):
        return "unknown" if cfg is None else "see numpy.show_config()"


def _cuda() -> str:
    reason = backends.cuda_unavailable_reason()
    if reason is not None:
        return f"not available ({reason})"
    import cupy

    names = []
    for i in range(backends.cuda_device_count()):
        props = cupy.cuda.runtime.getDeviceProperties(i)
        names.append(props["name"].decode() if isinstance(props["name"], bytes) else props["name"])
    return (f"CuPy {cupy.__version__}, CUDA runtime {cupy.cuda.runtime.runtimeGetVersion()}, "
            f"GPUs: {', '.join(names)}")


def summary_line() -> str:
    level = simd_level()
    return (f"autodiff {__version__} | devices: {', '.join(available_devices())} | "
            f"simd: {level or 'n/a (no C++ extension)'} | numpy {np.__version__}")


def report() -> str:
    lines = [
        f"autodiff          {__version__}",
        f"python            {platform.python_version()} ({platform.machine()})",
        f"numpy             {np.__version__}",
        f"devices           {', '.join(available_devices())}",
        f"default device    {get_default_device()}",
    ]
    reason = backends.cpp_unavailable_reason()
    if reason is None:
        from . import _C

        lines.append(f"C++ extension     SIMD {_C.simd_level()} (supported: "
                     f"{', '.join(_C.supported_simd_levels())}), threads {_C.get_num_threads()}, "
                     f"OpenMP {'yes' if _C.has_openmp else 'no'}, contention guard "
                     f"{'on' if _C.contention_guard() else 'off'}")
    else:
        lines.append(f"C++ extension     not available: {reason}")
    lines.append(f"CUDA              {_cuda()}")
    lines.append(f"BLAS (numpy)      {_blas()}")
    return "\n".join(lines)


def main() -> None:
    print(report())


if __name__ == "__main__":
    main()
