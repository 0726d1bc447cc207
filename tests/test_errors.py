"""Bad input: every shape/dtype/device mismatch raises a Python exception whose message names
the shapes, dtypes or devices involved."""

from __future__ import annotations

import re

import numpy as np
import pytest

import autodiff as ad


def z(*shape, device="numpy", dtype=ad.float32):
    return ad.zeros(*shape, device=device, dtype=dtype)


SHAPE_ERRORS = [
    ("matmul", lambda d: z(3, 4, device=d) @ z(5, 2, device=d),
     "matmul: shapes (3, 4) and (5, 2) are not aligned: 4 != 5"),
    ("matmul_vec", lambda d: z(3, device=d) @ z(4, device=d),
     "matmul: shapes (3,) and (4,) are not aligned: 3 != 4"),
    ("matmul_0d", lambda d: z(device=d) @ z(3, device=d), "(3,)"),
    ("matmul_batch", lambda d: z(2, 3, 4, device=d) @ z(3, 4, 5, device=d),
     "(2, 3, 4) and (3, 4, 5)"),
    ("mul", lambda d: z(3, 4, device=d) * z(5, device=d), "mul: cannot broadcast (3, 4) with (5,)"),
    ("add", lambda d: z(3, 4, device=d) + z(3, 1, 2, device=d), "(3, 4) with (3, 1, 2)"),
    ("sub", lambda d: z(2, device=d) - z(3, device=d), "(2,) with (3,)"),
    ("div", lambda d: z(2, device=d) / z(3, device=d), "(2,) with (3,)"),
    ("pow", lambda d: z(2, device=d) ** z(3, device=d), "(2,) with (3,)"),
    ("maximum", lambda d: ad.maximum(z(2, device=d), z(3, device=d)), "(2,) with (3,)"),
    ("compare", lambda d: z(2, device=d) < z(3, device=d), "(2,) with (3,)"),
    ("where", lambda d: ad.where(z(2, device=d) > 0, z(3, device=d), z(2, device=d)),
     "(2,)"),
    ("reshape", lambda d: z(2, 3, device=d).reshape(4, 2), "size 6"),
    ("view", lambda d: z(2, 3, device=d).view(5), "[5]"),
    ("expand", lambda d: z(3, device=d).expand(2, 4), "(3,) to (2, 4)"),
    ("cat", lambda d: ad.cat([z(2, 3, device=d), z(2, 4, device=d)]), "(2, 3), (2, 4)"),
    ("stack", lambda d: ad.stack([z(2, device=d), z(3, device=d)]), "(2,)"),
    ("einsum", lambda d: ad.einsum("ij,jk->ik", z(2, 3, device=d), z(4, 5, device=d)),
     "(2, 3), (4, 5)"),
    ("einsum_ndim", lambda d: ad.einsum("ij,jk->ik", z(2, device=d), z(2, 5, device=d)),
     "'ij'"),
    ("layer_norm", lambda d: ad.layer_norm(z(2, 3, device=d), (4,)), "(2, 3)"),
    ("layer_norm_w", lambda d: ad.layer_norm(z(2, 3, device=d), (3,), z(4, device=d)), "(4,)"),
    ("gather", lambda d: z(2, 3, device=d).gather(1, ad.zeros(3, 3, dtype=ad.int64, device=d)),
     "(3, 3)"),
    ("setitem", lambda d: z(2, 3, device=d).__setitem__(0, z(4, device=d)), "(4,)"),
    ("dot", lambda d: ad.dot(z(2, 2, device=d), z(2, device=d)), "2D"),
    ("bmm", lambda d: z(2, 2, device=d).bmm(z(2, 2, device=d)), "(2, 2)"),
    ("permute", lambda d: z(2, 3, device=d).permute(0), "(0,)"),
    ("split", lambda d: z(5, device=d).split([2, 2]), "[2, 2]"),
    ("inplace", lambda d: z(3, device=d).add_(z(2, 3, device=d)), "(3,)"),
    ("backward_grad", lambda d: (ad.ones(2, device=d, requires_grad=True) * 2).backward(
        z(3, device=d)), "(3,)"),
]


@pytest.mark.parametrize("name,fn,message", SHAPE_ERRORS, ids=[e[0] for e in SHAPE_ERRORS])
def test_shape_errors_name_the_shapes(name, fn, message, device):
    with pytest.raises((ValueError, RuntimeError)) as info:
        fn(device)
    assert message in str(info.value), str(info.value)


def test_shape_error_is_also_runtime_and_value_error():
    with pytest.raises(RuntimeError):
        z(3, 4) @ z(5, 2)
    with pytest.raises(ValueError):
        z(3, 4) * z(5)
    assert issubclass(ad.ShapeError, RuntimeError) and issubclass(ad.ShapeError, ValueError)


INDEX_ERRORS = [
    ("dim", lambda d: z(2, 3, device=d).sum(2), "[-2, 1], but got 2"),
    ("getitem", lambda d: z(3, device=d)[5], "(3,)"),
    ("narrow", lambda d: z(3, device=d).narrow(0, 2, 2), "(3)"),
    ("float_index", lambda d: z(3, device=d)[ad.tensor([0.0], device=d)], "long"),
]


@pytest.mark.parametrize("name,fn,message", INDEX_ERRORS, ids=[e[0] for e in INDEX_ERRORS])
def test_index_errors(name, fn, message, device):
    with pytest.raises(IndexError, match=re.escape(message)):
        fn(device)


DTYPE_ERRORS = [
    ("requires_grad_int", lambda d: ad.ones(2, dtype=ad.int64, device=d).requires_grad_(),
     RuntimeError, "int64"),
    ("mean_int", lambda d: ad.ones(2, dtype=ad.int32, device=d).mean(), TypeError, "int32"),
    ("einsum_dtypes", lambda d: ad.einsum("i,i->", z(2, device=d), z(2, device=d,
                                                                     dtype=ad.float64)),
     TypeError, "float32, float64"),
    ("randn_int", lambda d: ad.randn(2, dtype=ad.int64, device=d), TypeError, "int64"),
    ("unsupported_numpy", lambda d: ad.tensor(np.zeros(2, dtype=np.complex64), device=d),
     TypeError, "complex64"),
    ("default_dtype", lambda d: ad.set_default_dtype(ad.int32), TypeError, "int32"),
    ("ragged", lambda d: ad.tensor([[1.0], [1.0, 2.0]], device=d), ValueError, "inhomogeneous"),
]


@pytest.mark.parametrize("name,fn,exc,message", DTYPE_ERRORS, ids=[e[0] for e in DTYPE_ERRORS])
def test_dtype_errors_name_the_dtypes(name, fn, exc, message, device):
    with pytest.raises(exc, match=re.escape(message)):
        fn(device)


def test_other_errors(device):
    with pytest.raises(RuntimeError, match=r"k \(5\).*size 3"):
        z(3, device=device).topk(5)
    with pytest.raises(ValueError, match="clamp"):
        z(3, device=device).clamp()
    with pytest.raises(ValueError, match="non-empty"):
        ad.cat([])
    with pytest.raises(ValueError, match="step"):
        ad.arange(0, 3, 0, device=device)
    with pytest.raises(TypeError, match="size"):
        ad.randint(5)
    with pytest.raises(ValueError, match="operands"):
        ad.einsum("ij,jk->ik", z(2, 2, device=device))
