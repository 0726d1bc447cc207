"""Linear-algebra and statistics PyTorch names that were still missing: ``vdot``, ``inner``,
``addmv``/``addr``/``addbmm``, ``chain_matmul``, ``matrix_exp``, ``cholesky_solve``,
``cholesky_inverse``, ``triangular_solve`` (and ``linalg.solve_triangular``), the LU family
(``lu``, ``lu_unpack``, ``lu_solve``, ``linalg.lu_factor``/``lu``/``lu_solve``),
``nuclear_norm``/``frobenius_norm``, ``cov``, ``corrcoef``, ``histc`` and ``histogram``.

All differentiable ones are composites of existing differentiable ops (``matmul``,
``linalg.solve``, ``tril``/``triu``, ...), so their gradients match PyTorch's closed forms and
double backward works. ``matrix_exp`` is a degree-18 Taylor polynomial after scaling the
matrix to 1-norm <= 1/2, then repeated squaring (truncation error below 1e-22 relative).
``lu`` finds the row pivots on the host (partial pivoting, as LAPACK's getrf) and, when a
gradient is needed, runs the elimination of the row-permuted matrix with Tensor ops.
``histc``/``histogram`` have no gradient (nor have PyTorch's).
"""

from __future__ import annotations

import collections
import math
import warnings

import numpy as np

from . import linalg, ops
from .autograd.grad_mode import state
from .creation import eye, ones_like, tensor
from .errors import DTypeError, ShapeError
from .ops._util import float_operand
from .tensor import Tensor

__all__ = [
    "addbmm",
    "addmv",
    "addr",
    "chain_matmul",
    "cholesky_inverse",
    "cholesky_solve",
    "corrcoef",
    "cov",
    "frobenius_norm",
    "histc",
    "histogram",
    "inner",
    "lu",
    "lu_solve",
    "lu_unpack",
    "matrix_exp",
    "nuclear_norm",
    "pinverse",
    "triangular_solve",
    "vdot",
]

LUUnpack = collections.namedtuple("lu_unpack", ["P", "L", "U"])
LUFactor = collections.namedtuple("linalg_lu_factor", ["LU", "pivots"])
LUFactorEx = collections.namedtuple("linalg_lu_factor_ex", ["LU", "pivots", "info"])
LinalgLU = collections.namedtuple("linalg_lu", ["P", "L", "U"])
TriangularSolve = collections.namedtuple("triangular_solve", ["solution", "cloned_coefficient"])
Histogram = collections.namedtuple("histogram", ["hist", "bin_edges"])


def _shape(t: Tensor) -> tuple:
    return tuple(t.shape)


# ----------------------------------------------------------------- products
def vdot(input: Tensor, other: Tensor) -> Tensor:
    """The dot product of two 1-D tensors (real tensors: no conjugation)."""
    if input.ndim != 1 or other.ndim != 1:
        raise ShapeError(f"vdot: 1D tensors expected, but got {input.ndim}D and {other.ndim}D "
                         f"tensors")
    if input.dtype is not other.dtype:
        raise DTypeError(
            f"vdot: expected both vectors to have same dtype, but found "
            f"{input.dtype.name} and {other.dtype.name}"
        )
    return ops.dot(input, other)


def inner(input: Tensor, other: Tensor) -> Tensor:
    """Sum of products over the last dims (a product when either is 0-d).

    Shape:
        (*a, n) and (*b, n) -> (*a, *b).
    """
    if input.ndim == 0 or other.ndim == 0:
        return input * other
    if input.shape[-1] != other.shape[-1]:
        raise ShapeError(
            f"inner: inner() the last dimension must match on both input tensors "
            f"but got shapes {_shape(input)} and {_shape(other)}"
        )
    from .torch_names import tensordot

    return tensordot(input, other, dims=([-1], [-1]))


def _scaled_sum(input, product, beta, alpha):
    product = product if alpha == 1 else product * alpha
    if beta == 0:  # PyTorch ignores input then (NaN and inf in it do not propagate)
        np.broadcast_shapes(_shape(input), _shape(product))
        return product
    return product + (input if beta == 1 else input * beta)


def addmv(input: Tensor, mat: Tensor, vec: Tensor, *, beta=1, alpha=1) -> Tensor:
    """beta input + alpha (mat @ vec)."""
    if mat.ndim != 2 or vec.ndim != 1:
        raise ShapeError(
            f"addmv: vector + matrix @ vector expected, got {input.ndim}, {mat.ndim}, {vec.ndim}"
        )
    return _scaled_sum(input, ops.mv(mat, vec), beta, alpha)


