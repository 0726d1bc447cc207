"""Second PyTorch-parity audit of ``nn``: ``inplace=True`` honoured by ReLU, LeakyReLU, ELU,
SiLU, Mish and Dropout (with PyTorch's errors), F.relu_, the bias gradient of F.linear in the
bias's own shape, BatchNorm on an empty batch, dropout2d of a 3-D input taken as (N, C, L),
clear errors for bad convolution arguments and empty RNN sequences, and ``input`` as the
first parameter's name of the functional API."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import autodiff as ad
from autodiff import nn
from autodiff.nn import functional as F

torch = pytest.importorskip("torch")
tnn, TF = torch.nn, torch.nn.functional

DATA = [[-2.0, -0.5, 0.0], [0.25, 1.5, 3.0]]

# (name, autodiff form, PyTorch form): each writes into its argument and returns it
INPLACE_FORMS = [
    ("F.relu", lambda m, t: m.relu(t, inplace=True)),
    ("F.relu_", lambda m, t: m.relu_(t)),
    ("F.leaky_relu", lambda m, t: m.leaky_relu(t, 0.2, True)),
    ("F.leaky_relu_", lambda m, t: m.leaky_relu_(t, 0.2)),
    ("F.elu", lambda m, t: m.elu(t, 0.5, True)),
    ("F.elu_", lambda m, t: m.elu_(t, 0.5)),
    ("F.silu", lambda m, t: m.silu(t, inplace=True)),
    ("F.mish", lambda m, t: m.mish(t, inplace=True)),
]
INPLACE_MODULES = [
    ("ReLU", lambda m: m.ReLU(inplace=True)),
    ("LeakyReLU", lambda m: m.LeakyReLU(0.1, inplace=True)),
    ("ELU", lambda m: m.ELU(alpha=0.7, inplace=True)),
    ("SiLU", lambda m: m.SiLU(inplace=True)),
    ("Mish", lambda m: m.Mish(inplace=True)),
]
CASES = [(n, lambda mods, t, f=f: f(mods[1], t)) for n, f in INPLACE_FORMS] + [
    (n, lambda mods, t, f=f: f(mods[0])(t)) for n, f in INPLACE_MODULES]
CASE_IDS = [n for n, _ in CASES]
AD, TORCH = (nn, F), (tnn, TF)


@pytest.mark.parametrize("name,apply", CASES, ids=CASE_IDS)
def test_inplace_activation_writes_into_its_input(cpu_device, name, apply):
    x, t = ad.tensor(DATA, device=cpu_device), torch.tensor(DATA)
    assert apply(AD, x) is x
    assert apply(TORCH, t) is t
    np.testing.assert_allclose(x.numpy(), t.numpy(), rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("name,apply", CASES, ids=CASE_IDS)
def test_inplace_activation_gradient_matches_torch(cpu_device, name, apply):
    a = ad.tensor(DATA, device=cpu_device, requires_grad=True)
    ta = torch.tensor(DATA, requires_grad=True)
    y, ty = a * 1.5, ta * 1.5  # non-leaves: in place is allowed and recorded
    (apply(AD, y) * y).sum().backward()
    (apply(TORCH, ty) * ty).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), ta.grad.numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name,apply", CASES, ids=CASE_IDS)
def test_inplace_activation_on_a_leaf_requiring_grad_raises(cpu_device, name, apply):
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        apply(TORCH, torch.tensor(DATA, requires_grad=True))
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        apply(AD, ad.tensor(DATA, device=cpu_device, requires_grad=True))


@pytest.mark.parametrize("name,apply", CASES, ids=CASE_IDS)
def test_inplace_activation_of_a_saved_tensor_breaks_backward(cpu_device, name, apply):
    ta = torch.tensor(DATA, requires_grad=True)
    ts = (ta * 1).sigmoid()  # sigmoid saves its output for backward
    apply(TORCH, ts)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        ts.sum().backward()
    a = ad.tensor(DATA, device=cpu_device, requires_grad=True)
    s = (a * 1).sigmoid()
    apply(AD, s)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        s.sum().backward()


@pytest.mark.parametrize("name,make", INPLACE_MODULES + [("Dropout", lambda m: m.Dropout(
    0.5, inplace=True))], ids=[n for n, _ in INPLACE_MODULES] + ["Dropout"])
def test_inplace_module_repr_matches_torch(name, make):
    assert repr(make(nn)) == repr(make(tnn))


@pytest.mark.parametrize("make,shape", [
    (lambda m, p: m.Dropout(p, inplace=True), (4, 6, 3)),
    (lambda m, p: (lambda t: m.functional.dropout(t, p, True, True)), (4, 6, 3)),
    (lambda m, p: m.Dropout1d(p, inplace=True), (4, 6, 3)),
    (lambda m, p: m.Dropout2d(p, inplace=True), (4, 6, 3, 2)),
    (lambda m, p: m.Dropout3d(p, inplace=True), (4, 6, 3, 2, 2)),
], ids=["Dropout", "F.dropout", "Dropout1d", "Dropout2d", "Dropout3d"])
def test_dropout_inplace_in_training(cpu_device, make, shape):
    x = ad.ones(*shape, device=cpu_device)
    y = make(nn, 0.5)(x)
    assert y is x
    values = set(np.unique(x.numpy()).tolist())
    assert values == {0.0, 2.0}  # zeroed or scaled by 1 / (1 - p), in place
    t = torch.ones(shape, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        make(tnn, 0.5)(t)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        make(nn, 0.5)(ad.ones(*shape, device=cpu_device, requires_grad=True))


def test_dropout_inplace_gradient_and_eval(cpu_device):
    a = ad.ones(50, device=cpu_device, requires_grad=True)
    y = a * 1.0
    F.dropout(y, 0.5, training=True, inplace=True).sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), y.detach().numpy())  # the mask itself
    drop = nn.Dropout(0.5, inplace=True).eval()
    x = ad.tensor(DATA, device=cpu_device)
    assert drop(x) is x and x.tolist() == DATA


# --------------------------------------------------------------------- linear: bias gradient
@pytest.mark.parametrize("bias_shape", [(), (1,), (2,)])
@pytest.mark.parametrize("x_shape", [(4, 3), (5, 4, 3), (3,)])
def test_linear_bias_gradient_has_the_bias_shape(cpu_device, bias_shape, x_shape):
    rng = np.random.RandomState(0)
    xs, ws = rng.randn(*x_shape), rng.randn(2, 3)
    bs = np.asarray(rng.randn(*bias_shape))  # (a float for shape (): keep float64)
    x, w = ad.tensor(xs, device=cpu_device), ad.tensor(ws, device=cpu_device)
    b = ad.tensor(bs, device=cpu_device, requires_grad=True)
    tb = torch.tensor(bs, requires_grad=True)
    y, ty = F.linear(x, w, b), TF.linear(torch.tensor(xs), torch.tensor(ws), tb)
    np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy(), rtol=1e-6)
    (y * y).sum().backward()
    (ty * ty).sum().backward()
    assert b.grad.shape == tuple(tb.grad.shape) == bias_shape
    np.testing.assert_allclose(b.grad.numpy(), tb.grad.numpy(), rtol=1e-6)


# --------------------------------------------------------------------- BatchNorm, empty batch
@pytest.mark.parametrize("layer,shape", [
    ("BatchNorm1d", (0, 3)), ("BatchNorm1d", (0, 3, 5)), ("BatchNorm2d", (0, 3, 4, 4)),
    ("BatchNorm3d", (0, 3, 2, 2, 2)), ("BatchNorm2d", (2, 3, 0, 4))])
@pytest.mark.parametrize("momentum", [0.1, None])
def test_batch_norm_on_an_empty_batch(cpu_device, layer, shape, momentum):
    bn = getattr(nn, layer)(3, momentum=momentum).to(cpu_device)
    tbn = getattr(tnn, layer)(3, momentum=momentum)
    for m in (bn, tbn):
        m.running_mean.fill_(0.5)
        m.running_var.fill_(2.0)
    x = ad.zeros(*shape, device=cpu_device, requires_grad=True)
    tx = torch.zeros(*shape, requires_grad=True)
    y, ty = bn(x), tbn(tx)
    assert y.shape == tuple(ty.shape) == shape
    y.sum().backward()
    ty.sum().backward()
    assert x.grad.shape == shape
    for name in ("running_mean", "running_var", "num_batches_tracked"):
        np.testing.assert_array_equal(getattr(bn, name).numpy(), getattr(tbn, name).numpy())
    for name in ("weight", "bias"):
        np.testing.assert_array_equal(getattr(bn, name).grad.numpy(),
                                      getattr(tbn, name).grad.numpy())


def test_batch_norm_still_needs_two_values_per_channel(cpu_device):
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        nn.BatchNorm1d(3).to(cpu_device)(ad.ones(1, 3, device=cpu_device))


# --------------------------------------------------------------------- dropout2d of 3-D input
def _warnings_of(fn) -> list[str]:
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        fn()
    return [str(w.message) for w in record if issubclass(w.category, UserWarning)]


@pytest.mark.parametrize("training", [True, False])
def test_dropout2d_of_3d_input_warns_as_torch(cpu_device, training):
    x = ad.ones(2, 3, 4, device=cpu_device)
    want = _warnings_of(lambda: TF.dropout2d(torch.ones(2, 3, 4), 0.5, training))
    assert _warnings_of(lambda: F.dropout2d(x, 0.5, training)) == want and len(want) == 1
    layer = nn.Dropout2d(0.5).train(training)
    assert _warnings_of(lambda: layer(x)) == want


def test_dropout2d_of_3d_input_drops_per_batch_and_channel(cpu_device):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        y = F.dropout2d(ad.ones(16, 8, 5, device=cpu_device), 0.5).numpy()
    per_row = y.reshape(16 * 8, 5)
    assert ((per_row == 0).all(1) | (per_row == 2).all(1)).all()
    rows_kept = (per_row == 2).all(1).reshape(16, 8)
    assert not (rows_kept == rows_kept[:1]).all()  # not one mask shared by the batch (C, H, W)


@pytest.mark.parametrize("shape", [(6, 4), (2, 3, 2, 2, 2)])
def test_dropout2d_other_ranks_warn_and_drop_channels(cpu_device, shape):
    want = _warnings_of(lambda: TF.dropout2d(torch.ones(shape), 0.5))
    got = _warnings_of(lambda: F.dropout2d(ad.ones(*shape, device=cpu_device), 0.5))
    assert got == want and len(want) == 1


# --------------------------------------------------------------------- convolution arguments
CONV_CASES = {
    "conv1d": ((1, 2, 5), (3, 2, 3)),
    "conv2d": ((1, 2, 5, 5), (3, 2, 3, 3)),
    "conv3d": ((1, 2, 5, 5, 5), (3, 2, 3, 3, 3)),
    "conv_transpose1d": ((1, 2, 5), (2, 3, 3)),
    "conv_transpose2d": ((1, 2, 5, 5), (2, 3, 3, 3)),
    "conv_transpose3d": ((1, 2, 5, 5, 5), (2, 3, 3, 3, 3)),
}
BAD_ARGS = [
    ({"padding": -1}, "negative padding is not supported"),
    ({"stride": 0}, "non-positive stride is not supported"),
    ({"stride": -2}, "non-positive stride is not supported"),
    ({"groups": 0}, "non-positive groups is not supported"),
    ({"dilation": 0}, "dilation should be greater than zero"),
]


@pytest.mark.parametrize("name", list(CONV_CASES))
@pytest.mark.parametrize("kwargs,message", BAD_ARGS, ids=["pad", "stride0", "stride-", "groups",
                                                          "dilation"])
def test_conv_bad_arguments_raise_as_torch(cpu_device, name, kwargs, message):
    xs, ws = CONV_CASES[name]
    with pytest.raises(RuntimeError, match=message):
        getattr(TF, name)(torch.zeros(xs), torch.zeros(ws), **kwargs)
    with pytest.raises(RuntimeError, match=message):
        getattr(F, name)(ad.zeros(*xs, device=cpu_device), ad.zeros(*ws, device=cpu_device),
                         **kwargs)


@pytest.mark.parametrize("name", [n for n in CONV_CASES if "transpose" in n])
def test_conv_transpose_negative_output_padding_raises(cpu_device, name):
    xs, ws = CONV_CASES[name]
    message = "negative output_padding is not supported"
    with pytest.raises(RuntimeError, match=message):
        getattr(TF, name)(torch.zeros(xs), torch.zeros(ws), output_padding=-1)
    with pytest.raises(RuntimeError, match=message):
        getattr(F, name)(ad.zeros(*xs, device=cpu_device), ad.zeros(*ws, device=cpu_device),
                         output_padding=-1)


def test_conv_module_with_negative_padding_raises(cpu_device):
    layer = nn.Conv2d(2, 3, 3, padding=-1).to(cpu_device)
    with pytest.raises(RuntimeError, match="negative padding is not supported"):
        layer(ad.zeros(1, 2, 5, 5, device=cpu_device))


# --------------------------------------------------------------------- empty RNN sequences
@pytest.mark.parametrize("layer", ["RNN", "LSTM", "GRU"])
@pytest.mark.parametrize("shape,batch_first", [((0, 2, 3), False), ((2, 0, 3), True),
                                               ((0, 3), False)])
def test_rnn_with_an_empty_sequence_raises_as_torch(cpu_device, layer, shape, batch_first):
    message = "Expected sequence length to be larger than 0 in RNN"
    with pytest.raises(RuntimeError, match=message):
        getattr(tnn, layer)(3, 4, batch_first=batch_first)(torch.zeros(shape))
    rnn = getattr(nn, layer)(3, 4, batch_first=batch_first).to(cpu_device)
    with pytest.raises(RuntimeError, match=message):
        rnn(ad.zeros(*shape, device=cpu_device))


def test_rnn_with_an_empty_batch_still_runs(cpu_device):
    out, _ = nn.GRU(3, 4).to(cpu_device)(ad.zeros(5, 0, 3, device=cpu_device))
    assert out.shape == tuple(tnn.GRU(3, 4)(torch.zeros(5, 0, 3))[0].shape)


# --------------------------------------------------------------------- ``input`` keyword
KEYWORD_CALLS = [
    ("relu", {}), ("sigmoid", {}), ("tanh", {}), ("softmax", {"dim": -1}),
    ("log_softmax", {"dim": 0}), ("softmin", {"dim": 1}), ("dropout", {"training": False}),
    ("leaky_relu", {"negative_slope": 0.3}), ("elu", {}), ("silu", {}), ("mish", {}),
    ("pad", {"pad": (1, 2)}),
]


@pytest.mark.parametrize("name,kwargs", KEYWORD_CALLS, ids=[n for n, _ in KEYWORD_CALLS])
def test_functional_first_argument_is_named_input(cpu_device, name, kwargs):
    got = getattr(F, name)(input=ad.tensor(DATA, device=cpu_device), **kwargs)
    want = getattr(TF, name)(input=torch.tensor(DATA), **kwargs)
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-6, atol=1e-7)


def test_functional_input_keyword_of_layers(cpu_device):
    rng = np.random.RandomState(1)
    img, w = rng.randn(1, 2, 4, 4), rng.randn(3, 2)
    idx = np.array([[0, 2], [1, 1]])
    pairs = [
        (F.interpolate(input=ad.tensor(img, device=cpu_device), scale_factor=2),
         TF.interpolate(input=torch.tensor(img), scale_factor=2)),
        (F.linear(input=ad.tensor(img, device=cpu_device).movedim(1, -1),
                  weight=ad.tensor(w, device=cpu_device)),
         TF.linear(input=torch.tensor(img).movedim(1, -1), weight=torch.tensor(w))),
        (F.embedding(input=ad.tensor(idx, device=cpu_device),
                     weight=ad.tensor(w, device=cpu_device)),
         TF.embedding(input=torch.tensor(idx), weight=torch.tensor(w))),
        (F.batch_norm(input=ad.tensor(img, device=cpu_device), running_mean=None,
                      running_var=None, training=True),
         TF.batch_norm(input=torch.tensor(img), running_mean=None, running_var=None,
                       training=True)),
        (F.max_pool3d(input=ad.tensor(img, device=cpu_device), kernel_size=2),
         TF.max_pool3d(input=torch.tensor(img), kernel_size=2)),
        (F.avg_pool3d(input=ad.tensor(img, device=cpu_device), kernel_size=2),
         TF.avg_pool3d(input=torch.tensor(img), kernel_size=2)),
        (F.conv2d(input=ad.tensor(img, device=cpu_device),
                  weight=ad.tensor(rng.randn(1, 2, 3, 3), device=cpu_device)), None),
    ]
    for got, want in pairs[:-1]:
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-5, atol=1e-6)
    assert pairs[-1][0].shape == (1, 1, 2, 2)
