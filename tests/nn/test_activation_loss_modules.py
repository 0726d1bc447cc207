"""The new activation, loss and distance Modules against torch.nn (outputs, input and parameter
gradients, repr), PReLU's parameter and state dict, RReLU in training and eval mode, and the
in-place forms (``F.xxx_``, ``inplace=True``) against PyTorch's."""

from __future__ import annotations

import numpy as np
import pytest
from act_loss_data import (
    BITS,
    COS_T,
    COUNTS,
    EDGE,
    HINGE_T,
    IDX,
    LEGACY_WARNING,
    W5,
    X2,
    X3,
    X4,
    R,
    V,
    X,
)

import autodiff as ad
import autodiff.nn.functional as F
from autodiff import nn

# (id, constructor(nn namespace, tensor factory), input arrays)
MODULES = [
    ("CELU", lambda nn, T: nn.CELU(), [EDGE]),
    ("CELU_alpha", lambda nn, T: nn.CELU(0.5), [X]),
    ("SELU", lambda nn, T: nn.SELU(), [EDGE]),
    ("GLU", lambda nn, T: nn.GLU(), [R.uniform(-2, 2, (3, 4))]),
    ("GLU_dim1", lambda nn, T: nn.GLU(1), [R.uniform(-2, 2, (2, 4, 3))]),
    ("Hardswish", lambda nn, T: nn.Hardswish(), [EDGE]),
    ("Hardsigmoid", lambda nn, T: nn.Hardsigmoid(), [EDGE]),
    ("Softsign", lambda nn, T: nn.Softsign(), [EDGE]),
    ("Hardshrink", lambda nn, T: nn.Hardshrink(), [EDGE]),
    ("Hardshrink_lambd", lambda nn, T: nn.Hardshrink(1.0), [EDGE]),
    ("Softshrink", lambda nn, T: nn.Softshrink(0.3), [EDGE]),
    ("Tanhshrink", lambda nn, T: nn.Tanhshrink(), [EDGE]),
    ("Threshold", lambda nn, T: nn.Threshold(0.1, 20.0), [EDGE]),
    ("RReLU_eval", lambda nn, T: nn.RReLU(0.2, 0.4).eval(), [EDGE]),
    ("PReLU", lambda nn, T: nn.PReLU(), [X4]),
    ("PReLU_channels", lambda nn, T: nn.PReLU(3, init=0.1), [X4]),
    ("PReLU_1d_shared", lambda nn, T: nn.PReLU(init=-0.3), [EDGE]),
    ("Softmin", lambda nn, T: nn.Softmin(1), [X]),
    ("ReLU6", lambda nn, T: nn.ReLU6(), [EDGE * 2]),
    ("LogSigmoid", lambda nn, T: nn.LogSigmoid(), [X]),
    ("Softmax2d", lambda nn, T: nn.Softmax2d(), [X4]),
    ("Softmax2d_3d", lambda nn, T: nn.Softmax2d(), [X4[0]]),
    ("MarginRankingLoss", lambda nn, T: nn.MarginRankingLoss(0.2), [V, V[::-1].copy(),
                                                                     np.sign(V)]),
    ("HingeEmbeddingLoss", lambda nn, T: nn.HingeEmbeddingLoss(0.5, reduction="sum"),
     [R.uniform(-2, 2, (2, 5)), HINGE_T]),
    ("CosineEmbeddingLoss", lambda nn, T: nn.CosineEmbeddingLoss(0.1), [X, X2, COS_T]),
    ("TripletMarginLoss", lambda nn, T: nn.TripletMarginLoss(p=1, swap=True), [X, X2, X3]),
    ("TripletMarginLoss_legacy", lambda nn, T: nn.TripletMarginLoss(size_average=False),
     [X, X2, X3]),
    ("PoissonNLLLoss", lambda nn, T: nn.PoissonNLLLoss(log_input=False, full=True),
     [np.abs(X[:2]) + 0.1, COUNTS]),
    ("GaussianNLLLoss", lambda nn, T: nn.GaussianNLLLoss(full=True, eps=0.1),
     [X, X2, np.abs(X3)]),
    ("SoftMarginLoss", lambda nn, T: nn.SoftMarginLoss(reduction="none"), [X, np.sign(X2)]),
    ("MultiLabelSoftMarginLoss", lambda nn, T: nn.MultiLabelSoftMarginLoss(weight=T(W5)),
     [X, BITS]),
    ("MultiMarginLoss", lambda nn, T: nn.MultiMarginLoss(p=2, margin=0.5, weight=T(W5)),
     [X, IDX]),
    ("MultiMarginLoss_legacy", lambda nn, T: nn.MultiMarginLoss(reduce=False), [X, IDX]),
    ("PairwiseDistance", lambda nn, T: nn.PairwiseDistance(p=1, keepdim=True), [X, X2]),
    ("CosineSimilarity", lambda nn, T: nn.CosineSimilarity(dim=0), [X, X2]),
]
# the last input of a loss is its target: detached (PyTorch differentiates few targets)
TARGETED = {"HingeEmbeddingLoss", "CosineEmbeddingLoss", "PoissonNLLLoss", "SoftMarginLoss",
            "MultiLabelSoftMarginLoss", "MarginRankingLoss"}


