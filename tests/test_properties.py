"""Hypothesis property tests: broadcasting arithmetic and comparisons against NumPy on random
shapes, and the broadcast-reducing backward (grad shapes and values) of + - * /."""

from __future__ import annotations

import operator

import numpy as np
import pytest

hypothesis = pytest.importorskip("hypothesis")
from helpers import CPU_DEVICES
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import autodiff as ad

SETTINGS = settings(max_examples=20, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])
ARITH = {"add": operator.add, "sub": operator.sub, "mul": operator.mul,
         "truediv": operator.truediv}
COMPARE = {"eq": operator.eq, "ne": operator.ne, "lt": operator.lt, "le": operator.le,
           "gt": operator.gt, "ge": operator.ge}
DEVICES = pytest.mark.parametrize("device", CPU_DEVICES)
DTYPES = pytest.mark.parametrize("dtype", ["float32", "float64"])


@st.composite
def operand_pair(draw, dtype, nonzero_b=False):
    shapes = draw(hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=4,
                                                    min_side=0, max_side=4))
    sa, sb = shapes.input_shapes
    small = st.sampled_from([-3.0, -1.0, -0.5, 0.0, 0.5, 1.0, 2.0])  # ties for comparisons
    elems = st.one_of(small, st.floats(-100, 100, width=32))
    b_elems = elems.filter(lambda v: abs(v) > 1e-3) if nonzero_b else elems
    a = draw(hnp.arrays(dtype, sa, elements=elems))
    b = draw(hnp.arrays(dtype, sb, elements=b_elems))
    return a, b


def _tol(dtype):
    return {"rtol": 1e-6, "atol": 1e-6} if dtype == "float32" else {"rtol": 1e-12, "atol": 1e-12}


@DEVICES
@DTYPES
@pytest.mark.parametrize("op", list(ARITH), ids=list(ARITH))
@SETTINGS
@given(data=st.data())
def test_broadcast_arithmetic_matches_numpy(op, dtype, device, data):
    a, b = data.draw(operand_pair(dtype, nonzero_b=op == "truediv"))
    fn = ARITH[op]
    got = fn(ad.tensor(a, device=device), ad.tensor(b, device=device))
    want = fn(a, b)
    assert got.shape == want.shape and got.dtype.name == dtype
    np.testing.assert_allclose(got.numpy(), want, **_tol(dtype))


@DEVICES
@pytest.mark.parametrize("op", list(COMPARE), ids=list(COMPARE))
@SETTINGS
@given(data=st.data())
def test_broadcast_comparisons_match_numpy(op, device, data):
    a, b = data.draw(operand_pair("float32"))
    got = COMPARE[op](ad.tensor(a, device=device), ad.tensor(b, device=device))
    assert got.dtype is ad.bool
    np.testing.assert_array_equal(got.numpy(), COMPARE[op](a, b))


@DEVICES
@pytest.mark.parametrize("op", list(ARITH), ids=list(ARITH))
@SETTINGS
@given(data=st.data(), scalar=st.one_of(st.integers(-5, 5).filter(bool),
                                        st.floats(-4, 4).filter(lambda v: abs(v) > 1e-3)))
def test_scalar_operands_match_numpy(op, device, data, scalar):
    a, _ = data.draw(operand_pair("float64"))
    fn = ARITH[op]
    t = ad.tensor(a, device=device)
    np.testing.assert_allclose(fn(t, scalar).numpy(), fn(a, scalar), rtol=1e-12)
    if op != "truediv":
        np.testing.assert_allclose(fn(scalar, t).numpy(), fn(scalar, a), rtol=1e-12)


def _sum_to(g, shape):
    while g.ndim > len(shape):
        g = g.sum(0)
    for i, n in enumerate(shape):
        if n == 1 and g.shape[i] != 1:
            g = g.sum(i, keepdims=True)
    return g


@DEVICES
@pytest.mark.parametrize("op", list(ARITH), ids=list(ARITH))
@SETTINGS
@given(data=st.data())
def test_broadcast_backward_reduces_to_input_shapes(op, device, data):
    a, b = data.draw(operand_pair("float64", nonzero_b=True))
    ta = ad.tensor(a, device=device, requires_grad=True)
    tb = ad.tensor(b, device=device, requires_grad=True)
    out = ARITH[op](ta, tb)
    g = np.random.default_rng(0).standard_normal(out.shape)
    out.backward(ad.tensor(g, device=device))
    assert ta.grad.shape == a.shape and tb.grad.shape == b.shape
    local_a = {"add": 1.0, "sub": 1.0, "mul": b, "truediv": 1 / b}[op]
    local_b = {"add": 1.0, "sub": -1.0, "mul": a, "truediv": -a / (b * b)}[op]
    np.testing.assert_allclose(ta.grad.numpy(), _sum_to(g * local_a, a.shape), rtol=1e-10,
                               atol=1e-10)
    np.testing.assert_allclose(tb.grad.numpy(), _sum_to(g * local_b, b.shape), rtol=1e-10,
                               atol=1e-10)
