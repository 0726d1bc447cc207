"""Shape, indexing and sequence PyTorch names that were still missing: ``atleast_1d/2d/3d``,
``fliplr``/``flipud``, ``row_stack``, ``diag_embed``, ``diagflat``, the ``*_scatter`` family,
``split_with_sizes``, ``dsplit``, ``unique_consecutive``, ``Tensor.unfold`` (a strided window
view), ``as_strided`` (a view of the base's memory), ``cartesian_prod``, ``combinations``, ``vander``, ``unravel_index``, ``index_put``, ``put``, ``renorm``, ``mode`` and
``nonzero_static`` and ``index_reduce``.

Each is a composite of differentiable ops (gradients come for free) or, for index queries, a
host-side computation with no gradient, as in PyTorch. ``unfold`` is a view primitive of its
own: its forward is NumPy's/CuPy's ``as_strided``, its backward sums the windows' gradients
back into place with ``index_add`` (itself differentiable); so is ``as_strided``.
"""

from __future__ import annotations

import collections
import itertools

import numpy as np

from . import dtypes, ops
from .autograd.node import Op
from .composites import diag, meshgrid
from .creation import ones_like, tensor, zeros
from .errors import DTypeError, ShapeError
from .index_functions import index_add, index_copy, tensor_split
from .linalg import vector_norm
from .ops._util import norm_dim
from .ops.movement import DiagonalScatter
from .tensor import Tensor

# fmt: off
__all__ = [
    "as_strided", "as_strided_scatter", "atleast_1d", "atleast_2d", "atleast_3d", "cartesian_prod", "combinations",
    "diag_embed", "diagflat", "diagonal_scatter", "dsplit", "fliplr", "flipud", "index_put",
    "index_reduce",
    "mode", "nonzero_static", "put", "renorm", "row_stack", "select_scatter", "slice_scatter",
    "split_with_sizes", "unique_consecutive", "unravel_index", "vander",
]
# fmt: on

ModeResult = collections.namedtuple("mode", ["values", "indices"])


def _const(array, like: Tensor) -> Tensor:
    return Tensor._make(array, like._dev, False, None)


# ----------------------------------------------------------------- stacking and flipping
def _atleast(n: int, tensors):
    single = len(tensors) == 1 and isinstance(tensors[0], Tensor)
    ts = tensors[0] if len(tensors) == 1 and not single else tensors
    out = []
    for t in ts:
        if t.ndim < n:
            shape = tuple(t.shape)
            if n == 3 and t.ndim == 2:
                shape = shape + (1,)
            elif n == 3 and t.ndim == 1:
                shape = (1,) + shape + (1,)
            else:
                shape = (1,) * (n - t.ndim) + shape
            t = t.reshape(shape)
        out.append(t)
    return out[0] if single else tuple(out)


def atleast_1d(*tensors):
    """Each tensor viewed with at least 1 dim (a tuple when given several or a sequence)."""
    return _atleast(1, tensors)


def atleast_2d(*tensors):
    """Each tensor viewed with at least 2 dims (leading dims of size 1 added)."""
    return _atleast(2, tensors)


def atleast_3d(*tensors):
    """Each tensor with at least 3 dims: (n,) -> (1, n, 1), (m, n) -> (m, n, 1)."""
    return _atleast(3, tensors)


def fliplr(input: Tensor) -> Tensor:
    """Reverse dim 1 (the columns)."""
    if input.ndim < 2:
        raise ShapeError(f"fliplr: input must be >= 2-d, got {input.ndim}-d")
    return input.flip(1)


def flipud(input: Tensor) -> Tensor:
    """Reverse dim 0 (the rows)."""
    if input.ndim < 1:
        raise ShapeError("flipud: input must be >= 1-d, got 0-d")
    return input.flip(0)


def row_stack(tensors) -> Tensor:
    """``vstack``: concatenate along dim 0, 1-D tensors as rows."""
    return ops.cat([t.reshape(1, -1) if t.ndim < 2 else t for t in tensors], 0)


