"""Shape and data-movement ops, indexing (ints, slices, None, Ellipsis, bool masks, integer
arrays) and setitem: forward against NumPy and gradcheck in float64 on every device."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import (
    Case,
    op_table_tests,
)

import autodiff as ad

MASK = np.array([[True, False, True, True], [False, False, True, False],
                 [True, True, False, False]])
ROW_MASK = np.array([True, False, True])
IDX = np.array([2, 0, 2])  # a repeated index: its gradient accumulates
GATHER_IDX = np.array([[0, 2, 1, 0], [2, 2, 0, 1], [1, 0, 0, 2]])


def _idx(a, like):
    return ad.tensor(a, device=like.device)


def _set(x, idx, v):
    y = x.copy()
    y[idx] = v
    return y


def _setitem(idx):
    """y = x * 1 with y[idx] = v (setitem on a non-leaf, differentiable in x and v)."""

    def fn(x, v):
        y = x * 1
        y[idx] = v
        return y

    return fn


def _setitem_scalar(x):
    y = x * 1
    y[0, 1:] = 0.5
    return y


def _np_pad(x, widths):
    return np.pad(x, widths)


def _np_scatter_add(x, dim, index, src):
    out = x.copy()
    for pos in np.ndindex(index.shape):
        target = list(pos)
        target[dim] = index[pos]
        out[tuple(target)] += src[pos]
    return out


def _np_repeat_interleave(x, r, axis):
    return np.repeat(x, r, axis=axis)


CASES = [
    Case("reshape", lambda x: x.reshape(4, 3), lambda x: x.reshape(4, 3), (3, 4)),
    Case("reshape_infer", lambda x: x.reshape(-1), lambda x: x.reshape(-1), (2, 3, 4)),
    Case("view_tuple", lambda x: x.view((2, 6)), lambda x: x.reshape(2, 6), (3, 4),
         layouts=("contig",)),
    Case("flatten", lambda x: x.flatten(), lambda x: x.reshape(-1), (2, 3, 4)),
    Case("flatten_1", lambda x: x.flatten(1), lambda x: x.reshape(2, 12), (2, 3, 4)),
    Case("flatten_0_1", lambda x: x.flatten(0, 1), lambda x: x.reshape(6, 4), (2, 3, 4)),
    Case("unflatten", lambda x: x.unflatten(1, (2, 2)), lambda x: x.reshape(3, 2, 2), (3, 4)),
    Case("squeeze", lambda x: x.squeeze(), np.squeeze, (3, 1, 4, 1)),
    Case("squeeze_dim", lambda x: x.squeeze(1), lambda x: x.squeeze(1), (3, 1, 4)),
    Case("unsqueeze", lambda x: x.unsqueeze(0), lambda x: x[None], (3, 4)),
    Case("unsqueeze_neg", lambda x: x.unsqueeze(-1), lambda x: x[..., None], (3, 4)),
    Case("permute", lambda x: x.permute(2, 0, 1), lambda x: x.transpose(2, 0, 1), (2, 3, 4)),
    Case("transpose", lambda x: x.transpose(0, 2), lambda x: x.swapaxes(0, 2), (2, 3, 4)),
    Case("t", lambda x: x.t(), lambda x: x.T, (3, 4)),
    Case("T", lambda x: x.T, lambda x: x.T, (2, 3, 4)),
    Case("mT", lambda x: x.mT, lambda x: x.swapaxes(-1, -2), (2, 3, 4)),
    Case("movedim", lambda x: x.movedim(0, -1), lambda x: np.moveaxis(x, 0, -1), (2, 3, 4)),
    Case("expand", lambda x: x.expand(2, 3, 4), lambda x: np.broadcast_to(x, (2, 3, 4)),
         (3, 1)),
    Case("expand_neg1", lambda x: x.expand(-1, 4), lambda x: np.broadcast_to(x, (3, 4)),
         (3, 1)),
    Case("broadcast_to", lambda x: x.broadcast_to((2, 3, 4)),
         lambda x: np.broadcast_to(x, (2, 3, 4)), (4,)),
    Case("expand_as", lambda x, y: x.expand_as(y), lambda x, y: np.broadcast_to(x, y.shape),
         (1, 4), (3, 4)),
    Case("repeat", lambda x: x.repeat(2, 3), lambda x: np.tile(x, (2, 3)), (3, 4)),
    Case("repeat_newdim", lambda x: x.repeat(2, 1, 1), lambda x: np.tile(x, (2, 1, 1)), (3, 4)),
    Case("tile", lambda x: x.tile(2), lambda x: np.tile(x, 2), (3, 4)),
    Case("repeat_interleave", lambda x: x.repeat_interleave(2, dim=0),
         lambda x: np.repeat(x, 2, axis=0), (3, 4)),
    Case("cat", lambda a, b: ad.cat([a, b]), lambda a, b: np.concatenate([a, b]), (3, 4),
         (2, 4)),
    Case("cat_dim1_3", lambda a, b, c: ad.cat([a, b, c], dim=1),
         lambda a, b, c: np.concatenate([a, b, c], 1), (3, 4), (3, 1), (3, 2)),
    Case("cat_neg", lambda a, b: ad.cat((a, b), -1), lambda a, b: np.concatenate([a, b], -1),
         (2, 3, 4), (2, 3, 1)),
    Case("stack", lambda a, b: ad.stack([a, b]), lambda a, b: np.stack([a, b]), (3, 4), (3, 4)),
    Case("stack_last", lambda a, b: ad.stack([a, b], dim=-1),
         lambda a, b: np.stack([a, b], -1), (3, 4), (3, 4)),
    Case("split", lambda x: x.split(2, dim=1), lambda x: tuple(np.split(x, 2, 1)), (3, 4)),
    Case("split_sizes", lambda x: x.split([1, 2], 0), lambda x: (x[:1], x[1:]), (3, 4)),
    Case("chunk", lambda x: x.chunk(2, -1), lambda x: tuple(np.split(x, 2, -1)), (3, 4)),
    Case("unbind", lambda x: x.unbind(1), lambda x: tuple(x[:, i] for i in range(4)), (3, 4)),
    Case("narrow", lambda x: x.narrow(1, 1, 2), lambda x: x[:, 1:3], (3, 4)),
    Case("select", lambda x: x.select(0, -1), lambda x: x[-1], (3, 4)),
    Case("flip", lambda x: x.flip(0), lambda x: np.flip(x, 0), (3, 4)),
    Case("flip_dims", lambda x: x.flip((0, 1)), lambda x: np.flip(x, (0, 1)), (3, 4)),
    Case("pad", lambda x: ad.pad(x, (1, 2)), lambda x: _np_pad(x, ((0, 0), (1, 2))), (3, 4)),
    Case("pad_2d", lambda x: ad.pad(x, (0, 1, 2, 0)),
         lambda x: _np_pad(x, ((2, 0), (0, 1))), (3, 4)),
    Case("pad_negative", lambda x: ad.pad(x, (-1, 1)),
         lambda x: _np_pad(x[:, 1:], ((0, 0), (0, 1))), (3, 4)),
    Case("pad_value", lambda x: ad.pad(x, (1, 1), value=2.0),
         lambda x: np.pad(x, ((0, 0), (1, 1)), constant_values=2.0), (3, 4)),
    Case("gather", lambda x: x.gather(1, _idx(GATHER_IDX[:, :3], x)),
         lambda x: np.take_along_axis(x, GATHER_IDX[:, :3], 1), (3, 4)),
    Case("gather_dim0", lambda x: x.gather(0, _idx(GATHER_IDX[:2] % 3, x)),
         lambda x: np.take_along_axis(x, GATHER_IDX[:2] % 3, 0), (3, 4)),
    Case("scatter_add", lambda x, s: x.scatter_add(1, _idx(GATHER_IDX, x), s),
         lambda x, s: _np_scatter_add(x, 1, GATHER_IDX, s), (3, 4), (3, 4)),
    Case("scatter_add_small_src", lambda x, s: x.scatter_add(0, _idx(GATHER_IDX[:2], x), s),
         lambda x, s: _np_scatter_add(x, 0, GATHER_IDX[:2], s[:2]), (3, 4), (3, 4)),
    Case("tril", lambda x: x.tril(), np.tril, (4, 4)),
    Case("triu_k", lambda x: x.triu(1), lambda x: np.triu(x, 1), (3, 4)),
    Case("tril_batched", lambda x: ad.tril(x, -1), lambda x: np.tril(x, -1), (2, 3, 4)),
    Case("clone", lambda x: x.clone(), np.copy, (3, 4)),
    Case("contiguous", lambda x: x.contiguous(), np.ascontiguousarray, (3, 4)),
    Case("sort", lambda x: tuple(x.sort(1)), lambda x: (np.sort(x, 1), np.argsort(x, 1)),
         (3, 4)),
    Case("sort_desc", lambda x: x.sort(0, descending=True).values,
         lambda x: -np.sort(-x, 0), (3, 4)),
    Case("topk", lambda x: tuple(x.topk(2)),
         lambda x: (-np.sort(-x, -1)[:, :2], np.argsort(-x, -1)[:, :2]), (3, 4)),
    Case("topk_smallest", lambda x: x.topk(2, dim=0, largest=False).values,
         lambda x: np.sort(x, 0)[:2], (3, 4)),
    # indexing
    Case("getitem_int", lambda x: x[1], lambda x: x[1], (3, 4)),
    Case("getitem_neg_int", lambda x: x[-1, 2], lambda x: x[-1, 2], (3, 4)),
    Case("getitem_slice", lambda x: x[1:, ::2], lambda x: x[1:, ::2], (3, 4)),
    Case("getitem_none", lambda x: x[None, :, None], lambda x: x[None, :, None], (3, 4)),
    Case("getitem_ellipsis", lambda x: x[..., 1], lambda x: x[..., 1], (2, 3, 4)),
    Case("getitem_ellipsis_none", lambda x: x[0, ..., None], lambda x: x[0, ..., None],
         (2, 3, 4)),
    # index tensors on the host: they index a tensor on any device, as in PyTorch
    Case("getitem_mask", lambda x: x[ad.tensor(MASK, device="cpu")], lambda x: x[MASK], (3, 4)),
    Case("getitem_row_mask", lambda x: x[ROW_MASK], lambda x: x[ROW_MASK], (3, 4)),
    Case("getitem_int_array", lambda x: x[IDX], lambda x: x[IDX], (3, 4)),
    Case("getitem_int_tensor", lambda x: x[ad.tensor(IDX, device="cpu")], lambda x: x[IDX],
         (3, 4)),
    Case("getitem_list", lambda x: x[[0, 0, 1]], lambda x: x[[0, 0, 1]], (3, 4)),
    Case("getitem_two_arrays", lambda x: x[IDX, [1, 3, 1]], lambda x: x[IDX, [1, 3, 1]],
         (3, 4)),
    Case("getitem_array_slice", lambda x: x[1:, IDX[:2]], lambda x: x[1:, IDX[:2]], (3, 4)),
    Case("getitem_computed_mask", lambda x: x[x > 0], lambda x: x[x > 0], (3, 4)),
    Case("setitem_slice", _setitem((slice(1, None), slice(None, None, 2))),
         lambda x, v: _set(x, (slice(1, None), slice(None, None, 2)), v), (3, 4), (2,)),
    Case("setitem_int", _setitem(1), lambda x, v: _set(x, 1, v), (3, 4), (4,)),
    Case("setitem_mask", _setitem(MASK), lambda x, v: _set(x, MASK, v), (3, 4), ()),
    Case("setitem_int_array", _setitem((np.array([0, 2]),)),
         lambda x, v: _set(x, np.array([0, 2]), v), (3, 4), (2, 4)),
    Case("setitem_scalar", _setitem_scalar, lambda x: _set(x, (0, slice(1, None)), 0.5),
         (3, 4)),
    # zero-size
    Case("reshape_empty", lambda x: x.reshape(3, 0), lambda x: x.reshape(3, 0), (0, 3),
         layouts=("contig",)),
    Case("cat_empty", lambda a, b: ad.cat([a, b]), lambda a, b: np.concatenate([a, b]), (0, 4),
         (2, 4), layouts=("contig",)),
    Case("getitem_empty", lambda x: x[2:2], lambda x: x[2:2], (3, 4), layouts=("contig",)),
    Case("permute_empty", lambda x: x.permute(1, 0), lambda x: x.T, (0, 4), layouts=("contig",)),
    Case("expand_empty", lambda x: x.expand(0, 4), lambda x: np.broadcast_to(x, (0, 4)), (1, 4),
         layouts=("contig",)),
]


test_forward, test_forward_noncontiguous, test_gradcheck = op_table_tests(CASES)


def test_argsort(device):
    x = ad.tensor([[3.0, 1.0, 2.0], [0.0, 5.0, 4.0]], device=device)
    assert x.argsort().tolist() == [[1, 2, 0], [0, 2, 1]]
    assert x.argsort(dim=0, descending=True).tolist() == [[0, 1, 1], [1, 0, 0]]
    assert x.argsort().dtype == ad.int64


def test_getitem_repeated_index_accumulates_grad(device):
    x = ad.zeros(3, device=device, requires_grad=True)
    x[[0, 0, 2, 0]].sum().backward()
    assert x.grad.tolist() == [3.0, 0.0, 1.0]


def test_gather_backward_adds_repeats_and_scatter_add_leaves_its_input(device):
    """gather's backward scatters into zeros of its own, in place; a user's scatter_add
    returns a new tensor and leaves x as it was."""
    x = ad.arange(12.0, device=device).reshape(3, 4).requires_grad_()
    idx = ad.tensor([[0, 0, 3], [1, 2, 1], [3, 3, 3]], device=device)
    x.gather(1, idx).backward(ad.ones(3, 3, device=device) * 2)
    assert x.grad.tolist() == [[4, 0, 0, 2], [0, 4, 2, 0], [0, 0, 0, 6]]
    base = ad.zeros(3, 4, device=device)
    out = base.scatter_add(1, idx, ad.ones(3, 3, device=device))
    assert base.tolist() == [[0.0] * 4] * 3 and out.sum().item() == 9


def test_views_share_memory_and_version(device):
    x = ad.arange(6.0, device=device).reshape(2, 3)
    v = x[0]
    x.add_(1)
    assert v.tolist() == [1.0, 2.0, 3.0]
    assert v._version == x._version == 1


def test_setitem_without_grad(device):
    x = ad.zeros(2, 3, device=device)
    x[0] = 1.0
    x[1, ::2] = ad.tensor([5.0, 6.0], device=device)
    x[:, 1] += 2
    assert x.tolist() == [[1.0, 3.0, 1.0], [5.0, 2.0, 6.0]]


def test_setitem_grad_matches_out_of_place(device):
    """y[1] = v on a non-leaf gives the same grads as the torch.where-style formulation."""
    a = ad.tensor(np.arange(6.0).reshape(2, 3), device=device, requires_grad=True)
    v = ad.tensor([1.0, 2.0, 3.0], device=device, requires_grad=True)
    y = a * 2
    y[1] = v * v
    (y * ad.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], device=device)).sum().backward()
    assert a.grad.tolist() == [[2.0, 4.0, 6.0], [0.0, 0.0, 0.0]]
    assert v.grad.tolist() == [8.0, 20.0, 36.0]


def test_getitem_negative_step_raises_as_in_pytorch():
    with pytest.raises(ValueError, match="step must be greater than zero"):
        ad.ones(3, 4)[::-1]


@pytest.mark.parametrize("shape,dim", [((3, 20), 1), ((4, 64), 1), ((2, 200), -1), ((300, 3), 0),
                                       ((2, 1025), 1), ((5, 2, 33), 1)])
@pytest.mark.parametrize("descending", [False, True])
def test_sort_matches_torch(device, torch, shape, dim, descending):
    """Both the C++ radix sort (short and long rows) and NumPy's (rows of 33 to ~150 floats);
    values, indices and the gradient, which goes back through the indices."""
    rng = np.random.default_rng(len(shape) * 100 + shape[-1])
    a = rng.standard_normal(shape).astype(np.float32)
    g = rng.standard_normal(shape).astype(np.float32)
    x = ad.tensor(a, device=device, requires_grad=True)
    t = torch.tensor(a, requires_grad=True)
    v, i = x.sort(dim, descending=descending)
    tv, ti = t.sort(dim, descending=descending)
    np.testing.assert_array_equal(v.detach().numpy(), tv.detach().numpy())
    np.testing.assert_array_equal(i.numpy(), ti.numpy())
    (v * ad.tensor(g, device=device)).sum().backward()
    (tv * torch.tensor(g)).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), t.grad.numpy())


@pytest.mark.parametrize("dtype", ["int32", "int64"])
@pytest.mark.parametrize("n", [20, 100, 500])
def test_sort_integers_matches_torch(device, torch, dtype, n):
    a = np.random.default_rng(n).integers(-50, 50, (3, n)).astype(dtype)  # many ties
    for descending in (False, True):
        v, i = ad.tensor(a, device=device).sort(dim=1, descending=descending, stable=True)
        tv, ti = torch.tensor(a).sort(dim=1, descending=descending, stable=True)
        assert v.dtype == getattr(ad, dtype)
        np.testing.assert_array_equal(v.numpy(), tv.numpy())
        np.testing.assert_array_equal(i.numpy(), ti.numpy())
