"""Array-level forward and backward of the activations with no kernel of their own (leaky
ReLU, the ELU family, the hard family, softplus, log-sigmoid, the shrinks, threshold), each a
few passes of the backend's primitives (the cpp backend takes most of them as one C++ kernel
each way instead, from the same formulas).  Conditions and formulas are PyTorch's vectorised
CPU kernels', so boundaries, NaN, -0 and infinities come out as there (its scalar tails
differ at NaN for hardtanh, hardswish and the shrinks' gradients, at -0 for softshrink).  The
backward formulas also run on Tensors (`self` then ops.activation's TENSOR_MATH), which gives
create_graph its differentiable gradient."""

from __future__ import annotations

import math

from .fp_quiet import _quiet


class ActivationKernels:
    @_quiet
    def leaky_relu(self, x, slope):
        t = self.mul(x, slope)  # max(x, s x) for s <= 1, min(x, s x) above
        return self.maximum(x, t) if slope <= 1 else self.minimum(x, t)

    @_quiet
    def leaky_relu_backward(self, x, g, slope):
        return self.where(self.compare("greater", x, 0), g, self.mul(g, slope))

    @_quiet
    def cube(self, x):  # x ** 3 as PyTorch's products
        return self.mul(self.mul(x, x), x)

    @_quiet
    def cube_backward(self, x, g):  # g (3 x ** 2), in PyTorch's order
        return self.mul(g, self.mul(self.mul(x, x), 3))

    def _times(self, a, c):
        return a if c == 1 else self.mul(a, c)

    @_quiet
    def elu(self, x, alpha, scale, input_scale):
        """x <= 0: alpha scale (exp(input_scale x) - 1); else scale x (ELU, CELU, SELU)."""
        z = self._times(self.clamp(x, -math.inf, 0), input_scale)  # (no overflow above 0)
        neg = self._times(self.xp.expm1(z), alpha * scale)
        return self.where(self.compare("less_equal", x, 0), neg, self._times(x, scale))

    @_quiet
    def elu_backward(self, x, g, alpha, scale, input_scale):
        e = self.exp(self._times(self._neg_part(x), input_scale))
        neg = self.mul(self._times(g, input_scale * alpha * scale), e)
        return self.where(self.compare("greater", x, 0), self._times(g, scale), neg)  # NaN: neg

    def _neg_part(self, x):  # min(x, 0), NaN stays
        return self.clamp(x, -math.inf, 0)

    @_quiet
    def hardtanh(self, x, lo, hi):
        return self.clamp(x, lo, hi)

    @_quiet
    def hardtanh_backward(self, x, g, lo, hi):  # g inside (lo, hi), else 0 (NaN too)
        inside = self.compare("greater", x, lo) & self.compare("less", x, hi)
        return self.where(inside, g, 0.0)

    @_quiet
    def hardsigmoid(self, x):  # min(max(x + 3, 0), 6) / 6
        return self.div(self.clamp(self.add(x, 3), 0, 6), 6)

    @_quiet
    def hardsigmoid_backward(self, x, g):
        inside = self.compare("greater", x, -3) & self.compare("less", x, 3)
        return self.where(inside, self.mul(g, 1 / 6), 0.0)

    @_quiet
    def hardswish(self, x):  # x min(max(x + 3, 0), 6) / 6
        return self.div(self.mul(x, self.clamp(self.add(x, 3), 0, 6)), 6)

    @_quiet
    def hardswish_backward(self, x, g):  # g from 3 on, 0 to -3, g (x / 3 + 1/2) between (NaN)
        mid = self.mul(g, self.add(self.div(x, 3), 0.5))
        r = self.where(self.compare("greater_equal", x, 3), g, mid)
        return self.where(self.compare("less_equal", x, -3), 0.0, r)

    @_quiet
    def hardshrink(self, x, lambd):  # 0 on [-lambd, lambd] (NaN stays)
        inside = self.compare("greater_equal", x, -lambd) & self.compare("less_equal", x, lambd)
        return self.where(inside, 0.0, x)

    @_quiet
    def hardshrink_backward(self, x, g, lambd):  # g outside [-lambd, lambd] (NaN: 0)
        outside = self.compare("less", x, -lambd) | self.compare("greater", x, lambd)
        return self.where(outside, g, 0.0)

    softshrink_backward = hardshrink_backward

    @_quiet
    def softshrink(self, x, lambd):  # x -+ lambd outside, +0 inside (NaN stays)
        mid = self.where(self.compare("less", x, -lambd), self.add(x, lambd),
                         self.add(self.mul(x, 0), 0.0))
        return self.where(self.compare("greater", x, lambd), self.sub(x, lambd), mid)

    @_quiet
    def threshold(self, x, threshold, value):
        return self.where(self.compare("less_equal", x, threshold), value, x)

    @_quiet
    def threshold_backward(self, x, g, threshold, value):
        return self.where(self.compare("less_equal", x, threshold), 0.0, g)

    @_quiet
    def huber(self, d, delta, scale):  # m (|d| - m / 2) scale, m = min(|d|, delta)
        a = self.abs(d)
        m = self.clamp(a, 0, delta)
        return self._times(self.mul(m, self.sub(a, self.mul(m, 0.5))), scale)

    @_quiet
    def huber_backward(self, d, g, delta, scale):  # g clamp(d, -delta, delta) scale
        return self._times(self.mul(g, self.clamp(d, -delta, delta)), scale)

    @_quiet
    def softplus(self, x, beta, threshold):
        """log(1 + exp(beta x)) / beta as max(z, 0) + log1p(exp(-|z|)), x past threshold."""
        z = self.mul(x, beta) if beta != 1 else x
        soft = self.add(self.maximum(z, 0), self.log1p(self.exp(self.neg(self.abs(z)))))
        soft = self.div(soft, beta) if beta != 1 else soft
        return self.where(self.compare("greater", z, threshold), x, soft)

    @_quiet
    def softplus_backward(self, x, g, beta, threshold):
        z = self.mul(x, beta) if beta != 1 else x
        return self.where(self.compare("greater", z, threshold), g, self.mul(g, self.sigmoid(z)))

    @_quiet
    def logsigmoid(self, x):  # min(x, 0) - log1p(exp(-|x|))
        return self.sub(self.minimum(x, 0), self.log1p(self.exp(self.neg(self.abs(x)))))

    @_quiet
    def logsigmoid_backward(self, x, g):  # g sigmoid(-x)
        return self.mul(g, self.sigmoid(self.neg(x)))
