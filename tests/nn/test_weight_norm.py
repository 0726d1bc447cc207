"""weight_norm / spectral_norm (hook API), nn.utils.parametrize and
nn.utils.parametrizations against PyTorch: state_dict keys, forward values, the gradient of
every parameter, power-iteration buffers, and removal."""

from __future__ import annotations

import copy

import numpy as np
import pytest
from nn_helpers import compare_with_torch, copy_weights

import autodiff as ad
import autodiff.nn as nn
from autodiff.nn.utils import parametrize, parametrizations

torch = pytest.importorskip("torch")
TP = torch.nn.utils.parametrize

DEPRECATED = "weight_norm` is deprecated"
RNG = np.random.default_rng(0)
X_LIN = RNG.standard_normal((3, 5))
X_CONV = RNG.standard_normal((2, 3, 6, 6))

LAYERS = {  # name: (ours, theirs, input)
    "linear": (lambda: nn.Linear(5, 4), lambda: torch.nn.Linear(5, 4), X_LIN),
    "conv2d": (lambda: nn.Conv2d(3, 4, 3), lambda: torch.nn.Conv2d(3, 4, 3), X_CONV),
    "convT2d": (lambda: nn.ConvTranspose2d(3, 2, 3), lambda: torch.nn.ConvTranspose2d(3, 2, 3),
                X_CONV),
}


def _pair(layer: str):
    make_a, make_t, x = LAYERS[layer]
    a, t = make_a(), make_t()
    copy_weights(a, t)
    return a, t, x


def _keys(m) -> list:
    return list(m.state_dict())


# ---------------------------------------------------------------- weight_norm (hook API)
@pytest.mark.parametrize("layer", ["linear", "conv2d"])
@pytest.mark.parametrize("dim", [0, 1, None, -1])
def test_weight_norm_matches_torch(layer, dim, cpu_device):
    a, t, x = _pair(layer)
    with pytest.warns(FutureWarning, match=DEPRECATED):
        torch.nn.utils.weight_norm(t, dim=dim)
    with pytest.warns(FutureWarning, match=DEPRECATED):
        nn.utils.weight_norm(a, dim=dim)
    assert _keys(a) == _keys(t)
    assert a.weight_g.shape == tuple(t.weight_g.shape)
    np.testing.assert_allclose(a.weight_g.numpy(), t.weight_g.detach().numpy(), rtol=1e-6)
    compare_with_torch(a, t, [x], cpu_device, torch)  # forward and grads of weight_g/v, bias


def test_remove_weight_norm_keeps_the_weight():
    a, t, x = _pair("linear")
    with pytest.warns(FutureWarning):
        torch.nn.utils.weight_norm(t)
    with pytest.warns(FutureWarning):
        nn.utils.weight_norm(a)
    with ad.no_grad():
        a.weight_g.mul_(2.0)
    with torch.no_grad():
        t.weight_g.mul_(2.0)
    torch.nn.utils.remove_weight_norm(t)
    assert nn.utils.remove_weight_norm(a) is a
    assert _keys(a) == _keys(t) == ["bias", "weight"]
    assert isinstance(a.weight, nn.Parameter)
    np.testing.assert_allclose(a.weight.numpy(), t.weight.detach().numpy(), rtol=1e-6)
    with pytest.raises(ValueError, match="weight_norm of 'weight' not found"):
        nn.utils.remove_weight_norm(a)


def test_weight_norm_twice_is_an_error():
    a = nn.Linear(2, 2)
    with pytest.warns(FutureWarning):
        nn.utils.weight_norm(a)
        with pytest.raises(RuntimeError, match="two weight_norm hooks"):
            nn.utils.weight_norm(a)


# ---------------------------------------------------------------- spectral_norm (hook API)
def _spectral_pair(layer: str, **kw):
    a, t, x = _pair(layer)
    torch.nn.utils.spectral_norm(t, **kw)
    nn.utils.spectral_norm(a, **kw)
    assert _keys(a) == _keys(t)
    copy_weights(a, t)  # torch's random u and v
    return a, t, x


