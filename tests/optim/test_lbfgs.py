"""LBFGS against PyTorch's, step(closure) by step(closure), on a quadratic and on Rosenbrock's
function, with and without the strong-Wolfe line search; plus devices, state dicts, errors."""

from __future__ import annotations

import numpy as np
import pytest

import autodiff as ad
from autodiff import optim

RNG = np.random.default_rng(7)
_M = RNG.standard_normal((8, 8))
A = _M @ _M.T + 0.5 * np.eye(8)  # symmetric positive definite
B = RNG.standard_normal(8)
X0 = [np.array([[0.5, -1.0, 2.0], [1.5, 0.0, -0.5]]), np.array([0.3, -0.7])]
R0 = [np.array([-1.2, 1.0, -0.5]), np.array([0.8])]


def quadratic(lib, params):
    """0.5 x^T A x - b^T x over the flattened parameters (minimum at A^-1 b)."""
    x = lib.cat([params[0].reshape(-1), params[1]])
    a = lib.tensor(A, dtype=x.dtype, device=x.device)
    b = lib.tensor(B, dtype=x.dtype, device=x.device)
    return 0.5 * (x * (a @ x)).sum() - (b * x).sum()


def rosenbrock(lib, params):
    """sum 100 (x_{i+1} - x_i^2)^2 + (1 - x_i)^2 over x = (params[0], params[1])."""
    x = lib.cat([params[0], params[1]])
    return (100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2).sum()


PROBLEMS = {"quadratic": (quadratic, X0), "rosenbrock": (rosenbrock, R0)}
CASES = [
    ("quadratic", {}),
    ("quadratic", {"line_search_fn": "strong_wolfe"}),
    ("quadratic", {"lr": 0.5, "max_iter": 4, "history_size": 2}),
    ("quadratic", {"max_iter": 6, "history_size": 3, "line_search_fn": "strong_wolfe"}),
    ("rosenbrock", {"lr": 0.1, "max_iter": 5}),
    ("rosenbrock", {"lr": 0.05, "max_iter": 8, "history_size": 3, "tolerance_change": 1e-12}),
    ("rosenbrock", {"line_search_fn": "strong_wolfe"}),
    ("rosenbrock", {"max_iter": 7, "max_eval": 9, "history_size": 4,
                        "line_search_fn": "strong_wolfe"}),
    ("rosenbrock", {"lr": 2.0, "max_iter": 10, "history_size": 2,
                        "line_search_fn": "strong_wolfe"}),
    ("rosenbrock", {"lr": 0.01, "max_iter": 6, "line_search_fn": "strong_wolfe"}),
]
IDS = [f"{p}-" + "-".join(f"{k}={v}" for k, v in kw.items()) for p, kw in CASES]
STEPS = 4


def _run(lib, problem, kw, device=None, dtype=None, steps=STEPS, restart_at=None):
    """Call ``step(closure)`` ``steps`` times; returns per step the loss it returned, the
    parameters after it, and the evaluation counters."""
    fn, init = PROBLEMS[problem]
    if lib is ad:
        params = [ad.tensor(a, dtype=dtype or ad.float64, device=device, requires_grad=True)
                  for a in init]
    else:
        params = [lib.tensor(a, dtype=lib.float64, requires_grad=True) for a in init]
    opt = lib.optim.LBFGS(params, **kw)

    def closure():
        opt.zero_grad()
        loss = fn(lib, params)
        loss.backward()
        return loss

    out = []
    for k in range(steps):
        if k == restart_at:
            sd = opt.state_dict()
            opt = lib.optim.LBFGS(params, **kw)
            opt.load_state_dict(sd)
        loss = float(opt.step(closure).detach())
        state = opt.state[params[0]]
        out.append((loss, [np.array(p.detach().cpu().numpy(), dtype=np.float64)
                           for p in params], state["func_evals"], state["n_iter"]))
    return out


def _compare(got, want, rtol=1e-8, atol=1e-10):
    for k, ((l1, p1, f1, n1), (l2, p2, f2, n2)) in enumerate(zip(got, want)):
        assert (f1, n1) == (f2, n2), f"step {k + 1}: evaluations/iterations"
        assert l1 == pytest.approx(l2, rel=rtol, abs=atol), f"step {k + 1}: loss"
        for a, b in zip(p1, p2):
            np.testing.assert_allclose(a, b, rtol=rtol, atol=atol, err_msg=f"step {k + 1}")


