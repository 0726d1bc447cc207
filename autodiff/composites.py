"""PyTorch tensor functions beyond the API contract, composed from the core ops, as
torch/functional.py composes its own: cumulative sums, ``index_select``, ``roll``, diagonals,
``masked_select``, ``nonzero``, ``isclose``/``allclose``, ``meshgrid``, ``unique``, ``lerp``,
``addmm``/``baddbmm``, ``logaddexp``, ``hypot``, ``atan2``, ``cross``, ``median``, the nan-
and pair-reductions, ``clamp_min``/``clamp_max``, ``floor_divide``.

They add no primitive to the engine: each is a composite of differentiable ops (so gradients
and double backward come for free), a custom autograd Function over the backend's array
module (``cumsum``, ``atan2``), or a host-side query with no gradient (``nonzero``,
``unique``). Exported as ``ad.<name>`` and, where PyTorch has one, as a Tensor method.
"""

from __future__ import annotations

import collections
import warnings

import numpy as np

from . import dtypes, ops
from .amp.autocast_mode import autocast_op
from .autograd.function import Function
from .autograd.grad_mode import state
from .autograd.node import Op
from .backends.numpy_backend import _quiet
from .creation import eye, tensor, zeros
from .errors import DTypeError, ShapeError
from .math_functions import floating_only
from .ops._util import constant, float_operand, norm_dim, operands
from .ops.indexing import GetItem
from .tensor import Tensor

__all__ = [
    "addmm",
    "allclose",
    "aminmax",
    "arctan2",
    "argwhere",
    "atan2",
    "baddbmm",
    "clamp_max",
    "clamp_min",
    "count_nonzero",
    "cross",
    "cumsum",
    "diag",
    "diagonal",
    "floor_divide",
    "hypot",
    "index_select",
    "isclose",
    "lerp",
    "logaddexp",
    "masked_select",
    "median",
    "meshgrid",
    "nanmean",
    "nansum",
    "nonzero",
    "roll",
    "std_mean",
    "trace",
    "unique",
    "var_mean",
    "where",
]

MinMax = collections.namedtuple("aminmax", ["min", "max"])
ValuesIndices = collections.namedtuple("median", ["values", "indices"])


def _wrap(array, like: Tensor) -> Tensor:
    """A backend array as a Tensor on ``like``'s device (no copy)."""
    return Tensor._make(array, like._dev, False, None)


def _as_tensor(v, like: Tensor) -> Tensor:
    return v if isinstance(v, Tensor) else tensor(v, device=like.device)


# ----------------------------------------------------------------------------- cumulative
class Cumsum(Op):
    """y_i = sum_{j <= i} x_j along dim; dx = the reversed cumulative sum of dy."""

    def forward(self, x, dim, dtype):
        self.meta = dim
        return self.backend.cumsum(x._data, dim, dtype)

    def backward(self, g):  # with create_graph: differentiable
        d = self.meta
        return (cumsum(g.flip(d), d).flip(d),)

    def backward_data(self, g):
        return (self.backend.cumsum(g, self.meta, g.dtype, reverse=True),)


def cumsum(input: Tensor, dim: int, *, dtype=None) -> Tensor:
    """Cumulative sum along ``dim``; integer and bool inputs sum in int64, as PyTorch."""
    if dtype is not None:
        dt = dtypes.from_any(dtype)
    elif input.dtype.is_floating_point:
        dt = input.dtype
    else:
        dt = dtypes.int64
    d = norm_dim(dim, max(input.ndim, 1))
    if input.ndim == 0:
        return input.to(dt) * 1
    return Cumsum.apply(input, dim=d, dtype=dt.np)


