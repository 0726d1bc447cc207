"""``autodiff.special``: PyTorch's ``torch.special`` without SciPy.

The gamma family (``gammaln``, ``digamma``, ``polygamma``), ``erfc``, ``erfinv``, ``ndtri``,
``log_ndtr`` and ``i0``/``i1`` are custom autograd Functions: the forward evaluates the
function on the backend's array module (NumPy or CuPy) in float64 and casts back to the
input's dtype (so float32 never overflows in an intermediate), the backward is written with
Tensor ops, so double backward works. The rest are compositions of differentiable ops.

Algorithms: ``gammaln`` by Lanczos (g = 7, 9 terms) with the reflection formula below 0.5
and the A&S 6.1.41 series near 1 and 2 (lgamma's zeros, where Lanczos' absolute error would
be a large relative one); ``digamma``/``polygamma`` by the
recurrence up to x >= 10 and the asymptotic (Bernoulli) series, reflection for x < 0 (n <= 1);
``ndtri``, ``erfinv`` by Acklam's rational and two Newton steps on erf/erfc; ``erfc`` by
``math.erfc`` (or SciPy/CuPy's). Float64 results agree with PyTorch to ~1e-13 relative.

Example:
    >>> import autodiff as ad
    >>> ad.special.gammaln(ad.tensor([0.5, 10.0]))  # [log(sqrt(pi)), log(9!)]
"""

from __future__ import annotations

import math

import numpy as np

from . import ops
from .autograd.function import Function
from .backends.numpy_backend import _quiet
from .creation import zeros_like
from .math_functions import logit, xlogy
from .ops._util import float_operand, float_operands, operands
from .ops.activation import erf
from .tensor import Tensor

__all__ = [
    "digamma",
    "entr",
    "erf",
    "erfc",
    "erfcx",
    "erfinv",
    "exp2",
    "expit",
    "expm1",
    "gammaln",
    "i0",
    "i1",
    "log1p",
    "log_ndtr",
    "log_softmax",
    "logit",
    "logsumexp",
    "multigammaln",
    "ndtr",
    "ndtri",
    "polygamma",
    "psi",
    "sinc",
    "softmax",
    "xlog1py",
    "xlogy",
]

_LANCZOS_G = 7.0
_LANCZOS = (0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313,
            -176.61502916214059, 12.507343278686905, -0.13857109526572012,
            9.9843695780195716e-6, 1.5056327351493116e-7)
_EULER = 0.5772156649015329
_BERNOULLI = (1 / 6, -1 / 30, 1 / 42, -1 / 30, 5 / 66, -691 / 2730, 7 / 6, -3617 / 510,
              43867 / 798)  # B_2, B_4, ..., B_18


def _zeta_minus_one(k: int) -> float:
    """zeta(k) - 1 for k >= 2 (direct sum plus the Euler-Maclaurin tail), at import."""
    n = 200
    head = sum(j ** -k for j in range(2, n))
    tail = (n ** (1 - k) / (k - 1) + 0.5 * n ** -k + k * n ** (-k - 1) / 12
            - k * (k + 1) * (k + 2) * n ** (-k - 3) / 720)
    return head + tail


_ZETA1 = tuple(_zeta_minus_one(k) for k in range(2, 30))


# ------------------------------------------------------------------ array kernels (float64)
def _lgamma_lanczos(xp, x):
    z = x - 1.0
    acc = xp.full_like(z, _LANCZOS[0])
    for i in range(1, len(_LANCZOS)):
        acc = acc + _LANCZOS[i] / (z + i)
    t = z + _LANCZOS_G + 0.5
    return 0.5 * math.log(2 * math.pi) + (z + 0.5) * xp.log(t) - t + xp.log(acc)


def _lgamma_near_one(z):
    """lgamma(2 + z) + log1p(z) ... A&S 6.1.41: lgamma(1+z) = -log1p(z) + z(1-gamma) + S."""
    s = z * (1 - _EULER)
    zk = z
    for k, zeta1 in enumerate(_ZETA1, start=2):
        zk = zk * z
        s = s + (-1) ** k * zeta1 / k * zk
    return s  # = lgamma(2 + z) = lgamma(1 + z) + log1p(z)


