"""Ready-made parametrizations, as ``torch.nn.utils.parametrizations``: ``orthogonal``,
``weight_norm`` and ``spectral_norm`` on top of ``nn.utils.parametrize``."""

from __future__ import annotations

import numpy as np

from ... import linalg, ops
from ...autograd.grad_mode import no_grad
from ...composites import allclose
from ...creation import eye, randn, zeros
from ...tensor import Tensor
from .. import functional as F
from ..modules.module import Module
from . import parametrize
from .spectral_norm import _default_dim, _to_matrix
from .weight_norm import _weight_norm, norm_except_dim

__all__ = ["orthogonal", "weight_norm", "spectral_norm"]


class _WeightNorm(Module):
    """w = g * v / ||v|| from (original0, original1) = (g, v)."""

    def __init__(self, dim: int | None = 0) -> None:
        super().__init__()
        self.dim = -1 if dim is None else dim

    def forward(self, weight_g: Tensor, weight_v: Tensor) -> Tensor:
        return _weight_norm(weight_v, weight_g, self.dim)

    def right_inverse(self, weight: Tensor) -> tuple[Tensor, Tensor]:
        return norm_except_dim(weight, 2, self.dim), weight


def weight_norm(module: Module, name: str = "weight", dim: int | None = 0) -> Module:
    """Weight normalization as a parametrization: ``module.<name>`` = g * v / ||v||.

    Args:
        module: the module holding the parameter.
        name: the parameter's name.
        dim: the dim kept by the norm; None: one norm of the whole tensor.

    Returns:
        The module, with ``parametrizations.<name>.original0`` (g, the norm's shape) and
        ``parametrizations.<name>.original1`` (v, the parameter's shape).

    Example:
        >>> m = nn.utils.parametrizations.weight_norm(nn.Linear(20, 40))
        >>> m.parametrizations.weight.original0.shape
        (40, 1)
    """
    parametrize.register_parametrization(module, name, _WeightNorm(dim), unsafe=True)
    return module


class _SpectralNorm(Module):
    """W / sigma(W), sigma estimated by power iteration on buffers ``_u`` and ``_v`` (15 steps
    at creation, ``n_power_iterations`` per forward in training mode)."""

    def __init__(self, weight: Tensor, n_power_iterations: int = 1, dim: int = 0,
                 eps: float = 1e-12) -> None:
        super().__init__()
        ndim = weight.ndim
        if dim >= ndim or dim < -ndim:
            raise IndexError(f"Dimension out of range (expected to be in range of [-{ndim}, "
                             f"{ndim - 1}] but got {dim})")
        if n_power_iterations <= 0:
            raise ValueError(f"Expected n_power_iterations to be positive, but got "
                             f"n_power_iterations={n_power_iterations}")
        self.dim = dim if dim >= 0 else dim + ndim
        self.eps = eps
        if ndim > 1:
            self.n_power_iterations = n_power_iterations
            mat = _to_matrix(weight, self.dim)
            h, w = mat.shape
            with no_grad():
                u = mat.new_empty(h).normal_(0, 1)
                v = mat.new_empty(w).normal_(0, 1)
                self.register_buffer("_u", F.normalize(u, dim=0, eps=self.eps))
                self.register_buffer("_v", F.normalize(v, dim=0, eps=self.eps))
            self._power_method(mat, 15)

    def _power_method(self, mat: Tensor, n_power_iterations: int) -> None:
        with no_grad():
            for _ in range(n_power_iterations):
                self._u.copy_(F.normalize(ops.mv(mat, self._v), dim=0, eps=self.eps))
                self._v.copy_(F.normalize(ops.mv(mat.t(), self._u), dim=0, eps=self.eps))

    def forward(self, weight: Tensor) -> Tensor:
        if weight.ndim == 1:
            return F.normalize(weight, dim=0, eps=self.eps)
        mat = _to_matrix(weight, self.dim)
        if self.training:
            self._power_method(mat, self.n_power_iterations)
        sigma = ops.dot(self._u.clone(), ops.mv(mat, self._v.clone()))
        return weight / sigma

    def right_inverse(self, value: Tensor) -> Tensor:
        return value


