"""A NumPy stand-in for CuPy, so the CuPy backend's Python side runs on machines without a GPU.

``load_emulated_backend()`` imports autodiff/backends/cupy_backend.py with ``cupy``/``cupyx``
bound to this stand-in: arrays are NumPy arrays, and ``cupy.RawModule`` hands out kernels
that run each CUDA kernel's contract in NumPy. Each emulated kernel first checks its
arguments against the kernel's C signature (dtype of every pointer, C-contiguity, the exact
NumPy scalar type of every scalar, enough blocks to cover the data), so what this catches is
the launch glue: argument order and types, shapes, axis moves, chunking, the merging of
partial results. The CUDA code itself is covered by the GPU tests and the compile checks.
"""

from __future__ import annotations

import importlib.util
import math
import pathlib
import sys
import types

import numpy as np

import autodiff.backends as _backends

# C signatures: T = the element type, L = long long*, i64 = index_t / long long, i32 = int
SIGS = {
    "softmax_forward": ("T*", "T*", "i64", "i64"),
    "softmax_backward": ("T*", "T*", "T*", "i64", "i64"),
    "layer_norm_forward": ("T*", "T*", "T*", "T*", "T*", "T*", "i64", "i64", "T", "i32", "i32"),
    "layer_norm_backward_input": ("T*", "T*", "T*", "T*", "T*", "T*", "i64", "i64", "i32"),
    "layer_norm_backward": ("T*",) * 8 + ("i64", "i64"),
    "layer_norm_backward_params": ("T*", "T*", "T*", "T*", "T*", "T*", "i64", "i64", "i64"),
    "reduce_cols": ("T*", "T*", "T*", "i64", "i64", "i64"),
    "reduce_rcs": ("T*", "T*", "T*", "i64", "i64", "i64", "i64"),
    "batch_norm_stats_partial": ("T*", "T*", "T*", "T*", "i64", "i64", "i64", "i64"),
    "cross_entropy_forward": ("T*", "L", "T*", "T*", "i64", "i64", "i64"),
    "cross_entropy_backward": ("T*", "L", "T*", "T*", "T*", "i64", "i64", "i64"),
    "max_pool2d_forward": ("T*", "T*", "L", "i64") + ("i32",) * 12,
    "max_pool2d_backward": ("T*", "L", "T*", "i64") + ("i32",) * 12,
    **{k: ("T*", "T*", "i64", "i32") for k in (
        "erf_forward", "sigmoid_forward", "silu_forward", "gelu_forward")},
    **{k: ("T*", "T*", "T*", "i64", "i32") for k in (
        "silu_backward", "gelu_backward", "output_backward")},
}
_CT = {"float": np.float32, "double": np.float64}


def _check(name, T, args):
    sig = SIGS[name]
    assert len(args) == len(sig), f"{name}: {len(args)} args, signature has {len(sig)}"
    for i, (a, s) in enumerate(zip(args, sig)):
        where = f"{name} arg {i} ({s})"
        if s in ("T*", "L"):
            want = T if s == "T*" else np.int64
            assert isinstance(a, np.ndarray), f"{where}: got {type(a).__name__}"
            assert a.dtype == want, f"{where}: dtype {a.dtype}, expected {np.dtype(want)}"
            assert a.flags.c_contiguous, f"{where}: not C-contiguous"
        else:
            want = {"i64": np.int64, "i32": np.int32, "T": T}[s]
            assert type(a) is want, f"{where}: {type(a).__name__}, expected {want.__name__}"


def _rows(a, rows, n):
    v = a.reshape(rows, n)
    assert np.shares_memory(v, a) or a.size == 0
    return v


def _chunk(r, per, ch):
    return slice(ch * per, min(r, (ch + 1) * per))


def softmax_forward(log, grid, block, x, y, rows, n):
    assert grid[0] >= 1 and block[0] % 32 == 0
    X, Y = _rows(x, rows, n), _rows(y, rows, n)
    m = X.max(axis=1, keepdims=True)
    s = np.exp(X - m).sum(axis=1, keepdims=True)
    Y[...] = X - m - np.log(s) if log else np.exp(X - m) / s


