"""Autograd against PyTorch (fifteenth session's audit): fused kernels' backward under
create_graph gives partial derivatives (a conv or RNN weight applied twice was counted twice),
backward(inputs=[h]) with h.retain_grad() stores h.grad once, and checkpoint behaves as
PyTorch's use_reentrant=False."""

from __future__ import annotations

import numpy as np
import pytest

import autodiff as ad
from autodiff.utils.checkpoint import checkpoint, checkpoint_sequential

torch = pytest.importorskip("torch")
DEVICES = ["numpy", "cpp"]


@pytest.mark.parametrize("device", DEVICES)
def test_conv_weight_applied_twice_under_create_graph(device):
    rng = np.random.default_rng(0)
    x0, w0 = rng.standard_normal((1, 2, 6, 6)), rng.standard_normal((2, 2, 3, 3)) * 0.3
    want = []
    for L, kw in ((torch, {}), (ad, {"device": device})):
        w = L.tensor(w0, requires_grad=True, **kw)
        F = L.nn.functional
        y = F.conv2d(F.conv2d(L.tensor(x0, **kw), w, padding=1), w, padding=1)
        g, = L.autograd.grad(y.pow(2).sum(), w, create_graph=True)
        gg, = L.autograd.grad(g.pow(2).sum(), w)  # and the second derivative through it
        want.append((g.detach().numpy(), gg.numpy()))
    for t, a in zip(*want):
        np.testing.assert_allclose(a, t, rtol=1e-9)


@pytest.mark.parametrize("device", DEVICES)
def test_conv_weight_from_its_input_under_create_graph(device):
    got = []
    for L, kw in ((torch, {}), (ad, {"device": device})):
        x = L.tensor(np.arange(9.0).reshape(1, 1, 3, 3), requires_grad=True, **kw)
        g, = L.autograd.grad(L.nn.functional.conv2d(x, x[:, :, :2, :2]).sum(), x,
                             create_graph=True)
        got.append(g.detach().numpy())
    np.testing.assert_allclose(got[1], got[0])


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("mode", ["RNN", "GRU", "LSTM"])
def test_rnn_applied_twice_under_create_graph(device, mode):
    rng = np.random.default_rng(1)
    x1, x2 = rng.standard_normal((2, 3, 1, 2))
    got = []
    for L, kw in ((torch, {}), (ad, {"device": device})):
        rnn = getattr(L.nn, mode)(2, 3).double()
        with L.no_grad():
            for i, p in enumerate(rnn.parameters()):
                p.copy_(L.tensor(np.sin(np.arange(p.numel()) * 0.7 + i).reshape(tuple(p.shape))))
        if L is ad:
            rnn.to(device)
        _, h1 = rnn(L.tensor(x1, **kw))
        o2, _ = rnn(L.tensor(x2, **kw), h1)
        g, = L.autograd.grad(o2.sum(), rnn.weight_hh_l0, create_graph=True)
        got.append(g.detach().numpy())
    np.testing.assert_allclose(got[1], got[0], rtol=1e-9)


def test_backward_inputs_with_retain_grad_stores_once():
    x = ad.tensor([1.0, 2.0], requires_grad=True)
    h = x * 3
    h.retain_grad()
    (h * h).sum().backward(inputs=[h])
    assert h.grad.tolist() == [6.0, 12.0] and x.grad is None


def _block():
    ad.manual_seed(0)
    return ad.nn.Linear(3, 3)


def test_checkpoint_parameters_get_grads_when_no_input_requires_grad():
    grads = []
    for use in (False, True):
        block, x = _block(), ad.ones(2, 3)
        f = lambda a: block(a).relu()  # noqa: E731
        h = checkpoint(f, x, use_reentrant=False) if use else f(x)
        h.sum().backward()
        grads.append(block.weight.grad.numpy())
    np.testing.assert_array_equal(grads[1], grads[0])


def test_checkpoint_autograd_grad_writes_no_param_grad():
    block = _block()
    x = ad.randn(2, 3, requires_grad=True)
    y = checkpoint(lambda a: block(a).tanh(), x, use_reentrant=False)
    gx, = ad.autograd.grad(y.sum(), x)
    assert block.weight.grad is None and x.grad is None
    y2 = block(x).tanh()
    np.testing.assert_allclose(gx.numpy(), ad.autograd.grad(y2.sum(), x)[0].numpy(), rtol=1e-6)


