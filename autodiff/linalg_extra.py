"""The rest of ``torch.linalg`` for real matrices: ``LinAlgError``, the ``*_ex`` variants
(``inv_ex``, ``solve_ex``, ``cholesky_ex``: LAPACK's ``info`` instead of an error), ``cond``,
``tensorinv``, ``tensorsolve`` and the Bunch-Kaufman LDL^T family (``ldl_factor``,
``ldl_factor_ex``, ``ldl_solve``). ``eig``/``eigvals`` need complex tensors, which autodiff
does not have: they raise NotImplementedError (``eigh`` covers symmetric matrices).

``info`` follows LAPACK: for ``inv``/``solve`` the 1-based index of the first exactly zero
pivot of the partially pivoted LU (getrf), for ``cholesky`` the order of the first leading
minor that is not positive definite (potrf), for ``ldl_factor`` the first zero diagonal
block of D (sytrf). ``ldl_factor`` is LAPACK's unblocked ``sytf2`` with uplo = 'L' (what
``sytrf`` runs for n up to its block size, 64 in the reference LAPACK), written here with
NumPy: LD and the pivots equal PyTorch's. The factorizations and solves run on the host.
"""

from __future__ import annotations

import collections
import importlib
import math

import numpy as np

from .creation import tensor
from .errors import ShapeError
from .ops._util import float_operand
from .tensor import Tensor

__all__ = ["LinAlgError", "cholesky_ex", "cond", "eig", "eigvals", "inv_ex", "ldl_factor",
           "ldl_factor_ex", "ldl_solve", "solve_ex", "tensorinv", "tensorsolve"]

_la = importlib.import_module(".linalg", __package__)  # not ops.linalg, the package attribute
InvEx = collections.namedtuple("linalg_inv_ex", ["inverse", "info"])
SolveEx = collections.namedtuple("linalg_solve_ex", ["result", "info"])
CholeskyEx = collections.namedtuple("linalg_cholesky_ex", ["L", "info"])


class LinAlgError(RuntimeError):
    """A linear-algebra routine could not complete (a singular or not positive-definite
    input), as ``torch.linalg.LinAlgError``; a RuntimeError, so ``except RuntimeError``
    still catches it."""


def _host(t: Tensor) -> np.ndarray:
    return np.asarray(t._dev.backend.to_numpy(t.detach()._data), np.float64)


def _first_bad(info: np.ndarray, name: str, what) -> None:
    """Raise LinAlgError for the first non-zero info, with PyTorch's batch prefix."""
    if not info.any():
        return
    flat = info.reshape(-1)
    b = int(np.flatnonzero(flat)[0])
    batch = f"(Batch element {b}): " if info.ndim else ""
    raise LinAlgError(f"{name}: {batch}{what(int(flat[b]))}")


def _singular(k: int) -> str:
    return (f"The diagonal element {k} is zero, the inversion could not be completed "
            f"because the input matrix is singular.")


def _not_pd(k: int) -> str:
    return (f"The factorization could not be completed because the input is not "
            f"positive-definite (the leading minor of order {k} is not positive-definite).")


def _solver_singular(k: int) -> str:
    return "The solver failed because the input matrix is singular."


def lu_info(a: np.ndarray) -> np.ndarray:
    """getrf's info per matrix of a stack: the first exactly zero pivot (1-based), else 0."""
    from .torch_linalg_extra import _lu_host

    packed, _ = _lu_host(np.asarray(a, np.float64))
    d = np.diagonal(packed, 0, -2, -1)
    if not d.shape[-1]:
        return np.zeros(d.shape[:-1], np.int32)
    zero = d == 0
    return np.where(zero.any(-1), zero.argmax(-1) + 1, 0).astype(np.int32)


