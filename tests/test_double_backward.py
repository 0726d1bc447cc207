"""Second-order gradients against PyTorch in float64, on every CPU device.

For each op: ``g = grad((f(x, *params) * w).sum(), (x, *params), create_graph=True)``, then
``grad((g * v).sum())`` with seeded weights w and v; the first- and second-order gradients must
match torch's. Also ``func.hessian`` and a WGAN-GP step on a tiny conv discriminator.
"""

from __future__ import annotations

import numpy as np
import pytest

import autodiff as ad

torch = pytest.importorskip("torch")
# torch.func.hessian's forward AD loads decompositions with torch.jit.script, which warns
pytestmark = pytest.mark.filterwarnings(
    "ignore:`torch.jit.script` is deprecated:DeprecationWarning"
)

RTOL = 1e-8


def rn(*shape, pos=False, seed=None):
    rng = np.random.default_rng(seed if seed is not None else 7 * len(shape) + sum(shape))
    a = rng.standard_normal(shape)
    return np.abs(a) + 0.5 if pos else a


IDX = np.array([2, 0, 1, 2, 1])
LBL = np.array([1, 0, 2])
MASK = rn(3, 4, seed=3) > 0
PROB = np.abs(rn(3, 4, seed=9))
PROB = PROB / PROB.sum(1, keepdims=True)
KPM = np.array([[False, False, True, False, True], [False] * 5])


def _lib(name):
    """(module, functional, const) for torch or autodiff on ``device``."""

    def const(device):
        if name == "torch":
            return lambda a: torch.tensor(a)
        return lambda a: ad.tensor(a, device=device)

    lib = torch if name == "torch" else ad
    return lib, lib.nn.functional, const


def _zeros_if_none(gs, ts):
    return [np.zeros(tuple(t.shape)) if g is None else g.detach().numpy() for g, t in zip(gs, ts)]


def second_order(name, fn, arrays, device):
    """First- and second-order gradients of ``fn`` (as NumPy arrays) in one library."""
    L, F, const = _lib(name)
    c = const(device)
    ts = [c(a).requires_grad_() for a in arrays]
    out = fn(L, F, c, *ts)
    outs = out if isinstance(out, (tuple, list)) else (out,)
    s = sum((o * c(rn(*o.shape, seed=11 + i))).sum() for i, o in enumerate(outs))
    g1 = L.autograd.grad(s, ts, create_graph=True, allow_unused=True)
    terms = [
        (g * c(rn(*g.shape, seed=21 + i))).sum()
        for i, g in enumerate(g1)
        if g is not None and g.requires_grad
    ]
    g2 = [None] * len(ts)
    if terms:
        g2 = L.autograd.grad(sum(terms), ts, allow_unused=True)
    return _zeros_if_none(g1, ts), _zeros_if_none(g2, ts)


def check(fn, arrays, device, rtol=RTOL, atol=1e-10):
    ours = second_order("ad", fn, arrays, device)
    theirs = second_order("torch", fn, arrays, "cpu")
    for order, (a_list, t_list) in enumerate(zip(ours, theirs), 1):
        for i, (a, t) in enumerate(zip(a_list, t_list)):
            np.testing.assert_allclose(
                a, t, rtol=rtol, atol=atol, err_msg=f"order {order}, input {i}"
            )


