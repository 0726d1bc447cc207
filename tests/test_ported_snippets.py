"""Training-utility snippets as PyTorch users write them (checkpoint/resume, schedulers, hooks,
gradient clipping, parametrizations, attention masks, EMA, REINFORCE, padding, fold), each
written once against the PyTorch API and run with ``lib`` = torch and ``lib`` = autodiff from
identical weights and data; what they return must agree. Values drawn from RNGs are never
compared (the streams differ by design): only their shapes, dtypes and ranges.
"""

from __future__ import annotations

import copy
import io
import math

import numpy as np
import pytest

import autodiff as ad

torch = pytest.importorskip("torch")

LIBS = (torch, ad)


def _same(program, *args, rtol=1e-9, atol=1e-12):
    """Run ``program(lib, *args)`` under both libraries and compare the flat results."""
    t, a = (program(lib, *args) for lib in LIBS)
    np.testing.assert_allclose(np.asarray(a, float), np.asarray(t, float), rtol=rtol, atol=atol,
                               equal_nan=True)
    return t, a


def _flat(*xs):
    return np.concatenate([np.ravel(x.detach().numpy() if hasattr(x, "detach") else x)
                           for x in xs]).astype(float)


def _ported(lib, build, seed=0):
    """``build(lib)`` in float64, autodiff's copy loaded from PyTorch's (seeded) weights."""
    torch.manual_seed(seed)
    tm = build(torch).double()
    if lib is torch:
        return tm
    m = build(ad).double()
    m.load_state_dict({k: ad.tensor(v.detach().numpy()) for k, v in tm.state_dict().items()})
    return m


def _save_load(lib, obj):
    buf = io.BytesIO()
    lib.save(obj, buf)
    buf.seek(0)
    return lib.load(buf)


# 1. Checkpoint / resume: a run resumed from model + optimizer + scheduler state dicts (through
# the library's own save / load) continues exactly as the uninterrupted run, and as PyTorch's.

def _mlp(lib):
    nn = lib.nn
    return nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 2))


OPTIMIZERS = {
    "sgd_nesterov": ("SGD", {"lr": 0.1, "momentum": 0.9, "nesterov": True, "weight_decay": 1e-3}),
    "adam_amsgrad": ("Adam", {"lr": 0.01, "amsgrad": True}),
    "adamw": ("AdamW", {"lr": 0.01, "weight_decay": 0.1}),
    "rmsprop_centered": ("RMSprop", {"lr": 0.01, "momentum": 0.5, "centered": True}),
    "adagrad": ("Adagrad", {"lr": 0.1, "lr_decay": 0.01}),
}


def _train_resumable(lib, opt_name, kw, resume_at):
    m = _ported(lib, _mlp)
    make_opt = lambda m: getattr(lib.optim, opt_name)(
        [{"params": m[0].parameters()}, {"params": m[2].parameters(), "lr": kw["lr"] / 2}], **kw)
    make_sched = lambda o: lib.optim.lr_scheduler.StepLR(o, 2, 0.5)
    opt = make_opt(m)
    sched = make_sched(opt)
    rng = np.random.default_rng(0)
    losses = []
    for i in range(6):
        if i == resume_at:
            ck = _save_load(lib, {"model": m.state_dict(), "opt": opt.state_dict(),
                                  "sched": sched.state_dict(), "epoch": i})
            m = _mlp(lib).double()
            m.load_state_dict(ck["model"])
            opt = make_opt(m)
            opt.load_state_dict(ck["opt"])
            sched = make_sched(opt)
            sched.load_state_dict(ck["sched"])
        x = lib.tensor(rng.standard_normal((5, 4)))
        opt.zero_grad()
        loss = (m(x) ** 2).mean()
        loss.backward()
        opt.step()
        sched.step()
        losses.append(loss.item())
    return _flat(np.array(losses), sched.get_last_lr(), *m.parameters())


@pytest.mark.parametrize("opt", OPTIMIZERS)
def test_resume_from_checkpoint(dev, opt):
    name, kw = OPTIMIZERS[opt]
    _, a = _same(_train_resumable, name, kw, -1)
    _, resumed = _same(_train_resumable, name, kw, 3)
    np.testing.assert_allclose(resumed, a, rtol=1e-12, atol=1e-15)


def test_optimizer_state_dict_layout(dev):
    def program(lib):
        m = _ported(lib, _mlp)
        opt = lib.optim.Adam(m.parameters(), lr=0.01)
        m(lib.ones(2, 4, dtype=lib.float64)).sum().backward()
        opt.step()
        sd = opt.state_dict()
        group = {k: v for k, v in sd["param_groups"][0].items() if k != "params"}
        return sd["param_groups"][0]["params"], sorted(group), sorted(sd["state"][0]), \
            float(sd["state"][0]["step"]), type(sd["state"][0]["step"]).__module__.split(".")[0]

    t, a = (program(lib) for lib in LIBS)
    assert a[:4] == t[:4] and (t[4], a[4]) == ("torch", "autodiff")