def addr(input: Tensor, vec1: Tensor, vec2: Tensor, *, beta=1, alpha=1) -> Tensor:
    """beta input + alpha outer(vec1, vec2)."""
    if vec1.ndim != 1 or vec2.ndim != 1:
        raise ShapeError(f"addr: expected 1-D vectors, got {vec1.ndim}-D and {vec2.ndim}-D")
    return _scaled_sum(input, ops.outer(vec1, vec2), beta, alpha)


def addbmm(input: Tensor, batch1: Tensor, batch2: Tensor, *, beta=1, alpha=1) -> Tensor:
    """beta input + alpha sum_b batch1[b] @ batch2[b]."""
    if batch1.ndim != 3 or batch2.ndim != 3:
        raise ShapeError(
            f"addbmm: batch1 and batch2 must be 3-D, got shapes {_shape(batch1)} "
            f"and {_shape(batch2)}"
        )
    return _scaled_sum(input, ops.bmm(batch1, batch2).sum(0), beta, alpha)


def chain_matmul(*matrices) -> Tensor:
    """The product of 2-D matrices in the cheapest order (deprecated in PyTorch)."""
    warnings.warn(
        "torch.chain_matmul is deprecated and will be removed in a future PyTorch "
        "release. Use torch.linalg.multi_dot instead",
        UserWarning,
        stacklevel=2,
    )
    if len(matrices) == 1 and isinstance(matrices[0], (list, tuple)):
        matrices = tuple(matrices[0])
    if not matrices or any(m.ndim != 2 for m in matrices):
        raise ShapeError("chain_matmul: expected one or more 2-D tensors")
    return matrices[0].clone() if len(matrices) == 1 else linalg.multi_dot(list(matrices))


# ----------------------------------------------------------------- matrix functions
def _square(name: str, a: Tensor) -> None:
    if a.ndim < 2 or a.shape[-1] != a.shape[-2]:
        dims = f"{a.shape[-2]} by {a.shape[-1]}" if a.ndim >= 2 else f"{a.ndim}-D"
        raise ShapeError(
            f"{name}: A must be batches of square matrices, but they are {dims} matrices"
        )


def matrix_exp(input: Tensor) -> Tensor:
    """exp(A) = sum_k A^k / k! of square matrices (batched over leading dims)."""
    _square("matrix_exp", input)
    input = float_operand(input)
    n = input.shape[-1]
    if input.numel() == 0:
        return input.clone()
    norm = float(input.detach().abs().sum(-2).amax())
    s = math.ceil(math.log2(norm / 0.5)) if math.isfinite(norm) and norm > 0.5 else 0
    x = input / 2.0**s if s else input
    ident = eye(n, dtype=input.dtype, device=input.device)
    e = ident + x / 18.0
    for k in range(17, 0, -1):
        e = ident + (x @ e) / float(k)
    for _ in range(s):
        e = e @ e
    return e


def cholesky_solve(input: Tensor, input2: Tensor, upper: bool = False) -> Tensor:
    """The solution X of (L L^T) X = b (of (U^T U) X = b when ``upper``), from a Cholesky
    factor (batch dims broadcast)."""
    _square("cholesky_solve", input2)
    lower = input2.mT if upper else input2
    return linalg.solve(lower.mT, linalg.solve(lower, input))


def cholesky_inverse(input: Tensor, upper: bool = False) -> Tensor:
    """(L L^T)^-1 (or (U^T U)^-1) from a Cholesky factor."""
    _square("cholesky_inverse", input)
    ident = eye(input.shape[-1], dtype=input.dtype, device=input.device)
    return cholesky_solve(ident, input, upper)


def _triangle(a: Tensor, upper: bool, unitriangular: bool) -> Tensor:
    """The triangle of a that a triangular solve reads (unit diagonal when unitriangular)."""
    if not unitriangular:
        return ops.triu(a) if upper else ops.tril(a)
    ident = eye(a.shape[-1], dtype=a.dtype, device=a.device)
    return (ops.triu(a, 1) if upper else ops.tril(a, -1)) + ident


def solve_triangular(
    input: Tensor, B: Tensor, *, upper: bool, left: bool = True, unitriangular: bool = False
) -> Tensor:
    """X with A X = B (X A = B when not ``left``) for triangular A (only its triangle is read)."""
    _square("linalg.solve_triangular", input)
    t = _triangle(input, upper, unitriangular)
    return linalg.solve(t, B) if left else linalg.solve(t.mT, B.mT).mT