# name -> (fn(L, F, c, x, *params), arrays); fn is written once for both libraries
CASES = {
    # element-wise unary / binary math
    "exp_log": (lambda L, F, c, x, p: (x * p).exp() + (x * x + 1).log(), [rn(3, 4), rn(4)]),
    "sin_cos_tan": (lambda L, F, c, x, p: x.sin() * p.cos() + (x * 0.3).tan(), [rn(3, 4), rn(4)]),
    "sqrt_rsqrt": (lambda L, F, c, x, p: x.sqrt() * p + x.rsqrt(), [rn(3, 4, pos=True), rn(4)]),
    "pow_div": (lambda L, F, c, x, p: x**p / (x + p) + x**3, [rn(3, 4, pos=True), rn(4, pos=True)]),
    "abs_reciprocal": (
        lambda L, F, c, x, p: (x * p).abs() + (x + 3).reciprocal(),
        [rn(3, 4, pos=True), rn(4)],
    ),
    "max_min_clamp": (
        lambda L, F, c, x, p: L.maximum(x, p) * L.minimum(x * x, p) + (x * p).clamp(-0.5, 0.5) * x,
        [rn(3, 4), rn(4)],
    ),
    "erf_atan_expm1": (
        lambda L, F, c, x, p: L.erf(x * p) + L.atan(x) * L.expm1(p) + L.log1p(x * x),
        [rn(3, 4), rn(4)],
    ),
    # linear algebra
    "matmul": (lambda L, F, c, x, w: (x @ w) * (x @ w), [rn(3, 4), rn(4, 5)]),
    "linear": (lambda L, F, c, x, w, b: F.linear(x, w, b).tanh(), [rn(3, 4), rn(5, 4), rn(5)]),
    "bmm": (lambda L, F, c, x, w: L.bmm(x, w) ** 2, [rn(2, 3, 4), rn(2, 4, 2)]),
    "einsum": (
        lambda L, F, c, x, w: L.einsum("bij,jk,bik->bk", x, w, x * x),
        [rn(2, 3, 4), rn(4, 4)],
    ),
    # reductions
    "sum_mean_prod": (
        lambda L, F, c, x, p: (x * p).sum(0) ** 2 + x.mean(1, keepdim=True) * x.prod(0),
        [rn(3, 4), rn(4)],
    ),
    "norm": (
        lambda L, F, c, x, p: (x * p).norm(dim=1) + x.norm() * L.linalg.vector_norm(x, 3),
        [rn(3, 4), rn(4)],
    ),
    "var_std": (
        lambda L, F, c, x, p: ((x * p).var(1), x.std(0, unbiased=False) * x.var()),
        [rn(3, 4), rn(4)],
    ),
    "logsumexp": (
        lambda L, F, c, x, p: L.logsumexp(x * p, 1) * x.logsumexp(0).sum(),
        [rn(3, 4), rn(4)],
    ),
    "max_amax": (
        lambda L, F, c, x, p: ((x * p).max(1).values ** 2, (x * x).amax(0) + x.max() * x.min()),
        [rn(3, 4), rn(4)],
    ),
    "softmax": (
        lambda L, F, c, x, p: F.softmax(x * p, -1) * x + F.softmax(x, 0),
        [rn(3, 4), rn(4)],
    ),
    "log_softmax": (lambda L, F, c, x, p: F.log_softmax(x * p, -1) * x, [rn(3, 4), rn(4)]),
    # normalisation
    "layer_norm": (
        lambda L, F, c, x, w, b: F.layer_norm(x, (4,), w, b) * x,
        [rn(3, 4), rn(4), rn(4)],
    ),
    "batch_norm_train": (
        lambda L, F, c, x, w, b: F.batch_norm(x, None, None, w, b, training=True) * x,
        [rn(4, 3, 2), rn(3), rn(3)],
    ),
    "batch_norm_eval": (
        lambda L, F, c, x, w, b: (
            F.batch_norm(
                x, c(np.linspace(-1, 1, 3)), c(np.linspace(0.5, 2, 3)), w, b, training=False
            )
            * x
        ),
        [rn(4, 3, 2), rn(3), rn(3)],
    ),
    "group_norm": (
        lambda L, F, c, x, w, b: F.group_norm(x, 2, w, b) * x,
        [rn(2, 4, 3), rn(4), rn(4)],
    ),
    "instance_norm": (
        lambda L, F, c, x, w, b: F.instance_norm(x, weight=w, bias=b) * x,
        [rn(2, 3, 4), rn(3), rn(3)],
    ),
    # convolutions
    "conv1d": (
        lambda L, F, c, x, w, b: F.conv1d(x, w, b, stride=2, padding=1) ** 2,
        [rn(2, 2, 7), rn(3, 2, 3), rn(3)],
    ),
    "conv2d_groups_dilation": (
        lambda L, F, c, x, w, b: F.conv2d(x, w, b, stride=1, padding=2, dilation=2, groups=2) ** 2,
        [rn(1, 4, 5, 5), rn(2, 2, 3, 3), rn(2)],
    ),
    "conv2d_stride": (
        lambda L, F, c, x, w: F.conv2d(x, w, stride=2, padding=1).tanh(),
        [rn(2, 2, 5, 5), rn(3, 2, 3, 3)],
    ),
    "conv3d": (
        lambda L, F, c, x, w, b: F.conv3d(x, w, b, padding=1) ** 2,
        [rn(1, 2, 3, 3, 3), rn(2, 2, 2, 2, 2), rn(2)],
    ),
    "conv_transpose2d": (
        lambda L, F, c, x, w, b: (
            F.conv_transpose2d(x, w, b, stride=2, padding=1, output_padding=1, groups=2) ** 2
        ),
        [rn(1, 4, 3, 3), rn(4, 1, 3, 3), rn(2)],
    ),
    # pooling and resampling
    "max_pool2d": (
        lambda L, F, c, x, p: F.max_pool2d(x * p, 2, stride=1, padding=1) ** 2,
        [rn(1, 2, 4, 4), rn(4)],
    ),
    "avg_pool2d": (
        lambda L, F, c, x, p: F.avg_pool2d(x * p, 3, stride=2, padding=1) ** 2,
        [rn(1, 2, 5, 5), rn(5)],
    ),
    "adaptive_pools": (
        lambda L, F, c, x, p: (
            F.adaptive_avg_pool2d(x * p, 2) ** 2 + F.adaptive_max_pool2d(x * p, 2) ** 2
        ),
        [rn(1, 2, 5, 5), rn(5)],
    ),
    "max_pool1d": (
        lambda L, F, c, x, p: F.max_pool1d(x * p, 2) ** 2 + F.avg_pool1d(x * p, 2) ** 2,
        [rn(2, 2, 6), rn(6)],
    ),
    "interpolate_bilinear": (
        lambda L, F, c, x, p: (
            F.interpolate(x * p, scale_factor=2, mode="bilinear", align_corners=False) ** 2
        ),
        [rn(1, 2, 3, 3), rn(3)],
    ),
    "interpolate_nearest": (
        lambda L, F, c, x, p: F.interpolate(x * p, size=(5, 4), mode="nearest") ** 2,
        [rn(1, 2, 3, 3), rn(3)],
    ),
    "embedding": (lambda L, F, c, x, w: F.embedding(c(IDX), w) ** 2 * x, [rn(5, 4), rn(3, 4)]),
    "dropout_eval": (
        lambda L, F, c, x, p: F.dropout(x * p, 0.5, training=False) ** 2,
        [rn(3, 4), rn(4)],
    ),
    # activations
    "relu": (lambda L, F, c, x, p: F.relu(x * p) ** 2, [rn(3, 4), rn(4)]),
    "gelu": (lambda L, F, c, x, p: F.gelu(x * p) * x, [rn(3, 4), rn(4)]),
    "gelu_tanh": (lambda L, F, c, x, p: F.gelu(x * p, approximate="tanh") * x, [rn(3, 4), rn(4)]),
    "silu": (lambda L, F, c, x, p: F.silu(x * p) * x, [rn(3, 4), rn(4)]),
    "elu": (lambda L, F, c, x, p: F.elu(x * p, alpha=0.7) * x, [rn(3, 4), rn(4)]),
    "leaky_relu": (lambda L, F, c, x, p: F.leaky_relu(x * p, 0.1) ** 2, [rn(3, 4), rn(4)]),
    "softplus": (lambda L, F, c, x, p: F.softplus(x * p, beta=2.0) * x, [rn(3, 4), rn(4)]),
    "mish": (lambda L, F, c, x, p: F.mish(x * p) * x, [rn(3, 4), rn(4)]),
    "hardswish": (lambda L, F, c, x, p: F.hardswish(x * p * 2) * x, [rn(3, 4), rn(4)]),
    "tanh_sigmoid": (lambda L, F, c, x, p: L.tanh(x * p) * L.sigmoid(x), [rn(3, 4), rn(4)]),
    # losses
    "cross_entropy_ls": (
        lambda L, F, c, x, p: F.cross_entropy(x * p, c(LBL), label_smoothing=0.1),
        [rn(3, 4), rn(4)],
    ),
    "cross_entropy_weight": (
        lambda L, F, c, x, p: F.cross_entropy(x * p, c(LBL), weight=c(rn(4, pos=True))),
        [rn(3, 4), rn(4)],
    ),
    "mse": (lambda L, F, c, x, p: F.mse_loss(x * p, x.tanh()), [rn(3, 4), rn(4)]),
    "l1": (lambda L, F, c, x, p: F.l1_loss(x * p, x * x) * x.sum(), [rn(3, 4), rn(4)]),
    "smooth_l1": (
        lambda L, F, c, x, p: F.smooth_l1_loss(x * p, x.sin(), beta=0.5) * x.sum(),
        [rn(3, 4), rn(4)],
    ),
    "bce_with_logits": (
        lambda L, F, c, x, p: F.binary_cross_entropy_with_logits(
            x * p, c(MASK * 1.0), pos_weight=c(rn(4, pos=True))
        ),
        [rn(3, 4), rn(4)],
    ),
    "kl_div": (
        lambda L, F, c, x, p: F.kl_div(
            F.log_softmax(x * p, 1), F.softmax(x, 1), reduction="batchmean"
        ),
        [rn(3, 4), rn(4)],
    ),
    "nll": (lambda L, F, c, x, p: F.nll_loss(F.log_softmax(x * p, 1), c(LBL)), [rn(3, 4), rn(4)]),
    # attention
    "sdpa": (
        lambda L, F, c, q, k, v: F.scaled_dot_product_attention(q, k, v),
        [rn(2, 3, 4), rn(2, 5, 4), rn(2, 5, 4)],
    ),
    "sdpa_causal": (
        lambda L, F, c, q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=True),
        [rn(2, 4, 3), rn(2, 4, 3), rn(2, 4, 3)],
    ),
    # indexing and movement
    "index_gather": (
        lambda L, F, c, x, p: x[c(LBL)] * p + x.gather(1, c(IDX[:3, None] % 4)) * x[:, 1:2] ** 2,
        [rn(3, 4), rn(4)],
    ),
    "scatter": (
        lambda L, F, c, x, p: x.scatter(1, c(IDX[:3, None] % 4), p[:3, None] * x[:, :1]) ** 2,
        [rn(3, 4), rn(4)],
    ),
    "cat_stack": (
        lambda L, F, c, x, p: L.cat([x * p, x * x], 0) * L.stack([x, x], 0).sum(0).repeat(2, 1),
        [rn(3, 4), rn(4)],
    ),
    "where_masked_fill": (
        lambda L, F, c, x, p: L.where(c(MASK), x * p, x * x) * (x * p).masked_fill(c(~MASK), 2.0),
        [rn(3, 4), rn(4)],
    ),
    "pad": (
        lambda L, F, c, x, p: (
            F.pad(x * p, (1, 2), value=0.5) ** 2,
            F.pad(x * p, (1, 1), mode="reflect") ** 2,
        ),
        [rn(1, 3, 4), rn(4)],
    ),
    "cumsum_cumprod": (
        lambda L, F, c, x, p: (x * p).cumsum(1) ** 2 + (x * p).cumprod(1),
        [rn(3, 4), rn(4)],
    ),
    "sort_topk": (
        lambda L, F, c, x, p: ((x * p).sort(1).values ** 2, (x * p).topk(2, 1).values * x[:, :2]),
        [rn(3, 4), rn(4)],
    ),
    # more layers, losses and movement ops
    "conv_transpose1d": (
        lambda L, F, c, x, w, b: F.conv_transpose1d(x, w, b, stride=2, dilation=2) ** 2,
        [rn(1, 2, 4), rn(2, 3, 2), rn(3)],
    ),
    "conv_transpose3d": (
        lambda L, F, c, x, w: F.conv_transpose3d(x, w, stride=2, padding=1) ** 2,
        [rn(1, 2, 2, 2, 2), rn(2, 1, 3, 3, 3)],
    ),
    "conv_transpose2d_dil": (
        lambda L, F, c, x, w: F.conv_transpose2d(x, w, dilation=2) ** 2,
        [rn(1, 2, 3, 3), rn(2, 2, 2, 2)],
    ),
    "conv2d_valid_1x1": (
        lambda L, F, c, x, w: F.conv2d(x, w, padding="same") ** 2,
        [rn(1, 2, 3, 3), rn(2, 2, 3, 3)],
    ),
    "max_pool3d": (
        lambda L, F, c, x, p: F.max_pool3d(x * p, 2) ** 2 + F.avg_pool3d(x * p, 2) ** 2,
        [rn(1, 1, 4, 4, 4), rn(4)],
    ),
    "max_pool2d_dil_ceil": (
        lambda L, F, c, x, p: F.max_pool2d(x * p, 2, stride=2, dilation=2, ceil_mode=True) ** 2,
        [rn(1, 2, 6, 6), rn(6)],
    ),
    "avg_pool2d_nopad": (
        lambda L, F, c, x, p: (
            F.avg_pool2d(x * p, 3, 2, 1, ceil_mode=True, count_include_pad=False) ** 2
        ),
        [rn(1, 2, 6, 6), rn(6)],
    ),
    "adaptive_1d_3d": (
        lambda L, F, c, x, p: (
            F.adaptive_avg_pool1d(x * p, 3) ** 2,
            F.adaptive_max_pool1d(x * p, 2) ** 2,
        ),
        [rn(2, 2, 5), rn(5)],
    ),
    "adaptive_3d": (
        lambda L, F, c, x, p: (
            F.adaptive_avg_pool3d(x * p, 2) ** 2,
            F.adaptive_max_pool3d(x * p, 2) ** 2,
        ),
        [rn(1, 1, 3, 3, 3), rn(3)],
    ),
    "bilinear_ac": (
        lambda L, F, c, x, p: (
            F.interpolate(x * p, size=(4, 5), mode="bilinear", align_corners=True) ** 2
        ),
        [rn(1, 2, 3, 3), rn(3)],
    ),
    "linear_trilinear": (
        lambda L, F, c, x, p: F.interpolate(x * p, scale_factor=2, mode="linear") ** 2,
        [rn(1, 2, 3), rn(3)],
    ),
    "bicubic": (
        lambda L, F, c, x, p: F.interpolate(x * p, scale_factor=2, mode="bicubic") ** 2,
        [rn(1, 1, 3, 3), rn(3)],
    ),
    "embedding_pad": (
        lambda L, F, c, x, w: F.embedding(c(IDX), w, padding_idx=2) ** 2 * x,
        [rn(5, 4), rn(3, 4)],
    ),
    "ce_probs": (
        lambda L, F, c, x, p: F.cross_entropy(x * p, c(PROB), label_smoothing=0.2),
        [rn(3, 4), rn(4)],
    ),
    "ce_ignore": (
        lambda L, F, c, x, p: F.cross_entropy(x * p, c(np.array([1, -100, 2])), reduction="sum"),
        [rn(3, 4), rn(4)],
    ),
    "ce_4d": (
        lambda L, F, c, x, p: F.cross_entropy(x * p, c(np.array([[[1, 0], [2, 1]]]))),
        [rn(1, 3, 2, 2), rn(2)],
    ),
    "bce": (
        lambda L, F, c, x, p: F.binary_cross_entropy((x * p).sigmoid(), c(PROB)),
        [rn(3, 4), rn(4)],
    ),
    "huber_soft_margin": (
        lambda L, F, c, x, p: (
            F.huber_loss(x * p, x.cos(), delta=0.7)
            + F.soft_margin_loss(x * p, c(np.sign(PROB - 0.25)))
        ),
        [rn(3, 4), rn(4)],
    ),
    "kl_log_target": (
        lambda L, F, c, x, p: F.kl_div(
            F.log_softmax(x * p, 1), F.log_softmax(x, 1), reduction="sum", log_target=True
        ),
        [rn(3, 4), rn(4)],
    ),
    "more_acts": (
        lambda L, F, c, x, p: (
            F.selu(x * p),
            F.celu(x * p, 0.5) * x,
            F.logsigmoid(x * p) * x,
            F.softsign(x * p) * x,
            F.hardtanh(x * p) ** 2,
            F.relu6(x * p * 4) ** 2,
            F.tanhshrink(x * p),
            F.glu(x * p, 1) * x[:, :2],
        ),
        [rn(3, 4), rn(4)],
    ),
    "prelu": (lambda L, F, c, x, w: F.prelu(x, w) ** 2, [rn(2, 3, 4), rn(3)]),
    "normalize_cos": (
        lambda L, F, c, x, p: (
            F.normalize(x * p, dim=1),
            F.cosine_similarity(x, x * p + 1, dim=1),
            F.pairwise_distance(x, x * p),
        ),
        [rn(3, 4), rn(4)],
    ),
    "unfold_fold": (
        lambda L, F, c, x, p: F.fold(F.unfold(x * p, 2, padding=1) ** 2, (3, 3), 2, padding=1),
        [rn(1, 2, 3, 3), rn(3)],
    ),
    "layer_norm_noaffine": (lambda L, F, c, x: F.layer_norm(x, (3, 4)) * x, [rn(2, 3, 4)]),
    "group_norm_4d": (
        lambda L, F, c, x, w, b: F.group_norm(x, 3, w, b) * x,
        [rn(2, 6, 2, 2), rn(6), rn(6)],
    ),
    "batch_norm_running": (
        lambda L, F, c, x, w, b: (
            F.batch_norm(x, c(np.zeros(3)), c(np.ones(3)), w, b, training=True) * x
        ),
        [rn(4, 3, 2, 2), rn(3), rn(3)],
    ),
    "var_correction": (
        lambda L, F, c, x, p: (
            (x * p).var(dim=1, correction=0),
            (x * p).std(),
            L.var_mean(x * p, 0)[0] * x.sum(),
        ),
        [rn(3, 4), rn(4)],
    ),
    "min_median": (
        lambda L, F, c, x, p: (
            (x * p).min(1).values ** 2,
            (x * p).median(1).values ** 2,
            (x * p).kthvalue(2, 1).values ** 2,
            (x * p).amin(1) ** 2,
        ),
        [rn(3, 5), rn(5)],
    ),
    "movement": (
        lambda L, F, c, x, p: (
            (x * p).roll(1, 1) * x.flip(0),
            (x * p).transpose(0, 1) ** 2,
            (x * p).permute(1, 0).reshape(2, 6) ** 2,
            x.expand(2, 3, 4) * p,
            (x * p).narrow(1, 1, 2) ** 2,
            L.tril(x * p) ** 2,
        ),
        [rn(3, 4), rn(4)],
    ),
    "split_chunk": (
        lambda L, F, c, x, p: (
            *(t**2 for t in (x * p).chunk(2, 1)),
            *(t * t.sin() for t in (x * p).split([1, 2], 0)),
            *(x * p).unbind(1),
        ),
        [rn(3, 4), rn(4)],
    ),
    "index_ops": (
        lambda L, F, c, x, p: (
            (x * p).index_select(1, c(IDX[:3])) ** 2,
            L.take_along_dim(x * p, c(IDX[:3, None] % 4), 1) ** 2,
            (x * p).index_add(0, c(np.array([0, 2])), x[:2] * x[1:]) ** 2,
            (x * p).repeat_interleave(2, 0) ** 2,
            (x * p)[c(MASK)] ** 2,
        ),
        [rn(3, 4), rn(4)],
    ),
    "scatter_add_reduce": (
        lambda L, F, c, x, p: (
            (x * p).scatter_add(1, c(np.array([[0, 0], [1, 3], [2, 2]])), x[:, :2] ** 2) ** 2,
            (x * p).scatter_reduce(1, c(np.array([[0, 0], [1, 3], [2, 2]])), x[:, :2] ** 2, "sum")
            ** 2,
        ),
        [rn(3, 4), rn(4)],
    ),
    "linalg_mix": (
        lambda L, F, c, x, p: (
            L.mv(x, p) ** 2,
            L.outer(p, p * p),
            L.addmm(x, x, c(np.eye(4)) * p) ** 2,
            L.dot(p, p * p),
            L.baddbmm(x[None], x[None] * p, c(np.ones((1, 4, 4))) * p) ** 2,
        ),
        [rn(3, 4), rn(4)],
    ),
    "matmul_bcast": (lambda L, F, c, x, w: L.matmul(x, w) ** 2, [rn(2, 3, 4), rn(4)]),
    "sdpa_mask": (
        lambda L, F, c, q, k, v: (
            F.scaled_dot_product_attention(q, k, v, attn_mask=c(rn(3, 5, seed=4)), scale=0.7) ** 2
        ),
        [rn(2, 3, 4), rn(2, 5, 4), rn(2, 5, 4)],
    ),
    "sdpa_bool_mask": (
        lambda L, F, c, q, k, v: (
            F.scaled_dot_product_attention(q, k, v, attn_mask=c(rn(3, 5, seed=4) > -0.5)) ** 2
        ),
        [rn(2, 3, 4), rn(2, 5, 4), rn(2, 5, 4)],
    ),
    "dropout_variants_eval": (
        lambda L, F, c, x, p: (
            F.dropout2d(x * p, 0.5, training=False) ** 2
            + F.alpha_dropout(x * p, 0.3, training=False) ** 2
        ),
        [rn(2, 3, 4, 2), rn(2)],
    ),
    "clamp_tensor": (
        lambda L, F, c, x, p: (
            L.clamp(x * p, min=p * 0.1 - 0.5, max=p.abs() + 0.1) * x,
            L.where(x > 0, x.sqrt().nan_to_num(), x * p) ** 2,
        ),
        [rn(3, 4), rn(4)],
    ),
    "log_softmax_dims": (
        lambda L, F, c, x, p: (
            F.log_softmax(x * p, 0) * x,
            F.softmin(x * p, 1) * x,
            L.special.logit((x * p).sigmoid()) * x,
        ),
        [rn(3, 4), rn(4)],
    ),
    "logcumsumexp_cummax": (
        lambda L, F, c, x, p: (L.logcumsumexp(x * p, 1) * x, L.cummax(x * p, 1).values ** 2),
        [rn(3, 4), rn(4)],
    ),
    "pad_modes": (
        lambda L, F, c, x, p: (
            F.pad(x * p, (1, 2, 2, 1), mode="replicate") ** 2,
            F.pad(x * p, (2, 1, 1, 1), mode="circular") ** 2,
            F.pad(x * p, (1, 1, 1, 1), mode="reflect") ** 2,
        ),
        [rn(1, 2, 3, 4), rn(4)],
    ),
    "pixel_shuffle": (
        lambda L, F, c, x, p: F.pixel_shuffle(x * p, 2) ** 2,
        [rn(1, 4, 2, 2), rn(2)],
    ),
    "grid_sample": (
        lambda L, F, c, x, g: F.grid_sample(x, g.tanh(), align_corners=False) ** 2,
        [rn(1, 2, 3, 3), rn(1, 2, 2, 2)],
    ),
    "triplet_margin": (
        lambda L, F, c, x, p: (
            F.triplet_margin_loss(x, x * p, x.sin())
            + F.margin_ranking_loss(x[:, 0], x[:, 1] * p[0], c(np.array([1.0, -1, 1])))
            + F.cosine_embedding_loss(x, x * p, c(np.array([1.0, -1, 1])))
        ),
        [rn(3, 4), rn(4)],
    ),
    "poisson_gauss_nll": (
        lambda L, F, c, x, p: (
            F.poisson_nll_loss(x * p, c(PROB)) + F.gaussian_nll_loss(x * p, c(PROB), (x * x + 0.1))
        ),
        [rn(3, 4), rn(4)],
    ),
    "multilabel_margin": (
        lambda L, F, c, x, p: (
            F.multilabel_soft_margin_loss(x * p, c(MASK * 1.0))
            + F.hinge_embedding_loss(x * p, c(np.sign(PROB - 0.25)))
        ),
        [rn(3, 4), rn(4)],
    ),
    "rms_norm": (lambda L, F, c, x, w: F.rms_norm(x, (4,), w) * x, [rn(3, 4), rn(4)]),
    "local_response_norm": (
        lambda L, F, c, x, p: F.local_response_norm(x * p, 2) * x,
        [rn(1, 3, 2, 2), rn(2)],
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_double_backward_matches_torch(cpu_device, name):
    fn, arrays = CASES[name]
    check(fn, arrays, cpu_device)


MODULES = {  # name -> (factory(nn), inputs, call(module, const, *xs))
    "mha": (
        lambda nn: nn.MultiheadAttention(4, 2, batch_first=True),
        [rn(2, 3, 4), rn(2, 5, 4)],
        lambda m, c, q, kv: m(q, kv, kv, key_padding_mask=c(KPM)),
    ),
    "mha_kdim_vdim": (
        lambda nn: nn.MultiheadAttention(4, 2, kdim=3, vdim=2, bias=False),
        [rn(3, 2, 4), rn(5, 2, 3), rn(5, 2, 2)],
        lambda m, c, q, k, v: m(q, k, v, average_attn_weights=False),
    ),
    "lstm": (lambda nn: nn.LSTM(3, 2), [rn(3, 2, 3)], lambda m, c, x: m(x)),
    "lstm_2l_bi": (
        lambda nn: nn.LSTM(3, 2, num_layers=2, bidirectional=True),
        [rn(3, 2, 3), rn(4, 2, 2), rn(4, 2, 2)],
        lambda m, c, x, h, cc: m(x, (h, cc)),
    ),
    "gru": (
        lambda nn: nn.GRU(3, 2, num_layers=2, batch_first=True),
        [rn(2, 3, 3), rn(2, 2, 2)],
        lambda m, c, x, h: m(x, h),
    ),
    "rnn_relu": (lambda nn: nn.RNN(3, 2, nonlinearity="relu"), [rn(3, 2, 3)], lambda m, c, x: m(x)),
    "lstm_cell": (
        lambda nn: nn.LSTMCell(3, 2),
        [rn(2, 3), rn(2, 2), rn(2, 2)],
        lambda m, c, x, h, cc: m(x, (h, cc)),
    ),
    "gru_cell": (lambda nn: nn.GRUCell(3, 2), [rn(2, 3), rn(2, 2)], lambda m, c, x, h: m(x, h)),
    "batch_norm2d": (lambda nn: nn.BatchNorm2d(2), [rn(3, 2, 2, 2)], lambda m, c, x: m(x) * x),
}


def _flat(out) -> list:
    if isinstance(out, (tuple, list)):
        return [t for o in out for t in _flat(o)]
    return [] if out is None else [out]


@pytest.mark.parametrize("name", list(MODULES))
def test_module_double_backward_matches_torch(cpu_device, name):
    factory, inputs, call = MODULES[name]
    torch.manual_seed(0)
    theirs = factory(torch.nn).double()
    ours = factory(ad.nn).to(ad.float64).to(cpu_device)
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    names = [k for k, _ in theirs.named_parameters()]
    n = len(inputs)

    def fn(L, F, c, *ts):
        module = theirs if L is torch else ours

        def run(*xs, **kw):
            return L.func.functional_call(module, dict(zip(names, ts[n:])), xs, kw)

        return tuple(_flat(call(run, c, *ts[:n])))

    check(fn, inputs + [p.detach().numpy() for p in theirs.parameters()], cpu_device)


def test_hessian_matches_torch(cpu_device):
    def f(L, F):
        def g(x):
            return (F.softmax(x, 0) * x.sin()).sum() + L.logsumexp(x * x, 0) + F.gelu(x).prod()

        return g

    a = rn(5)
    ours = ad.func.hessian(f(ad, ad.nn.functional))(ad.tensor(a, device=cpu_device))
    theirs = torch.func.hessian(f(torch, torch.nn.functional))(torch.tensor(a))
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=RTOL, atol=1e-12)