def _tied(lib):
    nn = lib.nn

    class TiedLM(nn.Module):
        def __init__(self):
            super().__init__()
            self.enc = nn.Embedding(5, 3)
            self.dec = nn.Linear(3, 5, bias=False)
            self.dec.weight = self.enc.weight  # weight tying
            self.register_buffer("pe", lib.ones(3), persistent=False)
            self.register_buffer("count", lib.zeros(1))

        def forward(self, idx):
            return self.dec(self.enc(idx) + self.pe)

    return TiedLM()


def test_state_dict_keys_tying_and_deepcopy(dev):
    def program(lib):
        m = _ported(lib, _tied)
        names = ([n for n, _ in m.named_parameters()], list(m.state_dict()),
                 [n for n, _ in m.named_parameters(remove_duplicate=False)],
                 [n for n, _ in m.named_buffers()])
        m(lib.tensor([1, 2, 2])).pow(2).sum().backward()
        twin = copy.deepcopy(m)
        assert twin.dec.weight is twin.enc.weight and twin.enc.weight is not m.enc.weight
        sd = m.state_dict()
        del sd["count"]
        sd["stale.weight"] = lib.zeros(2)
        fresh = _tied(lib).double()
        res = fresh.load_state_dict(sd, strict=False)
        assert fresh.dec.weight is fresh.enc.weight
        assert repr(res) == ("_IncompatibleKeys(missing_keys=['count'], "
                             "unexpected_keys=['stale.weight'])")
        assert repr(fresh.load_state_dict(fresh.state_dict())) == "<All keys matched successfully>"
        with pytest.raises(RuntimeError, match="Missing key"):
            fresh.load_state_dict(sd)
        bad = dict(sd, **{"enc.weight": lib.zeros(4, 3)})
        with pytest.raises(RuntimeError, match="size mismatch"):
            fresh.load_state_dict(bad, strict=False)
        assert (names, res.missing_keys, res.unexpected_keys) == (
            (["enc.weight"], ["count", "enc.weight", "dec.weight"],
             ["enc.weight", "dec.weight"], ["pe", "count"]), ["count"], ["stale.weight"])
        return _flat(m.enc.weight.grad, twin(lib.tensor([0, 4])), fresh.enc.weight)

    _same(program)


# 2. Learning-rate schedulers: get_last_lr() and the optimizer's lr / momentum per group


SCHEDULERS = {
    "lambda": lambda L, o: L.LambdaLR(o, [lambda e: 0.9 ** e, lambda e: 1 / (e + 1)]),
    "multistep": lambda L, o: L.MultiStepLR(o, [2, 5, 5], 0.3),
    "exponential": lambda L, o: L.ExponentialLR(o, 0.8),
    "linear": lambda L, o: L.LinearLR(o, 0.25, 1.0, total_iters=4),
    "warmup_cosine": lambda L, o: L.SequentialLR(o, [
        L.LinearLR(o, 0.1, total_iters=3), L.CosineAnnealingLR(o, T_max=6, eta_min=1e-4)],
        milestones=[3]),
    "chained": lambda L, o: L.ChainedScheduler(
        [L.ConstantLR(o, 0.5, total_iters=3), L.ExponentialLR(o, 0.9)]),
    "warm_restarts": lambda L, o: L.CosineAnnealingWarmRestarts(o, 3, T_mult=2, eta_min=1e-3),
    "cyclic": lambda L, o: L.CyclicLR(o, 1e-3, [0.1, 0.05], step_size_up=3, mode="triangular2"),
    "cyclic_exp_range": lambda L, o: L.CyclicLR(
        o, 1e-3, 0.1, step_size_up=2, step_size_down=4, mode="exp_range", gamma=0.9),
    "polynomial": lambda L, o: L.PolynomialLR(o, total_iters=5, power=2.0),
    "one_cycle": lambda L, o: L.OneCycleLR(
        o, max_lr=[0.2, 0.1], total_steps=14, anneal_strategy="linear", three_phase=True),
    "plateau": lambda L, o: L.ReduceLROnPlateau(o, patience=1, factor=0.5),
}


def _sgd_two_groups(lib):
    w, b = lib.nn.Parameter(lib.zeros(2)), lib.nn.Parameter(lib.zeros(2))
    return lib.optim.SGD([{"params": [w]}, {"params": [b], "lr": 0.01}], lr=0.1, momentum=0.9)


