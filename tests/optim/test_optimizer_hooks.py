"""Optimizer hooks against PyTorch's: step pre/post hooks (per optimizer and global), state-dict
and load-state-dict hooks, their call order and arguments, removal, and that they fire for
every optimizer class (LBFGS with its closure too)."""

from __future__ import annotations

import importlib

import numpy as np
import pytest

import autodiff as ad
from autodiff import optim
from autodiff.optim import optimizer as optimizer_mod

P0 = np.array([1.0, -2.0, 0.5], dtype=np.float32)


def _setup(lib):
    p = lib.tensor(P0.copy(), requires_grad=True)
    (p * p).sum().backward()
    return p, lib.optim.SGD([p], lr=0.1)


def _record_step_hooks(lib, global_mod):
    """The order in which the four kinds of step hook run, two of each kind."""
    _, opt = _setup(lib)
    log = []
    handles = [
        global_mod.register_optimizer_step_pre_hook(lambda o, a, k: log.append("g_pre1")),
        global_mod.register_optimizer_step_post_hook(lambda o, a, k: log.append("g_post1")),
        opt.register_step_pre_hook(lambda o, a, k: log.append("pre1")),
        opt.register_step_post_hook(lambda o, a, k: log.append("post1")),
        opt.register_step_pre_hook(lambda o, a, k: log.append("pre2")),
        opt.register_step_post_hook(lambda o, a, k: log.append("post2")),
        global_mod.register_optimizer_step_pre_hook(lambda o, a, k: log.append("g_pre2")),
        global_mod.register_optimizer_step_post_hook(lambda o, a, k: log.append("g_post2")),
    ]
    try:
        opt.step()
        log.append("|")
        handles[2].remove()
        handles[0].remove()
        handles[7].remove()
        opt.step()
    finally:
        for h in handles:
            h.remove()
    return log


def test_step_hook_order_and_removal_match_torch(torch):
    ours = _record_step_hooks(ad, optimizer_mod)
    theirs = _record_step_hooks(torch, importlib.import_module("torch.optim.optimizer"))
    assert ours == theirs
    assert ours == [
        "g_pre1",
        "g_pre2",
        "pre1",
        "pre2",
        "post1",
        "post2",
        "g_post1",
        "g_post2",
        "|",
        "g_pre2",
        "pre2",
        "post1",
        "post2",
        "g_post1",
    ]


def test_step_hook_arguments_and_replaced_arguments_match_torch(torch):
    seen = {}
    for lib in (ad, torch):
        p, opt = _setup(lib)
        calls = []

        def record(kind, calls=calls, opt=opt):
            return lambda o, a, k: calls.append((kind, o is opt, a, k))

        opt.register_step_pre_hook(record("pre"))
        opt.register_step_post_hook(record("post"))
        opt.step()
        # a pre-hook's (args, kwargs) replace step's arguments: here it adds a closure
        opt.register_step_pre_hook(lambda o, a, k: (a, {"closure": lambda: 7.0}))
        out = opt.step()
        summary = [
            (kind, same, len(args), args[0] is opt, sorted(kwargs))
            for kind, same, args, kwargs in calls
        ]
        seen[lib.__name__] = summary, out, p.detach().numpy().copy()
    assert (
        seen["autodiff"][0]
        == seen["torch"][0]
        == [
            ("pre", True, 1, True, []),
            ("post", True, 1, True, []),
            ("pre", True, 1, True, []),
            ("post", True, 1, True, ["closure"]),
        ]
    )
    assert seen["autodiff"][1] == seen["torch"][1] == 7.0
    np.testing.assert_allclose(seen["autodiff"][2], seen["torch"][2], rtol=1e-6)
    np.testing.assert_allclose(seen["autodiff"][2], P0 * 0.6, rtol=1e-6)  # two steps of 0.1 * 2 P0


def test_bad_pre_hook_result_raises():
    _, opt = _setup(ad)
    opt.register_step_pre_hook(lambda o, a, k: 5)
    with pytest.raises(
        RuntimeError,
        match=r"must return None or a tuple of \(new_args, "
        r"new_kwargs\), but got 5",
    ):
        opt.step()
    with pytest.raises(TypeError, match="hook must be callable, got int"):
        opt.register_step_post_hook(3)


