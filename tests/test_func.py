"""ad.func (torch.func's transforms) against torch.func in float64: grad, grad_and_value, vjp,
jvp, jacrev, jacfwd, hessian, vmap (composed with grad for per-sample gradients),
functional_call and stack_module_state, with PyTorch's error cases."""

from __future__ import annotations

from collections import namedtuple

import numpy as np
import pytest

import autodiff as ad
from autodiff import func as F

# torch's forward AD (inside torch.func.jvp/jacfwd/hessian) loads its decompositions with
# torch.jit.script, which warns that it is deprecated: the oracle's warning, not ours
pytestmark = pytest.mark.filterwarnings(
    "ignore:`torch.jit.script` is deprecated:DeprecationWarning")

Pair = namedtuple("Pair", ["a", "b"])


def _pair(torch, *shape, seed=0):
    a = np.random.default_rng(seed + sum(shape)).standard_normal(shape)
    return ad.tensor(a, dtype=ad.float64), torch.tensor(a)


def _close(a, b, tol=1e-10):
    a = a.detach().numpy() if isinstance(a, ad.Tensor) else np.asarray(a)
    b = b.detach().numpy()
    assert a.shape == b.shape, (a.shape, b.shape)
    np.testing.assert_allclose(a, b, rtol=tol, atol=tol)


def _close_tree(a, b, tol=1e-10):
    la, sa = F.tree_flatten(a)
    lb, _ = F.tree_flatten(b)
    assert len(la) == len(lb), (sa, len(lb))
    for x, y in zip(la, lb):
        _close(x, y, tol)


FUNCS = {  # scalar functions of a vector, written once for both libraries
    "sin_x": lambda x: (x.sin() * x).sum(),
    "softmax": lambda x: (x.softmax(-1) * x.exp()).sum(),
    "norm": lambda x: (x * x).sum().sqrt(),
    "tanh_max": lambda x: x.tanh().max() + x.mean(),
}


@pytest.mark.parametrize("name", list(FUNCS))
def test_grad_hessian_match_torch(torch, name):
    f = FUNCS[name]
    x, tx = _pair(torch, 5)
    _close(F.grad(f)(x), torch.func.grad(f)(tx))
    _close(F.hessian(f)(x), torch.func.hessian(f)(tx))
    g, v = F.grad_and_value(f)(x)
    tg, tv = torch.func.grad_and_value(f)(tx)
    _close(g, tg)
    _close(v, tv)


def test_grad_argnums_pytrees_and_aux(torch):
    (x, tx), (y, ty) = _pair(torch, 3), _pair(torch, 2, seed=1)

    def f(p, scale):
        loss = (p["w"].exp().sum() * p["b"][0].sin().sum() + p["b"][1].sum()) * scale.sum()
        return loss, {"double": 2 * loss}

    pa, pt = {"w": x, "b": [y, y * 3]}, {"w": tx, "b": [ty, ty * 3]}
    ga, aux = F.grad(f, argnums=(0, 1), has_aux=True)(pa, x)
    gt, taux = torch.func.grad(f, argnums=(0, 1), has_aux=True)(pt, tx)
    assert isinstance(ga, tuple) and set(ga[0]) == {"w", "b"} and isinstance(ga[0]["b"], list)
    _close_tree(ga, gt)
    _close_tree(aux, taux)
    g1, (v1, a1) = F.grad_and_value(f, argnums=-1, has_aux=True)(pa, x)
    tg1, (tv1, ta1) = torch.func.grad_and_value(f, argnums=-1, has_aux=True)(pt, tx)
    _close(g1, tg1)
    _close(v1, tv1)
    _close_tree(a1, ta1)
    assert not aux["double"].requires_grad  # nothing outside tracks it, as in PyTorch


def test_grad_unused_input_is_zero_and_kwargs_pass_through(torch):
    (x, tx), (y, ty) = _pair(torch, 3), _pair(torch, 4)
    f = lambda a, b, k=1.0: (a * k).sum()
    ga = F.grad(f, argnums=(0, 1))(x, y, k=3.0)
    gt = torch.func.grad(f, argnums=(0, 1))(tx, ty, k=3.0)
    _close_tree(ga, gt)