def _wgan_gp_step(L, device):
    """One critic step with gradient penalty; returns the critic's parameter gradients."""
    F = L.nn.functional
    c = (lambda a: torch.tensor(a)) if L is torch else (lambda a: ad.tensor(a, device=device))
    w1, b1, w2 = (
        c(rn(3, 1, 3, 3, seed=1)).requires_grad_(),
        c(rn(3, seed=2)).requires_grad_(),
        c(rn(1, 3 * 2 * 2, seed=3)).requires_grad_(),
    )

    def critic(x):
        h = F.leaky_relu(F.conv2d(x, w1, b1, stride=2, padding=1), 0.2)
        h = F.avg_pool2d(h, 2)
        return F.linear(h.reshape(h.shape[0], -1), w2)

    real, fake, eps = (
        c(rn(2, 1, 8, 8, seed=4)),
        c(rn(2, 1, 8, 8, seed=5)),
        c(rn(2, 1, 1, 1, seed=6) ** 2),
    )
    xhat = (eps * real + (1 - eps) * fake).requires_grad_()
    (gx,) = L.autograd.grad(critic(xhat).sum(), xhat, create_graph=True)
    penalty = ((gx.reshape(2, -1).norm(dim=1) - 1) ** 2).mean()
    loss = critic(fake).mean() - critic(real).mean() + 10 * penalty
    loss.backward()
    return [p.grad.numpy() for p in (w1, b1, w2)]