OPTIMIZERS = {
    "SGD": lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9),
    "Adam": lambda ps: optim.Adam(ps, lr=0.1),
    "AdamW": lambda ps: optim.AdamW(ps, lr=0.1),
    "RMSprop": lambda ps: optim.RMSprop(ps, lr=0.1),
    "Adagrad": lambda ps: optim.Adagrad(ps, lr=0.1),
    "Adadelta": lambda ps: optim.Adadelta(ps),
    "Adamax": lambda ps: optim.Adamax(ps),
    "ASGD": lambda ps: optim.ASGD(ps),
    "NAdam": lambda ps: optim.NAdam(ps),
    "RAdam": lambda ps: optim.RAdam(ps),
    "Rprop": lambda ps: optim.Rprop(ps),
    "LBFGS": lambda ps: optim.LBFGS(ps, max_iter=2),
}


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_hooks_fire_once_per_step_for_every_optimizer(name):
    p = ad.tensor(P0.copy(), requires_grad=True)
    opt = OPTIMIZERS[name]([p])

    def closure():
        opt.zero_grad()
        loss = (p * p).sum()
        loss.backward()
        return loss

    log = []
    h = optimizer_mod.register_optimizer_step_pre_hook(lambda o, a, k: log.append(("g", a[1:])))
    try:
        opt.register_step_pre_hook(lambda o, a, k: log.append(("pre", type(o).__name__)))
        opt.register_step_post_hook(lambda o, a, k: log.append(("post", len(a))))
        loss = opt.step(closure)
    finally:
        h.remove()
    assert log == [("g", (closure,)), ("pre", name), ("post", 2)]
    assert loss.item() == pytest.approx(float((P0 * P0).sum()))
    assert not np.array_equal(p.detach().numpy(), P0)  # it did step
    opt.step(closure)
    assert len(log) == 5  # the global hook is gone


def test_lbfgs_with_hooks_matches_lbfgs_without():
    def run(hooked):
        p = ad.tensor(P0.copy(), requires_grad=True)
        opt = optim.LBFGS([p], lr=0.5, max_iter=4, line_search_fn="strong_wolfe")
        calls = []
        if hooked:
            opt.register_step_pre_hook(lambda o, a, k: calls.append(a[1]))

        def closure():
            opt.zero_grad()
            loss = ((p - 1.0) ** 2).sum()
            loss.backward()
            return loss

        losses = [opt.step(closure).item() for _ in range(2)]
        assert calls == ([closure] * 2 if hooked else [])
        return losses, p.detach().numpy()

    (l1, p1), (l2, p2) = run(True), run(False)
    assert l1 == l2 and np.array_equal(p1, p2)


def test_subclass_hooks_fire_once_even_through_super_step():
    class Halve(optim.Optimizer):  # a user optimizer with a per-parameter rule only
        def __init__(self, params):
            super().__init__(params, {})

        def _update(self, p, group):
            p._data *= 0.5

    class Logged(optim.SGD):  # an overriding step that calls super().step()
        def step(self, closure=None):
            self.calls = getattr(self, "calls", 0) + 1
            return super().step(closure)

    for cls, kwargs in ((Halve, {}), (Logged, {"lr": 0.1})):
        p = ad.tensor(P0.copy(), requires_grad=True)
        (p * p).sum().backward()
        opt = cls([p], **kwargs)
        log = []
        opt.register_step_pre_hook(lambda o, a, k, log=log: log.append("pre"))
        opt.register_step_post_hook(lambda o, a, k, log=log: log.append("post"))
        opt.step()
        opt.step()
        assert log == ["pre", "post"] * 2, cls.__name__
    assert opt.calls == 2
    np.testing.assert_allclose(p.detach().numpy(), P0 * 0.6, rtol=1e-6)


def _record_state_dict_hooks(lib):
    _, opt = _setup(lib)
    opt.step()
    log = []

    def sd_post(o, sd):
        log.append(("sd_post", sorted(sd)))
        sd = dict(sd)
        sd["extra"] = 1
        return sd

    def load_pre(o, sd):
        log.append(("load_pre", sorted(sd)))
        sd.pop("extra")
        sd["param_groups"][0]["lr"] = 0.5

    opt.register_state_dict_pre_hook(lambda o: log.append(("sd_pre", "a")))
    opt.register_state_dict_pre_hook(lambda o: log.append(("sd_pre", "first")), prepend=True)
    opt.register_state_dict_post_hook(sd_post)
    h = opt.register_state_dict_post_hook(lambda o, sd: log.append(("never", 0)))
    h.remove()
    opt.register_load_state_dict_pre_hook(load_pre)
    opt.register_load_state_dict_post_hook(lambda o: log.append(("load_post", "b")))
    opt.register_load_state_dict_post_hook(lambda o: log.append(("load_post", "a")), prepend=True)
    sd = opt.state_dict()
    saved = sorted(sd)
    opt.load_state_dict(sd)
    return log, saved, sorted(sd), opt.param_groups[0]["lr"]


def test_state_dict_hooks_match_torch(torch):
    ours, theirs = _record_state_dict_hooks(ad), _record_state_dict_hooks(torch)
    assert ours == theirs
    assert ours == (
        [
            ("sd_pre", "first"),
            ("sd_pre", "a"),
            ("sd_post", ["param_groups", "state"]),
            ("load_pre", ["extra", "param_groups", "state"]),
            ("load_post", "a"),
            ("load_post", "b"),
        ],
        ["extra", "param_groups", "state"],
        ["extra", "param_groups", "state"],  # the caller's dict is not edited
        0.5,
    )
