"""ad.amp against torch.amp: autocast's output dtypes op by op (torch's CPU autocast with
dtype=float16), float32 gradients through autocast regions, and GradScaler's scale sequence
and skipped steps when gradients are forced to inf, on a small model trained a few steps."""

from __future__ import annotations

import threading

import numpy as np
import pytest

import autodiff as ad
from autodiff import nn, optim

RNG = np.random.default_rng(0)


def _arr(*shape):
    return RNG.standard_normal(shape).astype(np.float32)


def _prob(*shape):
    return (RNG.random(shape) * 0.8 + 0.1).astype(np.float32)


# name -> fn(L, F, r, p) with L the library (ad or torch), F its functional, r(*shape) and
# p(*shape) random tensors (normal / in (0.1, 0.9)) in the dtype under test
OPS = {
    "linear": lambda L, F, r, p: F.linear(r(4, 8), r(6, 8), r(6)),
    "matmul": lambda L, F, r, p: r(4, 8) @ r(8, 3),
    "matmul_1d": lambda L, F, r, p: L.matmul(r(3), r(3)),
    "mm": lambda L, F, r, p: L.mm(r(2, 3), r(3, 2)),
    "bmm": lambda L, F, r, p: L.bmm(r(2, 2, 3), r(2, 3, 2)),
    "dot": lambda L, F, r, p: L.dot(r(3), r(3)),
    "mv": lambda L, F, r, p: L.mv(r(2, 3), r(3)),
    "bilinear": lambda L, F, r, p: F.bilinear(r(4, 3), r(4, 2), r(5, 3, 2), r(5)),
    "conv1d": lambda L, F, r, p: F.conv1d(r(1, 2, 5), r(3, 2, 2), r(3)),
    "conv2d": lambda L, F, r, p: F.conv2d(r(1, 2, 5, 5), r(3, 2, 2, 2), r(3)),
    "conv3d": lambda L, F, r, p: F.conv3d(r(1, 2, 3, 3, 3), r(3, 2, 2, 2, 2), r(3)),
    "conv_transpose1d": lambda L, F, r, p: F.conv_transpose1d(r(1, 2, 5), r(2, 3, 2), r(3)),
    "conv_transpose2d": lambda L, F, r, p: F.conv_transpose2d(r(1, 2, 4, 4), r(2, 3, 2, 2)),
    "prelu": lambda L, F, r, p: F.prelu(r(2, 3), r(1)),
    "sdpa": lambda L, F, r, p: F.scaled_dot_product_attention(
        r(1, 2, 3, 4), r(1, 2, 3, 4), r(1, 2, 3, 4), attn_mask=r(3, 3)
    ),
    "softmax": lambda L, F, r, p: F.softmax(r(3, 4), -1),
    "log_softmax": lambda L, F, r, p: F.log_softmax(r(3, 4), -1),
    "layer_norm": lambda L, F, r, p: F.layer_norm(r(3, 4), (4,), r(4), r(4)),
    "group_norm": lambda L, F, r, p: F.group_norm(r(2, 4, 3), 2, r(4), r(4)),
    "batch_norm": lambda L, F, r, p: F.batch_norm(r(3, 4), None, None, r(4), r(4), True),
    "cross_entropy": lambda L, F, r, p: F.cross_entropy(r(4, 5), L.tensor([0, 1, 2, 3])),
    "nll_loss": lambda L, F, r, p: F.nll_loss(r(4, 5), L.tensor([0, 1, 2, 3])),
    "mse_loss": lambda L, F, r, p: F.mse_loss(r(3), r(3)),
    "l1_loss": lambda L, F, r, p: F.l1_loss(r(3), r(3)),
    "smooth_l1_loss": lambda L, F, r, p: F.smooth_l1_loss(r(3), r(3)),
    "kl_div": lambda L, F, r, p: F.kl_div(r(3), r(3), reduction="sum"),
    "bce": lambda L, F, r, p: F.binary_cross_entropy(p(3), p(3)),
    "bce_logits": lambda L, F, r, p: F.binary_cross_entropy_with_logits(r(3), p(3)),
    "triplet_margin_loss": lambda L, F, r, p: F.triplet_margin_loss(r(3, 4), r(3, 4), r(3, 4)),
    "gaussian_nll_loss": lambda L, F, r, p: F.gaussian_nll_loss(r(3), r(3), p(3)),
    "avg_pool2d": lambda L, F, r, p: F.avg_pool2d(r(1, 2, 4, 4), 2),
    "avg_pool3d": lambda L, F, r, p: F.avg_pool3d(r(1, 1, 2, 2, 2), 2),
    "adaptive_avg_pool3d": lambda L, F, r, p: F.adaptive_avg_pool3d(r(1, 1, 4, 4, 4), 3),
    "pad_reflect": lambda L, F, r, p: F.pad(r(1, 2, 4), (1, 1), mode="reflect"),
    "pad_reflect3d": lambda L, F, r, p: F.pad(r(1, 1, 2, 2, 2), (1,) * 6, mode="reflect"),
    "pad_replicate3d": lambda L, F, r, p: F.pad(r(1, 1, 2, 2, 2), (1,) * 6, mode="replicate"),
    "adaptive_avg_pool2d": lambda L, F, r, p: F.adaptive_avg_pool2d(r(1, 2, 5, 5), 3),
    "rms_norm": lambda L, F, r, p: F.rms_norm(r(3, 4), (4,), r(4)),
    "cosine_similarity": lambda L, F, r, p: F.cosine_similarity(r(3, 4), r(3, 4)),
    "embedding_bag": lambda L, F, r, p: F.embedding_bag(L.tensor([[0, 1], [1, 2]]), r(3, 4)),
    "pad_constant": lambda L, F, r, p: F.pad(r(1, 2, 4), (1, 1)),
    "interpolate": lambda L, F, r, p: F.interpolate(r(1, 1, 4, 4), scale_factor=2, mode="bilinear"),
    "silu": lambda L, F, r, p: F.silu(r(3)),
    "sum": lambda L, F, r, p: r(3).sum(),
    "cat": lambda L, F, r, p: L.cat([r(2), r(2).float()]),
}


