"""The activations and losses of nn.functional/_activation.py, _loss_extra.py and _distance.py
against PyTorch: values, output shapes and dtypes, and the gradients of every float input
(boundaries and zeros included), on every device in float64 and float32; a float64 gradcheck
and gradgradcheck of a representative subset; their errors."""

from __future__ import annotations

import math

import numpy as np
import pytest

import autodiff as ad
import autodiff.nn.functional as F

R = np.random.default_rng(0)
X = R.uniform(-2, 2, (4, 5))
X2 = R.uniform(-2, 2, (4, 5))
X3 = R.uniform(-2, 2, (4, 5))
X4 = R.uniform(-2, 2, (2, 3, 2, 2))
V = R.uniform(-2, 2, (5,))
# the branch points of the piecewise activations: +-3 (hard*), +-0.5 (shrink), 0, 1
EDGE = np.array([-4.0, -3.0, -2.5, -1.0, -0.5, -0.25, 0.0, 0.25, 0.5, 1.0, 2.5, 3.0, 4.0])
SIGNS = np.array([1.0, -1.0, -1.0, 1.0])
SIGNS6 = np.array([1.0, -1.0, 1.0, -1.0, 1.0, -1.0])
HINGE_T = np.array([[1.0, -1.0, 1.0, -1.0, 1.0], [-1.0, 1.0, 0.0, -1.0, 1.0]])
COS_T = np.array([1.0, -1.0, 0.0, -1.0])
BITS = (R.random((4, 5)) > 0.5).astype(np.float64)
COUNTS = np.array([[0.0, 0.5, 1.0, 2.0, 5.0], [3.0, 0.0, 1.5, 7.0, 1.0]])
IDX = np.array([0, 4, 2, 2])
W5 = np.array([0.5, 1.0, 2.0, 0.1, 3.0])
# rows 0 and 2 equal: a zero distance in pdist (PyTorch's gradient there is 0)
ROWS = np.array([[0.5, -1.0, 2.0], [1.5, 0.3, -0.7], [0.5, -1.0, 2.0], [-2.0, 1.0, 0.25]])
# class 0 is the target and x_1 = x_0 - margin: a hinge exactly at 0 (PyTorch: no gradient)
MM_TIE = np.array([[1.0, 0.0, 0.5, -1.0], [0.2, 0.9, -0.3, 0.4]])
MM_TIE_T = np.array([0, 3])


class Const:
    """An input array that gets no gradient (e.g. a target PyTorch differentiates as NaN)."""

    def __init__(self, a):
        self.a = np.asarray(a)


def _reductions(name, fn, *arrays):
    return [(f"{name}_{r}", (lambda r: lambda m, F, *t: fn(m, F, *t, reduction=r))(r), *arrays)
            for r in ("none", "mean", "sum")]


