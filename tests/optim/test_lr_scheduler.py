"""Learning-rate schedulers against PyTorch step by step, and against hand-computed values."""

from __future__ import annotations

import math
import warnings

import pytest

import autodiff as ad
from autodiff import optim
from autodiff.optim import lr_scheduler as ls

SCHEDULES = [
    ("StepLR", {"step_size": 3, "gamma": 0.5}),
    ("MultiStepLR", {"milestones": [2, 5, 5, 9], "gamma": 0.3}),
    ("ExponentialLR", {"gamma": 0.9}),
    ("LambdaLR", {"lr_lambda": lambda e: 1.0 / (1 + e)}),
    ("CosineAnnealingLR", {"T_max": 5, "eta_min": 0.01}),
    ("LinearLR", {"start_factor": 0.25, "end_factor": 1.0, "total_iters": 6}),
    ("LinearLR", {"start_factor": 1.0, "end_factor": 0.1, "total_iters": 4}),
    ("OneCycleLR", {"max_lr": 1.0, "total_steps": 14}),
    ("OneCycleLR", {"max_lr": [1.0, 0.5], "total_steps": 14, "anneal_strategy": "linear",
                        "three_phase": True}),
    ("OneCycleLR", {"max_lr": 0.5, "epochs": 2, "steps_per_epoch": 7, "pct_start": 0.4,
                        "cycle_momentum": False}),
]
IDS = [f"{n}{i}" for i, (n, _) in enumerate(SCHEDULES)]
STEPS = 14


def _params(n=2):
    return [ad.zeros(2, requires_grad=True) for _ in range(n)]


def _make(lib_optim, params, opt_name="SGD"):
    groups = [{"params": [params[0]]}, {"params": [params[1]], "lr": 0.05}]
    if opt_name == "Adam":
        return lib_optim.Adam(groups, lr=0.1)
    return lib_optim.SGD(groups, lr=0.1, momentum=0.9)


def _trace(sched, opt, steps):
    lrs, moms = [sched.get_last_lr()], [[_mom(g) for g in opt.param_groups]]
    for _ in range(steps):
        opt.step()
        sched.step()
        lrs.append(list(sched.get_last_lr()))
        moms.append([_mom(g) for g in opt.param_groups])
    return lrs, moms


def _mom(group):
    return group["betas"][0] if "betas" in group else group["momentum"]


@pytest.mark.parametrize("opt_name", ["SGD", "Adam"])
@pytest.mark.parametrize("name,kw", SCHEDULES, ids=IDS)
def test_against_torch(name, kw, opt_name, torch):
    ours_opt = _make(optim, _params(), opt_name)
    theirs_opt = _make(torch.optim, [torch.zeros(2, requires_grad=True) for _ in range(2)],
                       opt_name)
    ours = _trace(getattr(ls, name)(ours_opt, **kw), ours_opt, STEPS - 1)
    theirs = _trace(getattr(torch.optim.lr_scheduler, name)(theirs_opt, **kw), theirs_opt,
                    STEPS - 1)
    for k, (a, b) in enumerate(zip(ours[0], theirs[0])):
        assert a == pytest.approx(b, rel=1e-12, abs=1e-15), f"lr at step {k}"
    for k, (a, b) in enumerate(zip(ours[1], theirs[1])):
        assert a == pytest.approx(b, rel=1e-12), f"momentum at step {k}"


def test_step_lr_by_hand():
    opt = optim.SGD(_params(1), lr=1.0)
    sched = ls.StepLR(opt, step_size=2, gamma=0.1)
    lrs, _ = _trace(sched, opt, 5)
    assert [x[0] for x in lrs] == pytest.approx([1, 1, 0.1, 0.1, 0.01, 0.01])
    assert opt.param_groups[0]["lr"] == pytest.approx(0.01)


def test_multistep_exponential_linear_by_hand():
    opt = optim.SGD(_params(1), lr=1.0)
    lrs, _ = _trace(ls.MultiStepLR(opt, milestones=[1, 3], gamma=0.5), opt, 4)
    assert [x[0] for x in lrs] == pytest.approx([1, 0.5, 0.5, 0.25, 0.25])
    opt = optim.SGD(_params(1), lr=2.0)
    lrs, _ = _trace(ls.ExponentialLR(opt, gamma=0.5), opt, 3)
    assert [x[0] for x in lrs] == pytest.approx([2, 1, 0.5, 0.25])
    opt = optim.SGD(_params(1), lr=1.0)
    lrs, _ = _trace(ls.LinearLR(opt, start_factor=0.5, total_iters=2), opt, 3)
    assert [x[0] for x in lrs] == pytest.approx([0.5, 0.75, 1.0, 1.0])


