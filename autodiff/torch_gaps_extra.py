"""More of PyTorch's top-level names: ``histogramdd``, ``empty_strided``, the randomized
low-rank ``svd_lowrank`` / ``pca_lowrank``, autocast's state functions
(``torch.is_autocast_enabled``, ``set_autocast_enabled``, ...) over ``autodiff.amp``'s state,
``GradScaler``; and the Tensor methods ``new_empty_strided`` and
``register_post_accumulate_grad_hook`` (whose hooks the engine runs after it accumulates a
leaf's ``.grad``).
"""

from __future__ import annotations

import builtins
import warnings
from collections import namedtuple

import numpy as np

from . import creation, dtypes
from .amp import autocast_mode as _amp
from .amp.grad_scaler import GradScaler
from .tensor import Tensor, _HookHandle
from .torch_linalg_extra import _linspace
from .torch_shape_extra import as_strided

__all__ = [
    "GradScaler",
    "clear_autocast_cache",
    "empty_strided",
    "get_autocast_cpu_dtype",
    "get_autocast_dtype",
    "get_autocast_gpu_dtype",
    "histogramdd",
    "is_autocast_cache_enabled",
    "is_autocast_cpu_enabled",
    "is_autocast_enabled",
    "pca_lowrank",
    "set_autocast_cache_enabled",
    "set_autocast_dtype",
    "set_autocast_enabled",
    "svd_lowrank",
]

Histogramdd = namedtuple("histogramdd", ["hist", "bin_edges"])


# ----------------------------------------------------------------- histogramdd
def _edges(col: np.ndarray, bins, rng, d: int, dt) -> np.ndarray:
    if isinstance(bins, Tensor):
        return bins._dev.backend.to_numpy(bins._data).reshape(-1).astype(dt)
    if int(bins) <= 0:
        raise RuntimeError(f"histogramdd(): bins must be > 0, but got {bins} for dimension {d}")
    lo, hi = (float(rng[2 * d]), float(rng[2 * d + 1])) if rng is not None else (
        (float(col.min()), float(col.max())) if col.size else (0.0, 0.0))
    if lo > hi:
        raise RuntimeError(f"histogramdd(): min should not exceed max, but got min {lo} max "
                           f"{hi} for dimension {d}")
    if lo == hi:
        lo, hi = lo - 0.5, hi + 0.5  # numpy's and PyTorch's widening of an empty range
    return _linspace(lo, hi, int(bins) + 1, dt)


def histogramdd(input: Tensor, bins, *, range=None, weight: Tensor | None = None,
                density: bool = False):
    """(hist, bin_edges): a D-dimensional histogram of the points in ``input``'s last dim.

    Args:
        input: (*, D) floating points.
        bins: an int (every dim), D ints, or D 1-D tensors of increasing edges.
        range: [min_0, max_0, ..., min_{D-1}, max_{D-1}] (the data's range by default).
        weight: (*) weights of the points; density: normalize to a density.

    Returns:
        hist of shape (bins_0, ..., bins_{D-1}) and a tuple of D edge tensors.
    """
    if not input.is_floating_point():
        raise RuntimeError(f"histogramdd(): expected a floating input, got {input.dtype.name}")
    dt = np.dtype(input.dtype.name)
    pts = input._dev.backend.to_numpy(input.detach()._data).reshape(-1, input.shape[-1])
    nd = pts.shape[1]
    bins = [bins] * nd if isinstance(bins, (int, np.integer)) else list(bins)
    if len(bins) != nd:
        raise RuntimeError(f"histogramdd(): expected {nd} sequences of bin edges for each of "
                           f"the {nd} dimensions of the input, but got {len(bins)}")
    if range is not None and len(range) != 2 * nd:
        raise RuntimeError(f"histogramdd(): for a {nd}-dimensional histogram range should "
                           f"have {2 * nd} elements, but got {len(range)}")
    edges = [_edges(pts[:, d], bins[d], range, d, dt) for d in builtins.range(nd)]
    nb = [e.size - 1 for e in edges]
    keep = np.ones(len(pts), bool)
    for d, e in enumerate(edges):
        keep &= (pts[:, d] >= e[0]) & (pts[:, d] <= e[-1])
    idx = [np.minimum(np.searchsorted(e, pts[keep, d], side="right") - 1, n - 1)
           for d, (e, n) in enumerate(zip(edges, nb))]
    w = None if weight is None else weight._dev.backend.to_numpy(weight._data).reshape(-1)[keep]
    flat = np.ravel_multi_index(idx, nb) if idx else np.zeros(0, np.int64)
    hist = np.bincount(flat, w, minlength=int(np.prod(nb))).reshape(nb).astype(dt)
    if density:
        vol = np.ones(nb)
        for d, e in enumerate(edges):
            vol = vol * np.diff(e).reshape([-1 if k == d else 1 for k in builtins.range(nd)])
        with np.errstate(all="ignore"):
            hist = (hist / (hist.sum() * vol)).astype(dt)
    dev = input.device
    return Histogramdd(creation.tensor(hist, device=dev),
                       tuple(creation.tensor(e, device=dev) for e in edges))