# (id, fn(module, functional namespace, *tensors), arrays)
ACTIVATIONS = [
    ("celu", lambda m, F, a: F.celu(a), EDGE),
    ("celu_alpha", lambda m, F, a: F.celu(a, alpha=0.5), X),
    ("celu_alpha_big", lambda m, F, a: F.celu(a, 3.0), EDGE * 4),
    ("selu", lambda m, F, a: F.selu(a), EDGE),
    ("selu_4d", lambda m, F, a: F.selu(a), X4),
    ("glu", lambda m, F, a: F.glu(a), R.uniform(-2, 2, (2, 3, 4))),
    ("glu_dim1", lambda m, F, a: F.glu(a, 1), R.uniform(-2, 2, (2, 4, 3))),
    ("glu_dim0", lambda m, F, a: F.glu(a, dim=0), X),
    ("hardswish", lambda m, F, a: F.hardswish(a), EDGE),
    ("hardswish_rand", lambda m, F, a: F.hardswish(a * 2), X),
    ("hardsigmoid", lambda m, F, a: F.hardsigmoid(a), EDGE),
    ("hardsigmoid_rand", lambda m, F, a: F.hardsigmoid(a * 2), X),
    ("softsign", lambda m, F, a: F.softsign(a), EDGE),
    ("hardshrink", lambda m, F, a: F.hardshrink(a), EDGE),
    ("hardshrink_lambd", lambda m, F, a: F.hardshrink(a, 1.0), EDGE),
    ("hardshrink_neg_lambd", lambda m, F, a: F.hardshrink(a, lambd=-0.5), EDGE),
    ("softshrink", lambda m, F, a: F.softshrink(a), EDGE),
    ("softshrink_lambd", lambda m, F, a: F.softshrink(a, 2.5), EDGE),
    ("softshrink_zero", lambda m, F, a: F.softshrink(a, 0.0), EDGE),
    ("tanhshrink", lambda m, F, a: F.tanhshrink(a), EDGE),
    ("threshold", lambda m, F, a: F.threshold(a, 1.0, -7.0), EDGE),
    ("threshold_zero", lambda m, F, a: F.threshold(a, 0.0, 0.0), EDGE),
    ("rrelu_eval", lambda m, F, a: F.rrelu(a), EDGE),
    ("rrelu_eval_bounds", lambda m, F, a: F.rrelu(a, 0.1, 0.9, training=False), X),
    ("prelu_shared", lambda m, F, a, w: F.prelu(a, w), X4, np.array([0.25])),
    ("prelu_channels", lambda m, F, a, w: F.prelu(a, w), X4, np.array([0.1, -0.5, 2.0])),
    ("prelu_2d", lambda m, F, a, w: F.prelu(a, w), X, W5),
    ("prelu_0d_weight", lambda m, F, a, w: F.prelu(a, w), V, np.array(0.3)),
    ("prelu_0d_input", lambda m, F, a, w: F.prelu(a, w), np.array(-2.0), np.array([0.5])),
    ("prelu_edge", lambda m, F, a, w: F.prelu(a, w), EDGE, np.array([0.2])),
    ("softmin", lambda m, F, a: F.softmin(a, 1), X),
    ("softmin_dim0_dtype", lambda m, F, a: F.softmin(a, 0, dtype=m.float64), X),
    ("relu6", lambda m, F, a: F.relu6(a * 4), X),
]