def _lgamma(xp, x):
    with np.errstate(all="ignore"):
        refl = x < 0.5
        xr = xp.where(refl, 1.0 - x, x)
        y = _lgamma_lanczos(xp, xr)
        near1, near2 = xp.abs(xr - 1.0) < 0.25, xp.abs(xr - 2.0) < 0.25
        z = xp.where(near1, xr - 1.0, xp.where(near2, xr - 2.0, 0.0))
        s = _lgamma_near_one(z)
        y = xp.where(near2, s, xp.where(near1, s - xp.log1p(z), y))
        y = xp.where(xp.isinf(xr), xp.inf, y)
        # Gamma(x) Gamma(1 - x) = pi / sin(pi x); sin(pi x) via x's distance to the nearest
        # integer (exact, also for a tiny x, where x - floor(x) would round to 1)
        r = x - xp.round(x)
        refl_y = math.log(math.pi) - xp.log(xp.abs(xp.sin(math.pi * r))) - y
        return xp.where(refl & (r != 0) & (x > -xp.inf), refl_y, xp.where(refl, xp.inf, y))


def _polygamma_pos(xp, n: int, x, cutoff: float = 10.0):
    """psi^(n)(x) for x > 0 (n = 0: digamma), recurrence up to ``cutoff`` then asymptotics."""
    sign = -1.0 if n % 2 == 0 else 1.0  # (-1)^(n+1)
    fact = float(math.factorial(n))
    acc = xp.zeros_like(x)
    finite = xp.where(xp.isfinite(x), x, cutoff)  # NaN and inf need no recurrence steps
    steps = math.ceil(cutoff - float(xp.min(finite))) if x.size else 0
    for _ in range(max(steps, 0)):
        small = x < cutoff
        if n == 0:
            acc = acc - xp.where(small, 1.0 / x, 0.0)
        else:
            acc = acc + xp.where(small, sign * fact / x ** (n + 1), 0.0)
        x = xp.where(small, x + 1.0, x)
    inv = 1.0 / x
    if n == 0:
        s = xp.log(x) - 0.5 * inv
        for k, b in enumerate(_BERNOULLI, start=1):
            s = s - b / (2 * k) * inv ** (2 * k)
        return acc + s
    s = math.factorial(n - 1) * inv ** n + 0.5 * fact * inv ** (n + 1)
    for k, b in enumerate(_BERNOULLI, start=1):
        s = s + b * math.factorial(2 * k + n - 1) / math.factorial(2 * k) * inv ** (2 * k + n)
    return acc + sign * s


def _polygamma(xp, n: int, x):
    with np.errstate(all="ignore"):
        if n > 1:
            return xp.where((x == xp.floor(x)) & (x <= 0), xp.nan, _polygamma_pos(xp, n, x))
        refl = x < 0.5
        y = _polygamma_pos(xp, n, xp.where(refl, 1.0 - x, x))
        frac = x - xp.round(x)  # exact, also for a tiny x
        r = math.pi * frac  # pi x reduced to [-pi/2, pi/2]
        if n == 0:  # psi(x) = psi(1 - x) - pi / tan(pi x)
            out = y - math.pi / xp.tan(r)
            pole = xp.nan
        else:  # psi1(x) = pi^2 / sin^2(pi x) - psi1(1 - x)
            out = (math.pi / xp.sin(r)) ** 2 - y
            pole = xp.inf
        if n == 0:  # digamma(+-0) = -+inf (PyTorch); NaN at the negative integers
            pole = xp.where(x == 0, xp.copysign(xp.inf, -x), pole)
        return xp.where(refl, xp.where(frac == 0, pole, out), y)


def _erf(xp, a):
    if xp.__name__ == "numpy":
        try:
            from scipy.special import erf as f
        except ImportError:  # exact, element by element
            return np.vectorize(math.erf, otypes=[np.float64])(a)
        return f(a)
    from cupyx.scipy.special import erf as f

    return f(a)