@pytest.mark.parametrize("name", SCHEDULERS)
def test_scheduler_and_its_state_dict(name):
    def program(lib, resume_at):
        make = SCHEDULERS[name]
        opt = _sgd_two_groups(lib)
        sched = make(lib.optim.lr_scheduler, opt)
        rows = []
        for i in range(12):
            if i == resume_at:
                ck = _save_load(lib, {"opt": opt.state_dict(), "sched": sched.state_dict()})
                opt = _sgd_two_groups(lib)
                sched = make(lib.optim.lr_scheduler, opt)
                opt.load_state_dict(ck["opt"])
                sched.load_state_dict(ck["sched"])
            opt.step()
            sched.step(*([1.0] if name == "plateau" else []))
            groups = opt.param_groups
            rows.append([g["lr"] for g in groups] + [g["momentum"] for g in groups]
                        + list(sched.get_last_lr() if name != "plateau" else []))
        return np.array(rows, float)

    _, a = _same(program, -1, rtol=1e-12)
    np.testing.assert_allclose(program(ad, 5), a, rtol=1e-12)


def test_scheduler_warnings_and_fractional_epochs():
    def program(lib):
        import warnings

        opt = _sgd_two_groups(lib)
        sched = lib.optim.lr_scheduler.StepLR(opt, 1, 0.1)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            sched.step()  # before optimizer.step(): PyTorch warns
        assert any("optimizer.step()" in str(w.message) for w in caught)
        opt = _sgd_two_groups(lib)
        sched = lib.optim.lr_scheduler.CosineAnnealingWarmRestarts(opt, 4)
        lrs = []
        for epoch in np.arange(0, 6, 0.5):
            opt.step()
            sched.step(float(epoch))
            lrs.append(sched.get_last_lr())
        return _flat(np.array(lrs), [sched.T_cur, sched.T_i, sched.last_epoch])

    _same(program, rtol=1e-12)


# 3. Module hooks, gradient clipping, flat parameter vectors, parametrizations, checkpointing


def test_module_hooks_and_their_removal(dev):
    def program(lib):
        log = []
        m = _ported(lib, lambda lib: lib.nn.Linear(3, 2))
        handles = [
            m.register_forward_pre_hook(lambda mod, args: (args[0] * 2,)),
            m.register_forward_hook(lambda mod, args, kwargs, out: out + 1, with_kwargs=True),
            m.register_full_backward_hook(
                lambda mod, gin, gout: log.append(_flat(gin[0], gout[0]))),
            m.register_full_backward_pre_hook(lambda mod, gout: (gout[0] * 3,)),
            m.register_forward_hook(lambda *a: log.append([-1.0]), prepend=True),
        ]
        x = lib.tensor(np.linspace(-1, 1, 6).reshape(2, 3), requires_grad=True)
        y = m(x)
        y.pow(2).sum().backward()
        first = _flat(y, x.grad, m.weight.grad, *log)
        for h in handles:
            h.remove()
        x.grad = None
        y = m(x)
        y.pow(2).sum().backward()
        return np.concatenate([first, _flat(y, x.grad), [len(log)]])

    _same(program)


def test_forward_hooks_see_and_change_kwargs():
    def program(lib):
        class Scale(lib.nn.Module):
            def forward(self, x, scale=1.0):
                return x * scale

        m, seen, order = Scale(), [], []
        m.register_forward_pre_hook(lambda mod, a, kw: (a, {**kw, "scale": kw["scale"] + 3}),
                                    with_kwargs=True)
        m.register_forward_hook(lambda mod, a, kw, out: seen.append(kw["scale"]),
                                with_kwargs=True)
        m.register_forward_hook(lambda *a: order.append(2), always_call=True)
        m.register_forward_hook(lambda *a: order.append(1), prepend=True)
        return _flat(m(lib.ones(2), scale=2.0), seen, order)

    _same(program)


def test_global_module_hooks(dev):
    def program(lib):
        nn, log = lib.nn, []
        glob = lib.nn.modules.module
        handles = [
            glob.register_module_forward_pre_hook(lambda m, a: log.append(type(m).__name__)),
            glob.register_module_forward_hook(lambda m, a, o: log.append(o.shape[-1])),
            glob.register_module_forward_hook(
                lambda m, a, kw, o: o * 2 if isinstance(m, nn.ReLU) else None,
                with_kwargs=True),
            glob.register_module_forward_hook(lambda m, a, o: log.append(o), always_call=True),
        ]
        try:
            s = _ported(lib, lambda lib: lib.nn.Sequential(lib.nn.Linear(2, 3), lib.nn.ReLU()))
            s[1].register_forward_hook(lambda m, a, o: log.append(round(o.sum().item(), 9)))
            s[1].register_forward_pre_hook(lambda m, a: log.append("own"), prepend=True)
            y = s(lib.ones(1, 2, dtype=lib.float64))
            with pytest.raises(RuntimeError):
                s[0](lib.ones(1, 5, dtype=lib.float64))  # the always_call hook sees None
        finally:
            for h in handles:
                h.remove()
        n = len(log)
        s(lib.ones(1, 2, dtype=lib.float64))
        assert len(log) == n + 2  # only the module's own hooks now
        return [str(x) if isinstance(x, str) or x is None else "out" if hasattr(x, "shape")
                else x for x in log] + np.round(y.detach().numpy(), 9).tolist()

    t, a = (program(lib) for lib in LIBS)
    assert a == t


