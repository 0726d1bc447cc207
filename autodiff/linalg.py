"""``autodiff.linalg``: PyTorch's ``torch.linalg`` for real matrices (and stacks of them,
batched over the leading dims): norms, ``det``, ``slogdet``, ``inv``, ``solve``,
``cholesky``, ``qr``, ``eigh``/``eigvalsh``, ``svd``/``svdvals``, ``pinv``, ``matrix_rank``,
``matrix_power``, ``multi_dot``, ``vecdot``, ``cross``, ``diagonal``, ``householder_product``
(and ``geqrf``).

The factorizations run the backend's array module (``numpy.linalg`` or ``cupy.linalg``) in
custom autograd Functions whose backward is written with Tensor ops (so double backward
works): the standard matrix-calculus adjoints (inverse, determinant, solve, Cholesky as in
Murray 2016, QR for tall matrices, symmetric eigendecomposition for distinct eigenvalues,
pseudo-inverse for constant rank, SVD for distinct singular values, all as PyTorch's).
"""

from __future__ import annotations

import collections
import math

import numpy as np

from . import ops
from .autograd.function import Function
from .composites import cross as _cross
from .composites import diagonal as _diagonal
from .creation import eye
from .errors import ShapeError
from .ops._util import float_operand
from .tensor import Tensor

# PyTorch's named results (torch.return_types)
SlogdetResult = collections.namedtuple("slogdet", ["sign", "logabsdet"])
QRResult = collections.namedtuple("qr", ["Q", "R"])
EighResult = collections.namedtuple("eigh", ["eigenvalues", "eigenvectors"])
SVDResult = collections.namedtuple("svd", ["U", "S", "Vh"])
LstsqResult = collections.namedtuple("lstsq", ["solution", "residuals", "rank",
                                               "singular_values"])
TorchSVDResult = collections.namedtuple("svd", ["U", "S", "V"])

# fmt: off
__all__ = [
    "cholesky", "cross", "det", "diagonal", "eigh", "eigvalsh", "householder_product", "inv",
    "lstsq", "matmul", "matrix_norm", "matrix_power", "matrix_rank", "multi_dot", "norm", "pinv",
    "qr", "slogdet", "solve", "svd", "svdvals", "vecdot", "vector_norm",
]
# fmt: on

matmul = ops.matmul


def _wrap(array, like: Tensor) -> Tensor:
    return Tensor._make(array, like._dev, False, None)


def _xla(x: Tensor):
    return x._dev.backend.xp.linalg


def _mT(x: Tensor) -> Tensor:
    return x.transpose(-2, -1)


def _square(x: Tensor, name: str) -> Tensor:
    if x.ndim < 2 or x.shape[-1] != x.shape[-2]:
        raise ShapeError(f"linalg.{name}: A must be batches of square matrices, but they are "
                         f"{tuple(x.shape[-2:]) if x.ndim >= 2 else tuple(x.shape)} matrices")
    return float_operand(x)


