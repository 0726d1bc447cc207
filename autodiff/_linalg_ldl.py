"""The Bunch-Kaufman LDL^T factorization of symmetric matrices (``torch.linalg.ldl_factor``,
``ldl_factor_ex``, ``ldl_solve``): LAPACK's ``sytf2`` and ``sytrs`` with uplo = 'L', on the
host with NumPy, one matrix of a batch at a time.

LD holds L's strict lower triangle (unit diagonal implied) and D's diagonal and, for a 2 x 2
pivot block at k, D's sub-diagonal entry LD[k+1, k]; the upper triangle is zero. ``pivots``
are LAPACK's 1-based ipiv: ipiv[k] = p > 0 swapped rows/columns k and p for a 1 x 1 block,
ipiv[k] = ipiv[k+1] = -p for a 2 x 2 block (rows k+1 and p swapped). Symmetric real input
only (``hermitian`` changes nothing for real matrices). Neither op is differentiable; as in
PyTorch, backward through them raises.
"""

from __future__ import annotations

import collections
import math

import numpy as np

from .autograd.function import Function
from .creation import tensor
from .errors import ShapeError
from .ops._util import float_operand
from .tensor import Tensor

LDLFactor = collections.namedtuple("linalg_ldl_factor", ["LD", "pivots"])
LDLFactorEx = collections.namedtuple("linalg_ldl_factor_ex", ["LD", "pivots", "info"])
_ALPHA = (1.0 + math.sqrt(17.0)) / 8.0  # Bunch-Kaufman's threshold


def _swap_pivot(a, k, kk, kp):
    """Interchange rows and columns kk and kp of the trailing lower triangle A[k:, k:]."""
    a[kp + 1:, kk], a[kp + 1:, kp] = a[kp + 1:, kp].copy(), a[kp + 1:, kk].copy()
    a[kk + 1:kp, kk], a[kp, kk + 1:kp] = a[kp, kk + 1:kp].copy(), a[kk + 1:kp, kk].copy()
    a[kk, kk], a[kp, kp] = a[kp, kp], a[kk, kk]
    if kk != k:  # a 2 x 2 block: its off-diagonal entry moves too
        a[k + 1, k], a[kp, k] = a[kp, k], a[k + 1, k]


def _choose(a, k, n):
    """(kp, kstep, zero) for the pivot at column k (0-based), sytf2's rule."""
    absakk = abs(a[k, k])
    if k + 1 < n:
        imax = k + 1 + int(np.argmax(np.abs(a[k + 1:, k])))
        colmax = abs(a[imax, k])
    else:
        imax, colmax = k, 0.0
    if max(absakk, colmax) == 0 or math.isnan(absakk):
        return k, 1, True
    if absakk >= _ALPHA * colmax:
        return k, 1, False
    row = np.abs(a[imax, k:imax])
    rowmax = row.max() if row.size else 0.0
    if imax + 1 < n:
        rowmax = max(rowmax, np.abs(a[imax + 1:, imax]).max())
    if absakk >= _ALPHA * colmax * (colmax / rowmax):
        return k, 1, False
    if abs(a[imax, imax]) >= _ALPHA * rowmax:
        return imax, 1, False
    return imax, 2, False


def _sytf2(a: np.ndarray):
    """(LD, ipiv 1-based, info) of one symmetric matrix (its lower triangle is read)."""
    a = np.tril(a).astype(np.float64)
    n = a.shape[0]
    ipiv = np.zeros(n, np.int32)
    info, k = 0, 0
    while k < n:
        kp, kstep, zero = _choose(a, k, n)
        if zero:
            info = info or k + 1
        else:
            kk = k + kstep - 1
            if kp != kk:
                _swap_pivot(a, k, kk, kp)
            if kstep == 1:
                x = a[k + 1:, k].copy()
                a[k + 1:, k + 1:] -= np.tril(np.outer(x, x)) / a[k, k]
                a[k + 1:, k] = x / a[k, k]
            elif k + 2 < n:
                d21 = a[k + 1, k]
                d11, d22 = a[k + 1, k + 1] / d21, a[k, k] / d21
                d21 = 1.0 / (d11 * d22 - 1.0) / d21
                c0, c1 = a[k + 2:, k].copy(), a[k + 2:, k + 1].copy()
                wk, wkp1 = d21 * (d11 * c0 - c1), d21 * (d22 * c1 - c0)
                a[k + 2:, k + 2:] -= np.tril(np.outer(c0, wk) + np.outer(c1, wkp1))
                a[k + 2:, k], a[k + 2:, k + 1] = wk, wkp1
        if kstep == 1:
            ipiv[k] = kp + 1
        else:
            ipiv[k] = ipiv[k + 1] = -(kp + 1)
        k += kstep
    return a, ipiv, info


