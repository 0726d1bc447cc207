"""PyTorch's nn-side names autodiff lacked: nn.utils (clip_grad, get_total_norm, fusion,
skip_init, stateless, convert_parameters), nn modules (AdaptiveLogSoftmaxWithLoss,
CrossMapLRN2d, RNNCellBase, Buffer, NLLLoss2d), top-level losses / native_* / RNN cells /
histogramdd / empty_strided / low-rank SVD / autocast state, and the Tensor methods
new_empty_strided and register_post_accumulate_grad_hook. PyTorch is the oracle."""

from __future__ import annotations

import copy
import warnings

import numpy as np
import pytest

import autodiff as ad
from autodiff import nn

RNG = np.random.default_rng(0)


def f32(*shape):
    return RNG.standard_normal(shape).astype(np.float32)


def close(a, t, atol=1e-5):
    """autodiff value(s) ``a`` equal to torch value(s) ``t`` (tuples compared elementwise)."""
    if isinstance(t, (tuple, list)):
        assert len(a) == len(t)
        for x, y in zip(a, t):
            close(x, y, atol)
        return
    assert tuple(a.shape) == tuple(t.shape)
    np.testing.assert_allclose(a.detach().numpy(), t.detach().numpy(), atol=atol, rtol=1e-5)


# ----------------------------------------------------------------- nn.utils
def _grads(torch, shapes=((3, 4), (5,))):
    vals = [f32(*s) * 3 for s in shapes]
    ps = [ad.tensor(v, requires_grad=True) for v in vals]
    ts = [torch.tensor(v, requires_grad=True) for v in vals]
    for p, t, v in zip(ps, ts, vals):
        p.grad, t.grad = ad.tensor(v * 2), torch.tensor(v * 2)
    return ps, ts


@pytest.mark.parametrize("norm_type", [2.0, 1, float("inf"), 0.5])
def test_get_total_norm_and_clip_grads_with_norm(torch, norm_type):
    ps, ts = _grads(torch)
    total = nn.utils.get_total_norm([p.grad for p in ps], norm_type)
    ttotal = torch.nn.utils.get_total_norm([t.grad for t in ts], norm_type)
    close(total, ttotal, 1e-4)
    nn.utils.clip_grads_with_norm_(ps, 1.0, total)
    torch.nn.utils.clip_grads_with_norm_(ts, 1.0, ttotal)
    close([p.grad for p in ps], [t.grad for t in ts])
    assert nn.utils.get_total_norm([]).item() == 0.0


def test_clip_grad_submodule_and_errors(torch):
    ps, ts = _grads(torch)
    close(nn.utils.clip_grad.clip_grad_norm_(ps, 0.5), torch.nn.utils.clip_grad_norm_(ts, 0.5),
          1e-4)
    close([p.grad for p in ps], [t.grad for t in ts])
    nn.utils.clip_grad.clip_grad_value_(ps, 0.01)
    assert float(ps[0].grad.abs().max()) <= 0.01
    ps[0].grad = ad.tensor([float("inf")] * 12).reshape(3, 4)
    with pytest.raises(RuntimeError, match="is non-finite, so it cannot be clipped"):
        nn.utils.clip_grad_norm_(ps, 1.0, error_if_nonfinite=True)
    ps[0].grad = ad.ones(3, 4)
    with pytest.warns(FutureWarning, match="clip_grad_norm_"):
        nn.utils.clip_grad.clip_grad_norm(ps, 1.0)
    with pytest.warns(UserWarning, match="empty generator"):
        nn.utils.clip_grad_norm_((p for p in []), 1.0)


def test_convert_parameters_path():
    from autodiff.nn.utils import convert_parameters as cp

    m = nn.Linear(3, 2)
    v = cp.parameters_to_vector(m.parameters())
    assert tuple(v.shape) == (8,)
    cp.vector_to_parameters(ad.arange(8.0), m.parameters())
    np.testing.assert_array_equal(m.bias.numpy(), [6.0, 7.0])
    assert nn.utils.parameters_to_vector is cp.parameters_to_vector


