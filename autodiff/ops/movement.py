"""Shape and data-movement primitives (views, indexing, concatenation) and composites."""

from __future__ import annotations

import builtins
import collections
import math

from .. import dtypes
from ..autograd.node import Op
from ..errors import DTypeError, IndexRangeError, ShapeError, index_range_error
from ._util import constant, norm_dim, norm_dims, shape_arg
from .elementwise import Expand, expand
from .indexing import GetItem, IndexAdd, IndexPut, Slice, getitem  # noqa: F401
from .split import chunk, split, unbind  # noqa: F401

Sorted = collections.namedtuple("Sorted", ["values", "indices"])


class Reshape(Op):
    """y = reshape(x, shape); dx = reshape(dy, x.shape)."""

    is_view = 2

    def forward(self, x, shape):
        self.in_shape = x._data.shape
        try:
            return self.backend.reshape(x._data, shape)
        except ValueError:
            raise ShapeError(f"shape '{list(shape)}' is invalid for input of size "
                             f"{x.numel()} (shape {tuple(x.shape)})") from None

    def backward(self, g):
        return (g.reshape(self.in_shape),)

    def backward_data(self, g):
        return (g.reshape(self.in_shape),)


class Permute(Op):
    """y = transpose(x, axes); dx = transpose(dy, inverse(axes))."""

    is_view = 1

    def forward(self, x, axes):
        self.axes = axes
        return self.backend.transpose(x._data, axes)

    def backward(self, g):
        inv = [0] * len(self.axes)
        for i, a in enumerate(self.axes):
            inv[a] = i
        return (g.permute(*inv),)

    def backward_data(self, g):
        inv = [0] * len(self.axes)
        for i, a in enumerate(self.axes):
            inv[a] = i
        return (g.transpose(inv),)


class Clone(Op):
    """y = copy of x; dx = dy."""

    def forward(self, x, contiguous=False):
        b = self.backend
        return b.contiguous(x._data) if contiguous else b.copy(x._data)

    def backward(self, g):
        return (g,)


class Cat(Op):
    """y = concatenate(xs, dim) (or, ``stacked``, stack: one node, not an unsqueeze node per
    tensor and a cat, measured 2.4x faster); dx_i = the slice of dy that x_i filled."""

    def forward(self, *xs, dim, stacked=False):
        self.dim, self.stacked = dim, stacked
        try:
            self.sizes = [1 if stacked else x._data.shape[dim] for x in xs]
            return (self.backend.stack if stacked else self.backend.concatenate)(
                [x._data for x in xs], dim)
        except (ValueError, IndexError):  # IndexError: a tensor has fewer dims
            shapes = ", ".join(str(tuple(x.shape)) for x in xs)
            raise ShapeError(f"cat: sizes of tensors must match except in dimension {dim}; "
                             f"got shapes {shapes}") from None

    def backward(self, g):
        out, start = [], 0
        for i, n in enumerate(self.sizes):
            out.append(None if self.next[i] is None else select(g, self.dim, start)
                       if self.stacked else g.narrow(self.dim, start, n))
            start += n
        return tuple(out)


class Flip(Op):
    """y = flip(x, dims) (a copy, as in PyTorch); dx = flip(dy, dims)."""

    def forward(self, x, dims):
        self.dims = dims
        y = self.backend.contiguous(self.backend.flip(x._data, dims))
        return y.copy() if self.backend.xp.may_share_memory(y, x._data) else y  # dims of size 1

    def backward(self, g):
        return (Flip.apply(g, dims=self.dims),)


class Pad(Op):
    """y = constant-pad(x); dx = the interior slice of dy."""

    def forward(self, x, widths, value):
        self.widths = widths
        return self.backend.pad(x._data, widths, value)

    def backward(self, g):
        idx = tuple(slice(lo, g.shape[d] - hi) for d, (lo, hi) in enumerate(self.widths))
        return (g[idx],)