def test_global_module_backward_hooks(dev):
    def program(lib):
        nn, glob, log = lib.nn, lib.nn.modules.module, []
        s = _ported(lib, lambda lib: lib.nn.Sequential(lib.nn.Linear(2, 3), lib.nn.Tanh()))
        s[1].register_full_backward_hook(lambda m, gi, go: log.append(type(m).__name__))
        handles = [
            glob.register_module_full_backward_hook(
                lambda m, gi, go: log.append(_flat(gi[0]).round(9).tolist())),
            glob.register_module_full_backward_pre_hook(
                lambda m, go: (go[0] * 2,) if isinstance(m, nn.Tanh) else log.append("pre")),
        ]
        x = lib.ones(1, 2, dtype=lib.float64, requires_grad=True)
        try:
            s(x).sum().backward()
        finally:
            for h in handles:
                h.remove()
        hooked, x.grad = x.grad, None
        s(x).sum().backward()
        return log, _flat(hooked, x.grad).round(12).tolist()

    t, a = (program(lib) for lib in LIBS)
    assert a == t


@pytest.mark.parametrize("norm_type", [2.0, math.inf, "inf", 1.0, 0.5])
def test_clip_grad_norm_and_value(dev, norm_type):
    def program(lib):
        nn = lib.nn
        ps = [nn.Parameter(lib.zeros(3, dtype=lib.float64)),
              nn.Parameter(lib.zeros(2, dtype=lib.float64))]
        grads = ([3.0, -4.0, 1.0], [0.5, -7.0])

        def set_grads():
            for p, g in zip(ps, grads):
                p.grad = lib.tensor(g, dtype=lib.float64)

        set_grads()
        total = nn.utils.clip_grad_norm_(ps, 2.0, norm_type=norm_type)
        assert total.dtype == lib.float64 and total.ndim == 0
        clipped = _flat(total, *[p.grad for p in ps])
        set_grads()
        nn.utils.clip_grad_value_(ps, 1.5)
        ps[1].grad[0] = float("nan")
        with pytest.raises(RuntimeError):
            nn.utils.clip_grad_norm_(ps, 1.0, norm_type=norm_type, error_if_nonfinite=True)
        vec = nn.utils.parameters_to_vector(ps)
        nn.utils.vector_to_parameters(lib.arange(5, dtype=lib.float64), ps)
        return _flat(clipped, ps[0].grad, ps[1].grad[1:], vec, *ps,
                     nn.utils.clip_grad_norm_([], 1.0), nn.utils.clip_grad_norm_(ps[0], 1.0))

    _same(program)


@pytest.mark.parametrize("kind", ["weight_norm", "orthogonal", "spectral_norm"])
def test_parametrized_layer_in_training(dev, kind):
    def program(lib):
        P = lib.nn.utils.parametrizations
        m = _ported(lib, lambda lib: lib.nn.Linear(3, 4))
        m = {"weight_norm": P.weight_norm, "orthogonal": P.orthogonal,
             "spectral_norm": lambda m: P.spectral_norm(m, n_power_iterations=30)}[kind](m)
        opt = lib.optim.SGD(m.parameters(), lr=0.05)
        x = lib.tensor(np.random.default_rng(1).standard_normal((5, 3)))
        losses = []
        for _ in range(3):
            opt.zero_grad()
            loss = m(x).pow(2).sum()
            loss.backward()
            opt.step()
            losses.append(loss.item())
        keys = sorted(m.state_dict())
        m.eval()
        w = m.weight.detach()
        lib.nn.utils.parametrize.remove_parametrizations(m, "weight")
        assert type(m).__name__ == "Linear" and sorted(m.state_dict()) == ["bias", "weight"]
        if kind == "spectral_norm":  # its power iteration starts from a random vector
            return [len(keys), float(w.shape[0])]
        return np.concatenate([_flat(np.array(losses), w, m.weight), [len(keys)]])

    _same(program, rtol=1e-8)


