"""Scatter/index and shape functions beyond the API contract, under PyTorch's names:
``scatter`` (and ``scatter_``), ``index_add``, ``index_copy``, ``index_fill`` (and their
in-place forms), ``take``, ``take_along_dim``, ``masked_scatter``; the cumulative
``cumprod``, ``cummax``, ``cummin``, ``logcumsumexp`` (cumulative_functions.py);
``searchsorted``, ``bucketize``, ``bincount``; ``tensor_split``, ``hsplit``, ``vsplit``,
``kron``, ``rot90``, ``tril_indices``/``triu_indices``, ``block_diag``, ``cdist``, ``dist``,
``quantile``, ``kthvalue``, ``msort``, ``ravel``; and in-place forms of the unary ops
(``sqrt_``, ...).

Composites of the core ops (so differentiable twice), except the integer-valued queries
(``searchsorted``, ``bincount``, index tables), which carry no gradient, and ``_Scatter``, a
primitive (scatter where no position is written twice). Exported as ``ad.<name>`` and as
Tensor methods where PyTorch has them.
"""

from __future__ import annotations

import numpy as np

from . import dtypes, ops
from .autograd.node import Op
from .composites import ValuesIndices, cumsum, lerp
from .creation import full, tensor, zeros, zeros_like
from .cumulative_functions import cummax, cummin, cumprod, logcumsumexp
from .distance import cdist
from .errors import DTypeError, IndexRangeError, ShapeError
from .ops._util import constant, float_operand, norm_dim
from .ops.indexing import IndexAdd
from .ops.movement import _in_range
from .tensor import Tensor

__all__ = [
    "bincount",
    "block_diag",
    "bucketize",
    "cdist",
    "cummax",
    "cummin",
    "cumprod",
    "dist",
    "hsplit",
    "index_add",
    "index_copy",
    "index_fill",
    "kron",
    "kthvalue",
    "logcumsumexp",
    "masked_scatter",
    "msort",
    "quantile",
    "ravel",
    "rot90",
    "scatter",
    "searchsorted",
    "take",
    "take_along_dim",
    "tensor_split",
    "tril_indices",
    "triu_indices",
    "vsplit",
]



def _index_along(index: Tensor, dim: int, shape) -> Tensor:
    """A 1-D index of positions along ``dim`` broadcast to ``shape`` (for scatter/gather)."""
    if index.ndim > 1:
        raise ShapeError(f"index must be 0-D or 1-D, got shape {tuple(index.shape)}")
    view = [1] * len(shape)
    view[dim] = -1
    return index.reshape(-1).reshape(tuple(view)).expand(tuple(shape))


def _check_index(index, name, long=False, error=DTypeError):
    """An integer index tensor (``long``: int64 only, as PyTorch's take/index_copy/index_fill)."""
    if not isinstance(index, Tensor) or index.is_floating_point() or index.dtype is dtypes.bool_ \
            or (long and index.dtype is not dtypes.int64):
        raise error(f"{name}: index must be an int64 tensor, got "
                    f"{getattr(index, 'dtype', type(index).__name__)}")


def _wrap_negative(index: Tensor, n: int) -> Tensor:
    """Negative positions counted from the end (where PyTorch accepts them)."""
    return ops.where(index < 0, index + n, index)


# ----------------------------------------------------------------------------- scatter
def scatter(input: Tensor, dim: int, index: Tensor, src=None, *, value=None,
            reduce: str | None = None) -> Tensor:
    """A copy of x with ``src`` (or the scalar ``value``) written at ``index`` along dim
    (with reduce='add' added, with 'multiply' multiplied in). Where index repeats a position
    one write is kept (the last, as PyTorch's CPU kernel keeps), never their sum."""
    _check_index(index, "scatter")
    if src is None:
        src = value
    d = norm_dim(dim, max(input.ndim, 1))
    if not isinstance(src, Tensor):
        src = full(tuple(index.shape), src, dtype=input.dtype, device=input.device)
    if src.shape != index.shape:
        src = src[tuple(slice(0, n) for n in index.shape)]
    src = src.to(input.dtype)
    if (reduce is None and index.ndim == input.ndim and input.ndim
            and all(i <= n for i, n in zip(index.shape, input.shape))
            and _in_range("scatter", input, d, index) is not None and _no_repeats(index, d)):
        return _Scatter.apply(input, index, src, dim=d)
    added = input.scatter_add(d, index, src) if reduce in (None, "add") else None
    if reduce == "add":
        return added
    if reduce == "multiply":
        from .reduce_functions import scatter_reduce

        return scatter_reduce(input, d, index, src, "prod")
    if reduce is not None:
        raise ValueError(f"scatter: reduce must be 'add' or 'multiply' (or None), got {reduce!r}")
    last = _last_writes(index, d, tuple(input.shape))
    src = ops.where(last, src, zeros_like(src))
    hit = zeros_like(input).scatter_add(d, index, last.to(input.dtype)) > 0
    return ops.where(hit, zeros_like(input).scatter_add(d, index, src), input)


