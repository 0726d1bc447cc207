"""Each optimizer, step by step, against PyTorch (when importable) and a float64 NumPy
reference of the same formulas; plus groups, state dicts, zero_grad and in-place semantics."""

from __future__ import annotations

import numpy as np
import pytest

import autodiff as ad
from autodiff import optim

from .reference import REFERENCES

CASES = [
    ("SGD", {"lr": 0.1}),
    ("SGD", {"lr": 0.1, "momentum": 0.9}),
    ("SGD", {"lr": 0.1, "momentum": 0.9, "dampening": 0.5}),
    ("SGD", {"lr": 0.1, "momentum": 0.9, "nesterov": True}),
    ("SGD", {"lr": 0.05, "momentum": 0.8, "nesterov": True, "weight_decay": 0.1}),
    ("SGD", {"lr": 0.1, "weight_decay": 0.1}),
    ("SGD", {"lr": 0.1, "momentum": 0.9, "weight_decay": 0.01, "maximize": True}),
    ("SGD", {"lr": 0.1, "maximize": True}),
    ("Adam", {"lr": 0.1}),
    ("Adam", {"lr": 0.1, "weight_decay": 0.1}),
    ("Adam", {"lr": 0.1, "amsgrad": True}),
    ("Adam", {"lr": 0.1, "betas": (0.8, 0.9), "eps": 1e-3, "maximize": True}),
    ("AdamW", {"lr": 0.1}),
    ("AdamW", {"lr": 0.1, "weight_decay": 0.1, "amsgrad": True}),
    ("AdamW", {"lr": 0.1, "maximize": True}),
    ("RMSprop", {}),
    ("RMSprop", {"lr": 0.01, "momentum": 0.9}),
    ("RMSprop", {"lr": 0.01, "centered": True}),
    ("RMSprop", {"lr": 0.01, "alpha": 0.9, "centered": True, "momentum": 0.5, "weight_decay": 0.1}),
    ("RMSprop", {"lr": 0.01, "maximize": True}),
    ("Adagrad", {"lr": 0.1}),
    ("Adagrad", {"lr": 0.1, "lr_decay": 0.1, "weight_decay": 0.1, "initial_accumulator_value": 0.5}),
    ("Adagrad", {"lr": 0.1, "maximize": True}),
    ("Adadelta", {}),
    ("Adadelta", {"lr": 0.5, "rho": 0.8, "weight_decay": 0.1}),
    ("Adadelta", {"lr": 0.5, "maximize": True}),
    ("Adamax", {}),
    ("Adamax", {"lr": 0.1, "betas": (0.8, 0.95), "eps": 1e-3, "weight_decay": 0.1}),
    ("Adamax", {"lr": 0.1, "betas": (0.3, 0.9), "maximize": True}),
    ("NAdam", {}),
    ("NAdam", {"lr": 0.1, "momentum_decay": 0.01, "weight_decay": 0.1}),
    ("NAdam", {"lr": 0.1, "weight_decay": 0.1, "decoupled_weight_decay": True}),
    ("NAdam", {"lr": 0.05, "betas": (0.8, 0.99), "eps": 1e-4, "maximize": True}),
    ("RAdam", {}),
    ("RAdam", {"lr": 0.1, "betas": (0.8, 0.9), "weight_decay": 0.1}),
    ("RAdam", {"lr": 0.1, "betas": (0.3, 0.99), "weight_decay": 0.1,
                   "decoupled_weight_decay": True}),
    ("RAdam", {"lr": 0.05, "eps": 1e-3, "maximize": True}),
    ("Rprop", {}),
    ("Rprop", {"lr": 0.1, "etas": (0.3, 1.5), "step_sizes": (0.02, 0.2)}),
    ("Rprop", {"lr": 0.05, "maximize": True}),
    ("ASGD", {}),
    ("ASGD", {"lr": 0.1, "lambd": 0.01, "alpha": 0.5, "t0": 2, "weight_decay": 0.1}),
    ("ASGD", {"lr": 0.05, "t0": 0, "maximize": True}),
]
IDS = [f"{n}-" + "-".join(f"{k}={v}" for k, v in kw.items()) for n, kw in CASES]
SHAPES = [(3, 4), (5,)]
STEPS = 6
# RAdam rectifies its step only from the 6th on (rho_t <= t); run it into that regime
LONGER = {"RAdam": 10}