def softmax_backward(log, grid, block, y, gy, gx, rows, n):
    Y, G, O = _rows(y, rows, n), _rows(gy, rows, n), _rows(gx, rows, n)
    if log:
        O[...] = G - np.exp(Y) * G.sum(axis=1, keepdims=True)
    else:
        O[...] = Y * (G - (G * Y).sum(axis=1, keepdims=True))


def layer_norm_forward(_, grid, block, x, w, b, y, mean, rstd, rows, n, eps, has_w, has_b):
    X, Y = _rows(x, rows, n), _rows(y, rows, n)
    mu = X.mean(axis=1)
    var = ((X - mu[:, None]) ** 2).mean(axis=1)
    mean[...] = mu
    rstd[...] = 1 / np.sqrt(var + eps)
    out = (X - mu[:, None]) * rstd[:, None]
    if has_w:
        assert w.size == n
        out = out * w.reshape(-1)
    if has_b:
        assert b.size == n
        out = out + b.reshape(-1)
    Y[...] = out


def layer_norm_backward_input(_, grid, block, gy, x, w, mean, rstd, gx, rows, n, has_w):
    G, X, O = _rows(gy, rows, n), _rows(x, rows, n), _rows(gx, rows, n)
    g = G * w.reshape(-1) if has_w else G
    xh = (X - mean[:, None]) * rstd[:, None]
    O[...] = rstd[:, None] * (g - g.mean(axis=1, keepdims=True)
                              - xh * (g * xh).mean(axis=1, keepdims=True))


def layer_norm_backward(_, grid, block, gy, x, w, mean, rstd, gx, gwp, gbp, rows, n):
    """gx, and per block b the column sums over rows b, b + grid, b + 2 grid, ..."""
    blocks = grid[0]
    assert gwp.size == gbp.size == blocks * n and blocks <= max(rows, 1)
    layer_norm_backward_input(_, grid, block, gy, x, w, mean, rstd, gx, rows, n, 1)
    G, X = _rows(gy, rows, n), _rows(x, rows, n)
    xh = (X - mean[:, None]) * rstd[:, None]
    for blk in range(blocks):
        gwp.reshape(blocks, n)[blk] = (G[blk::blocks] * xh[blk::blocks]).sum(axis=0)
        gbp.reshape(blocks, n)[blk] = G[blk::blocks].sum(axis=0)


def _col_chunks(grid, block, rows, n, per, part_size):
    chunks = grid[1]
    assert block == (32, 8) and grid[0] * 32 >= n and chunks * per >= rows > (chunks - 1) * per
    assert part_size == chunks * n
    return chunks


def layer_norm_backward_params(_, grid, block, gy, x, mean, rstd, gwp, gbp, rows, n, per):
    chunks = _col_chunks(grid, block, rows, n, per, gwp.size)
    G, X = _rows(gy, rows, n), _rows(x, rows, n)
    xh = (X - mean[:, None]) * rstd[:, None]
    for ch in range(chunks):
        sl = _chunk(rows, per, ch)
        gwp.reshape(chunks, n)[ch] = (G[sl] * xh[sl]).sum(axis=0)
        gbp.reshape(chunks, n)[ch] = G[sl].sum(axis=0)


def reduce_cols(mul, grid, block, g, h, part, r, c, per):
    chunks = _col_chunks(grid, block, r, c, per, part.size)
    v = _rows(g, r, c) * (_rows(h, r, c) if mul else 1)
    for ch in range(chunks):
        part.reshape(chunks, c)[ch] = v[_chunk(r, per, ch)].sum(axis=0)


def reduce_rcs(mul, grid, block, g, h, part, r, c, s, per):
    chunks = grid[1]
    assert grid[0] == c and chunks * per >= r > (chunks - 1) * per and part.size == c * chunks
    v = (g * (h if mul else 1)).reshape(r, c, s)
    for ch in range(chunks):
        part.reshape(c, chunks)[:, ch] = v[_chunk(r, per, ch)].sum(axis=(0, 2))


def batch_norm_stats_partial(_, grid, block, x, cnt, mean, m2, n, c, s, per):
    chunks = grid[1]
    assert grid[0] == c and chunks * per >= n > (chunks - 1) * per
    v = x.reshape(n, c, s)
    for ch in range(chunks):
        blk = v[_chunk(n, per, ch)]
        k = blk.shape[0] * s
        mu = blk.mean(axis=(0, 2)) if k else np.zeros(c, x.dtype)
        cnt.reshape(c, chunks)[:, ch] = k
        mean.reshape(c, chunks)[:, ch] = mu
        m2.reshape(c, chunks)[:, ch] = ((blk - mu[:, None]) ** 2).sum(axis=(0, 2))