def test_grad_of_grad_and_outer_autograd(torch):
    (x, tx) = _pair(torch, 4)
    _close(F.grad(F.grad(lambda s: s.sin() * s))(x[1]),
           torch.func.grad(torch.func.grad(lambda s: s.sin() * s))(tx[1]))
    f = FUNCS["sin_x"]
    assert F.grad(f)(x).grad_fn is None
    xr, txr = x.detach().requires_grad_(), tx.clone().requires_grad_()
    ga, gt = F.grad(f)(xr), torch.func.grad(f)(txr)
    assert ga.requires_grad and gt.requires_grad
    (ga * ga).sum().backward()
    (gt * gt).sum().backward()
    _close(xr.grad, txr.grad)


def test_grad_errors(torch):
    x, _ = _pair(torch, 3)
    with pytest.raises(RuntimeError, match="Expected f\\(\\*args\\) to return a scalar Tensor, "
                                           "got tensor with 1 dims"):
        F.grad(lambda x: x * 2)(x)
    with pytest.raises(RuntimeError, match="to return a Tensor, got <class 'float'>"):
        F.grad(lambda x: 1.0)(x)
    with pytest.raises(RuntimeError, match="should be a tuple: \\(output, aux\\)"):
        F.grad(lambda x: x.sum(), has_aux=True)(x)
    with pytest.raises(RuntimeError, match="Got argnum=2, but only 1 positional inputs"):
        F.grad(lambda x: x.sum(), argnums=2)(x)
    with pytest.raises(RuntimeError, match="argnums elements must be unique, got \\(0, 0\\)"):
        F.grad(lambda x: x.sum(), argnums=(0, 0))(x)
    with pytest.raises(RuntimeError, match="argnums must be int or Tuple"):
        F.grad(lambda x: x.sum(), argnums=[0])(x)
    with pytest.raises(RuntimeError, match="floating point dtype"):
        F.grad(lambda x: x.sum())(ad.ones(3, dtype=ad.int64))
    with pytest.raises(ValueError, match="Thing passed to transform API must be Tensor"):
        F.grad(lambda p: p[0].sum())([x, 2.0])


def test_vjp(torch):
    (x, tx), (y, ty) = _pair(torch, 3), _pair(torch, 3, seed=1)
    f = lambda a, b: ((a * b).sin(), {"s": a.exp().sum()})
    out, fn = F.vjp(f, x, y)
    tout, tfn = torch.func.vjp(f, tx, ty)
    _close_tree(out, tout)
    ct, tct = (y, {"s": x[0] * 0 + 2}), (ty, {"s": tx[0] * 0 + 2})
    for _ in range(2):  # vjp_fn can be called again
        _close_tree(fn(ct), tfn(tct))
    with pytest.raises(RuntimeError, match="Expected pytree structure of cotangents"):
        fn(y)
    with pytest.raises(RuntimeError, match="Mismatch in shape: grad_output\\[0\\]"):
        fn((ad.ones(2, dtype=ad.float64), {"s": x[0]}))
    out, fn, aux = F.vjp(lambda a: (a.exp(), a.sum()), x, has_aux=True)
    tout, tfn, taux = torch.func.vjp(lambda a: (a.exp(), a.sum()), tx, has_aux=True)
    _close(aux, taux)
    _close_tree(fn(y), tfn(ty))
    with pytest.raises(RuntimeError, match="All outputs of f must be floating-point"):
        F.vjp(lambda a: a.argmax(), x)