# ----------------------------------------------------------------- strided creation
def empty_strided(size, stride, *, dtype=None, layout=None, device=None,
                  requires_grad: bool = False, pin_memory: bool = False) -> Tensor:
    """An uninitialized tensor of ``size`` whose ``stride()`` is ``stride`` (a view of a 1-D
    buffer just large enough)."""
    size, stride = tuple(int(s) for s in size), tuple(int(s) for s in stride)
    if len(size) != len(stride):
        raise RuntimeError(f"empty_strided: mismatch in length of strides and shape: "
                           f"{len(stride)} and {len(size)}")
    n = 0 if 0 in size else 1 + sum((s - 1) * st for s, st in zip(size, stride))
    base = creation.empty(n, dtype=dtype, device=device)
    out = as_strided(base, size, stride) if size else base.reshape(())
    return out.requires_grad_(requires_grad) if requires_grad else out


def _new_empty_strided(self: Tensor, size, stride, *, dtype=None, layout=None, device=None,
                       requires_grad: bool = False, pin_memory: bool = False) -> Tensor:
    """Tensor.new_empty_strided: ``empty_strided`` with this tensor's dtype and device."""
    return empty_strided(size, stride, dtype=self.dtype if dtype is None else dtype,
                         device=self.device if device is None else device,
                         requires_grad=requires_grad)


# ----------------------------------------------------------------- randomized low rank
def _approximate_basis(A: Tensor, q: int, niter: int) -> Tensor:
    """Halko et al. (2009), algorithm 4.4: an orthonormal basis of A's range from a Gaussian
    sketch and ``niter`` power iterations (with QR re-orthonormalization)."""
    from . import linalg

    R = creation.randn(A.shape[-1], q, dtype=A.dtype, device=A.device)
    Q = linalg.qr(A @ R).Q
    for _ in range(niter):
        Q = linalg.qr(A.mT @ Q).Q
        Q = linalg.qr(A @ Q).Q
    return Q


def svd_lowrank(A: Tensor, q: int | None = 6, niter: int | None = 2, M: Tensor | None = None):
    """(U, S, V): a rank-q approximation A ~ U diag(S) V^T by randomized SVD (Halko et al.
    2009, algorithm 5.1), of A - M when ``M`` is given. Random (``ad.manual_seed`` fixes it);
    exact when q >= rank(A).

    Shape:
        A (*, m, n); U (*, m, q), S (*, q), V (*, n, q).
    """
    from . import linalg

    q = 6 if q is None else int(q)
    niter = 2 if niter is None else int(niter)
    m, n = A.shape[-2:]
    if M is not None:
        A = A - M.broadcast_to(A.shape)
    if m < n:
        A = A.mT
    Q = _approximate_basis(A, q, niter)
    U, S, Vh = linalg.svd(Q.mT @ A, full_matrices=False)
    U, V = Q @ U, Vh.mT
    return (V, S, U) if m < n else (U, S, V)


def pca_lowrank(A: Tensor, q: int | None = None, center: bool = True, niter: int = 2):
    """(U, S, V): ``svd_lowrank`` of A with its column means removed (``center``); q defaults
    to min(6, m, n). The principal directions are V's columns."""
    m, n = A.shape[-2:]
    if q is None:
        q = min(6, m, n)
    elif not 0 <= q <= min(m, n):
        raise ValueError(f"q(={q}) must be non-negative integer and not greater than "
                         f"min(m, n)={min(m, n)}")
    if not niter >= 0:
        raise ValueError(f"niter(={niter}) must be non-negative integer")
    if center:
        A = A - A.mean(-2, keepdim=True)
    return svd_lowrank(A, q, niter=niter)