class _Scatter(Op):
    """y = x with src written at index along dim, no position written twice; dx = dy zeroed
    there, dsrc = dy gathered there.  A primitive for speed (measured): the composite that
    keeps the last of repeated writes took ~10 ops and a np.unique (scatter of (64, 8) values
    into (64, 128): 97 us, PyTorch's 3.4)."""

    def forward(self, x, index, src, dim):
        self.meta = (index, dim)
        out, idx = self.backend.copy(x._data), index._data
        grids = self.backend.xp.indices(idx.shape, sparse=True)
        out[tuple(idx if k == dim else grids[k] for k in range(idx.ndim))] = src._data
        return out

    def backward(self, g):
        index, dim = self.meta
        gx = gsrc = None
        if self.next[0] is not None:
            zeros = constant(g._dev.backend.zeros(index._data.shape, g._data.dtype), g._dev)
            gx = _Scatter.apply(g, index, zeros, dim=dim)
        if self.next[2] is not None:
            gsrc = g.gather(dim, index)
        return gx, None, gsrc


def _no_repeats(index: Tensor, d: int) -> bool:
    """Whether no two entries of ``index`` along dim d (in one fibre) are equal."""
    a = index._data
    if a.shape[d] < 2:
        return True
    s = index.device.backend.xp.sort(a, axis=d)
    pre = (slice(None),) * d
    return not bool((s[pre + (slice(1, None),)] == s[pre + (slice(None, -1),)]).any())


def _last_writes(index: Tensor, d: int, shape: tuple) -> Tensor:
    """True at each entry of ``index`` that is the last one to write its position of an
    array of ``shape`` (scatter along dim d)."""
    xp = index.device.backend.xp
    idx = index._data
    coords = [xp.broadcast_to(c, idx.shape) for c in xp.indices(idx.shape, sparse=True)]
    coords[d] = idx
    try:
        flat = xp.ravel_multi_index(tuple(coords), shape).ravel()
    except ValueError:
        raise IndexRangeError(f"scatter: index out of bounds for dim {d} of size {shape[d]} "
                              f"(index values must be in [0, {shape[d]}))") from None
    _, first_of_reversed = xp.unique(flat[::-1], return_index=True)
    keep = xp.zeros(flat.size, dtype=bool)
    keep[flat.size - 1 - first_of_reversed] = True
    return Tensor._make(keep.reshape(idx.shape), index.device, False, None)


def index_add(input: Tensor, dim: int, index: Tensor, source: Tensor, *, alpha=1) -> Tensor:
    """x with ``alpha * source`` slices added at ``index`` along dim (repeats accumulate)."""
    _check_index(index, "index_add")
    if source.dtype is not input.dtype:
        raise RuntimeError(f"index_add: self ({input.dtype.name}) and source ({source.dtype.name}) "
                           f"must have the same dtype")
    d = norm_dim(dim, max(input.ndim, 1))
    src = source if alpha == 1 else source * alpha
    if (index.ndim == 1 and input.ndim == source.ndim and source.shape[d] == index.shape[0]
            and all(a == b for k, (a, b) in enumerate(zip(input.shape, source.shape)) if k != d)):
        # slices added by the backend's row kernel: one pass (C++) where scatter_add on the
        # broadcast index took np.add.at per element (256 x 1024: 3.3 ms, now 0.15)
        _in_range("index_add", input, d, index)
        rows = (slice(None),) * d + (index._data,)
        return input + IndexAdd.apply(src, shape=tuple(input.shape), idx=rows)
    return input.scatter_add(d, _index_along(index, d, tuple(source.shape)), src.to(input.dtype))