LOSSES = [
    *_reductions("margin_ranking", lambda m, F, a, b, y, **k: F.margin_ranking_loss(a, b, y, **k),
                 R.uniform(-1, 1, 6), R.uniform(-1, 1, 6), SIGNS6),
    ("margin_ranking_margin", lambda m, F, a, b, y: F.margin_ranking_loss(a, b, y, margin=0.5),
     R.uniform(-1, 1, 6), R.uniform(-1, 1, 6), SIGNS6),
    # equal inputs and margin 0: every loss sits at the clamp (PyTorch passes the gradient)
    ("margin_ranking_tie", lambda m, F, a, b, y: F.margin_ranking_loss(a, b * 1, y), V, V, V),
    ("margin_ranking_bcast", lambda m, F, a, b, y: F.margin_ranking_loss(a, b, y,
                                                                         reduction="none"),
     R.uniform(-1, 1, (3, 1)), R.uniform(-1, 1, (1, 4)), Const(np.ones((3, 4)))),
    ("margin_ranking_legacy", lambda m, F, a, b, y: F.margin_ranking_loss(
        a, b, y, size_average=False), V, V[::-1].copy(), V),
    *_reductions("hinge", lambda m, F, a, t, **k: F.hinge_embedding_loss(a, t, **k),
                 R.uniform(-2, 2, (2, 5)), HINGE_T),
    ("hinge_margin", lambda m, F, a, t: F.hinge_embedding_loss(a, t, margin=0.5),
     R.uniform(-2, 2, (2, 5)), HINGE_T),
    ("hinge_bcast", lambda m, F, a, t: F.hinge_embedding_loss(a, t, reduction="none"),
     V, Const([[1.0], [-1.0]])),
    ("hinge_at_margin", lambda m, F, a, t: F.hinge_embedding_loss(a, t, reduction="sum"),
     np.array([1.0, 0.0, -1.0, 2.0]), np.array([-1.0, -1.0, 1.0, -1.0])),
    *_reductions("cosine_emb", lambda m, F, a, b, y, **k: F.cosine_embedding_loss(a, b, y, **k),
                 X, X2, COS_T),
    ("cosine_emb_margin", lambda m, F, a, b, y: F.cosine_embedding_loss(a, b, y, margin=0.2),
     X, X2, COS_T),
    ("cosine_emb_1d", lambda m, F, a, b, y: F.cosine_embedding_loss(a, b, y, reduction="none"),
     V, V[::-1].copy(), np.array(-1.0)),
    ("cosine_emb_bcast", lambda m, F, a, b, y: F.cosine_embedding_loss(a, b, y, -0.5,
                                                                       reduction="none"),
     X, X2[:1], Const(np.array([1, -1, -1, 1]))),
    ("cosine_emb_zero_vec", lambda m, F, a, b, y: F.cosine_embedding_loss(a, b, y),
     np.vstack([X[:3], np.zeros((1, 5))]), X2, SIGNS),
    *_reductions("triplet", lambda m, F, a, p, n, **k: F.triplet_margin_loss(a, p, n, **k),
                 X, X2, X3),
    ("triplet_p1_swap", lambda m, F, a, p, n: F.triplet_margin_loss(a, p, n, p=1, swap=True),
     X, X2, X3),
    ("triplet_p3", lambda m, F, a, p, n: F.triplet_margin_loss(a, p, n, margin=2.0, p=3),
     X, X2, X3),
    ("triplet_pinf_eps", lambda m, F, a, p, n: F.triplet_margin_loss(a, p, n, p=math.inf,
                                                                     eps=0.1, swap=True),
     X, X2, X3),
    ("triplet_swap_legacy", lambda m, F, a, p, n: F.triplet_margin_loss(
        a, p, n, margin=0.5, swap=True, reduce=False), X, X3, X2 * 0.1),
    ("triplet_1d", lambda m, F, a, p, n: F.triplet_margin_loss(a, p, n, reduction="none"),
     V, V * 0.5, V[::-1].copy()),
    *_reductions("poisson", lambda m, F, a, t, **k: F.poisson_nll_loss(a, t, **k), X[:2], COUNTS),
    ("poisson_full", lambda m, F, a, t: F.poisson_nll_loss(a, t, full=True, reduction="none"),
     X[:2], Const(COUNTS)),
    ("poisson_rate", lambda m, F, a, t: F.poisson_nll_loss(a.abs() + 0.1, t, log_input=False),
     X[:2], COUNTS),
    ("poisson_rate_full_eps", lambda m, F, a, t: F.poisson_nll_loss(
        a.abs(), t, log_input=False, full=True, eps=0.5, reduction="sum"), X[:2], Const(COUNTS)),
    ("poisson_bcast", lambda m, F, a, t: F.poisson_nll_loss(a, t, reduction="none"),
     X, V.clip(0, None)),
    *_reductions("gaussian", lambda m, F, a, t, v, **k: F.gaussian_nll_loss(a, t, v, **k),
                 X, X2, np.abs(X3) + 0.1),
    ("gaussian_full", lambda m, F, a, t, v: F.gaussian_nll_loss(a, t, v, full=True), X, X2,
     np.abs(X3) + 0.1),
    # var below eps (zeros too): clamped to eps, the gradient passing through unchanged
    ("gaussian_eps_clamp", lambda m, F, a, t, v: F.gaussian_nll_loss(a, t, v, eps=0.05,
                                                                     reduction="none"),
     X[:2], X2[:2], np.array([[0.0, 0.01, 0.05, 0.2, 1.0], [0.049, 0.051, 3.0, 0.0, 0.5]])),
    ("gaussian_homo_short", lambda m, F, a, t, v: F.gaussian_nll_loss(a, t, v, reduction="none"),
     X, X2, np.abs(V[:4]) + 0.1),
    ("gaussian_homo_col", lambda m, F, a, t, v: F.gaussian_nll_loss(a, t, v, reduction="sum"),
     X, X2, np.abs(V[:4, None]) + 0.1),
    ("gaussian_row", lambda m, F, a, t, v: F.gaussian_nll_loss(a, t, v), X4, X4[::-1].copy(),
     np.abs(X4[:1]) + 0.2),
    ("gaussian_float_var", lambda m, F, a, t: F.gaussian_nll_loss(a, t, 0.7), X, X2),
    *_reductions("soft_margin", lambda m, F, a, t, **k: F.soft_margin_loss(a, t, **k),
                 X, Const(np.sign(X2))),
    ("soft_margin_zeros", lambda m, F, a, t: F.soft_margin_loss(a * 0, t), X, Const(np.sign(X2))),
    ("soft_margin_big", lambda m, F, a, t: F.soft_margin_loss(a * 20, t, reduction="none"),
     X, Const(np.sign(X2))),
    ("soft_margin_bcast", lambda m, F, a, t: F.soft_margin_loss(a, t, reduce=False), X,
     Const(np.sign(V))),
    *_reductions("multilabel_sm", lambda m, F, a, t, **k: F.multilabel_soft_margin_loss(a, t,
                                                                                        **k),
                 X, BITS),
    ("multilabel_sm_weight", lambda m, F, a, t, w: F.multilabel_soft_margin_loss(a, t, w),
     X, BITS, W5),
    ("multilabel_sm_zeros", lambda m, F, a, t: F.multilabel_soft_margin_loss(
        a * 0, t, reduction="none"), X, BITS),
    ("multilabel_sm_1d", lambda m, F, a, t: F.multilabel_soft_margin_loss(a, t, reduction="none"),
     V, BITS[0]),
    ("multilabel_sm_3d", lambda m, F, a, t: F.multilabel_soft_margin_loss(a, t, reduction="none"),
     X4, (X4 > 0).astype(np.float64)),
    *_reductions("multi_margin", lambda m, F, a, t, **k: F.multi_margin_loss(a, t, **k),
                 X, IDX),
    ("multi_margin_p2", lambda m, F, a, t: F.multi_margin_loss(a, t, p=2, margin=0.5), X, IDX),
    ("multi_margin_weight", lambda m, F, a, t, w: F.multi_margin_loss(a, t, weight=w,
                                                                      reduction="none"),
     X, IDX, Const(W5)),
    ("multi_margin_p2_weight_sum", lambda m, F, a, t, w: F.multi_margin_loss(
        a, t, 2, 1.5, w, reduction="sum"), X, IDX, Const(W5)),
    ("multi_margin_tie", lambda m, F, a, t: F.multi_margin_loss(a, t, reduction="none"),
     MM_TIE, MM_TIE_T),
    ("multi_margin_1d", lambda m, F, a, t: F.multi_margin_loss(a, t, reduction="none"),
     V, np.array([3])),
    ("multi_margin_1d_0d_target", lambda m, F, a, t: F.multi_margin_loss(a, t, reduction="none"),
     V, np.array(1)),
    ("multi_margin_legacy", lambda m, F, a, t: F.multi_margin_loss(a, t, size_average=False),
     X, IDX),
]