# ----------------------------------------------------------------- autocast state
def _device_type(name: str, device_type) -> str:
    if not isinstance(device_type, str):
        raise TypeError(f"{name}(): argument 'device_type' (position 1) must be str, not "
                        f"{type(device_type).__name__}")
    return _amp._device_type(device_type)


def is_autocast_enabled(device_type: str | None = None) -> bool:
    """Whether autocast is on for ``device_type`` in this thread (no argument: 'cuda')."""
    name = "cuda" if device_type is None else device_type
    return _amp._STATE.enabled[_device_type("is_autocast_enabled", name)]


def get_autocast_dtype(device_type: str) -> dtypes.DType:
    """The dtype autocast casts to on ``device_type``."""
    return _amp._STATE.dtype[_device_type("get_autocast_dtype", device_type)]


def set_autocast_enabled(device_type, enabled=None) -> None:
    """Turn autocast on or off for ``device_type`` outside a ``with autocast`` region
    (``set_autocast_enabled(enabled)``: for 'cuda', PyTorch's older form)."""
    if enabled is None:
        device_type, enabled = "cuda", device_type
    st = _amp._STATE
    st.set_enabled(_device_type("set_autocast_enabled", device_type), bool(enabled))
    if enabled and _amp._linalg.AUTOCAST[0] is None:  # as autocast.__enter__ does
        _amp._linalg.AUTOCAST[0] = _amp._cast_matmul


def set_autocast_dtype(device_type: str, dtype: dtypes.DType) -> None:
    """Set the dtype autocast casts to on ``device_type``."""
    _amp._STATE.dtype[_device_type("set_autocast_dtype", device_type)] = dtype


def is_autocast_cache_enabled() -> bool:
    """Whether autocast regions cache the casts of parameters (default True)."""
    return _amp._STATE.cache_enabled


def set_autocast_cache_enabled(enabled: bool) -> None:
    """Turn the cache of parameter casts on or off for the regions entered afterwards."""
    _amp._STATE.cache_enabled = bool(enabled)


def clear_autocast_cache() -> None:
    """Drop the casts of parameters that autocast has cached."""
    _amp._STATE.cache.clear()


def _deprecated(old: str, new: str) -> None:
    warnings.warn(f"autodiff.{old}() is deprecated. Please use autodiff.{new} instead.",
                  DeprecationWarning, stacklevel=3)


def get_autocast_cpu_dtype() -> dtypes.DType:
    """``get_autocast_dtype('cpu')`` (deprecated: warns)."""
    _deprecated("get_autocast_cpu_dtype", "get_autocast_dtype('cpu')")
    return get_autocast_dtype("cpu")


def get_autocast_gpu_dtype() -> dtypes.DType:
    """``get_autocast_dtype('cuda')`` (deprecated: warns)."""
    _deprecated("get_autocast_gpu_dtype", "get_autocast_dtype('cuda')")
    return get_autocast_dtype("cuda")


def is_autocast_cpu_enabled() -> bool:
    """``is_autocast_enabled('cpu')`` (deprecated: warns)."""
    _deprecated("is_autocast_cpu_enabled", "is_autocast_enabled('cpu')")
    return is_autocast_enabled("cpu")


# ----------------------------------------------------------------- post-accumulate-grad hooks
class _PostAccumulateHook:
    """Sits in a leaf's ``_hooks`` (so the engine defers the leaf to ``flush``, once per
    backward); seen as a grad hook it changes nothing, and the engine calls ``post(tensor)``
    after the leaf's ``.grad`` is accumulated."""

    def __init__(self, fn) -> None:
        self.post = fn

    def __call__(self, grad):
        return None


def _register_post_accumulate_grad_hook(self: Tensor, hook) -> _HookHandle:
    """Call ``hook(tensor)`` after backward has accumulated this leaf's ``.grad``."""
    if not self._requires_grad:
        raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
    if self.grad_fn is not None:
        raise RuntimeError("post accumulate grad hooks cannot be registered on non-leaf "
                           "tensors")
    if self._hooks is None:
        self._hooks = []
    marker = _PostAccumulateHook(hook)
    self._hooks.append(marker)
    return _HookHandle(self._hooks, marker)


for _name, _fn in (("new_empty_strided", _new_empty_strided),
                   ("register_post_accumulate_grad_hook", _register_post_accumulate_grad_hook)):
    if not hasattr(Tensor, _name):
        setattr(Tensor, _name, _fn)