@pytest.mark.filterwarnings(LEGACY_WARNING)
@pytest.mark.parametrize("ctor,inputs", [c[1:] for c in MODULES], ids=[c[0] for c in MODULES])
def test_module_matches_torch(request, ctor, inputs, cpu_device, torch):
    from nn_helpers import compare_with_torch

    name = request.node.callspec.id.split("-")[-1]
    ours = ctor(nn, lambda a: ad.tensor(a))
    theirs = ctor(torch.nn, lambda a: torch.tensor(a))
    assert repr(ours) == repr(theirs)

    def detached_target(m, *xs):
        return m(*xs[:-1], xs[-1].detach())

    call = detached_target if name in TARGETED else None
    compare_with_torch(ours, theirs, inputs, cpu_device, torch, train=False, call=call)


@pytest.mark.parametrize("ctor,want", [
    (lambda nn: nn.CELU(2.0, inplace=True), "CELU(alpha=2.0, inplace=True)"),
    (lambda nn: nn.SELU(inplace=True), "SELU(inplace=True)"),
    (lambda nn: nn.ReLU6(inplace=True), "ReLU6(inplace=True)"),
    (lambda nn: nn.Threshold(0.5, 1.0, True), "Threshold(threshold=0.5, value=1.0, inplace=True)"),
    (lambda nn: nn.RReLU(inplace=True),
     "RReLU(lower=0.125, upper=0.3333333333333333, inplace=True)"),
    (lambda nn: nn.Sequential(nn.Linear(2, 3), nn.PReLU(3), nn.Hardswish(), nn.GLU()),
     None),
])
def test_repr_matches_torch(ctor, want, torch):

    assert repr(ctor(nn)) == repr(ctor(torch.nn))
    if want is not None:
        assert repr(ctor(nn)) == want


def test_prelu_parameters_init_and_state_dict(torch, cpu_device):

    m = nn.PReLU(3, init=0.1, device=cpu_device, dtype=ad.float64)
    names = [(k, tuple(p.shape), p.dtype.name) for k, p in m.named_parameters()]
    assert names == [("weight", (3,), "float64")]
    assert m.weight.requires_grad and str(m.weight.device) == cpu_device
    np.testing.assert_array_equal(m.weight.numpy(), [0.1, 0.1, 0.1])
    sd = m.state_dict()
    assert list(sd) == ["weight"]
    other = nn.PReLU(3, dtype=ad.float64, device=cpu_device)
    np.testing.assert_array_equal(other.weight.numpy(), [0.25, 0.25, 0.25])
    other.load_state_dict(sd)
    np.testing.assert_array_equal(other.weight.numpy(), m.weight.numpy())
    # a PyTorch state dict loads unchanged
    tm = torch.nn.PReLU(3, init=-0.7, dtype=torch.float64)
    other.load_state_dict({k: v.detach().numpy() for k, v in tm.state_dict().items()})
    np.testing.assert_array_equal(other.weight.numpy(), [-0.7] * 3)
    with pytest.raises((RuntimeError, ValueError)):
        other.load_state_dict({"weight": np.zeros(2)})
    x = ad.tensor(X4, device=cpu_device)
    other(x).sum().backward()
    np.testing.assert_allclose(other.weight.grad.numpy(),
                               np.minimum(X4, 0).sum(axis=(0, 2, 3)), rtol=1e-12)
    other.weight.data = other.weight.detach() * 0 + 5
    other.reset_parameters()
    np.testing.assert_array_equal(other.weight.numpy(), [0.25] * 3)