def _run_op(lib, fn, dtype_name):
    Fn = lib.nn.functional
    cast = getattr(lib, dtype_name)
    r = lambda *s: lib.tensor(_arr(*s)).to(cast)
    p = lambda *s: lib.tensor(_prob(*s)).to(cast)
    ctx = lib.autocast("cpu", dtype=lib.float16)
    with ctx:
        return fn(lib, Fn, r, p)


@pytest.mark.parametrize("in_dtype", ["float32", "float16"])
@pytest.mark.parametrize("name", list(OPS))
def test_autocast_output_dtype_matches_torch(name, in_dtype, torch):
    state = RNG.bit_generator.state
    theirs = _run_op(torch, OPS[name], in_dtype)
    RNG.bit_generator.state = state  # the same inputs for both
    ours = _run_op(ad, OPS[name], in_dtype)
    assert ours.dtype.name == str(theirs.dtype).removeprefix("torch."), name
    # torch's bilinear runs its inner bmm in float16 but returns float32; ours stays float32
    tol = 2e-2 if "float16" in (ours.dtype.name, in_dtype) or name == "bilinear" else 1e-4
    np.testing.assert_allclose(ours.float().numpy(), theirs.float().numpy(), rtol=tol, atol=tol)


def test_mha_and_transformer_dtypes_match_torch(torch):
    x = _arr(2, 1, 8)
    with ad.autocast("cpu"):
        o, w = nn.MultiheadAttention(8, 2)(*[ad.tensor(x)] * 3)
        enc = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0)(ad.tensor(x))
    with torch.autocast("cpu", dtype=torch.float16):
        to, tw = torch.nn.MultiheadAttention(8, 2)(*[torch.tensor(x)] * 3)
        tenc = torch.nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0)(torch.tensor(x))
    assert (
        (o.dtype.name, w.dtype.name, enc.dtype.name)
        == tuple(str(t.dtype)[6:] for t in (to, tw, tenc))
        == ("float16", "float16", "float32")
    )


