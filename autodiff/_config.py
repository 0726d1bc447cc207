"""Every environment variable autodiff reads, read once, here.

| variable               | meaning                                                     | default |
|------------------------|-------------------------------------------------------------|---------|
| AUTODIFF_DEVICE        | default device: numpy, cpp, cuda, cuda:N or cpu             | cpu     |
| AUTODIFF_NUM_THREADS   | threads of the C++ kernels (else OMP_NUM_THREADS, else all) | -       |
| AUTODIFF_SIMD          | SIMD level of the C++ kernels: avx512, avx2, neon, scalar   | best    |
| AUTODIFF_DEBUG         | 1: log each fast-path decline once per (op, dtype, reason)  | 0       |
| AUTODIFF_TF32          | 1: allow TF32 tensor-core matmul on CUDA                    | 0       |
| AUTODIFF_MALLOC_TUNE   | 0: leave glibc malloc's thresholds alone (see backends)     | 1       |
| AUTODIFF_CONTENTION_GUARD | 0: keep every thread while other processes hold cores    | 1       |

OpenMP's GOMP_SPINCOUNT is the one variable autodiff writes: backends._import_extension sets
it to 30000 around the import of the C++ extension unless OMP_WAIT_POLICY or GOMP_SPINCOUNT
is already set.
"""

from __future__ import annotations

import os
from dataclasses import dataclass


def _int_or_none(value: str | None, name: str) -> int | None:
    if value is None or value.strip() == "":
        return None
    try:
        n = int(value)
    except ValueError:
        raise ValueError(f"{name} must be a positive integer, got {value!r}") from None
    if n < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return n


def _flag(name: str) -> bool:
    return os.environ.get(name, "0").strip().lower() in ("1", "true", "yes", "on")


def _on(name: str) -> bool:
    """A flag that is on unless set to 0 / false / no / off."""
    return os.environ.get(name, "1").strip().lower() not in ("0", "false", "no", "off")


@dataclass(frozen=True)
class Config:
    device: str
    num_threads: int | None
    simd: str | None
    debug: bool
    tf32: bool
    malloc_tune: bool
    contention_guard: bool


def _read() -> Config:
    simd = os.environ.get("AUTODIFF_SIMD", "").strip().lower() or None
    if simd is not None and simd not in ("avx512", "avx2", "neon", "scalar"):
        raise ValueError(f"AUTODIFF_SIMD must be one of avx512, avx2, neon, scalar; got {simd!r}")
    threads = _int_or_none(os.environ.get("AUTODIFF_NUM_THREADS"), "AUTODIFF_NUM_THREADS")
    if threads is None:
        threads = _int_or_none(os.environ.get("OMP_NUM_THREADS"), "OMP_NUM_THREADS")
    return Config(
        device=os.environ.get("AUTODIFF_DEVICE", "").strip() or "cpu",
        num_threads=threads,
        simd=simd,
        debug=_flag("AUTODIFF_DEBUG"),
        tf32=_flag("AUTODIFF_TF32"),
        malloc_tune=_on("AUTODIFF_MALLOC_TUNE"),
        contention_guard=_on("AUTODIFF_CONTENTION_GUARD"),
    )


config = _read()