@pytest.mark.parametrize("transpose", [False, True])
def test_fuse_conv_bn_eval_matches_torch(torch, transpose):
    tconv = (torch.nn.ConvTranspose2d if transpose else torch.nn.Conv2d)(3, 4, 3).eval()
    tbn = torch.nn.BatchNorm2d(4).eval()
    with torch.no_grad():
        tbn.running_mean.normal_()
        tbn.running_var.uniform_(0.5, 2)
        tbn.weight.normal_()
        tbn.bias.normal_()
    conv = (nn.ConvTranspose2d if transpose else nn.Conv2d)(3, 4, 3).eval()
    bn = nn.BatchNorm2d(4).eval()
    conv.load_state_dict({k: ad.tensor(v.numpy()) for k, v in tconv.state_dict().items()})
    bn.load_state_dict({k: ad.tensor(v.numpy()) for k, v in tbn.state_dict().items()})
    fused = nn.utils.fusion.fuse_conv_bn_eval(conv, bn, transpose)
    tfused = torch.nn.utils.fuse_conv_bn_eval(tconv, tbn, transpose)
    close([fused.weight, fused.bias], [tfused.weight, tfused.bias])
    assert isinstance(fused.weight, nn.Parameter) and fused is not conv
    x = f32(2, 3, 6, 6)
    close(fused(ad.tensor(x)), bn(conv(ad.tensor(x))), 1e-4)
    with pytest.raises(AssertionError, match="Fusion only for eval!"):
        nn.utils.fuse_conv_bn_eval(conv.train(), bn)


def test_fuse_linear_bn_matches_torch(torch):
    tlin, tbn = torch.nn.Linear(3, 4).eval(), torch.nn.BatchNorm1d(4).eval()
    with torch.no_grad():
        tbn.running_mean.normal_()
        tbn.running_var.uniform_(0.5, 2)
    lin, bn = nn.Linear(3, 4).eval(), nn.BatchNorm1d(4).eval()
    lin.load_state_dict({k: ad.tensor(v.numpy()) for k, v in tlin.state_dict().items()})
    bn.load_state_dict({k: ad.tensor(v.numpy()) for k, v in tbn.state_dict().items()})
    fused, tfused = nn.utils.fuse_linear_bn_eval(lin, bn), torch.nn.utils.fuse_linear_bn_eval(
        tlin, tbn)
    close([fused.weight, fused.bias], [tfused.weight, tfused.bias])
    w, b = nn.utils.fuse_linear_bn_weights(lin.weight, None, bn.running_mean, bn.running_var,
                                           1e-5, bn.weight, bn.bias)
    tw, tb = torch.nn.utils.fuse_linear_bn_weights(tlin.weight, None, tbn.running_mean,
                                                   tbn.running_var, 1e-5, tbn.weight, tbn.bias)
    close([w, b], [tw, tb])
    assert (b.requires_grad, w.requires_grad) == (tb.requires_grad, tw.requires_grad)
    with pytest.raises(AssertionError, match="linear.out_features == bn.num_features"):
        nn.utils.fuse_linear_bn_eval(lin, nn.BatchNorm1d(3).eval())


def test_skip_init():
    class Init7(nn.Module):
        def __init__(self, device=None):
            super().__init__()
            self.w = nn.Parameter(ad.zeros(50, device=device))
            nn.init.constant_(self.w, 7.0)

    assert float(Init7().w.min()) == 7.0
    assert not bool((nn.utils.skip_init(Init7).w == 7.0).all())
    assert float(Init7().w.min()) == 7.0  # the initialisers are back
    assert tuple(nn.utils.skip_init(nn.Linear, 5, out_features=1).weight.shape) == (1, 5)
    with pytest.raises(RuntimeError, match="Expected a Module"):
        nn.utils.skip_init(int)

    class NoDevice(nn.Module):
        pass

    with pytest.raises(RuntimeError, match="Module must support a 'device' arg"):
        nn.utils.skip_init(NoDevice)


def test_stateless_functional_call_warns_and_delegates():
    lin = nn.Linear(3, 2)
    x = ad.randn(4, 3)
    with pytest.warns(FutureWarning, match="func.functional_call"):
        out = nn.utils.stateless.functional_call(lin, {"weight": ad.zeros(2, 3)}, (x,))
    np.testing.assert_allclose(out.numpy(), np.broadcast_to(lin.bias.numpy(), (4, 2)))