def test_float32_gradients_through_autocast_match_torch(torch):
    x, w1, b1, w2 = _arr(5, 8), _arr(16, 8) * 0.3, _arr(16), _arr(3, 16) * 0.3
    y = np.array([0, 1, 2, 0, 1])
    grads = {}
    for lib in (ad, torch):
        ps = [lib.tensor(a, requires_grad=True) for a in (w1, b1, w2)]
        with lib.autocast("cpu", dtype=lib.float16):
            h = lib.nn.functional.linear(lib.tensor(x), ps[0], ps[1]).relu()
            out = lib.nn.functional.linear(h, ps[2])
            loss = lib.nn.functional.cross_entropy(out, lib.tensor(y))
        assert str(out.dtype).endswith("float16") and str(loss.dtype).endswith("float32")
        loss.backward()
        assert all(str(p.grad.dtype).endswith("float32") for p in ps)
        grads[lib.__name__] = [p.grad.numpy() for p in ps]
    for g, t in zip(grads["autodiff"], grads["torch"]):
        np.testing.assert_allclose(g, t, rtol=2e-2, atol=2e-3)


def test_cast_cache_reuses_parameter_casts_and_sees_in_place_updates():
    lin = nn.Linear(4, 3)
    x = ad.randn(2, 4)
    from autodiff.amp.autocast_mode import _STATE

    with ad.autocast("cpu"):
        y1, y2 = lin(x), lin(x)
        assert len(_STATE.cache) == 2  # weight and bias, cast once each
        (y1.float().sum() + y2.float().sum()).backward()
        np.testing.assert_allclose(
            lin.weight.grad.numpy(), 2 * np.tile(x.numpy().sum(0), (3, 1)), rtol=2e-3
        )
        with ad.no_grad():
            lin.weight.mul_(0.0)
        assert np.all(lin(x).numpy() == lin.bias.half().numpy())  # recast after the update
    assert not _STATE.cache  # cleared when the outermost region exits
    with ad.autocast("cpu", cache_enabled=False):
        lin(x)
        assert not _STATE.cache


def test_nesting_decorator_and_state_queries():
    a, b = ad.randn(2, 3), ad.randn(3, 2)
    assert not ad.amp.is_autocast_enabled("cpu") and ad.amp.get_autocast_dtype("cpu") is ad.half

    @ad.autocast("cpu")
    def f():
        assert ad.amp.is_autocast_enabled("cpu") and not ad.amp.is_autocast_enabled()
        with ad.autocast("cpu", enabled=False):
            inner = (a @ b).dtype
        return (a @ b).dtype, inner

    assert f() == (ad.float16, ad.float32)
    assert f() == (ad.float16, ad.float32)  # the decorator reuses its instance
    assert (a @ b).dtype is ad.float32
    seen = []
    with ad.amp.autocast("numpy"):  # autodiff's CPU device names work too
        t = threading.Thread(target=lambda: seen.append(ad.amp.is_autocast_enabled("cpu")))
        t.start()
        t.join()
        assert ad.amp.is_autocast_enabled("cpu")
    assert seen == [False]  # thread-local, as in PyTorch
    d64 = ad.randn(2, 3, dtype=ad.float64)
    with ad.autocast("cpu"):
        assert (d64 @ d64.T).dtype is ad.float64  # float64 is never cast
        assert (ad.arange(6).reshape(2, 3) @ ad.arange(6).reshape(3, 2)).dtype is ad.int64


def test_unsupported_dtype_warns_and_disables_like_torch(torch):
    match = "CPU autocast, but the target dtype is not supported"
    with pytest.warns(UserWarning, match=match), torch.autocast("cpu", dtype=torch.float64):
        assert (torch.ones(2, 2) @ torch.ones(2, 2)).dtype == torch.float32
    with pytest.warns(UserWarning, match=match), ad.autocast("cpu", dtype=ad.float64) as ac:
        assert (ad.ones(2, 2) @ ad.ones(2, 2)).dtype is ad.float32
    assert not ac._enabled
    with pytest.raises(TypeError, match="expected dtype to be an autodiff dtype"):
        ad.autocast("cpu", dtype="bfloat16")
    with pytest.raises(RuntimeError, match="unsupported autocast device_type 'tpu'"):
        ad.autocast("tpu")
    with pytest.raises(ValueError, match="Expected `device_type` of type `str`"):
        ad.autocast(0)
    with pytest.raises(TypeError, match="requires a callable"):
        ad.autocast("cpu")(3)


