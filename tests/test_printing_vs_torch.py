"""``repr(tensor)`` against PyTorch's for the same values, dtypes and print options.

One normalization only: our ``device='cpp'`` / ``device='numpy'`` suffix is dropped (torch
prints none for CPU tensors) and ``autodiff.`` reads ``torch.``. Dropping the device suffix
moves where the other suffixes wrap, so a suffix wrapped onto its own line is joined back on
both sides; the wrapping rule itself is checked exactly in ``test_suffix_wrapping``. grad_fn
names may differ (``SumBackward0`` here, torch's ``SumBackward1`` for a sum over a dim): only
the suffix's shape is compared, ``grad_fn=<...Backward...>``.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

import autodiff as ad
from autodiff import _printing

R = np.random.default_rng(0)
INF, NAN = np.inf, np.nan
_SUFFIX_WRAP = re.compile(r",\n +(?=(size|dtype|grad_fn|requires_grad)=)")
_GRAD_FN = re.compile(r"grad_fn=<[A-Z][A-Za-z0-9]*Backward\d*>")


def _norm(text: str) -> str:
    text = re.sub(r",\s+device='(cpp|numpy)'", "", text).replace("autodiff.", "torch.")
    return _GRAD_FN.sub("grad_fn=<...>", _SUFFIX_WRAP.sub(", ", text))


@pytest.fixture(autouse=True)
def _default_printoptions(torch):
    yield
    ad.set_printoptions(profile="default")
    torch.set_printoptions(profile="default")


def _check(torch, arr, device, **opts):
    if opts:
        ad.set_printoptions(**opts)
        torch.set_printoptions(**opts)
    ours = repr(ad.tensor(arr, device=device))
    assert str(ad.tensor(arr, device=device)) == ours
    assert _norm(ours) == _norm(repr(torch.from_numpy(np.array(arr)))), ours


DTYPES = ["float32", "float64", "float16", "int8", "int16", "int32", "int64", "uint8", "bool"]
SMALL = np.array([[0, 1, 2], [3, 5, 7]])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(), (3,), (2, 3), (2, 1, 3), (1, 2, 1, 3)])
def test_dtypes_and_ranks(torch, cpu_device, dtype, shape):
    arr = np.arange(1, 1 + int(np.prod(shape)), dtype=np.int64).reshape(shape) * 3 % 7
    _check(torch, arr.astype(dtype), cpu_device)
    if dtype.startswith("float"):
        _check(torch, (arr * 1.37 - 2).astype(dtype), cpu_device)


@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "int32", "bool"])
@pytest.mark.parametrize("shape", [(0,), (2, 0), (0, 3, 1)])
def test_empty(torch, cpu_device, dtype, shape):
    _check(torch, np.zeros(shape, dtype), cpu_device)


VALUES = {
    "wide_ints": np.array([1, -1000000, 123456789012, 7]),
    "int8_edges": np.array([-128, 127, 0], np.int8),
    "uint8": np.array([0, 255, 9], np.uint8),
    "tiny": np.array([1e-5, 1.0]),
    "huge": np.array([1e10, 1.0]),
    "above_1e8": np.array([2e8, 3e8], np.float32),
    "ratio": np.array([1.5e-3, 2.0, 3e3]),
    "integral": np.array([1.0, 2.0, -3.0]),
    "integral_wide": np.array([100.0, 2000.0, -5.0]),
    "neg_zero": np.array([-0.0, 0.0, 1.0]),
    "neg_zero_only": np.array([-0.0, 0.0]),
    "neg_zero_frac": np.array([-0.0, 1.5]),
    "neg_zero_0d": np.array(-0.0),
    "nonfinite": np.array([INF, -INF, NAN, 1.0]),
    "nonfinite_only": np.array([INF, NAN, -INF]),
    "nonfinite_frac": np.array([1.25, INF, NAN]),
    "nonfinite_sci": np.array([1e-5, INF, NAN, -2.0]),
    "nan_0d": np.array(NAN),
    "inf_2d": np.array([[INF, 1.5], [-0.0, NAN]], np.float32),
    "half": np.array([0.1, 1000.0, -3.3], np.float16),
    "randn": R.standard_normal((4, 5)).astype(np.float32),
    "randn_sci": R.standard_normal((3, 4)) * 1e-6,
    "mixed_sign_sci": np.array([[-1e12, 3.0], [4.5e-7, 0.0]]),
    "bools": np.array([[True, False], [False, True]]),
    "long_row_f": R.standard_normal(30).astype(np.float32),
    "long_row_i": np.arange(-20, 40) * 1001,
    "long_rows_2d": R.standard_normal((3, 20)),
    "long_rows_3d": R.standard_normal((2, 2, 15)).astype(np.float32),
    "big_1d_f": np.arange(2000, dtype=np.float32) / 7,
    "big_1d_i": np.arange(5000),
    "big_2d": R.standard_normal((50, 40)).astype(np.float32),
    "big_2d_int_valued": np.arange(1200.0).reshape(40, 30),
    "big_3d": np.arange(3000).reshape(10, 15, 20) % 97,
    "big_4d": R.standard_normal((5, 6, 7, 8)),
    "big_bool": np.arange(1500).reshape(30, 50) % 3 == 0,
}


@pytest.mark.parametrize("name", list(VALUES))
def test_values(torch, cpu_device, name):
    _check(torch, VALUES[name], cpu_device)


OPTIONS = {
    "precision2": {"precision": 2},
    "precision0": {"precision": 0},
    "sci_off": {"sci_mode": False},
    "sci_on": {"sci_mode": True},
    "sci_on_p2": {"precision": 2, "sci_mode": True},
    "threshold5": {"threshold": 5},
    "threshold5_edge1": {"threshold": 5, "edgeitems": 1},
    "edge0": {"threshold": 5, "edgeitems": 0},
    "linewidth40": {"linewidth": 40},
    "short": {"profile": "short"},
    "full": {"profile": "full"},
}
OPTION_VALUES = ["tiny", "huge", "integral", "nonfinite_frac", "randn", "long_row_i",
                 "big_1d_f", "big_2d", "big_3d", "bools", "neg_zero_0d"]


@pytest.mark.parametrize("opts", list(OPTIONS))
@pytest.mark.parametrize("name", OPTION_VALUES)
def test_printoptions(torch, opts, name):
    _check(torch, VALUES[name], "numpy", **OPTIONS[opts])


def test_printoptions_reset_sci_mode_and_empty_under_edge0(torch):
    _check(torch, VALUES["tiny"], "numpy", sci_mode=False)
    _check(torch, VALUES["tiny"], "numpy", precision=3)  # every call resets sci_mode
    _check(torch, np.zeros((2, 0)), "numpy", edgeitems=0)


GRAD_CASES = {
    "add": lambda m, x: x + 1,
    "mul": lambda m, x: x * 2,
    "sum": lambda m, x: x.sum(),
    "matmul": lambda m, x: x @ x.T,
    "exp": lambda m, x: m.exp(x),
    "relu": lambda m, x: m.relu(x),
    "reshape": lambda m, x: x.reshape(-1),
    "index": lambda m, x: x[0],
    "transpose": lambda m, x: x.T,
    "mean": lambda m, x: x.mean(0),
}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("case", [None, *GRAD_CASES])
def test_requires_grad_and_grad_fn(torch, cpu_device, dtype, case):
    arr = np.array([[0.5, -1.25, 2.0], [3.5, -0.75, 1.5]], dtype)  # exact in both libraries
    x = ad.tensor(arr, device=cpu_device, requires_grad=True)
    tx = torch.tensor(arr, requires_grad=True)
    if case is not None:
        x, tx = GRAD_CASES[case](ad, x), GRAD_CASES[case](torch, tx)
    ours, theirs = repr(x), repr(tx)
    assert _GRAD_FN.search(ours) if case else ours.endswith("requires_grad=True)")
    assert _norm(ours) == _norm(theirs), (ours, theirs)


TEXTS = ["tensor([1., 2.]", "tensor([[1.2345, 2.3456],\n        [4.5678, 5.6789111111111]",
         "tensor(" + "x" * 60]


@pytest.mark.parametrize("linewidth", [30, 40, 80])
@pytest.mark.parametrize("text", TEXTS)
def test_suffix_wrapping(torch, linewidth, text):
    suffixes = ["device='cpp'", "dtype=torch.float64", "grad_fn=<AddBackward0>"]
    ad.set_printoptions(linewidth=linewidth)
    torch.set_printoptions(linewidth=linewidth)
    expected = torch._tensor_str._add_suffixes(text, suffixes, 7, force_newline=False)
    assert _printing._add_suffixes(text, suffixes, 7) == expected