def triangular_solve(
    input: Tensor, A: Tensor, upper: bool = True, transpose: bool = False,
    unitriangular: bool = False,
):
    """(solution of op(A) X = b, a copy of A), op = transpose when asked (deprecated torch)."""
    _square("triangular_solve", A)
    t = _triangle(A, upper, unitriangular)
    return TriangularSolve(linalg.solve(t.mT if transpose else t, input), A.clone())


def nuclear_norm(input: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    """The sum of singular values (over the last two dims, or ``dim``)."""
    if isinstance(dim, bool):
        dim, keepdim = None, dim
    return linalg.matrix_norm(
        input, "nuc", dim=(-2, -1) if dim is None else tuple(dim), keepdim=keepdim
    )


def frobenius_norm(input: Tensor, dim=(-2, -1), keepdim: bool = False) -> Tensor:
    """sqrt(sum of squares) over ``dim``."""
    return linalg.vector_norm(input, 2, dim=dim, keepdim=keepdim)


# ----------------------------------------------------------------- LU
def _lu_host(a: np.ndarray):
    """LU with partial pivoting of a stack of matrices (LAPACK getrf's result): the packed
    factors and the 0-based row each step swapped in."""
    m, n = a.shape[-2:]
    k = min(m, n)
    work = a.reshape(math.prod(a.shape[:-2]), m, n).copy()  # not -1: 0-size matrices
    piv = np.empty((work.shape[0], k), np.int64)
    rows = np.arange(work.shape[0])
    with np.errstate(all="ignore"):
        for j in range(k):
            p = j + np.argmax(np.abs(work[:, j:, j]), axis=1)
            piv[:, j] = p
            top = work[rows, j, :].copy()
            work[rows, j, :] = work[rows, p, :]
            work[rows, p, :] = top
            pivot = work[:, j, j]
            work[:, j + 1 :, j] /= np.where(pivot == 0, 1, pivot)[:, None]
            work[:, j + 1 :, j + 1 :] -= work[:, j + 1 :, j, None] * work[:, j, None, j + 1 :]
    return work.reshape(a.shape), piv.reshape(a.shape[:-2] + (k,))


def _perm(piv: np.ndarray, m: int) -> np.ndarray:
    """The row order perm with A[perm] = L U, from the swaps ``piv`` (0-based)."""
    flat = piv.reshape(math.prod(piv.shape[:-1]), piv.shape[-1])
    perm = np.tile(np.arange(m), (flat.shape[0], 1))
    rows = np.arange(flat.shape[0])
    for j in range(flat.shape[1]):
        p = flat[:, j]
        top = perm[rows, j].copy()
        perm[rows, j] = perm[rows, p]
        perm[rows, p] = top
    return perm.reshape(piv.shape[:-1] + (m,))


def _lu_graph(pa: Tensor) -> Tensor:
    """The packed LU factors of an already row-permuted matrix, by elimination in Tensor ops
    (so autograd differentiates the factorization)."""
    m, n = pa.shape[-2:]
    k = min(m, n)
    s, rows, cols = pa, [], []
    for j in range(k):
        urow = s.select(-2, 0)
        head = urow.narrow(-1, 0, 1)
        below = s.narrow(-2, 1, m - j - 1).select(-1, 0)
        lcol = below / ops.where(head == 0, 1.0, head)
        rows.append(ops.pad(urow, (j, 0)))
        cols.append(ops.pad(lcol, (j + 1, 0)))
        s = s.narrow(-2, 1, m - j - 1).narrow(-1, 1, n - j - 1) - lcol.unsqueeze(-1) * urow.narrow(
            -1, 1, n - j - 1
        ).unsqueeze(-2)
    upper = ops.pad(ops.stack(rows, -2), (0, 0, 0, m - k))
    lower = ops.pad(ops.stack(cols, -1), (0, n - k))
    return upper + lower


def lu_factor(A: Tensor, *, pivot: bool = True):
    """(LU, pivots): A = P L U packed in one tensor, and LAPACK's 1-based int32 row swaps;
    a zero pivot (a singular A) raises, as PyTorch (``linalg.lu`` accepts it)."""
    packed, pivots = _lu_factor(A, pivot)
    info = _lu_infos(packed)
    if info.any():
        k = int(info[info > 0][0]) - 1
        raise RuntimeError(
            f"linalg.lu_factor: U[{k},{k}] is zero and using it on lu_solve "
            f"would result in a division by zero. If you still want to perform "
            f"the factorization, consider calling linalg.lu(A, pivot)"
        )
    return packed, pivots


def _lu_infos(packed: Tensor) -> np.ndarray:
    """LAPACK's info per matrix: the 1-based index of the first zero pivot, else 0."""
    d = packed._dev.backend.to_numpy(packed.detach().diagonal(0, -2, -1)._data)
    zero = d == 0
    if not d.shape[-1]:
        return np.zeros(d.shape[:-1], np.int32)
    return np.where(zero.any(-1), zero.argmax(-1) + 1, 0).astype(np.int32)


def _lu_factor(A: Tensor, pivot: bool):
    if A.ndim < 2:
        raise ShapeError(f"linalg.lu_factor: A must have at least 2 dimensions, got {A.ndim}")
    if not pivot:
        raise RuntimeError("linalg.lu_factor: LU without pivoting is not implemented on the CPU")
    A = float_operand(A)
    packed, piv = _lu_host(A._dev.backend.to_numpy(A._data))
    pivots = tensor((piv + 1).astype(np.int32), device=A.device)
    if not (state.enabled and A.requires_grad):
        return LUFactor(tensor(packed, device=A.device), pivots)
    perm = tensor(_perm(piv, A.shape[-2]), device=A.device)
    pa = A.gather(-2, perm.unsqueeze(-1).expand(*perm.shape, A.shape[-1]))
    return LUFactor(_lu_graph(pa), pivots)


def lu(A: Tensor, pivot: bool = True, get_infos: bool = False):
    """torch.lu: (LU, pivots), and with ``get_infos`` the LAPACK infos (0, or the 1-based
    index of the first zero pivot) instead of raising on a singular matrix."""
    if not get_infos:
        return lu_factor(A, pivot=pivot)
    packed, pivots = _lu_factor(A, pivot)
    return packed, pivots, tensor(_lu_infos(packed), device=A.device)


def lu_unpack(
    LU_data: Tensor, LU_pivots: Tensor, unpack_data: bool = True, unpack_pivots: bool = True
):
    """(P, L, U) from packed LU factors and their pivots, with A = P L U."""
    m, n = LU_data.shape[-2:]
    k = min(m, n)
    empty = LU_data.new_zeros(0)
    if unpack_data:
        ident = eye(m, k, dtype=LU_data.dtype, device=LU_data.device)
        low = ops.tril(LU_data, -1).narrow(-1, 0, k) + ident
        up = ops.triu(LU_data).narrow(-2, 0, k)
    else:
        low = up = empty
    if unpack_pivots:
        piv = LU_pivots._dev.backend.to_numpy(LU_pivots._data).astype(np.int64) - 1
        if piv.size and (piv.min() < 0 or piv.max() >= m):
            raise RuntimeError(f"lu_unpack: pivots must be in [1, {m}]")
        perm = _perm(piv, m)
        p = np.zeros(perm.shape + (m,), LU_data._data.dtype)
        np.put_along_axis(p, perm[..., :, None], 1, axis=-1)
        P = tensor(np.swapaxes(p, -1, -2), device=LU_data.device)
    else:
        P = empty
    return LUUnpack(P, low, up)


def linalg_lu(A: Tensor, *, pivot: bool = True):
    """torch.linalg.lu: (P, L, U) with A = P L U."""
    packed, pivots = _lu_factor(A, pivot)
    return LinalgLU(*lu_unpack(packed, pivots))


def linalg_lu_solve(
    LU: Tensor, pivots: Tensor, B: Tensor, *, left: bool = True, adjoint: bool = False
) -> Tensor:
    """X with A X = B (X A = B when not ``left``; A^T for ``adjoint``), A = P L U."""
    if not left:
        return linalg_lu_solve(LU, pivots, B.mT, adjoint=not adjoint).mT
    P, L, U = lu_unpack(LU, pivots)
    if adjoint:
        return P @ linalg.solve(L.mT, linalg.solve(U.mT, B))
    return linalg.solve(U, linalg.solve(L, P.mT @ B))


def lu_solve(input: Tensor, LU_data: Tensor, LU_pivots: Tensor) -> Tensor:
    """torch.lu_solve: the solution of A X = b from A's LU factorization."""
    return linalg_lu_solve(LU_data, LU_pivots, input)


# ----------------------------------------------------------------- statistics
def cov(
    input: Tensor,
    *,
    correction: int = 1,
    fweights: Tensor | None = None,
    aweights: Tensor | None = None,
) -> Tensor:
    """The covariance matrix of the variables in x's rows (observations in columns).

    Shape:
        (V, N) -> (V, V); (N,) -> ().
    """
    if input.ndim > 2:
        raise ShapeError(
            f"cov(): expected input to have two or fewer dimensions but got an "
            f"input with {input.ndim} dimensions"
        )
    x2 = float_operand(input.reshape(1, -1) if input.ndim < 2 else input)
    n_obs = x2.shape[1]
    w = None
    for name, wt in (("fweights", fweights), ("aweights", aweights)):
        if wt is None:
            continue
        if wt.ndim > 1 or wt.numel() != n_obs:
            raise ShapeError(
                f"cov(): expected {name} to have one dimension and {n_obs} "
                f"elements, got shape {_shape(wt)}"
            )
        if name == "fweights" and wt.dtype.is_floating_point:
            raise DTypeError(
                f"cov(): expected fweights to have integral dtype, got {wt.dtype.name}"
            )
        if name == "aweights" and not wt.dtype.is_floating_point:
            raise DTypeError(
                f"cov(): expected aweights to have floating point dtype, got {wt.dtype.name}"
            )
        if bool((wt < 0).any()):
            raise ValueError(f"cov(): {name} cannot be negative")
        wt = wt.reshape(-1).to(x2.dtype)
        w = wt if w is None else w * wt
    if w is None:
        avg, norm = x2.mean(1), float(n_obs - correction)
        bad = norm <= 0
        norm = max(norm, 0.0)
    else:
        w_sum = w.sum()
        avg = (x2 * w).sum(1) / w_sum
        if correction == 0:
            norm = w_sum
        elif aweights is None:
            norm = w_sum - correction
        else:
            norm = w_sum - correction * (w * aweights.reshape(-1).to(x2.dtype)).sum() / w_sum
        bad = bool((norm <= 0).any())
        norm = norm.clamp(min=0)
    if bad:
        warnings.warn(
            "cov(): degrees of freedom is <= 0. Correction should be strictly less "
            "than the number of observations.",
            UserWarning,
            stacklevel=2,
        )
    xm = x2 - avg.unsqueeze(1)
    with np.errstate(divide="ignore", invalid="ignore"):
        c = (xm @ (xm if w is None else xm * w).mT) / norm
    return c.squeeze()


def corrcoef(input: Tensor) -> Tensor:
    """Pearson correlation coefficients of the variables in x's rows, clipped to [-1, 1]."""
    c = cov(input)
    if c.ndim == 0:
        return c / c
    sd = c.diagonal().sqrt()
    c = c / sd.unsqueeze(1)
    c = c / sd.unsqueeze(0)
    return c.clamp(-1, 1)


def _host_float(name: str, x: Tensor) -> np.ndarray:
    if not x.dtype.is_floating_point:
        raise DTypeError(f"{name}: expected a floating dtype, got {x.dtype.name}")
    return x._dev.backend.to_numpy(x._data).reshape(-1)


def histc(input: Tensor, bins: int = 100, min: float = 0, max: float = 0) -> Tensor:
    """Counts of x's elements in ``bins`` equal bins over [min, max] (x's range when both are
    equal); elements outside are ignored. No gradient."""
    a = _host_float("histc", input)
    if bins <= 0:
        raise RuntimeError(f"histc: bins must be > 0, but got {bins}")
    dt = a.dtype.type
    lo, hi = dt(min), dt(max)
    if lo == hi and a.size:
        lo, hi = a.min(), a.max()
    if lo == hi:
        lo, hi = lo - 1, hi + 1
    if lo > hi:
        raise RuntimeError(f"histc: max must be larger than min, got min={min} and max={max}")
    if not (np.isfinite(lo) and np.isfinite(hi)):
        raise RuntimeError(f"histc: range of [{lo}, {hi}] is not finite")
    inside = a[(a >= lo) & (a <= hi)]
    pos = ((inside - lo) * dt(bins) / (hi - lo)).astype(np.int64)
    pos[pos == bins] = bins - 1
    return tensor(np.bincount(pos, minlength=bins).astype(a.dtype), device=input.device)


def _linspace(lo, hi, steps: int, dt) -> np.ndarray:
    """PyTorch's linspace: from both ends toward the middle."""
    i = np.arange(steps, dtype=np.float64)
    step = (hi - lo) / (steps - 1)
    return np.where(i < steps // 2, lo + i * step, hi - (steps - 1 - i) * step).astype(dt)


def histogram(
    input: Tensor, bins=100, *, range=None, weight: Tensor | None = None, density: bool = False
):
    """(hist, bin_edges): counts (or weights) of x's elements per bin; ``bins`` a number of
    equal bins over ``range`` (x's range by default) or a 1-D tensor of increasing edges."""
    a = _host_float("histogram", input)
    if isinstance(bins, Tensor):
        if bins.dtype is not input.dtype:
            raise DTypeError(
                f"histogram: input tensor and bins tensors should have the same "
                f"dtype, but got input with dtype {input.dtype.name} and bins with "
                f"dtype {bins.dtype.name}"
            )
        edges = bins._dev.backend.to_numpy(bins._data).reshape(-1)
        if edges.size < 1 or np.any(np.diff(edges) < 0):
            raise ValueError("histogram: bins must be a 1-D tensor of increasing edges")
    else:
        if int(bins) <= 0:
            raise ValueError(f"histogram: bins must be > 0, but got {bins}")
        if range is not None:
            lo, hi = float(range[0]), float(range[1])
        else:
            lo, hi = (float(a.min()), float(a.max())) if a.size else (0.0, 1.0)
        if lo > hi:
            raise ValueError(f"histogram: min should not exceed max, got {lo} and {hi}")
        if lo == hi:
            lo, hi = lo - 0.5, hi + 0.5
        edges = _linspace(lo, hi, int(bins) + 1, a.dtype)
    w = None if weight is None else weight._dev.backend.to_numpy(weight._data).reshape(-1)
    if w is not None and w.size != a.size:
        raise ShapeError(
            f"histogram: weight should have the same shape as input, got "
            f"{_shape(weight)} and {_shape(input)}"
        )
    nb = edges.size - 1
    keep = (a >= edges[0]) & (a <= edges[-1])
    pos = np.minimum(np.searchsorted(edges, a[keep], side="right") - 1, nb - 1)
    hist = np.bincount(pos, None if w is None else w[keep], minlength=nb).astype(a.dtype)
    if density:
        with np.errstate(all="ignore"):
            hist = (hist / (hist.sum() * np.diff(edges))).astype(a.dtype)
    return Histogram(tensor(hist, device=input.device), tensor(edges, device=input.device))


def lu_factor_ex(A: Tensor, *, pivot: bool = True, check_errors: bool = False):
    """(LU, pivots, info): ``lu_factor`` that reports a zero pivot in ``info`` (the 1-based
    index of the first one, else 0; int32) instead of raising, unless ``check_errors``."""
    if check_errors:
        packed, pivots = lu_factor(A, pivot=pivot)
    else:
        packed, pivots = _lu_factor(A, pivot)
    return LUFactorEx(packed, pivots, tensor(_lu_infos(packed), device=A.device))


def linalg_vander(x: Tensor, *, N: int | None = None) -> Tensor:
    """torch.linalg.vander: the powers x^0, ..., x^(N-1) in a new last dim (batched; N
    defaults to x's last size); a running product, so x = 0 has finite gradients."""
    n = (x.shape[-1] if x.ndim else 0) if N is None else int(N)
    if n <= 1:
        raise RuntimeError(f"linalg.vander: N must be greater than 1, got {n}")
    from .index_functions import cumprod

    reps = x.unsqueeze(-1).expand(*x.shape, n - 1)
    return ops.cat([ones_like(x).unsqueeze(-1), cumprod(reps, -1)], -1)


def pinverse(input: Tensor, rcond: float = 1e-15) -> Tensor:
    """torch.pinverse: ``linalg.pinv`` dropping the singular values below rcond times the
    largest (PyTorch's default rcond, 1e-15, not linalg.pinv's max(m, n) * eps)."""
    return linalg.pinv(input, rtol=rcond)


Tensor.pinverse = pinverse

# torch.linalg's names that autodiff.linalg lacks
for _name, _fn in (
    ("lu_factor_ex", lu_factor_ex),
    ("vander", linalg_vander),
    ("solve_triangular", solve_triangular),
    ("lu_factor", lu_factor),
    ("lu", linalg_lu),
    ("lu_solve", linalg_lu_solve),
    ("matrix_exp", matrix_exp),
):
    if not hasattr(linalg, _name):
        setattr(linalg, _name, _fn)
del _name, _fn
