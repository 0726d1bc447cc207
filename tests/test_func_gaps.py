"""Gaps of an audit, against PyTorch: autograd.grad(is_grads_batched=True), vmap over a
BatchNorm in training mode and func.replace_all_batch_norm_modules_, forward AD under
no_grad, and is_inference_mode_enabled."""

from __future__ import annotations

import numpy as np
import pytest

import autodiff as ad
from autodiff import nn
from autodiff.autograd import forward_ad as fwAD

torch = pytest.importorskip("torch")
RNG = np.random.default_rng(0)


def leaves(*arrays):
    return ([ad.tensor(a, requires_grad=True) for a in arrays],
            [torch.tensor(a, requires_grad=True) for a in arrays])


def same(ours, theirs, atol=1e-12):
    assert len(ours) == len(theirs)
    for a, t in zip(ours, theirs):
        if t is None:
            assert a is None
        else:
            np.testing.assert_allclose(a.detach().numpy(), t.detach().numpy(), atol=atol)


# ----------------------------------------------------------------- is_grads_batched
def f_two(m, x, w):
    return [(x * w).exp(), m.matmul(w.unsqueeze(0).expand(2, 3), x.unsqueeze(-1)).squeeze(-1)]


@pytest.mark.parametrize("create_graph", [False, True])
def test_is_grads_batched_matches_torch(create_graph):
    x, w = RNG.standard_normal(3), RNG.standard_normal(3)
    (ax, aw), (tx, tw) = leaves(x, w)
    v1, v2 = RNG.standard_normal((4, 3)), RNG.standard_normal((4, 2))
    ours = ad.autograd.grad(f_two(ad, ax, aw), [ax, aw], [ad.tensor(v1), ad.tensor(v2)],
                            create_graph=create_graph, is_grads_batched=True)
    theirs = torch.autograd.grad(f_two(torch, tx, tw), [tx, tw],
                                 [torch.tensor(v1), torch.tensor(v2)],
                                 create_graph=create_graph, is_grads_batched=True)
    same(ours, theirs)
    assert [g.requires_grad for g in ours] == [g.requires_grad for g in theirs]
    assert ax.grad is None and aw.grad is None
    if create_graph:  # the stacked result differentiates again
        same(ad.autograd.grad((ours[0] ** 2).sum(), [ax, aw]),
             torch.autograd.grad((theirs[0] ** 2).sum(), [tx, tw]))


def test_is_grads_batched_scalar_output_unused_and_materialize():
    x, w, u = RNG.standard_normal(3), RNG.standard_normal(3), RNG.standard_normal(3)
    (ax, aw, au), (tx, tw, tu) = leaves(x, w, u)
    same(ad.autograd.grad((ax * aw).sum(), ax, ad.ones(4, dtype=ad.float64),
                          is_grads_batched=True),
         torch.autograd.grad((tx * tw).sum(), tx, torch.ones(4, dtype=torch.float64),
                             is_grads_batched=True))
    e = np.eye(3)
    same(ad.autograd.grad(ax.exp(), [ax, au], ad.tensor(e), allow_unused=True,
                          is_grads_batched=True),
         torch.autograd.grad(tx.exp(), [tx, tu], torch.tensor(e), allow_unused=True,
                             is_grads_batched=True))
    ours = ad.autograd.grad(ax.exp(), [ax, au], ad.tensor(e), materialize_grads=True,
                            is_grads_batched=True)
    theirs = torch.autograd.grad(tx.exp(), [tx, tu], torch.tensor(e), materialize_grads=True,
                                 is_grads_batched=True)
    same(ours, theirs)  # PyTorch's materialized zeros are not batched: (3,), not (3, 3)
    with pytest.raises(RuntimeError, match="appears to not have been used"):
        ad.autograd.grad(ax.exp(), [ax, au], ad.tensor(e), is_grads_batched=True)


def test_is_grads_batched_differentiates_through_grad_outputs():
    x, v = RNG.standard_normal(3), RNG.standard_normal((2, 3))
    (ax, av), (tx, tv) = leaves(x, v)
    ours = ad.autograd.grad(ax.exp(), ax, av, is_grads_batched=True, create_graph=True)
    theirs = torch.autograd.grad(tx.exp(), tx, tv, is_grads_batched=True, create_graph=True)
    same(ad.autograd.grad(ours[0].sum(), av), torch.autograd.grad(theirs[0].sum(), tv))
    assert not ad.autograd.grad(ax.exp(), ax, av, is_grads_batched=True)[0].requires_grad