def test_activation_checkpointing_gives_the_same_grads(dev):
    def program(lib):
        import importlib

        cp = importlib.import_module(lib.__name__ + ".utils.checkpoint")
        m = _ported(lib, lambda lib: lib.nn.Sequential(
            lib.nn.Linear(3, 4), lib.nn.Tanh(), lib.nn.Linear(4, 2)))
        x = lib.tensor(np.random.default_rng(1).standard_normal((5, 3)), requires_grad=True)
        out = []
        for run in (lambda: m(x), lambda: cp.checkpoint(m, x, use_reentrant=False),
                    lambda: cp.checkpoint_sequential(m, 2, x, use_reentrant=False),
                    lambda: cp.checkpoint(lambda a, s: m(a) * s, x, lib.tensor(2.0),
                                          use_reentrant=True)):
            m.zero_grad()
            x.grad = None
            run().pow(2).sum().backward()
            out.append(_flat(x.grad, *[p.grad for p in m.parameters()]))
        return np.concatenate(out)

    _same(program)


# 4. Attention and masking as modern code writes it


def _qkv(lib):
    r = np.random.default_rng(0)
    return [lib.tensor(r.standard_normal(s), requires_grad=True)
            for s in ((2, 3, 4, 5), (2, 3, 6, 5), (2, 3, 6, 7))]


def _masks(lib, kind):
    r = np.random.default_rng(5)
    if kind == "bool":
        return lib.tensor(r.random((4, 6)) > 0.3)
    if kind == "bool_fully_masked_row":  # (N, 1, L, S): broadcast over heads
        m = np.ones((2, 1, 4, 6), bool)
        m[0, 0, 1] = False
        return lib.tensor(m)
    if kind == "float":
        return lib.tensor(r.standard_normal((1, 3, 4, 6)))
    if kind == "float_inf_columns":
        m = np.zeros((4, 6))
        m[:, 4:] = -np.inf
        return lib.tensor(m)
    return None


@pytest.mark.parametrize("mask,is_causal,scale", [
    (None, False, None), (None, True, None), (None, True, 0.5), ("bool", False, None),
    ("bool_fully_masked_row", False, None), ("float", False, 0.3),
    ("float_inf_columns", False, None)])
def test_scaled_dot_product_attention(dev, mask, is_causal, scale):
    def program(lib):
        q, k, v = _qkv(lib)
        o = lib.nn.functional.scaled_dot_product_attention(
            q, k, v, attn_mask=_masks(lib, mask), dropout_p=0.0, is_causal=is_causal,
            scale=scale)
        (o * lib.arange(7, dtype=lib.float64)).sum().backward()
        return _flat(o, q.grad, k.grad, v.grad)

    _same(program)


@pytest.mark.parametrize("batch_first,average,mask", [
    (True, False, None), (False, True, "bool"), (True, False, "float"), (False, False, "float")])
def test_multihead_attention_weights(dev, batch_first, average, mask):
    def program(lib):
        m = _ported(lib, lambda lib: lib.nn.MultiheadAttention(
            6, 2, batch_first=batch_first, kdim=4, vdim=5))
        r = np.random.default_rng(3)

        def seq(b, n, e):
            return lib.tensor(r.standard_normal((b, n, e) if batch_first else (n, b, e)))

        q, k, v = seq(2, 3, 6), seq(2, 4, 4), seq(2, 4, 5)
        kpm = lib.tensor(np.array([[False, False, True, True], [False] * 4]))
        if mask == "float":  # (mismatched mask dtypes are deprecated: PyTorch warns)
            kpm = lib.zeros(2, 4, dtype=lib.float64).masked_fill(kpm, -math.inf)
        am = {"bool": lambda: lib.tensor(np.triu(np.ones((3, 4), bool), 1)),
              "float": lambda: lib.tensor(r.standard_normal((4, 3, 4))), None: lambda: None}
        o, w = m(q, k, v, key_padding_mask=kpm, attn_mask=am[mask](), need_weights=True,
                 average_attn_weights=average)
        assert w.shape == ((2, 3, 4) if average else (2, 2, 3, 4))
        o.pow(2).sum().backward()
        return _flat(o, w, m.in_proj_bias.grad, m.q_proj_weight.grad)

    _same(program)


def test_masked_fill_inf_then_softmax(dev):
    def program(lib):
        F = lib.nn.functional
        s = lib.tensor(np.random.default_rng(5).standard_normal((3, 4)), requires_grad=True)
        mask = lib.tensor(np.array([[1, 1, 0, 0], [0, 0, 0, 0], [1, 1, 1, 1]], bool))
        p = s.masked_fill(~mask, float("-inf")).softmax(-1)  # the all-masked row: NaN
        p2 = F.softmax(s.masked_fill(mask == 0, -1e9), dim=-1)  # uniform there
        (lib.nan_to_num(p, nan=0.0) * lib.arange(4.0)).sum().backward()
        return _flat(p, p2, s.grad)

    _same(program)


# 5. Weight averaging, policy-gradient losses, and tensor utilities


