"""nn.functional activations: the core ones of ``autodiff.ops.activation`` (ReLU, leaky ReLU,
the ELU family, SiLU, Mish, softplus, log-sigmoid, the hard family: array-level kernels with
PyTorch's gradients, boundaries included) with PyTorch's ``inplace`` argument, GLU, the shrink
family, threshold, RReLU and PReLU, and the in-place ``F.xxx_`` forms; those composed here
use differentiable ops (``where`` picks the branch)."""

from __future__ import annotations

from ... import creation, ops
from ...errors import ShapeError
from ...ops import activation as core
from ...ops import where
from ...tensor import Tensor

SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


def _maybe_inplace(fn, x: Tensor, inplace: bool, *args) -> Tensor:
    """``fn(x, *args)``, written into ``x`` when ``inplace`` (PyTorch's ``inplace=True``)."""
    return x._inplace(fn, *args) if inplace else fn(x, *args)


def relu(input: Tensor, inplace: bool = False) -> Tensor:
    """ReLU(x) = max(x, 0)."""
    return _maybe_inplace(ops.relu, input, inplace)


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    """LeakyReLU(x) = max(0, x) + negative_slope * min(0, x)."""
    return _maybe_inplace(core.leaky_relu, input, inplace, negative_slope)


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """ELU(x) = x for x > 0, alpha * (exp(x) - 1) otherwise."""
    return _maybe_inplace(core.elu, input, inplace, alpha)


def silu(input: Tensor, inplace: bool = False) -> Tensor:
    """SiLU(x) = x * sigmoid(x)."""
    return _maybe_inplace(core.silu, input, inplace)


def mish(input: Tensor, inplace: bool = False) -> Tensor:
    """Mish(x) = x * tanh(softplus(x))."""
    return _maybe_inplace(core.mish, input, inplace)


def _log1p_exp(z: Tensor) -> Tensor:
    """log(1 + exp(z)) without overflow (softplus with no threshold; its gradient, sigmoid(z),
    exact at z = 0 too)."""
    return core.softplus(z, 1.0, float("inf"))


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """Softplus(x) = log(1 + exp(beta x)) / beta, and x itself where beta x > threshold."""
    return core.softplus(input, beta, threshold)


def logsigmoid(input: Tensor) -> Tensor:
    """LogSigmoid(x) = log(1 / (1 + exp(-x))) = -softplus(-x)."""
    return core.logsigmoid(input)


def hardtanh(input: Tensor, min_val: float = -1.0, max_val: float = 1.0,
             inplace: bool = False) -> Tensor:
    """HardTanh(x) = clamp(x, min_val, max_val) (dx = 0 at the bounds, as PyTorch)."""
    if min_val > max_val:
        raise ValueError(f"hardtanh: min_val cannot be greater than max_val, got {min_val} > "
                         f"{max_val}")
    return _maybe_inplace(core.hardtanh, input, inplace, min_val, max_val)


def relu6(input: Tensor, inplace: bool = False) -> Tensor:
    """ReLU6(x) = min(max(0, x), 6) (dx = 0 at 0 and 6, as PyTorch)."""
    return hardtanh(input, 0.0, 6.0, inplace)


def _celu(x: Tensor, alpha: float) -> Tensor:
    if alpha == 0:
        raise RuntimeError("ZeroDivisionError: alpha cannot be 0 for CELU")
    return core.elu(x, alpha, 1.0, 1.0 / alpha)


def celu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """CELU(x) = max(0, x) + min(0, alpha * (exp(x / alpha) - 1)).

    Args:
        input: any shape. alpha: the negative saturation value (not 0).
        inplace: write the result into ``input``.
    Shape:
        input (*), output (*).
    Example:
        >>> F.celu(ad.tensor([-1.0, 2.0]), alpha=2.0)  # [-0.7869, 2.0]
    """
    return _maybe_inplace(_celu, input, inplace, alpha)


def _selu(x: Tensor) -> Tensor:
    return core.elu(x, SELU_ALPHA, SELU_SCALE)


def selu(input: Tensor, inplace: bool = False) -> Tensor:
    """SELU(x) = scale * (max(0, x) + min(0, alpha * (exp(x) - 1))), alpha ~ 1.6733 and
    scale ~ 1.0507 (the self-normalizing constants)."""
    return _maybe_inplace(_selu, input, inplace)


def glu(input: Tensor, dim: int = -1) -> Tensor:
    """GLU(a, b) = a * sigmoid(b), with ``input`` split in halves a, b along ``dim``.

    Shape:
        input (*_1, 2N, *_2), output (*_1, N, *_2).
    """
    if input.ndim == 0:
        raise RuntimeError("glu does not support scalars because halving size must be even")
    d = dim + input.ndim if dim < 0 else dim
    if not 0 <= d < input.ndim:
        raise IndexError(f"glu: dimension {dim} out of range for a {input.ndim}-D input")
    if input.shape[d] % 2:
        raise ShapeError(f"Halving dimension must be even, but dimension {d} is size "
                         f"{input.shape[d]}")
    from ...composites import GluHalves  # one node: its backward is one cat
    from ...math_functions import floating_only

    floating_only("glu_cpu", input)  # PyTorch's NotImplementedError for integers
    return GluHalves.apply(input, d=d)


def _hardswish(x: Tensor) -> Tensor:
    return core.activation("hardswish", x)


def hardswish(input: Tensor, inplace: bool = False) -> Tensor:
    """Hardswish(x) = 0 for x <= -3, x for x >= 3, x (x + 3) / 6 between (so dx = 0 at -3
    and 1 at 3, as PyTorch)."""
    return _maybe_inplace(_hardswish, input, inplace)