def _erfc(xp, a):
    if xp.__name__ == "numpy":
        try:
            from scipy.special import erfc as f
        except ImportError:  # exact, element by element
            return np.vectorize(math.erfc, otypes=[np.float64])(a)
        return f(a)
    from cupyx.scipy.special import erfc as f

    return f(a)


_A = (-3.969683028665376e01, 2.209460984245205e02, -2.759285104469687e02, 1.383577518672690e02,
      -3.066479806614716e01, 2.506628277459239e00)
_B = (-5.447609879822406e01, 1.615858368580409e02, -1.556989798598866e02, 6.680131188771972e01,
      -1.328068155288572e01, 1.0)
_C = (-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e00,
      -2.549732539343734e00, 4.374664141464968e00, 2.938163982698783e00)
_D = (7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e00, 3.754408661907416e00,
      1.0)


def _horner(coefs, t):
    out = t * coefs[0]  # in place: one temporary
    for c in coefs[1:-1]:
        out += c
        out *= t
    out += coefs[-1]
    return out


def _ndtri_tail(xp, p, q):
    """ndtri(p) with p = the smaller tail probability (<= 0.5) and q = p - 0.5 given exactly."""
    with np.errstate(all="ignore"):
        r = q * q
        central = _horner(_A, r) * q / _horner(_B, r)
        s = xp.sqrt(-2.0 * xp.log(p))
        tail = _horner(_C, s) / _horner(_D, s)
        x = xp.where(p < 0.02425, tail, central)
        for _ in range(2):  # Newton on 0.5 erfc(-x / sqrt 2) = p: relative precision in p
            fx = 0.5 * _erfc(xp, -x / math.sqrt(2.0))
            dens = xp.exp(-0.5 * x * x) / math.sqrt(2 * math.pi)
            x = x - xp.where(xp.isfinite(x) & (dens > 0), (fx - p) / dens, 0.0)
        return xp.where(p == 0, -xp.inf, x)


def _ndtri(xp, p):
    with np.errstate(all="ignore"):
        upper = p > 0.5
        small = xp.where(upper, 1.0 - p, p)  # exact for p >= 0.5 (Sterbenz)
        x = _ndtri_tail(xp, small, xp.where(upper, 0.5 - p, p - 0.5))
        x = xp.where(upper, -x, x)
        return xp.where((p < 0) | (p > 1) | xp.isnan(p), xp.nan, x)


def _erfinv(xp, y):
    """erfinv(y) = ndtri((1 + y) / 2) / sqrt 2, evaluated on the small tail 1 - |y| (exact)."""
    with np.errstate(all="ignore"):
        a = xp.abs(y)
        x = -_ndtri_tail(xp, 0.5 * (1.0 - a), -0.5 * a) / math.sqrt(2.0)
        for _ in range(2):  # near 0, Newton on erf itself (erfc - p loses the small x)
            step = (_erf(xp, x) - a) * (math.sqrt(math.pi) / 2) * xp.exp(x * x)
            x = xp.where(a < 0.5, x - step, x)
        x = xp.where(a == 1, xp.inf, x)
        return xp.where(a > 1, xp.nan, xp.copysign(x, y))  # erfinv(-0) = -0


@_quiet
def _erfinv_single(xp, y):
    """erfinv of float32/16 y: Acklam's rational alone in float64 (relative error < 1.2e-9, so
    within 1 ulp of the Newton-refined value after rounding), 8x faster than the float64 path."""
    a = xp.abs(y).astype(np.float64).ravel()
    r = a * a
    r *= 0.25
    x = _horner(_A, r)
    x *= a
    x /= _horner(_B, r)
    x *= 0.5 / math.sqrt(2.0)
    tail = xp.flatnonzero(a > 1 - 2 * 0.02425)  # Acklam's p < 0.02425: a few, gathered
    if tail.size:
        at = a[tail]
        s = xp.sqrt(-2.0 * xp.log(0.5 * (1.0 - at)))
        xt = _horner(_C, s) / _horner(_D, s) * -math.sqrt(0.5)
        x[tail] = xp.where(at == 1, xp.inf, xp.where(at > 1, xp.nan, xt))
    u = np.dtype(f"u{y.itemsize}")  # copysign by the sign bit (np.copysign is 6x slower)
    x = x.astype(y.dtype).reshape(y.shape).view(u)
    return (x | (y.view(u) & u.type(1 << (8 * y.itemsize - 1)))).view(y.dtype)