class Gather(Op):
    """y = x gathered at index along dim; dx = scatter_add(zeros, dim, index, dy). ``values``:
    y already gathered (sort and topk's values, with indices known to fit)."""

    def forward(self, x, index, dim, values=None):
        self.meta = (x._data.shape, index, dim)
        if values is not None:
            return values
        a, shape, ishape = x._data, x._data.shape, index._data.shape
        try:
            if ishape[:dim] == shape[:dim] and ishape[dim + 1:] == shape[dim + 1:]:
                return self.backend.gather(a, dim, index._data)  # the common case
            if index.ndim == a.ndim and builtins.any(
                    i < n for d, (i, n) in enumerate(zip(ishape, shape)) if d != dim):
                # PyTorch reads only the leading index.shape[d] entries of the other dims
                a = self.backend.getitem(a, tuple(slice(0, i) if d != dim else slice(None)
                                                  for d, i in enumerate(ishape)))
            if index.ndim != a.ndim or builtins.any(
                    i > n for d, (i, n) in enumerate(zip(ishape, shape)) if d != dim):
                raise ValueError("index is larger than the input outside dim, or has "
                                 "another number of dims")
            return self.backend.gather(a, dim, index._data)
        except IndexRangeError:
            raise
        except (ValueError, IndexError, TypeError) as exc:
            raise ShapeError(f"gather: index of shape {tuple(index.shape)} does not fit input "
                             f"of shape {tuple(x.shape)} along dim {dim} ({exc})") from None

    def backward(self, g):
        shape, index, dim = self.meta
        zeros = constant(g._dev.backend.zeros(shape, g._data.dtype), g._dev)
        return ScatterAdd.apply(zeros, index, g, dim=dim, scratch=True), None  # zeros: ours


class ScatterAdd(Op):
    """y = x + src at index along dim (into x if ``scratch``); dx = dy, dsrc = gather(dy)."""

    def forward(self, x, index, src, dim, scratch=False):
        self.meta = (index, dim, src._data.shape)
        return self.backend.scatter_add(x._data, dim, index._data, src._data, inplace=scratch)

    def backward(self, g):
        index, dim, src_shape = self.meta
        gsrc = None
        if self.next[2] is not None:
            gsrc = Gather.apply(g, index, dim=dim)
            if gsrc._data.shape != src_shape:
                gsrc = pad_to(gsrc, src_shape)
        return g, None, gsrc


def pad_to(x, shape):
    widths = tuple((0, n - m) for n, m in zip(shape, x.shape))
    return Pad.apply(x, widths=widths, value=0)


class Tri(Op):
    """y = tril(x, k) or triu(x, k); dx = the same mask applied to dy."""

    def forward(self, x, k, upper):
        self.k, self.upper = k, upper
        if x._data.ndim < 2:
            raise ShapeError(f"tril/triu: input must have at least 2 dims, got {x._data.ndim}")
        return (self.backend.triu if upper else self.backend.tril)(x._data, k)

    def backward(self, g):
        return (Tri.apply(g, k=self.k, upper=self.upper),)


class Diagonal(Op):
    """y = the (d1, d2) diagonal of x at ``offset``, as the last dim (a view); dx = dy written
    onto that diagonal of zeros."""

    is_view = 1

    def forward(self, x, offset, d1, d2):
        self.args, self.in_shape = (offset, d1, d2), x._data.shape
        return self.backend.diagonal(x._data, offset, d1, d2)

    def backward(self, g):
        return (DiagonalScatter.apply(g, shape=self.in_shape, args=self.args),)


class DiagonalScatter(Op):
    """y = zeros(shape) with x on a diagonal (Diagonal's adjoint); dx = that diagonal of dy."""

    def forward(self, x, shape, args):
        self.args = args
        out = self.backend.zeros(shape, x._data.dtype)
        self.backend.diagonal(out, *args)[...] = x._data
        return out

    def backward(self, g):
        return (Diagonal.apply(g, offset=self.args[0], d1=self.args[1], d2=self.args[2]),)


# ------------------------------------------------------------------ public functions
def reshape(input, *args, shape=None):  # reshape(x, 2, 3), reshape(x, (2, 3)), shape=(2, 3)
    shape = shape_arg(args if shape is None else (shape,))
    return Reshape.apply(input, shape=shape)  # a new view even of the same shape, as in PyTorch


