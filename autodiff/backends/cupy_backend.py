"""The CuPy backend ("cuda", "cuda:N"): ``cupy.ndarray`` storage on GPU N.

``CupyBackend`` is the NumPy reference backend with ``xp = cupy``: every kernel written
with ``self.xp`` runs on the GPU unchanged. On top of that it overrides
  * what CuPy spells differently: host <-> device moves, DLPack, ``owns``, scatter-adds
    (``cupy.add.at``), sorting, scalar constants, out-of-range index checks;
  * ``matmul``/``einsum`` through cuBLAS, with opt-in TF32 tensor cores (``AUTODIFF_TF32=1``
    or ``backend.tf32 = True``) for float32;
  * the hot primitives with our fused CUDA kernels (autodiff/backends/cuda_kernels/*.cu,
    compiled by NVRTC on first use and cached per (file, dtype, device)): softmax and
    log-softmax forward/backward, layer norm forward/backward, batch-norm statistics,
    ``sum_to`` (the backward of broadcasting) and its fused multiply ``mul_sum_to``,
    cross-entropy from logits, the pointwise activations (cuda_pointwise.py); and Adam's
    update as one ElementwiseKernel per parameter.
A fused kernel applies to float32/float64 inputs of non-zero size; otherwise the method
declines to the ``xp`` composite of NumpyBackend (logged once with AUTODIFF_DEBUG=1).

Random numbers are drawn on the host from the NumPy Generator of ``autodiff.random`` and
copied to the GPU (the inherited path), so ``ad.manual_seed`` gives the same numbers on every
device.

Every public method runs with GPU ``index`` current (``cupy.cuda.Device``), so allocations
and launches of ``cuda:1`` land on GPU 1 whatever device the caller made current.

Broadcast ``add``/``mul`` forward stay CuPy's elementwise kernels: those are already one
fused pass with broadcasting, and a RawKernel of ours would do the same memory traffic.
The backward side is where fusion pays, so that is where our kernels are.
"""

from __future__ import annotations

import contextlib
import functools
from math import prod as _prod

import cupy
import numpy as np

from .._config import config
from . import cuda_kernels
from .cuda_kernels import reference
from .cuda_kernels.plan import BLOCKS_PER_SM, chunking, rcs_plan, rows_grid, threads_for
from .cuda_indexing import CudaIndexing
from .cuda_pointwise import CudaPointwise
from .numpy_backend import NumpyBackend

_FLOATS = {np.dtype(np.float32): "float", np.dtype(np.float64): "double"}
_SCALARS = (bool, int, float, np.generic)
_modules: dict = {}  # (file, ctype, device) -> cupy.RawModule
_kernels: dict = {}  # (kernel template, dtype, device) -> cupy.RawKernel
_smem_opted_in: dict = {}  # same key -> dynamic shared bytes the kernel was opted in to

# Row kernels (softmax, layer norm) keep a row in shared memory when it needs at most this
# many bytes (None: the device's per-block opt-in limit), so it crosses device memory once;
# longer rows use the kernels that re-read it. Tests set 0 to exercise those.
ROW_CACHE_BYTES = None
_DEFAULT_SMEM = 48 * 1024  # dynamic shared memory a kernel gets without opting in
# Softmax forward rows of at most WARP_ROW_MAX elements go one per warp, WARP_TEAMS warps per
# block (no block-wide barriers; PyTorch does the same up to 1024); longer rows take a block.
WARP_ROW_MAX = 1024
WARP_TEAMS = 4


def kernel(template: str, dtype, device: int):
    """The compiled kernel ``template`` (e.g. ``"softmax_forward<{T}, false, true>"``) for ``dtype``
    on GPU ``device``; its file is compiled once per (dtype, device) and cached."""
    key = (template, dtype, device)
    k = _kernels.get(key)
    if k is None:
        ctype = _FLOATS[np.dtype(dtype)]
        file = cuda_kernels.FILE_OF[template]
        mkey = (file, ctype, device)
        mod = _modules.get(mkey)
        if mod is None:
            mod = _modules[mkey] = cupy.RawModule(
                code=cuda_kernels.source(file), options=("--std=c++14",),
                name_expressions=cuda_kernels.name_expressions(file, ctype))
        k = _kernels[key] = mod.get_function(template.format(T=ctype))
    return k