@pytest.mark.skipif(ad.cuda.is_available(), reason="checks the no-CUDA fallback")
def test_cuda_spellings_without_cuda_warn_and_disable(torch):
    with pytest.warns(UserWarning, match="CUDA is not available"):
        assert not ad.autocast("cuda")._enabled
    no_cuda = pytest.warns(UserWarning, match="CUDA is not available")
    with pytest.warns(FutureWarning, match="cuda.amp.autocast"), no_cuda:
        ad.cuda.amp.autocast()
    no_cuda = pytest.warns(UserWarning, match="CUDA is not available")
    with pytest.warns(FutureWarning, match="cuda.amp.GradScaler"), no_cuda:
        scaler = ad.cuda.amp.GradScaler()
    with pytest.warns(FutureWarning), pytest.warns(UserWarning):
        theirs = torch.cuda.amp.GradScaler()
    assert scaler.is_enabled() == theirs.is_enabled() is False
    loss = ad.tensor(2.0)
    assert scaler.scale(loss) is loss and scaler.get_scale() == 1.0 and scaler.state_dict() == {}


def test_cpu_spellings_warn_and_work():
    with pytest.warns(FutureWarning, match="cpu.amp.autocast"):
        ctx = ad.cpu.amp.autocast()
    with ctx:
        assert (ad.ones(2, 2) @ ad.ones(2, 2)).dtype is ad.float16
    with pytest.warns(FutureWarning, match="cpu.amp.GradScaler"):
        assert ad.cpu.amp.GradScaler(init_scale=8.0).get_scale() == 8.0


def test_custom_fwd_and_bwd():
    seen = {}

    class Square(ad.autograd.Function):
        @staticmethod
        @ad.amp.custom_fwd(device_type="cpu", cast_inputs=ad.float32)
        def forward(ctx, x):
            seen["fwd"] = (x.dtype, ad.amp.is_autocast_enabled("cpu"))
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        @ad.amp.custom_bwd(device_type="cpu")
        def backward(ctx, g):
            seen["bwd"] = ad.amp.is_autocast_enabled("cpu")
            (x,) = ctx.saved_tensors
            return 2 * x * g

    x = ad.tensor([1.0, 2.0], dtype=ad.float16, requires_grad=True)
    with ad.autocast("cpu"):
        y = Square.apply(x)
    y.sum().backward()
    assert seen == {"fwd": (ad.float32, False), "bwd": False}
    assert y.dtype is ad.float32 and x.grad.tolist() == [2.0, 4.0]


# ----------------------------------------------------------------------------- GradScaler
class _TorchSGD:
    """SGD with momentum (PyTorch's rule) for torch tensors: what GradScaler needs of an
    optimizer (param_groups, step), without the seconds ``import torch.optim`` takes."""

    def __init__(self, params, lr, momentum=0.0):
        self.param_groups = [{"params": list(params)}]
        self.lr, self.momentum, self.bufs = lr, momentum, {}

    def step(self, closure=None):
        import torch

        with torch.no_grad():
            for p in self.param_groups[0]["params"]:
                if p.grad is None:
                    continue
                buf = self.bufs.get(id(p))
                buf = p.grad.clone() if buf is None else buf.mul_(self.momentum).add_(p.grad)
                self.bufs[id(p)] = buf
                p.sub_(self.lr * buf)

    def zero_grad(self):
        for p in self.param_groups[0]["params"]:
            p.grad = None


def _sgd(lib, params, lr, momentum=0.0):
    return (optim.SGD if lib is ad else _TorchSGD)(params, lr=lr, momentum=momentum)