def _inits():
    rng = np.random.default_rng(1)
    return [rng.standard_normal(s) for s in SHAPES], [rng.standard_normal(s) for s in SHAPES]


def _grad(p: np.ndarray, target: np.ndarray, k: int) -> np.ndarray:
    """A gradient that depends on the current value (so a wrong update shows) plus noise."""
    noise = np.random.default_rng(100 + k).standard_normal(p.shape)
    return 2.0 * (p - target) + 0.3 * noise


def _host(t) -> np.ndarray:
    return np.array(t.detach().cpu().numpy(), dtype=np.float64)


def _groups(params, group2):
    """All parameters in one group, or (with ``group2``) the second in a group of its own
    with the hyper-parameters of ``group2``."""
    return params if group2 is None else [{"params": params[:1]},
                                          {"params": params[1:], **group2}]


def run_autodiff(name, kw, device, dtype=ad.float64, steps=STEPS, group2=None):
    inits, targets = _inits()
    params = [ad.tensor(a, dtype=dtype, device=device, requires_grad=True) for a in inits]
    opt = getattr(optim, name)(_groups(params, group2), **kw)
    out = []
    for k in range(steps):
        for p, c in zip(params, targets):
            p.grad = ad.tensor(_grad(_host(p), c, k), dtype=dtype, device=device)
        opt.step()
        out.append([_host(p) for p in params])
    return out


def run_reference(name, kw, steps=STEPS):
    params, targets = _inits()
    states = [{} for _ in params]
    out = []
    for k in range(steps):
        params = [REFERENCES[name](p, _grad(p, c, k), s, kw)
                  for p, c, s in zip(params, targets, states)]
        out.append([p.copy() for p in params])
    return out


def run_torch(torch, name, kw, steps=STEPS, group2=None):
    inits, targets = _inits()
    params = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in inits]
    opt = getattr(torch.optim, name)(_groups(params, group2), **kw)
    out = []
    for k in range(steps):
        for p, c in zip(params, targets):
            p.grad = torch.tensor(_grad(p.detach().numpy(), c, k))
        opt.step()
        out.append([p.detach().numpy().copy() for p in params])
    return out


def _compare(got, want, rtol, atol):
    for k, (g_step, w_step) in enumerate(zip(got, want)):
        for g, w in zip(g_step, w_step):
            np.testing.assert_allclose(g, w, rtol=rtol, atol=atol, err_msg=f"step {k + 1}")


@pytest.mark.parametrize("name,kw", CASES, ids=IDS)
def test_against_reference(name, kw, device):
    steps = LONGER.get(name, STEPS)
    _compare(run_autodiff(name, kw, device, steps=steps), run_reference(name, kw, steps),
             1e-10, 1e-12)


@pytest.mark.parametrize("name,kw", CASES, ids=IDS)
def test_against_torch(name, kw, torch):
    steps = LONGER.get(name, STEPS)
    _compare(run_autodiff(name, kw, "numpy", steps=steps), run_torch(torch, name, kw, steps),
             1e-10, 1e-12)