def cholesky_host(a: np.ndarray):
    """LAPACK potf2 (lower) on a stack: (L, info); a failed matrix keeps the failing pivot
    a_jj - sum L_jk^2 on its diagonal and its later columns unfactored, as LAPACK leaves them."""
    batch, n = a.shape[:-2], a.shape[-1]
    work = np.tril(np.array(a, np.float64).reshape((-1, n, n)))
    info = np.zeros(work.shape[0], np.int32)
    with np.errstate(all="ignore"):
        for j in range(n):
            live = info == 0
            ajj = work[:, j, j] - np.einsum("bk,bk->b", work[:, j, :j], work[:, j, :j])
            bad = live & ~(ajj > 0)
            info[bad] = j + 1
            ok = live & ~bad
            work[bad, j, j] = ajj[bad]
            root = np.sqrt(np.where(ok, ajj, 1.0))
            col = (work[:, j + 1:, j] - np.einsum("bik,bk->bi", work[:, j + 1:, :j],
                                                   work[:, j, :j])) / root[:, None]
            work[ok, j, j] = root[ok]
            work[ok, j + 1:, j] = col[ok]
    return work.reshape(batch + (n, n)), info.reshape(batch)


def raise_if_singular(a: np.ndarray, name: str, solver: bool = False) -> None:
    """PyTorch's LinAlgError for a singular matrix in a stack (a no-op when none is)."""
    _first_bad(lu_info(a), name, _solver_singular if solver else _singular)


def raise_if_not_pd(a: np.ndarray, name: str) -> None:
    _first_bad(cholesky_host(a)[1], name, _not_pd)


# ----------------------------------------------------------------------------- *_ex
def inv_ex(A: Tensor, *, check_errors: bool = False):
    """(inverse, info): ``inv`` that reports a singular matrix in ``info`` (int32, 0 when
    invertible) instead of raising, unless ``check_errors``. Differentiable when every
    matrix is invertible; the inverse of a singular one is LAPACK's undefined result."""
    A = _la._square(A, "inv_ex")
    info = lu_info(_host(A))
    if check_errors:
        _first_bad(info, "linalg.inv_ex", _singular)
    if not info.any():
        return InvEx(_la.inv(A), tensor(info, device=A.device))
    eye = np.broadcast_to(np.eye(A.shape[-1]), tuple(A.shape))
    out = _lu_solve_any(_host(A), eye).astype(A.dtype.np)
    return InvEx(tensor(out, device=A.device), tensor(info, device=A.device))