# ----------------------------------------------------------------------------- selection
def index_select(input: Tensor, dim: int, index: Tensor) -> Tensor:
    """The entries at the 1-D integer ``index`` along ``dim`` (a copy, differentiable)."""
    if not isinstance(index, Tensor) or index._data.dtype.kind not in "iu":
        raise DTypeError("index_select: index must be an integer tensor")
    idx = index._data
    if idx.ndim > 1:
        raise ShapeError(f"index_select: index must be 0-D or 1-D, got shape {idx.shape}")
    d = norm_dim(dim, max(input.ndim, 1))
    n = input._data.shape[d] if input.ndim else 1
    if idx.size and input._dev.backend.any_outside(idx, 0, n):
        raise IndexError(f"index_select: index out of range for dim {d} of size {n} (index "
                         f"values must be in [0, {n}))")
    if input.ndim == 0:  # a 0-d x is read as 1-d, and gives a 0-d result (PyTorch)
        if index.numel() != 1:
            raise RuntimeError(f"index_select: index to a 0-d tensor can have only 1 value, "
                               f"got {index.numel()}")
        return input * 1
    if index._dev is input._dev:  # GetItem itself: Tensor.__getitem__'s parsing cost ~8 us
        return GetItem.apply(input, idx=(slice(None),) * d + (index._data.reshape(-1),))
    return input[(slice(None),) * d + (index.reshape(-1),)]


def masked_select(input: Tensor, mask: Tensor) -> Tensor:
    """The entries of ``x`` where the boolean ``mask`` (broadcast with x) holds, as 1-D."""
    if mask.dtype is not dtypes.bool_:
        raise DTypeError(f"masked_select: expected a bool mask, got {mask.dtype.name}")
    shape = np.broadcast_shapes(tuple(input.shape), tuple(mask.shape))
    return input.broadcast_to(shape)[mask.broadcast_to(shape)]


def nonzero(input: Tensor, *, as_tuple: bool = False):
    """Indices of the non-zero entries: an (N, ndim) int64 tensor, or ``ndim`` 1-D ones."""
    host = np.asarray(input.detach().cpu().numpy())
    idx = np.argwhere(host).astype(np.int64)
    if as_tuple:
        if input.ndim == 0:
            return (tensor(idx[:, 0] if idx.shape[1] else np.zeros(int(bool(host)), np.int64),
                           device=input.device),)
        return tuple(tensor(np.ascontiguousarray(idx[:, i]), device=input.device)
                     for i in range(input.ndim))
    return tensor(idx, device=input.device)


def argwhere(input: Tensor) -> Tensor:
    return nonzero(input)


def where(condition: Tensor, input=None, other=None):
    """``where(condition, input, other)`` selects elementwise; ``where(condition)`` alone is
    ``nonzero(condition, as_tuple=True)``, as in PyTorch."""
    if input is None and other is None:
        return nonzero(condition, as_tuple=True)
    if isinstance(condition, Tensor) and condition.dtype is not dtypes.bool_:
        raise DTypeError(f"where: expected a bool condition, got {condition.dtype.name} of shape "
                         f"{tuple(condition.shape)}; compare first (x > 0) or use .bool()")
    return ops.where(condition, input, other)


def roll(input: Tensor, shifts, dims=None) -> Tensor:
    """Entries shifted cyclically along ``dims`` (the flattened tensor when None)."""
    if dims is None:
        if not isinstance(shifts, int) and len(shifts) != 1:
            raise ShapeError("roll: shifts must be one int when dims is None")
        return roll(input.flatten(), shifts, 0).reshape(tuple(input.shape))
    shifts = (shifts,) if isinstance(shifts, int) else tuple(shifts)
    dims = (dims,) if isinstance(dims, int) else tuple(dims)
    if len(shifts) != len(dims):
        raise ShapeError(f"roll: shifts {shifts} and dims {dims} must have the same length")
    dims = tuple(norm_dim(d, input.ndim) for d in dims)
    return _Roll.apply(input, shifts=tuple(s % input.shape[d] if input.shape[d] else 0
                                           for s, d in zip(shifts, dims)), dims=dims)