def test_wgan_gp_step_matches_torch(cpu_device):
    for a, t in zip(_wgan_gp_step(ad, cpu_device), _wgan_gp_step(torch, "cpu")):
        np.testing.assert_allclose(a, t, rtol=RTOL, atol=1e-12)


HESSIAN_CASES = [
    "exp_log",
    "norm",
    "var_std",
    "logsumexp",
    "softmax",
    "layer_norm",
    "batch_norm_train",
    "group_norm",
    "conv2d_groups_dilation",
    "conv_transpose2d",
    "max_pool2d",
    "adaptive_pools",
    "interpolate_bilinear",
    "gelu_tanh",
    "mish",
    "cross_entropy_ls",
    "kl_div",
    "sdpa",
    "cumsum_cumprod",
    "sort_topk",
    "pad",
]


@pytest.mark.parametrize("name", HESSIAN_CASES)
def test_case_hessian_matches_torch(cpu_device, name):
    """func.hessian (forward over reverse) of the weighted sum, in x with the params fixed."""
    fn, arrays = CASES[name]
    result = []
    for lib, device in (("ad", cpu_device), ("torch", "cpu")):
        L, F, const = _lib(lib)
        c = const(device)
        params = [c(a) for a in arrays[1:]]

        def f(x, L=L, F=F, c=c, params=params):
            out = fn(L, F, c, x, *params)
            outs = out if isinstance(out, (tuple, list)) else (out,)
            return sum((o * c(rn(*o.shape, seed=11 + i))).sum() for i, o in enumerate(outs))

        result.append(L.func.hessian(f)(c(arrays[0])).detach().numpy())
    np.testing.assert_allclose(*result, rtol=RTOL, atol=1e-10)