# (optimizer, defaults, the second parameter group's own hyper-parameters)
GROUP_CASES = [
    ("SGD", {"lr": 0.1, "momentum": 0.9}, {"lr": 0.01, "nesterov": True, "weight_decay": 0.1}),
    ("Adam", {"lr": 0.1}, {"lr": 0.05, "amsgrad": True, "maximize": True}),
    ("Adamax", {"lr": 0.1}, {"lr": 0.02, "weight_decay": 0.2, "maximize": True}),
    ("NAdam", {"lr": 0.1, "weight_decay": 0.1}, {"decoupled_weight_decay": True,
                                                  "momentum_decay": 0.02}),
    ("RAdam", {"lr": 0.1}, {"betas": (0.5, 0.9), "weight_decay": 0.1,
                            "decoupled_weight_decay": True}),
    ("Rprop", {"lr": 0.1}, {"lr": 0.01, "etas": (0.4, 1.3), "step_sizes": (1e-3, 0.05),
                            "maximize": True}),
    ("ASGD", {"lr": 0.1, "t0": 2}, {"lr": 0.05, "lambd": 0.01, "alpha": 0.5, "t0": 0,
                                    "weight_decay": 0.1}),
]


@pytest.mark.parametrize("name,kw,group2", GROUP_CASES, ids=[c[0] for c in GROUP_CASES])
def test_param_groups_against_torch(name, kw, group2, torch):
    _compare(run_autodiff(name, kw, "numpy", steps=10, group2=group2),
             run_torch(torch, name, kw, steps=10, group2=group2), 1e-10, 1e-12)


@pytest.mark.parametrize("name,kw,group2", GROUP_CASES, ids=[c[0] for c in GROUP_CASES])
def test_state_dict_keys_match_torch(name, kw, group2, torch):
    def state_dict(lib, params):
        opt = getattr(lib.optim, name)(_groups(params, group2), **kw)
        for p in params:
            p.grad = p.detach() * 2
        opt.step()
        return opt.state_dict()

    inits, _ = _inits()
    ours = state_dict(ad, [ad.tensor(a, requires_grad=True) for a in inits])
    theirs = state_dict(torch, [torch.tensor(a, requires_grad=True) for a in inits])
    assert {k: sorted(v) for k, v in ours["state"].items()} == \
        {k: sorted(v) for k, v in theirs["state"].items()}
    for g1, g2 in zip(ours["param_groups"], theirs["param_groups"]):
        assert set(g1) <= set(g2)
        assert g1["params"] == g2["params"]
        assert {k: v for k, v in g1.items() if k != "params"} == \
            {k: g2[k] for k in g1 if k != "params"}


@pytest.mark.parametrize("name", ["NAdam", "ASGD", "Rprop"])
def test_state_dict_survives_save_and_load(name, tmp_path):
    kw = {"lr": 0.05}
    full = run_autodiff(name, kw, "numpy", steps=6)
    inits, targets = _inits()
    params = [ad.tensor(a, dtype=ad.float64, requires_grad=True) for a in inits]
    opt = getattr(optim, name)(params, **kw)
    for k in range(6):
        if k == 3:
            ad.save(opt.state_dict(), tmp_path / "opt.ad")
            opt = getattr(optim, name)(params, lr=1.0)
            opt.load_state_dict(ad.load(tmp_path / "opt.ad"))
        for p, c in zip(params, targets):
            p.grad = ad.tensor(_grad(_host(p), c, k), dtype=ad.float64)
        opt.step()
    _compare([[_host(p) for p in params]], full[-1:], 0, 0)


@pytest.mark.parametrize("name", sorted(REFERENCES))
def test_float32_keeps_dtype(name, cpu_device):
    got = run_autodiff(name, {"lr": 0.05}, cpu_device, dtype=ad.float32, steps=3)
    want = run_reference(name, {"lr": 0.05}, steps=3)
    _compare(got, want, 1e-4, 1e-5)


def test_param_groups_use_their_own_hyperparameters(device):
    a = ad.ones(3, device=device, requires_grad=True)
    b = ad.ones(3, device=device, requires_grad=True)
    opt = optim.SGD([{"params": [a]}, {"params": b, "lr": 0.5, "momentum": 0.9}], lr=0.1)
    assert opt.param_groups[0]["momentum"] == 0 and opt.param_groups[1]["lr"] == 0.5
    a.grad, b.grad = ad.ones(3, device=device), ad.ones(3, device=device)
    opt.step()
    np.testing.assert_allclose(_host(a), 0.9)
    np.testing.assert_allclose(_host(b), 0.5)
    c = ad.ones(2, device=device, requires_grad=True)
    opt.add_param_group({"params": [c], "lr": 1.0})
    assert opt.param_groups[2]["momentum"] == 0
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group({"params": [a]})


