"""Neural-network primitives with fused kernels: softmax family and layer norm.

Each is a primitive (not a composite) for numerical stability and because the backends
have fused kernels for it. Backward uses the fused backward kernel; under create_graph it is
written with differentiable ops instead, so higher-order gradients stay exact.
"""

from __future__ import annotations

from ..autograd.grad_mode import state
from ..autograd.node import Op
from ..errors import ShapeError
from ._util import constant, float_operand, norm_dim


class Softmax(Op):
    """y = exp(x) / sum(exp(x)); dx = y * (dy - sum(dy * y))."""

    def forward(self, x, dim):
        self.dim = dim
        return self.save_output(self.backend.softmax(x._data, dim) if x._data.size else x._data * 1)

    def backward(self, g):
        y = self.output()
        if state.enabled:  # create_graph: differentiable formula
            return (y * (g - (g * y).sum(self.dim, keepdim=True)),)
        return (constant(self.backend.softmax_backward(y._data, g._data, self.dim), g._dev),)


class LogSoftmax(Op):
    """y = x - logsumexp(x); dx = dy - exp(y) * sum(dy)."""

    def forward(self, x, dim):
        self.dim = dim
        return self.save_output(self.backend.log_softmax(x._data, dim) if x._data.size else x._data * 1)

    def backward(self, g):
        y = self.output()
        if state.enabled:
            return (g - y.exp() * g.sum(self.dim, keepdim=True),)
        return (constant(self.backend.log_softmax_backward(y._data, g._data, self.dim),
                         g._dev),)


def softmax(input, dim=None, dtype=None):
    if dtype is not None:
        input = input.to(dtype)
    input = float_operand(input)
    if input.ndim == 0:
        return Softmax.apply(input.reshape(1), dim=0).reshape(())
    return Softmax.apply(input, dim=norm_dim(-1 if dim is None else dim, input.ndim))


def log_softmax(input, dim=None, dtype=None):
    if dtype is not None:
        input = input.to(dtype)
    input = float_operand(input)
    if input.ndim == 0:
        return LogSoftmax.apply(input.reshape(1), dim=0).reshape(())
    return LogSoftmax.apply(input, dim=norm_dim(-1 if dim is None else dim, input.ndim))


class LayerNorm(Op):
    """y = (x - mean) * rstd * w + b over the last dims;
    dx = rstd * (dxh - mean(dxh) - xh * mean(dxh * xh)) with xh the normalized x, dxh = dy*w."""

    def forward(self, x, weight, bias, n_dims, eps):
        self.saved = (x, weight, bias)
        self.meta = (n_dims, eps)
        y, self.mean, self.rstd = self.backend.layer_norm(
            x._data, None if weight is None else weight._data,
            None if bias is None else bias._data, n_dims, eps)
        return y

    def backward(self, g):
        x, w, b = self.saved
        n_dims, eps = self.meta
        if state.enabled:
            return _layer_norm_composite_grads(self, g, x, w, b, n_dims, eps)
        gx, gw, gb = self.backend.layer_norm_backward(
            g._data, x._data, self.mean, self.rstd, None if w is None else w._data, n_dims)
        if gb is None and b is not None:  # the kernels give the bias grad only with a weight
            gb = self.backend.sum(g._data, tuple(range(x.ndim - n_dims)), False)
        dev = g._dev
        return (constant(gx, dev), None if gw is None else constant(gw, dev),
                None if gb is None else constant(gb, dev))


def _layer_norm_composite_grads(op, g, x, w, b, n_dims, eps):
    dims = tuple(range(x.ndim - n_dims, x.ndim))
    batch = tuple(range(x.ndim - n_dims))
    mean = x.mean(dims, keepdim=True)
    xc = x - mean
    rstd = ((xc * xc).mean(dims, keepdim=True) + eps).rsqrt()
    xh = xc * rstd
    gxh = g * w if w is not None else g
    gx = rstd * (gxh - gxh.mean(dims, keepdim=True) - xh * (gxh * xh).mean(dims, keepdim=True))
    gw = (g * xh).sum(batch) if w is not None and op.next[1] is not None else None
    gb = g.sum(batch) if b is not None and op.next[2] is not None else None
    return gx, gw, gb


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5, cudnn_enable=True):
    x = input
    if isinstance(normalized_shape, int):
        normalized_shape = (normalized_shape,)
    normalized_shape = tuple(normalized_shape)
    n = len(normalized_shape)
    if tuple(x.shape[x.ndim - n:]) != normalized_shape or n > x.ndim:
        raise ShapeError(f"layer_norm: input of shape {tuple(x.shape)} does not end with "
                         f"normalized_shape {normalized_shape}")
    for name, p in (("weight", weight), ("bias", bias)):
        if p is not None and tuple(p.shape) != normalized_shape:
            raise ShapeError(f"layer_norm: {name} has shape {tuple(p.shape)}, expected "
                             f"{normalized_shape}")
    x = float_operand(x)
    return LayerNorm.apply(x, weight, bias, n_dims=n, eps=float(eps))


