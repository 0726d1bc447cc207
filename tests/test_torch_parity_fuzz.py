"""Differential tests against PyTorch on what a PyTorch user tries first and
test_torch_parity.py does not cover: reduction dims and dtypes, ties, integer division and
promotion, PyTorch's reading of mixed indices, views and in-place writes, movement edge cases,
loss options, norm running statistics, optimizer groups, chained schedulers, autograd rules.

A case runs the same function on autodiff and on torch and compares values, dtypes, shapes
and (for float inputs) gradients; an error case checks that both raise (autodiff's error is an
instance of torch's exception type). Skipped cleanly without PyTorch."""

from __future__ import annotations

import numpy as np
import pytest

import autodiff as ad
import autodiff.nn.functional as F
from autodiff import nn


def _r(*shape, seed=0, lo=-2.0, hi=2.0):
    return np.random.default_rng(seed + len(shape)).uniform(lo, hi, shape)


def _i(*values):
    return np.array(values, dtype=np.int64)


def _F(m):
    return F if m is ad else m.nn.functional


def _idx(m, ref, data):
    """An index tensor beside ``ref`` (same device)."""
    return m.tensor(data, device=ref.device)


X3 = _r(2, 3, 4)
M2 = _r(3, 4, seed=1)
TIES = np.array([[1.0, 3.0, 3.0, 0.0], [2.0, 2.0, 1.0, 2.0], [0.0, 0.0, 0.0, 0.0]])
INTS = np.array([[7, -7, 3], [-3, 0, 5]])
BOOLS = np.array([[True, False, True], [True, True, True]])
LOGITS = _r(5, 4, seed=2)
PROBS = np.abs(_r(5, 4, seed=3)) + 0.1
PROBS = PROBS / PROBS.sum(1, keepdims=True)
TARGET = _i(0, -100, 1, 3, -100)
WEIGHT = np.array([0.5, 1.0, 2.0, 1.5])
IMG = _r(2, 4, 7, 6, seed=4)


class C:
    """``fn(module, *tensors)`` on ``arrays``; float arrays require grad unless grad=False."""

    def __init__(self, name, fn, *arrays, grad=True, tol=1e-6):
        self.name, self.fn, self.arrays, self.grad, self.tol = name, fn, arrays, grad, tol


def _set(idx, value):
    def fn(m, a, *rest):
        b = a * 1
        b[idx] = value(m, *rest) if callable(value) else value
        return b
    return fn


def _view_writes(m, a):
    b = a.clone()
    b[0] += 1
    b[:, 1] *= 2
    b.t()[0] -= 1
    v = b[1]
    b.mul_(2)  # a view made before an in-place change of its base sees the change
    return b, v


def _inplace_on_reductions(m, a):
    loss = (a * a).mean()
    loss /= 4  # gradient accumulation's ``loss /= steps``
    count = (a > 0).sum()
    count += 1
    peak = a.detach().amax()
    peak.mul_(2).clamp_(max=1.0)
    total = a.detach().sum()
    total[...] = 5.0
    return loss, count, peak, total


def _repeat_copies(m, a):
    b = a.clone()
    r, t = b.repeat(1, 1), b.tile((1,))
    r.zero_()
    t.add_(1)
    return b, r, t


def _expand_views(m, a):
    base = a.detach().clone()
    y, z = base.expand(3, 4), base.broadcast_to((2, 3, 4))
    base.mul_(2)  # both are views: they see it
    y[0, 1] = 5.0  # writes one element: base[0, 0]
    w = base.expand_as(z)
    w.zero_()  # fill of an expanded view writes through, as in torch
    return y * 1, z * 1, base


def _scalar_view(m, a):
    b = a * 2
    s = b[0, 1]
    b.add_(1)
    return s


