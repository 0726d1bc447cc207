"""Adafactor and SparseAdam against torch.optim, step by step (float64), with their state
dicts, argument errors, and SparseAdam's handling of dense gradients."""

from __future__ import annotations

import numpy as np
import pytest

import autodiff as ad
from autodiff import optim
from autodiff.optim.sparse_adam import mark_sparse_grad

SHAPES = [(3, 4), (5,), (2, 3, 4), ()]
STEPS = 10


def _inits():
    rng = np.random.default_rng(0)
    return [rng.standard_normal(s) for s in SHAPES]


def _grad(p: np.ndarray, k: int, i: int) -> np.ndarray:
    noise = np.random.default_rng(100 + 7 * k + i).standard_normal(p.shape)
    return 2.0 * p + 0.3 * noise


def _run(lib, name, kw, device=None, dtype="float64", groups=None):
    dt = getattr(lib, dtype)
    extra = {"device": device} if device else {}
    params = [lib.tensor(a, dtype=dt, requires_grad=True, **extra) for a in _inits()]
    spec = params if groups is None else [{"params": params[:2]},
                                          {"params": params[2:], **groups}]
    opt = getattr(lib.optim, name)(spec, **kw)
    out = []
    for k in range(STEPS):
        for i, p in enumerate(params):
            host = np.array(p.detach().cpu().numpy(), dtype=np.float64)
            p.grad = lib.tensor(_grad(host, k, i), dtype=dt, **extra)
        opt.step()
        out.append([np.array(p.detach().cpu().numpy(), dtype=np.float64) for p in params])
    return out, opt


def _compare(got, want, rtol=1e-10, atol=1e-12):
    for k, (g_step, w_step) in enumerate(zip(got, want)):
        for g, w in zip(g_step, w_step):
            np.testing.assert_allclose(g, w, rtol=rtol, atol=atol, err_msg=f"step {k + 1}")


ADAFACTOR_CASES = [
    {},
    {"lr": 0.1, "weight_decay": 0.1},
    {"lr": 0.05, "maximize": True},
    {"lr": 0.5, "beta2_decay": -0.5, "eps": (1e-3, 1e-2), "d": 2.0},
    {"lr": 1.0, "weight_decay": 0.05, "maximize": True, "eps": (None, 0.5)},
]


@pytest.mark.parametrize("kw", ADAFACTOR_CASES, ids=[str(i) for i in range(len(ADAFACTOR_CASES))])
def test_adafactor_matches_torch(kw, torch):
    ours, opt = _run(ad, "Adafactor", kw)
    theirs, topt = _run(torch, "Adafactor", kw)
    _compare(ours, theirs)
    sd, tsd = opt.state_dict(), topt.state_dict()
    assert sd["param_groups"] == tsd["param_groups"]
    assert {k: list(v) for k, v in sd["state"].items()} == \
        {k: list(v) for k, v in tsd["state"].items()}
    for i, state in sd["state"].items():
        assert state["step"] == tsd["state"][i]["step"].item() == float(STEPS)
        for name, value in state.items():
            if name != "step":
                np.testing.assert_allclose(value.numpy(), tsd["state"][i][name].numpy(),
                                           rtol=1e-10, atol=1e-14, err_msg=name)


def test_adafactor_param_groups_match_torch(torch):
    group2 = {"lr": 0.2, "weight_decay": 0.1, "maximize": True, "d": 1.5}
    _compare(_run(ad, "Adafactor", {}, groups=group2)[0],
             _run(torch, "Adafactor", {}, groups=group2)[0])


def test_adafactor_float32(cpu_device, torch):
    kw = {"lr": 0.1, "weight_decay": 0.01}
    _compare(_run(ad, "Adafactor", kw, device=cpu_device, dtype="float32")[0],
             _run(torch, "Adafactor", kw, dtype="float32")[0], rtol=2e-5, atol=2e-6)


def test_adafactor_state_dict_round_trip():
    full, _ = _run(ad, "Adafactor", {"lr": 0.1})
    params = [ad.tensor(a, dtype=ad.float64, requires_grad=True) for a in _inits()]
    opt = optim.Adafactor(params, lr=0.1)
    for k in range(STEPS):
        if k == 4:
            sd = opt.state_dict()
            opt = optim.Adafactor(params, lr=1.0)
            opt.load_state_dict(sd)
        for i, p in enumerate(params):
            p.grad = ad.tensor(_grad(p.detach().numpy(), k, i), dtype=ad.float64)
        opt.step()
    for p, w in zip(params, full[-1]):
        np.testing.assert_allclose(p.detach().numpy(), w, rtol=1e-12)