# ----------------------------------------------------------------------------- norms
def vector_norm(x: Tensor, ord=2, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """The ord-norm of x as a vector over ``dim`` (all entries when None)."""
    x = float_operand(x) if dtype is None else x.to(dtype)
    if ord in (math.inf, -math.inf):
        a = x.abs()
        red = a.amax if ord > 0 else a.amin
        return red(dim, keepdim=keepdim) if dim is not None else red()
    return x.norm(ord, dim=dim, keepdim=keepdim)


def matrix_norm(input: Tensor, ord="fro", dim=(-2, -1), keepdim: bool = False) -> Tensor:
    """'fro', 'nuc', 1, -1, 2, -2, inf or -inf norm of the matrices in ``dim``."""
    input = float_operand(input)
    d0, d1 = (d % input.ndim for d in dim)
    if ord == "fro":
        return input.norm(2, dim=(d0, d1), keepdim=keepdim)
    if ord in ("nuc", 2, -2):
        s = svdvals(input.movedim((d0, d1), (-2, -1)))
        out = s.sum(-1) if ord == "nuc" else (s.amax(-1) if ord == 2 else s.amin(-1))
        if keepdim:
            for d in sorted((d0, d1)):
                out = out.unsqueeze(d)
        return out
    if ord in (1, -1, math.inf, -math.inf):
        summed, over = (d0, d1) if ord in (1, -1) else (d1, d0)
        col = input.abs().sum(summed, keepdim=True)
        out = (col.amax if ord > 0 else col.amin)(over, keepdim=True)
        return out if keepdim else out.squeeze(max(d0, d1)).squeeze(min(d0, d1))
    raise ValueError(f"linalg.matrix_norm: order {ord!r} is not supported")


def norm(input: Tensor, ord=None, dim=None, keepdim: bool = False) -> Tensor:
    """A vector norm (1-D x or an int dim) or a matrix norm (2-D x or a pair of dims)."""
    if isinstance(dim, int) or (dim is None and input.ndim == 1):
        return vector_norm(input, 2 if ord is None else ord, dim, keepdim)
    if dim is None and ord is None:
        return vector_norm(input, 2, None, keepdim)
    if dim is None and input.ndim != 2:
        raise ShapeError(f"linalg.norm: input must be 1-D or 2-D when dim is None and ord is "
                         f"given, got {input.ndim}-D")
    return matrix_norm(input, "fro" if ord is None else ord, (-2, -1) if dim is None else dim,
                       keepdim)


# ----------------------------------------------------------------------------- inverse family
class _Inv(Function):
    """Y = A^-1; dA = -Y^T dY Y^T."""

    @staticmethod
    def forward(ctx, a):
        y = _wrap(_singular_raises(_xla(a).inv, "inv", a._data), a)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return -(_mT(y) @ g @ _mT(y))


def inv(A: Tensor) -> Tensor:
    """The inverse of square matrices (a singular one raises, as PyTorch)."""
    return _Inv.apply(_square(A, "inv"))


def _singular_raises(fn, name: str, *arrays):
    """fn(*arrays), NumPy's LinAlgError for a singular matrix as PyTorch's LinAlgError."""
    try:
        return fn(*arrays)
    except np.linalg.LinAlgError:
        a = np.asarray(getattr(arrays[0], "get", lambda: arrays[0])())
        head = "torch.linalg.solve" if name == "solve" else f"linalg.{name}"
        _ex.raise_if_singular(a, head, solver=name == "solve")
        raise _ex.LinAlgError(f"{head}: the input matrix is singular") from None


class _SlogDet(Function):
    """(sign, log|det A|); d log|det A| = tr(A^-1 dA), so dA = g A^-T."""

    @staticmethod
    def forward(ctx, a):
        sign, logabs = _xla(a).slogdet(a._data)
        ctx.save_for_backward(a)
        sign = _wrap(sign.astype(a._data.dtype), a)
        ctx.mark_non_differentiable(sign)
        return sign, _wrap(logabs.astype(a._data.dtype), a)

    @staticmethod
    def backward(ctx, gsign, glog):
        (a,) = ctx.saved_tensors
        return glog.unsqueeze(-1).unsqueeze(-1) * _mT(inv(a))


def slogdet(A: Tensor):
    """(sign of det A, log |det A|) for square matrices."""
    return SlogdetResult(*_SlogDet.apply(_square(A, "slogdet")))


class _Det(Function):
    """det A; dA = g adj(A)^T: g det(A) A^-T if A is invertible, else from the SVD A = U S V^T,
    adj(A)^T = det(U V^T) U diag(prod_{j != i} s_j) V^T (not differentiable twice there)."""

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return _wrap(_xla(a).det(a._data).astype(a._data.dtype), a)

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        d = det(a)
        if bool((d._data != 0).all()):
            return (g * d).unsqueeze(-1).unsqueeze(-1) * _mT(inv(a))
        xp, la = a._dev.backend.xp, _xla(a)
        u, s, vh = la.svd(a._data)
        n = s.shape[-1]
        others = xp.stack([xp.prod(xp.delete(s, i, axis=-1), axis=-1) for i in range(n)], -1)
        c = (la.det(u) * la.det(vh))[..., None, None]
        adj_t = c * ((u * others[..., None, :]) @ vh)
        return g.unsqueeze(-1).unsqueeze(-1) * _wrap(adj_t.astype(a._data.dtype), a)


def det(A: Tensor) -> Tensor:
    """The determinant, differentiable everywhere (singular matrices too)."""
    return _Det.apply(_square(A, "det"))


class _Solve(Function):
    """X = A^-1 B; dB = A^-T dX, dA = -dB X^T."""

    @staticmethod
    def forward(ctx, a, b):
        x = _wrap(_singular_raises(_xla(a).solve, "solve", a._data, b._data), a)
        ctx.save_for_backward(a, x)
        ctx.b_shape = tuple(b.shape)
        return x

    @staticmethod
    def backward(ctx, g):
        a, x = ctx.saved_tensors
        gb = solve(_mT(a), g)  # (each reduced to its input's shape: a batch broadcast)
        return (-(gb @ _mT(x))).sum_to_size(tuple(a.shape)), gb.sum_to_size(ctx.b_shape)


def solve(A: Tensor, B: Tensor, *, left: bool = True) -> Tensor:
    """X with A X = B (``left=False``: X A = B); B is (.., n, k) or, when it has one dim less
    than A, (.., n)."""
    if not left:  # X A = B is A^T X^T = B^T
        return solve(_mT(A), B) if B.ndim == 1 else _mT(solve(_mT(A), _mT(B)))
    A = _square(A, "solve")
    B = float_operand(B)
    vector = B.ndim == 1 or (B.ndim == A.ndim - 1 and tuple(B.shape) == tuple(A.shape[:-1]))
    if B.shape[-2 if not vector else -1] != A.shape[-1]:
        raise ShapeError(f"linalg.solve: incompatible shapes A {tuple(A.shape)} and B "
                         f"{tuple(B.shape)}")
    if vector:
        return _Solve.apply(A, B.unsqueeze(-1)).squeeze(-1)
    batch = np.broadcast_shapes(tuple(A.shape[:-2]), tuple(B.shape[:-2]))
    return _Solve.apply(A.broadcast_to(batch + tuple(A.shape[-2:])),
                        B.broadcast_to(batch + tuple(B.shape[-2:])))


# ----------------------------------------------------------------------------- factorizations
class _Cholesky(Function):
    """A = L L^T; dA = sym(L^-T Phi(L^T dL) L^-1), Phi = lower triangle, half diagonal."""

    @staticmethod
    def forward(ctx, a):
        try:
            lower = _wrap(_xla(a).cholesky(a._data), a)
        except np.linalg.LinAlgError:
            _ex.raise_if_not_pd(np.asarray(getattr(a._data, "get", lambda: a._data)()),
                                "linalg.cholesky")
            raise _ex.LinAlgError("linalg.cholesky: The factorization could not be completed "
                                  "because the input is not positive-definite.") from None
        ctx.save_for_backward(lower)
        return lower

    @staticmethod
    def backward(ctx, g):
        (lower,) = ctx.saved_tensors
        phi = (_mT(lower) @ g).tril()
        phi = phi - 0.5 * _diag_embed(_diagonal(phi, 0, -2, -1))
        li = inv(lower)
        s = _mT(li) @ phi @ li
        return 0.5 * (s + _mT(s))


def _diag_embed(d: Tensor) -> Tensor:
    n = d.shape[-1]
    return d.unsqueeze(-1) * eye(n, dtype=d.dtype, device=d.device)


def cholesky(input: Tensor, *, upper: bool = False) -> Tensor:
    """The Cholesky factor of symmetric positive-definite matrices (lower, or upper)."""
    lower = _Cholesky.apply(_square(input, "cholesky"))
    return _mT(lower) if upper else lower


class _QR(Function):
    """A = Q R (reduced, m >= n); dA = (dQ + Q copyltu(M)) R^-T, M = R dR^T - dQ^T Q."""

    @staticmethod
    def forward(ctx, a, mode):
        q, r = _xla(a).qr(a._data, mode=mode)
        q, r = _wrap(q, a), _wrap(r, a)
        ctx.save_for_backward(q, r)
        ctx.tall = a.shape[-2] >= a.shape[-1] and mode == "reduced"
        return q, r

    @staticmethod
    def backward(ctx, gq, gr):
        q, r = ctx.saved_tensors
        if not ctx.tall:
            raise NotImplementedError("linalg.qr: the gradient is implemented for mode="
                                      "'reduced' and matrices with at least as many rows as "
                                      "columns")
        m = r @ _mT(gr) - _mT(gq) @ q
        m = m.tril() + _mT(m.tril(-1))
        return _mT(solve(r, _mT(gq + q @ m))), None


def qr(A: Tensor, mode: str = "reduced"):
    """(Q, R) with A = Q R; mode 'reduced', 'complete' or 'r' (R only: Q is empty)."""
    if mode not in ("reduced", "complete", "r"):
        raise ValueError(f"linalg.qr: mode must be 'reduced', 'complete' or 'r', got {mode!r}")
    A = float_operand(A)
    if A.ndim < 2:
        raise ShapeError(f"linalg.qr: expected a matrix, got shape {tuple(A.shape)}")
    if mode == "r":
        return QRResult(A.new_empty((0,)), _QR.apply(A, "reduced")[1])
    return QRResult(*_QR.apply(A, mode))


GeqrfResult = collections.namedtuple("geqrf", ["a", "tau"])


def geqrf(input: Tensor):
    """LAPACK's geqrf: (R above the diagonal with the Householder vectors below it, tau), as
    ``torch.geqrf``; not differentiable (PyTorch's is not either)."""
    input = float_operand(input)
    if input.ndim < 2:
        raise ShapeError(f"geqrf: input must have at least 2 dimensions, got shape "
                         f"{tuple(input.shape)}")
    xla, data = _xla(input), input._data
    xp = input._dev.backend.xp
    batch, (m, n) = data.shape[:-2], data.shape[-2:]
    out = xp.empty(data.shape, data.dtype)
    tau = xp.empty(batch + (min(m, n),), data.dtype)
    for idx in np.ndindex(*batch):
        h, t = xla.qr(data[idx], mode="raw")  # h is the transposed (Fortran-order) result
        out[idx], tau[idx] = h.T, t
    return GeqrfResult(_wrap(out, input), _wrap(tau, input))


def householder_product(input: Tensor, tau: Tensor) -> Tensor:
    """The first n columns of H_1 ... H_k, H_i = I - tau_i v_i v_i^T with v_i the i-th column
    of A below the diagonal and 1 on it (LAPACK's orgqr). A composite of matmuls, so the
    gradients (to A's strict lower triangle and to tau) need no backward of their own.

    Shape:
        A: (*, m, n) with m >= n; tau: (*, k) with k <= n; result (*, m, n).
    """
    head = "torch.linalg.householder_product:"
    if input.ndim < 2:
        raise RuntimeError(f"{head} input must have at least 2 dimensions.")
    m, n = input.shape[-2:]
    if m < n:
        raise RuntimeError(f"{head} input.shape[-2] must be greater than or equal to "
                           f"input.shape[-1]")
    if tau.ndim != input.ndim - 1:
        raise RuntimeError(f"{head} Expected tau to have one dimension less than input, but "
                           f"got tau.ndim equal to {tau.ndim} and input.ndim is equal to "
                           f"{input.ndim}")
    if tau.shape[-1] > n:
        raise RuntimeError(f"{head} input.shape[-1] must be greater than or equal to "
                           f"tau.shape[-1]")
    if tuple(tau.shape[:-1]) != tuple(input.shape[:-2]):
        raise RuntimeError(f"{head} Expected batch dimensions of tau to be equal to "
                           f"input.shape[:-2], but got {tuple(tau.shape[:-1])}")
    ident = eye(m, n, dtype=input.dtype, device=input.device)
    V = ops.tril(input, -1) + ident
    Q = ident.expand(*input.shape)
    for i in reversed(range(tau.shape[-1])):  # Q = H_i Q, from the last reflector back
        v = V[..., i:i + 1]
        Q = Q - (tau[..., i:i + 1].unsqueeze(-1) * v) @ (_mT(v) @ Q)
    return Q


class _Eigh(Function):
    """A = V diag(w) V^T (symmetric, lower triangle read); for distinct eigenvalues
    dA = sym(V (diag(dw) + F o (V^T dV)) V^T), F_ij = 1 / (w_j - w_i)."""

    @staticmethod
    def forward(ctx, a, uplo):
        w, v = _xla(a).eigh(a._data, UPLO=uplo)
        w, v = _wrap(w, a), _wrap(v, a)
        ctx.save_for_backward(w, v)
        return w, v

    @staticmethod
    def backward(ctx, gw, gv):
        w, v = ctx.saved_tensors
        diff = w.unsqueeze(-2) - w.unsqueeze(-1)
        n = w.shape[-1]
        off = 1 - eye(n, dtype=w.dtype, device=w.device)
        f = off / (diff + (1 - off))
        inner = _diag_embed(gw) + f * (_mT(v) @ gv)
        s = v @ inner @ _mT(v)
        return 0.5 * (s + _mT(s)), None


def eigh(input: Tensor, UPLO: str = "L"):
    """(eigenvalues ascending, eigenvectors as columns) of symmetric matrices."""
    return EighResult(*_Eigh.apply(_square(input, "eigh"), UPLO))


def eigvalsh(input: Tensor, UPLO: str = "L") -> Tensor:
    return eigh(input, UPLO)[0]


class _SVD(Function):
    """A = U diag(S) Vh (reduced, k = min(m, n)); for distinct non-zero singular values
    dA = U [skew(U^T dU) / E S + S skew(V^T dV) / E + diag(dS)] Vh
         + (I - U U^T) dU S^-1 Vh + U S^-1 dV^T (I - V V^T),
    skew(X) = X - X^T, E_jk = S_k^2 - S_j^2 (1 on the diagonal), as PyTorch."""

    @staticmethod
    def forward(ctx, a):
        u, s, vh = _xla(a).svd(a._data, full_matrices=False)
        u, s, vh = _wrap(u, a), _wrap(s, a), _wrap(vh, a)
        ctx.save_for_backward(u, s, vh)
        return u, s, vh

    @staticmethod
    def backward(ctx, gu, gs, gvh):
        u, s, vh = ctx.saved_tensors
        ga = _diag_embed(gs)
        if bool(gu.abs().sum() > 0) or bool(gvh.abs().sum() > 0):
            v, gv = _mT(vh), _mT(gvh)
            uhgu, vhgv = _mT(u) @ gu, _mT(v) @ gv
            s2 = s * s
            k = s.shape[-1]
            e = s2.unsqueeze(-2) - s2.unsqueeze(-1) + eye(k, dtype=s.dtype, device=s.device)
            ga = (ga + ((uhgu - _mT(uhgu)) / e) * s.unsqueeze(-2)
                  + s.unsqueeze(-1) * ((vhgv - _mT(vhgv)) / e))
            out = u @ ga @ vh
            m, n = u.shape[-2], vh.shape[-1]
            if m > k:
                out = out + ((gu - u @ uhgu) / s.unsqueeze(-2)) @ vh
            if n > k:
                out = out + u @ _mT((gv - v @ vhgv) / s.unsqueeze(-2))
            return out
        return u @ ga @ vh


def svd(A: Tensor, full_matrices: bool = True):
    """(U, S, Vh) with A = U diag(S) Vh; full_matrices=False gives the reduced factors."""
    A = float_operand(A)
    if A.ndim < 2:
        raise ShapeError(f"linalg.svd: expected a matrix, got shape {tuple(A.shape)}")
    if full_matrices and A.shape[-1] != A.shape[-2]:
        u, _, vh = _xla(A).svd(A.detach()._data, full_matrices=True)
        return SVDResult(_wrap(u, A), _SVD.apply(A)[1], _wrap(vh, A))
    return SVDResult(*_SVD.apply(A))


def svdvals(A: Tensor) -> Tensor:
    """The singular values, descending (differentiable)."""
    return svd(A, full_matrices=False)[1]


class _Pinv(Function):
    """X = A^+; dA = -X^T dX X^T + (I - A X) dX^T X X^T + X^T X dX^T (I - X A) (constant
    rank, Golub & Pereyra)."""

    @staticmethod
    def forward(ctx, a, rtol):
        x = _wrap(_xla(a).pinv(a._data, rcond=rtol), a)
        ctx.save_for_backward(a, x)
        return x

    @staticmethod
    def backward(ctx, g):
        a, x = ctx.saved_tensors
        m, n = a.shape[-2], a.shape[-1]
        im, i_n = (eye(k, dtype=a.dtype, device=a.device) for k in (m, n))
        return (-(_mT(x) @ g @ _mT(x)) + (im - a @ x) @ _mT(g) @ x @ _mT(x)
                + _mT(x) @ x @ _mT(g) @ (i_n - x @ a)), None


def pinv(input: Tensor, *, rtol: float | None = None, hermitian: bool = False) -> Tensor:
    """The Moore-Penrose pseudo-inverse (singular values below rtol * max dropped)."""
    input = float_operand(input)
    if rtol is None:
        rtol = max(input.shape[-2:]) * float(np.finfo(input.dtype.np).eps)
    return _Pinv.apply(input, rtol)


def lstsq(input: Tensor, b: Tensor, rcond: float | None = None, *, driver: str | None = None):
    """The least-squares solution X of A X = B (the minimum-norm one when A is rank
    deficient), through the pseudo-inverse, so differentiable; with PyTorch's ``residuals``
    (when m > n, A has full rank and the driver is not "gelsy"), ``rank`` (not for "gels")
    and ``singular_values`` (for "gelsd" and "gelss"); the others are empty."""
    drivers = ("gels", "gelsy", "gelsd", "gelss")
    driver = driver or ("gelsy" if input.device.type != "cuda" else "gels")
    if driver not in drivers:
        raise ValueError(f"linalg.lstsq: driver must be one of {drivers}, got {driver!r}")
    input, b = float_operand(input), float_operand(b)
    if input.ndim < 2:
        raise ShapeError(f"linalg.lstsq: A must have at least 2 dims, got {tuple(input.shape)}")
    vector = b.ndim == input.ndim - 1
    bm = b.unsqueeze(-1) if vector else b
    if bm.ndim < 2 or bm.shape[-2] != input.shape[-2]:
        raise ShapeError(f"linalg.lstsq: A {tuple(input.shape)} and B {tuple(b.shape)} must have "
                         f"the same number of rows")
    m, n = input.shape[-2:]
    tol = rcond if rcond is not None else max(m, n) * float(np.finfo(input.dtype.np).eps)
    x = pinv(input, rtol=tol) @ bm
    empty = input.new_zeros((0,))
    rank = matrix_rank(input, rtol=tol) if driver != "gels" else empty.long()
    residuals = empty
    if driver != "gelsy" and m > n and bool((matrix_rank(input, rtol=tol) == n).all()):
        residuals = ((input @ x - bm) ** 2).sum(-2)
        residuals = residuals.squeeze(-1) if vector else residuals
    sv = svdvals(input.detach()) if driver in ("gelsd", "gelss") else empty
    return LstsqResult(x.squeeze(-1) if vector else x, residuals, rank, sv)


def matrix_rank(input: Tensor, tol=None, hermitian: bool = False, *, atol=None,
                rtol=None) -> Tensor:
    """The number of singular values above max(atol, rtol * the largest), as PyTorch: rtol
    defaults to eps * max(m, n), or to 0 where atol > 0 is given; ``tol`` is atol with rtol 0
    (no gradient)."""
    input = float_operand(input)
    s = svdvals(input.detach())
    if tol is not None:
        atol, rtol = tol, 0.0
    if rtol is None:
        positive = atol is not None and bool((atol > 0).all() if isinstance(atol, Tensor) else
                                             atol > 0)
        rtol = 0.0 if positive else max(input.shape[-2:]) * float(np.finfo(input.dtype.np).eps)
    cut = rtol * s.amax(-1, keepdim=True)
    if atol is not None:
        atol = atol.unsqueeze(-1) if isinstance(atol, Tensor) and atol.ndim else atol
        cut = ops.maximum(cut, atol if isinstance(atol, Tensor) else cut.new_full((), atol))
    return (s > cut).sum(-1)


def matrix_power(input: Tensor, n: int) -> Tensor:
    """A^n by repeated squaring (n < 0: of the inverse; n = 0: the identity)."""
    input = _square(input, "matrix_power") if input.dtype.is_floating_point or n < 0 else input
    if n < 0:
        input, n = inv(input), -n
    result = None
    base = input
    while n:
        if n & 1:
            result = base if result is None else result @ base
        n >>= 1
        if n:
            base = base @ base
    if result is None:
        k = input.shape[-1]
        return eye(k, dtype=input.dtype, device=input.device).broadcast_to(tuple(input.shape)) * 1
    return result


def multi_dot(tensors) -> Tensor:
    """The chained product, 1-D ends treated as row / column vectors."""
    ts = list(tensors)
    if len(ts) < 2:
        raise ValueError("linalg.multi_dot: expected at least two tensors")
    out = ts[0]
    for t in ts[1:]:
        out = out @ t
    return out


def vecdot(x: Tensor, y: Tensor, *, dim: int = -1) -> Tensor:
    return (x * y).sum(dim)


def cross(input: Tensor, other: Tensor, *, dim: int = -1) -> Tensor:
    return _cross(input, other, dim=dim)


def diagonal(A: Tensor, *, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:
    return _diagonal(A, offset, dim1, dim2)


# ----------------------------------------------------------------------------- torch.* names
def logdet(input: Tensor) -> Tensor:
    """log det A: NaN where det < 0, -inf where det == 0 (PyTorch's torch.logdet)."""
    sign, logabs = slogdet(input)
    return ops.where(sign < 0, float("nan"), logabs)


def _svd_torch(input: Tensor, some: bool = True, compute_uv: bool = True):
    """torch.svd: (U, S, V) with V, not Vh."""
    u, s, vh = svd(input, full_matrices=not some)
    return TorchSVDResult(u, s, _mT(vh))


def _qr_torch(input: Tensor, some: bool = True):
    return qr(input, "reduced" if some else "complete")


def _cholesky_torch(input: Tensor, upper: bool = False) -> Tensor:
    return cholesky(input, upper=upper)


# name in torch / on Tensor -> function
# (det, inverse, slogdet, orgqr and pinverse: in torch_names_extra / torch_linalg_extra, as
# torch's parameter names differ from torch.linalg's)
TORCH_NAMES = {"logdet": logdet, "matrix_power": matrix_power, "cholesky": _cholesky_torch,
               "qr": _qr_torch, "svd": _svd_torch, "geqrf": geqrf}
for _name, _fn in TORCH_NAMES.items():
    setattr(Tensor, _name, _fn)
del _name, _fn

# LinAlgError, the *_ex variants, cond, tensorinv/tensorsolve, the LDL^T family, eig stubs
from . import linalg_extra as _ex
from .linalg_extra import *

__all__ += _ex.__all__
