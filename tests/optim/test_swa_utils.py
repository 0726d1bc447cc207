"""optim.swa_utils against torch.optim.swa_utils: averaged parameters and buffers, n_averaged,
SWALR's learning rates, update_bn's running statistics, state dicts and errors."""

from __future__ import annotations

import numpy as np
import pytest

import autodiff as ad
from autodiff import optim
from autodiff.optim import swa_utils as S


def _pair(torch):
    tm = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4),
                             torch.nn.Linear(4, 2)).double()
    am = ad.nn.Sequential(ad.nn.Linear(3, 4), ad.nn.BatchNorm1d(4),
                          ad.nn.Linear(4, 2)).to(dtype=ad.float64)
    return tm, am


def _named(model) -> list:
    return list(model.named_parameters()) + list(model.named_buffers())


def _set_same(torch, tm, am, k: int) -> None:
    """Fresh values (seeded by ``k``) in both models' parameters and buffers."""
    rng = np.random.default_rng(k)
    for (name, tp), (name2, ap) in zip(_named(tm), _named(am)):
        assert name == name2
        v = rng.standard_normal(tuple(tp.shape)) if tp.is_floating_point() else np.array(3 * k + 1)
        with torch.no_grad():
            tp.copy_(torch.tensor(v))
        with ad.no_grad():
            ap.copy_(ad.tensor(v, dtype=ap.dtype))


def _assert_same_state(ours, theirs) -> None:
    sd1, sd2 = ours.state_dict(), theirs.state_dict()
    assert list(sd1) == list(sd2)
    for name in sd2:
        np.testing.assert_allclose(sd1[name].numpy().astype(np.float64),
                                   sd2[name].numpy().astype(np.float64), rtol=1e-12,
                                   atol=1e-14, err_msg=name)


# (kind, factory name, factory args, use_buffers)
AVG_CASES = [
    (None, None, (), False),
    (None, None, (), True),
    ("multi_avg_fn", "get_ema_multi_avg_fn", (0.9,), False),
    ("multi_avg_fn", "get_ema_multi_avg_fn", (0.6,), True),
    ("multi_avg_fn", "get_swa_multi_avg_fn", (), False),
    ("avg_fn", "get_ema_avg_fn", (0.7,), True),
    ("avg_fn", "get_swa_avg_fn", (), False),
    ("avg_fn", "get_swa_avg_fn", (), True),
]


@pytest.mark.parametrize("kind,factory,args,use_buffers", AVG_CASES,
                         ids=[f"{c[1]}{c[2]}-buffers={c[3]}" for c in AVG_CASES])
def test_averaged_model_matches_torch(kind, factory, args, use_buffers, torch):
    from torch.optim import swa_utils as TS

    tm, am = _pair(torch)
    kw_t = {kind: getattr(TS, factory)(*args)} if kind else {}
    kw_a = {kind: getattr(S, factory)(*args)} if kind else {}
    ta = TS.AveragedModel(tm, use_buffers=use_buffers, **kw_t)
    aa = S.AveragedModel(am, use_buffers=use_buffers, **kw_a)
    for k in range(5):
        _set_same(torch, tm, am, k)
        ta.update_parameters(tm)
        aa.update_parameters(am)
        _assert_same_state(aa, ta)
        assert int(aa.n_averaged.item()) == int(ta.n_averaged.item()) == k + 1
    x = np.random.default_rng(9).standard_normal((5, 3))
    ta.eval()
    aa.eval()
    np.testing.assert_allclose(aa(ad.tensor(x)).detach().numpy(),
                               ta(torch.tensor(x)).detach().numpy(), rtol=1e-12)


def test_swa_multi_avg_fn_on_integer_buffers_raises_as_torch():
    m = ad.nn.BatchNorm1d(2)
    avg = S.AveragedModel(m, multi_avg_fn=S.get_swa_multi_avg_fn(), use_buffers=True)
    avg.update_parameters(m)
    with pytest.raises(RuntimeError, match="Integer division with addcdiv"):
        avg.update_parameters(m)


def test_averaged_model_float32_and_state_dict_round_trip(cpu_device):
    m = ad.nn.Linear(3, 2, device=cpu_device)
    avg = S.AveragedModel(m)
    values = []
    for _ in range(3):
        with ad.no_grad():
            m.weight.normal_()
        values.append(m.weight.detach().numpy().copy())
        avg.update_parameters(m)
    np.testing.assert_allclose(avg.module.weight.detach().numpy(), np.mean(values, 0),
                               rtol=1e-5, atol=1e-6)
    sd = avg.state_dict()
    assert list(sd) == ["n_averaged", "module.weight", "module.bias"]
    other = S.AveragedModel(ad.nn.Linear(3, 2, device=cpu_device))
    other.load_state_dict(sd)
    assert int(other.n_averaged.item()) == 3
    np.testing.assert_array_equal(other.module.weight.detach().numpy(),
                                  avg.module.weight.detach().numpy())
    assert m.weight is not avg.module.weight  # a deep copy


def test_averaged_model_argument_errors():
    m = ad.nn.Linear(2, 2)
    with pytest.raises(AssertionError, match="Only one of avg_fn and multi_avg_fn"):
        S.AveragedModel(m, avg_fn=S.get_swa_avg_fn(), multi_avg_fn=S.get_swa_multi_avg_fn())
    for factory in (S.get_ema_avg_fn, S.get_ema_multi_avg_fn):
        with pytest.raises(ValueError, match=r"Invalid decay value 1.5"):
            factory(1.5)