def cross_entropy_forward(_, grid, block, x, t, loss, stats, rows, c, ignore):
    X, S = _rows(x, rows, c), stats.reshape(rows, 2)
    m = X.max(axis=1)
    m = np.where(np.isfinite(m), m, 0)
    S[:, 0] = m
    S[:, 1] = np.log(np.exp(X - m[:, None]).sum(axis=1))
    for r in range(rows):
        tr = t[r]
        loss[r] = 0 if tr == ignore else (np.nan if not 0 <= tr < c
                                          else (S[r, 0] - X[r, tr]) + S[r, 1])


def cross_entropy_backward(_, grid, block, x, t, stats, gloss, gx, rows, c, ignore):
    X, O, S = _rows(x, rows, c), _rows(gx, rows, c), stats.reshape(rows, 2)
    p = np.exp((X - S[:, :1]) - S[:, 1:])
    for r in range(rows):
        if t[r] == ignore:
            O[r] = 0
        else:
            O[r] = gloss[r] * (p[r] - (np.arange(c) == t[r]))


def _pointwise(fn):
    """An emulated pointwise kernel: ``fn(mode, *inputs)`` into the output, over n elements."""
    def run(_, grid, block, *args):
        *ins, out, n, mode = args
        assert grid[0] * block[0] >= 1 and out.size == n
        out[...] = fn(int(mode), *ins)
    return run


def _erf(x):
    return np.vectorize(math.erf, otypes=[x.dtype])(x)


def _sig(x):
    return 1 / (1 + np.exp(-x))


def _gelu_d(mode, x):
    if mode:
        c = np.sqrt(2 / np.pi)
        th = np.tanh(c * (x + 0.044715 * x ** 3))
        return 0.5 * (1 + th) + 0.5 * x * (1 - th * th) * c * (1 + 3 * 0.044715 * x * x)
    return 0.5 * (1 + _erf(x / np.sqrt(2))) + x * np.exp(-0.5 * x * x) / np.sqrt(2 * np.pi)


erf_forward = _pointwise(lambda m, x: _erf(x))
sigmoid_forward = _pointwise(lambda m, x: _sig(x))
silu_forward = _pointwise(lambda m, x: x * _sig(x))
silu_backward = _pointwise(lambda m, x, g: g * _sig(x) * (1 + x * (1 - _sig(x))))
gelu_forward = _pointwise(lambda m, x: 0.5 * x * (1 + (
    np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x ** 3)) if m else _erf(x / np.sqrt(2)))))
gelu_backward = _pointwise(lambda m, x, g: g * _gelu_d(m, x))
output_backward = _pointwise(lambda m, y, g: (g * y * (1 - y), g * (1 - y * y), g / (2 * y))[m])