def _hardsigmoid(x: Tensor) -> Tensor:
    return core.activation("hardsigmoid", x)


def hardsigmoid(input: Tensor, inplace: bool = False) -> Tensor:
    """Hardsigmoid(x) = 0 for x <= -3, 1 for x >= 3, x / 6 + 1/2 between (dx = 0 at +-3)."""
    return _maybe_inplace(_hardsigmoid, input, inplace)


def softsign(input: Tensor) -> Tensor:
    """SoftSign(x) = x / (1 + |x|)."""
    return input / (input.abs() + 1)


def hardshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """HardShrink(x) = x where |x| > lambd, else 0 (NaN passes through)."""
    if input.dtype.is_floating_point:
        return core.activation("hardshrink", input, lambd)
    return where((input >= -lambd) & (input <= lambd), 0.0, input)


def softshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """SoftShrink(x) = x - lambd for x > lambd, x + lambd for x < -lambd, else 0."""
    if lambd < 0:
        raise RuntimeError(f"softshrink: lambda must be greater or equal to 0, but found to be "
                           f"{lambd}")
    if input.dtype.is_floating_point:
        return core.activation("softshrink", input, lambd)
    return where(input > lambd, input - lambd, where(input < -lambd, input + lambd, input * 0))


def tanhshrink(input: Tensor) -> Tensor:
    """Tanhshrink(x) = x - tanh(x)."""
    return input - input.tanh()


def _threshold(x: Tensor, threshold: float, value: float) -> Tensor:
    if x.dtype.is_floating_point:
        return core.activation("threshold", x, threshold, value)
    return where(x <= threshold, value, x)


def threshold(input: Tensor, threshold: float, value: float, inplace: bool = False) -> Tensor:
    """y = x where x > threshold, else ``value`` (dx = 0 there)."""
    return _maybe_inplace(_threshold, input, inplace, threshold, value)


def _rrelu(x: Tensor, lower: float, upper: float, training: bool) -> Tensor:
    if lower > upper:
        raise RuntimeError(f"rrelu: Lower bound should be less than or equal to the upper "
                           f"bound, got lower={lower} and upper={upper}")
    if not training:
        return core.leaky_relu(x, (lower + upper) / 2)
    u = creation.rand(*x.shape, dtype=x.dtype, device=x.device)
    return where(x > 0, x, x * (u * (upper - lower) + lower))


def rrelu(input: Tensor, lower: float = 1.0 / 8, upper: float = 1.0 / 3,
          training: bool = False, inplace: bool = False) -> Tensor:
    """RReLU(x) = x for x >= 0, a * x otherwise, a ~ U(lower, upper) per element in training
    and a = (lower + upper) / 2 in evaluation (the default: ``training=False``, as PyTorch)."""
    return _maybe_inplace(_rrelu, input, inplace, lower, upper, training)


def prelu(input: Tensor, weight: Tensor) -> Tensor:
    """PReLU(x) = max(0, x) + weight * min(0, x), weight one value or one per channel (dim 1).

    Shape:
        input (N, C, *) or any shape for a single weight; weight () or (1,) or (C,).
    """
    if weight.ndim > 1:
        raise ShapeError(f"prelu: Expected `weight` to be a scalar or 1D tensor, but got: "
                         f"ndim = {weight.ndim}")
    n = weight.numel()
    if n == 1:
        w = weight.reshape(())
    else:
        if input.ndim == 0:
            raise ShapeError("prelu: Not allow zero-dim input tensor.")
        channels = input.shape[1] if input.ndim > 1 else 1
        if channels != n:
            raise ShapeError(f"prelu: Mismatch of parameter numbers and input channel size. "
                             f"Found parameter numbers = {n} and channel size = {channels} "
                             f"(input of shape {tuple(input.shape)}).")
        w = weight.reshape((n,) + (1,) * (input.ndim - 2))
    return where(input > 0, input, w * input)


# ----------------------------------------------------------------------------- in-place forms
def relu_(input: Tensor) -> Tensor:
    """In-place :func:`relu`."""
    return relu(input, inplace=True)


def celu_(input: Tensor, alpha: float = 1.0) -> Tensor:
    """In-place :func:`celu`."""
    return input._inplace(_celu, alpha)


def selu_(input: Tensor) -> Tensor:
    """In-place :func:`selu`."""
    return input._inplace(_selu)


def threshold_(input: Tensor, threshold: float, value: float) -> Tensor:
    """In-place :func:`threshold`."""
    return input._inplace(_threshold, threshold, value)


def rrelu_(input: Tensor, lower: float = 1.0 / 8, upper: float = 1.0 / 3,
           training: bool = False) -> Tensor:
    """In-place :func:`rrelu`."""
    return input._inplace(_rrelu, lower, upper, training)


def elu_(input: Tensor, alpha: float = 1.0) -> Tensor:
    """In-place ELU: x for x > 0, alpha * (exp(x) - 1) otherwise."""
    return elu(input, alpha, inplace=True)


def leaky_relu_(input: Tensor, negative_slope: float = 0.01) -> Tensor:
    """In-place leaky ReLU: max(0, x) + negative_slope * min(0, x)."""
    return leaky_relu(input, negative_slope, inplace=True)


def hardtanh_(input: Tensor, min_val: float = -1.0, max_val: float = 1.0) -> Tensor:
    """In-place :func:`hardtanh`."""
    return hardtanh(input, min_val, max_val, inplace=True)
