"""Element-wise ops: forward against NumPy (float32/float64) and gradcheck in float64 with
broadcasting, non-contiguous and zero-size inputs, on every device."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import (
    Case,
    op_table_tests,
)

import autodiff as ad


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def _where(c, a, b):
    return np.where(c, a, b)


POS = {"low": 0.5, "high": 2.0}

CASES = [
    Case("add", lambda a, b: a + b, np.add, (3, 4), (3, 4)),
    Case("add_bcast", lambda a, b: a + b, np.add, (3, 1), (4,)),
    Case("add_bcast3", lambda a, b: a + b, np.add, (2, 3, 4), (3, 1)),
    Case("add_alpha", lambda a, b: ad.add(a, b, alpha=2.5), lambda a, b: a + 2.5 * b, (3, 4),
         (4,)),
    Case("add_scalar", lambda a: a + 1.5, lambda a: a + 1.5, (3, 4)),
    Case("radd_scalar", lambda a: 2 + a, lambda a: 2 + a, (3, 4)),
    Case("sub", lambda a, b: a - b, np.subtract, (3, 4), (3, 4)),
    Case("sub_bcast", lambda a, b: a - b, np.subtract, (4,), (3, 1)),
    Case("rsub_scalar", lambda a: 2.0 - a, lambda a: 2.0 - a, (3, 4)),
    Case("sub_alpha", lambda a, b: a.sub(b, alpha=3), lambda a, b: a - 3 * b, (3, 4), (3, 4)),
    Case("mul", lambda a, b: a * b, np.multiply, (3, 4), (3, 4)),
    Case("mul_bcast", lambda a, b: a * b, np.multiply, (2, 1, 4), (3, 1)),
    Case("mul_0d", lambda a, b: a * b, np.multiply, (3, 4), ()),
    Case("mul_scalar", lambda a: a * 2.5, lambda a: a * 2.5, (3, 4)),
    Case("div", lambda a, b: a / b, np.divide, (3, 4), (3, 4), **POS),
    Case("div_bcast", lambda a, b: a / b, np.divide, (3, 4), (3, 1), **POS),
    Case("rdiv_scalar", lambda a: 1.0 / a, lambda a: 1.0 / a, (3, 4), **POS),
    Case("reciprocal", ad.reciprocal, np.reciprocal, (3, 4), **POS),
    Case("pow", lambda a, b: a ** b, np.power, (3, 4), (3, 4), **POS),
    Case("pow_bcast", lambda a, b: a ** b, np.power, (3, 4), (4,), **POS),
    Case("pow_scalar3", lambda a: a ** 3, lambda a: a ** 3, (3, 4)),
    Case("pow_scalar2", lambda a: a ** 2, lambda a: a ** 2, (3, 4)),
    Case("pow_half", lambda a: a ** 0.5, np.sqrt, (3, 4), **POS),
    Case("rpow_scalar", lambda a: 2.0 ** a, lambda a: 2.0 ** a, (3, 4)),
    Case("neg", lambda a: -a, np.negative, (3, 4)),
    Case("exp", ad.exp, np.exp, (3, 4)),
    Case("log", ad.log, np.log, (3, 4), **POS),
    Case("log1p", ad.log1p, np.log1p, (3, 4), low=-0.5, high=2.0),
    Case("sqrt", ad.sqrt, np.sqrt, (3, 4), **POS),
    Case("rsqrt", ad.rsqrt, lambda a: 1 / np.sqrt(a), (3, 4), **POS),
    Case("abs", ad.abs, np.abs, (3, 4)),
    Case("sin", ad.sin, np.sin, (3, 4)),
    Case("cos", ad.cos, np.cos, (3, 4)),
    Case("tanh", ad.tanh, np.tanh, (3, 4)),
    Case("sigmoid", ad.sigmoid, _sigmoid, (3, 4)),
    Case("relu", ad.relu, lambda a: np.maximum(a, 0), (3, 4)),
    Case("square", ad.square, np.square, (3, 4)),
    Case("clamp", lambda a: a.clamp(-0.5, 0.7), lambda a: np.clip(a, -0.5, 0.7), (3, 4)),
    Case("clamp_min", lambda a: a.clamp(min=0.1), lambda a: np.maximum(a, 0.1), (3, 4)),
    Case("clamp_max", lambda a: a.clamp(max=0.1), lambda a: np.minimum(a, 0.1), (3, 4)),
    Case("clamp_tensor", lambda a, lo: a.clamp(min=lo), np.maximum, (3, 4), (4,)),
    Case("maximum", ad.maximum, np.maximum, (3, 4), (3, 4)),
    Case("maximum_bcast", ad.maximum, np.maximum, (3, 4), (3, 1)),
    Case("minimum", ad.minimum, np.minimum, (3, 4), (4,)),
    Case("where", lambda c, a, b: ad.where(c, a, b), _where, (3, 4), (3, 4), (3, 4), bools=(0,)),
    Case("where_bcast", lambda c, a, b: ad.where(c, a, b), _where, (3, 1), (4,), (3, 4),
         bools=(0,)),
    Case("where_scalar", lambda c, a: ad.where(c, a, 0.0), lambda c, a: np.where(c, a, 0.0),
         (3, 4), (3, 4), bools=(0,)),
    Case("masked_fill", lambda a, m: a.masked_fill(m, -1.0), lambda a, m: np.where(m, -1.0, a),
         (3, 4), (4,), bools=(1,)),
    Case("chain", lambda a, b: (a * b).tanh() + a.exp() / (b * b + 1),
         lambda a, b: np.tanh(a * b) + np.exp(a) / (b * b + 1), (3, 4), (4,)),
    # zero-size inputs
    Case("add_empty", lambda a, b: a + b, np.add, (0, 4), (4,), layouts=("contig",)),
    Case("mul_empty", lambda a, b: a * b, np.multiply, (2, 0), (2, 1), layouts=("contig",)),
    Case("exp_empty", ad.exp, np.exp, (0,), layouts=("contig",)),
    Case("div_empty", lambda a, b: a / b, np.divide, (3, 0), (3, 0), layouts=("contig",), **POS),
    # not differentiable: values only
    Case("eq", lambda a, b: a == b, np.equal, (3, 4), (3, 4), ints=(0, 1), high=3, grad=False),
    Case("ne", lambda a, b: a != b, np.not_equal, (3, 4), (4,), ints=(0, 1), high=3,
         grad=False),
    Case("lt", lambda a, b: a < b, np.less, (3, 4), (3, 1), grad=False),
    Case("le", ad.le, np.less_equal, (3, 4), (4,), ints=(0, 1), high=3, grad=False),
    Case("gt", lambda a, b: a > b, np.greater, (3, 4), (3, 4), grad=False),
    Case("ge_scalar", lambda a: a >= 0.5, lambda a: a >= 0.5, (3, 4), grad=False),
    Case("floor", ad.floor, np.floor, (3, 4), grad=False),
    Case("ceil", ad.ceil, np.ceil, (3, 4), grad=False),
    Case("trunc", ad.trunc, np.trunc, (3, 4), grad=False),
    Case("round", ad.round, np.round, (3, 4), grad=False),
    Case("sign", ad.sign, np.sign, (3, 4), grad=False),
    Case("isfinite", ad.isfinite, np.isfinite, (3, 4), grad=False),
    Case("logical_and", ad.logical_and, np.logical_and, (3, 4), (4,), bools=(0, 1), grad=False),
    Case("logical_or", lambda a, b: a | b, np.logical_or, (3, 4), (4,), bools=(0, 1),
         grad=False),
    Case("logical_xor", lambda a, b: a ^ b, np.logical_xor, (3, 4), (3, 4), bools=(0, 1),
         grad=False),
    Case("logical_not", lambda a: ~a, np.logical_not, (3, 4), bools=(0,), grad=False),
]


test_forward, test_forward_noncontiguous, test_gradcheck = op_table_tests(CASES)


@pytest.mark.parametrize("value,expected", [
    (0.0, 0.5), (50.0, 1.0), (-50.0, 0.0), (1000.0, 1.0), (-1000.0, 0.0)])
def test_sigmoid_saturates_without_overflow(value, expected, device):
    y = ad.tensor([value], device=device).sigmoid()
    assert np.isfinite(y.cpu().numpy()).all() and abs(y.item() - expected) < 1e-6


@pytest.mark.parametrize("dtype,x", [("float32", -20.0), ("float32", -80.0), ("float64", -40.0),
                                     ("float64", -700.0)])
def test_sigmoid_keeps_relative_accuracy_in_its_tail(dtype, x, device):
    # 1 / (1 + exp(-x)) = exp(x) / (1 + exp(x)): tiny but far from 0 (log(sigmoid) stays finite)
    y = ad.tensor(np.array([x, 1000.0], dtype), device=device).sigmoid().cpu().numpy()
    expected = np.exp(np.float64(x)) / (1 + np.exp(np.float64(x)))
    assert y[0] > 0 and abs(y[0] / expected - 1) < (1e-5 if dtype == "float32" else 1e-12)


def test_relu_grad_is_zero_below_zero(device):
    x = ad.tensor([-1.0, 2.0, -3.0], device=device, requires_grad=True)
    x.relu().sum().backward()
    assert x.grad.tolist() == [0.0, 1.0, 0.0]


def test_maximum_splits_ties(device):
    a = ad.tensor([1.0, 2.0], device=device, requires_grad=True)
    b = ad.tensor([1.0, 1.0], device=device, requires_grad=True)
    ad.maximum(a, b).sum().backward()
    assert a.grad.tolist() == [0.5, 1.0] and b.grad.tolist() == [0.5, 0.0]


def test_pow_grad_at_zero_base(device):
    """d(0 ** b)/db is 0 (not NaN), and d(x ** 2)/dx at 0 is 0."""
    a = ad.tensor([0.0, 2.0], device=device, dtype=ad.float64, requires_grad=True)
    b = ad.tensor([2.0, 3.0], device=device, dtype=ad.float64, requires_grad=True)
    (a ** b).sum().backward()
    assert np.isfinite(b.grad.cpu().numpy()).all()
    np.testing.assert_allclose(b.grad.cpu().numpy(), [0.0, 8.0 * np.log(2.0)])
    np.testing.assert_allclose(a.grad.cpu().numpy(), [0.0, 12.0])


def test_int_inputs_promote_to_float_for_math(device):
    x = ad.tensor([1, 2, 3], device=device)
    assert x.exp().dtype == ad.float32
    assert x.sqrt().dtype == ad.float32
    assert (x / 2).dtype == ad.float32
    assert (x * 2).dtype == ad.int64
    np.testing.assert_allclose((x / 2).cpu().numpy(), [0.5, 1.0, 1.5])


def test_floordiv_and_mod(device):
    a = ad.tensor([7, -7, 5], device=device)
    assert (a // 2).tolist() == [3, -4, 2]
    assert (a % 3).tolist() == [1, 2, 2]
    assert (a // 2).dtype == ad.int64


def test_log_of_zero_is_silent_like_pytorch(device):
    assert ad.tensor([0.0], device=device).log().item() == -np.inf
    assert ad.tensor([1.0], device=device).div(0.0).item() == np.inf
    assert np.isnan(ad.tensor([-1.0], device=device).sqrt().item())


def test_clamp_gradient_passes_at_the_bounds_not_outside_or_nan(device):
    x = ad.tensor([-1.0, -0.5, 0.0, 0.5, 1.0, float("nan")], device=device, requires_grad=True)
    y = x.clamp(-0.5, 0.5)
    y.backward(ad.ones_like(y))
    np.testing.assert_array_equal(y.detach().cpu().numpy(), [-0.5, -0.5, 0.0, 0.5, 0.5, np.nan])
    np.testing.assert_array_equal(x.grad.cpu().numpy(), [0, 1, 1, 1, 0, 0])
    x.grad = None
    x.clamp(max=0.0).sum().backward()
    np.testing.assert_array_equal(x.grad.cpu().numpy(), [1, 1, 1, 0, 0, 0])