def index_copy(input: Tensor, dim: int, index: Tensor, source: Tensor) -> Tensor:
    """x with ``source`` slices written at ``index`` along dim."""
    _check_index(index, "index_copy", long=True)
    d = norm_dim(dim, max(input.ndim, 1))
    if index.numel() != (source.shape[d] if source.ndim else 1):
        raise IndexError(f"index_copy: number of indices ({index.numel()}) should be equal to "
                         f"source.size(dim) ({source.shape[d] if source.ndim else 1})")
    return scatter(input, d, _index_along(index, d, tuple(source.shape)), source)


def index_fill(input: Tensor, dim: int, index: Tensor, value) -> Tensor:
    """x with the slices at ``index`` along dim set to ``value`` (a number or a 0-d tensor,
    through which it is differentiable)."""
    _check_index(index, "index_fill", long=True, error=IndexError)
    if isinstance(value, Tensor) and value.ndim:
        raise RuntimeError(f"index_fill: only supports a 0-d value tensor, got {value.ndim} dims")
    if input.ndim == 0:
        return index_fill(input.reshape(1), dim, index, value).reshape(())
    d = norm_dim(dim, input.ndim)
    shape = list(input.shape)
    shape[d] = index.numel()
    where = _index_along(_wrap_negative(index, input.shape[d]), d, tuple(shape))
    if isinstance(value, Tensor):
        return scatter(input, d, where, value.to(input.dtype).expand(tuple(shape)))
    return scatter(input, d, where, value=float(value) if input.dtype.is_floating_point else value)


def take(input: Tensor, index: Tensor) -> Tensor:
    """The entries of the flattened x at ``index`` (negative indices count from the end)."""
    _check_index(index, "take", long=True)
    return input.reshape(-1)[index]


def take_along_dim(input: Tensor, indices: Tensor, dim: int | None = None) -> Tensor:
    """``gather`` with the indices broadcast against x outside ``dim`` (flattened if None)."""
    _check_index(indices, "take_along_dim")
    if dim is None:
        return input.reshape(-1).gather(0, _wrap_negative(indices.reshape(-1), input.numel()))
    d = norm_dim(dim, input.ndim)
    if (input.ndim == indices.ndim and all(a == b for k, (a, b) in enumerate(
            zip(input.shape, indices.shape)) if k != d)
            and not input.device.backend.any_outside(indices._data, 0, input.shape[d])):
        return input.gather(d, indices)  # nothing to wrap or broadcast: one op, not seven
    indices = _wrap_negative(indices, input.shape[d])
    if input.ndim != indices.ndim:
        raise ShapeError(f"take_along_dim: input and indices should have the same number of "
                         f"dims, got {input.ndim} and {indices.ndim}")
    shape = [b if a == 1 else a for a, b in zip(input.shape, indices.shape)]  # broadcast
    xs, ix = list(shape), list(shape)
    xs[d], ix[d] = input.shape[d], indices.shape[d]
    return input.broadcast_to(tuple(xs)).gather(d, indices.broadcast_to(tuple(ix)))


def masked_scatter(input: Tensor, mask: Tensor, source: Tensor) -> Tensor:
    """x with the entries where ``mask`` holds replaced, in row-major order, by the leading
    entries of ``source``."""
    if mask.dtype is not dtypes.bool_:
        raise DTypeError(f"masked_scatter: expected a bool mask, got {mask.dtype.name}")
    if source.dtype is not input.dtype:
        raise RuntimeError(f"masked_scatter: expected self and source to have the same dtype, "
                           f"got {input.dtype.name} and {source.dtype.name}")
    m = mask.broadcast_to(tuple(input.shape))
    order = cumsum(m.reshape(-1), 0) - 1
    need = int(m.sum())
    if source.numel() < need:
        raise ShapeError(f"masked_scatter: source has {source.numel()} elements, the mask "
                         f"selects {need}")
    picked = source.reshape(-1)[order.clamp(min=0)].reshape(tuple(input.shape))
    return ops.where(m, picked.to(input.dtype), input)


