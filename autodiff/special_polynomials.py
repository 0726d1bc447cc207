"""The orthogonal polynomials of ``torch.special`` (Chebyshev T/U/V/W and their shifted forms,
Hermite H/He, Laguerre L, Legendre P) and ``special.round``.

``x`` is a tensor (or a number when ``n`` is a tensor) and ``n`` a tensor or a number,
broadcast against each other; ``n`` is truncated to an integer, as PyTorch's kernels cast it to
int64. PyTorch's conventions: 0 for ``n < 0``; the closed values at ``x = +-1`` (at 0 and 1 for
the shifted Chebyshev ones, 1 for Laguerre at 0); the trigonometric closed forms
(``T_n(cos t) = cos(n t)``, ...) for ``|x| < 1`` and ``n`` above a small threshold; the
three-term recurrence otherwise (so ``|x| > 1`` grows, and overflows, as PyTorch's does).
Evaluated in float64 on the backend's array module, cast to the promoted dtype of ``x`` and
``n`` (the default float dtype for two integer inputs). Not differentiable: the results do
not require grad, as PyTorch's (``torch.special.hermite_polynomial_h`` has no derivative).

Example:
    >>> import autodiff as ad
    >>> ad.special.chebyshev_polynomial_t(ad.tensor([0.5]), 3)  # 4 x^3 - 3 x = -1
"""

from __future__ import annotations

import numpy as np

from . import ops
from .creation import tensor
from .dtypes import get_default_dtype
from .tensor import Tensor

__all__ = ["chebyshev_polynomial_t", "chebyshev_polynomial_u", "chebyshev_polynomial_v",
           "chebyshev_polynomial_w", "hermite_polynomial_h", "hermite_polynomial_he",
           "laguerre_polynomial_l", "legendre_polynomial_p", "round",
           "shifted_chebyshev_polynomial_t", "shifted_chebyshev_polynomial_u",
           "shifted_chebyshev_polynomial_v", "shifted_chebyshev_polynomial_w"]


def _recur(xp, n, first, step, needed):
    """P_n from P_0 = 1, P_1 = first and P_{j+1} = step(j, P_{j-1}, P_j), for the entries in
    ``needed``; the loop runs to the largest such n."""
    p, q = xp.ones_like(first), first
    top = int(xp.max(xp.where(needed, n, 0))) if n.size else 0
    with np.errstate(all="ignore"):  # |x| > 1 overflows to inf, as PyTorch's
        for j in range(1, top):
            r = step(j, p, q)
            more = j < n
            p, q = xp.where(more, q, p), xp.where(more, r, q)
    return xp.where(n == 0, 1.0, q)


def _chebyshev(xp, x, n, kind: str, shifted: bool):
    """T, U, V or W (shifted: of 2x - 1, with the end points 0 and 1 of [0, 1])."""
    t = 2.0 * x - 1.0 if shifted else x
    lo, hi = ((x == 0), (x == 1)) if shifted else ((x == -1), (x == 1))
    odd = n % 2 == 1
    sign_n = xp.where(odd, -1.0, 1.0)
    two_n1 = 2.0 * n + 1.0
    limit = {"t": 6, "u": 8, "v": 8, "w": 8}[kind] if not shifted else \
        {"t": 6, "u": 6, "v": 6, "w": 4}[kind]
    inside = (n > limit) & (xp.abs(t) < 1)
    theta = xp.arccos(xp.clip(t, -1.0, 1.0))
    with np.errstate(all="ignore"):
        if kind == "t":
            at_hi, at_lo, first = 1.0, sign_n, t
            closed = xp.cos(n * theta)
        elif kind == "u":
            at_hi, at_lo, first = n + 1.0, sign_n * (n + 1.0), 2.0 * t
            s = xp.sin(theta)
            closed = xp.where(s != 0, xp.sin((n + 1) * theta) / s,
                              (n + 1) * xp.cos((n + 1) * theta) / t)
        elif kind == "v":
            at_hi, at_lo, first = 1.0, sign_n * two_n1, 2.0 * t - 1.0
            closed = xp.where(xp.sin(theta / 2) != 1, xp.cos((n + 0.5) * theta)
                              / xp.cos(theta / 2), sign_n * two_n1)
        else:
            at_hi, at_lo, first = two_n1, sign_n, 2.0 * t + 1.0
            closed = xp.where(xp.cos(theta / 2) != 1, xp.sin((n + 0.5) * theta)
                              / xp.sin(theta / 2), xp.where(t > 0, two_n1, sign_n))
    rec = _recur(xp, n, first, lambda j, p, q: 2.0 * t * q - p, ~(inside | lo | hi))
    out = xp.where(inside, closed, rec)
    out = xp.where(lo, at_lo, xp.where(hi, at_hi, out))
    return xp.where(n < 0, 0.0, out)


def _hermite_h(xp, x, n):
    out = _recur(xp, n, 2.0 * x, lambda j, p, q: 2.0 * x * q - 2.0 * j * p, n > 1)
    return xp.where(n < 0, 0.0, out)


