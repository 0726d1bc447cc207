"""Reductions beyond the API contract, under PyTorch's names: ``nanmedian`` and
``nanquantile`` (order statistics of the entries that are not NaN) and ``scatter_reduce``
(sum / prod / mean / amax / amin of the values scattered onto each position).

``nanmedian`` and ``nanquantile`` are composites of sort and gather; ``scatter_reduce``'s
sum and mean are composites of ``scatter_add``, and its prod, amax and amin a custom
Function whose backward follows PyTorch's: a max or min shares its gradient evenly among the
entries equal to it; a product's gradient to a zero entry is the product of the others.
Exported as ``ad.<name>`` and as Tensor methods.
"""

from __future__ import annotations

import numpy as np

from . import dtypes, ops
from .autograd.function import Function
from .composites import ValuesIndices, lerp, median
from .creation import full_like, ones_like, tensor, zeros, zeros_like
from .errors import ShapeError
from .index_functions import _keep_dims, _positions, _quantiles
from .ops._util import float_operand, norm_dim
from .tensor import Tensor

__all__ = ["nanmedian", "nanquantile", "scatter_reduce"]


# ----------------------------------------------------------------------------- NaN-skipping
def nanmedian(input: Tensor, dim: int | None = None, keepdim: bool = False):
    """The lower median of the entries that are not NaN (NaN where there are none): of the
    flattened tensor, or (values, indices) along ``dim``."""
    if dim is None:
        flat = input.reshape(-1)
        return median(flat[~flat.isnan()]) if input.is_floating_point() else median(flat)
    d = norm_dim(dim, max(input.ndim, 1))
    if input.ndim == 0:
        return ValuesIndices(input * 1, zeros((), dtype=dtypes.int64, device=input.device))
    if input.shape[d] == 0:
        raise IndexError(f"nanmedian: dimension {dim} is empty")
    s = input.sort(d)  # NaN sorts last
    k = ((_valid_count(input, d) - 1) // 2).clamp(min=0)
    values, indices = s.values.gather(d, k), s.indices.gather(d, k)
    if not keepdim:
        values, indices = values.squeeze(d), indices.squeeze(d)
    return ValuesIndices(values, indices)


def _valid_count(x: Tensor, d: int) -> Tensor:
    """The number of non-NaN entries along d, kept as a size-1 dim (int64)."""
    if not x.is_floating_point():
        return full_like(x.narrow(d, 0, 1), x.shape[d], dtype=dtypes.int64)
    return (~x.isnan()).sum(d, keepdim=True)


def nanquantile(input: Tensor, q, dim: int | None = None, keepdim: bool = False, *,
                interpolation: str = "linear") -> Tensor:
    """``quantile`` of the entries that are not NaN (NaN where a row has none)."""
    input = float_operand(input)
    scalar_q, qs = _quantiles(q, input)
    src = input.reshape(-1) if dim is None else input
    d = 0 if dim is None else norm_dim(dim, max(input.ndim, 1))
    if src.ndim == 0:
        src = src.reshape(1)
    s = src.sort(d).values
    count = _valid_count(src, d)
    last = (count - 1).clamp(min=0).detach().cpu().numpy().astype(np.float64)
    outs = []
    for qv in qs:
        lo, hi, frac = _positions(qv * last, interpolation, "nanquantile")
        a = s.gather(d, _index_like(lo, count))
        b = s.gather(d, _index_like(hi, count))
        fr = tensor(frac.astype(input.dtype.np), device=input.device)
        v = ops.where(fr == 0, a, lerp(a, b, fr))
        v = ops.where(count == 0, full_like(v, float("nan")), v)
        outs.append(_keep_dims(v, input, dim, d, keepdim))
    return outs[0] if scalar_q else ops.stack(outs, 0)


def _index_like(idx: np.ndarray, like: Tensor) -> Tensor:
    return tensor(idx.astype(np.int64), device=like.device)


# ----------------------------------------------------------------------------- scatter_reduce
_REDUCES = ("sum", "prod", "mean", "amax", "amin")


def scatter_reduce(input: Tensor, dim: int, index: Tensor, src: Tensor, reduce: str, *,
                   include_self: bool = True) -> Tensor:
    """A copy of x where each position that ``index`` writes along ``dim`` holds the
    ``reduce`` ("sum", "prod", "mean", "amax", "amin") of the ``src`` values sent to it (and
    of its own value when ``include_self``); other positions keep x."""
    if reduce not in _REDUCES:
        raise ValueError(f"scatter_reduce: reduce argument must be one of {_REDUCES}, got "
                         f"{reduce!r}")
    if index.is_floating_point() or index.dtype is dtypes.bool_:
        raise TypeError(f"scatter_reduce: expected an integer index, got {index.dtype.name}")
    if input.ndim == 0:  # a 0-d self: scatter into its one element, as a 1-element tensor
        norm_dim(dim, 1)
        index, src = (t.reshape(1) if t.ndim == 0 else t for t in (index, src))
        return scatter_reduce(input.reshape(1), 0, index, src, reduce,
                              include_self=include_self).reshape(())
    if not input.ndim == index.ndim == src.ndim and input.ndim:
        raise ShapeError(f"scatter_reduce: index {tuple(index.shape)}, self {tuple(input.shape)} "
                         f"and src {tuple(src.shape)} must have the same number of dims")
    d = norm_dim(dim, max(input.ndim, 1))
    if any(i > s for i, s in zip(index.shape, src.shape)) or any(
            i > s for k, (i, s) in enumerate(zip(index.shape, input.shape)) if k != d):
        raise ShapeError(f"scatter_reduce: index {tuple(index.shape)} must be no larger than "
                         f"src {tuple(src.shape)}, and than self {tuple(input.shape)} "
                         f"outside dim {d}")
    src = src[tuple(slice(0, n) for n in index.shape)].to(input.dtype)
    hit = zeros_like(input, dtype=dtypes.int64).scatter_add(d, index, ones_like(index))
    if reduce in ("sum", "mean"):
        base = input if include_self else ops.where(hit > 0, zeros_like(input), input)
        total = base.scatter_add(d, index, src)
        if reduce == "sum":
            return total
        count = (hit + int(include_self)).clamp(min=1).to(input.dtype)
        floor = not input.is_floating_point()
        mean = total.div(count, rounding_mode="floor") if floor else total / count
        return ops.where(hit > 0, mean.to(input.dtype), input)
    return _ScatterExtremum.apply(input, index, src, d, reduce, include_self, hit > 0)


def _scatter_at(xp, out, index, d: int, values, reduce: str) -> None:
    """out[index along d] (op)= values, repeated positions combined (a ufunc's ``at``)."""
    coords = [xp.broadcast_to(c, index.shape) for c in xp.indices(index.shape, sparse=True)]
    coords[d] = index
    ufunc = {"prod": "multiply", "amax": "maximum", "amin": "minimum"}[reduce]
    if xp is np:
        getattr(np, ufunc).at(out, tuple(coords), values)
        return
    import cupyx  # CuPy has scatter_max / scatter_min; a product goes through the host

    if reduce == "prod":
        host = xp.asnumpy(out)
        np.multiply.at(host, tuple(xp.asnumpy(c) for c in coords), xp.asnumpy(values))
        out[...] = xp.asarray(host)
    else:
        getattr(cupyx, "scatter_max" if reduce == "amax" else "scatter_min")(
            out, tuple(coords), values)


class _ScatterExtremum(Function):
    """scatter_reduce's prod / amax / amin (see the module docstring for the backward)."""

    @staticmethod
    def forward(ctx, x, index, src, d, reduce, include_self, hit):
        xp = x.device.backend.xp
        out = xp.array(x._data, copy=True)
        if not include_self:  # written positions start from the reduction's identity
            ident = {"prod": 1, "amax": -np.inf, "amin": np.inf}[reduce]
            if not x.is_floating_point() and reduce != "prod":
                info = np.iinfo(out.dtype) if out.dtype != np.bool_ else None
                ident = (info.min if reduce == "amax" else info.max) if info else ident
            out[hit._data] = ident
        _scatter_at(xp, out, index._data, d, src._data, reduce)
        y = Tensor._make(out, x.device, False, None)
        ctx.d, ctx.reduce, ctx.include_self = d, reduce, include_self
        ctx.save_for_backward(x, index, src, y, hit)
        return y

    @staticmethod
    def backward(ctx, g):
        x, index, src, y, hit = ctx.saved_tensors
        d, keep_self = ctx.d, ctx.include_self
        if ctx.reduce == "prod":
            gx, gsrc = _prod_grads(x, index, src, y, g, d, hit, keep_self)
            return gx, None, gsrc, None, None, None, None
        # a max / min: shared evenly by the entries (own value and sources) equal to it.  As
        # PyTorch 2.13, an own value equal to it takes a share even when not included, and
        # that share is dropped: the gradients then sum to less than g.
        self_tie = ~hit | (x == y)
        src_tie = (src == y.gather(d, index)).to(x.dtype)
        count = self_tie.to(x.dtype).scatter_add(d, index, src_tie)
        share = g / count.clamp(min=1)
        gx = ops.where(self_tie if keep_self else ~hit, share, zeros_like(share))
        return gx, None, share.gather(d, index) * src_tie, None, None, None, None


def _prod_grads(x, index, src, y, g, d, hit, keep_self):
    """Gradients of a scattered product: g y / e for an entry e != 0; for e == 0, g times the
    product of the other entries (nonzero only when e is the position's only zero)."""
    one = ones_like(x)
    own_x = x if keep_self else ops.where(hit, one, x)
    zeros_here = (own_x == 0).to(x.dtype).scatter_add(d, index, (src == 0).to(x.dtype))
    nonzero_prod = scatter_reduce(ops.where(own_x == 0, one, own_x), d, index,
                                  ops.where(src == 0, ones_like(src), src), "prod").detach()
    others_if_zero = ops.where(zeros_here == 1, nonzero_prod, zeros_like(x))

    def grad(e, y_e, others):
        safe = ops.where(e == 0, ones_like(e), e)
        return ops.where(e == 0, others, y_e / safe)

    gx = g * grad(own_x, y, others_if_zero)
    if not keep_self:
        gx = ops.where(hit, zeros_like(gx), g)
    gsrc = g.gather(d, index) * grad(src, y.gather(d, index), others_if_zero.gather(d, index))
    return gx, gsrc


for _name in __all__:
    setattr(Tensor, _name, globals()[_name])
setattr(Tensor, "scatter_reduce_",
        lambda self, *a, **k: self._inplace(scatter_reduce, *a, **k))
del _name