# ----------------------------------------------------------------------------- RReLU
def test_rrelu_training_draws_slopes_in_bounds_and_differentiates_through_them(cpu_device):

    lower, upper = 0.1, 0.3
    base = np.random.default_rng(4).uniform(-2, 2, (64, 32))
    m = nn.RReLU(lower, upper)
    assert m.training
    x = ad.tensor(base, device=cpu_device, requires_grad=True)
    y = m(x)
    y.backward(ad.ones_like(y))
    out, grad = y.detach().numpy(), x.grad.numpy()
    pos = base > 0
    np.testing.assert_array_equal(out[pos], base[pos])
    np.testing.assert_array_equal(grad[pos], 1.0)
    slopes = out[~pos] / base[~pos]
    assert np.all((slopes >= lower) & (slopes <= upper))
    assert slopes.std() > 0.03  # one slope per element, spread over (lower, upper)
    np.testing.assert_allclose(grad[~pos], slopes, rtol=1e-12)
    ad.manual_seed(11)
    a = F.rrelu(ad.tensor(base, device=cpu_device), lower, upper, training=True)
    ad.manual_seed(11)
    b = F.rrelu(ad.tensor(base, device=cpu_device), lower, upper, training=True)
    np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_rrelu_eval_and_functional_default_use_the_mean_slope(torch, cpu_device):

    x = ad.tensor(EDGE, device=cpu_device)
    m = nn.RReLU(0.1, 0.5).eval()
    np.testing.assert_allclose(m(x).numpy(), np.where(EDGE > 0, EDGE, EDGE * 0.3), rtol=1e-15)
    np.testing.assert_array_equal(F.rrelu(x).numpy(),
                                  torch.nn.functional.rrelu(torch.tensor(EDGE)).numpy())


# ----------------------------------------------------------------------------- in-place
@pytest.mark.parametrize("name,args", [
    ("celu_", (0.7,)), ("selu_", ()), ("threshold_", (0.25, -3.0)), ("rrelu_", (0.1, 0.2)),
    ("elu_", (1.5,)), ("leaky_relu_", (0.2,)), ("hardtanh_", (-0.5, 2.0)),
])
def test_inplace_functional_writes_into_the_input_and_keeps_the_graph(name, args, torch,
                                                                      cpu_device):
    res = []
    for mod, Fn in ((ad, F), (torch, torch.nn.functional)):
        kw = {"device": cpu_device} if mod is ad else {}
        x = mod.tensor(EDGE, requires_grad=True, **kw)
        y = x * 2
        z = getattr(Fn, name)(y, *args)
        assert z is y, name
        (y * y).sum().backward()
        res.append((y.detach().numpy(), x.grad.numpy()))
    np.testing.assert_allclose(res[0][0], res[1][0], rtol=1e-6, atol=1e-7, err_msg=name)
    np.testing.assert_allclose(res[0][1], res[1][1], rtol=1e-6, atol=1e-7, err_msg=name)


@pytest.mark.parametrize("ctor", [
    lambda nn: nn.CELU(inplace=True), lambda nn: nn.SELU(inplace=True),
    lambda nn: nn.Hardswish(inplace=True), lambda nn: nn.Hardsigmoid(inplace=True),
    lambda nn: nn.Threshold(0.5, 9.0, inplace=True), lambda nn: nn.ReLU6(inplace=True),
    lambda nn: nn.RReLU(inplace=True).eval(),
], ids=["CELU", "SELU", "Hardswish", "Hardsigmoid", "Threshold", "ReLU6", "RReLU"])
def test_inplace_modules_match_torch(ctor, torch, cpu_device):

    res = []
    for mod, ns in ((ad, nn), (torch, torch.nn)):
        kw = {"device": cpu_device} if mod is ad else {}
        x = mod.tensor(EDGE * 2, requires_grad=True, **kw)
        y = x * 1.5
        assert ctor(ns)(y) is y
        (y * y).sum().backward()
        res.append((y.detach().numpy(), x.grad.numpy()))
    np.testing.assert_allclose(res[0][0], res[1][0], rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(res[0][1], res[1][1], rtol=1e-6, atol=1e-7)


def test_inplace_on_a_leaf_that_requires_grad_raises():
    x = ad.tensor(EDGE, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable"):
        F.celu(x, inplace=True)
    with pytest.raises(RuntimeError, match="leaf Variable"):
        F.threshold_(x, 0.0, 1.0)
    with ad.no_grad():
        y = F.selu_(x.detach())
    np.testing.assert_allclose(y.numpy(), F.selu(ad.tensor(EDGE)).numpy())
