"""Fused pointwise activations of the CuPy backend (cuda_kernels/pointwise.cu): erf, sigmoid,
SiLU, GELU and their gradients, each one kernel launch over the array instead of the CuPy
composite of NumpyBackend (3-8 launches and as many temporaries). Mixed into CupyBackend
ahead of NumpyBackend; it uses ``self.xp`` (CuPy), ``self.sm_count`` and ``self.kernel``, and
imports nothing from CuPy itself (tests/cuda/fake_cupy.py runs it on NumPy)."""

from __future__ import annotations

import numpy as np

_FLOATS = (np.float32, np.float64)
# string argument of a method -> the kernel's ``mode``
_MODES = {"gelu": ("none", "tanh"), "gelu_backward": ("none", "tanh"),
          "output_backward": ("sigmoid", "tanh", "sqrt")}
KERNEL_OF = {"erf": "erf_forward", "sigmoid": "sigmoid_forward", "silu": "silu_forward",
             "silu_backward": "silu_backward", "gelu": "gelu_forward",
             "gelu_backward": "gelu_backward", "output_backward": "output_backward"}


def _fused(name: str):
    """Backend method ``name``: its kernel on same-shape float arrays, else the composite."""
    modes = _MODES.get(name, ())

    def method(self, *args):
        words = [a for a in args if isinstance(a, str)]
        arrays = [a for a in args if not isinstance(a, str)]
        x = arrays[0]
        if (all(w in modes for w in words) and x.dtype in _FLOATS
                and all(a.shape == x.shape and a.dtype == x.dtype for a in arrays)):
            return self._pointwise(KERNEL_OF[name], arrays,
                                   modes.index(words[0]) if words else 0)
        return getattr(super(CudaPointwise, self), name)(*args)

    method.__name__ = method.__qualname__ = name
    return method


class CudaPointwise:
    def _pointwise(self, kernel_name, arrays, mode):
        xs = [self.xp.ascontiguousarray(a) for a in arrays]
        out = self.xp.empty_like(xs[0])
        if out.size == 0:
            return out
        grid = min(-(-out.size // 256), 32 * self.sm_count)
        self.kernel(f"{kernel_name}<{{T}}>", out.dtype)(
            (grid,), (256,), (*xs, out, np.int64(out.size), np.int32(mode)))
        return out


for _name in KERNEL_OF:
    setattr(CudaPointwise, _name, _fused(_name))
del _name