# ----------------------------------------------------------------- nn modules
@pytest.mark.parametrize("head_bias", [False, True])
def test_adaptive_log_softmax_matches_torch(torch, head_bias):
    tm = torch.nn.AdaptiveLogSoftmaxWithLoss(16, 30, [5, 12, 20], div_value=2.0,
                                             head_bias=head_bias)
    m = nn.AdaptiveLogSoftmaxWithLoss(16, 30, [5, 12, 20], div_value=2.0, head_bias=head_bias)
    sd = tm.state_dict()
    assert list(m.state_dict()) == list(sd)
    m.load_state_dict({k: ad.tensor(v.numpy()) for k, v in sd.items()})
    x, tgt = f32(8, 16), np.array([0, 4, 5, 11, 12, 19, 20, 29])
    xa, xt = ad.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out, tout = m(xa, ad.tensor(tgt)), tm(xt, torch.tensor(tgt))
    assert out._fields == ("output", "loss")
    close(list(out), list(tout))
    out.loss.backward()
    tout.loss.backward()
    close([xa.grad, m.tail[1][0].weight.grad, m.head.weight.grad],
          [xt.grad, tm.tail[1][0].weight.grad, tm.head.weight.grad])
    close(m.log_prob(xa), tm.log_prob(xt))
    np.testing.assert_array_equal(m.predict(xa).numpy(), tm.predict(xt).numpy())
    close(list(m(xa[0], ad.tensor(tgt[3]))), list(tm(xt[0], torch.tensor(tgt[3]))))


def test_adaptive_log_softmax_errors():
    with pytest.raises(ValueError, match="cutoffs should be a sequence of unique"):
        nn.AdaptiveLogSoftmaxWithLoss(8, 10, [5, 3])
    m = nn.AdaptiveLogSoftmaxWithLoss(8, 10, [5])
    with pytest.raises(RuntimeError, match=r"Target values should be in \[0, 9\]"):
        m(ad.randn(2, 8), ad.tensor([1, 10]))
    with pytest.raises(RuntimeError, match="0D or 1D target tensor expected"):
        m(ad.randn(2, 8), ad.tensor([[1, 2]]))


@pytest.mark.parametrize("size", [2, 3, 4, 5])
def test_cross_map_lrn2d_matches_torch_values_and_gradients(torch, size):
    x, g = RNG.standard_normal((2, 6, 3, 3)), RNG.standard_normal((2, 6, 3, 3))
    xa, xt = ad.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ya = nn.CrossMapLRN2d(size, alpha=0.5, beta=0.75, k=1.5)(xa)
    yt = torch.nn.CrossMapLRN2d(size, alpha=0.5, beta=0.75, k=1.5)(xt)
    ya.backward(ad.tensor(g))
    yt.backward(torch.tensor(g))
    close([ya, xa.grad], [yt, xt.grad], 1e-10)
    assert repr(nn.CrossMapLRN2d(3)) == repr(torch.nn.CrossMapLRN2d(3))
    with pytest.raises(ValueError, match="Expected input to be 4D, got 3D"):
        nn.CrossMapLRN2d(3)(ad.randn(2, 3, 4))


def test_rnn_cell_base_buffer_and_nllloss2d(torch):
    assert all(issubclass(c, nn.RNNCellBase) for c in (nn.RNNCell, nn.LSTMCell, nn.GRUCell))
    assert not isinstance(nn.RNN(2, 3), nn.RNNCellBase)
    m, tm = nn.Linear(2, 2), torch.nn.Linear(2, 2)
    m.x, tm.x = nn.Buffer(ad.ones(2)), torch.nn.Buffer(torch.ones(2))
    m.y = nn.Buffer(ad.ones(2, requires_grad=True), persistent=False)
    tm.y = torch.nn.Buffer(torch.ones(2, requires_grad=True), persistent=False)
    assert list(m.state_dict()) == list(tm.state_dict())
    assert list(dict(m.named_buffers())) == list(dict(tm.named_buffers())) == ["x", "y"]
    assert isinstance(m.x, nn.Buffer) and m.y.requires_grad and nn.Buffer().shape == (0,)
    assert list(copy.deepcopy(m).state_dict()) == list(tm.state_dict())
    with pytest.raises(TypeError, match="as parameter 'weight'"):
        m.weight = nn.Buffer(ad.ones(2))
    with pytest.raises(AttributeError, match="cannot assign buffer before Module.__init__"):
        nn.Module.__new__(nn.Module).b = nn.Buffer(ad.ones(1))
    with pytest.warns(FutureWarning, match="NLLLoss2d"):
        loss = nn.NLLLoss2d(reduction="sum")
    x, tgt = f32(2, 3, 4, 4), RNG.integers(0, 3, (2, 4, 4))
    with pytest.warns(FutureWarning):
        ref = torch.nn.NLLLoss2d(reduction="sum")(torch.tensor(x), torch.tensor(tgt))
    close(loss(ad.tensor(x), ad.tensor(tgt)), ref)