def _log_ndtr(xp, x):
    with np.errstate(all="ignore"):
        mid = xp.log(0.5 * _erfc(xp, -x / math.sqrt(2.0)))
        hi = xp.log1p(-0.5 * _erfc(xp, x / math.sqrt(2.0)))
        z = xp.where(x < -20, x, -20.0)  # asymptotic: Phi(x) ~ phi(x)/-x (1 - 1/x^2 + 3/x^4...)
        iz2, term, series = 1.0 / (z * z), 1.0, 1.0
        for k in range(1, 8):
            term = -term * (2 * k - 1) * iz2
            series = series + term
        lo = -0.5 * z * z - xp.log(-z) - 0.5 * math.log(2 * math.pi) + xp.log(series)
        return xp.where(x < -20, lo, xp.where(x > 0, hi, mid))


def _bessel_i(xp, nu: int, x):
    """I_0 / I_1 by the power series (|x| < 20) and the asymptotic expansion (|x| >= 20)."""
    with np.errstate(all="ignore"):
        a = xp.abs(x)
        small = xp.minimum(a, 20.0)
        h2 = (0.5 * small) ** 2
        term = (0.5 * small) ** nu / math.factorial(nu)
        ser = term
        for k in range(1, 60):
            term = term * h2 / (k * (k + nu))
            ser = ser + term
        big = xp.maximum(a, 20.0)
        mu, t, asym = 4.0 * nu * nu, 1.0, 1.0
        for k in range(1, 25):
            t = -t * (mu - (2 * k - 1) ** 2) / (k * 8.0 * big)
            asym = asym + t
        asym = xp.exp(big) / xp.sqrt(2 * math.pi * big) * asym
        out = xp.where(a < 20, ser, asym)
        return xp.where(x < 0, -out, out) if nu % 2 else out


# ------------------------------------------------------------------ autograd Functions
def _apply_xp(kernel, x: Tensor, *args) -> Tensor:
    xp = x._dev.backend.xp
    out = kernel(xp, *args, x._data.astype(np.float64)) if args else \
        kernel(xp, x._data.astype(np.float64))
    with np.errstate(over="ignore"):  # a float64 result beyond float32's range: inf, silently
        out = out.astype(x._data.dtype, copy=False)
    return Tensor._make(out, x._dev, False, None)