@pytest.mark.parametrize("kw,message", [
    ({"lr": -1.0}, "Learning rate should be >= 0 but is: -1.0"),
    ({"beta2_decay": 0.5}, "beta2_decay should be <= 0 but is: 0.5"),
    ({"eps": (-1.0, 1e-3)}, "epsilon1 should be >= 0 but is: -1.0"),
    ({"eps": (None, -1.0)}, "epsilon2 should be >= 0 but is: -1.0"),
    ({"d": 0.5}, "Clipping threshold d should be >= 1 but is: 0.5"),
    ({"weight_decay": -0.1}, "weight_decay should be >= 0 but is: -0.1"),
])
def test_adafactor_errors_match_torch(kw, message, torch):
    for lib in (ad, torch):
        with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
            lib.optim.Adafactor([lib.zeros(2, requires_grad=True)], **kw)


# --------------------------------------------------------------------------- SparseAdam
def _embedding_run(lib, kw, padding_idx=None, steps=STEPS):
    w0 = np.random.default_rng(0).standard_normal((10, 4))
    emb = lib.nn.Embedding(10, 4, padding_idx=padding_idx, sparse=True)
    emb = emb.double() if lib is not ad else emb.to(dtype=ad.float64)
    with lib.no_grad():
        emb.weight.copy_(lib.tensor(w0))
    params = [emb.weight] if lib is not ad else [mark_sparse_grad(emb.weight)]
    opt = lib.optim.SparseAdam(params, **kw)
    out = []
    for k in range(steps):
        idx = np.random.default_rng(k).integers(0, 7, (3, 5))  # rows 7..9 never looked up
        target = np.random.default_rng(50 + k).standard_normal((3, 5, 4))
        opt.zero_grad()
        loss = ((emb(lib.tensor(idx)) - lib.tensor(target)) ** 2).sum()
        loss.backward()
        opt.step()
        out.append([emb.weight.detach().numpy().copy()])
    return out, opt


@pytest.mark.parametrize("kw,padding_idx", [
    ({}, None),
    ({"lr": 0.1}, 2),
    ({"lr": 0.05, "betas": (0.5, 0.9), "eps": 1e-4, "maximize": True}, None),
    ({"lr": 0.2, "maximize": True}, 0),
])
def test_sparse_adam_matches_torch_on_sparse_embedding(kw, padding_idx, torch):
    ours, opt = _embedding_run(ad, kw, padding_idx)
    theirs, topt = _embedding_run(torch, kw, padding_idx)
    _compare(ours, theirs, rtol=1e-12, atol=1e-14)
    np.testing.assert_array_equal(ours[-1][0][7:], np.random.default_rng(0).standard_normal(
        (10, 4))[7:])  # untouched rows stay put
    sd, tsd = opt.state_dict(), topt.state_dict()
    assert sd["param_groups"] == [{k: v for k, v in g.items()} for g in tsd["param_groups"]]
    assert sorted(sd["state"][0]) == sorted(tsd["state"][0])
    assert sd["state"][0]["step"] == tsd["state"][0]["step"] == STEPS
    for name in ("exp_avg", "exp_avg_sq"):
        np.testing.assert_allclose(sd["state"][0][name].numpy(),
                                   tsd["state"][0][name].numpy(), rtol=1e-12, atol=1e-15)


def test_sparse_adam_rejects_dense_gradients_as_torch(torch):
    for lib in (ad, torch):
        lin = lib.nn.Linear(2, 2)
        opt = lib.optim.SparseAdam(lin.parameters())
        lin(lib.ones(2)).sum().backward()
        with pytest.raises(RuntimeError, match="SparseAdam does not support dense gradients, "
                                               "please consider Adam instead"):
            opt.step()
    assert opt.state == {} or all(not s for s in opt.state.values())


def test_sparse_adam_mark_and_unmark():
    p = mark_sparse_grad(ad.zeros(3, 2, requires_grad=True))
    opt = optim.SparseAdam([p], lr=0.1)
    p.grad = ad.tensor([[0.0, 0.0], [1.0, -1.0], [0.0, 0.0]])
    opt.step()
    got = p.detach().numpy()
    assert np.all(got[[0, 2]] == 0) and np.all(got[1] != 0)
    p.grad = ad.zeros(3, 2)  # an empty sparse gradient: the step counts, nothing moves
    opt.step()
    assert opt.state[p]["step"] == 2
    np.testing.assert_array_equal(p.detach().numpy(), got)
    mark_sparse_grad(p, False)
    with pytest.raises(RuntimeError, match="does not support dense gradients"):
        opt.step()
    with pytest.raises(TypeError, match="expected a Tensor"):
        mark_sparse_grad([1.0])


@pytest.mark.parametrize("kw,message", [
    ({"lr": 0.0}, "Invalid learning rate: 0.0"),
    ({"eps": 0.0}, "Invalid epsilon value: 0.0"),
    ({"betas": (1.0, 0.9)}, "Invalid beta parameter at index 0: 1.0"),
    ({"betas": (0.9, -0.1)}, "Invalid beta parameter at index 1: -0.1"),
])
def test_sparse_adam_errors_match_torch(kw, message, torch):
    for lib in (ad, torch):
        with pytest.raises(ValueError, match=message.replace("(", r"\(")):
            lib.optim.SparseAdam([lib.zeros(2, requires_grad=True)], **kw)