# ----------------------------------------------------------------- top-level functions
_X, _Y, _S = f32(4, 3), np.abs(f32(4, 3)), np.sign(f32(4)) + (np.sign(f32(4)) == 0)
_LOSSES = {
    "binary_cross_entropy_with_logits": (_X, _Y),
    "kl_div": (_X, _Y),
    "cosine_embedding_loss": (_X, _Y, _S),
    "hinge_embedding_loss": (_X[:, 0], _S),
    "margin_ranking_loss": (_X[:, 0], _Y[:, 0], _S),
    "triplet_margin_loss": (_X, _Y, _X[::-1].copy()),
}


@pytest.mark.parametrize("name", sorted(_LOSSES))
@pytest.mark.parametrize("reduction", [None, 0, 1, 2, 5])
def test_top_level_losses_take_int_reductions(torch, name, reduction):
    kw = {} if reduction is None else {"reduction": reduction}
    close(getattr(ad, name)(*map(ad.tensor, _LOSSES[name]), **kw),
          getattr(torch, name)(*map(torch.tensor, _LOSSES[name]), **kw))


def test_poisson_ctc_and_reduction_type(torch):
    for r in (0, 1, 2):
        close(ad.poisson_nll_loss(ad.tensor(_X), ad.tensor(_Y), True, False, 1e-8, r),
              torch.poisson_nll_loss(torch.tensor(_X), torch.tensor(_Y), True, False, 1e-8, r))
        lp = np.log(RNG.dirichlet(np.ones(5), size=(6, 2))).astype(np.float32)
        tg = np.array([[1, 2], [3, 3]])
        close(ad.ctc_loss(ad.tensor(lp), ad.tensor(tg), [6, 6], [2, 1], 0, r),
              torch.ctc_loss(torch.tensor(lp), torch.tensor(tg), [6, 6], [2, 1], 0, r))
    with pytest.raises(TypeError, match=r"kl_div\(\): argument 'reduction' \(position 3\) must "
                                        r"be int, not str"):
        ad.kl_div(ad.tensor(_X), ad.tensor(_Y), "mean")


def test_native_norms_match_torch(torch):
    x, w = f32(2, 3, 4), f32(3, 4)
    close(ad.native_layer_norm(ad.tensor(x), [3, 4], ad.tensor(w), ad.tensor(w), 1e-5),
          torch.native_layer_norm(torch.tensor(x), [3, 4], torch.tensor(w), torch.tensor(w),
                                  1e-5))
    rm, rv, trm, trv = ad.zeros(3), ad.ones(3), torch.zeros(3), torch.ones(3)
    for training in (True, False):
        close(ad.native_batch_norm(ad.tensor(x), None, None, rm, rv, training, 0.1, 1e-5),
              torch.native_batch_norm(torch.tensor(x), None, None, trm, trv, training, 0.1,
                                      1e-5))
        close([rm, rv], [trm, trv])
    with pytest.raises(RuntimeError, match="running_mean and running_var must be defined"):
        ad.native_batch_norm(ad.tensor(x), None, None, None, None, False, 0.1, 1e-5)
    xg = f32(2, 6, 5)
    close(ad.native_group_norm(ad.tensor(xg), None, None, 2, 6, 5, 3, 1e-5),
          torch.native_group_norm(torch.tensor(xg), None, None, 2, 6, 5, 3, 1e-5))
    assert ad.native_norm(ad.tensor(x)).item() == pytest.approx(
        torch.linalg.vector_norm(torch.tensor(x)).item(), rel=1e-6)


def test_native_dropout():
    x = ad.randn(50, 40, requires_grad=True)
    out, mask = ad.native_dropout(x, 0.25, True)
    assert mask.dtype == ad.bool and 0.65 < float(mask.float().mean()) < 0.85
    np.testing.assert_allclose(out.numpy(), x.numpy() * mask.numpy() / 0.75, rtol=1e-6)
    out.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), mask.numpy() / 0.75, rtol=1e-6)
    out, mask = ad.native_dropout(x, 0.25, False)
    assert bool(mask.all()) and out is not x and np.array_equal(out.numpy(), x.numpy())
    out, mask = ad.native_dropout(x, 1.0, True)
    assert float(out.abs().sum()) == 0.0 and not bool(mask.any())