def test_checkpoint_kwargs_double_backward_and_module_call():
    x = ad.tensor([1.0, 2.0], requires_grad=True, dtype=ad.float64)
    y = ad.utils.checkpoint(lambda a, *, k: (a * k).exp(), x, k=1.0)  # callable module
    g, = ad.autograd.grad(y.sum(), x, create_graph=True)
    gg, = ad.autograd.grad(g.sum(), x)
    np.testing.assert_allclose(gg.numpy(), np.exp([1.0, 2.0]))
    assert ad.utils.checkpoint.checkpoint is checkpoint


def test_checkpoint_sequential_matches_and_keeps_dropout_masks():
    results = []
    for use in (False, True):
        ad.manual_seed(1)
        seq = ad.nn.Sequential(ad.nn.Linear(4, 4), ad.nn.Dropout(0.5), ad.nn.Tanh(),
                               ad.nn.Linear(4, 4), ad.nn.Tanh(), ad.nn.Linear(4, 2))
        x = ad.randn(3, 4, requires_grad=True)
        y = checkpoint_sequential(seq, 2, x, use_reentrant=False) if use else seq(x)
        y.pow(2).sum().backward()
        results.append([y.detach().numpy(), x.grad.numpy(), seq[0].weight.grad.numpy()])
    for a, b in zip(*results):
        np.testing.assert_allclose(b, a, rtol=1e-6)


def test_anomaly_mode_checks_nan_only_and_restores():
    x = ad.tensor([0.0, 1.0], requires_grad=True)
    with ad.autograd.detect_anomaly():
        x.sqrt().sum().backward()  # an inf gradient passes, as in PyTorch
    assert x.grad.tolist()[0] == float("inf")
    with ad.autograd.detect_anomaly(check_nan=False):
        assert ad.is_anomaly_enabled() and not ad.is_anomaly_check_nan_enabled()
    with ad.autograd.set_detect_anomaly(True):
        assert ad.is_anomaly_enabled()
    assert not ad.is_anomaly_enabled()
    y = ad.tensor([-1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="returned nan values"):
        with ad.autograd.detect_anomaly():
            (y.sqrt() * 0).sum().backward()


def test_bare_inference_mode_decorator():
    @ad.inference_mode
    def f(t):
        return t * 2, ad.is_grad_enabled()

    out, enabled = f(ad.ones(1, requires_grad=True))
    assert not enabled and not out.requires_grad
    assert ad.autograd.inference_mode is ad.inference_mode


def test_argument_checks_as_pytorch():
    x = ad.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="non-empty inputs"):
        ad.autograd.grad((x * 2).sum(), [])
    with pytest.raises(RuntimeError, match="cannot be empty"):
        (x * 2).sum().backward(inputs=[])
    with pytest.raises(ValueError, match="allow_unused"):
        ad.autograd.grad((x * 2).sum(), x, materialize_grads=True, allow_unused=False)
    assert ad.autograd.grad((x * 2).sum(), x, materialize_grads=True)[0].tolist() == [2.0, 2.0]

    class Keep(ad.autograd.Function):
        @staticmethod
        def forward(ctx, t):
            ctx.save_for_backward(t, 3)
            return t * 1

        @staticmethod
        def backward(ctx, g):
            return g

    with pytest.raises(TypeError, match="argument 1 is of type int"):
        Keep.apply(x)


def test_custom_backward_broadcast_gradient_is_reduced():
    class Wide(ad.autograd.Function):
        @staticmethod
        def forward(ctx, t):
            return t * 1

        @staticmethod
        def backward(ctx, g):
            return g.reshape(1, 2).expand(3, 2)  # broadcast against the (2,) input

    x = ad.tensor([1.0, 2.0], requires_grad=True)
    Wide.apply(x).sum().backward()
    assert x.grad.tolist() == [3.0, 3.0]


def test_function_with_setup_context():
    class MulConst(ad.autograd.Function):
        @staticmethod
        def forward(x, k):
            return x * k, (x * k).argmax()

        @staticmethod
        def setup_context(ctx, inputs, output):
            _, k = inputs
            ctx.k = k
            ctx.mark_non_differentiable(output[1])

        @staticmethod
        def backward(ctx, g, _):
            return g * ctx.k, None

    x = ad.tensor([1.0, 2.0], requires_grad=True, dtype=ad.float64)
    y, idx = MulConst.apply(x, 3.0)
    assert not idx.requires_grad
    (y * y).sum().backward()
    assert x.grad.tolist() == [18.0, 36.0]


@pytest.mark.parametrize("leaf", [True, False])
def test_hook_changing_the_dtype_raises(leaf):
    x = ad.ones(2, requires_grad=True)
    t = x if leaf else x * 2
    t.register_hook(lambda g: g.double())
    with pytest.raises(RuntimeError, match="changed the type of value"):
        (t * 2).sum().backward()
