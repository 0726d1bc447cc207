"""``optim.Muon`` against ``torch.optim.Muon``: several steps, options, state dict, errors."""

from __future__ import annotations

import copy

import numpy as np
import pytest

import autodiff as ad
from autodiff import optim
from autodiff.optim.muon import _adjust_lr

torch = pytest.importorskip("torch")
if not hasattr(torch.optim, "Muon"):
    pytest.skip("this PyTorch has no optim.Muon", allow_module_level=True)

SHAPES = [(8, 5), (5, 8), (16, 16), (48, 24)]


def _run(lib, kw, steps=5, group2=None):
    rng = np.random.default_rng(0)
    ps = [lib.tensor(rng.standard_normal(s), dtype=lib.float64).requires_grad_() for s in SHAPES]
    groups = [{"params": ps[:2]}, {"params": ps[2:], **(group2 or {})}]
    opt = lib.optim.Muon(groups, **kw)
    out = []
    for k in range(steps):
        g_rng = np.random.default_rng(10 + k)
        for p, s in zip(ps, SHAPES):
            p.grad = lib.tensor(g_rng.standard_normal(s), dtype=lib.float64)
        opt.step()
        out.append([p.detach().numpy().copy() for p in ps])
    return out, opt


@pytest.mark.parametrize("kw", [
    {}, {"lr": 0.02}, {"lr": 0.05, "nesterov": False}, {"momentum": 0.0, "weight_decay": 0.0},
    {"adjust_lr_fn": "original", "lr": 0.03}, {"adjust_lr_fn": "match_rms_adamw", "lr": 0.01},
    {"ns_steps": 3, "ns_coefficients": (2.0, -1.5, 0.5), "eps": 1e-3},
], ids=str)
def test_muon_matches_torch(kw):
    ours, aopt = _run(ad, kw, group2={"momentum": 0.9, "lr": 0.04})
    theirs, topt = _run(torch, kw, group2={"momentum": 0.9, "lr": 0.04})
    for k, (a_step, t_step) in enumerate(zip(ours, theirs)):
        for a, t in zip(a_step, t_step):
            # bfloat16 Newton-Schulz: small matrices agree to the last bit; in larger ones a
            # float32 sum in another order can round an entry one bf16 ulp apart
            np.testing.assert_allclose(a, t, rtol=0, atol=1e-4, err_msg=f"step {k}")
            if a.size <= 64:
                np.testing.assert_allclose(a, t, rtol=1e-15, atol=1e-16)
    a_sd, t_sd = aopt.state_dict(), topt.state_dict()
    assert a_sd["param_groups"] == [
        {k: (tuple(v) if isinstance(v, tuple) else v) for k, v in g.items()}
        for g in t_sd["param_groups"]]
    assert sorted(a_sd["state"]) == sorted(t_sd["state"])
    for i, st in t_sd["state"].items():
        assert sorted(a_sd["state"][i]) == sorted(st) == ["momentum_buffer"]
        np.testing.assert_allclose(a_sd["state"][i]["momentum_buffer"].numpy(),
                                   st["momentum_buffer"].numpy(), rtol=1e-12)


def test_muon_state_dict_resume():
    full, _ = _run(ad, {"lr": 0.02}, steps=4)
    _, opt = _run(ad, {"lr": 0.02}, steps=2)
    sd = copy.deepcopy(opt.state_dict())
    params = [ad.tensor(a, dtype=ad.float64).requires_grad_() for a in _run(ad, {"lr": 0.02},
                                                                            steps=2)[0][-1]]
    fresh = optim.Muon([{"params": params[:2]}, {"params": params[2:]}], lr=1.0)
    fresh.load_state_dict(sd)
    for k in (2, 3):
        g_rng = np.random.default_rng(10 + k)
        for p, s in zip(params, SHAPES):
            p.grad = ad.tensor(g_rng.standard_normal(s), dtype=ad.float64)
        fresh.step()
    for p, want in zip(params, full[-1]):
        np.testing.assert_array_equal(p.detach().numpy(), want)


@pytest.mark.parametrize("args,kw", [
    ((), {"lr": -1.0}), ((), {"momentum": -0.1}), ((), {"weight_decay": -1.0}),
    ((), {"adjust_lr_fn": "other"}), ((3,), {}), ((2, 3, 4), {}),
], ids=str)
def test_muon_errors_match_torch(args, kw):
    shape = args or (3, 3)
    with pytest.raises(ValueError) as theirs:
        torch.optim.Muon([torch.zeros(shape, requires_grad=True)], **kw)
    with pytest.raises(ValueError) as ours:
        optim.Muon([ad.zeros(shape, requires_grad=True)], **kw)
    assert str(ours.value) == str(theirs.value)


def test_muon_ns_steps_limit_and_grad_none():
    p, q = ad.zeros((3, 3), requires_grad=True), ad.ones((2, 4), requires_grad=True)
    opt = optim.Muon([p, q], ns_steps=100)
    opt.step()  # no grads: nothing to do
    p.grad = ad.ones((3, 3))
    with pytest.raises(ValueError, match="less than 100"):
        opt.step()
    assert _adjust_lr(1.0, None, (8, 2)) == 2.0 and _adjust_lr(1.0, "match_rms_adamw",
                                                              (4, 25)) == pytest.approx(1.0)