class _Lgamma(Function):
    """y = lgamma(x); dx = dy * digamma(x)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return _apply_xp(_lgamma, x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * digamma(x)


class _Polygamma(Function):
    """y = psi^(n)(x) (n = 0: digamma); dx = dy * psi^(n+1)(x)."""

    @staticmethod
    def forward(ctx, x, n):
        ctx.save_for_backward(x)
        ctx.n = n
        return _apply_xp(_polygamma, x, n)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * polygamma(ctx.n + 1, x), None


class _Erfinv(Function):
    """y = erfinv(x); dx = dy * sqrt(pi)/2 * exp(y^2)."""

    @staticmethod
    def forward(ctx, x):
        d, b = x._data, x._dev.backend  # (the cpp device: one C++ pass for float32)
        r = b.erfinv_float32(d) if d.dtype == np.float32 and hasattr(b, "erfinv_float32") else None
        y = _apply_xp(_erfinv, x) if d.dtype.itemsize == 8 else Tensor._make(
            _erfinv_single(b.xp, d) if r is None else r, x._dev, False, None)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return g * (y * y).exp() * (math.sqrt(math.pi) / 2)


class _Ndtri(Function):
    """y = Phi^-1(p); dp = dy * sqrt(2 pi) * exp(y^2 / 2)."""

    @staticmethod
    def forward(ctx, p):
        ctx.save_for_backward(p)
        return _apply_xp(_ndtri, p)

    @staticmethod
    def backward(ctx, g):
        (p,) = ctx.saved_tensors
        y = ndtri(p)
        return g * (y * y * 0.5).exp() * math.sqrt(2 * math.pi)


class _Erfc(Function):
    """y = erfc(x); dx = -dy * 2/sqrt(pi) * exp(-x^2)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return _apply_xp(_erfc, x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * (x * x).neg().exp() * (-2 / math.sqrt(math.pi))


class _LogNdtr(Function):
    """y = log Phi(x); dx = dy * phi(x) / Phi(x) = dy * exp(-x^2/2 - y) / sqrt(2 pi)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return _apply_xp(_log_ndtr, x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * (x * x * -0.5 - log_ndtr(x)).exp() * (1 / math.sqrt(2 * math.pi))


class _BesselI(Function):
    """y = I_nu(x), nu in {0, 1}; dI0 = I1, dI1 = I0 - I1 / x (1/2 at x = 0)."""

    @staticmethod
    @_quiet  # I0 overflows to inf silently, as in PyTorch
    def forward(ctx, x, nu):
        ctx.save_for_backward(x)
        ctx.nu = nu
        if nu == 0 and hasattr(x._dev.backend.xp, "i0"):
            xp = x._dev.backend.xp
            return Tensor._make(xp.i0(x._data).astype(x._data.dtype, copy=False), x._dev,
                                False, None)
        return _apply_xp(_bessel_i, x, nu)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        if ctx.nu == 0:
            return g * i1(x), None
        zero = x == 0
        safe = ops.where(zero, 1.0, x)
        return g * ops.where(zero, 0.5, i0(x) - i1(safe) / safe), None


# ------------------------------------------------------------------ public functions
def gammaln(input: Tensor) -> Tensor:
    """log|Gamma(x)|, +inf at the poles 0, -1, -2, ...; d/dx = digamma(x).

    Example:
        >>> gammaln(ad.tensor([1.0, 5.0]))  # [0, log 24]
    """
    return _Lgamma.apply(float_operand(input))


def digamma(input: Tensor) -> Tensor:
    """psi(x) = d/dx lgamma(x); -inf at 0 and NaN at -1, -2, ..., as PyTorch."""
    return _Polygamma.apply(float_operand(input), 0)


def polygamma(n: int, input: Tensor) -> Tensor:
    """The n-th derivative of digamma (n = 0: digamma itself)."""
    if int(n) != n or n < 0:
        raise ValueError(f"polygamma: n must be a non-negative integer, got {n}")
    return _Polygamma.apply(float_operand(input), int(n))


def multigammaln(input: Tensor, p: int) -> Tensor:
    """log of the multivariate gamma function of dimension p."""
    input = float_operand(input)
    out = zeros_like(input) + p * (p - 1) / 4 * math.log(math.pi)
    for j in range(p):
        out = out + gammaln(input - j / 2)
    return out


def erfc(input: Tensor) -> Tensor:
    """1 - erf(x) with full relative precision for large x."""
    return _Erfc.apply(float_operand(input))


def erfcx(input: Tensor) -> Tensor:
    """exp(x^2) erfc(x): directly up to x = 5, beyond by the continued fraction
    erfc(x) = exp(-x^2) / sqrt(pi) / (x + (1/2) / (x + (2/2) / (x + (3/2) / ...))), which
    never forms exp(x^2) (it overflows from x = 9.4 in float32, 26.6 in float64)."""
    input = float_operand(input)
    big = input > 5
    xb = ops.where(big, input, 6.0)
    cf = xb
    for k in range(40, 0, -1):
        cf = xb + (k / 2) / cf
    xs = ops.where(big, 0.0, input)
    return ops.where(big, 1 / (math.sqrt(math.pi) * cf), (xs * xs).exp() * erfc(xs))


def erfinv(input: Tensor) -> Tensor:
    """The inverse of erf on (-1, 1); +-inf at +-1, NaN outside."""
    return _Erfinv.apply(float_operand(input))


def ndtr(input: Tensor) -> Tensor:
    """The standard normal CDF Phi(x) = erfc(-x / sqrt 2) / 2."""
    return erfc(float_operand(input) * (-1 / math.sqrt(2.0))) * 0.5


def ndtri(input: Tensor) -> Tensor:
    """The standard normal quantile Phi^-1(p)."""
    return _Ndtri.apply(float_operand(input))


def log_ndtr(input: Tensor) -> Tensor:
    """log Phi(x), accurate in both tails (asymptotic series below -20)."""
    return _LogNdtr.apply(float_operand(input))


def i0(input: Tensor) -> Tensor:
    """The modified Bessel function of the first kind, order 0."""
    return _BesselI.apply(float_operand(input), 0)


def i1(input: Tensor) -> Tensor:
    """The modified Bessel function of the first kind, order 1."""
    return _BesselI.apply(float_operand(input), 1)


def expit(input: Tensor) -> Tensor:
    """The logistic sigmoid 1 / (1 + exp(-x)), exp of -|x| only (no underflow to 0 for
    x << 0, which ``Tensor.sigmoid`` shows at x = -30)."""
    input = float_operand(input)
    e = (-input.abs()).exp()
    return ops.where(input >= 0, 1 / (1 + e), e / (1 + e))


def xlog1py(input, other) -> Tensor:
    """x * log1p(y), 0 where x == 0 (and y is not NaN); d/dx = log1p(y) there too, as
    PyTorch's derivative (xlogy's is 0 at x == 0)."""
    input, other = float_operands(input, other)
    zero = (input == 0) & ~other.isnan()
    safe_y = ops.where(zero, zeros_like(other), other)
    out = ops.where(zero, zeros_like(input * safe_y), input * safe_y.log1p())
    if input.requires_grad and zero.any():  # the slope at x == 0, with no value of its own
        slope = ops.where(zero, other.detach().log1p(), 0.0)
        out = out + (input - input.detach()) * ops.where(slope.isfinite(), slope, 0.0)
    return out


def sinc(input: Tensor) -> Tensor:
    """sin(pi x) / (pi x), 1 at x = 0 (the normalized sinc)."""
    input = float_operand(input)
    small = input.abs() < 1e-3  # Taylor series there: right value and derivatives at 0
    px = ops.where(small, 1.0, input) * math.pi
    z2 = (input * math.pi) ** 2
    return ops.where(small, 1 - z2 / 6 + z2 * z2 / 120, px.sin() / px)


class _Entr(Function):
    """y = -x log x (0 at 0, -inf for x < 0, NaN for NaN); dy = -(1 + log x) dx, as PyTorch's
    (+inf at 0, NaN for x < 0)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        pos = x > 0
        safe = ops.where(pos, x, 1.0)
        return ops.where(pos, -safe * safe.log(), ops.where(x < 0, -math.inf, x * 0))

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * -(1 + x.log())