def _lu_solve_any(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """A^-1 B through the pivoted LU, completing (with inf/NaN) when a pivot is zero."""
    from .torch_linalg_extra import _lu_host, _perm

    packed, piv = _lu_host(a)
    n = a.shape[-1]
    x = np.take_along_axis(b, _perm(piv, n)[..., None], -2).copy()
    with np.errstate(all="ignore"):
        for i in range(n):  # L y = P b (unit lower), then U x = y
            x[..., i, :] -= np.einsum("...k,...kj->...j", packed[..., i, :i], x[..., :i, :])
        for i in reversed(range(n)):
            x[..., i, :] -= np.einsum("...k,...kj->...j", packed[..., i, i + 1:],
                                      x[..., i + 1:, :])
            x[..., i, :] /= packed[..., i, i, None]
    return x


def solve_ex(A: Tensor, B: Tensor, *, left: bool = True, check_errors: bool = False):
    """(result, info): ``solve`` with LAPACK's getrf info instead of an error."""
    if not left:  # X A = B  <=>  A^T X^T = B^T
        res, info = solve_ex(_la._mT(A), _la._mT(B), check_errors=check_errors)
        return SolveEx(_la._mT(res), info)
    A = _la._square(A, "solve_ex")
    info = lu_info(_host(A))
    if check_errors:
        _first_bad(info, "torch.linalg.solve_ex", _solver_singular)
    if not info.any():
        return SolveEx(_la.solve(A, B), tensor(info, device=A.device))
    B = float_operand(B)
    vector = B.ndim == 1 or (B.ndim == A.ndim - 1 and tuple(B.shape) == tuple(A.shape[:-1]))
    b = _host(B)[..., None] if vector else _host(B)
    batch = np.broadcast_shapes(A.shape[:-2], b.shape[:-2])
    out = _lu_solve_any(np.broadcast_to(_host(A), batch + tuple(A.shape[-2:])),
                        np.broadcast_to(b, batch + b.shape[-2:]))
    out = out[..., 0] if vector else out
    return SolveEx(tensor(out.astype(A.dtype.np), device=A.device), tensor(info, device=A.device))


def cholesky_ex(input: Tensor, *, upper: bool = False, check_errors: bool = False):
    """(L, info): ``cholesky`` with LAPACK's potrf info (the order of the first leading minor
    that is not positive definite, else 0) instead of an error."""
    input = _la._square(input, "cholesky_ex")
    low, info = cholesky_host(_host(input))
    if check_errors:
        _first_bad(info, "linalg.cholesky_ex", _not_pd)
    if not info.any():
        return CholeskyEx(_la.cholesky(input, upper=upper), tensor(info, device=input.device))
    low = np.swapaxes(low, -1, -2) if upper else low
    return CholeskyEx(tensor(low.astype(input.dtype.np), device=input.device),
                      tensor(info, device=input.device))


# ----------------------------------------------------------------------------- cond, tensor*
def cond(input: Tensor, p=None) -> Tensor:
    """The condition number ||A||_p ||A^-1||_p: sigma_max / sigma_min for p None or 2
    (sigma_min / sigma_max for -2, any m x n), else of square matrices, inf where singular."""
    input = float_operand(input)
    if p in (None, 2, -2):
        s = _la.svdvals(input)
        big, small = s.amax(-1), s.amin(-1)
        return big / small if p != -2 else small / big
    if p not in ("fro", "nuc", 1, -1, math.inf, -math.inf):
        raise RuntimeError(f"linalg.cond got an invalid norm type: {p}")
    input = _la._square(input, "cond")
    if p == "nuc":  # through the singular values, as PyTorch: finite for a singular A
        s = _la.svdvals(input)
        return s.sum(-1) * (1 / s).sum(-1)
    inverse, info = inv_ex(input)
    out = _la.matrix_norm(input, p) * _la.matrix_norm(inverse, p)
    from . import ops

    return ops.where(info.to(out.device) > 0, math.inf, out)


def tensorinv(input: Tensor, ind: int = 2) -> Tensor:
    """The inverse of A read as a matrix of shape (prod(A.shape[:ind]), prod(A.shape[ind:])),
    shaped A.shape[ind:] + A.shape[:ind]."""
    if ind <= 0:
        raise ValueError(f"Expected a strictly positive integer for 'ind', but got {ind}")
    rows, cols = input.shape[:ind], input.shape[ind:]
    if math.prod(rows) != math.prod(cols):
        raise ShapeError(f"Expected self to satisfy the requirement prod(self.shape[ind:]) == "
                         f"prod(self.shape[:ind]), but got {math.prod(cols)} != "
                         f"{math.prod(rows)}")
    inverse = _la.inv(input.reshape(math.prod(rows), math.prod(cols)))
    return inverse.reshape(*cols, *rows)


def tensorsolve(input: Tensor, other: Tensor, dims=None) -> Tensor:
    """X with tensordot(A, X, X.ndim) = B; ``dims`` moves those dims of A to the end first."""
    if dims is not None:
        dims = [d % input.ndim for d in dims]
        input = input.permute(*[d for d in range(input.ndim) if d not in dims], *dims)
    rest = input.shape[other.ndim:]
    if math.prod(rest) != math.prod(other.shape):
        raise RuntimeError(f"Expected self to satisfy the requirement prod(self.shape[other.ndim:"
                           f"]) == prod(self.shape[:other.ndim]), but got {math.prod(rest)} != "
                           f"{math.prod(other.shape)}")
    x = _la.solve(input.reshape(math.prod(other.shape), math.prod(rest)), other.reshape(-1))
    return x.reshape(*rest)


def eig(input: Tensor, *args, **kwargs):
    """Not available: torch.linalg.eig returns complex tensors, which autodiff lacks."""
    raise NotImplementedError("linalg.eig: the eigendecomposition of a general matrix is "
                              "complex, and autodiff has no complex dtype; for symmetric "
                              "matrices use linalg.eigh (eigenvalues: linalg.eigvalsh)")


def eigvals(input: Tensor, *args, **kwargs):
    """Not available (complex result): see ``eig``; use ``eigvalsh`` for symmetric A."""
    raise NotImplementedError("linalg.eigvals: the eigenvalues of a general matrix are "
                              "complex, and autodiff has no complex dtype; for symmetric "
                              "matrices use linalg.eigvalsh")


# ----------------------------------------------------------------------------- LDL^T
from ._linalg_ldl import ldl_factor, ldl_factor_ex, ldl_solve