DISTANCES = [
    ("pairwise", lambda m, F, a, b: F.pairwise_distance(a, b), X, X2),
    ("pairwise_p1", lambda m, F, a, b: F.pairwise_distance(a, b, p=1.0), X, X2),
    ("pairwise_p3_keepdim", lambda m, F, a, b: F.pairwise_distance(a, b, 3, keepdim=True),
     X, X2),
    ("pairwise_pinf", lambda m, F, a, b: F.pairwise_distance(a, b, p=math.inf), X, X2),
    ("pairwise_p0", lambda m, F, a, b: F.pairwise_distance(a, b, p=0, eps=0.0), X,
     np.where(R.random((4, 5)) > 0.5, X, X2)),
    ("pairwise_bcast", lambda m, F, a, b: F.pairwise_distance(a, b, eps=0.0), V, X2),
    ("pairwise_1d", lambda m, F, a, b: F.pairwise_distance(a, b, 1.5), V, V[::-1].copy()),
    ("pairwise_0d", lambda m, F, a, b: F.pairwise_distance(a, b), np.array(1.0),
     np.array(3.5)),
    ("pairwise_equal_eps0", lambda m, F, a, b: F.pairwise_distance(a, b * 1, eps=0.0), X, X),
    ("pdist", lambda m, F, a: F.pdist(a), ROWS),
    ("pdist_p1", lambda m, F, a: F.pdist(a, 1), ROWS),
    ("pdist_p3", lambda m, F, a: F.pdist(a, p=3), ROWS),
    ("pdist_p_half", lambda m, F, a: F.pdist(a, p=0.5), X),
    ("pdist_pinf", lambda m, F, a: F.pdist(a, p=math.inf), X),
    ("pdist_p0", lambda m, F, a: F.pdist(a, p=0), ROWS),
    ("pdist_one_row", lambda m, F, a: F.pdist(a), X[:1]),
    ("cosine_similarity", lambda m, F, a, b: F.cosine_similarity(a, b), X, X2),
    ("cosine_similarity_dim0", lambda m, F, a, b: F.cosine_similarity(a, b, 0, 1e-6), X, X2),
    # broadcast along the reduced dim (a size-1 dim counts once per copy, as PyTorch)
    ("cosine_similarity_bcast", lambda m, F, a, b: F.cosine_similarity(a, b), X[:, :1], X2),
    ("cosine_similarity_tiny_norm", lambda m, F, a, b: F.cosine_similarity(a * 1e-10, b * 100),
     X, X2),
    ("cosine_similarity_zero", lambda m, F, a, b: F.cosine_similarity(a * 0, b, -1), X, X2),
]