def _pool_positions(planes, H, W, OH, OW, kh, kw, sh, sw, pt, pl, dh, dw):
    """Per in-window index k: (h, w, inside) grids of shape (OH, OW)."""
    r, s = np.arange(OH)[:, None], np.arange(OW)[None, :]
    for k in range(kh * kw):
        h, w = np.broadcast_arrays(r * sh - pt + (k // kw) * dh, s * sw - pl + (k % kw) * dw)
        yield k, np.clip(h, 0, H - 1), np.clip(w, 0, W - 1), (h >= 0) & (h < H) & (w >= 0) & (
            w < W)


def max_pool2d_forward(_, grid, block, x, y, idx, total, H, W, OH, OW, *geom):
    planes = total // (OH * OW)
    X = x.reshape(planes, H, W)
    best = bi = None
    for k, h, w, inside in _pool_positions(planes, H, W, OH, OW, *geom):
        v = np.where(inside, X[:, h, w], -np.inf)
        if best is None:
            best, bi = v, np.zeros(v.shape, np.int64)
        else:
            take = ~np.isnan(best) & ((v > best) | np.isnan(v))
            best, bi = np.where(take, v, best), np.where(take, k, bi)
    y[...] = best.reshape(y.shape)
    idx[...] = bi.reshape(idx.shape)


def max_pool2d_backward(_, grid, block, g, idx, gx, total, H, W, OH, OW, *geom):
    planes = total // (OH * OW)
    G, I, GX = g.reshape(planes, OH, OW), idx.reshape(planes, OH, OW), gx.reshape(planes, H, W)
    for k, h, w, inside in _pool_positions(planes, H, W, OH, OW, *geom):
        sel = (I == k) & inside
        p, rr, ss = np.nonzero(sel)
        np.add.at(GX, (p, h[rr, ss], w[rr, ss]), G[sel])


class _Kernel:
    def __init__(self, expr: str) -> None:
        base, _, params = expr.partition("<")
        params = [p.strip() for p in params.rstrip(">").split(",")]
        self.name, self.T = base, _CT[params[0]]
        self.flag = len(params) > 1 and params[1] == "true"
        self.launches = 0

    def __call__(self, grid, block, args, shared_mem=0):
        grid = tuple(grid) + (1,) * (3 - len(grid))
        block = tuple(block)
        assert all(0 < d for d in grid) and grid[1] <= 65535 and 32 <= np.prod(block) <= 1024
        _check(self.name, self.T, args)
        LAUNCHES.append(self.name)
        globals()[self.name](self.flag, grid, block, *args)


LAUNCHES: list = []


class RawModule:
    def __init__(self, code=None, options=(), name_expressions=()) -> None:
        assert code and '#include "common.cuh"' not in code
        self.names = set(name_expressions)

    def get_function(self, expr):
        assert expr in self.names, f"{expr} was not among the name expressions {self.names}"
        return _Kernel(expr)


class _Device:
    def __init__(self, index=0) -> None:
        self.id = index
        self.attributes = {"MultiProcessorCount": 2}

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def synchronize(self) -> None:
        pass


def _reduction_kernel(*sig):
    """The CuPy backend's one ReductionKernel: any element outside [lo, hi) but ``skip``."""
    assert sig[-1] == "autodiff_any_outside", sig[-1]
    return lambda a, lo, hi, skip, use: np.asarray(((a < lo) | (a >= hi)) & ~(use & (a == skip))
                                                   ).any()


def _elementwise_kernel(*sig):
    """The CuPy backend's gather ElementwiseKernel (its contract, in NumPy)."""
    assert sig[-1] == "autodiff_gather", sig[-1]

    def run(a, k, n, m, inner):
        assert a.flags.c_contiguous and k.flags.c_contiguous
        outer = k.size // (m * inner)
        k3 = k.reshape(outer, m, inner)
        return np.take_along_axis(a.reshape(outer, n, inner), np.where(k3 < 0, k3 + n, k3),
                                  1).reshape(k.shape)
    return run


def _make_modules():
    cupy = types.ModuleType("cupy")
    cupy.__getattr__ = lambda name: getattr(np, name)
    cupy.ndarray = np.ndarray
    cupy.RawModule = RawModule
    cupy.ReductionKernel, cupy.ElementwiseKernel = _reduction_kernel, _elementwise_kernel
    cupy.asnumpy = np.asarray
    cupy.ascontiguousarray = lambda a, dtype=None: np.require(a, dtype, "C")
    cupy.argsort = lambda a, axis=-1: np.argsort(a, axis=axis, kind="stable")
    cupy.cuda = types.SimpleNamespace(Device=_Device,
                                      runtime=types.SimpleNamespace(getDevice=lambda: 0))
    cupyx = types.ModuleType("cupyx")
    cupyx.scatter_add = np.add.at
    return cupy, cupyx


def load_emulated_backend():
    """A CupyBackend instance whose arrays are NumPy arrays and whose kernels are emulated."""
    cupy, cupyx = _make_modules()
    path = pathlib.Path(_backends.__file__).with_name("cupy_backend.py")
    saved = {k: sys.modules.get(k) for k in ("cupy", "cupyx")}
    sys.modules["cupy"], sys.modules["cupyx"] = cupy, cupyx
    try:
        spec = importlib.util.spec_from_file_location("autodiff.backends._cupy_emulated", path)
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
    finally:
        for k, v in saved.items():
            if v is None:
                sys.modules.pop(k, None)
            else:
                sys.modules[k] = v
    return mod, mod.CupyBackend(0)