def test_jvp(torch):
    (x, tx), (y, ty), (v, tv) = _pair(torch, 4), _pair(torch, 4, seed=1), _pair(torch, 4, seed=2)
    f = lambda a, b: ((a * b).tanh() @ a, a.softmax(0) * b)
    _close_tree(F.jvp(f, (x, y), (v, x)), torch.func.jvp(f, (tx, ty), (tv, tx)))
    g = lambda a: (a.exp(), {"aux": a.sum()})
    _close_tree(F.jvp(g, (x,), (v,), has_aux=True), torch.func.jvp(g, (tx,), (tv,), has_aux=True))
    h = lambda a, b: (a.sin(), b * 0 + 1)  # the second output does not depend on a
    _close_tree(F.jvp(h, (x, y), (v, v)), torch.func.jvp(h, (tx, ty), (tv, tv)))
    with pytest.raises(RuntimeError, match="Expected primals to be a tuple"):
        F.jvp(ad.sin, x, (v,))
    with pytest.raises(RuntimeError, match="same python structure"):
        F.jvp(ad.sin, (x,), (v, v))
    with pytest.raises(RuntimeError, match="independent of the inputs"):
        F.jvp(lambda a: ad.ones(2, dtype=ad.float64), (x,), (v,), strict=True)


def test_jacrev_jacfwd_vector_functions(torch):
    (x, tx), (y, ty) = _pair(torch, 4), _pair(torch, 3, seed=1)
    f = lambda a, b: (a.sin() * b.sum(), a[:3] * b.exp())
    for ours, theirs in ((F.jacrev, torch.func.jacrev), (F.jacfwd, torch.func.jacfwd)):
        _close_tree(ours(f)(x, y), theirs(f)(tx, ty))
        _close_tree(ours(f, argnums=(0, 1))(x, y), theirs(f, argnums=(0, 1))(tx, ty))
        ja, aux = ours(lambda a: (a.exp(), a.sum()), has_aux=True)(x)
        jt, taux = theirs(lambda a: (a.exp(), a.sum()), has_aux=True)(tx)
        _close(ja, jt)
        _close(aux, taux)
    m = lambda a: a @ a.T  # matrix in, matrix out
    xm, txm = _pair(torch, 2, 3)
    _close(F.jacrev(m)(xm), torch.func.jacrev(m)(txm))
    with pytest.raises(ValueError, match="chunk_size"):
        F.jacrev(m, chunk_size=0)


def test_hessian_argnums_and_batched_jacobians(torch):
    (x, tx), (y, ty) = _pair(torch, 3), _pair(torch, 3, seed=1)
    f = lambda a, b: (a.sin() * b.exp()).sum() * a.sum()
    _close_tree(F.hessian(f, argnums=(0, 1))(x, y), torch.func.hessian(f, argnums=(0, 1))(tx, ty))
    (xb, txb) = _pair(torch, 4, 3)
    _close(F.vmap(F.jacrev(ad.sin))(xb), torch.func.vmap(torch.func.jacrev(torch.sin))(txb))


def test_vmap_dims(torch):
    (x, tx), (w, tw) = _pair(torch, 4, 3), _pair(torch, 3, 4, seed=1)
    V, TV = F.vmap, torch.func.vmap
    _close(V(lambda r: r.sum() * r)(x), TV(lambda r: r.sum() * r)(tx))
    mv = lambda c, m: m @ c
    _close(V(mv, in_dims=(1, None))(w, x), TV(mv, in_dims=(1, None))(tw, tx))
    double = lambda r: r * 2
    _close(V(double, in_dims=-1, out_dims=-1)(x), TV(double, in_dims=-1, out_dims=-1)(tx))
    _close(V(lambda r: r.exp(), out_dims=1)(x), TV(lambda r: r.exp(), out_dims=1)(tx))
    _close(V(V(lambda s: s * s))(x), TV(TV(lambda s: s * s))(tx))
    f = lambda d, k=1.0: Pair(d["p"] * k, d["q"].sum())
    dims = {"in_dims": ({"p": 0, "q": None},), "out_dims": Pair(1, None)}
    ours = V(f, **dims)({"p": x, "q": w}, k=2.0)
    theirs = TV(f, **dims)({"p": tx, "q": tw}, k=2.0)
    assert isinstance(ours, Pair)
    _close_tree(ours, theirs)
    ours = V(lambda r: (r * 2, 5), out_dims=(0, None))(x)
    assert ours[1] == 5
    _close(V(lambda r: r.sum())(x[:0]), TV(lambda r: r.sum())(tx[:0]))