def spectral_norm(module: Module, name: str = "weight", n_power_iterations: int = 1,
                  eps: float = 1e-12, dim: int | None = None) -> Module:
    """Spectral normalization as a parametrization: ``module.<name>`` = W / sigma(W).

    Args:
        module: the module holding the parameter or buffer.
        name: its name.
        n_power_iterations: power-iteration steps per training-mode access (> 0).
        eps: added to norms when normalizing the singular vectors.
        dim: the dim of the output rows (default 0; 1 for ConvTranspose).

    Returns:
        The module, with ``parametrizations.<name>.original`` and the vectors in buffers
        ``parametrizations.<name>.0._u`` / ``._v``.

    Example:
        >>> m = nn.utils.parametrizations.spectral_norm(nn.Linear(20, 40))
        >>> m.parametrizations.weight[0]._u.shape
        (40,)
    """
    weight = getattr(module, name, None)
    if not isinstance(weight, Tensor):
        raise ValueError(f"Module '{module}' has no parameter or buffer with name '{name}'")
    dim = _default_dim(module) if dim is None else dim
    parametrize.register_parametrization(
        module, name, _SpectralNorm(weight, n_power_iterations, dim, eps))
    return module


# ----------------------------------------------------------------------------- orthogonal
_ORTHOGONAL_MAPS = ("matrix_exp", "cayley", "householder")


def _is_orthogonal(Q: Tensor) -> bool:
    n, k = Q.shape[-2], Q.shape[-1]
    ident = eye(k, dtype=Q.dtype, device=Q.device)
    eps = 10.0 * n * float(np.finfo(Q.dtype.np).eps)
    return bool(allclose(Q.mT @ Q, ident, atol=eps))


def _make_orthogonal(A: Tensor) -> Tensor:
    """The Q of A = QR (A tall) with diag(R) >= 0."""
    X, tau = linalg.geqrf(A)
    Q = linalg.householder_product(X, tau)
    return Q * X.diagonal(dim1=-2, dim2=-1).sign().unsqueeze(-2)


