"""Fixes from the fifteenth session's PyTorch-parity audit: .grad assignment is checked,
``_version`` is an int shared with views, no-op reshapes and permutes return new views,
nn.Parameter survives ad.save / ad.load, F's first argument has PyTorch's name, and the
weighted l1 / mse losses average over the weights."""

from __future__ import annotations

import inspect

import numpy as np
import pytest

import autodiff as ad
import autodiff.nn.functional as F

torch = pytest.importorskip("torch")
TF = torch.nn.functional

DEVICES = ["numpy", "cpp"]


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("grad, what", [
    (lambda d: ad.zeros(3, device=d), "size"),
    (lambda d: ad.zeros(2, 3, dtype=ad.float64, device=d), "data type"),
])
def test_grad_assignment_is_checked(device, grad, what):
    a = ad.randn(2, 3, requires_grad=True, device=device)
    with pytest.raises(RuntimeError, match=f"assign a gradient with {what}"):
        a.grad = grad(device)
    assert a.grad is None
    with pytest.raises(TypeError, match="Tensor or None"):
        a.grad = np.zeros((2, 3), np.float32)
    a.grad = ad.ones(2, 3, device=device)
    a.grad = None
    (a * 2).sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), np.full((2, 3), 2, np.float32))


def test_grad_assignment_checks_the_device():
    a = ad.zeros(2, requires_grad=True, device="numpy")
    with pytest.raises(RuntimeError, match="assign a gradient with device"):
        a.grad = ad.zeros(2, device="cpp")


@pytest.mark.parametrize("device", DEVICES)
def test_version_is_an_int_shared_with_views(device):
    x = ad.zeros(4, device=device)
    v = x[1:]
    y = x.clone()
    assert isinstance(x._version, int) and x._version == 0
    v.add_(1)
    x.mul_(2)
    tx = torch.zeros(4)
    tv = tx[1:]
    tv.add_(1)
    tx.mul_(2)
    assert (x._version, v._version, y._version) == (tx._version, tv._version, 0) == (2, 2, 0)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("op", [
    lambda t: t.reshape(2, 3), lambda t: t.view(2, 3), lambda t: t.permute(0, 1),
    lambda t: t.expand(2, 3), lambda t: t.reshape(2, 3).flatten(1, 1),
    lambda t: t[0].t(), lambda t: t[0].transpose(0, -1), lambda t: t.squeeze(),
])
def test_noop_views_are_new_tensors(device, op):
    x = ad.randn(2, 3, device=device, requires_grad=True)
    y = op(x)
    assert y is not x and op(torch.zeros(2, 3)) is not None
    y.retain_grad()
    (y * 3).sum().backward()  # the view's own grad and the base's both arrive
    np.testing.assert_array_equal(y.grad.numpy(), np.full(y.shape, 3, np.float32))
    assert x.grad.shape == (2, 3)


@pytest.mark.parametrize("requires_grad", [True, False])
def test_parameter_survives_save_and_load(tmp_path, requires_grad):
    p = ad.nn.Parameter(ad.randn(3), requires_grad=requires_grad)
    ad.save({"p": p, "t": ad.randn(2)}, tmp_path / "f.pt")
    got = ad.load(tmp_path / "f.pt")
    assert type(got["p"]) is ad.nn.Parameter and got["p"].requires_grad is requires_grad
    assert type(got["t"]) is ad.Tensor
    np.testing.assert_array_equal(got["p"].numpy(), p.numpy())


def _first_param(f):
    return next(iter(inspect.signature(f).parameters))


NAMED = ["layer_norm", "group_norm", "instance_norm", "rms_norm", "max_pool1d", "max_pool2d",
         "avg_pool1d", "avg_pool2d", "adaptive_avg_pool2d", "adaptive_max_pool2d", "fold",
         "unfold", "gelu", "normalize", "pixel_shuffle", "one_hot", "local_response_norm",
         "lp_pool2d", "max_unpool2d", "alpha_dropout", "conv3d", "conv_transpose1d"]