@pytest.mark.parametrize("kind", ["swa", "ema_buffers", "ema", "lambda"])
def test_averaged_model(dev, kind):
    def program(lib):
        nn, su = lib.nn, lib.optim.swa_utils
        m = _ported(lib, lambda lib: lib.nn.Sequential(
            lib.nn.Linear(3, 4), lib.nn.BatchNorm1d(4), lib.nn.Linear(4, 1)))
        avg = {"swa": lambda: su.AveragedModel(m),
               "ema_buffers": lambda: su.AveragedModel(
                   m, multi_avg_fn=su.get_ema_multi_avg_fn(0.9), use_buffers=True),
               "ema": lambda: su.AveragedModel(m, avg_fn=su.get_ema_avg_fn(0.8)),
               "lambda": lambda: su.AveragedModel(m, avg_fn=lambda a, p, n: 0.7 * a + 0.3 * p),
               }[kind]()
        opt = lib.optim.SGD(m.parameters(), lr=0.1)
        swa_sched = su.SWALR(opt, swa_lr=0.05, anneal_epochs=3, anneal_strategy="cos")
        r = np.random.default_rng(1)
        xs = [lib.tensor(r.standard_normal((6, 3))) for _ in range(5)]
        lrs = []
        for x in xs:
            opt.zero_grad()
            m(x).pow(2).mean().backward()
            opt.step()
            avg.update_parameters(m)
            swa_sched.step()
            lrs.append(opt.param_groups[0]["lr"])
        if kind == "swa":
            su.update_bn(xs, avg)
        avg.eval()
        assert isinstance(avg.module, nn.Sequential)
        return _flat(avg(xs[0]), np.array(lrs), avg.n_averaged,
                     *[v.double() for v in avg.state_dict().values()])

    _same(program)


def test_reinforce_loss_with_categorical_and_normal(dev):
    def program(lib):
        D = lib.distributions
        logits = lib.tensor(np.arange(12.0).reshape(4, 3) / 7, requires_grad=True)
        mu = lib.tensor([0.5, -1.0], dtype=lib.float64, requires_grad=True)
        sd = lib.tensor([1.5, 0.3], dtype=lib.float64, requires_grad=True)
        pi, actions = D.Categorical(logits=logits), lib.tensor([0, 2, 1, 1])
        gauss, act = D.Normal(mu, sd), lib.tensor([0.1, 0.2], dtype=lib.float64)
        adv = lib.tensor([1.0, -2.0, 0.5, 3.0], dtype=lib.float64)
        loss = (-(pi.log_prob(actions) * adv).mean() - 0.01 * pi.entropy().mean()
                - gauss.log_prob(act).sum() - gauss.entropy().sum())
        loss.backward()
        draws = (pi.sample((5,)), pi.sample(), gauss.rsample((3,)))
        assert [tuple(d.shape) for d in draws] == [(5, 4), (4,), (3, 2)]
        assert draws[1].dtype == lib.int64 and draws[2].requires_grad
        assert ((draws[0] >= 0) & (draws[0] < 3)).all()
        probs = D.Categorical(probs=lib.tensor([[0.2, 0.8], [0.5, 0.5]], dtype=lib.float64))
        std = D.Normal(lib.zeros(2, dtype=lib.float64), lib.ones(2, dtype=lib.float64))
        return _flat(loss, logits.grad, mu.grad, sd.grad, probs.log_prob(lib.tensor([1, 0])),
                     probs.entropy(), pi.probs, gauss.cdf(act), D.kl_divergence(gauss, std),
                     gauss.icdf(lib.tensor([0.3, 0.9], dtype=lib.float64)))

    _same(program)


def test_rsample_is_reparametrized(dev):
    mu = ad.tensor([0.5, -1.0], dtype=ad.float64, requires_grad=True)
    sd = ad.tensor([1.5, 0.3], dtype=ad.float64, requires_grad=True)
    s = ad.distributions.Normal(mu, sd).rsample((50,))
    s.sum().backward()
    eps = ((s - mu) / sd).detach()
    np.testing.assert_allclose(mu.grad.numpy(), [50.0, 50.0])
    np.testing.assert_allclose(sd.grad.numpy(), eps.sum(0).numpy(), rtol=1e-12)