@pytest.mark.parametrize("layer", ["linear", "conv2d", "convT2d"])
def test_spectral_norm_matches_torch(layer, cpu_device):
    a, t, x = _spectral_pair(layer, n_power_iterations=2)
    assert a.weight_u.shape == tuple(t.weight_u.shape)  # dim=1 for ConvTranspose
    compare_with_torch(a, t, [x], cpu_device, torch)  # also compares the updated u, v


def test_spectral_norm_iterates_in_training_only():
    a, t, x = _spectral_pair("linear")
    for train in (True, True, False, False, True):
        a.train(train)
        t.train(train)
        u0 = a.weight_u.numpy().copy()
        ya, yt = a(ad.tensor(x, dtype=ad.float32)), t(torch.tensor(x, dtype=torch.float32))
        np.testing.assert_allclose(ya.numpy(), yt.detach().numpy(), rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(a.weight_u.numpy(), t.weight_u.numpy(), rtol=1e-4,
                                   atol=1e-6)
        assert np.array_equal(u0, a.weight_u.numpy()) == (not train)
    ya.sum().backward()
    yt.sum().backward()
    np.testing.assert_allclose(a.weight_orig.grad.numpy(), t.weight_orig.grad.numpy(),
                               rtol=1e-4, atol=1e-5)


def test_remove_spectral_norm_and_errors():
    a, t, x = _spectral_pair("conv2d")
    a(ad.tensor(x, dtype=ad.float32))
    t(torch.tensor(x, dtype=torch.float32))
    torch.nn.utils.remove_spectral_norm(t)
    nn.utils.remove_spectral_norm(a)
    assert _keys(a) == _keys(t) == ["bias", "weight"]
    np.testing.assert_allclose(a.weight.numpy(), t.weight.detach().numpy(), rtol=1e-4,
                               atol=1e-6)
    with pytest.raises(ValueError, match="spectral_norm of 'weight' not found"):
        nn.utils.remove_spectral_norm(a)
    with pytest.raises(ValueError, match="n_power_iterations"):
        nn.utils.spectral_norm(nn.Linear(2, 2), n_power_iterations=0)
    with pytest.raises(ValueError, match="cannot be applied"):
        nn.utils.spectral_norm(nn.Linear(2, 2, bias=False), name="bias")


# ---------------------------------------------------------------- parametrize
class _Symmetric:
    """X -> triu(X) + triu(X, 1)^T, with right_inverse = triu (torch's doc example)."""

    @staticmethod
    def forward(self, X):
        return X.triu() + X.triu(1).transpose(-1, -2)

    @staticmethod
    def right_inverse(self, A):
        return A.triu()


class _Scale:
    @staticmethod
    def forward(self, X):
        return X * 2


def _param_modules(lib_nn, cls):
    return type(cls.__name__, (lib_nn.Module,), {k: getattr(cls, k) for k in vars(cls)
                                                 if not k.startswith("__")})()


def test_register_parametrization_matches_torch(cpu_device):
    a, t = nn.Linear(4, 4), torch.nn.Linear(4, 4)
    copy_weights(a, t)  # before: same weight, so the same original after right_inverse
    TP.register_parametrization(t, "weight", _param_modules(torch.nn, _Symmetric))
    TP.register_parametrization(t, "weight", _param_modules(torch.nn, _Scale))
    parametrize.register_parametrization(a, "weight", _param_modules(nn, _Symmetric))
    parametrize.register_parametrization(a, "weight", _param_modules(nn, _Scale))
    assert _keys(a) == _keys(t) == ["bias", "parametrizations.weight.original"]
    assert type(a).__name__ == "ParametrizedLinear"
    assert parametrize.type_before_parametrizations(a) is nn.Linear
    assert parametrize.is_parametrized(a) and parametrize.is_parametrized(a, "weight")
    assert not parametrize.is_parametrized(a, "bias")
    np.testing.assert_allclose(a.weight.numpy(), t.weight.detach().numpy(), rtol=1e-6)
    np.testing.assert_allclose(a.weight.numpy(), a.weight.numpy().T)
    compare_with_torch(a, t, [X_LIN[:, :4]], cpu_device, torch)


def test_parametrization_assignment_cache_and_removal():
    a, t = nn.Linear(3, 3), torch.nn.Linear(3, 3)
    copy_weights(a, t)
    parametrize.register_parametrization(a, "weight", _param_modules(nn, _Symmetric))
    TP.register_parametrization(t, "weight", _param_modules(torch.nn, _Symmetric))
    w = RNG.standard_normal((3, 3)).astype(np.float32)
    a.weight = ad.tensor(w)  # right_inverse: the original becomes triu(w)
    t.weight = torch.tensor(w)
    np.testing.assert_allclose(a.parametrizations.weight.original.numpy(), np.triu(w))
    np.testing.assert_allclose(a.weight.numpy(), t.weight.detach().numpy())
    with parametrize.cached():
        assert a.weight is a.weight
    assert a.weight is not a.weight
    original = a.parametrizations.weight.original
    parametrize.remove_parametrizations(a, "weight")
    TP.remove_parametrizations(t, "weight")
    assert type(a) is nn.Linear and _keys(a) == _keys(t) == ["bias", "weight"]
    assert a.weight is original  # the same Parameter, now holding the parametrized value
    np.testing.assert_allclose(a.weight.numpy(), t.weight.detach().numpy())
    with pytest.raises(ValueError, match="does not have a parametrization"):
        parametrize.remove_parametrizations(a, "weight")


def test_parametrization_checks_shape_and_names():
    class Flat(nn.Module):
        def forward(self, X):
            return X.reshape(-1)

    with pytest.raises(ValueError, match="may not change"):
        parametrize.register_parametrization(nn.Linear(2, 3), "weight", Flat())
    m = parametrize.register_parametrization(nn.Linear(2, 3), "weight", Flat(), unsafe=True)
    assert m.weight.shape == (6,)
    with pytest.raises(ValueError, match="does not have a parameter, a buffer"):
        parametrize.register_parametrization(nn.Linear(2, 3), "nope", Flat())
    parametrize.remove_parametrizations(m, "weight", leave_parametrized=False)
    assert m.weight.shape == (3, 2) and type(m) is nn.Linear


def test_parametrized_module_deepcopies():
    a = parametrizations.weight_norm(nn.Linear(3, 2))
    b = copy.deepcopy(a)
    assert type(b) is type(a) and _keys(b) == _keys(a)
    np.testing.assert_allclose(b.weight.numpy(), a.weight.numpy())


# ---------------------------------------------------------------- parametrizations
@pytest.mark.parametrize("layer", ["linear", "conv2d"])
@pytest.mark.parametrize("dim", [0, None])
def test_parametrizations_weight_norm_matches_torch(layer, dim, cpu_device):
    a, t, x = _pair(layer)
    torch.nn.utils.parametrizations.weight_norm(t, dim=dim)
    parametrizations.weight_norm(a, dim=dim)
    assert _keys(a) == _keys(t)
    for k in ("original0", "original1"):
        np.testing.assert_allclose(getattr(a.parametrizations.weight, k).numpy(),
                                   getattr(t.parametrizations.weight, k).detach().numpy(),
                                   rtol=1e-6)
    compare_with_torch(a, t, [x], cpu_device, torch)


@pytest.mark.parametrize("layer", ["linear", "conv2d", "convT2d"])
def test_parametrizations_spectral_norm_matches_torch(layer, cpu_device):
    a, t, x = _pair(layer)
    torch.nn.utils.parametrizations.spectral_norm(t)
    parametrizations.spectral_norm(a)
    assert _keys(a) == _keys(t)
    assert a.parametrizations.weight[0]._u.shape == tuple(t.parametrizations.weight[0]._u.shape)
    compare_with_torch(a, t, [x], cpu_device, torch)  # copies u, v; compares them after
    ad_eval, t_eval = copy.deepcopy(a).eval(), copy.deepcopy(t).eval()
    np.testing.assert_allclose(ad_eval.weight.numpy(), t_eval.weight.detach().numpy(),
                               rtol=1e-6)
    parametrize.remove_parametrizations(a, "weight")
    TP.remove_parametrizations(t, "weight")
    assert _keys(a) == _keys(t)
