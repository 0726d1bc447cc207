"""nn.init.dirac_ and sparse_, and PyTorch's deprecated aliases (FutureWarning), against
torch.nn.init."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import autodiff as ad
from autodiff.nn import init


@pytest.mark.parametrize("shape,groups", [
    ((6, 4, 3), 1), ((4, 6, 3), 1), ((24, 8, 3, 3), 3), ((3, 16, 5, 5), 1),
    ((4, 6, 3, 5, 2), 2), ((6, 1, 4), 3), ((0, 2, 3), 1),
])
def test_dirac_matches_torch(shape, groups, torch):
    ours = ad.randn(*shape) if 0 not in shape else ad.empty(*shape)
    theirs = torch.randn(shape)
    assert init.dirac_(ours, groups) is ours
    torch.nn.init.dirac_(theirs, groups)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_dirac_preserves_the_input_through_a_convolution():
    x = ad.randn(2, 4, 9, 9)
    w = init.dirac_(ad.empty(4, 4, 3, 3))
    np.testing.assert_allclose(ad.nn.functional.conv2d(x, w, padding=1).numpy(), x.numpy(),
                               rtol=1e-6, atol=1e-6)


def test_dirac_keeps_requires_grad_and_records_no_graph():
    w = ad.nn.Parameter(ad.randn(2, 2, 3))
    init.dirac_(w)
    assert w.requires_grad and w.grad_fn is None


@pytest.mark.parametrize("shape,groups,message", [
    ((3, 3), 1, "Only tensors with 3, 4, or 5 dimensions are supported"),
    ((1, 2, 3, 4, 5, 6), 1, "Only tensors with 3, 4, or 5 dimensions are supported"),
    ((5, 2, 3), 2, "dim 0 must be divisible by groups"),
])
def test_dirac_errors_match_torch(shape, groups, message, torch):
    with pytest.raises(ValueError, match=message):
        init.dirac_(ad.empty(*shape), groups)
    with pytest.raises(ValueError, match=message):
        torch.nn.init.dirac_(torch.empty(shape), groups)


@pytest.mark.parametrize("rows,cols,sparsity", [(10, 6, 0.3), (7, 3, 0.0), (5, 4, 1.0),
                                                (9, 2, 0.5)])
def test_sparse_zeroes_as_many_per_column_as_torch(rows, cols, sparsity, torch):
    ours = init.sparse_(ad.empty(rows, cols), sparsity, std=0.5)
    theirs = torch.nn.init.sparse_(torch.empty(rows, cols), sparsity, std=0.5)
    np.testing.assert_array_equal((ours.numpy() == 0).sum(0), (theirs.numpy() == 0).sum(0))
    nonzero = ours.numpy()[ours.numpy() != 0]
    if nonzero.size > 20:
        assert 0.2 < nonzero.std() < 1.0


def test_sparse_is_reproducible_with_a_generator():
    a = init.sparse_(ad.empty(8, 5), 0.4, generator=ad.Generator().manual_seed(3))
    b = init.sparse_(ad.empty(8, 5), 0.4, generator=ad.Generator().manual_seed(3))
    np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_sparse_error_matches_torch(torch):
    with pytest.raises(ValueError, match="Only tensors with 2 dimensions are supported"):
        init.sparse_(ad.empty(3), 0.1)
    with pytest.raises(ValueError, match="Only tensors with 2 dimensions are supported"):
        torch.nn.init.sparse_(torch.empty(3), 0.1)


ALIASES = [
    ("uniform", lambda t: (t, -1.0, 1.0)),
    ("normal", lambda t: (t, 0.0, 2.0)),
    ("constant", lambda t: (t, 0.25)),
    ("xavier_uniform", lambda t: (t,)),
    ("xavier_normal", lambda t: (t,)),
    ("kaiming_uniform", lambda t: (t,)),
    ("kaiming_normal", lambda t: (t,)),
    ("orthogonal", lambda t: (t,)),
    ("sparse", lambda t: (t, 0.5)),
    ("eye", lambda t: (t,)),
    ("dirac", lambda t: (t.reshape(4, 6, 1),)),
]


@pytest.mark.parametrize("name,args", ALIASES, ids=[a[0] for a in ALIASES])
def test_deprecated_aliases_warn_like_torch_and_call_the_underscore_form(name, args, torch):
    message = f"`nn.init.{name}` is now deprecated in favor of `nn.init.{name}_`."
    for lib, make in ((init, lambda: ad.empty(4, 6)), (torch.nn.init,
                                                       lambda: torch.empty(4, 6))):
        alias = getattr(lib, name)
        assert alias.__name__ == name
        with pytest.warns(FutureWarning, match=message.replace("(", r"\(")) as record:
            alias(*args(make()))
        assert record[0].filename == __file__  # stacklevel points at the caller
    ad.manual_seed(5)
    t = ad.empty(4, 6)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        out = getattr(init, name)(*args(t))
    ad.manual_seed(5)
    expect = getattr(init, f"{name}_")(*args(ad.empty(4, 6)))
    np.testing.assert_array_equal(out.numpy(), expect.numpy())


def test_every_torch_init_function_exists(torch):
    names = [n for n in dir(torch.nn.init) if not n.startswith("_")
             and callable(getattr(torch.nn.init, n))
             and getattr(torch.nn.init, n).__module__ == "torch.nn.init"]
    assert [n for n in names if not hasattr(init, n)] == []