def test_vmap_errors(torch):
    x, _ = _pair(torch, 4, 3)
    with pytest.raises(ValueError, match="Expected all tensors to have the same size in the "
                                         "mapped dimension, got sizes \\[4, 3\\]"):
        F.vmap(lambda a, b: a + b)(x, x.T)
    with pytest.raises(ValueError, match="so expected in_dim to satisfy -2 <= in_dim < 2"):
        F.vmap(lambda a: a, in_dims=2)(x)
    with pytest.raises(ValueError, match="We cannot vmap over non-Tensor arguments"):
        F.vmap(lambda a, b: a, in_dims=(0, 0))(x, 3.0)
    with pytest.raises(ValueError, match="expected `in_dims` to be int or a"):
        F.vmap(lambda a: a, in_dims=[0])(x)
    with pytest.raises(ValueError, match="in_dims is not compatible with the structure"):
        F.vmap(lambda a: a, in_dims=(0, 0))(x)
    with pytest.raises(ValueError, match="Expected at least one Tensor to vmap over"):
        F.vmap(lambda a: a, in_dims=(None,))(x)
    with pytest.raises(ValueError, match="got no inputs"):
        F.vmap(lambda: x)()
    with pytest.raises(ValueError, match="out_dims is not compatible"):  # a namedtuple: no tuple
        F.vmap(lambda a: Pair(a, a), out_dims=(0, 0))(x)
    with pytest.raises(ValueError, match="must only return Tensors"):
        F.vmap(lambda a: (a, 5))(x)
    with pytest.raises(ValueError, match="can not return a BatchedTensor when out_dim is None"):
        F.vmap(lambda a: a * 2, out_dims=None)(x)
    with pytest.raises(IndexError, match="Dimension out of range"):
        F.vmap(lambda a: a, out_dims=3)(x)
    with pytest.raises(RuntimeError, match="Only allowed values for randomness"):
        F.vmap(lambda a: a, randomness="sometimes")
    with pytest.raises(RuntimeError, match="called random operation while in randomness error"):
        F.vmap(lambda a: ad.rand(3, dtype=ad.float64) + a)(x)


def test_vmap_randomness():
    x = ad.zeros(4, 3, dtype=ad.float64)
    same = F.vmap(lambda a: ad.rand(3, dtype=ad.float64) + a, randomness="same")(x)
    diff = F.vmap(lambda a: ad.rand(3, dtype=ad.float64) + a, randomness="different")(x)
    assert np.allclose(same.numpy(), same.numpy()[0])
    assert not np.allclose(diff.numpy(), diff.numpy()[0])


def _models(torch):
    tm = torch.nn.Sequential(torch.nn.Linear(4, 6), torch.nn.Tanh(), torch.nn.Linear(6, 3)).double()
    am = ad.nn.Sequential(ad.nn.Linear(4, 6), ad.nn.Tanh(), ad.nn.Linear(6, 3)).double()
    with ad.no_grad():
        for k, p in am.named_parameters():
            p.copy_(ad.tensor(dict(tm.named_parameters())[k].detach().numpy()))
    return am, tm