class _Roll(Op):
    """y = roll(x, shifts, dims), one copy; dx = roll(dy, -shifts) (a primitive: as a cat of
    narrows its backward filled two arrays of zeros, 4.7x PyTorch's time).  One dim is two
    slice copies (np.roll's Python took 2/3 of a (64, 128) roll)."""

    def forward(self, x, shifts, dims):
        self.shifts, self.dims = shifts, dims
        a = x._data
        if len(dims) != 1 or not a.ndim:
            return self.backend.xp.roll(a, shifts, dims) if dims else a.copy()
        (s,), (d,) = shifts, dims
        s %= a.shape[d] or 1
        out, pre = self.backend.xp.empty_like(a), (slice(None),) * d
        out[pre + (slice(s, None),)] = a[pre + (slice(0, a.shape[d] - s),)]
        out[pre + (slice(0, s),)] = a[pre + (slice(a.shape[d] - s, None),)]
        return out

    def backward(self, g):
        return (_Roll.apply(g, shifts=tuple(-s for s in self.shifts), dims=self.dims),)


class GluHalves(Op):
    """y = a * s, s = sigmoid(b), (a, b) = x's halves along dim d; dx = cat(dy s, dy a s (1 - s))
    (F.glu's primitive: as a * sigmoid(b) of chunks, its backward filled two arrays of zeros
    and added them, 3x PyTorch's time)."""

    def forward(self, x, d):
        n, be = x._data.shape[d] // 2, self.backend
        a, b = (x._data[(slice(None),) * d + (slice(i, i + n),)] for i in (0, n))
        self.saved, self.d, self.s = (x,), d, be.sigmoid(b)
        return be.mul(a, self.s)

    def backward(self, g):
        (x,), d = self.saved, self.d
        if state.enabled:  # create_graph: differentiable ops
            a, b = x.chunk(2, d)
            s = b.sigmoid()
            return (ops.cat([g * s, g * a * (s * (1 - s))], d),)
        be, a = self.backend, x._data[(slice(None),) * d + (slice(0, x._data.shape[d] // 2),)]
        gb = be.output_backward("sigmoid", self.s, be.mul(g._data, a))
        return (constant(be.concatenate([be.mul(g._data, self.s), gb], d), g._dev),)


def diagonal(input: Tensor, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
    """The diagonal of the (dim1, dim2) planes, as the last dim: a view, as in PyTorch
    (``x.diagonal().fill_(0)`` zeroes x's diagonal)."""
    d1, d2 = norm_dim(dim1, input.ndim), norm_dim(dim2, input.ndim)
    if d1 == d2:
        raise ShapeError(f"diagonal: dim1 and dim2 cannot be the same dimension ({dim1})")
    return ops.movement.Diagonal.apply(input, offset=offset, d1=d1, d2=d2)


def diag(input: Tensor, diagonal: int = 0) -> Tensor:
    """1-D input: the square matrix with it on diagonal ``k``; 2-D: its k-th diagonal."""
    k = diagonal
    if input.ndim == 2:
        return globals()["diagonal"](input, k).clone()  # a copy in PyTorch, unlike diagonal()
    if input.ndim != 1:
        raise ShapeError(f"diag: expected a 1-D or 2-D tensor, got shape {tuple(input.shape)}")
    n = input.shape[0]
    from .nn import functional as F

    square = input.unsqueeze(0) * eye(n, dtype=input.dtype, device=input.device)
    return F.pad(square, (k, 0, 0, k) if k >= 0 else (0, -k, -k, 0))


def trace(input: Tensor) -> Tensor:
    """Sum of the main diagonal of a 2-D tensor."""
    if input.ndim != 2:
        raise ShapeError(f"trace: expected a 2-D tensor, got shape {tuple(input.shape)}")
    return diagonal(input).sum()


def meshgrid(*tensors, indexing: str | None = None):
    """Coordinate grids of 1-D tensors; ``indexing`` 'ij' (matrix, PyTorch's default, with
    its warning when not given) or 'xy' (Cartesian: the first two dims swapped)."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if indexing is None:
        warnings.warn("torch.meshgrid: in an upcoming release, it will be required to pass the "
                      "indexing argument.", UserWarning, stacklevel=2)
        indexing = "ij"
    if indexing not in ("ij", "xy"):
        raise ShapeError(f"meshgrid: indexing must be 'ij' or 'xy', got {indexing!r}")
    for t in tensors:
        if t.ndim > 1:
            raise ShapeError(f"meshgrid: expected 0-D or 1-D tensors, got shape {tuple(t.shape)}")
        if t.dtype is not tensors[0].dtype:
            raise DTypeError(f"meshgrid: expected tensors of one dtype, got "
                             f"{tensors[0].dtype.name} and {t.dtype.name}")
    flat = [t.reshape(-1) for t in tensors]
    swap = indexing == "xy" and len(flat) >= 2
    if swap:
        flat[0], flat[1] = flat[1], flat[0]
    shape = tuple(t.shape[0] for t in flat)
    grids = [t.reshape(tuple(-1 if j == i else 1 for j in range(len(flat)))).expand(shape)
             for i, t in enumerate(flat)]
    if swap:
        grids[0], grids[1] = grids[1], grids[0]
    return tuple(grids)


def unique(x: Tensor, sorted: bool = True, return_inverse: bool = False,
           return_counts: bool = False, dim: int | None = None):
    """The distinct values (sorted), optionally the inverse indices and counts (no grad)."""
    host = np.asarray(x.detach().cpu().numpy())
    axis = None if dim is None else norm_dim(dim, x.ndim)
    # each NaN is distinct, as PyTorch's (NumPy merges them by default)
    vals, inv, counts = np.unique(host, return_inverse=True, return_counts=True, axis=axis,
                                  equal_nan=False)
    out = [tensor(vals, device=x.device)]
    if return_inverse:
        inv = inv.reshape(host.shape) if axis is None else inv.reshape(-1)
        out.append(tensor(inv.astype(np.int64), device=x.device))
    if return_counts:
        out.append(tensor(counts.astype(np.int64), device=x.device))
    return out[0] if len(out) == 1 else tuple(out)


# ----------------------------------------------------------------------------- comparison
def isclose(input: Tensor, other, rtol: float = 1e-05, atol: float = 1e-08,
            equal_nan: bool = False) -> Tensor:
    """|a - b| <= atol + rtol |b| elementwise (equal infinities are close; NaNs only with
    ``equal_nan``)."""
    other = _as_tensor(other, input)
    if input.dtype is not other.dtype:
        raise DTypeError(f"isclose: {input.dtype.name} and {other.dtype.name} tensors must have "
                         f"the same dtype")
    close = input == other
    if input.dtype.is_floating_point:
        near = (input - other).abs() <= atol + rtol * other.abs()
        close = close | (input.isfinite() & other.isfinite() & near)
        if equal_nan:
            close = close | (input.isnan() & other.isnan())
    elif input.dtype is not dtypes.bool_:
        close = close | ((input - other).abs().to(dtypes.float64) <= atol + rtol * other.abs().to(
            dtypes.float64))
    return close


def allclose(input: Tensor, other, rtol: float = 1e-05, atol: float = 1e-08,
             equal_nan: bool = False) -> bool:
    return bool(isclose(input, other, rtol, atol, equal_nan).all())


# ----------------------------------------------------------------------------- arithmetic
class _Lerp(Function):
    """start + weight (end - start) for |weight| < 0.5, else end - (1 - weight) (end - start):
    PyTorch's two forms (exact at both ends; an infinite end gives inf, not inf - inf), with
    its gradients (1 - w, w, end - start: no NaN from the branch not taken).  A Python number
    weight takes its one form for the whole tensor, in one backend pass (lerp_scalar)."""

    @staticmethod
    def forward(ctx, start, end, weight):
        if not isinstance(weight, Tensor):
            ctx.w = weight
            return _wrap(start._dev.backend.lerp_scalar(start._data, end._data, weight), start)
        ctx.w = None
        ctx.save_for_backward(start, end, weight)
        diff = end - start
        return ops.where(weight.abs() < 0.5, start + weight * diff, end - diff * (1 - weight))

    @staticmethod
    def backward(ctx, g):
        need = ctx.needs_input_grad
        if ctx.w is not None:
            return g * (1 - ctx.w) if need[0] else None, g * ctx.w if need[1] else None, None
        s, e, w = ctx.saved_tensors
        return ((g * (1 - w)).sum_to_size(tuple(s.shape)) if need[0] else None,
                (g * w).sum_to_size(tuple(e.shape)) if need[1] else None,
                (g * (e - s)).sum_to_size(tuple(w.shape)) if need[2] else None)


def lerp(input: Tensor, end, weight) -> Tensor:
    """start + weight (end - start), as PyTorch computes it (see _Lerp)."""
    end = _as_tensor(end, input)
    if isinstance(weight, (int, float)) and not isinstance(weight, bool) and (
            end.shape == input.shape and end.dtype == input.dtype and input.is_floating_point()):
        return _Lerp.apply(input, end, float(weight))
    return _Lerp.apply(input, end, _as_tensor(weight, input))


@autocast_op("addmm")
def addmm(input: Tensor, mat1: Tensor, mat2: Tensor, *, beta=1, alpha=1) -> Tensor:
    """beta input + alpha (mat1 @ mat2); input is ignored when beta is 0 (NaNs too)."""
    if mat1.ndim != 2 or mat2.ndim != 2:
        raise ShapeError(f"addmm: expected 2-D matrices, got shapes {tuple(mat1.shape)} and "
                         f"{tuple(mat2.shape)}")
    return _scaled_sum(input, mat1 @ mat2, beta, alpha)


@autocast_op("baddbmm")
def baddbmm(input: Tensor, batch1: Tensor, batch2: Tensor, *, beta=1, alpha=1) -> Tensor:
    """beta input + alpha bmm(batch1, batch2)."""
    return _scaled_sum(input, ops.bmm(batch1, batch2), beta, alpha)


def _scaled_sum(input, product, beta, alpha):
    product = product if alpha == 1 else product * alpha
    if beta == 0:  # PyTorch ignores input then (NaN and inf in it do not propagate)
        np.broadcast_shapes(tuple(input.shape), tuple(product.shape))  # still must fit
        return product
    return product + (input if beta == 1 else input * beta)


def logaddexp(input: Tensor, other) -> Tensor:
    """log(exp(a) + exp(b)) without overflow."""
    input, other = operands(input, _as_tensor(other, input))  # (bool with float: promoted, torch's)
    floating_only("logaddexp_cpu", input)
    m = ops.maximum(input, other)
    out = m + (-(input - other).abs()).exp().log1p()
    return ops.where(m.isinf() & (input == other), m, out)  # (-inf, -inf) and (inf, inf)


def hypot(input: Tensor, other) -> Tensor:
    """sqrt(a^2 + b^2), without the overflow of the squares (1e200 stays finite)."""
    input, other = operands(input, _as_tensor(other, input))
    floating_only("hypot_cpu", input)
    return _Hypot.apply(input, other)


class _Hypot(Function):
    """h = hypot(a, b); da = dh a / h, db = dh b / h (NaN at the origin, as PyTorch)."""

    @staticmethod
    @_quiet  # overflow to inf, silently as in PyTorch
    def forward(ctx, a, b):
        h = _wrap(a._dev.backend.xp.hypot(a._data, b._data), a)
        ctx.save_for_backward(a, b, h)
        return h

    @staticmethod
    def backward(ctx, g):
        a, b, h = ctx.saved_tensors
        return (g * a / h).sum_to_size(tuple(a.shape)), (g * b / h).sum_to_size(tuple(b.shape))


class _Atan2(Function):
    """atan2(y, x); dy = x / (x^2 + y^2), dx = -y / (x^2 + y^2), reduced to each shape."""

    @staticmethod
    def forward(ctx, y, x):
        ctx.save_for_backward(y, x)
        return _wrap(y._dev.backend.xp.arctan2(y._data, x._data), y)

    @staticmethod
    def backward(ctx, g):
        y, x = ctx.saved_tensors
        r = x * x + y * y
        r = ops.where(r == 0, 1.0, r)  # at the origin both gradients are 0 (PyTorch), not NaN
        gy, gx = g * x / r, -g * y / r
        return gy.sum_to_size(tuple(y.shape)), gx.sum_to_size(tuple(x.shape))


def atan2(input: Tensor, other) -> Tensor:
    """The angle of the point (x, y), elementwise, in (-pi, pi]."""
    a, b = operands(input, other)
    if not a.dtype.is_floating_point and isinstance(input, Tensor) and isinstance(other, Tensor):
        a, b = input, other  # two integer tensors go to float each from its own dtype, as PyTorch
        # (not through their common type first: uint8 with an int8 -1 would make it 255)
    return _Atan2.apply(float_operand(a), float_operand(b))


arctan2 = atan2


def cross(input: Tensor, other: Tensor, dim: int | None = None) -> Tensor:
    """The cross product of 3-vectors along ``dim`` (without it: the first dim of size 3,
    PyTorch's deprecated default, with its warning)."""
    shape = np.broadcast_shapes(tuple(input.shape), tuple(other.shape))
    input, other = input.broadcast_to(shape), other.broadcast_to(shape)
    if dim is None:
        warnings.warn("Using torch.cross without specifying the dim arg is deprecated.",
                      UserWarning, stacklevel=2)
        dim = next((i for i, n in enumerate(shape) if n == 3), None)
        if dim is None:
            raise ShapeError(f"cross: no dimension of size 3 in shape {shape}")
    d = norm_dim(dim, len(shape))
    if shape[d] != 3:
        raise ShapeError(f"cross: dimension {dim} does not have size 3 (shape {shape})")
    i1 = tensor([1, 2, 0], device=input.device)
    i2 = tensor([2, 0, 1], device=input.device)
    return (index_select(input, d, i1) * index_select(other, d, i2)
            - index_select(input, d, i2) * index_select(other, d, i1))


# ----------------------------------------------------------------------------- reductions
def median(input: Tensor, dim: int | None = None, keepdim: bool = False):
    """The lower median (of the flattened tensor, or (values, indices) along ``dim``)."""
    if dim is None:
        flat = input.reshape(-1)
        if flat.numel() == 0:
            return zeros((), dtype=input.dtype, device=input.device) * float("nan")
        v = flat.sort().values
        if bool(v[-1].isnan()):  # NaN: NaN
            return v[-1] * 1
        # the gradient is shared evenly by the entries equal to the median, as PyTorch's
        m = v[(flat.numel() - 1) // 2]
        if not (input.requires_grad and bool(m.isfinite())):
            return m
        m, tie = m.detach(), (flat == m).to(input.dtype)
        return m + ((flat - m) * tie).sum() / tie.sum()
    d = norm_dim(dim, max(input.ndim, 1))
    if input.ndim == 0:
        return ValuesIndices(input * 1, zeros((), dtype=dtypes.int64, device=input.device))
    n = input.shape[d]
    if n == 0:
        raise IndexError(f"median: dimension {dim} is empty")
    picked = _unique_median(input, d, (n - 1) // 2)
    if picked is not None:  # (values, indices) with keepdim
        return ValuesIndices(*(t if keepdim else t.squeeze(d) for t in picked))
    s = input.sort(d)
    values, indices = s.values.narrow(d, (n - 1) // 2, 1), s.indices.narrow(d, (n - 1) // 2, 1)
    if input.is_floating_point():  # a row holding NaN: its first NaN (value, index, gradient)
        nan = s.values.narrow(d, n - 1, 1).isnan()  # (NaN sorts last)
        first = input.isnan().to(dtypes.int64).argmax(d, keepdim=True)
        values = ops.where(nan, input.gather(d, first), values)
        indices = ops.where(nan, first, indices)
    if not keepdim:
        values, indices = values.squeeze(d), indices.squeeze(d)
    return ValuesIndices(values, indices)


def _unique_median(x: Tensor, d: int, k: int):
    """(x's k-th smallest along d, its index), kept dims, by a partition (O(n): NumPy's sort of
    rows of 128 was 4x slower), where no row holds NaN and no row's k-th value is tied; else
    None (the sort gives ties' indices in PyTorch's order).  Rows of 160 and more take the
    sort: the cpp backend's radix sort is faster there."""
    if not x.is_floating_point() or x.shape[d] >= 160:
        return None
    xp, a = x._dev.backend.xp, x._data
    if bool(xp.isnan(a).any()):
        return None
    idx = xp.take(xp.argpartition(a, k, axis=d), [k], axis=d)
    if int((a == xp.take_along_axis(a, idx, axis=d)).sum(axis=d).max()) != 1:
        return None
    index = tensor(idx.astype(np.int64, copy=False), device=x.device)
    return x.gather(d, index), index


def count_nonzero(input: Tensor, dim=None) -> Tensor:
    return (input != 0).sum(dim) if dim is not None else (input != 0).sum()


class _NanToZero(Function):
    """y = x with NaN -> 0; dx = dy * (x == x), as PyTorch's nansum backward. A Function, not
    ``where``: where's backward selects 0 at NaN, while dy * 0 is NaN where dy is inf, as in an
    all-NaN slice of nanmean (dy = 1 / 0), where PyTorch's gradient is NaN."""

    @staticmethod
    def forward(ctx, x):
        xp = x._dev.backend.xp
        keep = ~xp.isnan(x._data)
        ctx.keep = _wrap(keep.astype(x._data.dtype), x)
        return _wrap(xp.where(keep, x._data, x._data.dtype.type(0)), x)

    @staticmethod
    def backward(ctx, g):
        return g * ctx.keep


def nansum(input: Tensor, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """Sum treating NaN as zero (the gradient is dy where x is not NaN, dy * 0 where it is)."""
    clean = _NanToZero.apply(input) if input.dtype.is_floating_point else input
    return clean.sum(dim, keepdim=keepdim, dtype=dtype)


def nanmean(input: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    """Mean over the entries that are not NaN."""
    if not input.dtype.is_floating_point:
        raise DTypeError(f"nanmean(): expected a floating point input, got {input.dtype.name}")
    count = count_nonzero(~input.isnan(), dim)
    if keepdim and dim is not None:
        count = count.reshape(nansum(input, dim, True).shape)
    return nansum(input, dim, keepdim) / count.to(input.dtype)


def var_mean(input: Tensor, dim=None, unbiased=None, keepdim: bool = False, *, correction=None):
    """(var, mean), with var's arguments: a bool in dim's place is `unbiased`, as in PyTorch."""
    return input.var(dim, unbiased, keepdim, correction=correction), _mean_for(input, dim, keepdim)


def std_mean(input: Tensor, dim=None, unbiased=None, keepdim: bool = False, *, correction=None):
    """(std, mean), with std's arguments (as var_mean)."""
    return input.std(dim, unbiased, keepdim, correction=correction), _mean_for(input, dim, keepdim)


def _mean_for(x: Tensor, dim, keepdim: bool) -> Tensor:
    dim = None if dim.__class__ is bool else dim
    return x.mean(dim, keepdim=keepdim) if dim is not None else x.mean()


def aminmax(input: Tensor, *, dim=None, keepdim: bool = False):
    if dim is None:  # all elements; keepdim keeps every dim as 1 (PyTorch)
        lo, hi = input.amin(), input.amax()
        ones = (1,) * input.ndim
        return MinMax(lo.reshape(ones), hi.reshape(ones)) if keepdim else MinMax(lo, hi)
    return MinMax(input.amin(dim, keepdim=keepdim), input.amax(dim, keepdim=keepdim))


def clamp_min(input: Tensor, min) -> Tensor:
    return input.clamp(min=min)


def clamp_max(input: Tensor, max) -> Tensor:
    return input.clamp(max=max)


def floor_divide(input, other) -> Tensor:
    return input // other


_METHODS = ["cumsum", "index_select", "roll", "diagonal", "diag", "trace", "masked_select", "nonzero", "argwhere", "isclose", "allclose", "unique", "lerp", "addmm", "baddbmm", "logaddexp", "hypot", "atan2", "arctan2", "cross", "median", "count_nonzero", "nansum", "nanmean", "aminmax", "clamp_min", "clamp_max", "floor_divide"]
for _name in _METHODS:
    setattr(Tensor, _name, globals()[_name])
del _name
