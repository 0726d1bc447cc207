"""Activation functions of the nn layers: erf, GELU and SiLU as primitives (a fused kernel
each; exact double backward through the composite); leaky ReLU, the ELU family, hardtanh,
softplus and log-sigmoid as one Activation node each over backends/activation_kernels.py;
Mish composed from them."""

from __future__ import annotations

import math
import operator

from ..autograd.grad_mode import state
from ..autograd.node import Op
from ..backends.activation_kernels import ActivationKernels
from . import elementwise
from ._util import constant, float_operand
from .elementwise import where


class Erf(Op):
    """y = erf(x); dx = dy * 2/sqrt(pi) * exp(-x^2)."""

    def forward(self, x):
        self.saved = (x,)
        return self.backend.erf(x._data)

    def backward(self, g):
        (x,) = self.saved
        return (g * (x * x).neg().exp() * (2 / math.sqrt(math.pi)),)


def erf(input):
    return Erf.apply(float_operand(input))


class Gelu(Op):
    """y = x * Phi(x) (or the tanh approximation); dx = dy * (Phi(x) + x * phi(x))."""

    def forward(self, x, approximate):
        self.saved = (x,)
        self.approximate = approximate
        return self.backend.gelu(x._data, approximate)

    def backward(self, g):
        (x,) = self.saved
        if state.enabled:  # create_graph: the derivative written with differentiable ops
            return (g * _gelu_derivative(x, self.approximate),)
        return (constant(self.backend.gelu_backward(x._data, g._data, self.approximate),
                         g._dev),)


def _gelu_derivative(x, approximate):
    if approximate == "tanh":
        c = math.sqrt(2.0 / math.pi)
        th = ((x + x * x * x * 0.044715) * c).tanh()
        return (th + 1) * 0.5 + x * 0.5 * (1 - th * th) * c * (x * x * (3 * 0.044715) + 1)
    cdf = (erf(x * (1 / math.sqrt(2.0))) + 1) * 0.5
    pdf = (x * x * -0.5).exp() * (1 / math.sqrt(2 * math.pi))
    return cdf + x * pdf


def gelu(input, approximate: str = "none"):
    """GELU(x) = x * Phi(x), Phi the standard normal CDF; approximate='tanh' uses
    0.5 * x * (1 + tanh(sqrt(2/pi) * (x + 0.044715 x^3)))."""
    x = input
    if approximate not in ("none", "tanh"):
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    return Gelu.apply(float_operand(x), approximate=approximate)


class _TensorMath(ActivationKernels):
    """ActivationKernels with the backend primitives its formulas call taken over Tensors: a
    backward formula run here is differentiable (create_graph)."""

    mul, add, sub, div = map(staticmethod, (operator.mul, operator.add, operator.sub,
                                            operator.truediv))
    maximum, minimum, where = map(staticmethod, (elementwise.maximum, elementwise.minimum, where))
    _CMP = {"greater": operator.gt, "less": operator.lt, "greater_equal": operator.ge,
            "less_equal": operator.le}

    @staticmethod
    def compare(op, a, b):
        return _TensorMath._CMP[op](a, b)

    @staticmethod
    def exp(a):
        return a.exp()

    @staticmethod
    def _neg_part(x):  # NaN stays; its gradient is 0 at x = 0, as PyTorch's elu double backward
        return where(x >= 0, 0.0, x)

    @staticmethod
    def sigmoid(a):
        return a.sigmoid()

    @staticmethod
    def clamp(a, lo, hi):
        return a.clamp(lo, hi)

    @staticmethod
    def neg(a):
        return -a


TENSOR_MATH = _TensorMath()


class Activation(Op):
    """y = f(x) for an activation of backends/activation_kernels.py: the backend's ``kernel``
    and ``kernel_backward`` on arrays (a few fused-free passes, no node per step), and under
    create_graph the backward formula on Tensors."""

    def forward(self, x, kernel, params):
        self.saved = (x,)
        self.kernel, self.params = kernel, params
        return getattr(self.backend, kernel)(x._data, *params)

    def backward(self, g):
        (x,) = self.saved
        name = self.kernel + "_backward"
        if state.enabled:  # create_graph
            return (getattr(TENSOR_MATH, name)(x, g, *self.params),)
        return (constant(getattr(self.backend, name)(x._data, g._data, *self.params), g._dev),)


def activation(kernel: str, x, *params):
    return Activation.apply(float_operand(x), kernel=kernel, params=params)


def leaky_relu(x, negative_slope: float = 0.01):
    """max(0, x) + negative_slope * min(0, x)."""
    return activation("leaky_relu", x, negative_slope)


def elu(x, alpha: float = 1.0, scale: float = 1.0, input_scale: float = 1.0):
    """scale x for x > 0, alpha scale (exp(input_scale x) - 1) otherwise (ELU; CELU and SELU
    through scale and input_scale)."""
    return activation("elu", x, alpha, scale, input_scale)


class Silu(Op):
    """y = x * sigmoid(x); dx = dy * s * (1 + x * (1 - s)), s = sigmoid(x)."""

    def forward(self, x):
        self.saved = (x,)
        return self.backend.silu(x._data)

    def backward(self, g):
        (x,) = self.saved
        if state.enabled:  # create_graph: the derivative written with differentiable ops
            s = x.sigmoid()
            return (g * s * (1 + x * (1 - s)),)
        return (constant(self.backend.silu_backward(x._data, g._data), g._dev),)


def silu(x):
    """x * sigmoid(x) (one fused kernel each way on the C++ backend)."""
    return Silu.apply(float_operand(x))


def softplus(x, beta: float = 1.0, threshold: float = 20.0):
    """log(1 + exp(beta * x)) / beta (as max(z, 0) + log1p(exp(-|z|))); x where beta * x >
    threshold."""
    return activation("softplus", x, beta, threshold)


def hardtanh(x, min_val: float = -1.0, max_val: float = 1.0):
    """clamp(x, min_val, max_val), with dx = 0 at the bounds (PyTorch's)."""
    return activation("hardtanh", x, min_val, max_val)


def relu6(x):
    return hardtanh(x, 0.0, 6.0)


def mish(x):
    return x * softplus(x).tanh()


def logsigmoid(x):
    """log(sigmoid(x)) = min(x, 0) - log1p(exp(-|x|))."""
    return activation("logsigmoid", x)