_i64 = np.int64


class CupyBackend(CudaIndexing, CudaPointwise, NumpyBackend):
    """CuPy storage on GPU ``index`` with fused CUDA kernels for the hot primitives."""

    name = "cuda"
    xp = cupy
    is_cpu = False
    tf32 = config.tf32  # allow TF32 tensor cores in float32 matmul (AUTODIFF_TF32=1)

    def __init__(self, index: int | None = None) -> None:
        super().__init__(0 if index is None else int(index))
        self.device = cupy.cuda.Device(self.index)
        self._sms = None
        self._optin = None

    def __repr__(self) -> str:
        return f"CupyBackend(cuda:{self.index})"

    @property
    def sm_count(self) -> int:
        if self._sms is None:
            self._sms = int(self.device.attributes["MultiProcessorCount"])
        return self._sms

    def _smem_optin(self) -> int:
        """Dynamic shared memory one block may opt in to, less room for the kernels' static
        reduction buffers."""
        if self._optin is None:
            optin = self.device.attributes.get("MaxSharedMemoryPerBlockOptin", _DEFAULT_SMEM)
            self._optin = max(int(optin) - 1024, 0)
        return self._optin

    def _row_kernel(self, template: str, dtype, n: int, arrays: int, fixed: int = 0):
        """(kernel, dynamic shared bytes) of row kernel ``template`` (with a ``{cache}`` slot)
        over rows of ``n`` elements: it caches ``arrays`` such rows per block when they fit
        (ROW_CACHE_BYTES) beside the ``fixed`` bytes every variant needs."""
        cached = arrays * n * np.dtype(dtype).itemsize
        limit = self._smem_optin()
        cache = fixed + cached <= limit and (ROW_CACHE_BYTES is None
                                             or cached <= ROW_CACHE_BYTES)
        smem = fixed + cached if cache else fixed
        tmpl = template.format(T="{T}", cache=_b(cache))
        k = kernel(tmpl, dtype, self.index)
        key = (tmpl, np.dtype(dtype), self.index)
        if smem > max(_DEFAULT_SMEM, _smem_opted_in.get(key, 0)):
            k.max_dynamic_shared_size_bytes = smem  # opt in past 48 KiB
            _smem_opted_in[key] = smem
        return k, smem

    def _blocks_per_sm(self, threads: int, smem: int) -> int:
        """Resident blocks per SM of a kernel with ``threads`` threads and ``smem`` bytes."""
        per_sm = int(self.device.attributes.get("MaxSharedMemoryPerMultiprocessor", 0))
        fit = per_sm // (smem + 1024) if smem and per_sm else 2048 // threads
        return max(1, min(2048 // threads, fit))

    def synchronize(self) -> None:
        self.device.synchronize()

    def kernel(self, template: str, dtype):
        return kernel(template, dtype, self.index)

    def _fast(self, op: str, *arrays) -> bool:
        """True when the fused kernel applies: one float32/float64 dtype, no empty array."""
        a = arrays[0]
        dt = a.dtype
        if dt not in _FLOATS:
            return self._decline(op, "dtype", dt)
        for b in arrays:
            if b is not None and (b.dtype != dt or b.size == 0):
                return self._decline(op, "mixed dtypes or empty", dt)
        return True

    # ----------------------------------------------------------------- housekeeping
    def is_array(self, obj) -> bool:
        return isinstance(obj, cupy.ndarray)

    def owns(self, a) -> bool:
        return a.base is None

    # ----------------------------------------------------------------- creation, moves
    def asarray(self, data, dtype=None):
        if isinstance(data, _SCALARS):  # a fill kernel: no synchronous host copy
            dt = np.asarray(data).dtype if dtype is None else dtype
            return cupy.full((), data, dtype=dt)
        if isinstance(data, np.ndarray):
            return self.from_numpy(data if dtype is None else data.astype(dtype, copy=False))
        return cupy.asarray(data, dtype=dtype)

    def from_numpy(self, arr):
        """Host -> device copy (the device array is C-contiguous)."""
        if isinstance(arr, cupy.ndarray):
            return arr if arr.device.id == self.index else cupy.array(arr, copy=True)
        if not arr.flags.c_contiguous:  # (np.ascontiguousarray would make 0-d arrays 1-d)
            arr = np.array(arr, order="C")
        return cupy.asarray(arr)

    def to_numpy(self, a):
        """Device -> host copy (synchronizes)."""
        return a if isinstance(a, np.ndarray) else cupy.asnumpy(a)

    def from_dlpack(self, obj):
        """Wrap a DLPack capsule or producer (CuPy, PyTorch CUDA) on this GPU, no copy."""
        arr = cupy.from_dlpack(obj)
        if arr.device.id != self.index:
            raise RuntimeError(f"from_dlpack: the array is on cuda:{arr.device.id}, "
                               f"expected cuda:{self.index}")
        return arr

    def copy(self, a):
        return a.copy()

    # ----------------------------------------------------------------- linear algebra
    @contextlib.contextmanager
    def _compute_type(self, dtype):
        """Let cuBLAS use TF32 tensor cores for this float32 call when ``tf32`` is on."""
        if not (self.tf32 and dtype == np.float32):
            yield
            return
        from cupy._core import _routines_linalg as lin

        prev = lin.get_compute_type(dtype)
        lin.set_compute_type(dtype, lin.COMPUTE_TYPE_TF32)
        try:
            yield
        finally:
            lin.set_compute_type(dtype, prev)

    def matmul(self, a, b):
        with self._compute_type(a.dtype):
            return cupy.matmul(a, b)

    def einsum(self, subscripts, *operands):
        with self._compute_type(operands[0].dtype if operands else None):
            return super().einsum(subscripts, *operands)

    # ----------------------------------------------------------------- optimizers
    def adam_update(self, data, g, m, v, vmax, beta1, beta2, step_size, inv_sqrt_bc2, eps):
        """One Adam step in place, fused into one kernel (the optimizer's ufunc sequence is 13
        launches per parameter, which bounds small models' steps by launch overhead):
        ``m += (1 - beta1) (g - m); v = beta2 v + (1 - beta2) g^2; vmax = max(vmax, v)``
        (when ``vmax`` is given), then ``data -= step_size * m / (sqrt(v) inv_sqrt_bc2 + eps)``.
        """
        k = _adam_kernel(vmax is not None)
        t = data.dtype.type
        scalars = (t(1.0 - beta1), t(beta2), t(1.0 - beta2), t(step_size), t(inv_sqrt_bc2), t(eps))
        if vmax is None:
            k(g, *scalars, data, m, v)
        else:
            k(g, *scalars, data, m, v, vmax)

    # ----------------------------------------------------------------- softmax family
    def _softmax(self, op, x, axis, log):
        if not (x.ndim and self._fast(op, x)):
            return getattr(NumpyBackend, op)(self, x, axis)
        xc = _last_axis(x, axis)
        n = xc.shape[-1]
        rows = xc.size // n
        y = cupy.empty_like(xc)
        warp = n <= WARP_ROW_MAX  # a row per warp, WARP_TEAMS rows per block
        teams = WARP_TEAMS if warp else 1
        k, smem = self._row_kernel(f"softmax_forward<{{T}}, {_b(log)}, {{cache}}, {_b(warp)}>",
                                   x.dtype, n, teams)
        grid = rows_grid(-(-rows // teams))
        k((grid,), (32 * teams if warp else threads_for(n),), (xc, y, _i64(rows), _i64(n)),
          shared_mem=smem)
        return _from_last_axis(y, axis)

    def _softmax_bwd(self, op, y, gy, axis, log):
        if not (y.ndim and self._fast(op, y, gy) and y.shape == gy.shape):
            return getattr(NumpyBackend, op)(self, y, gy, axis)
        yc, gc = _last_axis(y, axis), _last_axis(gy, axis)
        n = yc.shape[-1]
        rows = yc.size // n
        gx = cupy.empty_like(yc)
        k, smem = self._row_kernel(f"softmax_backward<{{T}}, {_b(log)}, {{cache}}>", y.dtype, n,
                                   2)
        k((rows_grid(rows),), (threads_for(n),), (yc, gc, gx, _i64(rows), _i64(n)),
          shared_mem=smem)
        return _from_last_axis(gx, axis)

    def softmax(self, x, axis):
        return self._softmax("softmax", x, axis, False)

    def log_softmax(self, x, axis):
        return self._softmax("log_softmax", x, axis, True)

    def softmax_backward(self, y, gy, axis):
        return self._softmax_bwd("softmax_backward", y, gy, axis, False)

    def log_softmax_backward(self, y, gy, axis):
        return self._softmax_bwd("log_softmax_backward", y, gy, axis, True)

    # ----------------------------------------------------------------- normalization
    def _norm_ok(self, op, x, params, n_norm_dims) -> bool:
        if not (type(n_norm_dims) is int and 1 <= n_norm_dims <= x.ndim):
            return self._decline(op, "n_norm_dims", x.dtype)
        pshape = x.shape[x.ndim - n_norm_dims:]
        if any(p is not None and p.shape != pshape for p in params):
            return self._decline(op, "parameter shape", x.dtype)
        return self._fast(op, x, *params)

    def layer_norm(self, x, weight, bias, n_norm_dims, eps):
        if not self._norm_ok("layer_norm", x, (weight, bias), n_norm_dims):
            return super().layer_norm(x, weight, bias, n_norm_dims, eps)
        batch = x.shape[:x.ndim - n_norm_dims]
        xc = cupy.ascontiguousarray(x)
        n = _prod(x.shape[x.ndim - n_norm_dims:])
        rows = xc.size // n
        w = xc if weight is None else cupy.ascontiguousarray(weight)
        b = xc if bias is None else cupy.ascontiguousarray(bias)
        y = cupy.empty_like(xc)
        mean = cupy.empty(rows, dtype=x.dtype)
        rstd = cupy.empty(rows, dtype=x.dtype)
        k, smem = self._row_kernel("layer_norm_forward<{T}, {cache}>", x.dtype, n, 1)
        k((rows_grid(rows),), (threads_for(n),),
          (xc, w, b, y, mean, rstd, _i64(rows), _i64(n), x.dtype.type(eps),
           np.int32(weight is not None), np.int32(bias is not None)), shared_mem=smem)
        return y, mean.reshape(batch), rstd.reshape(batch)

    def layer_norm_backward(self, gy, x, mean, rstd, weight, n_norm_dims):
        if not (self._norm_ok("layer_norm_backward", x, (weight,), n_norm_dims)
                and self._fast("layer_norm_backward", x, gy, mean, rstd)
                and gy.shape == x.shape and mean.size * _prod(x.shape[x.ndim - n_norm_dims:])
                == x.size):
            return super().layer_norm_backward(gy, x, mean, rstd, weight, n_norm_dims)
        pshape = x.shape[x.ndim - n_norm_dims:]
        n = _prod(pshape)
        rows = x.size // n
        xc, gc = cupy.ascontiguousarray(x), cupy.ascontiguousarray(gy)
        mc, rc = cupy.ascontiguousarray(mean).ravel(), cupy.ascontiguousarray(rstd).ravel()
        w = xc if weight is None else cupy.ascontiguousarray(weight)
        gx = cupy.empty_like(xc)
        acc = 2 * n * x.dtype.itemsize  # the fused kernel's weight/bias gradient sums
        if weight is not None and acc <= self._smem_optin():
            k, smem = self._row_kernel("layer_norm_backward<{T}, {cache}>", x.dtype, n, 2, acc)
            threads = threads_for(n)
            grid = min(rows, self._blocks_per_sm(threads, smem) * self.sm_count)
            part = cupy.empty((2, grid, n), dtype=x.dtype)  # one sum over blocks for both
            k((grid,), (threads,), (gc, xc, w, mc, rc, gx, part[0], part[1], _i64(rows),
                                    _i64(n)), shared_mem=smem)
            gwb = part[:, 0] if grid == 1 else part.sum(axis=1)
            return gx, gwb[0].reshape(pshape), gwb[1].reshape(pshape)
        k, smem = self._row_kernel("layer_norm_backward_input<{T}, {cache}>", x.dtype, n, 2)
        k((rows_grid(rows),), (threads_for(n),),
          (gc, xc, w, mc, rc, gx, _i64(rows), _i64(n), np.int32(weight is not None)),
          shared_mem=smem)
        if weight is None:
            return gx, None, None
        col_blocks = -(-n // 32)
        per, chunks = chunking(rows, col_blocks, BLOCKS_PER_SM * self.sm_count, min_rows=32)
        gw_part = cupy.empty((chunks, n), dtype=x.dtype)
        gb_part = cupy.empty((chunks, n), dtype=x.dtype)
        k = kernel("layer_norm_backward_params<{T}>", x.dtype, self.index)
        k((col_blocks, chunks), (32, 8),
          (gc, xc, mc, rc, gw_part, gb_part, _i64(rows), _i64(n), _i64(per)))
        return gx, _sum0(gw_part).reshape(pshape), _sum0(gb_part).reshape(pshape)

    def batch_norm_stats(self, x, axes):
        shape = x.shape
        if not (x.ndim >= 3 and type(axes) is tuple and sorted(axes) == [0] + list(
                range(2, x.ndim)) and x.flags.c_contiguous and self._fast("batch_norm_stats", x)):
            return super().batch_norm_stats(x, axes)
        nb, c, s = shape[0], shape[1], _prod(shape[2:])
        if s < 32:  # too few elements per (sample, channel) for a block; CuPy's reduction
            self._decline("batch_norm_stats", "small spatial size", x.dtype)
            return super().batch_norm_stats(x, axes)
        threads = threads_for(s, 256)
        per, chunks = chunking(nb, c, BLOCKS_PER_SM * self.sm_count)
        # keep each thread's running count below 2**22: exact in float32 Welford
        per = max(1, min(per, (1 << 22) // -(-s // threads)))
        chunks = -(-nb // per)
        cnt, mu, m2 = (cupy.empty((c, chunks), dtype=x.dtype) for _ in range(3))
        k = kernel("batch_norm_stats_partial<{T}>", x.dtype, self.index)
        k((c, chunks), (threads,), (x, cnt, mu, m2, _i64(nb), _i64(c), _i64(s), _i64(per)))
        keep = (1, c) + (1,) * (x.ndim - 2)
        if chunks == 1:
            return mu.reshape(keep), (m2 / cnt).reshape(keep)
        total = cnt.sum(axis=1, keepdims=True)  # Chan et al.: merge the chunks' statistics
        mean = (cnt * mu).sum(axis=1, keepdims=True) / total
        d = mu - mean
        var = (m2 + cnt * d * d).sum(axis=1, keepdims=True) / total
        return mean.reshape(keep), var.reshape(keep)

    # ----------------------------------------------------------------- pooling
    def _pool(self, template, arrays, total, geometry):
        if total:
            self.kernel(template, arrays[0].dtype)(
                (min(-(-total // 256), 32 * self.sm_count),), (256,),
                (*arrays, _i64(total), *map(np.int32, geometry)))

    def max_pool2d(self, x, kernel, dilation, pads, stride):
        if x.ndim != 4 or x.dtype not in _FLOATS:  # (empty arrays too: no launch)
            return super().max_pool2d(x, kernel, dilation, pads, stride)
        geometry = _pool_geometry(x.shape[2:], kernel, dilation, pads, stride)
        y = cupy.empty(x.shape[:2] + geometry[2:4], x.dtype)
        idx = cupy.empty(y.shape + (1,), np.int64)
        self._pool("max_pool2d_forward<{T}>", (cupy.ascontiguousarray(x), y, idx), y.size,
                   geometry)
        return y, idx

    def max_pool2d_scatter(self, g, idx, size, kernel, dilation, pads, stride):
        if g.ndim != 4 or g.dtype not in _FLOATS or idx.dtype != np.int64:
            return super().max_pool2d_scatter(g, idx, size, kernel, dilation, pads, stride)
        gx = cupy.zeros(g.shape[:2] + tuple(size), g.dtype)
        self._pool("max_pool2d_backward<{T}>", (cupy.ascontiguousarray(g),
                                                 cupy.ascontiguousarray(idx), gx), g.size,
                   _pool_geometry(size, kernel, dilation, pads, stride))
        return gx

    # ----------------------------------------------------------------- broadcast reductions
    def sum_to(self, g, shape):
        shape = tuple(shape)
        if g.shape == shape:
            return g
        out = self._reduce_to(g, None, shape, "sum_to")
        return super().sum_to(g, shape) if out is None else out

    def mul_sum_to(self, g, h, shape):
        """``sum_to(g * h, shape)`` in one pass when h has g's shape: the backward of a
        broadcast multiply (dz/db = sum_to(dz * a, b.shape)) without the product in memory."""
        shape = tuple(shape)
        out = None
        if h.shape == g.shape and g.shape != shape:
            out = self._reduce_to(g, h, shape, "mul_sum_to")
        return self.sum_to(g * h, shape) if out is None else out

    def _reduce_to(self, g, h, shape, op):
        plan = rcs_plan(g.shape, shape)
        if plan is None or not g.flags.c_contiguous or (
                h is not None and not h.flags.c_contiguous) or not self._fast(op, g, h):
            self._decline(op, "pattern, layout or dtype", g.dtype)
            return None
        r, c, s = plan
        mul = _b(h is not None)
        hh = g if h is None else h
        target = BLOCKS_PER_SM * self.sm_count
        if s == 1:
            col_blocks = -(-c // 32)
            per, chunks = chunking(r, col_blocks, target, min_rows=32)
            part = cupy.empty((chunks, c), dtype=g.dtype)
            k = kernel(f"reduce_cols<{{T}}, {mul}>", g.dtype, self.index)
            k((col_blocks, chunks), (32, 8), (g, hh, part, _i64(r), _i64(c), _i64(per)))
            return _sum0(part).reshape(shape)
        if s < 32:
            self._decline(op, "short rows", g.dtype)
            return None
        per, chunks = chunking(r, c, target)
        part = cupy.empty((c, chunks), dtype=g.dtype)
        k = kernel(f"reduce_rcs<{{T}}, {mul}>", g.dtype, self.index)
        k((c, chunks), (threads_for(s, 256),),
          (g, hh, part, _i64(r), _i64(c), _i64(s), _i64(per)))
        out = part[:, 0] if chunks == 1 else part.sum(axis=1)
        return out.reshape(shape)

    # ----------------------------------------------------------------- cross-entropy
    def _ce_ok(self, op, logits, target, *more) -> bool:
        return (logits.ndim == 2 and target.shape == logits.shape[:1]
                and target.dtype.kind in "iu" and self._fast(op, logits, *more))

    def cross_entropy(self, logits, target, ignore_index=-100):
        """Per-row cross-entropy of (N, C) logits (classes on the last axis) against integer
        targets (N,): returns (loss (N,), stats (N, 2)), loss = logsumexp(x) - x[t], 0 where
        t == ignore_index, NaN where t is out of range; stats = (row max, log-sum) is saved for
        the backward (see reference.cross_entropy)."""
        if not self._ce_ok("cross_entropy", logits, target):
            return reference.cross_entropy(self, logits, target, ignore_index)
        x = cupy.ascontiguousarray(logits)
        t = cupy.ascontiguousarray(target, dtype=np.int64)
        rows, c = x.shape
        loss = cupy.empty(rows, dtype=x.dtype)
        stats = cupy.empty((rows, 2), dtype=x.dtype)
        k = kernel("cross_entropy_forward<{T}>", x.dtype, self.index)
        k((rows_grid(rows),), (threads_for(c),),
          (x, t, loss, stats, _i64(rows), _i64(c), _i64(ignore_index)))
        return loss, stats

    def cross_entropy_backward(self, logits, target, stats, gloss, ignore_index=-100):
        """d(sum_r gloss[r] * loss[r]) / d logits = gloss[r] * (softmax(x_r) - onehot(t_r)),
        zero on ignored rows; ``gloss`` is (N,) or broadcastable to it."""
        if not self._ce_ok("cross_entropy_backward", logits, target, stats):
            return reference.cross_entropy_backward(self, logits, target, stats, gloss,
                                                    ignore_index)
        x = cupy.ascontiguousarray(logits)
        t = cupy.ascontiguousarray(target, dtype=np.int64)
        rows, c = x.shape
        g = cupy.ascontiguousarray(cupy.broadcast_to(cupy.asarray(gloss, dtype=x.dtype),
                                                     (rows,)))
        gx = cupy.empty_like(x)
        k = kernel("cross_entropy_backward<{T}>", x.dtype, self.index)
        k((rows_grid(rows),), (threads_for(c),),
          (x, t, cupy.ascontiguousarray(stats), g, gx, _i64(rows), _i64(c),
           _i64(ignore_index)))
        return gx


# --------------------------------------------------------------------- helpers
_adam_kernels: dict = {}


def _adam_kernel(amsgrad: bool):
    """The fused Adam ElementwiseKernel (see CupyBackend.adam_update); the arithmetic follows
    the optimizer's NumPy sequence, operation for operation."""
    k = _adam_kernels.get(amsgrad)
    if k is None:
        den = "vmax = max(vmax, v); T d = sqrt(vmax)" if amsgrad else "T d = sqrt(v)"
        k = _adam_kernels[amsgrad] = cupy.ElementwiseKernel(
            "T g, T c1, T b2, T c2, T step, T inv_bc2, T eps",
            "T p, T m, T v" + (", T vmax" if amsgrad else ""),
            f"m = m + (g - m) * c1; v = v * b2 + g * g * c2; {den} * inv_bc2 + eps; "
            "p = p - m / d * step;",
            "autodiff_adam" + ("_amsgrad" if amsgrad else ""))
    return k


def _b(flag: bool) -> str:
    return "true" if flag else "false"


def _sum0(part):
    return part[0] if part.shape[0] == 1 else part.sum(axis=0)


def _pool_geometry(size, kernel, dilation, pads, stride) -> tuple:
    """pool.cu's geometry arguments (H, W, OH, OW, kh, kw, sh, sw, pt, pl, dh, dw)."""
    (h, w), (kh, kw), (dh, dw), (sh, sw), (pt, pb, pl, pr) = size, kernel, dilation, stride, pads
    return (h, w, (h + pt + pb - dh * (kh - 1) - 1) // sh + 1,
            (w + pl + pr - dw * (kw - 1) - 1) // sw + 1, kh, kw, sh, sw, pt, pl, dh, dw)


def _last_axis(a, axis):
    """``a`` with ``axis`` moved last, C-contiguous (a copy only when needed)."""
    if axis != a.ndim - 1 and axis != -1:
        a = cupy.moveaxis(a, axis, -1)
    return cupy.ascontiguousarray(a)


def _from_last_axis(a, axis):
    if axis == a.ndim - 1 or axis == -1:
        return a
    return cupy.ascontiguousarray(cupy.moveaxis(a, -1, axis))


def _on_device(fn):
    """Run ``fn`` with this backend's GPU current (a no-op check when it already is)."""

    @functools.wraps(fn)
    def run(self, *args, **kwargs):
        if cupy.cuda.runtime.getDevice() == self.index:
            return fn(self, *args, **kwargs)
        with self.device:
            return fn(self, *args, **kwargs)

    return run


_UNGUARDED = frozenset(("is_array", "owns", "synchronize", "sm_count", "device", "tf32"))
for _name in dir(CupyBackend):
    _attr = getattr(CupyBackend, _name)
    if (not _name.startswith("_") and _name not in _UNGUARDED and callable(_attr)
            and not isinstance(_attr, type)):
        setattr(CupyBackend, _name, _on_device(_attr))
del _name, _attr