def _hermite_he(xp, x, n):
    out = _recur(xp, n, x, lambda j, p, q: x * q - j * p, n > 1)
    return xp.where(n < 0, 0.0, out)


def _laguerre_l(xp, x, n):
    out = _recur(xp, n, 1.0 - x, lambda j, p, q: ((2 * j + 1.0 - x) * q - j * p) / (j + 1),
                 (n > 1) & (x != 0))
    return xp.where(n < 0, 0.0, xp.where(x == 0, 1.0, out))


def _legendre_p(xp, x, n):
    edge = xp.abs(x) == 1
    out = _recur(xp, n, x, lambda j, p, q: ((2 * j + 1.0) * x * q - j * p) / (j + 1),
                 (n > 1) & ~edge)
    out = xp.where(edge, xp.where((x > 0) | (n % 2 == 0), 1.0, -1.0), out)
    return xp.where(n < 0, 0.0, out)


def _evaluate(kernel, input, n, *args) -> Tensor:
    like = input if isinstance(input, Tensor) else n
    x = input if isinstance(input, Tensor) else tensor(input, device=like.device)
    k = n if isinstance(n, Tensor) else tensor(n, device=like.device)
    floats = [t.dtype for t in (x, k) if t.dtype.is_floating_point]
    dtype = max(floats, key=lambda d: d.itemsize) if floats else get_default_dtype()
    if isinstance(input, Tensor) and not isinstance(n, Tensor) and x.dtype.is_floating_point:
        dtype = x.dtype  # a Python number n does not widen x
    xp = like._dev.backend.xp
    xd, kd = xp.broadcast_arrays(x._data.astype(np.float64), k._data.astype(np.float64))
    with np.errstate(invalid="ignore"):  # NaN n: the kernel's result is NaN or a value
        kn = xp.trunc(xp.nan_to_num(kd, nan=-1.0, posinf=2**62, neginf=-1.0)).astype(np.int64)
    with np.errstate(all="ignore"):
        out = kernel(xp, xd, kn, *args).astype(dtype.np)
    return Tensor._make(out, like._dev, False, None)


def chebyshev_polynomial_t(x, n) -> Tensor:
    """T_n(x), the Chebyshev polynomial of the first kind: T_n(cos t) = cos(n t)."""
    return _evaluate(_chebyshev, x, n, "t", False)


def chebyshev_polynomial_u(x, n) -> Tensor:
    """U_n(x), the second kind: U_n(cos t) = sin((n + 1) t) / sin t."""
    return _evaluate(_chebyshev, x, n, "u", False)


def chebyshev_polynomial_v(x, n) -> Tensor:
    """V_n(x), the third kind: V_n(cos t) = cos((n + 1/2) t) / cos(t / 2)."""
    return _evaluate(_chebyshev, x, n, "v", False)


def chebyshev_polynomial_w(x, n) -> Tensor:
    """W_n(x), the fourth kind: W_n(cos t) = sin((n + 1/2) t) / sin(t / 2)."""
    return _evaluate(_chebyshev, x, n, "w", False)


def shifted_chebyshev_polynomial_t(x, n) -> Tensor:
    """T*_n(x) = T_n(2x - 1), orthogonal on [0, 1]."""
    return _evaluate(_chebyshev, x, n, "t", True)


def shifted_chebyshev_polynomial_u(x, n) -> Tensor:
    """U*_n(x) = U_n(2x - 1)."""
    return _evaluate(_chebyshev, x, n, "u", True)


def shifted_chebyshev_polynomial_v(x, n) -> Tensor:
    """V*_n(x) = V_n(2x - 1)."""
    return _evaluate(_chebyshev, x, n, "v", True)


def shifted_chebyshev_polynomial_w(x, n) -> Tensor:
    """W*_n(x) = W_n(2x - 1)."""
    return _evaluate(_chebyshev, x, n, "w", True)


def hermite_polynomial_h(x, n) -> Tensor:
    """H_n(x), the physicists' Hermite polynomial: H_{n+1} = 2x H_n - 2n H_{n-1}."""
    return _evaluate(_hermite_h, x, n)


def hermite_polynomial_he(x, n) -> Tensor:
    """He_n(x), the probabilists' Hermite polynomial: He_{n+1} = x He_n - n He_{n-1}."""
    return _evaluate(_hermite_he, x, n)


def laguerre_polynomial_l(x, n) -> Tensor:
    """L_n(x): (n + 1) L_{n+1} = (2n + 1 - x) L_n - n L_{n-1}."""
    return _evaluate(_laguerre_l, x, n)


def legendre_polynomial_p(x, n) -> Tensor:
    """P_n(x): (n + 1) P_{n+1} = (2n + 1) x P_n - n P_{n-1}."""
    return _evaluate(_legendre_p, x, n)


def round(input: Tensor, *, decimals: int = 0) -> Tensor:
    """Round half to even, to ``decimals`` places (torch.special.round is torch.round)."""
    return ops.round(input, decimals=decimals)