def _train(lib, steps, inf_steps, use_autocast, init_scale=2.0**10, growth_interval=2):
    """A 2-layer MLP trained with SGD(momentum) and a GradScaler; at ``inf_steps`` one
    gradient is set to inf (or NaN) after backward. Returns the scales after each update,
    which steps changed the parameters, and the final parameters."""
    rng = np.random.default_rng(3)
    data = [
        rng.standard_normal(s).astype(np.float32) * k
        for s, k in (((8, 4), 0.5), ((8,), 0.1), ((3, 8), 0.5), ((3,), 0.1))
    ]
    x, y = rng.standard_normal((6, 4)).astype(np.float32), np.array([0, 1, 2, 0, 1, 2])
    ps = [lib.tensor(a, requires_grad=True) for a in data]
    opt = _sgd(lib, ps, lr=0.1, momentum=0.9)
    scaler = lib.amp.GradScaler("cpu", init_scale=init_scale, growth_interval=growth_interval)
    Fn = lib.nn.functional
    scales, stepped = [], []
    for i in range(steps):
        opt.zero_grad()
        with lib.autocast("cpu", dtype=lib.float16, enabled=use_autocast):
            h = Fn.linear(lib.tensor(x), ps[0], ps[1]).relu()
            loss = Fn.cross_entropy(Fn.linear(h, ps[2], ps[3]), lib.tensor(y))
        scaler.scale(loss).backward()
        if i in inf_steps:
            ps[i % 4].grad[0] = float("nan") if i % 2 else float("inf")
        before = [p.detach().numpy().copy() for p in ps]
        scaler.step(opt)
        scaler.update()
        stepped.append(any(not np.array_equal(b, p.detach().numpy()) for b, p in zip(before, ps)))
        scales.append(scaler.get_scale())
    return scales, stepped, [p.detach().numpy() for p in ps], scaler


@pytest.mark.parametrize("use_autocast", [False, True], ids=["float32", "autocast"])
def test_grad_scaler_training_matches_torch(use_autocast, torch):
    inf_steps = {1, 4, 5}
    scales, stepped, params, scaler = _train(ad, 9, inf_steps, use_autocast)
    t_scales, t_stepped, t_params, t_scaler = _train(torch, 9, inf_steps, use_autocast)
    assert scales == t_scales
    assert scales == [1024.0, 512.0, 512.0, 1024.0, 512.0, 256.0, 256.0, 512.0, 512.0]
    assert stepped == t_stepped == [i not in inf_steps for i in range(9)]
    assert scaler.state_dict() == t_scaler.state_dict()
    tol = 2e-2 if use_autocast else 1e-5
    for p, t in zip(params, t_params):
        np.testing.assert_allclose(p, t, rtol=tol, atol=tol)


def test_grad_scaler_growth_is_capped_and_factors_round_like_torch(torch):
    for lib in (ad, torch):
        s = lib.amp.GradScaler(
            "cpu", init_scale=3.0e38, growth_factor=1.5, backoff_factor=0.3, growth_interval=1
        )
        p = lib.ones(2, requires_grad=True)
        opt = _sgd(lib, [p], lr=0.1)
        seq = []
        for bad in (False, True, False, False, True):
            s.scale((p * 1e-30).sum()).backward()
            if bad:
                p.grad[1] = float("inf")
            s.step(opt)
            s.update()
            seq.append((s.get_scale(), s._get_growth_tracker()))
            p.grad = None
        if lib is ad:
            ours = seq
    assert ours == seq
    assert ours[0][0] == pytest.approx(3.0e38)  # 4.5e38 overflows float32: no growth


def test_unscale_then_clip_matches_torch(torch):
    grads = {}
    for lib in (ad, torch):
        p = lib.tensor([[1.0, -2.0], [3.0, 0.5]], requires_grad=True)
        opt = _sgd(lib, [p], lr=1.0)
        s = lib.amp.GradScaler("cpu", init_scale=2.0**12)
        s.scale((p * p).sum()).backward()
        s.unscale_(opt)
        grads[lib.__name__] = p.grad.numpy().copy()
        with pytest.raises(RuntimeError, match="already been called on this optimizer"):
            s.unscale_(opt)
        s.step(opt)
        with pytest.raises(RuntimeError, match="step\\(\\) has already been called"):
            s.step(opt)
        with pytest.raises(RuntimeError, match="unscale_\\(\\) is being called after step"):
            s.unscale_(opt)
        s.update()
    np.testing.assert_array_equal(grads["autodiff"], grads["torch"])
    np.testing.assert_array_equal(grads["autodiff"], [[2.0, -4.0], [6.0, 1.0]])


