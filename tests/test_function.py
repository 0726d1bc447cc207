"""Custom autograd Functions: save_for_backward/saved_tensors, needs_input_grad, multiple
outputs, non-tensor arguments, mark_non_differentiable, gradcheck through them."""

from __future__ import annotations

import numpy as np
import pytest

import autodiff as ad


def leaf(values, device="numpy"):
    return ad.tensor(values, dtype=ad.float64, device=device, requires_grad=True)


class Square(ad.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return 2 * x * g


class ScaledMul(ad.autograd.Function):
    """z = scale * a * b with a non-tensor argument; records needs_input_grad."""

    seen = None

    @staticmethod
    def forward(ctx, a, b, scale):
        ctx.save_for_backward(a, b)
        ctx.scale = scale
        ScaledMul.seen = ctx.needs_input_grad
        return a * b * scale

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        ga = g * b * ctx.scale if ctx.needs_input_grad[0] else None
        gb = g * a * ctx.scale if ctx.needs_input_grad[1] else None
        return ga, gb, None


class SinCos(ad.autograd.Function):
    """Two outputs."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.sin(), x.cos()

    @staticmethod
    def backward(ctx, gs, gc):
        (x,) = ctx.saved_tensors
        return gs * x.cos() - gc * x.sin()


class ExpSavedOutput(ad.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        y = x.exp()
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return g * y


class SortWithIndex(ad.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        values, idx = x.sort()
        ctx.mark_non_differentiable(idx)
        ctx.save_for_backward(idx)
        ctx.n = x.shape[0]
        return values, idx

    @staticmethod
    def backward(ctx, gv, gi):
        (idx,) = ctx.saved_tensors
        return ad.zeros(ctx.n, dtype=gv.dtype, device=gv.device).scatter_add(0, idx, gv)


def test_save_for_backward_and_saved_tensors(device):
    x = leaf([1.0, -2.0], device)
    y = Square.apply(x)
    assert y.requires_grad and "Square" in y.grad_fn.name()
    y.sum().backward()
    assert x.grad.tolist() == [2.0, -4.0]


def test_needs_input_grad_and_non_tensor_args(device):
    a = leaf([1.0, 2.0], device)
    b = ad.tensor([3.0, 4.0], dtype=ad.float64, device=device)
    ScaledMul.apply(a, b, 0.5).sum().backward()
    assert ScaledMul.seen == (True, False, False)
    assert a.grad.tolist() == [1.5, 2.0]


def test_multiple_outputs(device):
    x = leaf([0.3, 1.2], device)
    s, c = SinCos.apply(x)
    (s * 2 + c * 3).sum().backward()
    xs = x.cpu().numpy()
    np.testing.assert_allclose(x.grad.cpu().numpy(), 2 * np.cos(xs) - 3 * np.sin(xs))


def test_multiple_outputs_only_one_used(device):
    x = leaf([0.3, 1.2], device)
    s, _ = SinCos.apply(x)
    s.sum().backward()
    np.testing.assert_allclose(x.grad.cpu().numpy(), np.cos(x.cpu().numpy()))


def test_saved_output(device):
    x = leaf([0.0, 1.0], device)
    ExpSavedOutput.apply(x).sum().backward()
    np.testing.assert_allclose(x.grad.cpu().numpy(), np.exp([0.0, 1.0]))


def test_mark_non_differentiable(device):
    x = leaf([3.0, 1.0, 2.0], device)
    values, idx = SortWithIndex.apply(x)
    assert values.requires_grad and not idx.requires_grad
    (values * ad.tensor([1.0, 2.0, 3.0], dtype=ad.float64, device=device)).sum().backward()
    assert x.grad.tolist() == [3.0, 1.0, 2.0]


@pytest.mark.parametrize("fn", [Square, SinCos, ExpSavedOutput],
                         ids=["Square", "SinCos", "ExpSavedOutput"])
def test_gradcheck_custom_function(fn, device):
    x = leaf([0.3, -1.2, 0.7], device)
    assert ad.autograd.gradcheck(fn.apply, (x,))


def test_gradgradcheck_custom_function(device):
    x = leaf([0.3, -1.2, 0.7], device)
    assert ad.autograd.gradgradcheck(Square.apply, (x,))


def test_function_without_grad_inputs_records_nothing(device):
    y = Square.apply(ad.tensor([2.0], device=device))
    assert not y.requires_grad and y.grad_fn is None


def test_custom_function_saved_tensor_modified_in_place_raises(device):
    x = leaf([1.0, 2.0], device)
    h = x * 1
    y = Square.apply(h)
    h.add_(1)
    with pytest.raises(RuntimeError, match="inplace"):
        y.sum().backward()


def test_custom_function_second_backward_raises(device):
    x = leaf([1.0, 2.0], device)
    y = Square.apply(x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        y.backward()


def test_wrong_number_of_grads_raises(device):
    class Bad(ad.autograd.Function):
        @staticmethod
        def forward(ctx, a, b):
            return a * b

        @staticmethod
        def backward(ctx, g):
            return g

    a, b = leaf([1.0], device), leaf([2.0], device)
    with pytest.raises(RuntimeError, match="incorrect number of gradients"):
        Bad.apply(a, b).sum().backward()


def test_wrong_grad_shape_raises(device):
    class Bad(ad.autograd.Function):
        @staticmethod
        def forward(ctx, a):
            return a * 2

        @staticmethod
        def backward(ctx, g):
            return g.sum()

    with pytest.raises(RuntimeError, match=r"\(2,\)"):
        Bad.apply(leaf([1.0, 2.0], device)).sum().backward()


def test_once_differentiable_backward_runs_without_grad():
    from autodiff.autograd.function import once_differentiable

    class Square(ad.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        @once_differentiable
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return 2 * x * g

    x = ad.tensor([3.0], requires_grad=True)
    (g,) = ad.autograd.grad(Square.apply(x).sum(), x, create_graph=True)
    assert g.tolist() == [6.0] and not g.requires_grad
    assert Square.backward.__name__ == "backward"
