"""PyTorch's out= keyword: results written into (and returned as) the given tensor, resized
with PyTorch's warning, dtype casting rules, tuples for (values, indices), creation functions
taking out's dtype, and the errors (grad, cast, device, views)."""

from __future__ import annotations

import inspect
import warnings

import numpy as np
import pytest

import autodiff as ad
from autodiff import _out

R = np.random.default_rng(5)
A = R.standard_normal((3, 4)).astype(np.float32)
B = R.standard_normal((3, 4)).astype(np.float32)
SQ = R.standard_normal((4, 4)).astype(np.float32)

CALLS = {  # name: (args as a function of the library, out dtype)
    "add": (lambda m: (m.tensor(A), m.tensor(B)), "float32"),
    "mul": (lambda m: (m.tensor(A), 2.0), "float32"),
    "exp": (lambda m: (m.tensor(A),), "float64"),
    "tanh": (lambda m: (m.tensor(A),), "float32"),
    "clamp": (lambda m: (m.tensor(A), -0.5, 0.5), "float32"),
    "pow": (lambda m: (m.tensor(A), 2), "float32"),
    "matmul": (lambda m: (m.tensor(A), m.tensor(SQ)), "float32"),
    "mm": (lambda m: (m.tensor(A), m.tensor(SQ)), "float32"),
    "sum": (lambda m: (m.tensor(A), 1), "float64"),
    "mean": (lambda m: (m.tensor(A), 0), "float32"),
    "cumsum": (lambda m: (m.tensor(A), 1), "float32"),
    "cat": (lambda m: ([m.tensor(A), m.tensor(B)], 0), "float32"),
    "stack": (lambda m: ([m.tensor(A), m.tensor(B)],), "float32"),
    "where": (lambda m: (m.tensor(A) > 0, m.tensor(A), m.tensor(B)), "float32"),
    "eq": (lambda m: (m.tensor(A), m.tensor(A)), "bool"),
    "gt": (lambda m: (m.tensor(A), 0), "float32"),
    "argmax": (lambda m: (m.tensor(A), 1), "int64"),
    "index_select": (lambda m: (m.tensor(A), 1, m.tensor([0, 2])), "float32"),
    "gather": (lambda m: (m.tensor(A), 1, m.tensor([[0], [1], [3]])), "float32"),
    "tril": (lambda m: (m.tensor(SQ),), "float32"),
    "outer": (lambda m: (m.tensor(A[0]), m.tensor(B[0])), "float32"),
    "logsumexp": (lambda m: (m.tensor(A), 1), "float32"),
    "arange": (lambda m: (5,), "float32"),
    "zeros": (lambda m: (2, 3), "int64"),
    "linspace": (lambda m: (0, 1, 5), "float64"),
    "eye": (lambda m: (3,), "float32"),
}


@pytest.mark.parametrize("name", sorted(CALLS))
@pytest.mark.parametrize("start", ["empty", "right_shape"])
def test_matches_torch(name, start, torch):
    args_of, dtype = CALLS[name]
    expected = getattr(torch, name)(*args_of(torch))
    shape = tuple(expected.shape) if start == "right_shape" else (0,)
    theirs = torch.empty(shape, dtype=getattr(torch, dtype))
    ours = ad.empty(shape, dtype=getattr(ad, dtype))
    got = getattr(ad, name)(*args_of(ad), out=ours)
    want = getattr(torch, name)(*args_of(torch), out=theirs)
    assert got is ours and want is theirs
    assert tuple(got.shape) == tuple(want.shape) and got.dtype.name == dtype
    np.testing.assert_allclose(got.numpy().astype(float), want.numpy().astype(float), rtol=1e-5)


def test_tuple_results_fill_both_tensors(torch):
    x = ad.tensor(A)
    values, indices = ad.empty(0), ad.empty(0, dtype=ad.int64)
    got = ad.max(x, 1, out=(values, indices))
    assert got.values is values and got.indices is indices
    want = torch.max(torch.tensor(A), 1)
    np.testing.assert_array_equal(indices.numpy(), want.indices.numpy())
    s = ad.sort(x, 1, out=(ad.empty(3, 4), ad.empty(3, 4, dtype=ad.int64)))
    np.testing.assert_array_equal(s.values.numpy(), np.sort(A, 1))
    with pytest.raises(TypeError, match="tuple of 2 tensors"):
        ad.max(x, 1, out=values)


def test_resizing_a_tensor_with_elements_warns_as_pytorch():
    out = ad.empty(2)
    with pytest.warns(UserWarning, match="was resized since it had shape"):
        ad.add(ad.ones(3), 1, out=out)
    assert tuple(out.shape) == (3,) and out.tolist() == [2.0] * 3
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ad.add(ad.ones(3), 1, out=ad.empty(0))  # no elements: resized quietly


def test_writes_through_a_view_of_the_right_shape():
    x = ad.ones(4)
    ad.add(x[:2], 1, out=x[2:])
    assert x.tolist() == [1.0, 1.0, 2.0, 2.0]
    with pytest.raises(RuntimeError, match="is a view and cannot be resized"):
        ad.add(ad.ones(3), 1, out=x[:2])


def test_errors_name_the_problem():
    with pytest.raises(RuntimeError, match="float32 can't be cast to the desired output type "
                                           "int64"):
        ad.add(ad.ones(3), 1, out=ad.empty(3, dtype=ad.int64))
    with pytest.raises(RuntimeError, match="don't support automatic differentiation"):
        ad.mul(ad.ones(3, requires_grad=True), 2, out=ad.empty(3))
    with pytest.raises(TypeError, match="argument 'out' must be Tensor"):
        ad.add(ad.ones(3), 1, out=np.empty(3))
    with ad.no_grad():  # no graph recorded: allowed, as PyTorch
        assert ad.mul(ad.ones(3, requires_grad=True), 2, out=ad.empty(3)).tolist() == [2.0] * 3


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_every_wrapped_function_takes_out_in_pytorch(torch):
    overrides = torch.overrides.get_testing_overrides()
    with_out = {getattr(f, "__name__", None) for f, lam in overrides.items()
                if "out" in inspect.signature(lam).parameters}
    special = {"arange": (3,), "range": (0, 2), "linspace": (0, 1, 3), "logspace": (0, 1, 3),
               "eye": (2,), "randint": (5, (2,)), "randperm": (3,), "normal": (0.0, 1.0, (2,)),
               "full": ((2,), 1.0)}
    # the reductions and creation functions whose override signatures omit out=
    for name in sorted(n for n in _out.OUT_FUNCTIONS if n not in with_out):
        fn, m = getattr(torch, name), torch.ones(2, 2)
        tries = [special.get(name, (2, 2))] if name in _out.CREATION else [(m, 0), (m, m), (m, m.long()), (m > 0, m, m)]
        outs = [torch.empty(0, dtype=d) for d in (torch.float32, torch.int64, torch.bool)]
        outs.append((torch.empty(0), torch.empty(0, dtype=torch.int64)))
        ok = False
        for args in tries:
            for out in outs:
                try:
                    fn(*args, out=out)
                    ok = True
                except (TypeError, RuntimeError) as e:
                    assert "unexpected keyword argument 'out'" not in str(e), name
        assert ok, f"torch.{name} took none of the tried argument sets with out="