def test_duplicate_parameters_warn_and_step_like_torch(torch):
    """PyTorch warns (does not raise) and updates a repeated parameter once per entry
    (with momentum its buffers differ: a deprecated case, not matched)."""
    p = ad.tensor([1.0, -2.0], requires_grad=True)
    tp = torch.tensor([1.0, -2.0], requires_grad=True)
    with pytest.warns(UserWarning, match="duplicate parameters"):
        opt = optim.SGD([p, p], lr=0.1)
    with pytest.warns(UserWarning, match="duplicate parameters"):
        topt = torch.optim.SGD([tp, tp], lr=0.1)
    for _ in range(2):
        (p * p).sum().backward()
        (tp * tp).sum().backward()
        opt.step()
        topt.step()
    np.testing.assert_allclose(p.detach().numpy(), tp.detach().numpy(), rtol=1e-6, atol=1e-6)


def test_bad_arguments():
    p = ad.zeros(2, requires_grad=True)
    with pytest.raises(ValueError, match="empty parameter list"):
        optim.SGD([], lr=0.1)
    with pytest.raises(TypeError, match="iterable of Tensors"):
        optim.SGD(p, lr=0.1)
    assert optim.SGD([p]).defaults["lr"] == 1e-3  # PyTorch 2.13's default
    with pytest.raises(ValueError, match="Nesterov"):
        optim.SGD([p], lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match="learning rate -1"):
        optim.Adam([p], lr=-1)
    with pytest.raises(ValueError, match="betas"):
        optim.AdamW([p], betas=(1.0, 0.9))


@pytest.mark.parametrize("name", sorted(REFERENCES))
def test_state_dict_round_trip_resumes_exactly(name, device):
    kw = {"lr": 0.05}
    full = run_autodiff(name, kw, device, steps=6)
    inits, targets = _inits()
    params = [ad.tensor(a, dtype=ad.float64, device=device, requires_grad=True) for a in inits]
    opt = getattr(optim, name)(params, **kw)
    for k in range(6):
        if k == 3:  # restart from a state dict in a fresh optimizer
            sd = opt.state_dict()
            opt = getattr(optim, name)(params, lr=1.0)
            opt.load_state_dict(sd)
            assert opt.param_groups[0]["lr"] == 0.05
        for p, c in zip(params, targets):
            p.grad = ad.tensor(_grad(_host(p), c, k), dtype=ad.float64, device=device)
        opt.step()
    _compare([[_host(p) for p in params]], full[-1:], 1e-12, 1e-12)


def test_state_dict_structure_matches_torch(torch):
    inits, _ = _inits()
    ours = [ad.tensor(a, requires_grad=True) for a in inits]
    theirs = [torch.tensor(a, requires_grad=True) for a in inits]
    o1, o2 = optim.Adam(ours, lr=0.1, amsgrad=True), torch.optim.Adam(theirs, lr=0.1,
                                                                       amsgrad=True)
    for p in ours + theirs:
        p.grad = p.detach() * 2
    o1.step()
    o2.step()
    s1, s2 = o1.state_dict(), o2.state_dict()
    assert sorted(s1["state"]) == sorted(s2["state"])
    assert sorted(s1["state"][0]) == sorted(s2["state"][0])
    assert s1["param_groups"][0]["params"] == s2["param_groups"][0]["params"]
    assert set(s1["param_groups"][0]) <= set(s2["param_groups"][0])


def test_load_state_dict_rejects_mismatch():
    a, b = ad.zeros(2, requires_grad=True), ad.zeros(2, requires_grad=True)
    sd = optim.SGD([a, b], lr=0.1).state_dict()
    with pytest.raises(ValueError, match="2 parameters"):
        optim.SGD([a], lr=0.1).load_state_dict(sd)


