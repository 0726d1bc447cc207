"""Second PyTorch-parity audit of the data tools and the LR schedulers: the TensorDataset fast
path yields a list, random_split takes NumPy / tensor lengths, the schedulers warn as PyTorch's
do, StepLR / MultiStepLR keep float step sizes, and loaded optimizer state of the wrong shape
fails with a clear message at the first step."""

from __future__ import annotations

import copy
import pickle
import warnings

import numpy as np
import pytest

import autodiff as ad
from autodiff import optim
from autodiff.optim import lr_scheduler as ls
from autodiff.optim import swa_utils
from autodiff.utils import data as D

BEFORE_OPT = "Detected call of `lr_scheduler.step()` before `optimizer.step()`"
EPOCH_MSG = "The epoch parameter in `scheduler.step()` was not necessary"
GET_LR_MSG = "To get the last learning rate computed by the scheduler, please use `get_last_lr()`."


def _messages(record) -> list[str]:
    return [str(w.message) for w in record if issubclass(w.category, UserWarning)]


def _caught(fn) -> list[str]:
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        fn()
    return _messages(record)


# --------------------------------------------------------------------------- TensorDataset
@pytest.mark.parametrize("num_workers", [0, 2])
def test_tensor_dataset_batches_are_lists(num_workers, device, torch):
    if num_workers and device != "numpy":
        pytest.skip("workers: the numpy device covers the transport")
    x = ad.arange(12, device=device).float().reshape(6, 2)
    loader = D.DataLoader(D.TensorDataset(x, ad.arange(6, device=device)), batch_size=4,
                          num_workers=num_workers)
    batches = list(loader)
    theirs = next(iter(torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(torch.zeros(6, 2), torch.arange(6)), batch_size=4)))
    assert type(theirs) is list
    assert all(type(b) is list and len(b) == 2 for b in batches)
    assert batches[1][1].tolist() == [4, 5] and batches[0][0].device == ad.device(device)


# --------------------------------------------------------------------------- random_split
@pytest.mark.parametrize("make", [
    lambda ad_, np_: np_.array([8, 2]),
    lambda ad_, np_: [np_.int64(8), np_.int32(2)],
    lambda ad_, np_: [ad_.tensor(8), ad_.tensor(2)],
    lambda ad_, np_: ad_.tensor([8, 2]),
    lambda ad_, np_: [ad_.tensor([8]), 2],
    lambda ad_, np_: [np_.float32(0.8), np_.float32(0.2)],
    lambda ad_, np_: np_.array([0.8, 0.2]),
    lambda ad_, np_: [True, 9],
], ids=["np-array", "np-ints", "0d-tensors", "1d-tensor", "1-element", "np-float32-fractions",
        "np-fractions", "bool"])
def test_random_split_takes_what_torch_takes(make, torch):
    ours = D.random_split(range(10), make(ad, np), generator=ad.Generator().manual_seed(0))
    theirs = torch.utils.data.random_split(range(10), make(torch, np))
    assert [len(s) for s in ours] == [len(s) for s in theirs]
    assert sorted(i for s in ours for i in s.indices) == list(range(10))
    assert all(type(i) is int for s in ours for i in s.indices)


def test_random_split_errors_and_zero_split_warning(torch):
    with pytest.raises(ValueError, match="non-negative"):
        D.random_split(range(10), [-1, 11])
    with pytest.raises(ValueError, match="integers or fractions"):
        D.random_split(range(10), [8.0, 2.0])
    with pytest.raises(ValueError, match="does not equal"):
        D.random_split(range(10), np.array([8, 3]))
    with pytest.warns(UserWarning, match="Length of split at index 1 is 0") as ours:
        parts = D.random_split(range(3), [0.9, 0.1])
    with pytest.warns(UserWarning) as theirs:
        torch.utils.data.random_split(range(3), [0.9, 0.1])
    assert [len(p) for p in parts] == [3, 0]
    assert _messages(ours) == _messages(theirs)


# --------------------------------------------------------------------------- warnings
def _opt(lib, lr=0.1):
    return lib.optim.SGD([lib.zeros(2, requires_grad=True)], lr=lr)


def test_step_before_optimizer_step_warns_as_torch(torch):
    def both(lib, opt_first):
        o = _opt(lib)
        s = lib.optim.lr_scheduler.StepLR(o, 2)
        if opt_first:
            o.step()
        return _caught(lambda: [s.step(), s.step()])

    ours, theirs = both(ad, False), both(torch, False)
    assert len(ours) == 1 and ours[0].startswith(BEFORE_OPT) and ours == theirs
    assert both(ad, True) == [] == both(torch, True)