@pytest.mark.parametrize("problem,kw", CASES, ids=IDS)
def test_against_torch(problem, kw, torch):
    _compare(_run(ad, problem, kw), _run(torch, problem, kw))


@pytest.mark.parametrize("problem,kw", CASES[1::3], ids=IDS[1::3])
def test_devices_agree(problem, kw, device):
    _compare(_run(ad, problem, kw, device=device), _run(ad, problem, kw))


def test_converges_to_the_quadratic_minimum(cpu_device):
    kw = {"line_search_fn": "strong_wolfe", "tolerance_change": 1e-14}
    got = _run(ad, "quadratic", kw, device=cpu_device, steps=2)
    x = np.concatenate([a.reshape(-1) for a in got[-1][1]])
    np.testing.assert_allclose(x, np.linalg.solve(A, B), rtol=1e-7, atol=1e-9)


def test_float32_keeps_dtype_and_converges(cpu_device):
    fn, init = PROBLEMS["rosenbrock"]
    params = [ad.tensor(a, dtype=ad.float32, device=cpu_device, requires_grad=True)
              for a in init]
    opt = optim.LBFGS(params, line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        loss = fn(ad, params)
        loss.backward()
        return loss

    for _ in range(5):
        opt.step(closure)
    assert all(p.dtype is ad.float32 for p in params)
    assert opt.state[params[0]]["d"].dtype is ad.float32
    assert float(fn(ad, params)) < 1e-6


@pytest.mark.parametrize("problem,kw", [CASES[2], CASES[7]], ids=[IDS[2], IDS[7]])
def test_state_dict_round_trip_resumes_exactly(problem, kw, cpu_device):
    full = _run(ad, problem, kw, device=cpu_device)
    _compare(_run(ad, problem, kw, device=cpu_device, restart_at=2), full, 0, 0)


def test_state_dict_structure_matches_torch(torch):
    ours = _lbfgs_after_steps(ad)
    theirs = _lbfgs_after_steps(torch)
    s1, s2 = ours.state_dict(), theirs.state_dict()
    assert sorted(s1["state"][0]) == sorted(s2["state"][0])
    assert set(s1["param_groups"][0]) == set(s2["param_groups"][0])
    assert len(s1["state"][0]["old_dirs"]) == len(s2["state"][0]["old_dirs"])


def test_state_dict_survives_save_and_load(tmp_path):
    opt = _lbfgs_after_steps(ad)
    path = tmp_path / "lbfgs.ad"
    ad.save(opt.state_dict(), path)
    loaded = ad.load(path)
    assert loaded["state"][0]["n_iter"] == opt.state_dict()["state"][0]["n_iter"]
    np.testing.assert_array_equal(loaded["state"][0]["old_dirs"][0].numpy(),
                                  opt.state_dict()["state"][0]["old_dirs"][0].numpy())


def _lbfgs_after_steps(lib):
    params = [lib.tensor(a, dtype=lib.float64, requires_grad=True) for a in X0]
    opt = lib.optim.LBFGS(params, max_iter=3, history_size=5)

    def closure():
        opt.zero_grad()
        loss = quadratic(lib, params)
        loss.backward()
        return loss

    opt.step(closure)
    opt.step(closure)
    return opt


def test_stops_when_already_optimal():
    x = ad.zeros(3, requires_grad=True)
    opt = optim.LBFGS([x])
    calls = []

    def closure():
        calls.append(1)
        opt.zero_grad()
        loss = (x * x).sum()
        loss.backward()
        return loss

    assert float(opt.step(closure)) == 0.0
    assert len(calls) == 1 and opt.state[x]["func_evals"] == 1


def test_bad_arguments():
    a, b = ad.zeros(2, requires_grad=True), ad.zeros(2, requires_grad=True)
    with pytest.raises(ValueError, match="parameter groups"):
        optim.LBFGS([{"params": [a]}, {"params": [b]}])
    with pytest.raises(ValueError, match="parameter groups"):
        optim.LBFGS([a]).add_param_group({"params": [b]})
    with pytest.raises(ValueError, match="line_search_fn"):
        optim.LBFGS([a], line_search_fn="armijo")
    with pytest.raises(ValueError, match="learning rate"):
        optim.LBFGS([a], lr=-1.0)
    with pytest.raises(RuntimeError, match="closure"):
        optim.LBFGS([a]).step(None)