def test_one_hot_and_multinomial_dtypes(dev):
    def program(lib):
        F = lib.nn.functional
        a = F.one_hot(lib.tensor([[0, 2], [1, 3]]))
        b = F.one_hot(lib.tensor([1, 0]), num_classes=4)
        assert a.dtype == b.dtype == lib.int64 and tuple(a.shape) == (2, 2, 4)
        for bad in (lib.tensor([1, 2], dtype=lib.int32), lib.tensor([1.0]),
                    lib.tensor([True]), lib.tensor([1, 5]), lib.tensor([-1, 0])):
            with pytest.raises(RuntimeError):
                F.one_hot(bad, 3)
        p = lib.tensor([[0.1, 0.0, 0.9, 0.0], [0.5, 0.5, 0.0, 0.0]])
        without, with_ = lib.multinomial(p, 2), p.multinomial(5, replacement=True)
        assert without.dtype == with_.dtype == lib.int64
        assert [sorted(r) for r in without.tolist()] == [[0, 2], [0, 1]]
        assert set(with_[0].tolist()) <= {0, 2} and set(with_[1].tolist()) <= {0, 1}
        assert tuple(lib.multinomial(lib.ones(0, 3), 2).shape) == (0, 2)
        for bad in (lib.tensor([1, 2]), lib.tensor([0.5, -0.5])):
            with pytest.raises(RuntimeError):
                lib.multinomial(bad, 1)
        return _flat(a, b, without.shape, with_.shape)

    _same(program)


@pytest.mark.parametrize("p", [2.0, 1.0, 0.5, 3.0, math.inf])
def test_cdist(dev, p):
    def program(lib):
        r = np.random.default_rng(7)
        x = lib.tensor(r.standard_normal((2, 5, 3)), requires_grad=True)
        y = lib.tensor(r.standard_normal((2, 4, 3)), requires_grad=True)
        out = []
        for mode in ("use_mm_for_euclid_dist_if_necessary", "use_mm_for_euclid_dist",
                     "donot_use_mm_for_euclid_dist"):
            x.grad = y.grad = None
            d = lib.cdist(x, y, p=p, compute_mode=mode)
            (d * lib.arange(4.0, dtype=lib.float64)).sum().backward()
            out.append(_flat(d, x.grad, y.grad))
        z = lib.tensor([[0.0, 0.0], [1.0, 2.0]], dtype=lib.float64, requires_grad=True)
        lib.cdist(z, z, p=p).sum().backward()  # zero distances: a zero subgradient
        return np.concatenate(out + [_flat(z.grad)])

    _same(program, rtol=1e-8)


X4 = np.random.default_rng(0).standard_normal((2, 3, 4, 5))


@pytest.mark.parametrize("mode", ["constant", "reflect", "replicate", "circular"])
@pytest.mark.parametrize("pad,ndim", [((1, 2), 3), ((1, 2, 2, 0), 4), ((2, 1), 2),
                                      ((1, 2, 3, 0), 3), ((1, 1, 2, 0, 1, 1), 5)])
def test_pad_modes(dev, mode, pad, ndim):
    def program(lib):
        data = X4[..., None].repeat(3, -1) if ndim == 5 else X4[(0,) * (4 - ndim)]
        x = lib.tensor(data, requires_grad=True)
        kw = {"value": 1.5} if mode == "constant" else {}
        y = lib.nn.functional.pad(x, pad, mode=mode, **kw)
        (y * lib.arange(y.shape[-1], dtype=lib.float64)).sum().backward()
        return _flat(y.shape, y, x.grad)

    _same(program)


def test_pad_edge_cases(dev):
    def program(lib):
        F = lib.nn.functional
        x = lib.tensor(X4[0], requires_grad=True)
        crop = F.pad(x, (-1, 2, 0, -2))  # negative padding crops
        wrap = F.pad(x, (-1, 2), mode="circular")
        full = F.pad(x, (4, 0), mode="reflect")  # as wide as allowed
        (crop.sum() + (wrap * wrap).sum() + full.pow(3).sum()).backward()
        with pytest.raises(RuntimeError):
            F.pad(x, (5, 0), mode="reflect")
        return _flat(crop.shape, crop, wrap, full, x.grad)

    _same(program)


@pytest.mark.parametrize("kernel,dilation,padding,stride", [
    (2, 1, 0, 1), ((2, 3), 1, 1, 2), (3, (1, 2), (1, 0), (2, 1)), (1, 1, 0, 1)])
def test_unfold_fold(dev, kernel, dilation, padding, stride):
    def program(lib):
        F, nn = lib.nn.functional, lib.nn
        x = lib.tensor(X4, requires_grad=True)
        cols = F.unfold(x, kernel, dilation=dilation, padding=padding, stride=stride)
        back = F.fold(cols * 2, (4, 5), kernel, dilation=dilation, padding=padding,
                      stride=stride)
        (back * lib.tensor(X4[::-1].copy())).sum().backward()
        ones = lib.ones(1, 1, 4, 5, dtype=lib.float64)
        counts = nn.Fold((4, 5), kernel, dilation, padding, stride)(
            nn.Unfold(kernel, dilation, padding, stride)(ones))
        return _flat(cols.shape, cols, back, x.grad, counts)

    _same(program)