# ----------------------------------------------------------------------------- search
def searchsorted(sorted_sequence: Tensor, input, *, out_int32: bool = False,
                 right: bool = False, side: str | None = None, sorter=None) -> Tensor:
    """Insertion positions of ``values`` in the sorted last dim of ``sorted_sequence`` (or of
    ``sorted_sequence`` gathered by ``sorter``, the indices that sort its last dim)."""
    if side == "left" and right:  # as PyTorch
        raise RuntimeError("searchsorted: side and right can't be set to opposites, got side "
                           "of left while right was True")
    side = side or ("right" if right else "left")
    seq = np.asarray(sorted_sequence.detach().cpu().numpy())
    if sorter is not None:
        seq = np.take_along_axis(seq, np.asarray(sorter.detach().cpu().numpy()), -1)
    vals = np.asarray(input.detach().cpu().numpy() if isinstance(input, Tensor) else input)
    if seq.ndim <= 1:
        out = np.searchsorted(seq, vals, side=side)
    else:
        if seq.shape[:-1] != vals.shape[:-1]:
            raise ShapeError(f"searchsorted: boundaries {seq.shape} and input {vals.shape} "
                             f"must match in all but the last dim")
        s2, v2 = seq.reshape(-1, seq.shape[-1]), vals.reshape(-1, vals.shape[-1])
        out = np.stack([np.searchsorted(s, v, side=side) for s, v in zip(s2, v2)])
        out = out.reshape(vals.shape)
    return tensor(out.astype(np.int32 if out_int32 else np.int64),
                  device=sorted_sequence.device)


def bucketize(input, boundaries: Tensor, *, out_int32: bool = False, right: bool = False):
    """The bucket of each entry of x among the sorted 1-D ``boundaries``."""
    if boundaries.ndim != 1:
        raise ShapeError(f"bucketize: boundaries must be 1-D, got {tuple(boundaries.shape)}")
    return searchsorted(boundaries, input, out_int32=out_int32, right=right)


def bincount(input: Tensor, weights: Tensor | None = None, minlength: int = 0) -> Tensor:
    """Counts (or summed weights) of each non-negative integer in the 1-D x."""
    if input.ndim != 1 or input.is_floating_point():
        raise ShapeError(f"bincount: expected a 1-D integer tensor, got {input.dtype.name} "
                         f"{tuple(input.shape)}")
    host = np.asarray(input.cpu().numpy())
    if host.size and host.min() < 0:
        raise ValueError("bincount: only non-negative integers can be counted")
    w = None if weights is None else np.asarray(weights.detach().cpu().numpy())
    out = np.bincount(host, w, minlength)
    dt = np.int64 if w is None else w.dtype if w.dtype.kind == "f" else np.float64  # (PyTorch)
    return tensor(out.astype(dt), device=input.device)