def test_is_grads_batched_retain_graph():
    x = RNG.standard_normal(3)
    (ax,), (tx,) = leaves(x)
    e = np.eye(3)
    for m, t in ((ad, ax), (torch, tx)):
        y = t.exp()
        m.autograd.grad(y, t, m.tensor(e), is_grads_batched=True)  # frees the graph
        with pytest.raises(RuntimeError, match="backward through the graph a second time"):
            m.autograd.grad(y, t, m.tensor(e), is_grads_batched=True)
        y = t.exp()
        m.autograd.grad(y, t, m.tensor(e), is_grads_batched=True, retain_graph=True)
        assert m.autograd.grad(y, t, m.tensor(e), is_grads_batched=True)[0].shape == (3, 3)


@pytest.mark.parametrize("case", ["shape", "sizes", "none-nonscalar", "none-scalar", "0-d",
                                  "empty"])
def test_is_grads_batched_errors_match_torch(case):
    x = RNG.standard_normal(3)
    (ax,), (tx,) = leaves(x)

    def call(m, t):
        f64 = {"dtype": m.float64}
        out = {"none-scalar": [t.sum()], "0-d": [t.sum()], "sizes": [t * 1, t * 2]}.get(
            case, [t.exp()])
        go = {"shape": [m.ones(2, 4, **f64)], "sizes": [m.ones(2, 3, **f64), m.ones(3, 3, **f64)],
              "none-nonscalar": [None], "none-scalar": [None], "0-d": [m.ones((), **f64)],
              "empty": [m.ones(0, 3, **f64)]}[case]
        return m.autograd.grad(out, t, go, is_grads_batched=True)

    with pytest.raises(Exception) as theirs:
        call(torch, tx)
    with pytest.raises(type(theirs.value)) as ours:
        call(ad, ax)
    head = str(theirs.value).split("torch.Size")[0][:60]
    assert str(ours.value).startswith(head)


# ----------------------------------------------------------------- vmap and BatchNorm
def test_vmap_of_batch_norm_in_training_mode_raises_as_torch():
    x = RNG.standard_normal((5, 3, 4)).astype(np.float32)
    bn, tbn = nn.BatchNorm1d(4), torch.nn.BatchNorm1d(4)
    params, bufs = dict(bn.named_parameters()), dict(bn.named_buffers())
    tparams, tbufs = dict(tbn.named_parameters()), dict(tbn.named_buffers())
    with pytest.raises(RuntimeError) as theirs:
        torch.func.vmap(lambda x: torch.func.functional_call(tbn, (tparams, tbufs), (x,)))(
            torch.tensor(x))
    for call in (lambda: ad.func.vmap(bn)(ad.tensor(x)),
                 lambda: ad.func.vmap(lambda x: ad.func.functional_call(bn, (params, bufs),
                                                                        (x,)))(ad.tensor(x))):
        with pytest.raises(RuntimeError) as ours:
            call()
        assert str(ours.value) == str(theirs.value)
    assert float(bn.running_mean.abs().sum()) == 0.0 and int(bn.num_batches_tracked) == 0
    bn.eval(), tbn.eval()  # eval mode: the running stats are only read
    np.testing.assert_allclose(ad.func.vmap(bn)(ad.tensor(x)).numpy(),
                               torch.func.vmap(tbn)(torch.tensor(x)).detach().numpy(), atol=1e-6)


def test_replace_all_batch_norm_modules_matches_torch():
    x = RNG.standard_normal((5, 3, 4)).astype(np.float32)
    m = nn.Sequential(nn.Linear(4, 4), nn.BatchNorm1d(4), nn.Sequential(nn.BatchNorm1d(4)))
    tm = torch.nn.Sequential(torch.nn.Linear(4, 4), torch.nn.BatchNorm1d(4),
                             torch.nn.Sequential(torch.nn.BatchNorm1d(4)))
    with torch.no_grad():
        tm[0].weight.copy_(torch.tensor(m[0].weight.numpy()))
        tm[0].bias.copy_(torch.tensor(m[0].bias.numpy()))
    assert ad.func.replace_all_batch_norm_modules_(m) is m
    torch.func.replace_all_batch_norm_modules_(tm)
    assert repr(m) == repr(tm)
    for bn in (m[1], m[2][0]):
        assert bn.running_mean is None and bn.running_var is None
        assert bn.num_batches_tracked is None and not bn.track_running_stats
    assert dict(m.named_buffers()) == {}
    np.testing.assert_allclose(ad.func.vmap(m)(ad.tensor(x)).detach().numpy(),
                               torch.func.vmap(tm)(torch.tensor(x)).detach().numpy(), atol=1e-5)