def _third_order_and_maml(L, device):
    F = L.nn.functional
    c = (lambda a: torch.tensor(a)) if L is torch else (lambda a: ad.tensor(a, device=device))
    x, w = c(rn(3, 4, seed=1)).requires_grad_(), c(rn(4, 4, seed=2)).requires_grad_()
    (F.gelu(x @ w).softmax(-1) * x).sum().backward(create_graph=True)  # .grad keeps a graph
    (g2,) = L.autograd.grad((x.grad**2).sum(), w, create_graph=True)
    (g3,) = L.autograd.grad((g2 * g2.sin()).sum(), x)
    jj = L.func.jacrev(L.func.jacrev(lambda v: (F.layer_norm(v, (4,)) * v.tanh()).sum()))(x[0])
    lin = L.nn.Linear(4, 2).double()  # MAML: one inner SGD step, outer loss through it
    lin.to(device) if L is ad else None
    with L.no_grad():
        lin.weight.copy_(c(rn(2, 4, seed=3)))
        lin.bias.copy_(c(rn(2, seed=4)))
    params = dict(lin.named_parameters())
    inner = F.mse_loss(L.func.functional_call(lin, params, (x.detach(),)), c(rn(3, 2, seed=5)))
    grads = L.autograd.grad(inner, list(params.values()), create_graph=True)
    fast = {k: p - 0.1 * g for (k, p), g in zip(params.items(), grads)}
    out = L.func.functional_call(lin, fast, (x.detach().sin(),))
    F.cross_entropy(out, c(np.array([0, 1, 1]))).backward()
    return [t.detach().numpy() for t in (x.grad, g2, g3, jj, lin.weight.grad, lin.bias.grad)]


# torch warns that .backward(create_graph=True) makes a reference cycle: the oracle's warning
@pytest.mark.filterwarnings("ignore:Using backward\\(\\) with create_graph=True:UserWarning")
def test_third_order_jacrev_jacrev_and_maml_match_torch(cpu_device):
    for a, t in zip(_third_order_and_maml(ad, cpu_device), _third_order_and_maml(torch, "cpu")):
        np.testing.assert_allclose(a, t, rtol=RTOL, atol=1e-12)
