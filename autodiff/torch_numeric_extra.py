"""Numerical integration and differentiation under PyTorch's names: ``trapezoid`` (and its
alias ``trapz``), ``cumulative_trapezoid`` and ``gradient`` (NumPy's ``gradient``: central
differences inside, one-sided ones of order 1 or 2 at the ends, uniform spacing or
coordinates). All are composites of ``narrow``, arithmetic and ``cat``, so they are
differentiable with respect to the samples and the coordinates.
"""

from __future__ import annotations

from . import dtypes, ops
from .errors import ShapeError
from .ops._util import norm_dim
from .tensor import Tensor

__all__ = ["cumulative_trapezoid", "gradient", "trapezoid", "trapz"]


# ----------------------------------------------------------------- integration
def _trapezoid_terms(name: str, y: Tensor, x, dx, dim: int):
    """The pair sums (y_i + y_{i+1}) / 2 times the spacings, along dim."""
    d = norm_dim(dim, y.ndim)
    y = y if y.dtype.is_floating_point else y.to(dtypes.get_default_dtype())
    n = y.shape[d]
    m, one = max(n - 1, 0), min(n, 1)  # 0 samples: empty pairs (an integral of 0)
    pairs = (y.narrow(d, one, m) + y.narrow(d, 0, m)) * 0.5
    if x is None:
        return pairs * (1.0 if dx is None else dx), d
    if not isinstance(x, Tensor):
        return pairs * float(x), d
    if x.ndim == 1:
        if x.shape[0] != n:
            raise ShapeError(
                f"{name}: there must be one `x` value for each sample point: "
                f"x has {x.shape[0]}, y has {n} along dim {dim}"
            )
        h = x.narrow(0, one, m) - x.narrow(0, 0, m)
        h = h.reshape((m,) + (1,) * (y.ndim - d - 1))
    else:
        h = x.narrow(dim, one, m) - x.narrow(dim, 0, m)
    return pairs * h, d


def trapezoid(y: Tensor, x=None, *, dx=None, dim: int = -1) -> Tensor:
    """The trapezoidal rule along dim, with sample points x (a tensor) or spacing dx."""
    terms, d = _trapezoid_terms("trapezoid", y, x, dx, dim)
    return terms.sum(d)


def trapz(y: Tensor, x=None, *, dx=None, dim: int = -1) -> Tensor:
    """Alias of ``trapezoid``."""
    return trapezoid(y, x, dx=dx, dim=dim)


def cumulative_trapezoid(y: Tensor, x=None, *, dx=None, dim: int = -1) -> Tensor:
    """The running trapezoidal integral along dim (one element fewer than y)."""
    from .composites import cumsum

    terms, d = _trapezoid_terms("cumulative_trapezoid", y, x, dx, dim)
    return cumsum(terms, d)


# ----------------------------------------------------------------- numerical gradient
def _spacings(spacing, dims, x: Tensor) -> list:
    """One spacing per dim: a number, or the coordinates (a 1-D tensor) along it."""
    if spacing is None:
        return [1.0] * len(dims)
    if isinstance(spacing, (int, float)) or (isinstance(spacing, Tensor) and spacing.ndim == 0):
        return [float(spacing)] * len(dims)
    spacing = list(spacing)
    if len(spacing) != len(dims):
        raise ValueError(
            f"gradient: expected spacing to be unspecified, a scalar, or a list of "
            f"length {len(dims)} (one per dim), got length {len(spacing)}"
        )
    out = []
    for s, d in zip(spacing, dims):
        if isinstance(s, Tensor) and s.ndim == 1:
            if s.shape[0] != x.shape[d]:
                raise ShapeError(
                    f"gradient: coordinates for dim {d} have {s.shape[0]} entries, "
                    f"the input has {x.shape[d]}"
                )
            out.append(s.to(x.dtype))
        else:
            out.append(float(s))
    return out


def _gradient_along(f: Tensor, d: int, h, edge_order: int) -> Tensor:
    """NumPy's second-order accurate differences along d (interior) and one-sided ones of
    ``edge_order`` at the two ends."""
    n = f.shape[d]

    def part(start, length):
        return f.narrow(d, start, length)

    def at(c: Tensor, start: int, length: int) -> Tensor:  # coordinate slice, shaped for d
        return c.narrow(0, start, length).reshape((length,) + (1,) * (f.ndim - d - 1))

    if isinstance(h, float):
        inner = (part(2, n - 2) - part(0, n - 2)) / (2 * h)
        if edge_order == 1:
            first = (part(1, 1) - part(0, 1)) / h
            last = (part(n - 1, 1) - part(n - 2, 1)) / h
        else:
            first = (part(0, 1) * -1.5 + part(1, 1) * 2 - part(2, 1) * 0.5) / h
            last = (part(n - 3, 1) * 0.5 - part(n - 2, 1) * 2 + part(n - 1, 1) * 1.5) / h
        return ops.cat([first, inner, last], d)
    dx = h.narrow(0, 1, n - 1) - h.narrow(0, 0, n - 1)
    d1, d2 = at(dx, 0, n - 2), at(dx, 1, n - 2)
    inner = (
        -d2 / (d1 * (d1 + d2)) * part(0, n - 2)
        + (d2 - d1) / (d1 * d2) * part(1, n - 2)
        + d1 / (d2 * (d1 + d2)) * part(2, n - 2)
    )
    if edge_order == 1:
        first = (part(1, 1) - part(0, 1)) / at(dx, 0, 1)
        last = (part(n - 1, 1) - part(n - 2, 1)) / at(dx, n - 2, 1)
    else:
        a1, a2 = at(dx, 0, 1), at(dx, 1, 1)
        first = (
            -(2 * a1 + a2) / (a1 * (a1 + a2)) * part(0, 1)
            + (a1 + a2) / (a1 * a2) * part(1, 1)
            - a1 / (a2 * (a1 + a2)) * part(2, 1)
        )
        b1, b2 = at(dx, n - 3, 1), at(dx, n - 2, 1)
        last = (
            b2 / (b1 * (b1 + b2)) * part(n - 3, 1)
            - (b1 + b2) / (b1 * b2) * part(n - 2, 1)
            + (2 * b2 + b1) / (b2 * (b1 + b2)) * part(n - 1, 1)
        )
    return ops.cat([first, inner, last], d)


def gradient(input: Tensor, *, spacing=None, dim=None, edge_order: int = 1) -> tuple:
    """The numerical derivative of x along each of ``dim`` (all dims by default), as
    numpy.gradient: central differences inside, one-sided differences of ``edge_order``
    (1 or 2) at the ends; ``spacing`` a number, one per dim, or coordinate tensors."""
    if edge_order not in (1, 2):
        raise ValueError(f"gradient: edge_order {edge_order} is not supported, only 1 or 2")
    dims = (
        list(range(input.ndim))
        if dim is None
        else [norm_dim(d, input.ndim) for d in ([dim] if isinstance(dim, int) else dim)]
    )
    for d in dims:
        if input.shape[d] < edge_order + 1:
            raise RuntimeError(
                f"gradient: expected each dimension size to be at least "
                f"edge_order+1 = {edge_order + 1}, got {input.shape[d]} for dim {d}"
            )
    f = input if input.dtype.is_floating_point else input.to(dtypes.get_default_dtype())
    return tuple(
        _gradient_along(f, d, h, edge_order) for d, h in zip(dims, _spacings(spacing, dims, f))
    )