class CrossEntropy(Op):
    """loss_r = logsumexp(x_r) - x_r[t_r] (0 where t_r == ignore_index), then reduced;
    dx_r = dloss_r * (softmax(x_r) - onehot(t_r)). One node for log_softmax + NLL, the
    classifier loss of almost every training step (a composite took 13 nodes)."""

    def forward(self, x, target, ignore_index, reduction):
        b = self.backend
        loss, stats = b.cross_entropy(x._data, target._data, ignore_index)
        self.saved = (x,)
        self.meta = (target._data, stats, ignore_index, reduction)
        if reduction == "none":
            return loss
        total = b.sum(loss, None, False)
        if reduction == "sum":
            return b.asarray(total)
        count = b.sum(target._data != ignore_index, None, False)
        if b.is_cpu and count:  # a host scalar: skip two backend calls (~15 us of a ~1 ms step)
            self.count = int(count)
            return b.asarray(total / x._data.dtype.type(self.count))
        self.count = count
        return b.div(b.asarray(total), b.asarray(count, x._data.dtype))

    def backward(self, g):
        (x,) = self.saved
        t, stats, ignore_index, reduction = self.meta
        if reduction == "mean" and (state.enabled or type(self.count) is not int):
            g = g / self.count
        if state.enabled:  # create_graph: the same formula with differentiable ops
            valid = constant(t != ignore_index, x._dev)
            onehot = constant(self.backend.xp.arange(x.shape[1]) == t[:, None], x._dev)
            rows = g.expand(x.shape[0]) if g.ndim == 0 else g
            return ((softmax(x, 1) - onehot.to(x.dtype)) * (rows * valid.to(x.dtype))[:, None],
                    None)
        gd = g._data
        if reduction == "mean" and type(self.count) is int:
            gd = gd / gd.dtype.type(self.count)
        gx = self.backend.cross_entropy_backward(x._data, t, stats, gd, ignore_index)
        return constant(gx, x._dev), None


def cross_entropy(x, target, ignore_index=-100, reduction="mean"):
    """Fused cross-entropy of (N, C) logits against (N,) class indices (no weights, no label
    smoothing; nn.functional.cross_entropy handles the general case)."""
    return CrossEntropy.apply(float_operand(x), target, ignore_index=ignore_index,
                              reduction=reduction)


class NllLoss(Op):
    """loss_r = -x_r[t_r] (0 where t_r == ignore_index), then reduced ('mean' over the rows not
    ignored: NaN when all are); dx = -g at (r, t_r) (/ count for 'mean'). One node for (N, C)
    input where the composite took four (gather, squeeze, mean, neg: 21 us against PyTorch's
    2 on (64, 128)); the class indices are checked first."""

    def forward(self, x, target, ignore_index, reduction):
        b, xd, t = self.backend, x._data, target._data
        xp, (n, c) = b.xp, xd.shape
        valid = None  # None: no row ignored
        if b.any_outside(t, 0, c):
            if b.any_outside(t, 0, c, ignore_index):
                raise IndexError(f"nll_loss: target values must be in [0, {c}) or ignore_index "
                                 f"{ignore_index}")
            valid = t != ignore_index
        elif 0 <= ignore_index < c:
            valid = t != ignore_index
        rows = xp.arange(n)
        self.meta = (xd.shape, rows, t if valid is None else xp.where(valid, t, 0), valid,
                     reduction)
        loss = -xd[rows, self.meta[2]]
        if valid is not None:
            loss = xp.where(valid, loss, xd.dtype.type(0))
        if reduction == "none":
            return loss
        total = loss.sum()
        if reduction == "sum":
            return xp.asarray(total)
        self.count = n if valid is None else int(valid.sum())
        return xp.asarray(total / xd.dtype.type(self.count) if self.count else xd.dtype.type(
            float("nan")))

    def backward(self, g):
        shape, rows, safe, valid, reduction = self.meta
        if state.enabled:  # create_graph: dx is linear in g
            onehot = constant(self.backend.xp.arange(shape[1]) == safe[:, None], g._dev)
            rows_g = g.expand(shape[0]) if g.ndim == 0 else g
            if valid is not None:
                rows_g = rows_g * constant(valid, g._dev).to(g.dtype)
            if reduction == "mean" and self.count:
                rows_g = rows_g / self.count
            return -onehot.to(g.dtype) * rows_g[:, None], None
        xp, gd = self.backend.xp, g._data
        if reduction == "mean" and self.count:
            gd = gd / gd.dtype.type(self.count)
        gx = xp.zeros(shape, gd.dtype)
        vals = -gd if valid is None else xp.where(valid, -gd, gd.dtype.type(0))
        gx[rows, safe] = vals
        return constant(gx, g._dev), None
