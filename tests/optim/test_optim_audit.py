"""Differential audit of ``autodiff.optim`` against ``torch.optim``.

For every optimizer both libraries have, each combination of the options torch accepts runs
the same steps on the same float64 parameters (a matrix, a 0-d tensor, a non-contiguous
transpose and one whose grad stays None; two parameter groups with different options) and
compares, after each step, the parameters; then the state dict (state entries and
param_groups with torch's defaults); then a round trip: a fresh optimizer of each library
loads the state dict of torch's (converted to arrays for ours), and both continue. Options
torch rejects must be rejected here with the same error type and message.
"""

from __future__ import annotations

import copy
import itertools
import warnings

import numpy as np
import pytest

import autodiff as ad
from autodiff import optim

try:
    import torch
except ImportError:  # the differential tests skip; the regression tests below still run
    torch = None
needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch is not installed")

SHAPES = [(3, 4), (), "T", (5,)]  # "T": a (4, 3) transposed view; the last has no grad
STEPS, MORE = 3, 4


def _init(lib, seed=0):
    rng = np.random.default_rng(seed)
    out = []
    for shape in SHAPES:
        if shape == "T":
            a = rng.standard_normal((3, 4)).T
            a = a.copy(order="K")
            t = ad.from_numpy(a) if lib is ad else torch.from_numpy(a)
            assert not (t._data.flags["C_CONTIGUOUS"] if lib is ad else t.is_contiguous())
        else:
            a = np.asarray(rng.standard_normal(shape))
            t = lib.tensor(a, dtype=lib.float64)
        out.append(t.requires_grad_())
    return out


def _set_grads(lib, params, step):
    """Seeded grads; the transposed parameter's grad has its strides, as autograd makes it
    (PyTorch's fused kernels rely on that)."""
    rng = np.random.default_rng(100 + step)
    for p, shape in zip(params, SHAPES[:-1]):
        g = np.asarray(rng.standard_normal(shape if shape != "T" else (3, 4)))
        g = g.T.copy(order="K") if shape == "T" else g
        p.grad = ad.from_numpy(g) if lib is ad else torch.from_numpy(g)


def _np(x):
    if isinstance(x, ad.Tensor) or (torch is not None and isinstance(x, torch.Tensor)):
        return x.detach().numpy()
    return x


def _lib_value(lib, v):
    """An option value for ``lib``: ``("T", x)`` is a float64 tensor, tuples recurse."""
    if isinstance(v, tuple) and len(v) == 2 and v[0] == "T":
        return lib.tensor(v[1], dtype=lib.float64)
    if isinstance(v, tuple):
        return tuple(_lib_value(lib, x) for x in v)
    return v


def _groups(lib, params, kw, group2):
    kw = {k: _lib_value(lib, v) for k, v in kw.items()}
    g2 = {k: _lib_value(lib, v) for k, v in group2.items()}
    return [{"params": params[:2]}, {"params": params[2:], **g2}], kw