def view(x, *shape, size=None, dtype=None):
    """reshape that never copies: a view whose dims cannot be merged raises, as in PyTorch.
    ``view(dtype)`` reinterprets the bytes (no gradient), as PyTorch's; size= / dtype= too."""
    shape = shape if size is None and dtype is None else (dtype if size is None else size,)
    if len(shape) == 1 and isinstance(shape[0], (dtypes.DType, str)) or (
            len(shape) == 1 and isinstance(shape[0], type)):
        dt = dtypes.from_any(shape[0])
        try:
            data = x._data.view(dt.np)
        except ValueError as exc:
            raise RuntimeError(f"view(dtype): cannot view {x.dtype.name} {tuple(x.shape)} as "
                               f"{dt.name} ({exc})") from None
        return constant(data, x._dev)
    shape = shape_arg(shape)
    if x._base is not None and not _viewable(x._data, shape):
        raise RuntimeError("view size is not compatible with input tensor's size and stride (at "
                           "least one dimension spans across two contiguous subspaces). Use "
                           ".reshape(...) instead.")
    return reshape(x, *shape)


def _viewable(a, shape) -> bool:
    """Whether ``a`` (shape, strides) can be seen as ``shape`` without a copy (PyTorch's
    computeStride: each run of dims that is contiguous in memory maps onto whole new dims)."""
    if a.flags.c_contiguous or a.size == 0 or a.ndim == 0:
        return True
    if -1 in shape:
        known = math.prod(n for n in shape if n != -1)
        shape = tuple(a.size // known if n == -1 else n for n in shape) if known else shape
    strides = [s // a.itemsize for s in a.strides]
    view_d, base, t_numel, v_numel = len(shape) - 1, strides[-1], 1, 1
    for d in range(a.ndim - 1, -1, -1):
        t_numel *= a.shape[d]
        if d == 0 or (a.shape[d - 1] != 1 and strides[d - 1] != t_numel * base):
            while view_d >= 0 and (v_numel < t_numel or shape[view_d] == 1):
                v_numel *= shape[view_d]
                view_d -= 1
            if v_numel != t_numel:
                return False
            if d > 0:
                base, t_numel, v_numel = strides[d - 1], 1, 1
    return view_d == -1


def view_as(x, other):
    return view(x, other.shape)


def reshape_as(x, other):
    return reshape(x, other.shape)


def expand_as(x, other):
    return expand_(x, *other.shape)


def expand_(x, *sizes):
    sizes = shape_arg(sizes)
    lead = len(sizes) - x.ndim
    if lead < 0:
        raise ShapeError(f"expand: the number of sizes provided ({len(sizes)}) must be greater "
                         f"or equal to the number of dimensions in the tensor ({x.ndim})")
    shape = tuple(x.shape[i - lead] if s == -1 and i >= lead else s for i, s in enumerate(sizes))
    return Expand.apply(x, shape=shape, view=True)


def broadcast_to(input, size):
    return expand_(input, *shape_arg((size,)))


def flatten(input, start_dim=0, end_dim=-1):
    if input.ndim == 0:
        return reshape(input, 1)
    s, e = norm_dim(start_dim, input.ndim), norm_dim(end_dim, input.ndim)
    if s > e:
        raise RuntimeError(f"flatten: start_dim ({start_dim}) comes after end_dim ({end_dim})")
    shape = input._data.shape
    return Reshape.apply(input, shape=shape[:s] + (math.prod(shape[s:e + 1]),) + shape[e + 1:])


def unflatten(input, dim, sizes):
    d = norm_dim(dim, input.ndim, "unflatten")
    known = math.prod(n for n in sizes if n != -1)  # a -1 is inferred from this dim alone
    sizes = tuple(input.shape[d] // known if n == -1 and known else n for n in sizes)
    return reshape(input, input.shape[:d] + sizes + input.shape[d + 1:])


def squeeze(input, dim=None):
    if dim is None:
        return reshape(input, tuple(n for n in input.shape if n != 1))
    dims = (dim,) if isinstance(dim, int) else tuple(dim)
    dims = norm_dims(dims, input.ndim) or () if dims else ()  # (checks for repeated dims)
    return reshape(input, tuple(n for i, n in enumerate(input.shape) if not (i in dims and n == 1)))


def unsqueeze(input, dim):
    d, shape = norm_dim(dim, input.ndim + 1), input._data.shape
    return Reshape.apply(input, shape=shape[:d] + (1,) + shape[d:])


def permute(input, *args, dims=None):
    dims = shape_arg(args if dims is None else (dims,))
    if len(dims) != input.ndim:
        raise ShapeError(f"permute: number of dims don't match: tensor has {input.ndim} dims, "
                         f"got {len(dims)} ({dims})")
    axes = tuple(norm_dim(d, input.ndim) for d in dims)
    if len(set(axes)) != len(axes):
        raise ShapeError(f"permute: repeated dim in {dims}")
    return Permute.apply(input, axes=axes)


def transpose(input, dim0, dim1):
    if input.ndim < 2 and dim0 in (0, -1) and dim1 in (0, -1):
        return Reshape.apply(input, shape=input.shape)
    d0, d1 = norm_dim(dim0, input.ndim), norm_dim(dim1, input.ndim)
    axes = list(range(input.ndim))
    axes[d0], axes[d1] = axes[d1], axes[d0]
    return Permute.apply(input, axes=tuple(axes))  # (valid by construction: no permute checks)


def swapaxes(input, axis0, axis1):  # transpose under NumPy's names, as torch.swapaxes
    return transpose(input, axis0, axis1)


def t(input):
    if input.ndim > 2:
        raise ShapeError(f"t() expects a tensor with <= 2 dimensions, but self is {input.ndim}D")
    return transpose(input, 0, 1) if input.ndim == 2 else Reshape.apply(input, shape=input.shape)


def movedim(input, source, destination):
    """Move dim(s) ``source`` to position(s) ``destination``; the others keep their order."""
    one = isinstance(source, int)
    src = [norm_dim(d, input.ndim) for d in ((source,) if one else source)]
    dst = [norm_dim(d, input.ndim) for d in ((destination,) if isinstance(destination, int)
                                         else destination)]
    if len(src) != len(dst) or len(set(src)) != len(src) or len(set(dst)) != len(dst):
        raise RuntimeError(f"movedim: invalid source {source} or destination {destination}")
    order = [None] * max(input.ndim, 1)  # a 0-d tensor has dim 0 (and an empty permutation)
    for s, d in zip(src, dst):
        order[d] = s
    rest = iter(d for d in range(input.ndim) if d not in src)
    return permute(input, *[o if o is not None else next(rest) for o in order][:input.ndim])


def contiguous(x):
    if x._data.flags.c_contiguous:
        return x
    return Clone.apply(x, contiguous=True)


def clone(input):
    return Clone.apply(input)


def narrow(input, dim, start, length):
    d = norm_dim(dim, input.ndim, "narrow")
    if start < 0:
        start += input.shape[d]
    if start < 0 or length < 0 or start + length > input.shape[d]:
        raise IndexRangeError(f"narrow: start ({start}) and length ({length}) do not fit the "
                              f"dimension size ({input.shape[d]})")
    return Slice.apply(input, idx=(slice(None),) * d + (slice(start, start + length),))


def select(input, dim, index):
    d = norm_dim(dim, input.ndim)
    return GetItem.apply(input, idx=(slice(None),) * d + (index, Ellipsis))


def cat(tensors, dim=0, *, axis=None):
    dim = dim if axis is None else axis  # PyTorch's NumPy-style alias
    tensors = list(tensors)
    if not tensors:
        raise ValueError("cat: expected a non-empty sequence of tensors")
    a = tensors[0]._data
    nd, dt = a.ndim, a.dtype
    if nd > 1 and -nd <= dim < nd and dim.__class__ is int:  # common case: ~3 us less
        for t_ in tensors:
            b = t_._data
            if b.ndim != nd or b.dtype is not dt:
                break
        else:
            return Cat.apply(*tensors, dim=dim % nd)
    for i, t_ in enumerate(tensors):
        if t_.ndim == 0:
            raise RuntimeError(f"zero-dimensional tensor (at position {i}) cannot be concatenated")
    ref = tensors[0]
    dt = ref.dtype
    for t_ in tensors[1:]:
        if t_.dtype is not dt:
            dt = dtypes.promote(dt, t_.dtype)
    tensors = [t_ if t_.dtype is dt else t_.to(dt) for t_ in tensors]
    if builtins.any(t_.ndim != 1 for t_ in tensors):  # PyTorch skips legacy empty (0,) tensors
        tensors = [t_ for t_ in tensors if t_.shape != (0,)] or tensors[:1]
    ndim = builtins.max(t_.ndim for t_ in tensors)
    return Cat.apply(*tensors, dim=norm_dim(dim, ndim))


concat = concatenate = cat


def stack(tensors, dim=0, *, axis=None):
    dim = dim if axis is None else axis  # PyTorch's NumPy-style alias
    tensors = list(tensors)
    if not tensors:
        raise ShapeError("stack: expected a non-empty sequence of tensors")
    a = tensors[0]._data
    shape, dt, same = a.shape, a.dtype, True
    for t_ in tensors:
        b = t_._data
        if b.shape != shape:
            shapes = sorted({tuple(t_.shape) for t_ in tensors})
            raise ShapeError(f"stack expects each tensor to be equal size, got shapes {shapes}")
        same = same and b.dtype is dt
    d = norm_dim(dim, a.ndim + 1)
    if same:
        return Cat.apply(*tensors, dim=d, stacked=True)
    return cat([unsqueeze(t_, d) for t_ in tensors], d)  # (cat promotes the dtypes)


def flip(input, *args, dims=None):
    """x reversed along dims: flip(x, (0, 1)), or x.flip(0, 1) as PyTorch's method."""
    dims = (args[0] if len(args) == 1 else args) if dims is None else dims
    dims = (dims,) if isinstance(dims, int) else tuple(dims)
    if input.ndim == 0:  # a 0-d tensor flipped along "dim 0" is a copy of itself (PyTorch)
        for d in dims:
            norm_dim(d, 1)
        return clone(input)
    return Flip.apply(input, dims=norm_dims(dims, input.ndim) or ())  # (checks for repeated dims)


def pad(x, pad, mode="constant", value=0.0):
    """F.pad: ``pad`` lists (left, right) pairs from the last dim backwards."""
    if mode != "constant":
        from ..nn import functional as F

        return F.pad(x, pad, mode=mode, value=value)
    if len(pad) % 2 or len(pad) // 2 > x.ndim:
        raise ValueError(f"pad: padding length {len(pad)} must be even and at most 2*ndim "
                         f"({2 * x.ndim})")
    widths = [(0, 0)] * x.ndim
    for i in range(len(pad) // 2):
        widths[x.ndim - 1 - i] = (int(pad[2 * i]), int(pad[2 * i + 1]))
    if builtins.any(lo < 0 or hi < 0 for lo, hi in widths):
        idx = tuple(slice(builtins.max(-lo, 0), (n + hi) if hi < 0 else None)
                    for (lo, hi), n in zip(widths, x.shape))
        x = x[idx]
        widths = [(builtins.max(lo, 0), builtins.max(hi, 0)) for lo, hi in widths]
    return Pad.apply(x, widths=tuple(widths), value=value)


def repeat(x, *sizes, repeats=None):
    """PyTorch's repeat (NumPy's tile): repeat the whole tensor along each dim."""
    reps = shape_arg(sizes if repeats is None else (repeats,))
    if len(reps) < x.ndim:
        raise ShapeError(f"repeat: number of repeat dims ({len(reps)}) can not be smaller "
                         f"than number of dimensions of tensor ({x.ndim})")
    shape = (1,) * (len(reps) - x.ndim) + tuple(x.shape)
    if builtins.all(r == 1 for r in reps):  # still a copy, as in PyTorch
        return reshape(clone(x), *shape)
    inter = []
    for r, n in zip(reps, shape):
        inter += [1, n]
    y = reshape(x, *inter)
    big = []
    for r, n in zip(reps, shape):
        big += [r, n]
    return reshape(expand(y, tuple(big)), *[r * n for r, n in zip(reps, shape)])


def tile(input, *args, dims=None):
    reps = shape_arg(args if dims is None else (dims,))
    reps = (1,) * (input.ndim - len(reps)) + reps
    return repeat(input, *reps)


def repeat_interleave(input, repeats=None, dim=None, output_size=None):
    if repeats is None:  # repeat_interleave(r): each index i repeated r[i] times
        input, repeats = constant(input._dev.backend.xp.arange(input.shape[0]), input._dev), input
    if dim is None:
        input, dim = flatten(input), 0
    d = norm_dim(dim, input.ndim)
    if not isinstance(repeats, int) and getattr(repeats, "ndim", 0) > 0 and len(repeats) != 1:
        reps = [int(r) for r in (repeats.tolist() if hasattr(repeats, "tolist") else repeats)]
        if len(reps) != input.shape[d] or builtins.min(reps, default=0) < 0:
            raise RuntimeError(f"repeat_interleave: repeats must be non-negative, one per entry "
                               f"of the input along dim {dim}: got {reps} for {input.shape[d]}")
        from ..creation import tensor

        idx = tensor([i for i, r in enumerate(reps) for _ in range(r)], dtype=dtypes.int64,
                     device=input._dev)
        return GetItem.apply(input, idx=(slice(None),) * d + (idx._data,))
    y = unsqueeze(input, d + 1)
    shape = list(y.shape)
    shape[d + 1] = int(repeats)
    y = expand(y, tuple(shape))
    return flatten(y, d, d + 1)


def _in_range(op, x, d, index):
    # PyTorch's check: every index in [0, size) along d (no negative index; CuPy would wrap
    # an out-of-range one around)
    n = x.shape[d] if x.ndim else 1
    if index.numel() and x._dev.backend.any_outside(index._data, 0, n):
        raise index_range_error(op, d, n)
    return d


def gather(input, dim, index):
    if index._data.dtype.kind not in "iu":
        raise DTypeError(f"gather(): Expected dtype int32/int64 for index, got {index.dtype}")
    if min(input.ndim, index.ndim) == 0 and max(input.ndim, index.ndim) < 2:  # 0-d read as 1-d
        return gather(input.reshape(-1), dim, index.reshape(-1)).reshape(index.shape)
    d = norm_dim(dim, input.ndim)
    if not input._dev.backend.gather_checks_range(input._data, d, index._data):
        _in_range("gather", input, d, index)
    return Gather.apply(input, index, dim=d)


def scatter_add(input, dim, index, src):
    if src.dtype is not input.dtype:
        raise RuntimeError(f"scatter_add: expected src of dtype {input.dtype.name}, got "
                           f"{src.dtype.name}")
    d = _in_range("scatter_add", input, norm_dim(dim, input.ndim), index)
    return ScatterAdd.apply(input, index, src, dim=d)


def tril(input, diagonal=0):
    return Tri.apply(input, k=diagonal, upper=False)


def triu(input, diagonal=0):
    return Tri.apply(input, k=diagonal, upper=True)


def sort(input, dim=-1, descending=False, stable=False):
    d = norm_dim(dim, input.ndim)
    b = input._dev.backend
    if input.ndim == 0:
        return Sorted(input, constant(b.zeros((), dtypes.int64.np), input._dev))
    values, idx = b.sort(input._data, d, descending, stable)
    index = constant(b.cast(idx, dtypes.int64.np), input._dev)
    return Sorted(Gather.apply(input, index, dim=d, values=values), index)


def argsort(input, dim=-1, descending=False, stable=False):
    return sort(input, dim, descending, stable).indices


def topk(input, k, dim=-1, largest=True, sorted=True):
    d = norm_dim(dim, input.ndim)
    n = input.shape[d] if input.ndim else 1
    if not 0 <= k <= n:
        raise RuntimeError(f"topk: k ({k}) is out of range for dimension {dim} of size {n}")
    if input.ndim == 0:  # PyTorch: (x, 0), for k = 0 as well
        return sort(input)
    b = input._dev.backend
    values, idx = b.topk(input._data, k, d, largest, sorted)
    index = constant(b.cast(idx, dtypes.int64.np), input._dev)
    return Sorted(Gather.apply(input, index, dim=d, values=values), index)