def test_cosine_matches_closed_form():
    opt = optim.SGD(_params(1), lr=1.0)
    lrs, _ = _trace(ls.CosineAnnealingLR(opt, T_max=10, eta_min=0.1), opt, 10)
    want = [0.1 + 0.9 * (1 + math.cos(math.pi * e / 10)) / 2 for e in range(11)]
    assert [x[0] for x in lrs] == pytest.approx(want)


def test_one_cycle_by_hand():
    opt = optim.SGD(_params(1), lr=0.1, momentum=0.9)
    sched = ls.OneCycleLR(opt, max_lr=1.0, total_steps=10, pct_start=0.5,
                          anneal_strategy="linear", div_factor=10, final_div_factor=10)
    lrs, moms = _trace(sched, opt, 9)
    assert lrs[0][0] == pytest.approx(0.1) and moms[0][0] == pytest.approx(0.95)
    assert lrs[4][0] == pytest.approx(1.0) and moms[4][0] == pytest.approx(0.85)
    assert lrs[9][0] == pytest.approx(0.01) and moms[9][0] == pytest.approx(0.95)
    with pytest.raises(ValueError, match="total_steps is 10"):
        sched.step()
        sched.step()


def test_lambda_lr_per_group():
    opt = _make(optim, _params())
    sched = ls.LambdaLR(opt, [lambda e: 1.0, lambda e: 0.5**e])
    for _ in range(2):
        opt.step()
        sched.step()
    assert sched.get_last_lr() == pytest.approx([0.1, 0.0125])


def test_reduce_on_plateau_by_hand():
    opt = optim.SGD(_params(1), lr=1.0)
    sched = ls.ReduceLROnPlateau(opt, patience=1, factor=0.5, cooldown=1, min_lr=0.2)
    lrs = []
    for metric in [1.0, 0.9, 0.95, 0.95, 0.95, 0.95, 0.95, 0.95, 0.95, 0.95]:
        sched.step(metric)
        lrs.append(sched.get_last_lr()[0])
    assert lrs == pytest.approx([1, 1, 1, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25, 0.2])


@pytest.mark.parametrize("mode,threshold_mode", [("min", "rel"), ("max", "abs"),
                                                 ("max", "rel"), ("min", "abs")])
def test_reduce_on_plateau_against_torch(mode, threshold_mode, torch):
    metrics = [1.0, 0.8, 0.85, 0.79, 0.9, 0.9, 1.2, 1.3, 1.29, 1.3, 1.31, 0.5, 0.5, 0.5]
    kw = {"mode": mode, "threshold_mode": threshold_mode, "patience": 2, "factor": 0.3, "cooldown": 1,
              "threshold": 0.05}
    ours_opt = _make(optim, _params())
    theirs_opt = _make(torch.optim, [torch.zeros(2, requires_grad=True) for _ in range(2)])
    ours = ls.ReduceLROnPlateau(ours_opt, **kw)
    theirs = torch.optim.lr_scheduler.ReduceLROnPlateau(theirs_opt, **kw)
    for m in metrics:
        ours.step(m)
        theirs.step(m)
        assert ours.get_last_lr() == pytest.approx(theirs.get_last_lr(), rel=1e-12)


def test_scheduler_state_dict_resumes():
    opt = optim.SGD(_params(1), lr=1.0, momentum=0.9)
    sched = ls.OneCycleLR(opt, max_lr=1.0, total_steps=20)
    for _ in range(5):
        opt.step()
        sched.step()
    sd = sched.state_dict()
    assert "optimizer" not in sd
    opt2 = optim.SGD(_params(1), lr=1.0, momentum=0.9)
    opt2.load_state_dict(opt.state_dict())
    sched2 = ls.OneCycleLR(opt2, max_lr=1.0, total_steps=20)
    sched2.load_state_dict(sd)
    for _ in range(5):
        sched.step()
        sched2.step()
    assert sched2.get_last_lr() == pytest.approx(sched.get_last_lr())


def test_scheduler_needs_an_optimizer():
    with pytest.raises(TypeError, match="expected an Optimizer"):
        ls.StepLR(object(), step_size=1)