# ----------------------------------------------------------------- diagonals and scatters
def diag_embed(input: Tensor, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:
    """Tensors whose (dim1, dim2) diagonal at ``offset`` holds x's last dim, zeros elsewhere.

    Shape:
        x (*, n) -> output of x.ndim + 1 dims, n + |offset| at dim1 and dim2.
    """
    nd = input.ndim + 1
    d1, d2 = norm_dim(dim1, nd), norm_dim(dim2, nd)
    if d1 == d2:
        raise RuntimeError(f"diag_embed: diagonal dimensions cannot be identical {dim1}, {dim2}")
    m = (input.shape[-1] if input.ndim else 1) + abs(offset)
    rest = iter(input.shape[:-1])
    shape = tuple(m if i in (d1, d2) else next(rest) for i in range(nd))
    src = input if input.ndim else input.reshape(1)
    return DiagonalScatter.apply(src, shape=shape, args=(offset, d1, d2))


def diagflat(input: Tensor, offset: int = 0) -> Tensor:
    """The flattened x on the ``offset`` diagonal of a square matrix."""
    return diag(input.reshape(-1), offset)


def diagonal_scatter(
    input: Tensor, src: Tensor, offset: int = 0, dim1: int = 0, dim2: int = 1
) -> Tensor:
    """x with its (dim1, dim2) diagonal at ``offset`` replaced by src (differentiable in both)."""
    d1, d2 = norm_dim(dim1, input.ndim), norm_dim(dim2, input.ndim)
    want = tuple(input.diagonal(offset, d1, d2).shape)
    if tuple(src.shape) != want:
        raise ShapeError(
            f"diagonal_scatter: src must have shape {want} (the diagonal's), got {tuple(src.shape)}"
        )
    args = (offset, d1, d2)
    placed = DiagonalScatter.apply(src.to(input.dtype), shape=tuple(input.shape), args=args)
    ones = _const(input._dev.backend.ones(want, np.bool_), input)
    mask = DiagonalScatter.apply(ones, shape=tuple(input.shape), args=args)
    return ops.where(mask, placed, input)


def select_scatter(input: Tensor, src: Tensor, dim: int, index: int) -> Tensor:
    """x with ``x.select(dim, index)`` replaced by src."""
    d = norm_dim(dim, input.ndim)
    n = input.shape[d]
    if not -n <= index < n:
        raise IndexError(f"select_scatter: index {index} out of range for dim {dim} of size {n}")
    want = tuple(input.shape[:d] + input.shape[d + 1 :])
    if tuple(src.shape) != want:
        raise ShapeError(f"select_scatter: src must have shape {want}, got {tuple(src.shape)}")
    idx = tensor([index % n], dtype=dtypes.int64, device=input.device)
    return index_copy(input, d, idx, src.to(input.dtype).unsqueeze(d))


def slice_scatter(
    input: Tensor,
    src: Tensor,
    dim: int = 0,
    start: int | None = None,
    end: int | None = None,
    step: int = 1,
) -> Tensor:
    """x with ``x[start:end:step]`` along dim replaced by src."""
    d = norm_dim(dim, input.ndim)
    if step <= 0:
        raise ValueError(f"slice_scatter: slice step must be positive, got {step}")
    positions = range(input.shape[d])[slice(start, end, step)]
    want = list(input.shape)
    want[d] = len(positions)
    if tuple(src.shape) != tuple(want):
        raise ShapeError(
            f"slice_scatter: src must have shape {tuple(want)}, got {tuple(src.shape)}"
        )
    if not len(positions):
        return input.clone()
    idx = tensor(list(positions), dtype=dtypes.int64, device=input.device)
    return index_copy(input, d, idx, src.to(input.dtype))


# ----------------------------------------------------------------- splitting
def split_with_sizes(input: Tensor, split_sizes, dim: int = 0) -> tuple:
    """Split into pieces of the given sizes along dim (they must sum to its size)."""
    d = norm_dim(dim, input.ndim)
    sizes = [int(s) for s in split_sizes]
    if sum(sizes) != input.shape[d] or any(s < 0 for s in sizes):
        raise ShapeError(
            f"split_with_sizes: expects split_sizes to sum exactly to "
            f"{input.shape[d]} (the size of dim {d}), but got split_sizes={sizes}"
        )
    return ops.split(input, sizes, d)


def dsplit(input: Tensor, sections) -> tuple:
    """Split along dim 2 (``tensor_split`` into equal parts, or at indices)."""
    if input.ndim < 3:
        raise ShapeError(
            f"dsplit: requires a tensor with at least 3 dimensions, but got a "
            f"tensor with {input.ndim} dimensions"
        )
    if isinstance(sections, int) and (sections <= 0 or input.shape[2] % sections):
        raise ShapeError(
            f"dsplit: the size of dimension 2, {input.shape[2]}, is not divisible by "
            f"the split_size {sections}"
        )
    return tensor_split(input, sections, 2)


def unique_consecutive(input: Tensor, return_inverse: bool = False, return_counts: bool = False,
                       dim: int | None = None):
    """Collapse runs of equal consecutive elements (or slices along ``dim``) to one."""
    a = input._dev.backend.to_numpy(input._data)
    if dim is None:
        flat = a.reshape(-1)
        change = np.concatenate([[True], flat[1:] != flat[:-1]])[: flat.size]
        values, inv_shape = flat[change], a.shape
    else:
        d = norm_dim(dim, input.ndim)
        moved = np.moveaxis(a, d, 0)
        ne = moved[1:] != moved[:-1]
        diff = ne.reshape(len(ne), int(np.prod(ne.shape[1:]))).any(1)
        change = np.concatenate([[True], diff])[: len(moved)]
        values, inv_shape = np.moveaxis(moved[change], 0, d), (len(moved),)
    inverse = (np.cumsum(change) - 1).reshape(inv_shape)
    starts = np.flatnonzero(change)
    counts = np.diff(np.append(starts, change.size))
    out = [tensor(values, device=input.device)]
    if return_inverse:
        out.append(tensor(inverse.astype(np.int64), device=input.device))
    if return_counts:
        out.append(tensor(counts.astype(np.int64), device=input.device))
    return out[0] if len(out) == 1 else tuple(out)


# ----------------------------------------------------------------- windows (a view)
class _Unfold(Op):
    """y = the windows x[i step : i step + size] along dim, as a new last dim (a view of x);
    dx = each window's gradient added back into place."""

    is_view = 1

    def forward(self, x, dim, size, step):
        a = x._data
        self.in_shape, self.args = a.shape, (dim, size, step)
        if a.ndim == 0:
            return a.reshape(1)
        n = (a.shape[dim] - size) // step + 1
        shape = a.shape[:dim] + (n,) + a.shape[dim + 1 :] + (size,)
        st = a.strides
        strides = st[:dim] + (st[dim] * step,) + st[dim + 1 :] + (st[dim],)
        return self.backend.xp.lib.stride_tricks.as_strided(a, shape, strides)

    def backward(self, g):
        dim, size, step = self.args
        if not self.in_shape:
            return (g.reshape(()),)
        n = g.shape[dim]
        pos = (np.arange(n)[:, None] * step + np.arange(size)[None, :]).reshape(-1)
        idx = tensor(pos, dtype=dtypes.int64, device=g.device)
        gw = g.movedim(dim, -2)
        outer = tuple(gw.shape[:-2])
        base = zeros(outer + (self.in_shape[dim],), dtype=g.dtype, device=g.device)
        dx = index_add(base, -1, idx, gw.reshape(outer + (n * size,)))
        return (dx.movedim(-1, dim),)


def unfold(x: Tensor, dimension: int, size: int, step: int) -> Tensor:
    """Tensor.unfold: every window of ``size`` elements ``step`` apart along ``dimension``, as
    a view with the window as a new last dim.

    Shape:
        (*, L, *) -> (*, (L - size) // step + 1, *, size).
    """
    d = norm_dim(dimension, x.ndim)
    length = x.shape[d] if x.ndim else 1
    if size < 0:
        raise RuntimeError(f"unfold: size is {size} but must be >= 0")
    if size > length:
        raise RuntimeError(
            f"unfold: maximum size for tensor at dimension {d} is {length} but size is {size}"
        )
    if step <= 0:
        raise RuntimeError(f"unfold: step is {step} but must be > 0")
    return _Unfold.apply(x, dim=d, size=int(size), step=int(step))


def _strided_positions(size, stride, offset) -> np.ndarray:
    """The flat position offset + sum_k i_k stride_k of each element of a strided view."""
    pos = np.full(size, offset, np.int64)
    for k, (n, s) in enumerate(zip(size, stride)):
        pos += (np.arange(n) * s).reshape((-1,) + (1,) * (len(size) - k - 1))
    return pos


class _AsStrided(Op):
    """y[i] = flat(x)[offset + sum_k i_k stride_k] (a view of x's memory when x is contiguous,
    as a base is); dx = dy added back at those flat positions."""

    is_view = 1

    def forward(self, x, size, stride, offset):
        a = x._data if x._data.flags.c_contiguous else self.backend.contiguous(x._data)
        self.in_shape, self.args = a.shape, (size, stride, offset)
        strides = tuple(s * a.itemsize for s in stride)
        return self.backend.xp.lib.stride_tricks.as_strided(a.reshape(-1)[offset:], size, strides)

    def backward(self, g):
        pos = _strided_positions(*self.args)
        flat = zeros(int(np.prod(self.in_shape)), dtype=g.dtype, device=g.device)
        idx = tensor(pos.reshape(-1), device=g.device)
        return (index_add(flat, 0, idx, g.reshape(-1)).reshape(self.in_shape),)


def storage_offset(x: Tensor) -> int:
    """The position of x's first element in its base's memory, in elements (0 for a base)."""
    if x._base is None:
        return 0
    ptr = [int(d.ctypes.data) if isinstance(d, np.ndarray) else int(d.data.ptr)
           for d in (x._data, x._base._data)]
    return (ptr[0] - ptr[1]) // x._data.itemsize


def as_strided(input: Tensor, size, stride, storage_offset=None) -> Tensor:
    """A view of x's memory (its base's, read row-major) with the given sizes and strides, in
    elements; ``storage_offset`` defaults to x's own. Differentiable (overlapping windows'
    gradients add up).

    Shape:
        any -> ``size``.
    """
    base = input if input._base is None else input._base
    size, stride = tuple(int(n) for n in size), tuple(int(s) for s in stride)
    offset = globals()["storage_offset"](input) if storage_offset is None else int(storage_offset)
    if len(size) != len(stride):
        raise RuntimeError(f"as_strided: mismatch in length of strides and shape: {size} and "
                           f"{stride}")
    if any(s < 0 for s in stride) or offset < 0:
        raise RuntimeError(f"as_strided: negative strides or storage offset are not supported, "
                           f"got strides {stride} and offset {offset}")
    need = offset + sum((n - 1) * s for n, s in zip(size, stride)) + 1 if all(size) else 0
    if need > base.numel():
        raise RuntimeError(f"as_strided: sizes {list(size)}, strides {list(stride)} and storage "
                           f"offset {offset} need a storage of {need} elements, out of bounds "
                           f"for storage of size {base.numel()}")
    return _AsStrided.apply(base, size=size, stride=stride, offset=offset)


def as_strided_scatter(input: Tensor, src: Tensor, size, stride, storage_offset=None) -> Tensor:
    """A copy of x (read row-major) with the elements ``as_strided(size, stride,
    storage_offset)`` would view replaced by src (differentiable in both)."""
    size, stride = tuple(int(n) for n in size), tuple(int(s) for s in stride)
    if tuple(src.shape) != size:
        raise ShapeError(f"as_strided_scatter: expected src to have a size equal to the slice "
                         f"of self. src size = {list(src.shape)}, slice size = {list(size)}")
    pos = _strided_positions(size, stride, int(storage_offset or 0)).reshape(-1)
    if pos.size and (pos.min() < 0 or pos.max() >= input.numel()):
        raise RuntimeError(f"as_strided_scatter: sizes {list(size)}, strides {list(stride)} and "
                           f"storage offset {storage_offset or 0} are out of bounds for an input "
                           f"of {input.numel()} elements")
    idx = tensor(pos, dtype=dtypes.int64, device=input.device)
    flat = index_copy(input.reshape(-1), 0, idx, src.to(input.dtype).reshape(-1))
    return flat.reshape(tuple(input.shape))


if not hasattr(Tensor, "storage_offset"):
    Tensor.storage_offset = storage_offset


# ----------------------------------------------------------------- products of sequences
def cartesian_prod(*tensors) -> Tensor:
    """Every combination of one element from each 1-D tensor, as rows (N, len(tensors))."""
    if len(tensors) == 1:
        return tensors[0]
    grids = meshgrid(*tensors, indexing="ij")
    return ops.stack([g.reshape(-1) for g in grids], 1)


def combinations(input: Tensor, r: int = 2, with_replacement: bool = False) -> Tensor:
    """The length-r combinations of a 1-D tensor's elements, as rows (itertools' order)."""
    if input.ndim != 1:
        raise ShapeError(f"combinations: expect a 1D vector, but got shape {tuple(input.shape)}")
    if r < 0:
        raise ValueError(f"combinations: expect a non-negative number, but got {r}")
    if r == 0:
        return input.narrow(0, 0, 0)
    pick = itertools.combinations_with_replacement if with_replacement else itertools.combinations
    idx = np.array(list(pick(range(input.shape[0]), r)), dtype=np.int64).reshape(-1, r)
    return input[tensor(idx.reshape(-1), device=input.device)].reshape(-1, r)


def vander(x: Tensor, N: int | None = None, increasing: bool = False) -> Tensor:
    """The Vandermonde matrix: columns x^(N-1), ..., x, 1 (reversed when ``increasing``)."""
    if x.ndim != 1:
        raise ShapeError(f"vander: x must be a one-dimensional tensor, got shape {tuple(x.shape)}")
    n = x.shape[0] if N is None else int(N)
    if n < 0:
        raise ValueError(f"vander: N must be non-negative, got {n}")
    if n == 0:
        return x.reshape(-1, 1).narrow(1, 0, 0)
    cols = [ones_like(x)]
    for _ in range(n - 1):
        cols.append(cols[-1] * x)
    return ops.stack(cols if increasing else cols[::-1], 1)


# ----------------------------------------------------------------- index arithmetic
def unravel_index(indices, shape) -> tuple:
    """The coordinates in ``shape`` of flat indices (negative ones wrap, as in PyTorch)."""
    if isinstance(indices, Tensor):
        if indices.dtype.is_floating_point or indices.dtype is dtypes.bool_:
            raise DTypeError(
                f"unravel_index: expected 'indices' to be an integer tensor, got "
                f"{indices.dtype.name}"
            )
        dev, flat = indices.device, indices._dev.backend.to_numpy(indices._data).astype(np.int64)
    else:
        dev, flat = None, np.asarray(indices, dtype=np.int64)
    shape = (int(shape),) if isinstance(shape, (int, np.integer)) else tuple(int(s) for s in shape)
    if any(s < 0 for s in shape):
        raise ValueError(f"unravel_index: 'shape' cannot have negative values, got {shape}")
    out = []
    for n in reversed(shape):
        out.append(flat % n if n else flat * 0)
        flat = flat // n if n else flat
    return tuple(tensor(c, dtype=dtypes.int64, device=dev) for c in reversed(out))


def _flat_positions(name: str, x: Tensor, indices) -> tuple[Tensor, tuple, int]:
    """The row-major positions in x's first k dims of a tuple of k index tensors (bool masks
    expanded), broadcast, as a flat int64 tensor; also the broadcast shape and k."""
    idx = []
    for t in indices:
        if not isinstance(t, Tensor):
            t = tensor(t, device=x.device)
        if t.dtype is dtypes.bool_:
            idx.extend(t.nonzero(as_tuple=True))
        elif t.dtype.is_floating_point:
            raise IndexError(
                f"{name}: tensors used as indices must be long, int, uint8 or bool "
                f"tensors, got {t.dtype.name}"
            )
        else:
            idx.append(t)
    k = len(idx)
    if k > x.ndim:
        raise IndexError(f"{name}: too many indices for tensor of dimension {x.ndim} (got {k})")
    arrays = [t._dev.backend.to_numpy(t._data).astype(np.int64) for t in idx]
    bshape = np.broadcast_shapes(*[a.shape for a in arrays]) if arrays else ()
    flat = np.zeros(bshape, np.int64)
    for a, n in zip(arrays, x.shape[:k]):
        if a.size and (a.min() < -n or a.max() >= n):
            bad = a.min() if a.min() < -n else a.max()
            raise IndexError(f"{name}: index {bad} is out of bounds for dimension with size {n}")
        flat = flat * n + a % max(n, 1)
    return tensor(flat.reshape(-1), device=x.device), tuple(bshape), k


def index_put(input: Tensor, indices, values, accumulate: bool = False) -> Tensor:
    """input with ``values`` written at ``input[indices]`` (added when ``accumulate``)."""
    if not isinstance(values, Tensor):
        values = tensor(values, dtype=input.dtype, device=input.device)
    if values.dtype is not input.dtype:
        raise RuntimeError(
            f"index_put: requires the source and destination dtypes match, got "
            f"{input.dtype.name} for the destination and {values.dtype.name} for "
            f"the source"
        )
    flat, bshape, k = _flat_positions("index_put", input, tuple(indices))
    rest = tuple(input.shape[k:])
    lead = int(np.prod(input.shape[:k], dtype=np.int64))
    v = values.broadcast_to(bshape + rest).reshape((flat.shape[0],) + rest)
    xf = input.reshape((lead,) + rest)
    out = index_add(xf, 0, flat, v) if accumulate else index_copy(xf, 0, flat, v)
    return out.reshape(tuple(input.shape))


def put(input: Tensor, index: Tensor, source: Tensor, accumulate: bool = False) -> Tensor:
    """x with ``source`` written at the flat positions ``index`` (added when ``accumulate``)."""
    if index.dtype is not dtypes.int64:
        raise RuntimeError(f"put: expected an int64 index, got {index.dtype.name}")
    if index.numel() != source.numel():
        raise IndexError(
            f"put: expected source and index to have the same number of "
            f"elements, got {source.numel()} and {index.numel()}"
        )
    flat = input.reshape(-1)
    return index_put(flat, (index.reshape(-1),), source.reshape(-1), accumulate).reshape(
        tuple(input.shape)
    )


def renorm(input: Tensor, p: float, dim: int, maxnorm: float) -> Tensor:
    """Each slice along dim rescaled to p-norm at most ``maxnorm`` (scale maxnorm/(norm+1e-7))."""
    if input.ndim < 2:
        raise ShapeError(f"renorm: input needs at least 2 dimensions, got {input.ndim} dimensions")
    if p <= 0:
        raise ValueError(f"renorm: non-positive-norm not supported, got p={p}")
    if maxnorm < 0:
        raise ValueError(f"renorm: expected maxnorm to be >= 0 but got {maxnorm}")
    if not input.dtype.is_floating_point:
        raise DTypeError(f"renorm: expected a floating dtype, got {input.dtype.name}")
    d = norm_dim(dim, input.ndim)
    others = tuple(i for i in range(input.ndim) if i != d)
    norm = vector_norm(input, p, dim=others, keepdim=True)
    factor = ops.where(norm > maxnorm, maxnorm / (norm + 1e-7), 1.0)
    return input * factor


def mode(input: Tensor, dim: int = -1, keepdim: bool = False):
    """The most frequent value along dim (the smallest on ties) and the index of its last
    occurrence; differentiable through the values (as ``max``)."""
    if input.ndim == 0:
        return ModeResult(input.clone(), tensor(0, device=input.device))
    d = norm_dim(dim, input.ndim)
    a = np.moveaxis(input._dev.backend.to_numpy(input._data), d, -1)
    n = a.shape[-1]
    if n == 0:
        raise IndexError(f"mode: expected reduction dim {d} to have non-zero size")
    rows = a.reshape(-1, n)
    v = _row_modes(rows)[:, None]
    hit = (rows == v) | (np.isnan(rows) & np.isnan(v)) if rows.dtype.kind == "f" else rows == v
    pos = n - 1 - np.argmax(hit[:, ::-1], axis=1)  # the last occurrence
    idx = tensor(pos.astype(np.int64).reshape(a.shape[:-1]), device=input.device).unsqueeze(d)
    values = input.gather(d, idx)
    if not keepdim:
        values, idx = values.squeeze(d), idx.squeeze(d)
    return ModeResult(values, idx)


def _row_modes(rows: np.ndarray) -> np.ndarray:
    """The most frequent value of each row (the smallest on ties, NaNs counted as one value),
    from the runs of the sorted rows: all rows at once (a np.unique per row took 1 ms for 64
    rows of 128)."""
    r, n = rows.shape
    s = np.sort(rows, axis=1)  # (NaN last)
    same = s[:, 1:] == s[:, :-1]
    if s.dtype.kind == "f":
        same |= np.isnan(s[:, 1:]) & np.isnan(s[:, :-1])
    starts = np.flatnonzero(np.concatenate([np.ones((r, 1), bool), ~same], axis=1))
    lengths = np.diff(np.append(starts, r * n))
    row_of = starts // n
    first_run = np.flatnonzero(np.concatenate([[True], row_of[1:] != row_of[:-1]]))
    longest = np.maximum.reduceat(lengths, first_run)[row_of]
    best = np.flatnonzero(lengths == longest)  # the runs of each row's longest length
    best = best[np.concatenate([[True], row_of[best][1:] != row_of[best][:-1]])]  # each first
    return s.reshape(-1)[starts[best]]


def nonzero_static(input: Tensor, *, size: int, fill_value: int = -1) -> Tensor:
    """``nonzero()`` cut or padded with ``fill_value`` to exactly ``size`` rows."""
    if size < 0:
        raise ValueError(f"nonzero_static: 'size' must be a non-negative integer, got {size}")
    nz = np.argwhere(input._dev.backend.to_numpy(input._data))[:size]
    pad = np.full((size - len(nz), max(input.ndim, 0)), fill_value, np.int64)
    return tensor(np.concatenate([nz.astype(np.int64), pad]), device=input.device)


def index_reduce(
    input: Tensor, dim: int, index: Tensor, source: Tensor, reduce: str, *,
    include_self: bool = True,
) -> Tensor:
    """x with the slices of ``source`` reduced ('prod', 'mean', 'amax', 'amin') into the
    slices at ``index`` along dim (``scatter_reduce`` with the index broadcast)."""
    from .reduce_functions import scatter_reduce

    if reduce not in ("prod", "mean", "amax", "amin"):
        raise ValueError(
            f"index_reduce: reduce argument must be one of 'prod', 'mean', 'amax', "
            f"'amin', got {reduce!r}"
        )
    d = norm_dim(dim, max(input.ndim, 1))
    if index.ndim > 1 or index.numel() != (source.shape[d] if source.ndim else 1):
        raise ShapeError(
            f"index_reduce: index should be 1-D with one entry per slice of "
            f"source along dim {d}, got index {tuple(index.shape)} and source "
            f"{tuple(source.shape)}"
        )
    view = [1] * source.ndim
    if source.ndim:
        view[d] = -1
    idx = index.reshape(tuple(view)).expand(tuple(source.shape))
    return scatter_reduce(input, d, idx, source, reduce, include_self=include_self)