def entr(input: Tensor) -> Tensor:
    """-x log x for x > 0, 0 at 0, -inf for x < 0."""
    return _Entr.apply(float_operand(input))


def logsumexp(input: Tensor, dim, keepdim: bool = False) -> Tensor:
    return ops.logsumexp(input, dim, keepdim)


def softmax(input: Tensor, dim: int, dtype=None) -> Tensor:
    return ops.softmax(input, dim, dtype)


def log_softmax(input: Tensor, dim: int, dtype=None) -> Tensor:
    return ops.log_softmax(input, dim, dtype)


def log1p(input: Tensor) -> Tensor:
    return float_operand(input).log1p()


def expm1(input: Tensor) -> Tensor:
    return float_operand(input).expm1()


def exp2(input: Tensor) -> Tensor:
    return float_operand(input).exp2()


psi = digamma
_ = (logit, xlogy, erf)  # re-exported under torch.special's names

for _name in ("digamma", "erfinv", "i0", "polygamma", "sinc", "erfc"):
    if not hasattr(Tensor, _name):
        setattr(Tensor, _name, globals()[_name])
Tensor.lgamma = gammaln
Tensor.erf = erf
Tensor.polygamma = lambda self, n: polygamma(n, self)
del _name

# Bessel, Airy, Hurwitz zeta; the orthogonal polynomials and round
from . import special_cephes as _cephes
from . import special_polynomials as _polys
from .special_cephes import *
from .special_polynomials import *

__all__ += _cephes.__all__ + _polys.__all__