def test_optimizer_step_before_scheduler_was_made_does_not_count(torch):
    for lib in (ad, torch):
        o = _opt(lib)
        o.step()
        s = lib.optim.lr_scheduler.ExponentialLR(o, 0.5)
        assert [m[:len(BEFORE_OPT)] for m in _caught(s.step)] == [BEFORE_OPT], lib.__name__


def test_overridden_optimizer_step_warns_as_torch(torch):
    def run(lib):
        o = _opt(lib)
        s = lib.optim.lr_scheduler.StepLR(o, 2)
        o.step = lambda *a, **k: None
        return _caught(s.step)

    ours = run(ad)
    assert ours == run(torch) and ours[0].startswith("Seems like `optimizer.step()` has been")


def test_two_schedulers_wrap_the_optimizer_step_once():
    o = _opt(ad)
    ls.StepLR(o, 2)
    wrapped = o.step
    ls.ExponentialLR(o, 0.9)
    assert o.step is wrapped and wrapped._wrapped_by_lr_sched
    o.step()
    assert o._opt_called


def test_a_copy_of_a_scheduled_optimizer_steps_its_own_parameters():
    p = ad.zeros(2, requires_grad=True)
    o = optim.SGD([p], lr=1.0)
    ls.StepLR(o, 2)
    for clone in (copy.deepcopy(o), pickle.loads(pickle.dumps(o))):
        q = clone.param_groups[0]["params"][0]
        q.grad = ad.ones(2)
        clone.step()
        assert q.tolist() == [-1.0, -1.0] and p.tolist() == [0.0, 0.0]
    assert o.step._wrapped_by_lr_sched  # the original keeps its wrapper


@pytest.mark.parametrize("name,kw", [("StepLR", {"step_size": 2}),
                                     ("ExponentialLR", {"gamma": 0.5})])
def test_epoch_argument_is_deprecated_as_in_torch(name, kw, torch):
    def run(lib):
        o = _opt(lib)
        s = getattr(lib.optim.lr_scheduler, name)(o, **kw)
        o.step()
        msgs = _caught(lambda: s.step(3))
        return msgs, s.get_last_lr()

    (ours, lr), (theirs, their_lr) = run(ad), run(torch)
    assert ours == theirs and ours[0].startswith(EPOCH_MSG)
    assert lr == pytest.approx(their_lr)


@pytest.mark.parametrize("lib_name", ["autodiff", "torch"])
def test_plateau_epoch_deprecated_and_warm_restarts_epoch_is_not(lib_name, torch):
    lib = ad if lib_name == "autodiff" else torch
    o = _opt(lib)
    plateau = lib.optim.lr_scheduler.ReduceLROnPlateau(o)
    msgs = _caught(lambda: plateau.step(1.0, 4))
    assert [m[:len(EPOCH_MSG)] for m in msgs] == [EPOCH_MSG]
    s = lib.optim.lr_scheduler.CosineAnnealingWarmRestarts(o, T_0=3)
    o.step()
    assert _caught(lambda: s.step(1.5)) == []


BUILT_IN = [
    ("StepLR", lambda m, o: m.StepLR(o, 2)),
    ("MultiStepLR", lambda m, o: m.MultiStepLR(o, [2, 4])),
    ("ExponentialLR", lambda m, o: m.ExponentialLR(o, 0.9)),
    ("LambdaLR", lambda m, o: m.LambdaLR(o, lambda e: 0.9**e)),
    ("MultiplicativeLR", lambda m, o: m.MultiplicativeLR(o, lambda e: 0.9)),
    ("ConstantLR", lambda m, o: m.ConstantLR(o)),
    ("LinearLR", lambda m, o: m.LinearLR(o)),
    ("PolynomialLR", lambda m, o: m.PolynomialLR(o)),
    ("CosineAnnealingLR", lambda m, o: m.CosineAnnealingLR(o, 10)),
    ("CosineAnnealingWarmRestarts", lambda m, o: m.CosineAnnealingWarmRestarts(o, 3)),
    ("CyclicLR", lambda m, o: m.CyclicLR(o, 0.01, 0.1, cycle_momentum=False)),
    ("OneCycleLR", lambda m, o: m.OneCycleLR(o, 0.1, total_steps=10)),
    ("SWALR", lambda m, o: (m if hasattr(m, "SWALR") else swa_utils).SWALR(o, 0.05)),
]