def _build(lib, name, kw, group2, params):
    groups, kw = _groups(lib, params, kw, group2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return getattr(lib.optim, name)(groups, **kw)


def _step(lib, opt, params, k):
    _set_grads(lib, params, k)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        opt.step()


def _close(a, b, what, rtol=1e-11, atol=1e-13):
    if "ASGD" in what and "'foreach': True" in what:
        rtol, atol = 1e-6, 1e-8  # torch's foreach ASGD: eta in float32, update regrouped
    elif "resumed" in what and ("NAdam" in what or "ASGD" in what):
        rtol, atol = 1e-6, 1e-8  # torch loads mu_product/eta/mu as float64; we keep float32
    a, b = _np(a), _np(b)
    if isinstance(b, np.ndarray) or isinstance(a, np.ndarray):
        np.testing.assert_allclose(np.asarray(a, dtype=np.float64),
                                   np.asarray(b, dtype=np.float64), rtol=rtol, atol=atol,
                                   err_msg=what)
    else:
        assert a == b or (isinstance(a, float) and a == pytest.approx(b, rel=rtol)), \
            f"{what}: ours {a!r} vs torch {b!r}"


def _compare_state_dicts(ours, theirs, what):
    assert sorted(ours["state"]) == sorted(theirs["state"]), f"{what}: state indices"
    for i, st in theirs["state"].items():
        mine = ours["state"][i]
        assert sorted(mine) == sorted(st), f"{what}: state[{i}] {sorted(mine)} vs {sorted(st)}"
        for key, value in st.items():
            _close(mine[key], value, f"{what}: state[{i}][{key!r}]")
            if isinstance(value, torch.Tensor):
                assert isinstance(mine[key], ad.Tensor), f"{what}: state[{i}][{key!r}] type"
                kept = "resumed" in what and key in ("mu_product", "eta", "mu")  # see _close
                assert kept or str(mine[key].dtype)[9:] == str(value.dtype)[6:], \
                    f"{what}: state[{i}][{key!r}] dtype {mine[key].dtype} vs {value.dtype}"
                assert mine[key].shape == tuple(value.shape)
            else:
                assert type(mine[key]) is type(value), f"{what}: state[{i}][{key!r}] type"
    assert len(ours["param_groups"]) == len(theirs["param_groups"])
    for mine, group in zip(ours["param_groups"], theirs["param_groups"]):
        assert sorted(mine) == sorted(group), f"{what}: group {sorted(mine)} vs {sorted(group)}"
        for key, value in group.items():
            _close(mine[key], value, f"{what}: group[{key!r}]")


def _to_ad(sd):
    """A torch state dict with its tensors converted to autodiff tensors (dtype kept)."""
    def conv(v):
        if isinstance(v, torch.Tensor):
            return ad.tensor(v.detach().numpy().copy(), dtype=getattr(ad, str(v.dtype)[6:]))
        if isinstance(v, dict):
            return {k: conv(x) for k, x in v.items()}
        if isinstance(v, (list, tuple)):
            return type(v)(conv(x) for x in v)
        return v
    return conv(sd)


def run_case(name, kw, group2=None):
    """Run one option combination in both libraries and compare everything; returns None
    when torch rejected it (after checking that ours does too)."""
    group2 = group2 or {}
    tp, ap = _init(torch), _init(ad)
    try:
        topt = _build(torch, name, kw, group2, tp)
    except (ValueError, RuntimeError, TypeError) as e:
        with pytest.raises(type(e)) as info:
            _build(ad, name, kw, group2, ap)
        assert str(e) in str(info.value), f"{name}{kw}: ours {info.value!s} vs torch {e!s}"
        return None
    aopt = _build(ad, name, kw, group2, ap)
    what = f"{name}({kw}, group2={group2})"
    for k in range(STEPS):
        _step(torch, topt, tp, k)
        _step(ad, aopt, ap, k)
        for i, (a, t) in enumerate(zip(ap, tp)):
            _close(a, t, f"{what} step {k} param {i}")
    _compare_state_dicts(aopt.state_dict(), topt.state_dict(), what)
    # resume: fresh optimizers load torch's state dict, then both continue
    saved = copy.deepcopy(topt.state_dict())
    tp2, ap2 = [p.detach().clone().requires_grad_() for p in tp], \
        [ad.tensor(_np(p).copy(), dtype=ad.float64).requires_grad_() for p in tp]
    topt2 = _build(torch, name, {**kw, "lr": 0.5}, {}, tp2)
    aopt2 = _build(ad, name, {**kw, "lr": 0.5}, {}, ap2)
    topt2.load_state_dict(saved)
    aopt2.load_state_dict(_to_ad(saved))
    for k in range(STEPS, STEPS + MORE):
        _step(torch, topt2, tp2, k)
        _step(ad, aopt2, ap2, k)
        for i, (a, t) in enumerate(zip(ap2, tp2)):
            _close(a, t, f"{what} resumed step {k} param {i}")
    _compare_state_dicts(aopt2.state_dict(), topt2.state_dict(), what + " resumed")
    return aopt


def _grid(**options):
    keys = list(options)
    for values in itertools.product(*(options[k] for k in keys)):
        yield dict(zip(keys, values))


LR = [0.05, ("T", 0.05)]
FLAGS = {"foreach": [None, True]}  # foreach=False runs the same code as None on CPU
CASES = {
    "SGD": (_grid(lr=LR, momentum=[0.0, 0.9], dampening=[0.0, 0.1], nesterov=[False, True],
                  weight_decay=[0.0, 0.1], maximize=[False, True], fused=[None, True],
                  **FLAGS), {"momentum": 0.5, "lr": 0.02}),
    "Adam": (_grid(lr=LR, amsgrad=[False, True], weight_decay=[0.0, 0.1],
                   maximize=[False, True], betas=[(0.9, 0.999), (0.5, 0.9)],
                   decoupled_weight_decay=[False, True], fused=[None, True], **FLAGS),
             {"betas": (0.8, 0.99), "eps": 1e-6}),
    "AdamW": (_grid(lr=LR, amsgrad=[False, True], weight_decay=[0.0, 0.1],
                    maximize=[False, True], fused=[None, True], **FLAGS), {"eps": 1e-3}),
    "Adamax": (_grid(lr=LR, weight_decay=[0.0, 0.1], maximize=[False, True],
                     betas=[(0.9, 0.999), (0.5, 0.9)], **FLAGS), {"eps": 1e-3}),
    "NAdam": (_grid(lr=LR, weight_decay=[0.0, 0.1], maximize=[False, True],
                    momentum_decay=[4e-3, 0.1], decoupled_weight_decay=[False, True],
                    **FLAGS), {"betas": (0.8, 0.99)}),
    "RAdam": (_grid(lr=LR, weight_decay=[0.0, 0.1], maximize=[False, True],
                    betas=[(0.9, 0.999), (0.5, 0.8)], decoupled_weight_decay=[False, True],
                    **FLAGS), {"eps": 1e-3}),
    "Adagrad": (_grid(lr=LR, lr_decay=[0.0, 0.1], weight_decay=[0.0, 0.1],
                      initial_accumulator_value=[0.0, 0.5], maximize=[False, True],
                      fused=[None, True], **FLAGS), {"lr_decay": 0.2}),
    "Adadelta": (_grid(lr=[1.0, ("T", 0.5)], rho=[0.9, 0.5], weight_decay=[0.0, 0.1],
                       maximize=[False, True], **FLAGS), {"eps": 1e-3}),
    "RMSprop": (_grid(lr=LR, momentum=[0.0, 0.9], centered=[False, True],
                      weight_decay=[0.0, 0.1], maximize=[False, True], alpha=[0.99, 0.5],
                      **FLAGS), {"momentum": 0.3}),
    "Rprop": (_grid(lr=LR, etas=[(0.5, 1.2), (0.3, 1.5)], step_sizes=[(1e-6, 50), (0.01, 0.04)],
                    maximize=[False, True], **FLAGS), {"etas": (0.4, 1.1)}),
    "ASGD": (_grid(lr=LR, lambd=[1e-4, 0.1], alpha=[0.75, 0.5], t0=[1e6, 1.0],
                   weight_decay=[0.0, 0.1], maximize=[False, True], **FLAGS), {"t0": 2.0}),
    "Adafactor": (_grid(lr=LR, beta2_decay=[-0.8, -0.5], eps=[(None, 1e-3), (1e-20, 1e-2)],
                        d=[1.0, 2.0], weight_decay=[0.0, 0.1], maximize=[False, True],
                        foreach=[None, False]), {"d": 1.5}),
}


@needs_torch
@pytest.mark.parametrize("name", sorted(CASES))
def test_optimizer_matches_torch(name):
    grid, group2 = CASES[name]
    for kw in grid:
        run_case(name, kw, group2 if kw.get("momentum", 1) else {"lr": 0.02})


# --------------------------------------------------------------------------- schedulers
EPOCHS = 36


def _sched_opt(lib, kind):
    """An optimizer of two groups (lrs 0.1 and 0.05) on one float64 parameter each."""
    ps = [lib.tensor(np.ones(2), dtype=lib.float64).requires_grad_() for _ in range(2)]
    groups = [{"params": ps[:1]}, {"params": ps[1:], "lr": 0.05}]
    if kind == "adam":
        return lib.optim.Adam(groups, lr=0.1)
    return lib.optim.SGD(groups, lr=0.1, momentum=0.9)


def _lrs_and_momenta(opt):
    return [x for g in opt.param_groups
            for x in (float(_np(g["lr"])), g.get("momentum", 0.0), *g.get("betas", ()))]


def _metric(epoch):
    return [5.0, 4.0, 4.0, 4.0, 3.99999, 4.0, 4.0, 4.0, 4.0, 2.0][epoch % 10] - 0.001 * epoch


def _make_sched(lib, spec, opt):
    M = lib.optim.lr_scheduler
    name, kw = spec
    kw = dict(kw)
    if name in ("SequentialLR", "ChainedScheduler"):
        children = [_make_sched(lib, child, opt) for child in kw.pop("children")]
        if name == "ChainedScheduler":
            return M.ChainedScheduler(children, **kw)
        return M.SequentialLR(opt, children, **kw)
    return getattr(M, name)(opt, **kw)


def _step_sched(sched, epoch):
    if type(sched).__name__ == "ReduceLROnPlateau":
        sched.step(_metric(epoch))
    else:
        sched.step()


def _plain(v):
    """A scheduler state value compared across libraries (functions and objects skipped)."""
    if isinstance(v, dict):
        return {k: _plain(x) for k, x in v.items() if not callable(x)}
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    if isinstance(v, (int, float, str, bool)) or v is None:
        return v
    return "<object>"


def _compare_sched_state(ours, theirs, what):
    ours, theirs = _plain(ours), _plain(theirs)
    assert sorted(ours) == sorted(theirs), f"{what}: keys {sorted(ours)} vs {sorted(theirs)}"
    for key, value in theirs.items():
        if isinstance(value, (dict, list)):
            same = _nested_eq(ours[key], value)
        elif isinstance(value, (str, bool)) or value is None:  # (approx refuses str: pytest 9.2)
            same = ours[key] == value
        else:
            same = ours[key] == pytest.approx(value, rel=1e-12)
        assert same, f"{what}: {key}: ours {ours[key]} vs {value}"


def _nested_eq(a, b):
    if isinstance(b, dict):
        return isinstance(a, dict) and sorted(a) == sorted(b) and all(
            _nested_eq(a[k], b[k]) for k in b)
    if isinstance(b, list):
        return isinstance(a, list) and len(a) == len(b) and all(map(_nested_eq, a, b))
    return a == b or (isinstance(b, float) and a == pytest.approx(b, rel=1e-12))


def run_sched(spec, kind="sgd"):
    """Step a scheduler of each library EPOCHS times comparing the lrs (and momenta), the
    state dict at epoch 12, then resume ours from that state dict in a fresh optimizer and
    scheduler and check it follows the same lrs."""
    what = f"{spec}"
    topt, aopt = _sched_opt(torch, kind), _sched_opt(ad, kind)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ts, as_ = _make_sched(torch, spec, topt), _make_sched(ad, spec, aopt)
        history = []
        for epoch in range(EPOCHS):
            history.append(_lrs_and_momenta(aopt))
            assert history[-1] == pytest.approx(_lrs_and_momenta(topt), rel=1e-12), \
                f"{what} epoch {epoch}: {history[-1]} vs {_lrs_and_momenta(topt)}"
            assert [_np(x) for x in as_.get_last_lr()] == pytest.approx(
                [_np(x) for x in ts.get_last_lr()], rel=1e-12), f"{what} epoch {epoch}"
            assert getattr(as_, "last_epoch", None) == getattr(ts, "last_epoch", None), \
                f"{what} epoch {epoch}: last_epoch"
            if epoch == 12:
                _compare_sched_state(as_.state_dict(), ts.state_dict(), what)
                saved = copy.deepcopy(_plain(as_.state_dict())), aopt.state_dict()
            topt.step()
            aopt.step()
            _step_sched(ts, epoch)
            _step_sched(as_, epoch)
        aopt2 = _sched_opt(ad, kind)
        as2 = _make_sched(ad, spec, aopt2)
        aopt2.load_state_dict(copy.deepcopy(saved[1]))
        as2.load_state_dict(saved[0])
        for epoch in range(12, EPOCHS):
            assert _lrs_and_momenta(aopt2) == pytest.approx(history[epoch], rel=1e-12), \
                f"{what} resumed epoch {epoch}"
            _step_sched(as2, epoch)


SCHEDULERS = [
    ("StepLR", {"step_size": 5, "gamma": 0.5}),
    ("MultiStepLR", {"milestones": [3, 7, 7, 20], "gamma": 0.3}),
    ("ConstantLR", {"factor": 0.25, "total_iters": 6}),
    ("LinearLR", {"start_factor": 0.2, "end_factor": 0.9, "total_iters": 9}),
    ("ExponentialLR", {"gamma": 0.9}),
    ("PolynomialLR", {"total_iters": 20, "power": 1.7}),
    ("CosineAnnealingLR", {"T_max": 7, "eta_min": 0.001}),
    ("CosineAnnealingWarmRestarts", {"T_0": 4, "T_mult": 2, "eta_min": 0.002}),
    ("CosineAnnealingWarmRestarts", {"T_0": 5}),
    ("LambdaLR", {"lr_lambda": lambda e: 0.97**e + 0.1 * (e % 3)}),
    ("MultiplicativeLR", {"lr_lambda": lambda e: 0.95 if e % 2 else 1.01}),
    ("SequentialLR", {"children": [("LinearLR", {"start_factor": 0.1, "total_iters": 4}),
                                   ("ExponentialLR", {"gamma": 0.9}),
                                   ("StepLR", {"step_size": 3})], "milestones": [5, 15]}),
    ("ChainedScheduler", {"children": [("ConstantLR", {"factor": 0.5, "total_iters": 3}),
                                       ("ExponentialLR", {"gamma": 0.95})]}),
    *[("CyclicLR", {"base_lr": [0.01, 0.02], "max_lr": 0.1, "step_size_up": 4,
                    "step_size_down": sd, "mode": mode, "gamma": 0.9,
                    "cycle_momentum": cm})
      for mode in ("triangular", "triangular2", "exp_range") for sd in (None, 3)
      for cm in (True, False)],
    *[("OneCycleLR", {"max_lr": [0.1, 0.2], "total_steps": EPOCHS + 1, "anneal_strategy": a,
                      "three_phase": tp, "pct_start": 0.25, "cycle_momentum": cm})
      for a in ("cos", "linear") for tp in (False, True) for cm in (True, False)],
    *[("ReduceLROnPlateau", {"mode": mode, "threshold_mode": tm, "patience": 2,
                             "cooldown": cd, "min_lr": ml, "factor": 0.5, "threshold": 0.01})
      for mode in ("min", "max") for tm in ("rel", "abs") for cd in (0, 2)
      for ml in (0.0, [0.02, 0.001])],
]


@needs_torch
@pytest.mark.parametrize("kind", ["sgd", "adam"])
def test_schedulers_match_torch(kind):
    for spec in SCHEDULERS:
        if kind == "adam" and spec[0] not in ("CyclicLR", "OneCycleLR"):
            continue
        run_sched(spec, kind)


# --------------------------------------------------------------------------- regressions
# one deterministic test per discrepancy the audit found (they need no PyTorch)
def _p(*shape):
    p = ad.tensor(np.ones(shape), dtype=ad.float64).requires_grad_()
    p.grad = ad.tensor(np.full(shape, 0.5), dtype=ad.float64)
    return p


@pytest.mark.parametrize("name", ["Adam", "AdamW", "Adamax", "NAdam", "RAdam", "Adagrad",
                                  "Adadelta", "RMSprop", "Rprop", "ASGD", "Adafactor"])
def test_step_is_a_0d_float32_tensor_and_int_steps_load(name):
    p = _p(2)
    opt = getattr(optim, name)([p])
    opt.step()
    step = opt.state[p]["step"]
    assert isinstance(step, ad.Tensor) and step.shape == () and step.dtype == ad.float32
    sd = opt.state_dict()
    sd["state"][0]["step"] = 1  # a state dict of an older format: a plain number
    opt.load_state_dict(sd)
    opt.step()
    assert float(opt.state[p]["step"]) == 2.0


def test_scalar_state_is_0d_tensors():
    p = _p(2)
    nadam, asgd = optim.NAdam([p]), optim.ASGD([_p(2)])
    nadam.step()
    asgd.step()
    assert nadam.state[p]["mu_product"].shape == ()
    assert {k: v.shape for k, v in next(iter(asgd.state.values())).items()} == {
        "step": (), "eta": (), "mu": (), "ax": (2,)}


@pytest.mark.parametrize("name,keys", [
    ("SGD", {"foreach": None, "differentiable": False, "fused": None}),
    ("Adam", {"foreach": None, "capturable": False, "differentiable": False, "fused": None,
              "decoupled_weight_decay": False}),
    ("AdamW", {"fused": None, "decoupled_weight_decay": True}),
    ("RMSprop", {"capturable": False, "foreach": None, "differentiable": False}),
    ("Adagrad", {"fused": None, "foreach": None}),
])
def test_param_groups_carry_torch_defaults(name, keys):
    group = getattr(optim, name)([_p(2)], lr=0.1).param_groups[0]
    assert {k: group[k] for k in keys} == keys


@pytest.mark.parametrize("name,kw,message", [
    ("Adam", {"lr": -1.0}, "Invalid learning rate: -1.0"),
    ("SGD", {"lr": 0.1, "momentum": -1.0}, "Invalid momentum value: -1.0"),
    ("Adam", {"eps": -1.0}, "Invalid epsilon value: -1.0"),
    ("NAdam", {"betas": (0.9, 1.0)}, "Invalid beta parameter at index 1: 1.0"),
    ("Adadelta", {"rho": 2.0}, "Invalid rho value: 2.0"),
    ("Rprop", {"etas": (1.5, 2.0)}, "Invalid eta values: 1.5, 2.0"),
    ("Adagrad", {"initial_accumulator_value": -1.0},
     "Invalid initial_accumulator_value value: -1.0"),
    ("RMSprop", {"alpha": -1.0}, "Invalid alpha value: -1.0"),
])
def test_invalid_hyper_parameters_use_torch_messages(name, kw, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        getattr(optim, name)([_p(2)], **kw)


def test_implementation_flags_are_checked_as_torch():
    with pytest.raises(RuntimeError, match="`fused` and `foreach` cannot be `True` together"):
        optim.Adam([_p(2)], fused=True, foreach=True)
    with pytest.raises(RuntimeError, match="`fused` does not support `differentiable`"):
        optim.SGD([_p(2)], lr=0.1, fused=True, differentiable=True)
    with pytest.raises(ValueError, match="lr as a Tensor is not supported"):
        optim.Adam([_p(2)], lr=ad.tensor(0.1), foreach=True)
    with pytest.raises(ValueError, match="Tensor lr must be 1-element"):
        optim.SGD([_p(2)], lr=ad.tensor([0.1, 0.2]))


# the optimizer stepped before the scheduler was made, which PyTorch does not count either
@pytest.mark.filterwarnings("ignore:Detected call of `lr_scheduler.step:UserWarning")
def test_tensor_lr_steps_and_schedulers_fill_it_in_place():
    p, q = _p(2), _p(2)
    lr = ad.tensor(0.5, dtype=ad.float64)
    opt = optim.SGD([p], lr=lr)
    ref = optim.SGD([q], lr=0.5)
    opt.step()
    ref.step()
    np.testing.assert_array_equal(p.detach().numpy(), q.detach().numpy())
    sched = optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.1)
    sched.step()
    assert opt.param_groups[0]["lr"] is lr and float(lr) == pytest.approx(0.05)
    assert isinstance(sched.get_last_lr()[0], ad.Tensor) and sched.get_last_lr()[0] is not lr
    assert float(opt.param_groups[0]["initial_lr"]) == 0.5


def test_adam_decoupled_weight_decay_is_adamw():
    p, q = _p(3), _p(3)
    optim.Adam([p], lr=0.1, weight_decay=0.1, decoupled_weight_decay=True).step()
    optim.AdamW([q], lr=0.1, weight_decay=0.1).step()
    np.testing.assert_array_equal(p.detach().numpy(), q.detach().numpy())


def test_asgd_tensor_lr_keeps_eta_unrounded():
    p = _p(2)
    opt = optim.ASGD([p], lr=ad.tensor(0.05, dtype=ad.float64))
    opt.step()
    want = np.float32(0.05 / (1 + 1e-4 * 0.05) ** 0.75)  # float64 eta, stored in float32
    assert float(opt.state[p]["eta"]) == float(want)


def test_scheduler_state_dicts_have_torch_keys():
    opt = optim.SGD([_p(2)], lr=0.1, momentum=0.9)
    lam = optim.lr_scheduler.LambdaLR(opt, lambda e: 0.5)
    assert lam.state_dict()["lr_lambdas"] == [None] and "_get_lr_called_within_step" in \
        lam.state_dict()
    one = optim.lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=10, anneal_strategy="linear")
    assert one.state_dict()["_anneal_func_type"] == "linear"


def test_plateau_default_min_lr_serves_added_groups():
    opt = optim.SGD([_p(2)], lr=0.1)
    sched = optim.lr_scheduler.ReduceLROnPlateau(opt, patience=0, min_lr=0.07)
    opt.add_param_group({"params": [_p(2)], "lr": 0.1})
    sched.step(1.0)
    sched.step(2.0)
    assert [g["lr"] for g in opt.param_groups] == [0.07, 0.07]
    listed = optim.lr_scheduler.ReduceLROnPlateau(opt, patience=0, min_lr=[0.0, 0.0])
    opt.add_param_group({"params": [_p(2)], "lr": 0.1})
    listed.step(1.0)
    with pytest.raises(RuntimeError, match="number of param groups"):
        listed.step(2.0)