# ------------------------------------------------------------------ the schedulers added later
# each case builds its scheduler from a module of schedulers (ours or torch's) and an
# optimizer, so the combinators can build their children on the same optimizer
EXTRA = [
    ("ConstantLR", lambda m, o: m.ConstantLR(o)),
    ("ConstantLR", lambda m, o: m.ConstantLR(o, factor=0.5, total_iters=4)),
    ("ConstantLR", lambda m, o: m.ConstantLR(o, factor=1.0, total_iters=0)),
    ("MultiplicativeLR", lambda m, o: m.MultiplicativeLR(o, lambda e: 0.95)),
    ("MultiplicativeLR", lambda m, o: m.MultiplicativeLR(
        o, [lambda e: 0.9, lambda e: 1.0 if e % 3 else 0.5])),
    ("PolynomialLR", lambda m, o: m.PolynomialLR(o)),
    ("PolynomialLR", lambda m, o: m.PolynomialLR(o, total_iters=20, power=0.9)),
    ("PolynomialLR", lambda m, o: m.PolynomialLR(o, total_iters=10, power=2.0)),
    ("CosineAnnealingWarmRestarts", lambda m, o: m.CosineAnnealingWarmRestarts(o, T_0=5)),
    ("CosineAnnealingWarmRestarts", lambda m, o: m.CosineAnnealingWarmRestarts(
        o, T_0=3, T_mult=2, eta_min=0.001)),
    ("CosineAnnealingWarmRestarts", lambda m, o: m.CosineAnnealingWarmRestarts(
        o, T_0=4, T_mult=3, eta_min=0.01)),
    ("CyclicLR", lambda m, o: m.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=4)),
    ("CyclicLR", lambda m, o: m.CyclicLR(o, base_lr=[0.01, 0.02], max_lr=[0.1, 0.5],
                                         step_size_up=3, step_size_down=6,
                                         mode="triangular2", base_momentum=0.7,
                                         max_momentum=[0.95, 0.9])),
    ("CyclicLR", lambda m, o: m.CyclicLR(o, base_lr=0.001, max_lr=0.1, step_size_up=5,
                                         mode="exp_range", gamma=0.9)),
    ("CyclicLR", lambda m, o: m.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=2,
                                         step_size_down=5, scale_fn=lambda x: 0.8**x,
                                         scale_mode="iterations", cycle_momentum=False)),
    ("CyclicLR", lambda m, o: m.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=3,
                                         scale_fn=lambda x: 1 / x)),
    ("SequentialLR", lambda m, o: m.SequentialLR(
        o, [m.ConstantLR(o, factor=0.1, total_iters=3), m.ExponentialLR(o, gamma=0.9)],
        milestones=[3])),
    ("SequentialLR", lambda m, o: m.SequentialLR(
        o, [m.LinearLR(o, start_factor=0.2, total_iters=5), m.CosineAnnealingLR(o, T_max=10),
            m.StepLR(o, step_size=4, gamma=0.5)], milestones=[5, 15])),
    ("SequentialLR", lambda m, o: m.SequentialLR(
        o, [m.ChainedScheduler([m.ExponentialLR(o, gamma=0.8),
                                m.MultiplicativeLR(o, lambda e: 1.05)]),
            m.PolynomialLR(o, total_iters=8, power=2.0)], milestones=[6])),
    ("ChainedScheduler", lambda m, o: m.ChainedScheduler(
        [m.ConstantLR(o, factor=0.1, total_iters=2), m.ExponentialLR(o, gamma=0.9)])),
    ("ChainedScheduler", lambda m, o: m.ChainedScheduler(
        [m.StepLR(o, step_size=5, gamma=0.5), m.MultiplicativeLR(o, lambda e: 0.98),
         m.PolynomialLR(o, total_iters=25)], optimizer=o)),
    ("ChainedScheduler", lambda m, o: m.ChainedScheduler(
        [m.LinearLR(o, start_factor=0.5, total_iters=4),
         m.CosineAnnealingWarmRestarts(o, T_0=6)])),
]
EXTRA_IDS = [f"{n}{i}" for i, (n, _) in enumerate(EXTRA)]
EXTRA_STEPS = 30


def _pair(torch, build, opt_name="SGD"):
    ours_opt = _make(optim, _params(), opt_name)
    theirs_opt = _make(torch.optim, [torch.zeros(2, requires_grad=True) for _ in range(2)],
                       opt_name)
    with warnings.catch_warnings():
        # a ChainedScheduler first in a SequentialLR steps its children while SequentialLR
        # is made, before any optimizer.step(); PyTorch (and autodiff) warn about that order
        warnings.filterwarnings("ignore", message="Detected call of `lr_scheduler.step")
        theirs = build(torch.optim.lr_scheduler, theirs_opt)
        ours = build(ls, ours_opt)
    return (ours_opt, ours), (theirs_opt, theirs)