def test_functional_rnn_cells_match_torch(torch):
    xi, h, c = f32(2, 3), f32(2, 4), f32(2, 4)
    wi, wh, b = f32(16, 3), f32(16, 4), f32(16)
    ta, tt = (lambda v: ad.tensor(v, requires_grad=True)), torch.tensor
    close(ad.lstm_cell(ta(xi), (ta(h), ta(c)), ta(wi), ta(wh), ta(b), ta(b)),
          torch.lstm_cell(tt(xi), (tt(h), tt(c)), tt(wi), tt(wh), tt(b), tt(b)))
    n = slice(0, 12)
    close(ad.gru_cell(ta(xi), ta(h), ta(wi[n]), ta(wh[n]), ta(b[n]), ta(b[n])),
          torch.gru_cell(tt(xi), tt(h), tt(wi[n]), tt(wh[n]), tt(b[n]), tt(b[n])))
    n = slice(0, 4)
    close(ad.rnn_tanh_cell(ta(xi), ta(h), ta(wi[n]), ta(wh[n])),
          torch.rnn_tanh_cell(tt(xi), tt(h), tt(wi[n]), tt(wh[n])))
    close(ad.rnn_relu_cell(ta(xi), ta(h), ta(wi[n]), ta(wh[n]), ta(b[n])),
          torch.rnn_relu_cell(tt(xi), tt(h), tt(wi[n]), tt(wh[n]), tt(b[n])))
    with pytest.raises(TypeError, match="hx"):
        ad.lstm_cell(ta(xi), ta(h), ta(wi), ta(wh))


@pytest.mark.parametrize("kw", [{"bins": 4}, {"bins": [2, 3, 4]}, {"density": True, "bins": 3},
                                {"bins": 3, "range": [-1, 1, -2, 2, 0, 1]}, {"bins": 3, "w": 1}])
def test_histogramdd_matches_torch(torch, kw):
    x, w = f32(50, 3), np.abs(f32(50))
    ka, kt = dict(kw), dict(kw)
    if ka.pop("w", None):
        kt.pop("w")
        ka["weight"], kt["weight"] = ad.tensor(w), torch.tensor(w)
    hist, edges = ad.histogramdd(ad.tensor(x), **ka)
    thist, tedges = torch.histogramdd(torch.tensor(x), **kt)
    close(hist, thist)
    close(edges, tedges)
    close(ad.histogramdd(ad.ones(4, 2), bins=2).hist, torch.histogramdd(torch.ones(4, 2), 2).hist)


def test_empty_strided_and_new_empty_strided(torch):
    t = ad.empty_strided((2, 3), (1, 2), dtype=ad.float64, requires_grad=True)
    tt = torch.empty_strided((2, 3), (1, 2), requires_grad=True)
    assert (t.shape, t.stride(), t.is_leaf, t.requires_grad) == ((2, 3), tt.stride(), True, True)
    n = ad.zeros(2).new_empty_strided((4, 2), (1, 4), dtype=ad.float64)
    assert (n.shape, n.stride(), n.dtype) == ((4, 2), (1, 4), ad.float64)
    assert ad.empty_strided((), ()).shape == ()


@pytest.mark.parametrize("shape", [(8, 5), (5, 8), (3, 8, 5)])
def test_svd_lowrank_reconstructs_and_matches_torch_singular_values(torch, shape):
    a = RNG.standard_normal(shape)
    q = min(shape[-2:])
    U, S, V = ad.svd_lowrank(ad.tensor(a), q=q)
    np.testing.assert_allclose(((U * S.unsqueeze(-2)) @ V.mT).numpy(), a, atol=1e-10)
    close(S, torch.svd_lowrank(torch.tensor(a), q=q)[1], 1e-10)
    m = RNG.standard_normal(shape)
    close(ad.svd_lowrank(ad.tensor(a), q, M=ad.tensor(m))[1],
          torch.svd_lowrank(torch.tensor(a), q, M=torch.tensor(m))[1], 1e-10)