def test_bucketize_and_searchsorted(dev):
    def program(lib):
        b = lib.tensor([1.0, 3.0, 5.0, 7.0])
        v = lib.tensor([[0.0, 3.0, 6.0], [7.0, 9.0, 1.0]])
        outs = [lib.bucketize(v, b), lib.bucketize(v, b, right=True),
                lib.bucketize(v, b, out_int32=True), lib.searchsorted(b, v),
                lib.searchsorted(b, v, right=True), lib.searchsorted(b, v, side="right"),
                lib.searchsorted(lib.tensor([[1.0, 3.0, 5.0], [2.0, 4.0, 6.0]]),
                                 lib.tensor([[3.0, 4.0], [4.0, 7.0]])),
                lib.searchsorted(lib.tensor([5.0, 1.0, 3.0]), lib.tensor([2.0, 4.0]),
                                 sorter=lib.tensor([1, 2, 0])),
                lib.bucketize(lib.tensor([2, 3]), lib.tensor([1.0, 3.0])),
                lib.bucketize(lib.tensor(4.0), b), lib.searchsorted(b, 4.0)]
        return _flat(*outs, [o.dtype == lib.int32 for o in outs], [o.ndim for o in outs])

    _same(program)


def test_mismatched_attention_mask_dtypes_warn(dev):
    for lib in LIBS:
        m = lib.nn.MultiheadAttention(4, 2)
        x = lib.zeros(3, 2, 4)
        with pytest.warns(UserWarning, match="mismatched key_padding_mask and attn_mask"):
            m(x, x, x, key_padding_mask=lib.zeros(2, 3, dtype=lib.bool), attn_mask=lib.zeros(3, 3))


@pytest.mark.parametrize("p", [0.5, 1.5, 3.0, -1.0])
def test_vector_norm_of_nan_is_nan(dev, p):
    def program(lib):
        x = lib.tensor([[math.nan, 1.0, -2.0], [0.0, 0.0, 0.0], [math.inf, 1.0, 0.0]],
                       dtype=lib.float64)
        return _flat(lib.linalg.vector_norm(x, p, dim=1), x.norm(p), x[1:].norm(p, dim=0))

    _same(program)


@pytest.mark.parametrize("call", [
    lambda lib, x: lib.nn.functional.pad(x, (1, 1), mode="reflect", value=1.0),
    lambda lib, x: lib.nn.functional.pad(x, (1, 1) * 4),
    lambda lib, x: lib.nn.functional.pad(x, (1,)),
    lambda lib, x: lib.nn.functional.pad(x, (5, 0), mode="circular"),
    lambda lib, x: lib.cdist(x.long(), x.long()),
    lambda lib, x: lib.cdist(x, x.float()),
    lambda lib, x: lib.cdist(x, x, p=-1.0),
    lambda lib, x: lib.searchsorted(x[0, 0], x[0, 0], right=True, side="left"),
], ids=["pad_value_reflect", "pad_too_long", "pad_odd", "pad_wraps_twice", "cdist_int",
        "cdist_mixed_dtypes", "cdist_negative_p", "searchsorted_opposite_sides"])
def test_argument_errors_as_pytorch(dev, call):
    for lib in LIBS:
        with pytest.raises(RuntimeError):
            call(lib, lib.tensor(np.arange(24.0).reshape(2, 3, 4)))


def test_pad_mode_errors_and_zero_value(dev):
    for lib in LIBS:
        x = lib.tensor(np.arange(24.0).reshape(2, 3, 4))
        with pytest.raises(NotImplementedError):
            lib.nn.functional.pad(x, (1, 1), mode="zeros")
        assert tuple(lib.nn.functional.pad(x, (1, 1), mode="reflect", value=0.0).shape) == (
            2, 3, 6)


def test_transformer_encoder_with_mismatched_masks_warns_once(dev):
    def program(lib):
        import warnings

        nn = lib.nn
        enc = _ported(lib, lambda lib: lib.nn.TransformerEncoder(lib.nn.TransformerEncoderLayer(
            4, 2, 8, dropout=0.0, batch_first=True), 2, enable_nested_tensor=False))
        x = lib.tensor(np.random.default_rng(2).standard_normal((2, 3, 4)))
        causal = nn.Transformer.generate_square_subsequent_mask(3, dtype=lib.float64)
        kpm = lib.tensor([[False, False, True], [False, False, False]])
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            out = enc(x, mask=causal, src_key_padding_mask=kpm)
        assert [str(w.message)[:48] for w in caught] == [
            "Support for mismatched src_key_padding_mask and "]
        return _flat(out)

    _same(program)


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta",
                                  "Adamax", "NAdam", "RAdam", "ASGD", "Rprop"])
def test_print_optimizer_and_its_param_groups(name):
    def program(lib):
        opt = getattr(lib.optim, name)([lib.nn.Parameter(lib.zeros(1))], lr=0.5)
        return repr(opt), repr(opt.state_dict()["param_groups"]), repr(opt.defaults)

    t, a = (program(lib) for lib in LIBS)
    assert a == t
