"""Module full backward hooks and backward pre-hooks against PyTorch: what grad_input and
grad_output hold (None for non-tensors, zeros for unused inputs), replacing them, removal,
ordering, and the no-input-requires-grad case."""

from __future__ import annotations

import numpy as np
import pytest
from nn_helpers import copy_weights

import autodiff as ad
import autodiff.nn as nn

torch = pytest.importorskip("torch")

NO_INPUT_GRAD = "Full backward hook is firing when gradients are computed with respect to module"


def _np(g):
    return None if g is None else g.detach().numpy().copy()


def _assert_grads_equal(ours, theirs) -> None:
    assert len(ours) == len(theirs)
    for a, t in zip(ours, theirs):
        assert (a is None) == (t is None), (ours, theirs)
        if a is not None:
            np.testing.assert_allclose(a, t, rtol=1e-5, atol=1e-6)


def _recorder(calls: list, tag: str = "", result=None):
    def hook(module, *grads):
        calls.append((tag, *[tuple(_np(g) for g in gs) for gs in grads]))
        return result(grads[0]) if result is not None else None
    return hook


def _both(ours_mod, torch_mod, xs, register, loss=lambda out: out.square().sum()):
    """Register hooks on both (register(module, calls)), run forward+backward on copies of
    ``xs`` (NumPy arrays, or (array, requires_grad)), return (our calls, torch calls, our
    inputs, torch inputs)."""
    results = []
    for mod, lib in ((ours_mod, ad), (torch_mod, torch)):
        calls: list = []
        register(mod, calls)
        ins = [lib.tensor(a, requires_grad=rg) if isinstance(a, np.ndarray) else a
               for a, rg in xs]
        loss(mod(*ins)).backward()
        results.append((calls, ins))
    (ca, ia), (ct, it) = results
    return ca, ct, ia, it


def _linear_pair(in_f=4, out_f=3):
    t = torch.nn.Linear(in_f, out_f)
    a = nn.Linear(in_f, out_f)
    copy_weights(a, t)
    return a, t


def _compare_calls(ca, ct) -> None:
    assert [c[0] for c in ca] == [c[0] for c in ct]
    for a, t in zip(ca, ct):
        for ga, gt in zip(a[1:], t[1:]):
            _assert_grads_equal(ga, gt)


X = np.random.default_rng(0).standard_normal((5, 4)).astype(np.float32)