def test_pca_lowrank_matches_torch(torch):
    a = RNG.standard_normal((10, 6))
    (_, S, V), (_, tS, tV) = ad.pca_lowrank(ad.tensor(a)), torch.pca_lowrank(torch.tensor(a))
    close(S, tS, 1e-10)
    np.testing.assert_allclose(np.abs(V.numpy()), np.abs(tV.numpy()), atol=1e-8)
    x, xt = ad.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    ad.pca_lowrank(x, q=6)[1].sum().backward()
    torch.pca_lowrank(xt, q=6)[1].sum().backward()
    close(x.grad, xt.grad, 1e-8)
    with pytest.raises(ValueError, match=r"q\(=9\) must be non-negative integer"):
        ad.pca_lowrank(ad.tensor(a), q=9)


def test_autocast_state_functions(torch):
    assert ad.autocast is ad.amp.autocast and ad.GradScaler is ad.amp.GradScaler
    assert torch.GradScaler is torch.amp.GradScaler
    assert not ad.is_autocast_enabled() and not ad.is_autocast_enabled("cpu")
    ad.set_autocast_enabled("cpu", True)
    try:
        assert ad.is_autocast_enabled("cpu") and ad.amp.is_autocast_enabled("cpu")
        assert (ad.randn(3, 3) @ ad.randn(3, 3)).dtype == ad.get_autocast_dtype("cpu")
    finally:
        ad.set_autocast_enabled("cpu", False)
    assert (ad.randn(3, 3) @ ad.randn(3, 3)).dtype == ad.float32
    with ad.autocast("cpu"):
        assert ad.is_autocast_enabled("cpu")
        ad.clear_autocast_cache()
    with pytest.raises(TypeError, match="must be str, not int"):
        ad.is_autocast_enabled(3)
    for name, value in [("get_autocast_cpu_dtype", ad.float16),
                        ("get_autocast_gpu_dtype", ad.float16),
                        ("is_autocast_cpu_enabled", False)]:
        with pytest.warns(DeprecationWarning, match="is deprecated"):
            assert getattr(ad, name)() == value


def test_post_accumulate_grad_hook(torch):
    p = ad.randn(3, requires_grad=True)
    seen = []
    handle = p.register_post_accumulate_grad_hook(lambda t: seen.append(t.grad.numpy().copy()))
    (p * 2 + p).sum().backward()  # two contributions, one call with their sum (as PyTorch)
    (p * 2).sum().backward()
    np.testing.assert_allclose(np.array(seen), [[3.0] * 3, [5.0] * 3])
    handle.remove()
    (p * 2).sum().backward()
    assert len(seen) == 2
    tp, tseen = torch.ones(3, requires_grad=True), []
    tp.register_post_accumulate_grad_hook(lambda t: tseen.append(t.grad.clone()))
    (tp * 2 + tp).sum().backward()
    np.testing.assert_allclose(tseen[0].numpy(), seen[0])
    q = ad.randn(2, requires_grad=True)  # the optimizer-in-backward pattern
    opt = ad.optim.SGD([q], lr=0.5)
    q.register_post_accumulate_grad_hook(lambda t: (opt.step(), opt.zero_grad()))
    before = q.detach().numpy().copy()
    (q * q).sum().backward()
    np.testing.assert_allclose(q.detach().numpy(), before * 0.0, atol=1e-7)
    with pytest.raises(RuntimeError, match="non-leaf tensors"):
        (p * 2).register_post_accumulate_grad_hook(print)
    with pytest.raises(RuntimeError, match="doesn't require gradient"):
        ad.randn(2).register_post_accumulate_grad_hook(print)


def test_names_are_reachable_like_torch(torch):
    names = ["binary_cross_entropy_with_logits", "native_layer_norm", "lstm_cell", "histogramdd",
             "empty_strided", "svd_lowrank", "get_autocast_dtype", "clear_autocast_cache",
             "GradScaler", "autocast"]
    assert all(hasattr(ad, n) and hasattr(torch, n) for n in names)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        import autodiff.nn.utils.clip_grad
        import autodiff.nn.utils.fusion
        import autodiff.nn.utils.stateless  # noqa: F401
    for n in ["clip_grad", "get_total_norm", "clip_grads_with_norm_", "fusion", "skip_init",
              "stateless", "convert_parameters", "fuse_linear_bn_weights"]:
        assert hasattr(nn.utils, n) and hasattr(torch.nn.utils, n)