def test_zero_grad(device):
    p = ad.ones(3, device=device, requires_grad=True)
    opt = optim.SGD([p], lr=0.1)
    (p * 2).sum().backward()
    opt.zero_grad(set_to_none=False)
    assert p.grad is not None and _host(p.grad).tolist() == [0, 0, 0]
    opt.zero_grad()
    assert p.grad is None


def test_step_skips_params_without_grad_and_uses_closure():
    a, b = ad.ones(2, requires_grad=True), ad.ones(2, requires_grad=True)
    opt = optim.Adam([a, b], lr=0.1)

    def closure():
        opt.zero_grad()
        loss = (a * a).sum()
        loss.backward()
        return loss

    loss = opt.step(closure)
    assert float(loss) == 2.0
    assert b.grad is None and _host(b).tolist() == [1, 1] and b not in opt.state
    assert _host(a)[0] < 1


def test_step_is_in_place_and_outside_the_graph(device):
    p = ad.ones(3, device=device, requires_grad=True)
    storage = p._data
    opt = optim.SGD([p], lr=0.1, momentum=0.9)
    y = (p * p).sum()  # saves p for backward
    p.grad = ad.ones(3, device=device)
    v = p._version
    opt.step()
    assert p._data is storage and p._version == v + 1 and p.grad_fn is None
    with pytest.raises(RuntimeError):
        y.backward()


def test_broadcast_grad_is_not_written(device):
    """A gradient may be a read-only broadcast view; the step must not write into it."""
    p = ad.ones((2, 3), device=device, requires_grad=True)
    p.sum().backward()
    opt = optim.Adam([p], lr=0.1, weight_decay=0.1, maximize=True)
    opt.step()
    opt.step()
    assert _host(p.grad).tolist() == [[1, 1, 1], [1, 1, 1]]


def test_training_reduces_loss(device):
    ad.manual_seed(0)
    x = ad.randn(64, 3, device=device)
    w_true = ad.tensor([[1.0], [-2.0], [0.5]], device=device)
    y = x @ w_true
    w = ad.zeros((3, 1), device=device, requires_grad=True)
    opt = optim.SGD([w], lr=0.1, momentum=0.9)
    for _ in range(150):
        opt.zero_grad()
        loss = ((x @ w - y) ** 2).mean()
        loss.backward()
        opt.step()
    assert float(loss) < 1e-3


def _train_float32(lib, name, kw, device=None):
    """Five steps with real gradients from backward(), a 0-d parameter among the params."""
    extra = {"device": device} if lib is ad else {}
    p = lib.tensor(2.0, requires_grad=True, **extra)
    w = lib.tensor(np.linspace(-1, 1, 6, dtype=np.float32).reshape(2, 3), requires_grad=True,
                   **extra)
    opt = getattr(lib.optim, name)([p, w], **kw)
    for _ in range(5):
        opt.zero_grad()
        (p * p * 3 + ((w - 0.3) ** 2).sum() * p).backward()
        opt.step()
    return [np.asarray(t.detach().cpu().numpy()) for t in (p, w)]


@pytest.mark.parametrize("name,kw", [("Adamax", {"lr": 0.1}), ("NAdam", {"lr": 0.1}),
                                     ("RAdam", {"lr": 0.1}), ("Rprop", {"lr": 0.1}),
                                     ("ASGD", {"lr": 0.05, "t0": 1})])
def test_float32_training_with_a_0d_parameter_matches_torch(name, kw, cpu_device, torch):
    ours, theirs = _train_float32(ad, name, kw, cpu_device), _train_float32(torch, name, kw)
    for a, t in zip(ours, theirs):
        assert a.dtype == np.float32 and a.shape == t.shape
        np.testing.assert_allclose(a, t, rtol=1e-6, atol=1e-6)