@pytest.mark.parametrize("name,build", BUILT_IN, ids=[n for n, _ in BUILT_IN])
def test_get_lr_outside_step_warns_as_torch(name, build, torch):
    def run(lib, sched_module):
        o = _opt(lib)
        s = build(sched_module, o)
        steps = _caught(lambda: [(o.step(), s.step()) for _ in range(3)])
        return steps, _caught(s.get_lr)

    ours = run(ad, ls)
    theirs = run(torch, torch.optim.swa_utils if name == "SWALR" else torch.optim.lr_scheduler)
    assert ours == theirs == ([], [GET_LR_MSG])


def test_combinators_and_a_training_loop_do_not_warn():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        o = _opt(ad)
        seq = ls.SequentialLR(o, [ls.LinearLR(o, 0.5, total_iters=2), ls.StepLR(o, 2)], [2])
        for _ in range(5):
            o.step()
            seq.step()
        o2 = _opt(ad)
        chain = ls.ChainedScheduler([ls.ConstantLR(o2), ls.ExponentialLR(o2, 0.9)])
        for _ in range(3):
            o2.step()
            chain.step()
        assert chain.get_last_lr() and seq.get_last_lr()


# --------------------------------------------------------------------------- float step sizes
@pytest.mark.parametrize("name,kw,epochs", [
    ("StepLR", {"step_size": 2.5, "gamma": 0.5}, None),
    ("StepLR", {"step_size": 2.5, "gamma": 0.5}, [1, 2, 3, 4.5, 5, 7.5]),
    ("MultiStepLR", {"milestones": [2.5, 4, 4.0], "gamma": 0.5}, None),
    ("MultiStepLR", {"milestones": [2.5, 4], "gamma": 0.5}, [1, 3, 4, 6]),
])
def test_float_step_sizes_and_epochs_match_torch(name, kw, epochs, torch):
    def trace(lib):
        o = _opt(lib)
        s = getattr(lib.optim.lr_scheduler, name)(o, **kw)
        out = [s.get_last_lr()[0]]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # step(epoch) is deprecated in both
            for e in epochs or [None] * 8:
                o.step()
                s.step() if e is None else s.step(e)
                out.append(s.get_last_lr()[0])
        return out

    assert trace(ad) == pytest.approx(trace(torch), rel=1e-12)


def test_step_lr_float_step_size_by_hand():
    o = _opt(ad)
    s = ls.StepLR(o, 2.5, 0.5)
    lrs = [s.get_last_lr()[0]]
    for _ in range(5):
        o.step()
        s.step()
        lrs.append(s.get_last_lr()[0])
    assert lrs == pytest.approx([0.1, 0.1, 0.1, 0.1, 0.1, 0.05])


# --------------------------------------------------------------------------- optimizer state
@pytest.mark.parametrize("name,kw", [("Adam", {}), ("Adam", {"amsgrad": True}),
                                     ("SGD", {"lr": 0.1, "momentum": 0.9}), ("RMSprop", {})])
def test_loaded_state_of_another_shape_fails_clearly_at_step(name, kw, device, torch):
    def opt_for(n):
        p = ad.zeros(n, requires_grad=True, device=device)
        p.grad = ad.ones(n, device=device)
        return p, getattr(optim, name)([p], **kw)

    _, saved = opt_for(2)
    saved.step()
    p, o = opt_for(3)
    o.load_state_dict(saved.state_dict())  # as PyTorch: loading does not check shapes
    for _ in range(2):  # and it keeps failing, not only once
        with pytest.raises(RuntimeError, match=r"has shape \(2,\), but the parameter has "
                                               r"shape \(3,\)"):
            o.step()
    assert p.tolist() == [0.0, 0.0, 0.0]
    tp = torch.zeros(3, requires_grad=True)
    tp.grad = torch.ones(3)
    t2 = torch.zeros(2, requires_grad=True)
    t2.grad = torch.ones(2)
    tsaved = getattr(torch.optim, name)([t2], **kw)
    tsaved.step()
    topt = getattr(torch.optim, name)([tp], **kw)
    topt.load_state_dict(tsaved.state_dict())
    with pytest.raises(RuntimeError):
        topt.step()


def test_loaded_state_of_the_right_shape_still_resumes(device):
    p = ad.zeros(3, requires_grad=True, device=device)
    o = optim.Adam([p], lr=0.1)
    p.grad = ad.ones(3, device=device)
    o.step()
    q = ad.tensor(p.tolist(), requires_grad=True, device=device)
    o2 = optim.Adam([q], lr=0.1)
    o2.load_state_dict(o.state_dict())
    q.grad = ad.ones(3, device=device)
    p.grad = ad.ones(3, device=device)
    o.step()
    o2.step()
    assert q.tolist() == pytest.approx(p.tolist())