# ----------------------------------------------------------------------------- shapes
def tensor_split(input: Tensor, indices_or_sections, dim: int = 0) -> tuple:
    """Split into ``n`` nearly equal parts (the first ones one longer) or at the given
    indices, as numpy.array_split."""
    d = norm_dim(dim, input.ndim, "tensor_split")
    n = input.shape[d]
    if isinstance(indices_or_sections, Tensor):  # 0-d: a number of sections; 1-d: indices
        if indices_or_sections.dtype is not dtypes.int64 or indices_or_sections.ndim > 1:
            raise RuntimeError(f"tensor_split: expected a 0-d or 1-d int64 tensor, got "
                               f"{indices_or_sections.dtype.name} of shape "
                               f"{tuple(indices_or_sections.shape)}")
        indices_or_sections = indices_or_sections.tolist()
    if isinstance(indices_or_sections, int):
        k = indices_or_sections
        if k <= 0:
            raise ShapeError(f"tensor_split: number of sections must be positive, got {k}")
        sizes = [n // k + (1 if i < n % k else 0) for i in range(k)]
        cuts = list(np.cumsum([0] + sizes))
    else:  # the parts are x[a:b] along dim, Python's slices (negative cuts count from the end)
        cuts = [0] + [int(i) for i in indices_or_sections] + [n]
    spans = [range(n)[a:b] for a, b in zip(cuts[:-1], cuts[1:])]
    return tuple(input.narrow(d, s.start if len(s) else 0, len(s)) for s in spans)


def _even_split(x, sections, dim, name):
    if isinstance(sections, int) and x.shape[dim] % sections:
        raise ValueError(f"{name}: dimension {dim} of size {x.shape[dim]} is not divisible "
                         f"by {sections}")
    return tensor_split(x, sections, dim)


def hsplit(input: Tensor, sections) -> tuple:
    return _even_split(input, sections, 1 if input.ndim > 1 else 0, "hsplit")


def vsplit(input: Tensor, sections) -> tuple:
    if input.ndim < 2:
        raise ShapeError("vsplit: the input needs at least 2 dims")
    return _even_split(input, sections, 0, "vsplit")


def ravel(input: Tensor) -> Tensor:
    return input.reshape(-1)


def kron(input: Tensor, other: Tensor) -> Tensor:
    """The Kronecker product (the shorter shape padded with leading ones)."""
    nd = max(input.ndim, other.ndim)
    sa = (1,) * (nd - input.ndim) + tuple(input.shape)
    sb = (1,) * (nd - other.ndim) + tuple(other.shape)
    left = input.reshape(tuple(v for n in sa for v in (n, 1)))
    right = other.reshape(tuple(v for n in sb for v in (1, n)))
    return (left * right).reshape(tuple(p * q for p, q in zip(sa, sb)))


def rot90(input: Tensor, k: int = 1, dims=(0, 1)) -> Tensor:
    """Rotate by 90 degrees ``k`` times in the plane of ``dims`` (from the first towards the
    second)."""
    if len(dims) != 2 or input.ndim < 2:
        raise RuntimeError(f"rot90: expected 2 dims and a tensor of at least 2 dims, got dims "
                           f"{tuple(dims)} and a {input.ndim}-d tensor")
    d0, d1 = (norm_dim(d, input.ndim) for d in dims)
    if d0 == d1:
        raise ShapeError(f"rot90: the two dims must differ, got {dims}")
    k %= 4
    if k == 1:
        return input.flip(d1).transpose(d0, d1)
    if k == 2:
        return input.flip((d0, d1))
    if k == 3:
        return input.flip(d0).transpose(d0, d1)
    return input * 1


def _tri_indices(fn, row, col, offset, device):
    r, c = fn(row, offset, col)
    return tensor(np.stack([r, c]).astype(np.int64), device=device)


def tril_indices(row: int, col: int, offset: int = 0, *, device=None, dtype=None) -> Tensor:
    """(2, N) coordinates of the lower triangle of a row x col matrix, row by row."""
    return _tri_indices(np.tril_indices, row, col, offset, device)


def triu_indices(row: int, col: int, offset: int = 0, *, device=None, dtype=None) -> Tensor:
    """(2, N) coordinates of the upper triangle of a row x col matrix, row by row."""
    return _tri_indices(np.triu_indices, row, col, offset, device)


def block_diag(*tensors) -> Tensor:
    """The block-diagonal matrix of 0-, 1- or 2-D tensors."""
    from .nn import functional as F

    mats = [t.reshape(1, -1) if t.ndim < 2 else t for t in tensors]
    if any(m.ndim != 2 for m in mats):
        raise ShapeError("block_diag: inputs must have at most 2 dims")
    if not mats:
        return zeros((1, 0))
    dt = mats[0].dtype
    for m in mats[1:]:
        dt = dtypes.promote(dt, m.dtype)
    width = sum(m.shape[1] for m in mats)
    rows, left = [], 0
    for m in mats:
        rows.append(F.pad(m.to(dt), (left, width - left - m.shape[1], 0, 0)))
        left += m.shape[1]
    return ops.cat(rows, 0)


def dist(input: Tensor, other: Tensor, p: float = 2.0) -> Tensor:
    """The p-norm of a - b."""
    return (input - other).norm(p)


# ----------------------------------------------------------------------------- order stats
def quantile(input: Tensor, q, dim: int | None = None, keepdim: bool = False, *,
             interpolation: str = "linear") -> Tensor:
    """The q-th quantiles (q a float or a 1-D tensor in [0, 1]) along ``dim`` (of the
    flattened x when None), interpolating between order statistics as PyTorch."""
    input = float_operand(input)
    scalar_q, qs = _quantiles(q, input)
    src = input.reshape(-1) if dim is None or input.ndim == 0 else input
    d = 0 if dim is None else norm_dim(dim, max(input.ndim, 1))
    s = src.sort(d).values
    n = s.shape[d]
    outs = []
    for qv in qs:
        lo, hi, frac = (v.item() for v in _positions(np.float64(qv * (n - 1)), interpolation,
                                                      "quantile"))
        lo, hi = int(lo), int(hi)
        a, b = s.narrow(d, lo, 1), s.narrow(d, hi, 1)
        v = a if hi == lo else lerp(a, b, frac)
        if n:  # NaN anywhere in a row makes its quantiles NaN (sorted last), as PyTorch
            last = s.narrow(d, n - 1, 1)
            v = ops.where(last.isnan(), last, v)
        outs.append(_keep_dims(v, input, dim, d, keepdim))
    return outs[0] if scalar_q else ops.stack(outs, 0)


def _keep_dims(v: Tensor, x: Tensor, dim, d: int, keepdim: bool) -> Tensor:
    """A quantile taken along d (size 1 there) shaped as PyTorch returns it: all dims kept as
    ones (keepdim without a dim), d kept (keepdim), or d dropped."""
    if keepdim and (dim is None or x.ndim == 0):
        return v.reshape((1,) * x.ndim)
    return v if keepdim else v.squeeze(d)


def _positions(pos: np.ndarray, interpolation: str, name: str):
    """(lower index, upper index, weight of the upper) for fractional positions ``pos``."""
    lo, hi = np.floor(pos), np.ceil(pos)
    if interpolation == "lower":
        hi = lo
    elif interpolation == "higher":
        lo = hi
    elif interpolation == "nearest":
        lo = hi = np.round(pos)
    elif interpolation not in ("linear", "midpoint"):
        raise ValueError(f"{name}: unknown interpolation {interpolation!r}")
    # no weight where the two ends coincide (lower / higher / nearest): inf - inf is NaN
    frac = np.where(hi != lo, 0.5 if interpolation == "midpoint" else pos - lo, 0.0)
    return lo, hi, frac


def _quantiles(q, x: Tensor) -> tuple[bool, np.ndarray]:
    """(whether q is a scalar, the q values as a 1-D float64 array), checked in [0, 1]."""
    if x.numel() == 0:
        raise ShapeError("quantile() input tensor must be non-empty")
    qs = np.atleast_1d(np.asarray(q.detach().cpu().numpy() if isinstance(q, Tensor) else q,
                                  dtype=np.float64))
    if qs.size and (qs.min() < 0 or qs.max() > 1):
        raise ValueError("quantile() q values must be in the range [0, 1]")
    return not isinstance(q, Tensor) or q.ndim == 0, qs  # a 0-d tensor q: a scalar result


def kthvalue(input: Tensor, k: int, dim: int = -1, keepdim: bool = False):
    """(the k-th smallest value, its index) along ``dim``."""
    d = norm_dim(dim, max(input.ndim, 1))
    n = input.shape[d] if input.ndim else 1
    if not 1 <= k <= n:
        raise IndexRangeError(f"kthvalue: k ({k}) out of range for dimension of size {n}")
    if input.ndim == 0:
        return ValuesIndices(input * 1, zeros((), dtype=dtypes.int64, device=input.device))
    s = input.sort(d)
    v, i = s.values.narrow(d, k - 1, 1), s.indices.narrow(d, k - 1, 1)
    if not keepdim:
        v, i = v.squeeze(d), i.squeeze(d)
    return ValuesIndices(v, i)


def msort(input: Tensor) -> Tensor:
    return input.sort(0).values


# ----------------------------------------------------------------------------- methods
_METHODS = ["scatter", "index_add", "index_copy", "index_fill", "take", "take_along_dim", "masked_scatter", "cumprod", "cummax", "cummin", "logcumsumexp", "tensor_split", "hsplit", "vsplit", "kron", "rot90", "quantile", "kthvalue", "msort", "ravel"]
for _name in _METHODS:
    setattr(Tensor, _name, globals()[_name])


def _inplace_of(fn):
    def method(self, *args, **kwargs):
        return self._inplace(fn, *args, **kwargs)

    method.__name__ = fn.__name__ + "_"
    return method


for _name in ("scatter", "index_add", "index_copy", "index_fill", "masked_scatter"):
    setattr(Tensor, _name + "_", _inplace_of(globals()[_name]))
for _name in ("sqrt", "rsqrt", "abs", "neg", "sigmoid", "tanh", "log", "log1p", "sin", "cos",
              "floor", "ceil", "round", "trunc", "sign", "reciprocal", "square"):
    if not hasattr(Tensor, _name + "_"):
        setattr(Tensor, _name + "_", _inplace_of(getattr(ops, _name)))
del _name