class _Orthogonal(Module):
    """Q = map(original) (``base @ map(original)`` with the trivialization), orthonormal columns
    for a tall matrix (rows for a wide one): exp or Cayley transform of the skew-symmetric
    part built from the lower triangle, or a product of Householder reflectors."""

    def __init__(self, weight: Tensor, orthogonal_map: str, *,
                 use_trivialization: bool = True) -> None:
        super().__init__()
        self.shape = weight.shape
        self.orthogonal_map = orthogonal_map
        if use_trivialization:
            self.register_buffer("base", None)

    def forward(self, X: Tensor) -> Tensor:
        n, k = X.shape[-2], X.shape[-1]
        transposed = n < k
        if transposed:
            X = X.mT
            n, k = k, n
        if self.orthogonal_map in ("matrix_exp", "cayley"):
            X = X.tril()
            if n != k:  # embed into a square matrix
                X = ops.cat([X, zeros(n, n - k, dtype=X.dtype, device=X.device)
                         .expand(*X.shape[:-2], -1, -1)], dim=-1)
            A = X - X.mT  # skew-symmetric
            if self.orthogonal_map == "matrix_exp":
                Q = linalg.matrix_exp(A)
            else:  # the Cayley retraction (I + A/2)(I - A/2)^-1
                ident = eye(n, dtype=A.dtype, device=A.device)
                Q = linalg.solve(ident - 0.5 * A, ident + 0.5 * A)
            if n != k:
                Q = Q[..., :k]
        else:
            A = X.tril(-1)
            tau = 2.0 / (1.0 + (A * A).sum(dim=-2))
            Q = linalg.householder_product(A, tau)
            # the diagonal of X holds +-1: no gradient through it (the int cast, as PyTorch)
            Q = Q * X.diagonal(dim1=-2, dim2=-1).int().unsqueeze(-2)
        if "base" in self._buffers:
            Q = self.base @ Q
        return Q.mT if transposed else Q

    def right_inverse(self, Q: Tensor) -> Tensor:
        with no_grad():
            return self._right_inverse(Q)

    def _right_inverse(self, Q: Tensor) -> Tensor:
        if tuple(Q.shape) != tuple(self.shape):
            raise ValueError(f"Expected a matrix or batch of matrices of shape "
                             f"{tuple(self.shape)}. Got a tensor of shape {tuple(Q.shape)}.")
        Q_init = Q
        n, k = Q.shape[-2], Q.shape[-1]
        transpose = n < k
        if transpose:
            Q = Q.mT
            n, k = k, n
        if "base" not in self._buffers:
            if self.orthogonal_map != "householder":
                raise NotImplementedError("It is not possible to assign to the matrix "
                                          "exponential or the Cayley parametrizations when "
                                          "use_trivialization=False.")
            # reflectors of the QR with diag(R) > 0: the diagonal holds the signs of R's
            # (flipped where LAPACK used no reflection, tau == 0)
            A, tau = linalg.geqrf(Q)
            d = A.diagonal(dim1=-2, dim2=-1).sign()
            d = ops.where(tau == 0.0, -d, d)
            off = 1.0 - eye(n, k, dtype=A.dtype, device=A.device)
            A = A * off + d.unsqueeze(-2) * eye(n, k, dtype=A.dtype, device=A.device)
            return A.mT if transpose else A
        if n == k:
            Q = Q.clone() if _is_orthogonal(Q) else _make_orthogonal(Q)
        else:  # complete Q into a full n x n orthogonal matrix
            N = randn(*(tuple(Q.shape[:-2]) + (n, n - k)), dtype=Q.dtype, device=Q.device)
            Q = _make_orthogonal(ops.cat([Q, N], dim=-1))
        self.base = Q
        # -Id: then householder(zeros) == eye, and every map starts at the identity
        m_init, k_init = Q_init.shape[-2], Q_init.shape[-1]
        return -eye(m_init, k_init, dtype=Q.dtype, device=Q.device).expand(*Q_init.shape).clone()


def orthogonal(module: Module, name: str = "weight", orthogonal_map: str | None = None, *,
               use_trivialization: bool = True) -> Module:
    """An orthogonal parametrization of a matrix (or batch of matrices, (*, m, n)): Q^T Q = I
    when m >= n, Q Q^T = I otherwise, as ``torch.nn.utils.parametrizations.orthogonal``.

    Args:
        module: the module holding the tensor.
        name: the tensor's name.
        orthogonal_map: "matrix_exp", "cayley" or "householder"; default "matrix_exp" for a
            square matrix, "householder" otherwise.
        use_trivialization: keep an extra orthogonal matrix in the buffer
            ``parametrizations.<name>[0].base`` (the dynamic trivialization framework);
            Q = base @ map(original), and assigning the tensor sets base.

    Returns:
        The module. The initial Q is the tensor itself when it is orthogonal, else its QR's Q
        (with the trivialization, or with "householder"); otherwise map(original).

    Example:
        >>> m = nn.utils.parametrizations.orthogonal(nn.Linear(20, 40))
        >>> (m.weight.T @ m.weight - ad.eye(20)).abs().max() < 1e-5
    """
    weight = getattr(module, name, None)
    if not isinstance(weight, Tensor):
        raise ValueError(f"Module '{module}' has no parameter or buffer with name '{name}'")
    if weight.ndim < 2:
        raise ValueError(f"Expected a matrix or batch of matrices. Got a tensor of "
                         f"{weight.ndim} dimensions.")
    if orthogonal_map is None:
        orthogonal_map = "matrix_exp" if weight.shape[-2] == weight.shape[-1] else "householder"
    if orthogonal_map not in _ORTHOGONAL_MAPS:
        raise ValueError(f'orthogonal_map has to be one of "matrix_exp", "cayley", '
                         f'"householder". Got: {orthogonal_map}')
    orth = _Orthogonal(weight, orthogonal_map, use_trivialization=use_trivialization)
    parametrize.register_parametrization(module, name, orth, unsafe=True)
    return module