CASES = ACTIVATIONS + LOSSES + DISTANCES
# p < 1 on zero differences: PyTorch's derivative of |d|^p there is inf * 0; ours is 0 as well
NO_GRAD_COMPARE: set[str] = set()
LEGACY_WARNING = "ignore:size_average and reduce args will be deprecated"


def _tensors(m, arrays, device, dtype):
    out = []
    for a in arrays:
        const = isinstance(a, Const)
        a = a.a if const else np.asarray(a)
        if a.dtype.kind == "f":
            a = a.astype(dtype)
        rg = a.dtype.kind == "f" and not const
        out.append(ad.tensor(a, device=device, requires_grad=rg) if m is ad
                   else m.tensor(a, requires_grad=rg))
    return out


def _check(name, fn, arrays, device, torch, dtype):
    import torch.nn.functional as TF

    tol = 1e-6 if dtype == np.float64 else 2e-5
    ours, theirs = _tensors(ad, arrays, device, dtype), _tensors(torch, arrays, None, dtype)
    y, t = fn(ad, F, *ours), fn(torch, TF, *theirs)
    assert isinstance(y, ad.Tensor)
    assert (tuple(y.shape), y.dtype.name) == (tuple(t.shape), str(t.dtype).split(".")[-1]), name
    np.testing.assert_allclose(np.asarray(y.detach().cpu().numpy(), dtype=float),
                               t.detach().double().numpy(), rtol=tol, atol=tol,
                               err_msg=f"{name} output")
    if not t.requires_grad or name in NO_GRAD_COMPARE:
        return
    g = np.random.default_rng(1).standard_normal(tuple(t.shape))
    (y * ad.tensor(g, dtype=y.dtype, device=device)).sum().backward()
    (t * torch.tensor(g, dtype=t.dtype)).sum().backward()
    for i, (a, b) in enumerate(zip(ours, theirs)):
        if b.requires_grad:
            got = a.grad.cpu().numpy() if a.grad is not None else np.zeros(tuple(a.shape))
            want = b.grad.numpy() if b.grad is not None else np.zeros(tuple(b.shape))
            np.testing.assert_allclose(got, want, rtol=tol * 10, atol=tol * 10,
                                       err_msg=f"{name} grad of input {i}")


@pytest.mark.filterwarnings(LEGACY_WARNING)
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("name,fn,arrays", [(c[0], c[1], c[2:]) for c in CASES],
                         ids=[c[0] for c in CASES])
def test_matches_torch(name, fn, arrays, dtype, device, torch):
    _check(name, fn, arrays, device, torch, dtype)