@pytest.mark.parametrize("name", NAMED)
def test_functional_first_argument_has_torchs_name(name):
    ours = _first_param(getattr(F, name))
    try:
        theirs = _first_param(getattr(TF, name))
    except (TypeError, ValueError):  # a builtin without a signature
        theirs = "input"
    if theirs == "args":  # torch's boolean_dispatch wrapper: the name of its parts
        theirs = _first_param(getattr(TF, name + "_with_indices"))
    assert ours == theirs


def test_functional_input_keyword_works():
    x = np.random.default_rng(0).standard_normal((2, 4, 6, 6)).astype(np.float32)
    got = F.layer_norm(input=ad.tensor(x), normalized_shape=(6,))
    want = TF.layer_norm(input=torch.tensor(x), normalized_shape=(6,))
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-5, atol=1e-6)
    got = F.max_pool2d(input=ad.tensor(x), kernel_size=2)
    np.testing.assert_array_equal(got.numpy(), TF.max_pool2d(torch.tensor(x), 2).numpy())
    got = F.one_hot(input=ad.tensor([0, 2]), num_classes=3)
    np.testing.assert_array_equal(got.numpy(), TF.one_hot(torch.tensor([0, 2]), 3).numpy())


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("name", ["l1_loss", "mse_loss", "huber_loss"])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_weighted_regression_losses(device, name, reduction):
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal((2, 3, 4))
    w = rng.random((3, 4))
    xa = ad.tensor(a, device=device, requires_grad=True)
    xt = torch.tensor(a, requires_grad=True)
    got = getattr(F, name)(xa, ad.tensor(b, device=device), reduction=reduction,
                           weight=ad.tensor(w, device=device))
    want = getattr(TF, name)(xt, torch.tensor(b), reduction=reduction, weight=torch.tensor(w))
    np.testing.assert_allclose(got.numpy(), want.detach().numpy(), rtol=1e-12)
    got.sum().backward()
    want.sum().backward()
    np.testing.assert_allclose(xa.grad.numpy(), xt.grad.numpy(), rtol=1e-12)


def test_weighted_loss_needs_the_inputs_shape():
    with pytest.raises(ValueError, match=r"weights of shape \(4,\) and input of shape \(3, 4\)"):
        F.l1_loss(ad.zeros(3, 4), ad.zeros(3, 4), weight=ad.ones(4))


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("name, size, shape", [
    ("adaptive_avg_pool1d", 0, (1, 2, 0)), ("adaptive_avg_pool2d", 0, (1, 2, 0, 0)),
    ("adaptive_avg_pool2d", (2, 0), (1, 2, 2, 0)), ("adaptive_max_pool2d", (0, 3), (1, 2, 0, 3)),
    ("adaptive_max_pool1d", 0, (1, 2, 0)), ("adaptive_avg_pool3d", (1, 0, 2), (1, 2, 1, 0, 2)),
    ("adaptive_max_pool3d", 0, (1, 2, 0, 0, 0)),
])
def test_adaptive_pool_to_size_zero_is_empty(device, name, size, shape):
    dims = len(shape) - 2
    x = ad.randn(1, 2, *(5,) * dims, device=device, requires_grad=True)
    y = getattr(F, name)(x, size)
    want = getattr(TF, name)(torch.randn(1, 2, *(5,) * dims), size)
    assert y.shape == tuple(want.shape) == shape
    y.sum().backward()
    assert x.grad.shape == x.shape and not x.grad.numpy().any()
    if "max" in name:
        _, idx = getattr(F, name)(x, size, return_indices=True)
        assert idx.shape == shape and idx.dtype is ad.int64


def test_cross_entropy_probabilities_refuse_ignore_index():
    x, p = ad.randn(3, 4), ad.randn(3, 4).softmax(1)
    with pytest.raises(RuntimeError, match="ignore_index is not supported"):
        F.cross_entropy(x, p, ignore_index=1)
    F.cross_entropy(x, p)  # the default -100 passes


def test_error_types_as_pytorch():
    with pytest.raises(ValueError, match="only supported for LSTM"):
        ad.nn.GRU(4, 6, proj_size=2)
    with pytest.raises(ValueError, match="only supported for LSTM"):
        ad.nn.RNN(4, 6, proj_size=2)
    with pytest.raises(ad.errors.DTypeError, match="^conv1d"):
        ad.nn.Conv1d(2, 3, 3)(ad.randn(1, 2, 5, dtype=ad.float64))
