"""CUDA C sources of the CuPy backend's fused kernels, and what to instantiate from them.

Each ``.cu`` file holds templated ``__global__`` kernels over the element type ``T``
(float or double). ``KERNELS`` lists, per file, the name expressions (``{T}`` stands for the
C type) that ``cupy.RawModule`` compiles with NVRTC the first time a kernel of that file and
dtype is used; the CuPy backend caches the module per (file, dtype, device). This module
imports nothing from CuPy, so tests can compile-check the sources with nvcc on any machine.
"""

from __future__ import annotations

from pathlib import Path

DIR = Path(__file__).resolve().parent
CTYPES = {"float32": "float", "float64": "double"}

KERNELS: dict = {
    "softmax.cu": tuple(f"softmax_forward<{{T}}, {log}, {cache}, {warp}>"
                        for log in ("false", "true") for cache in ("false", "true")
                        for warp in ("false", "true"))
    + tuple(f"softmax_backward<{{T}}, {log}, {cache}>" for log in ("false", "true")
            for cache in ("false", "true")),
    "layer_norm.cu": (
        "layer_norm_forward<{T}, false>", "layer_norm_forward<{T}, true>",
        "layer_norm_backward_input<{T}, false>", "layer_norm_backward_input<{T}, true>",
        "layer_norm_backward<{T}, false>", "layer_norm_backward<{T}, true>",
        "layer_norm_backward_params<{T}>",
    ),
    "reduce.cu": (
        "reduce_cols<{T}, false>", "reduce_cols<{T}, true>",
        "reduce_rcs<{T}, false>", "reduce_rcs<{T}, true>",
        "batch_norm_stats_partial<{T}>",
    ),
    "cross_entropy.cu": ("cross_entropy_forward<{T}>", "cross_entropy_backward<{T}>"),
    "pool.cu": ("max_pool2d_forward<{T}>", "max_pool2d_backward<{T}>"),
    "pointwise.cu": tuple(f"{k}<{{T}}>" for k in (
        "erf_forward", "sigmoid_forward", "silu_forward", "silu_backward", "gelu_forward",
        "gelu_backward", "output_backward")),
}

# kernel template -> the file that defines it
FILE_OF = {expr: f for f, exprs in KERNELS.items() for expr in exprs}

_sources: dict = {}


def source(file: str) -> str:
    """The text of ``file`` with ``#include "common.cuh"`` pasted in (NVRTC gets no -I)."""
    text = _sources.get(file)
    if text is None:
        common = (DIR / "common.cuh").read_text()
        text = (DIR / file).read_text().replace('#include "common.cuh"', common, 1)
        _sources[file] = text
    return text


def name_expressions(file: str, ctype: str) -> list:
    return [expr.format(T=ctype) for expr in KERNELS[file]]


def instantiation_source(file: str) -> str:
    """``file`` plus a table of the address of every kernel the backend instantiates, so a
    plain ``nvcc --ptx`` compiles (and type-checks) each template the backend will use."""
    exprs = [e for ct in CTYPES.values() for e in name_expressions(file, ct)]
    table = ",\n  ".join(f"(const void*)&{e}" for e in exprs)
    return f"{source(file)}\n\nconst void* autodiff_instantiate[] = {{\n  {table}\n}};\n"