def test_grad_scaler_api():
    s = ad.amp.GradScaler(init_scale=4.0, growth_factor=3.0, backoff_factor=0.25, growth_interval=7)
    assert (
        s.get_scale(),
        s.get_growth_factor(),
        s.get_backoff_factor(),
        s.get_growth_interval(),
        s.is_enabled(),
    ) == (4.0, 3.0, 0.25, 7, True)
    with pytest.raises(RuntimeError, match="Attempted step but _scale is None"):
        s.step(optim.SGD([ad.ones(1, requires_grad=True)], lr=1.0))
    a, b = ad.ones(2), ad.full((3,), 2.0)
    out = s.scale([a, (b, [a])])
    assert isinstance(out, list) and isinstance(out[1], tuple)
    assert out[0].tolist() == [4.0, 4.0] and out[1][0].tolist() == [8.0] * 3
    assert out[1][1][0].tolist() == [4.0, 4.0]
    with pytest.raises(ValueError, match="outputs must be a Tensor or an iterable"):
        s.scale(3.0)
    s.update(16.0)
    assert s.get_scale() == 16.0
    s.update(ad.tensor(32.0))
    assert s.get_scale() == 32.0
    with pytest.raises(ValueError, match="new_scale should be a float"):
        s.update(ad.tensor([1.0, 2.0]))
    s.set_growth_factor(4.0)
    s.set_backoff_factor(0.5)
    s.set_growth_interval(3)
    sd = s.state_dict()
    assert sd == {
        "scale": 32.0,
        "growth_factor": 4.0,
        "backoff_factor": 0.5,
        "growth_interval": 3,
        "_growth_tracker": 0,
    }
    s2 = ad.amp.GradScaler()
    s2.load_state_dict(sd)
    assert s2.state_dict() == sd
    with pytest.raises(RuntimeError, match="source state dict is empty"):
        s2.load_state_dict({})
    with pytest.raises(ValueError, match="growth factor must be > 1.0"):
        ad.amp.GradScaler(growth_factor=1.0)
    with pytest.raises(ValueError, match="backoff factor must be < 1.0"):
        ad.amp.GradScaler(backoff_factor=1.0)
    off = ad.amp.GradScaler(enabled=False)
    assert off.scale(a) is a and off.get_scale() == 1.0 and off.state_dict() == {}


def test_grad_scaler_errors():
    p = ad.ones(2, requires_grad=True)
    opt = optim.SGD([p], lr=1.0)
    s = ad.amp.GradScaler()
    s.scale(p.sum())
    with pytest.raises(RuntimeError, match="No inf checks were recorded"):
        s.step(opt)  # no gradient at all
    s.scale(p.sum()).backward()
    with pytest.raises(RuntimeError, match="Closure use is not currently supported"):
        s.step(opt, closure=lambda: 0.0)
    h = ad.ones(2, dtype=ad.float16, requires_grad=True)
    s16 = ad.amp.GradScaler(init_scale=4.0)
    s16.scale(h * 2).sum().backward()
    with pytest.raises(ValueError, match="Attempting to unscale FP16 gradients"):
        s16.unscale_(optim.SGD([h], lr=1.0))


def test_grad_scaler_step_passes_closure_and_returns_its_value():
    def run(scaled):
        p = ad.tensor([2.0], requires_grad=True)
        opt = optim.LBFGS([p], lr=0.5, max_iter=3)

        def closure():
            opt.zero_grad()
            loss = ((p - 1.0) ** 2).sum()
            loss.backward()
            return loss

        if not scaled:
            return opt.step(closure), p
        s = ad.amp.GradScaler(init_scale=2.0)
        s.scale(((p - 1.0) ** 2).sum()).backward()
        loss = s.step(opt, closure)  # a positional closure goes through, as in PyTorch
        s.update()
        return loss, p

    (loss, p), (ref_loss, ref_p) = run(True), run(False)
    assert loss.item() == ref_loss.item() == 1.0
    assert p.item() == ref_p.item() != 2.0