def _assert_same_trace(ours, theirs):
    for k, (a, b) in enumerate(zip(ours[0], theirs[0])):
        assert a == pytest.approx(b, rel=1e-12, abs=1e-15), f"lr at step {k}"
    for k, (a, b) in enumerate(zip(ours[1], theirs[1])):
        assert a == pytest.approx(b, rel=1e-12), f"momentum at step {k}"


@pytest.mark.parametrize("opt_name", ["SGD", "Adam"])
@pytest.mark.parametrize("name,build", EXTRA, ids=EXTRA_IDS)
def test_extra_against_torch(name, build, opt_name, torch):
    (o1, s1), (o2, s2) = _pair(torch, build, opt_name)
    assert type(s1).__name__ == name
    _assert_same_trace(_trace(s1, o1, EXTRA_STEPS), _trace(s2, o2, EXTRA_STEPS))


@pytest.mark.parametrize("t_mult", [1, 2, 3])
def test_warm_restarts_fractional_epochs_against_torch(t_mult, torch):
    (o1, s1), (o2, s2) = _pair(torch, lambda m, o: m.CosineAnnealingWarmRestarts(
        o, T_0=3, T_mult=t_mult, eta_min=0.002))
    iters = 4
    for epoch in [*range(14), 5, 2.5, 30]:  # then jumps back and forward
        for i in range(iters):
            o1.step()
            o2.step()
            s1.step(epoch + i / iters)
            s2.step(epoch + i / iters)
            assert s1.get_last_lr() == pytest.approx(s2.get_last_lr(), rel=1e-12, abs=1e-15)
            assert (s1.T_cur, s1.T_i, s1.last_epoch) == pytest.approx(
                (s2.T_cur, s2.T_i, s2.last_epoch), rel=1e-12, abs=1e-12)


@pytest.mark.filterwarnings("ignore:The epoch parameter in `scheduler.step\\(\\)`")
@pytest.mark.parametrize("index", [1, 6, 7])
def test_extra_closed_forms_against_torch(index, torch):
    """``step(epoch)`` uses the closed form, as in PyTorch (which warns that it is
    deprecated)."""
    (o1, s1), (o2, s2) = _pair(torch, EXTRA[index][1])
    for epoch in [3, 1, 7, 30, 0, 12]:
        o1.step()
        o2.step()
        s1.step(epoch)
        s2.step(epoch)
        assert s1.get_last_lr() == pytest.approx(s2.get_last_lr(), rel=1e-12, abs=1e-15)


@pytest.mark.parametrize("name,kw", [
    ("ExponentialLR", {"gamma": 0.9}),
    ("CosineAnnealingLR", {"T_max": 7}),
    ("LinearLR", {"start_factor": 0.3, "total_iters": 9}),
    ("PolynomialLR", {"total_iters": 12, "power": 1.5}),
    ("MultiplicativeLR", {"lr_lambda": lambda e: 0.9}),
    ("ConstantLR", {"factor": 0.5, "total_iters": 6}),
    ("CosineAnnealingWarmRestarts", {"T_0": 4, "T_mult": 2}),
])
def test_resume_with_last_epoch_against_torch(name, kw, torch):
    """Making a scheduler with ``last_epoch=k`` (as when resuming) keeps the current lrs on
    its first step and continues from epoch k + 1, as PyTorch 2.x does."""
    traces = []
    for lib, lib_optim in ((ls, optim), (torch.optim.lr_scheduler, torch.optim)):
        params = _params() if lib is ls else [torch.zeros(2, requires_grad=True)
                                              for _ in range(2)]
        opt = _make(lib_optim, params)
        sched = getattr(lib, name)(opt, **kw)
        for _ in range(4):
            opt.step()
            sched.step()
        resumed = getattr(lib, name)(opt, last_epoch=sched.last_epoch, **kw)
        traces.append(_trace(resumed, opt, 10))
    _assert_same_trace(*traces)


@pytest.mark.filterwarnings("ignore:Detected call of `lr_scheduler.step:UserWarning")
@pytest.mark.parametrize("name,build", EXTRA, ids=EXTRA_IDS)
def test_extra_state_dict_round_trip(name, build):
    opt = _make(optim, _params())
    sched = build(ls, opt)
    for _ in range(7):
        opt.step()
        sched.step()
    opt2 = _make(optim, _params())
    sched2 = build(ls, opt2)
    sd = sched.state_dict()
    assert "optimizer" not in sd
    opt2.load_state_dict(opt.state_dict())
    sched2.load_state_dict(sd)
    for _ in range(9):
        sched.step()
        sched2.step()
        assert sched2.get_last_lr() == sched.get_last_lr()
        assert [_mom(g) for g in opt2.param_groups] == [_mom(g) for g in opt.param_groups]