def test_full_backward_hook_sees_input_and_output_grads():
    a, t = _linear_pair()
    ca, ct, ia, it = _both(a, t, [(X, True)],
                           lambda m, calls: m.register_full_backward_hook(_recorder(calls)))
    assert len(ca) == len(ct) == 1
    _compare_calls(ca, ct)
    np.testing.assert_allclose(ia[0].grad.numpy(), it[0].grad.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(a.weight.grad.numpy(), t.weight.grad.numpy(), rtol=1e-5,
                               atol=1e-6)


def test_full_backward_pre_hook_sees_output_grads_before_the_module():
    a, t = _linear_pair()

    def register(m, calls):
        m.register_full_backward_pre_hook(_recorder(calls, "pre"))
        m.register_full_backward_hook(_recorder(calls, "hook"))

    ca, ct, _, _ = _both(a, t, [(X, True)], register)
    assert [c[0] for c in ca] == ["pre", "hook"]
    _compare_calls(ca, ct)


class _Multi:
    """forward(a, scale, b, c, k=None): a * 2 * scale, (b * 3).sum(), 5 (c is unused)."""

    @staticmethod
    def forward(self, a, scale, b, c, k=None):
        return a * 2 * scale, (b * 3).sum(), 5


def _multi_pair():
    ours = type("MultiA", (nn.Module,), {"forward": _Multi.forward})()
    theirs = type("MultiT", (torch.nn.Module,), {"forward": _Multi.forward})()
    return ours, theirs


def test_non_tensor_args_unused_inputs_and_non_differentiable_outputs():
    a, t = _multi_pair()
    x, b, c = (np.random.default_rng(i).standard_normal(3).astype(np.float32) for i in range(3))

    def register(m, calls):
        m.register_full_backward_pre_hook(_recorder(calls, "pre"))
        m.register_full_backward_hook(_recorder(calls, "hook"))

    ca, ct, ia, it = _both(a, t, [(x, True), (1.5, None), (b, False), (c, True)], register,
                           loss=lambda out: out[0].sum())
    _compare_calls(ca, ct)
    # grad_input: None for the float, zeros for b (no grad) and for c (unused), as torch
    assert ca[1][1][1] is None and not ca[1][1][3].any()
    np.testing.assert_array_equal(ia[3].grad.numpy(), it[3].grad.numpy())  # c.grad = zeros


def test_hook_result_replaces_grad_input():
    a, t = _linear_pair()

    def register(m, calls):
        m.register_full_backward_hook(_recorder(calls, result=lambda g: (g[0] * 3,)))

    _, _, ia, it = _both(a, t, [(X, True)], register)
    np.testing.assert_allclose(ia[0].grad.numpy(), it[0].grad.numpy(), rtol=1e-5, atol=1e-6)
    a2, _ = _linear_pair()
    a2.load_state_dict(a.state_dict())
    x = ad.tensor(X, requires_grad=True)
    a2(x).square().sum().backward()
    np.testing.assert_allclose(ia[0].grad.numpy(), 3 * x.grad.numpy(), rtol=1e-5)


def test_pre_hook_result_replaces_grad_output_for_params_and_inputs():
    a, t = _linear_pair()

    def register(m, calls):
        m.register_full_backward_pre_hook(_recorder(calls, result=lambda g: (g[0] * 0.5,)))

    _, _, ia, it = _both(a, t, [(X, True)], register)
    np.testing.assert_allclose(ia[0].grad.numpy(), it[0].grad.numpy(), rtol=1e-5, atol=1e-6)
    for name in ("weight", "bias"):
        np.testing.assert_allclose(getattr(a, name).grad.numpy(),
                                   getattr(t, name).grad.numpy(), rtol=1e-5, atol=1e-6)


def test_nested_modules_fire_in_backward_order():
    t = torch.nn.Sequential(torch.nn.Linear(4, 6), torch.nn.Tanh(), torch.nn.Linear(6, 2))
    a = nn.Sequential(nn.Linear(4, 6), nn.Tanh(), nn.Linear(6, 2))
    copy_weights(a, t)

    def register(m, calls):
        for name, child in [("seq", m), *m.named_children()]:
            child.register_full_backward_pre_hook(_recorder(calls, "pre" + name))
            child.register_full_backward_hook(_recorder(calls, name))

    ca, ct, _, _ = _both(a, t, [(X, True)], register)
    assert [c[0] for c in ca] == [c[0] for c in ct]
    _compare_calls(ca, ct)


def test_remove_and_prepend():
    a, t = _linear_pair()

    def register(m, calls):
        h = m.register_full_backward_hook(_recorder(calls, "first"))
        m.register_full_backward_hook(_recorder(calls, "second"))
        m.register_full_backward_hook(_recorder(calls, "zeroth"), prepend=True)
        m.register_full_backward_pre_hook(_recorder(calls, "pre")).remove()
        h.remove()

    ca, ct, _, _ = _both(a, t, [(X, True)], register)
    assert [c[0] for c in ca] == [c[0] for c in ct] == ["zeroth", "second"]
    _compare_calls(ca, ct)


def test_no_input_requires_grad_fires_on_outputs_with_a_warning():
    a, t = _linear_pair()
    for mod, lib in ((a, ad), (t, torch)):
        calls: list = []
        mod.register_full_backward_hook(_recorder(calls))
        with pytest.warns(UserWarning, match=NO_INPUT_GRAD):
            mod(lib.tensor(X)).sum().backward()
        assert len(calls) == 1 and calls[0][1] == (None,) and calls[0][2][0].shape == (5, 3)
        mod.register_full_backward_hook(lambda m, gi, go: (lib.ones(1),))
        with pytest.warns(UserWarning, match=NO_INPUT_GRAD):
            with pytest.raises(RuntimeError, match="no input requires gradient"):
                mod(lib.tensor(X)).sum().backward()


@pytest.mark.parametrize("kind", ["hook", "pre"])
def test_wrong_number_of_grads_is_an_error(kind):
    a, t = _linear_pair()
    for mod, lib in ((a, ad), (t, torch)):
        bad = (lambda m, gi, go: (None, None)) if kind == "hook" else (
            lambda m, go: (None, None))
        reg = (mod.register_full_backward_hook if kind == "hook"
               else mod.register_full_backward_pre_hook)
        reg(bad)
        match = "invalid number of grad_" + ("input" if kind == "hook" else "output")
        with pytest.raises(RuntimeError, match=match):
            mod(lib.tensor(X, requires_grad=True)).sum().backward()


def test_no_grad_forward_and_handles_leave_module_untouched():
    a, _ = _linear_pair()
    calls: list = []
    with a.register_full_backward_hook(_recorder(calls)):
        with ad.no_grad():
            y = a(ad.tensor(X, requires_grad=True))
        assert not y.requires_grad
    assert not a._backward_hooks
    a(ad.tensor(X, requires_grad=True)).sum().backward()
    assert calls == []


def test_register_backward_hook_is_a_deprecated_full_hook():
    a, _ = _linear_pair()
    calls: list = []
    with pytest.warns(FutureWarning, match="register_backward_hook"):
        a.register_backward_hook(_recorder(calls))
    a(ad.tensor(X, requires_grad=True)).sum().backward()
    assert len(calls) == 1 and calls[0][1][0].shape == X.shape
