"""Learning-rate schedulers against PyTorch step by step, and against hand-computed values."""

from __future__ import annotations

import math

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
    sched.step()
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