def _sytrs(a: np.ndarray, ipiv: np.ndarray, b: np.ndarray) -> np.ndarray:
    """X with A X = B from sytf2's (LD, ipiv), uplo = 'L' (LAPACK's sytrs)."""
    b = b.astype(np.float64).copy()
    n, k = a.shape[0], 0
    while k < n:  # L D Y = P B
        if ipiv[k] > 0:
            kp = ipiv[k] - 1
            b[[k, kp]] = b[[kp, k]]
            b[k + 1:] -= np.outer(a[k + 1:, k], b[k])
            b[k] /= a[k, k]
            k += 1
            continue
        kp = -ipiv[k] - 1
        b[[k + 1, kp]] = b[[kp, k + 1]]
        b[k + 2:] -= np.outer(a[k + 2:, k], b[k]) + np.outer(a[k + 2:, k + 1], b[k + 1])
        akm1k = a[k + 1, k]
        akm1, ak = a[k, k] / akm1k, a[k + 1, k + 1] / akm1k
        denom = akm1 * ak - 1.0
        bkm1, bk = b[k] / akm1k, b[k + 1] / akm1k
        b[k], b[k + 1] = (ak * bkm1 - bk) / denom, (akm1 * bk - bkm1) / denom
        k += 2
    k = n - 1
    while k >= 0:  # L^T X = Y, undoing the interchanges
        if ipiv[k] > 0:
            b[k] -= a[k + 1:, k] @ b[k + 1:]
            kp = ipiv[k] - 1
            b[[k, kp]] = b[[kp, k]]
            k -= 1
            continue
        b[k] -= a[k + 1:, k] @ b[k + 1:]
        b[k - 1] -= a[k + 1:, k - 1] @ b[k + 1:]
        kp = -ipiv[k] - 1
        b[[k, kp]] = b[[kp, k]]
        k -= 2
    return b


class _NotDifferentiable(Function):
    """Forward the given arrays; backward raises as PyTorch's (no derivative formula)."""

    @staticmethod
    def forward(ctx, like, name, *arrays):
        ctx.name = name
        return tuple(Tensor._make(a, like._dev, False, None) for a in arrays)

    @staticmethod
    def backward(ctx, *grads):
        raise RuntimeError(f"derivative for aten::{ctx.name} is not implemented")


def ldl_factor_ex(input: Tensor, *, hermitian: bool = False, check_errors: bool = False):
    """(LD, pivots, info) of symmetric matrices (their lower triangles are read), as
    ``torch.linalg.ldl_factor_ex``; info is the 1-based index of the first zero block of D.

    Shape:
        A: (*, n, n); LD: (*, n, n); pivots and info: (*, n) and (*) int32.
    """
    input = float_operand(input)
    if input.ndim < 2 or input.shape[-1] != input.shape[-2]:
        raise ShapeError(f"torch.linalg.ldl_factor_ex: A must be batches of square matrices, "
                         f"but they are {tuple(input.shape[-2:])} matrices")
    a = np.asarray(input._dev.backend.to_numpy(input.detach()._data), np.float64)
    batch, n = a.shape[:-2], a.shape[-1]
    ld, piv = np.empty(a.shape), np.empty(batch + (n,), np.int32)
    info = np.zeros(batch, np.int32)
    for idx in np.ndindex(*batch):
        ld[idx], piv[idx], info[idx] = _sytf2(a[idx])
    if check_errors and info.any():
        from .linalg_extra import LinAlgError

        b = int(np.flatnonzero(info.reshape(-1))[0])
        where = f"(Batch element {b}): " if batch else ""
        raise LinAlgError(f"torch.linalg.ldl_factor: {where}The factorization could not be "
                          f"completed: D[{info.reshape(-1)[b] - 1}] is zero (the matrix is "
                          f"singular)")
    xp = input._dev.backend.xp
    ld = xp.asarray(ld.astype(input.dtype.np))
    out = _NotDifferentiable.apply(input, "linalg_ldl_factor_ex", ld)
    ld = out[0] if isinstance(out, tuple) else out
    return LDLFactorEx(ld, tensor(piv, device=input.device), tensor(info, device=input.device))


def ldl_factor(input: Tensor, *, hermitian: bool = False):
    """(LD, pivots) of symmetric matrices; a zero block of D raises LinAlgError (PyTorch
    2.13 fails there with an internal assertion)."""
    ld, piv, _ = ldl_factor_ex(input, hermitian=hermitian, check_errors=True)
    return LDLFactor(ld, piv)


def ldl_solve(LD: Tensor, pivots: Tensor, B: Tensor, *, hermitian: bool = False) -> Tensor:
    """X with A X = B from ``ldl_factor``'s (LD, pivots), batched (LD, pivots and B
    broadcast over the leading dims).

    Shape:
        LD: (*, n, n); pivots: (*, n); B: (*, n, k); result (*, n, k).
    """
    if B.ndim < 2:
        raise ShapeError(f"torch.linalg.ldl_solve: B should have at least 2 dimensions, "
                         f"but has {B.ndim} dimensions instead")
    host = LD._dev.backend.to_numpy
    ld = np.asarray(host(LD.detach()._data), np.float64)
    piv = np.asarray(pivots._dev.backend.to_numpy(pivots.detach()._data), np.int64)
    b = np.asarray(host(float_operand(B).detach()._data), np.float64)
    batch = np.broadcast_shapes(ld.shape[:-2], piv.shape[:-1], b.shape[:-2])
    ld = np.broadcast_to(ld, batch + ld.shape[-2:])
    piv = np.broadcast_to(piv, batch + piv.shape[-1:])
    b = np.broadcast_to(b, batch + b.shape[-2:])
    out = np.empty(b.shape)
    for idx in np.ndindex(*batch):
        out[idx] = _sytrs(ld[idx], piv[idx], b[idx])
    dtype = np.result_type(LD.dtype.np, B.dtype.np)
    out = LD._dev.backend.xp.asarray(out.astype(dtype))
    res = _NotDifferentiable.apply(float_operand(B), "linalg_ldl_solve", out)
    return res[0] if isinstance(res, tuple) else res