def test_vmap_over_stacked_batch_norm_states_updates_them_as_torch():
    x = RNG.standard_normal((5, 3, 4)).astype(np.float32)
    bns, tbns = [nn.BatchNorm1d(4) for _ in range(5)], [torch.nn.BatchNorm1d(4) for _ in range(5)]
    p, b = ad.func.stack_module_state(bns)
    tp, tb = torch.func.stack_module_state(tbns)
    out = ad.func.vmap(lambda p, b, x: ad.func.functional_call(bns[0], (p, b), (x,)))(
        p, b, ad.tensor(x))
    tout = torch.func.vmap(lambda p, b, x: torch.func.functional_call(tbns[0], (p, b), (x,)))(
        tp, tb, torch.tensor(x))
    np.testing.assert_allclose(out.detach().numpy(), tout.detach().numpy(), atol=1e-5)
    np.testing.assert_allclose(b["running_mean"].numpy(), tb["running_mean"].numpy(), atol=1e-6)
    np.testing.assert_allclose(b["running_var"].numpy(), tb["running_var"].numpy(), atol=1e-6)


# ----------------------------------------------------------------- forward AD under no_grad
# torch's forward AD loads its decompositions with torch.jit.script, which warns
@pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated:DeprecationWarning")
def test_forward_ad_computes_tangents_under_no_grad():
    x0, v = RNG.standard_normal(3), RNG.standard_normal(3)
    w = ad.tensor(RNG.standard_normal(3), requires_grad=True)
    results = {}
    for m, fw in ((ad, fwAD), (torch, torch.autograd.forward_ad)):
        with fw.dual_level():
            x = fw.make_dual(m.tensor(x0), m.tensor(v))
            y = x.sin()
            with m.no_grad():
                a = fw.unpack_dual((x.sin() * 2).exp()).tangent
                b = fw.unpack_dual(y * y).tangent  # y recorded with grad on
                c = fw.unpack_dual(fw.make_dual(m.tensor(x0), m.tensor(v)).exp()).tangent
            results[m.__name__] = (a, b, c)
    same(results["autodiff"], results["torch"])
    with fwAD.dual_level():
        fwAD.make_dual(ad.tensor(x0), ad.tensor(v))
        with ad.no_grad():
            z = w * 3  # no dual involved: nothing recorded, as without a level
            w.sub_(0.1)  # in-place on a leaf that requires grad: allowed under no_grad
        assert not z.requires_grad
    assert ad.autograd.grad_mode.state.fw is None


# ----------------------------------------------------------------- inference mode
def test_is_inference_mode_enabled_as_torch():
    for m in (ad, torch):
        assert not m.is_inference_mode_enabled()
        with m.inference_mode():
            assert m.is_inference_mode_enabled() and not m.is_grad_enabled()
            with m.inference_mode(False):
                assert not m.is_inference_mode_enabled() and m.is_grad_enabled()
            assert m.is_inference_mode_enabled()
        assert not m.is_inference_mode_enabled()

    @ad.inference_mode()
    def inside():
        return ad.is_inference_mode_enabled()

    assert inside() and not ad.is_inference_mode_enabled()


def test_vmap_closure_over_training_batch_norm_raises_as_torch():
    """A closure calling the module is caught too (the module checks, not vmap's argument)."""
    bn = ad.nn.BatchNorm1d(3)
    x = ad.randn(4, 5, 3)
    with pytest.raises(RuntimeError, match="Batch norm got a batched tensor"):
        ad.func.vmap(lambda t: bn(t))(x)
    bn.eval()  # eval mode reads the running stats: allowed, as in PyTorch
    assert ad.func.vmap(lambda t: bn(t))(x).shape == (4, 5, 3)
