"""Second-order gradients (gradgradcheck) for a representative set of ops, and the checkers
themselves: they return True on correct gradients and raise naming the worst element."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import Case, check_gradgrad

import autodiff as ad


def _ln(x, w, b):
    return ad.layer_norm(x, (4,), w, b)


POS = {"low": 0.5, "high": 2.0}
CASES = [
    Case("mul", lambda a, b: a * b, None, (3, 4), (4,)),
    Case("div", lambda a, b: a / b, None, (3, 4), (3, 1), **POS),
    Case("exp", ad.exp, None, (3, 4)),
    Case("log", ad.log, None, (3, 4), **POS),
    Case("tanh", ad.tanh, None, (3, 4)),
    Case("sigmoid", ad.sigmoid, None, (3, 4)),
    Case("sqrt", ad.sqrt, None, (3, 4), **POS),
    Case("sin", ad.sin, None, (3, 4)),
    Case("pow", lambda a, b: a ** b, None, (3, 4), (4,), **POS),
    Case("pow_scalar", lambda a: a ** 3, None, (3, 4)),
    Case("matmul", lambda a, b: a @ b, None, (2, 3, 4), (4, 2)),
    Case("matmul_vec", lambda a, b: a @ b, None, (3, 4), (4,)),
    Case("einsum", lambda a, b: ad.einsum("bij,bjk->bik", a, b), None, (2, 2, 3), (2, 3, 2)),
    Case("softmax", lambda x: x.softmax(-1), None, (3, 4)),
    Case("log_softmax", lambda x: x.log_softmax(0), None, (3, 4)),
    Case("layer_norm", _ln, None, (3, 4), (4,), (4,), gtol={"atol": 1e-4}),
    Case("sum", lambda x: (x * x).sum(1), None, (3, 4)),
    Case("mean", lambda x: (x * x).mean(), None, (3, 4)),
    Case("var", lambda x: x.var(1), None, (3, 4)),
    Case("logsumexp", lambda x: x.logsumexp(-1), None, (3, 4)),
    Case("norm", lambda x: x.norm(dim=1), None, (3, 4)),
    Case("getitem_cat", lambda x: ad.cat([x[1:], x[:1] * x[:1]]), None, (3, 4)),
    Case("where_max", lambda x: ad.where(x > 0, x * x, x.exp()).amax(0), None, (3, 4)),
]


@pytest.mark.parametrize("case", [pytest.param(c, id=c.name) for c in CASES])
def test_gradgradcheck(case, device):
    check_gradgrad(case, device)


def test_third_order_of_cube(device):
    x = ad.tensor([1.5, -2.0], dtype=ad.float64, device=device, requires_grad=True)
    (g1,) = ad.grad((x ** 3).sum(), x, create_graph=True)
    (g2,) = ad.grad(g1.sum(), x, create_graph=True)
    (g3,) = ad.grad(g2.sum(), x)
    np.testing.assert_allclose(g1.cpu().numpy(), 3 * x.cpu().numpy() ** 2)
    np.testing.assert_allclose(g2.cpu().numpy(), 6 * x.cpu().numpy())
    np.testing.assert_allclose(g3.cpu().numpy(), [6.0, 6.0])


class _WrongSquare(ad.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * x  # should be 2 * g * x


def test_gradcheck_raises_naming_the_worst_element():
    x = ad.tensor([1.0, 3.0], dtype=ad.float64, requires_grad=True)
    with pytest.raises(ad.autograd.GradcheckError, match=r"element 1.*numerical 6.*analytical 3"):
        ad.autograd.gradcheck(_WrongSquare.apply, (x,))
    assert ad.autograd.gradcheck(_WrongSquare.apply, (x,), raise_exception=False) is False


def test_gradcheck_returns_true_and_rejects_no_grad_inputs():
    x = ad.tensor([1.0, 3.0], dtype=ad.float64, requires_grad=True)
    assert ad.autograd.gradcheck(lambda t: t.exp(), (x,)) is True
    assert ad.autograd.gradgradcheck(lambda t: t.exp(), (x,)) is True
    with pytest.raises(ValueError, match="requires grad"):
        ad.autograd.gradcheck(lambda t: t.exp(), (x.detach(),))


def test_gradcheck_warns_on_float32():
    x = ad.tensor([1.0, 3.0], requires_grad=True)
    with pytest.warns(UserWarning, match="float32"):
        ad.autograd.gradcheck(lambda t: t * 2, (x,), eps=1e-2, atol=1e-2)


def test_gradgradcheck_catches_wrong_second_derivative():
    class DetachedGrad(ad.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 3

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * 3 * (x * x).detach()  # first order right, second order wrong

    x = ad.tensor([1.0, 2.0], dtype=ad.float64, requires_grad=True)
    assert ad.autograd.gradcheck(DetachedGrad.apply, (x,))
    with pytest.raises(ad.autograd.GradcheckError):
        ad.autograd.gradgradcheck(DetachedGrad.apply, (x,))


def test_gradcheck_takes_pytorchs_keywords_and_checks_forward_mode():
    """PyTorch code passes check_forward_ad= / check_backward_ad= / check_batched_grad= (all
    keyword-only); a TypeError before."""

    class Exp(ad.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.result = x.exp()
            return ctx.result

        @staticmethod
        def jvp(ctx, g):
            return g * ctx.result * Exp.scale

    x = ad.tensor([0.5, -1.0, 2.0], dtype=ad.float64, requires_grad=True)
    kw = {"check_forward_ad": True, "check_backward_ad": False, "check_undefined_grad": False,
          "check_batched_grad": False}
    Exp.scale = 1.0
    assert ad.autograd.gradcheck(Exp.apply, (x,), **kw)
    Exp.scale = 2.0  # a wrong jvp
    with pytest.raises(ad.autograd.GradcheckError, match="Jacobian computed with forward mode "
                       "mismatch"):
        ad.autograd.gradcheck(Exp.apply, (x,), **kw)
    assert ad.autograd.gradcheck(lambda t: t.sin(), (x,), check_forward_ad=True,
                                 check_batched_grad=True, fast_mode=False, masked=None)
    assert ad.autograd.gradgradcheck(lambda t: t.sin(), (x,), check_fwd_over_rev=False,
                                     check_rev_over_rev=True, nondet_tol=0.0)
    with pytest.raises(TypeError):
        ad.autograd.gradcheck(lambda t: t.sin(), (x,), 1e-6)  # keyword-only, as PyTorch