def test_extra_state_dict_structure_matches_torch(torch):
    for index in (4, 12, 17, 20):
        (_, s1), (_, s2) = _pair(torch, EXTRA[index][1])
        assert set(s1.state_dict()) <= set(s2.state_dict()), EXTRA[index][0]


def test_cyclic_lr_by_hand():
    opt = optim.SGD(_params(1), lr=1.0, momentum=0.9)
    sched = ls.CyclicLR(opt, base_lr=0.1, max_lr=0.5, step_size_up=2, base_momentum=0.8,
                        max_momentum=0.9)
    lrs, moms = _trace(sched, opt, 8)
    assert [x[0] for x in lrs] == pytest.approx([0.1, 0.3, 0.5, 0.3, 0.1, 0.3, 0.5, 0.3, 0.1])
    assert [x[0] for x in moms] == pytest.approx([0.9, 0.85, 0.8, 0.85, 0.9, 0.85, 0.8, 0.85,
                                                  0.9])


def test_sequential_and_chained_by_hand():
    opt = optim.SGD(_params(1), lr=1.0)
    sched = ls.SequentialLR(opt, [ls.ConstantLR(opt, factor=0.1, total_iters=2),
                                  ls.ExponentialLR(opt, gamma=0.5)], milestones=[2])
    lrs, _ = _trace(sched, opt, 4)
    assert [x[0] for x in lrs] == pytest.approx([0.1, 0.1, 1.0, 0.5, 0.25])
    opt = optim.SGD(_params(1), lr=1.0)
    sched = ls.ChainedScheduler([ls.ConstantLR(opt, factor=0.1, total_iters=2),
                                 ls.ExponentialLR(opt, gamma=0.5)])
    lrs, _ = _trace(sched, opt, 3)
    assert [x[0] for x in lrs] == pytest.approx([0.1, 0.05, 0.25, 0.125])


def test_extra_bad_arguments():
    opt = optim.SGD(_params(1), lr=1.0)
    other = optim.SGD(_params(1), lr=1.0)
    with pytest.raises(ValueError, match="factor"):
        ls.ConstantLR(opt, factor=1.5)
    with pytest.raises(ValueError, match="T_0"):
        ls.CosineAnnealingWarmRestarts(opt, T_0=0)
    with pytest.raises(ValueError, match="T_mult"):
        ls.CosineAnnealingWarmRestarts(opt, T_0=2, T_mult=1.5)
    with pytest.raises(ValueError, match="non-negative epoch"):
        ls.CosineAnnealingWarmRestarts(opt, T_0=2).step(-1)
    with pytest.raises(ValueError, match="mode"):
        ls.CyclicLR(opt, base_lr=0.1, max_lr=1.0, mode="sine")
    with pytest.raises(ValueError, match="momentum or betas"):
        ls.CyclicLR(optim.Adagrad(_params(1)), base_lr=0.1, max_lr=1.0)
    with pytest.raises(ValueError, match="2 values of max_lr"):
        ls.CyclicLR(_make(optim, _params()), base_lr=0.1, max_lr=[1.0])
    with pytest.raises(TypeError, match="function"):
        ls.MultiplicativeLR(opt, 0.5)
    s = ls.StepLR(opt, step_size=2)
    with pytest.raises(ValueError, match="milestone"):
        ls.SequentialLR(opt, [s, ls.ExponentialLR(opt, gamma=0.9)], milestones=[])
    with pytest.raises(ValueError, match="same optimizer"):
        ls.SequentialLR(opt, [s, ls.ExponentialLR(other, gamma=0.9)], milestones=[2])
    with pytest.raises(ValueError, match="ReduceLROnPlateau"):
        ls.ChainedScheduler([s, ls.ReduceLROnPlateau(opt)])
    with pytest.raises(ValueError, match="at least one"):
        ls.ChainedScheduler([])


def test_every_torch_scheduler_exists(torch):
    names = {n for n in dir(torch.optim.lr_scheduler)
             if isinstance(getattr(torch.optim.lr_scheduler, n), type)
             and issubclass(getattr(torch.optim.lr_scheduler, n),
                            torch.optim.lr_scheduler.LRScheduler)}
    assert names and names <= set(dir(ls))
    assert set(ls.__all__) <= set(dir(ls))