CASES = [
    # reductions: negative / tuple dims, keepdim, result dtypes, ties, 0-d, empty
    C("sum_neg_tuple_keep", lambda m, a: a.sum((-1, 0), keepdim=True), X3),
    C("mean_neg_tuple", lambda m, a: a.mean((-2, -1)), X3),
    C("sum_int32_is_int64", lambda m, a: a.sum(0), INTS.astype(np.int32)),
    C("sum_bool_is_int64", lambda m, a: (a.sum(), a.sum(1)), BOOLS),
    C("prod_bool_int", lambda m, a, b: (a.prod(1), b.prod()), BOOLS, INTS),
    C("max_dim_ties", lambda m, a: (a.max(1), a.min(0, keepdim=True)), TIES),
    C("argmax_ties_flat", lambda m, a: (a.argmax(1), a.argmax(), a.argmin(-1, keepdim=True)),
      TIES),
    C("max_all_ties_grad", lambda m, a: a.max() + a.amax(1).sum(), TIES),
    C("max_nan_grad", lambda m, a: a.max(), np.array([1.0, np.nan, 2.0])),
    C("maximum_nan_grad", lambda m, a, b: m.maximum(a, b), np.array([np.nan, 1.0, 2.0]),
      np.array([0.0, np.nan, 2.0])),
    C("var_correction", lambda m, a: a.var(1, correction=0) + a.var(1, correction=2), X3),
    C("std_unbiased_pos", lambda m, a: a.std(1, False, True).sum() + a.std((0, -1)).sum(), X3),
    C("std_constant_grad", lambda m, a: a.std(), np.ones(3)),
    C("reduce_0d_dims", lambda m, a: (a.sum(0), a.mean(-1), a.amax(0), a.max(0), a.argmax(0),
                                      a.logsumexp(0), a.prod(-1, keepdim=True)), np.array(3.0)),
    C("all_any_dims", lambda m, a, b: (a.all(1), a.any(0, keepdim=True), b.all(), b.any(1)),
      BOOLS, INTS),
    C("sum_empty", lambda m, a: (a.sum(0), a.sum()), np.zeros((0, 3))),
    C("norm_p", lambda m, a: (a.norm(p=1), a.norm(float("inf"), 1), a.norm(3, -1, True)), X3),
    C("prod_zeros_grad", lambda m, a: a.prod(1), np.array([[1.0, 0.0, 3.0], [0.0, 0.0, 2.0]])),
    C("sort_stable_desc", lambda m, a: a.sort(dim=1, descending=True, stable=True), TIES),
    C("sort_int", lambda m, a: a.sort(0), INTS),
    C("topk_smallest", lambda m, a: a.topk(2, 0, largest=False), X3),
    # integer division, remainder, promotion with Python scalars and int/bool tensors
    C("floordiv_mod_neg", lambda m, a, b: (a // b, a % b, a // -2, a % -3, 7 // (a + 10),
                                           5 % (a + 10)), INTS, _i(2, 2, -2)),
    C("int_div_exact", lambda m, a: (a // 1, a // 3, a % 1000, m.div(a, 3, rounding_mode="trunc")),
      _i(2**40 + 1, 123456789, -7)),
    C("float_floordiv_mod", lambda m, a, b: (a // b, a % b, a % -2.5), _r(2, 3), _r(3, seed=9),
      grad=False),  # torch has no derivative for //
    C("div_rounding_grad", lambda m, a: m.div(a, 0.7, rounding_mode="floor") + a.round()
      + a.trunc() + a.floor() + a.ceil() + a.sign(), _r(2, 3)),
    C("round_decimals", lambda m, a: a.round(decimals=1), np.array([0.25, 1.35, -2.45])),
    C("promote_scalars", lambda m, a, b: (a + 1.5, a * 2, a / 2, b + 1, b * 1.5, a.float() + b,
                                          a > 0.5, b == True), INTS, BOOLS),
    C("pow_ints", lambda m, a, b: (a ** 2, a ** b, 2 ** b, 2.5 ** b, a ** 0.5), np.abs(INTS),
      _i(2, 1, 0)),
    C("pow_grad_masks", lambda m, a: a ** 0 + a ** 2 + a ** 0.5, np.array([0.0, 2.0])),
    C("pow_tensor_exponent_grad", lambda m, a, b: a ** b, np.array([-1.0, 0.0, 2.0]),
      np.array([2.0, 1.0, 0.5])),
    C("bitwise_int", lambda m, a, b: (a & 3, a | b, a ^ b, ~a, 6 & a), INTS, _i(1, 2, 4)),
    C("logical_bool_ops", lambda m, a: (a & ~a, a | ~a, a ^ True), BOOLS),
    C("clamp_int_by_float", lambda m, a: (a.clamp(-1.5, 2.5), a.clamp(-1, 2)), INTS),
    C("where_promotes", lambda m, a, b: (m.where(a > 0, a, b), m.where(a > 0, 1.0, -1.0)),
      INTS, _r(2, 3)),
    # indexing: mixed int/advanced, masks, empty, list-of-lists, setitem through views
    C("int_then_advanced", lambda m, a: (a[1, :, [0, 3]], a[None, [0, 1], ..., 2],
                                         a[0, ..., [1, 0]], a[:, 1, [0, 2]]), X3),
    C("tensor0d_index", lambda m, a: a[_idx(m, a, 1), :, [0, 1]] + a[_idx(m, a, 0)][:, :2], X3),
    C("numpy_indices", lambda m, a: (a[np.array(1), :, [0, 1]], a[[np.int64(0), np.int64(1)]],
                                     a[[np.array([0, 1]), np.array([1, 2])]]), X3),
    C("advanced_bcast", lambda m, a: (a[[[0], [1]], [1, 2]], a[:, [[0, 1]], [[1], [3]]]), X3),
    C("masks", lambda m, a: (a[a[..., 0] > 0], a[_idx(m, a, [True, False]), :, 1],
                             a[1, _idx(m, a, [True, False, True])], a[[True, False]]), X3),
    C("empty_and_nested_lists", lambda m, a: (a[[]], a[[[0, 1], [1, 2]]], a[(1, 2), ]), M2),
    C("dup_index_grad", lambda m, a: a[[0, 0, 2]] * a[:, [1, 1]].sum(), M2),
    C("set_mixed_index", _set((1, slice(None), [0, 3]), lambda m, v: v), X3, _r(3, 1)),
    C("set_mask_grad", lambda m, a, v: _masked_set(m, a, v), M2, _r(4)),
    C("set_advanced_grad", _set(([0, 2], [1, 3]), lambda m, v: v), M2, np.array([1.0, 2.0])),
    C("view_writes", _view_writes, M2),
    C("scalar_view_sees_write", _scalar_view, M2),
    C("inplace_on_reductions", _inplace_on_reductions, M2),
    C("repeat_copies", _repeat_copies, M2),
    C("expand_is_a_view", _expand_views, _r(3, 1), grad=False),
    C("gather_small_index", lambda m, a: (a.gather(1, _idx(m, a, [[0], [3]])),
                                          a.gather(0, _idx(m, a, [[2, 0]]))), M2),
    C("scatter_add_dims", lambda m, a, s: a.scatter_add(0, _idx(m, a, [[0, 1, 2, 0], [0, 0, 0, 1]]),
                                                        s), M2, _r(2, 4)),
    C("masked_fill_int", lambda m, a: (a.masked_fill(a > 1, 0), a.masked_fill(a > 1, 0.5)),
      INTS),
    # movement
    C("reshape_expand_neg1", lambda m, a, b: (a.reshape(-1, 2), a.view(4, -1),
                                              b.expand(-1, 3, -1), b.expand(5, -1, 3, -1)),
      X3, _r(2, 1, 4)),
    C("view_of_view_ok", lambda m, a: (a.transpose(1, 2).view(2, 4, 3), a[..., ::2].view(-1),
                                       a.transpose(0, 2).view(2, 2, 3, 2)), X3),
    C("squeeze_unsqueeze", lambda m, a: (a.squeeze(1), a.squeeze(-2), a.squeeze((0, 2)),
                                         a.unsqueeze(-1), a.unsqueeze(-4)), _r(1, 3, 1)),
    C("flatten_transpose", lambda m, a, v: (a.flatten(1, 2), a.flatten(-2), v.t(), v.T,
                                            a.permute(-1, 0, 1), a.transpose(-1, 0)), X3, _r(4)),
    C("movedim_tuple", lambda m, a: (a.movedim(0, -1), m.movedim(a, (0, 1), (2, 0))), X3),
    C("repeat_tile", lambda m, a: (a.repeat(2, 1, 1, 2), a.tile(2), a.tile((2, 1, 1, 2))), X3),
    C("repeat_interleave", lambda m, a: (a.repeat_interleave(2, dim=0), a.repeat_interleave(2),
                                         a.repeat_interleave(_idx(m, a, [1, 0, 2, 1]), dim=1)),
      M2),
    C("split_chunk", lambda m, a: (a.split([2, 3], 1), a.split(3, -1), a.chunk(3, 1),
                                   a.chunk(4, 1), a.chunk(8, 0)), _r(3, 5)),
    C("cat_stack", lambda m, a, e, b: (m.cat([a, e], 0), m.cat([a, b], -1),
                                       m.stack([a, a], -1), m.stack([a, a], dim=-2)),
      M2, np.zeros((0, 4)), _r(3, 2)),
    C("cat_legacy_empty", lambda m, a, e: m.cat([a, e.long()], 0), M2, np.zeros(0), grad=False),
    C("flip_copies", lambda m, a: _flip_write(m, a), M2),
    C("einsum_ellipsis", lambda m, a, b, c: (m.einsum("...ij,...jk->...ik", a, b),
                                             m.einsum("...ij,jk", a, c), m.einsum("b...->b", a)),
      X3, _r(2, 4, 5), _r(4, 2)),
    C("einsum_diagonals", lambda m, a, b: (m.einsum("ii", a), m.einsum("ii->i", a),
                                           m.einsum("bii->bi", b), m.einsum("...ii->...", b),
                                           m.einsum("ij,jj", b[0], a)), _r(3, 3), _r(2, 3, 3)),
    # nn.functional
    *[C(f"cross_entropy_{red}", lambda m, a, t, w, red=red: (
        _F(m).cross_entropy(a, t, reduction=red),
        _F(m).cross_entropy(a, t, weight=w.detach(), label_smoothing=0.1, reduction=red),
        _F(m).cross_entropy(a, t.abs() % 4, ignore_index=2, reduction=red),
        _F(m).nll_loss(a.log_softmax(1), t, weight=w.detach(), reduction=red)),
        LOGITS, TARGET, WEIGHT) for red in ("mean", "sum", "none")],
    C("cross_entropy_probs", lambda m, a, p, w: (
        _F(m).cross_entropy(a, p.detach()),
        _F(m).cross_entropy(a, p.detach(), weight=w.detach(), label_smoothing=0.2)),
      LOGITS, PROBS, WEIGHT),
    C("cross_entropy_3d", lambda m, a, t: _F(m).cross_entropy(a, t, label_smoothing=0.3),
      _r(2, 4, 3), _i(0, 1, 3, 2, -100, 1).reshape(2, 3)),
    C("bce_pos_weight", lambda m, a, p, w: (
        _F(m).binary_cross_entropy_with_logits(a, p, pos_weight=w.detach()),
        _F(m).binary_cross_entropy_with_logits(a * 30, p, reduction="sum"),
        _F(m).binary_cross_entropy(a.sigmoid(), p, weight=w.detach(), reduction="none")),
      LOGITS, PROBS, WEIGHT),
    C("regression_losses", lambda m, a, b: (
        _F(m).smooth_l1_loss(a, b, beta=0.5), _F(m).smooth_l1_loss(a, b, beta=0.0),
        _F(m).huber_loss(a, b, delta=0.7, reduction="sum"), _F(m).l1_loss(a, b, reduction="none"),
        _F(m).kl_div(a.log_softmax(1), b, reduction="batchmean"),
        _F(m).kl_div(a.log_softmax(1), b.log(), log_target=True)), LOGITS, PROBS),
    C("conv_options", lambda m, x, w, b: (
        _F(m).conv2d(x, w, b, stride=(2, 1), padding=(1, 0), dilation=(1, 2), groups=2),
        _F(m).conv2d(x, w, padding="same", dilation=2, groups=2),
        _F(m).conv1d(x[:, :, 0], w[:, :, 0], padding="same", groups=2)),
      IMG, _r(6, 2, 3, 2, seed=5), _r(6, seed=6)),
    C("pool_options", lambda m, x: (
        _F(m).max_pool2d(x, 3, stride=2, padding=1, ceil_mode=True),
        _F(m).avg_pool2d(x, 3, stride=2, padding=1, ceil_mode=True, count_include_pad=False),
        _F(m).avg_pool2d(x, 3, stride=2, padding=1), _F(m).avg_pool2d(x, 2, divisor_override=3),
        _F(m).adaptive_avg_pool2d(x, (3, None)), _F(m).adaptive_avg_pool2d(x, (9, 8))), IMG),
    C("interpolate", lambda m, x: (
        _F(m).interpolate(x, scale_factor=1.5), _F(m).interpolate(x, size=(5, 9), mode="bilinear",
                                                                   align_corners=True),
        _F(m).interpolate(x, scale_factor=(1.5, 0.7), mode="bilinear")), IMG),
    C("interpolate_views", lambda m, x: _F(m).interpolate(x, scale_factor=2).view(2, -1), IMG),
    C("embedding_padding_idx", lambda m, w, i: _F(m).embedding(i, w, padding_idx=-1) * 2,
      _r(5, 3), _i(0, 4, 1, 4).reshape(2, 2)),
    C("softmax_any_dim", lambda m, x: (x.softmax(0), _F(m).log_softmax(x, dim=-2),
                                       _F(m).softmin(x, 1)), IMG),
    C("norms", lambda m, x, w, b: (
        _F(m).layer_norm(x, (7, 6), eps=1e-3), _F(m).group_norm(x, 2, w, b),
        _F(m).instance_norm(x, weight=w, bias=b), _F(m).batch_norm(x, None, None, training=True)),
      IMG, _r(4, seed=7), _r(4, seed=8)),
    C("dropout_eval", lambda m, x: (_F(m).dropout(x, 0.5, training=False),
                                    _F(m).dropout(x, 0.0)), IMG),
]


def _masked_set(m, a, v):
    b = a * 1
    b[b[:, 0] > -10] = v
    b[b > 1] = 0.0
    return b


def _flip_write(m, a):
    b = a.clone()
    f = b.flip(0)
    f[0] = 9.0  # torch's flip is a copy: b is untouched
    return b, f


def _tensors(m, arrays, device, grad):
    out = []
    for a in arrays:
        a = np.asarray(a)
        rg = grad and a.dtype.kind == "f"
        out.append(ad.tensor(a, device=device, requires_grad=rg) if m is ad
                   else m.tensor(a, requires_grad=rg))
    return out


def _flat(y):
    if isinstance(y, (tuple, list)):
        return [v for item in y for v in _flat(item)]
    return [y]


def _close(a, t, tol, what):
    np.testing.assert_allclose(np.asarray(a.detach().cpu().numpy(), dtype=float),
                               np.asarray(t.detach().numpy(), dtype=float), rtol=tol, atol=tol,
                               err_msg=what)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # NaN cases
@pytest.mark.filterwarnings("ignore:Using a non-tuple sequence")  # torch deprecation notices
@pytest.mark.filterwarnings("ignore:The use of `x.T`")
@pytest.mark.filterwarnings("ignore:reduction. 'mean' divides")
@pytest.mark.filterwarnings("ignore:Using padding='same'")
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_matches_torch(case, device, torch):
    ours, theirs = _tensors(ad, case.arrays, device, case.grad), _tensors(torch, case.arrays,
                                                                          None, case.grad)
    ys, ts = _flat(case.fn(ad, *ours)), _flat(case.fn(torch, *theirs))
    assert len(ys) == len(ts)
    for i, (y, t) in enumerate(zip(ys, ts)):
        assert isinstance(y, ad.Tensor), f"output {i} is {type(y).__name__}"
        assert (y.shape, y.dtype.name) == (tuple(t.shape), str(t.dtype).split(".")[-1]), i
        _close(y, t, case.tol, f"output {i}")
    pairs = [(y, t) for y, t in zip(ys, ts) if t.requires_grad]
    if not pairs:
        return
    rng = np.random.default_rng(1)
    loss_ours = loss_theirs = 0
    for y, t in pairs:
        g = rng.standard_normal(tuple(t.shape))
        loss_ours = loss_ours + (y * ad.tensor(g, dtype=y.dtype, device=device)).sum()
        loss_theirs = loss_theirs + (t * torch.tensor(g, dtype=t.dtype)).sum()
    loss_ours.backward()
    loss_theirs.backward()
    for i, (a, t) in enumerate(zip(ours, theirs)):
        if t.grad is None:
            assert a.grad is None or not a.grad.cpu().numpy().any(), f"input {i} got a gradient"
        else:
            assert a.grad is not None, f"input {i} got no gradient"
            _close(a.grad, t.grad, case.tol * 10, f"gradient of input {i}")


def _backward_twice(m, a):
    y = (a.exp() * a).sum()
    y.backward()
    y.backward()


def _inplace_saved(m, a):
    b = a * 2
    c = b * b
    b[0].mul_(2)  # through a view: b's version counter moves
    c.sum().backward()


def _inplace_output(m, a):
    y = (a * 1).sigmoid()
    z = y * 3
    y.add_(1)
    z.sum().backward()


def _iadd(value):
    def fn(m, a):
        a += value
    return fn


def _nonscalar_backward(m, a):
    (a * 2).backward()


def _leaf_setitem(m, a):
    a[0] = 1.0


def _grad_unused(m, a):
    m.autograd.grad((a * 2).sum(), [a, m.ones(2, requires_grad=True)])


ERRORS = [
    ("negative_step", lambda m, a: a[::-1], M2),
    ("view_of_transposed", lambda m, a: a.t().view(-1), M2),
    ("view_of_sliced", lambda m, a: a[:, 1:3].view(-1), M2),
    ("reshape_bad", lambda m, a: a.reshape(5, -1), X3),
    ("expand_bad", lambda m, a: a.expand(2, 3, 5), _r(2, 1, 4)),
    ("permute_repeated", lambda m, a: a.permute(0, 0, 1), X3),
    ("dim_out_of_range", lambda m, a: a.sum(3), X3),
    ("dim_out_of_range_0d", lambda m, a: a.sum(1), np.array(1.0)),
    ("index_out_of_range", lambda m, a: a[[0, 5]], M2),
    ("index_tensor_out_of_range", lambda m, a: a[:, _idx(m, a, [1, -5])], M2),
    ("gather_out_of_range", lambda m, a: a.gather(1, _idx(m, a, [[0], [4], [1]])), M2),
    ("embedding_out_of_range", lambda m, a: _F(m).embedding(_idx(m, a, [0, 3]), a), M2),
    ("float_index", lambda m, a: a[_idx(m, a, [1.0])], M2),
    ("split_bad_sizes", lambda m, a: a.split([1, 2], 1), M2),
    ("cat_mismatch", lambda m, a, b: m.cat([a, b], 0), M2, _r(3, 2)),
    ("stack_mismatch", lambda m, a, b: m.stack([a, b]), M2, _r(4, 3)),
    ("matmul_mismatch", lambda m, a: a @ a, M2),
    ("add_into_expanded", lambda m, a: a.detach().expand(3, 4).add_(1), _r(3, 1)),
    ("copy_into_expanded", lambda m, a: a.detach().expand(3, 4).copy_(m.zeros(3, 4)), _r(3, 1)),
    ("set_row_of_expanded", lambda m, a: a.detach().expand(3, 4).__setitem__(0, 2.0), _r(3, 1)),
    ("mean_of_int", lambda m, a: a.mean(), INTS),
    ("einsum_mixed_dtypes", lambda m, a: m.einsum("ij,ij", a, a.float()), M2),
    ("embedding_float_indices", lambda m, a: _F(m).embedding(a, a), M2),
    ("one_hot_float", lambda m, a: _F(m).one_hot(a), M2),
    ("cross_entropy_float_class_target", lambda m, a: _F(m).cross_entropy(a, a[:, 0]), M2),
    ("squeeze_dim_out_of_range", lambda m, a: a.squeeze(2), M2),
    ("int_iadd_float", _iadd(1.5), INTS),
    ("int_imul_float", lambda m, a: a.mul_(2.5), INTS),
    ("int_idiv", lambda m, a: a.div_(2), INTS),
    ("bool_iadd_int", _iadd(1), BOOLS),
    ("int_floordiv_zero", lambda m, a: a // 0, INTS),
    ("int_mod_zero", lambda m, a: a % m.zeros_like(a), INTS),
    ("bitwise_float", lambda m, a: a & a, M2),
    ("one_hot_negative", lambda m, a: _F(m).one_hot(a), INTS),
    ("one_hot_too_large", lambda m, a: _F(m).one_hot(a.abs(), 3), INTS),
    ("huber_delta_zero", lambda m, a: _F(m).huber_loss(a, a, delta=0.0), M2),
    ("bce_outside_0_1", lambda m, a: _F(m).binary_cross_entropy(a, a.abs().clamp(0, 1)), M2),
    ("cross_entropy_bad_class", lambda m, a: _F(m).cross_entropy(a, _idx(m, a, [0, 4, 1, 1, 2])),
     LOGITS),
    ("conv_channels", lambda m, a: _F(m).conv2d(a, m.ones(2, 3, 3, 3, dtype=a.dtype)), IMG),
    ("same_padding_stride", lambda m, a: _F(m).conv2d(a, m.ones(2, 4, 3, 3, dtype=a.dtype),
                                                      padding="same", stride=2), IMG),
    ("backward_twice", _backward_twice, M2),
    ("backward_nonscalar", _nonscalar_backward, M2),
    ("version_counter_view", _inplace_saved, M2),
    ("version_counter_output", _inplace_output, M2),
    ("leaf_inplace", _iadd(1.0), M2),
    ("leaf_setitem", _leaf_setitem, M2),
    ("grad_unused_input", _grad_unused, M2),
    ("int_requires_grad", lambda m, a: a.requires_grad_(), INTS),
    ("len_of_0d", lambda m, a: len(a.sum()), M2),
    ("item_of_many", lambda m, a: a.item(), M2),
    ("bool_of_many", lambda m, a: bool(a), M2),
]


@pytest.mark.parametrize("name,fn,arrays", [(e[0], e[1], e[2:]) for e in ERRORS],
                         ids=[e[0] for e in ERRORS])
def test_raises_like_torch(name, fn, arrays, device, torch):
    grad = name not in ("int_requires_grad",)
    with pytest.raises(Exception) as theirs:
        fn(torch, *_tensors(torch, arrays, None, grad and arrays[0].dtype.kind == "f"))
    with pytest.raises(Exception) as ours:
        fn(ad, *_tensors(ad, arrays, device, grad and arrays[0].dtype.kind == "f"))
    assert isinstance(ours.value, type(theirs.value)), (ours.value, theirs.value)


# ------------------------------------------------------------------ modules
def _load_from_torch(ours, theirs, device):
    ours.load_state_dict({k: ad.tensor(v.detach().numpy().copy(), device=device)
                          for k, v in theirs.state_dict().items()})


@pytest.mark.parametrize("momentum", [0.1, None, 0.3])
def test_batchnorm_running_stats_match_torch(momentum, device, torch):
    theirs = torch.nn.BatchNorm2d(3, momentum=momentum).double()
    ours = nn.BatchNorm2d(3, momentum=momentum, device=device, dtype=ad.float64)
    for i in range(3):
        x = _r(4, 3, 2, 2, seed=10 + i) * 2 + 1
        _close(ours(ad.tensor(x, device=device)), theirs(torch.tensor(x)), 1e-9, f"step {i}")
    for name in ("running_mean", "running_var", "num_batches_tracked"):
        a, t = getattr(ours, name), getattr(theirs, name)
        assert a.dtype.name == str(t.dtype).split(".")[-1], name
        _close(a, t, 1e-9, name)
    ours.eval()
    theirs.eval()
    x = _r(2, 3, 2, 2, seed=20)
    _close(ours(ad.tensor(x, device=device)), theirs(torch.tensor(x)), 1e-9, "eval")


def test_functional_batch_norm_updates_given_buffers(device, torch):
    x = _r(5, 3, seed=21)
    rm, rv = ad.zeros(3, dtype=ad.float64, device=device), ad.ones(3, dtype=ad.float64,
                                                                    device=device)
    trm, trv = torch.zeros(3, dtype=torch.float64), torch.ones(3, dtype=torch.float64)
    y = F.batch_norm(ad.tensor(x, device=device), rm, rv, training=True, momentum=0.2)
    ty = torch.nn.functional.batch_norm(torch.tensor(x), trm, trv, training=True, momentum=0.2)
    for a, t, what in ((y, ty, "y"), (rm, trm, "running_mean"), (rv, trv, "running_var")):
        _close(a, t, 1e-9, what)


STATE_DICT_MODULES = [
    lambda M: M.BatchNorm2d(3), lambda M: M.BatchNorm1d(4, affine=False),
    lambda M: M.BatchNorm1d(4, track_running_stats=False),
    lambda M: M.InstanceNorm2d(3, affine=True, track_running_stats=True),
    lambda M: M.LayerNorm(4, bias=False), lambda M: M.GroupNorm(2, 4), lambda M: M.RMSNorm(4),
    lambda M: M.Conv2d(3, 4, 3, bias=False), lambda M: M.ConvTranspose2d(2, 3, 3),
    lambda M: M.Embedding(5, 3, padding_idx=0), lambda M: M.Bilinear(2, 3, 4),
    lambda M: M.LSTM(3, 4, num_layers=2, bidirectional=True), lambda M: M.GRU(3, 4, bias=False),
    lambda M: M.LSTMCell(3, 4), lambda M: M.MultiheadAttention(8, 2, kdim=4, vdim=6),
    lambda M: M.TransformerDecoderLayer(8, 2, 16),
    lambda M: M.Sequential(M.Linear(2, 3), M.ReLU(), M.Sequential(M.Linear(3, 1))),
]


@pytest.mark.filterwarnings("ignore:enable_nested_tensor")
@pytest.mark.parametrize("ctor", STATE_DICT_MODULES, ids=range(len(STATE_DICT_MODULES)))
def test_state_dict_names_shapes_dtypes_match_torch(ctor, torch):
    ours, theirs = ctor(nn).state_dict(), ctor(torch.nn).state_dict()
    assert list(ours) == list(theirs)
    for k, t in theirs.items():
        assert (tuple(ours[k].shape), ours[k].dtype.name) == (
            tuple(t.shape), str(t.dtype).split(".")[-1]), k


def _clip(m, norm_type):
    ps = [m.tensor([3.0, 4.0], requires_grad=True), m.tensor([[1.0, -2.0]], requires_grad=True),
          m.tensor([5.0], requires_grad=True)]
    ((ps[0] ** 2).sum() + (ps[1] * 3).sum()).backward()
    utils = nn.utils if m is ad else m.nn.utils
    total = utils.clip_grad_norm_(ps, max_norm=1.0, norm_type=norm_type)
    return total, ps[0].grad, ps[1].grad, ps[2].grad


@pytest.mark.parametrize("norm_type", [2.0, 1, float("inf")])
def test_clip_grad_norm_returns_the_total_norm(norm_type, torch):
    ours, theirs = _clip(ad, norm_type), _clip(torch, norm_type)
    assert ours[3] is None and theirs[3] is None
    for a, t in zip(ours[:3], theirs[:3]):
        _close(a, t, 1e-6, str(norm_type))


# ------------------------------------------------------------------ optimizers and schedulers
def _train(m, make_opt, make_sched=None, steps=6, metrics=None):
    optim = ad.optim if m is ad else m.optim
    w = m.tensor(_r(3, 4, seed=30), requires_grad=True)
    b = m.tensor(_r(3, seed=31), requires_grad=True)
    x, y = m.tensor(_r(6, 4, seed=32)), m.tensor(_r(6, 3, seed=33))
    opt = make_opt(optim, w, b)
    sched = make_sched(optim.lr_scheduler, opt) if make_sched else None
    lrs = []
    for i in range(steps):
        opt.zero_grad()
        (((x @ w.T + b - y) ** 2).mean() + 0.1 * w.abs().sum()).backward()
        opt.step()
        if sched is not None:
            sched.step(*([metrics[i]] if metrics else []))
        lrs.append([g["lr"] for g in opt.param_groups] + [g.get("momentum", 0)
                                                           for g in opt.param_groups])
    return w, b, lrs


def _groups(cls, **kw):
    return lambda o, w, b: getattr(o, cls)([{"params": [w]}, {"params": [b], "lr": 0.05}], **kw)


def _added_group(o, w, b):
    opt = o.Adam([w], lr=0.02, amsgrad=True)
    opt.add_param_group({"params": [b], "lr": 0.1, "weight_decay": 0.1})
    return opt


OPTIMIZERS = {
    "sgd_groups_nesterov": _groups("SGD", lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01),
    "sgd_dampening_maximize": _groups("SGD", lr=0.1, momentum=0.5, dampening=0.3, maximize=True),
    "adam_groups": _groups("Adam", lr=0.01, betas=(0.8, 0.9), weight_decay=0.1),
    "adam_add_param_group": _added_group,
    "adamw_groups_amsgrad": _groups("AdamW", lr=0.01, weight_decay=0.3, amsgrad=True),
    "rmsprop_centered_momentum": _groups("RMSprop", lr=0.01, momentum=0.5, centered=True),
    "adagrad_groups": _groups("Adagrad", lr=0.1, lr_decay=0.01),
    "adadelta_groups": _groups("Adadelta", lr=0.5, weight_decay=0.1),
}


def _scalar_param(m, name):
    optim = ad.optim if m is ad else m.optim
    p = (nn.Parameter(ad.tensor(2.0)) if m is ad else m.nn.Parameter(m.tensor(2.0)))
    kw = {"lr": 0.1, "momentum": 0.9} if name in ("SGD", "RMSprop") else {"lr": 0.1}
    opt = getattr(optim, name)([p], **kw)
    for _ in range(3):
        (p * p * 3).backward()  # the gradient of a 0-d parameter
        opt.step()
        opt.zero_grad(set_to_none=False)
    return p, p.detach().cpu().numpy()


@pytest.mark.parametrize("name", ["SGD", "Adam", "RMSprop", "Adagrad"])
def test_zero_dim_parameter_steps_match_torch(name, torch):
    (p, arr), (tp, tarr) = _scalar_param(ad, name), _scalar_param(torch, name)
    _close(p, tp, 1e-6, name)
    assert type(arr) is type(tarr) and arr.shape == tarr.shape == ()


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_optimizer_steps_match_torch(name, torch):
    ours, theirs = _train(ad, OPTIMIZERS[name]), _train(torch, OPTIMIZERS[name])
    for a, t in zip(ours[:2], theirs[:2]):
        _close(a, t, 1e-9, name)


class _Chain:
    """Two schedulers stepped together on one optimizer (their factors multiply)."""

    def __init__(self, s, o):
        self.parts = [s.LinearLR(o, start_factor=0.1, total_iters=2), s.ExponentialLR(o, 0.9)]

    def step(self):
        for part in self.parts:
            part.step()


SCHEDULES = {
    "chained_linear_exponential": (_Chain, None),
    "cosine_past_t_max": (lambda s, o: s.CosineAnnealingLR(o, T_max=3, eta_min=0.01), None),
    "multistep_repeated_milestone": (lambda s, o: s.MultiStepLR(o, [2, 2, 4], gamma=0.5), None),
    "lambda_per_group": (lambda s, o: s.LambdaLR(o, [lambda e: 0.9 ** e, lambda e: e + 1]), None),
    "onecycle_three_phase": (lambda s, o: s.OneCycleLR(o, max_lr=[1.0, 0.5], total_steps=8,
                                                       three_phase=True, anneal_strategy="linear"),
                             None),
    "plateau_cooldown_min_lr": (lambda s, o: s.ReduceLROnPlateau(o, patience=0, cooldown=1,
                                                                 factor=0.5, min_lr=0.03),
                                [5, 5, 5, 5, 4, 5, 5, 5]),
    "plateau_max_abs": (lambda s, o: s.ReduceLROnPlateau(o, mode="max", threshold=0.5,
                                                         threshold_mode="abs", patience=1),
                        [1, 1.2, 1.4, 2, 2.1, 2.2, 3, 3]),
}


@pytest.mark.parametrize("name", list(SCHEDULES))
def test_scheduler_learning_rates_match_torch(name, torch):
    make, metrics = SCHEDULES[name]
    opt = _groups("SGD", lr=0.1, momentum=0.9)
    ours = _train(ad, opt, make, steps=8, metrics=metrics)
    theirs = _train(torch, opt, make, steps=8, metrics=metrics)
    np.testing.assert_allclose(ours[2], theirs[2], rtol=1e-9, atol=1e-12)
    _close(ours[0], theirs[0], 1e-9, "weights")


# ------------------------------------------------------------------ autograd
def _autograd_story(m, device):
    kw = {"device": device} if m is ad else {}
    x = m.tensor([1.0, 2.0, 3.0], requires_grad=True, **kw)
    y = (x.exp() * x).sum()
    y.backward(retain_graph=True)
    y.backward()  # accumulates
    first = x.grad.clone()
    (g,) = m.autograd.grad((x ** 3).sum(), x, create_graph=True)
    (g2,) = m.autograd.grad(g.sum(), x)
    z = x * 2
    z.retain_grad()
    (z * z).sum().backward()
    with m.no_grad():
        w = x * 2
    d = x.detach()
    d[0] = 7.0  # shares memory with x
    v = m.tensor([1.0, 0.5, 2.0], **kw)
    u = m.ones(3, requires_grad=True, **kw)
    (u * 3).backward(v)
    unused = m.autograd.grad((x * 2).sum(), [x, u], allow_unused=True)[1]
    return (first, g, g2, z.grad, x.grad, x, u.grad, w.requires_grad, d.requires_grad,
            g.requires_grad, unused is None)


def test_autograd_rules_match_torch(device, torch):
    ours, theirs = _autograd_story(ad, device), _autograd_story(torch, None)
    for i, (a, t) in enumerate(zip(ours, theirs)):
        if isinstance(t, bool):
            assert a == t, i
        else:
            _close(a, t, 1e-5, f"item {i}")


def _replace_weight(m):
    lin = (nn if m is ad else m.nn).Linear(2, 3)
    lin.weight = (nn if m is ad else m.nn).Parameter(m.ones(3, 2))
    return [n for n, _ in lin.named_parameters()], list(lin.state_dict())


def test_replacing_a_parameter_keeps_its_place(torch):
    assert _replace_weight(ad) == _replace_weight(torch)


def _small_cnn(M):
    return M.Sequential(M.Conv2d(3, 8, 3, padding=1), M.BatchNorm2d(8), M.ReLU(), M.MaxPool2d(2),
                        M.Conv2d(8, 8, 3, stride=2, groups=2), M.GroupNorm(2, 8), M.GELU(),
                        M.AdaptiveAvgPool2d(1), M.Flatten(), M.Linear(8, 5))


def test_small_cnn_training_matches_torch(device, torch):
    """Copied weights, AdamW + OneCycleLR + clipping + label smoothing: same losses, same
    parameters and running statistics after a few steps, same eval output."""
    torch.manual_seed(0)
    theirs = _small_cnn(torch.nn).double()
    ours = _small_cnn(nn).to(ad.float64).to(device)
    _load_from_torch(ours, theirs, device)
    opts = [ad.optim.AdamW(ours.parameters(), lr=0.01, weight_decay=0.05),
            torch.optim.AdamW(theirs.parameters(), lr=0.01, weight_decay=0.05)]
    scheds = [ad.optim.lr_scheduler.OneCycleLR(opts[0], max_lr=0.05, total_steps=4),
              torch.optim.lr_scheduler.OneCycleLR(opts[1], max_lr=0.05, total_steps=4)]
    rng = np.random.default_rng(0)
    for _ in range(4):
        x, y = rng.standard_normal((4, 3, 10, 10)), rng.integers(0, 5, 4)
        losses = []
        for m, model, opt, sched in ((ad, ours, opts[0], scheds[0]),
                                     (torch, theirs, opts[1], scheds[1])):
            kw = {"device": device} if m is ad else {}
            loss = _F(m).cross_entropy(model(m.tensor(x, **kw)), m.tensor(y, **kw),
                                       label_smoothing=0.1)
            opt.zero_grad()
            loss.backward()
            (nn.utils if m is ad else m.nn.utils).clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
            losses.append(loss.item())
        assert losses[0] == pytest.approx(losses[1], rel=1e-9)
    ours.eval()
    theirs.eval()
    x = rng.standard_normal((2, 3, 10, 10))
    _close(ours(ad.tensor(x, device=device)), theirs(torch.tensor(x)), 1e-9, "eval output")
    for k, t in theirs.state_dict().items():
        _close(ours.state_dict()[k], t, 1e-9, k)


@pytest.mark.parametrize("name", ["mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss"])
def test_loss_of_different_shapes_broadcasts_with_a_warning(name, device, torch):
    x, t = _r(3, seed=40), _r(3, 1, seed=41)
    with pytest.warns(UserWarning, match="target size"):
        ours = getattr(F, name)(ad.tensor(x, device=device), ad.tensor(t, device=device))
    with pytest.warns(UserWarning, match="target size"):
        theirs = getattr(torch.nn.functional, name)(torch.tensor(x), torch.tensor(t))
    _close(ours, theirs, 1e-9, name)