def test_per_sample_gradients(torch):
    am, tm = _models(torch)
    rng = np.random.default_rng(0)
    xs, ys = rng.standard_normal((5, 4)), rng.integers(0, 3, 5)

    def make_loss(lib, fn, model):
        def loss(params, x, y):
            out = fn.functional_call(model, params, (x.unsqueeze(0),))
            return lib.nn.functional.cross_entropy(out, y.unsqueeze(0))
        return loss

    pa = {k: v.detach() for k, v in am.named_parameters()}
    pt = {k: v.detach() for k, v in tm.named_parameters()}
    ga = F.vmap(F.grad(make_loss(ad, F, am)), in_dims=(None, 0, 0))(
        pa, ad.tensor(xs), ad.tensor(ys))
    gt = torch.func.vmap(torch.func.grad(make_loss(torch, torch.func, tm)), in_dims=(None, 0, 0))(
        pt, torch.tensor(xs), torch.tensor(ys))
    assert list(ga) == list(gt) and ga["0.weight"].shape == (5, 6, 4)
    _close_tree(ga, gt)
    assert not ga["0.weight"].requires_grad
    # the per-sample grads average to the batch gradient
    loss = ad.nn.functional.cross_entropy(am(ad.tensor(xs)), ad.tensor(ys))
    loss.backward()
    _close(am[0].weight.grad, torch.tensor(ga["0.weight"].numpy().mean(0)))


def test_functional_call(torch):
    am, _ = _models(torch)
    w0 = am[0].weight
    x = ad.ones(2, 4, dtype=ad.float64)
    zeros = {"0.weight": ad.zeros(6, 4, dtype=ad.float64), "0.bias": ad.zeros(6, dtype=ad.float64)}
    out = F.functional_call(am, zeros, (x,))
    _close(out, torch.tensor(am[2].bias.detach().numpy()).expand(2, 3))
    assert am[0].weight is w0  # restored
    out2 = F.functional_call(am, ({"0.weight": zeros["0.weight"]}, {"0.bias": zeros["0.bias"]}), x)
    _close(out2, torch.tensor(out.numpy()))
    with pytest.raises(ad.ShapeError):
        F.functional_call(am, zeros, (ad.ones(2, 5, dtype=ad.float64),))
    assert am[0].weight is w0 and isinstance(am[0].weight, ad.nn.Parameter)  # restored on error
    with pytest.raises(RuntimeError, match="Missing key\\(s\\): '2.bias', '2.weight'"):
        F.functional_call(am, zeros, (x,), strict=True)
    with pytest.raises(RuntimeError, match="Unexpected key\\(s\\): 'nope'"):
        F.functional_call(am, {"nope": x}, (x,), strict=True)
    with pytest.raises(ValueError, match="appeared in multiple dictionaries"):
        F.functional_call(am, (zeros, zeros), (x,))


def test_functional_call_tied_weights():
    net = ad.nn.Sequential(ad.nn.Linear(3, 3, bias=False), ad.nn.Linear(3, 3, bias=False))
    net.double()
    net[1].weight = net[0].weight  # "0.weight" and "1.weight" are one tensor
    x, w = ad.ones(1, 3, dtype=ad.float64), ad.eye(3, dtype=ad.float64) * 2
    np.testing.assert_allclose(F.functional_call(net, {"0.weight": w}, x).numpy(), 4 * x.numpy())
    untied = F.functional_call(net, {"0.weight": w}, x, tie_weights=False)
    expected = (x @ w.T @ net[1].weight.T).detach().numpy()
    np.testing.assert_allclose(untied.detach().numpy(), expected)
    with pytest.raises(ValueError, match="which are tied. Consider using tie_weights=False"):
        F.functional_call(net, {"0.weight": w, "1.weight": w * 1}, x)


def test_stack_module_state_ensemble():
    models = [ad.nn.Linear(3, 2).double() for _ in range(4)]
    params, buffers = F.stack_module_state(models)
    assert params["weight"].shape == (4, 2, 3) and params["weight"].requires_grad
    assert params["weight"].grad_fn is None and buffers == {}
    x = ad.ones(5, 3, dtype=ad.float64)
    out = F.vmap(lambda p, b: F.functional_call(models[0], (p, b), (x,)))(params, buffers)
    ref = ad.stack([m(x) for m in models])
    np.testing.assert_allclose(out.detach().numpy(), ref.detach().numpy(), atol=1e-12)
    with pytest.raises(RuntimeError, match="Expected at least one model"):
        F.stack_module_state([])
    with pytest.raises(RuntimeError, match="same class"):
        F.stack_module_state([models[0], ad.nn.Tanh()])