def _lrs(lib, steps, sched_kw, group_lrs=(0.5, 0.1)):
    params = [lib.zeros(2, requires_grad=True), lib.zeros(3, requires_grad=True)]
    opt = lib.optim.SGD([{"params": [p], "lr": lr} for p, lr in zip(params, group_lrs)])
    swa = lib.optim.swa_utils.SWALR(opt, **sched_kw)
    out = [[g["lr"] for g in opt.param_groups]]
    for _ in range(steps):
        opt.step()
        swa.step()
        out.append(list(swa.get_last_lr()))
    return out, swa


SWALR_CASES = [
    {"swa_lr": 0.05},
    {"swa_lr": [0.05, 0.2], "anneal_epochs": 4, "anneal_strategy": "linear"},
    {"swa_lr": 0.01, "anneal_epochs": 0},
    {"swa_lr": 0.3, "anneal_epochs": 1, "anneal_strategy": "cos"},
    {"swa_lr": [0.0, 1.0], "anneal_epochs": 7, "anneal_strategy": "cos"},
]


@pytest.mark.parametrize("kw", SWALR_CASES, ids=[str(i) for i in range(len(SWALR_CASES))])
def test_swalr_lr_sequence_matches_torch(kw, torch):
    ours, sched = _lrs(ad, 14, kw)
    theirs, tsched = _lrs(torch, 14, kw)
    np.testing.assert_allclose(ours, theirs, rtol=1e-13, atol=1e-15)
    sd, tsd = sched.state_dict(), tsched.state_dict()
    assert {k: v for k, v in sd.items() if k in ("anneal_epochs", "_anneal_strategy",
                                                "last_epoch", "_step_count", "base_lrs")} == \
        {k: tsd[k] for k in ("anneal_epochs", "_anneal_strategy", "last_epoch", "_step_count",
                             "base_lrs")}
    assert "anneal_func" not in sd and "optimizer" not in sd


def test_swalr_state_dict_resumes():
    full, _ = _lrs(ad, 8, {"swa_lr": 0.05, "anneal_epochs": 6, "anneal_strategy": "linear"})
    p = ad.zeros(2, requires_grad=True)
    opt = optim.SGD([p], lr=0.5)
    sched = S.SWALR(opt, swa_lr=0.05, anneal_epochs=6, anneal_strategy="linear")
    for _ in range(3):
        opt.step()
        sched.step()
    sd = sched.state_dict()
    fresh = S.SWALR(opt, swa_lr=0.05, anneal_epochs=6, anneal_strategy="cos")
    fresh.load_state_dict(sd)
    assert fresh.anneal_func is S.SWALR._linear_anneal
    for k in range(4, 9):
        fresh.step()
        assert fresh.get_last_lr()[0] == pytest.approx(full[k][0], rel=1e-13)


def test_swalr_errors_match_torch(torch):
    for lib in (ad, torch):
        opt = lib.optim.SGD([lib.zeros(2, requires_grad=True)], lr=0.1)
        with pytest.raises(ValueError, match="anneal_strategy must be one of 'cos' or 'linear'"):
            lib.optim.swa_utils.SWALR(opt, swa_lr=0.1, anneal_strategy="exp")
        with pytest.raises(ValueError, match="anneal_epochs must be equal or greater than 0"):
            lib.optim.swa_utils.SWALR(opt, swa_lr=0.1, anneal_epochs=-1)
        with pytest.raises(ValueError, match="anneal_epochs must be equal or greater than 0"):
            lib.optim.swa_utils.SWALR(opt, swa_lr=0.1, anneal_epochs=2.0)
        with pytest.raises(ValueError, match="swa_lr must have the same length"):
            lib.optim.swa_utils.SWALR(opt, swa_lr=[0.1, 0.2])


class _Wrap:
    """A loader of (x, y) pairs, lists or bare tensors."""

    def __init__(self, batches, form):
        self.batches, self.form = batches, form

    def __iter__(self):
        for b, y in self.batches:
            yield b if self.form == "tensor" else ([b, y] if self.form == "list" else (b, y))


@pytest.mark.parametrize("form", ["tensor", "list", "tuple"])
def test_update_bn_matches_torch(form, torch):
    tm, am = _pair(torch)
    _set_same(torch, tm, am, 0)
    tm[1].momentum = am[1].momentum = 0.3
    tm.eval()
    am.eval()
    rng = np.random.default_rng(5)
    xs = [rng.standard_normal((n, 3)) * 2 + 1 for n in (4, 7, 5)]
    S.update_bn(_Wrap([(ad.tensor(x), 0) for x in xs], form), am)
    torch.optim.swa_utils.update_bn(_Wrap([(torch.tensor(x), 0) for x in xs], form), tm)
    for name in ("running_mean", "running_var", "num_batches_tracked"):
        np.testing.assert_allclose(getattr(am[1], name).numpy(), getattr(tm[1], name).numpy(),
                                   rtol=1e-12, err_msg=name)
    assert am[1].momentum == 0.3 and not am.training and not am[1].training


def test_update_bn_without_batchnorm_is_a_no_op():
    m = ad.nn.Linear(2, 2)
    S.update_bn([ad.ones(1, 2)], m)  # never calls the model
    assert m.training


def test_update_bn_on_an_averaged_model_with_device():
    m = ad.nn.Sequential(ad.nn.Linear(2, 3), ad.nn.BatchNorm1d(3))
    avg = S.AveragedModel(m, device="numpy")
    avg.update_parameters(m)
    assert avg.module[0].weight.device.type == avg.n_averaged.device.type == "numpy"
    x = ad.randn(6, 2)
    S.update_bn([(x,)], avg, device="numpy")
    with ad.no_grad():
        h = avg.module[0](x.to("numpy"))
    np.testing.assert_allclose(avg.module[1].running_mean.numpy(), h.mean(0).numpy(),
                               rtol=1e-5, atol=1e-6)
