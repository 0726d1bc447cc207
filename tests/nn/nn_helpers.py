"""Helpers of the nn tests: copy a PyTorch module's weights into ours, run both, compare
outputs and every gradient; gradcheck a layer in float64."""

from __future__ import annotations

import numpy as np

import autodiff as ad


def flat(out) -> list:
    """Tensors of a (nested) module output, in order."""
    if out is None:
        return []
    if isinstance(out, (tuple, list)):
        return [t for o in out for t in flat(o)]
    return [out]


def as_np(t) -> np.ndarray:
    return t.detach().numpy() if hasattr(t, "detach") else np.asarray(t)


def copy_weights(ours, theirs) -> None:
    """Load theirs' state dict (as NumPy arrays) into ours: names and shapes must agree."""
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})


def compare_with_torch(ours, theirs, inputs, device, torch, train=True, atol=1e-7,
                       rtol=1e-6, call=None) -> None:
    """Outputs, input gradients, parameter gradients and buffers of ours vs theirs (float64).

    ``inputs`` are NumPy arrays; floating ones require grad. ``call(module, *xs)`` overrides
    how the module is called.
    """
    theirs = theirs.double()
    ours.to(ad.float64)
    copy_weights(ours, theirs)
    ours.to(device)
    ours.train(train)
    theirs.train(train)
    call = call or (lambda m, *xs: m(*xs))
    xa = [ad.tensor(a, device=device, requires_grad=a.dtype.kind == "f") for a in inputs]
    xt = [torch.tensor(a, requires_grad=a.dtype.kind == "f") for a in inputs]
    oa, ot = flat(call(ours, *xa)), flat(call(theirs, *xt))
    assert len(oa) == len(ot)
    rng = np.random.default_rng(1)
    seeds = []
    for a, t in zip(oa, ot):
        assert tuple(a.shape) == tuple(t.shape), (a.shape, t.shape)
        np.testing.assert_allclose(a.numpy(), as_np(t), atol=atol, rtol=rtol)
        seeds.append(rng.standard_normal(tuple(t.shape)))
    diff = [(a, t, s) for a, t, s in zip(oa, ot, seeds) if t.requires_grad]
    if diff:
        la = sum(((a * ad.tensor(s, device=device)).sum() for a, _, s in diff), ad.tensor(0.0,
                 dtype=ad.float64, device=device))
        lt = sum((t * torch.tensor(s)).sum() for _, t, s in diff)
        la.backward()
        lt.backward()
    for a, t in zip(xa, xt):
        if t.grad is not None:
            np.testing.assert_allclose(a.grad.numpy(), t.grad.numpy(), atol=atol, rtol=rtol)
    theirs_params = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        tp = theirs_params[name]
        if tp.grad is None:
            assert p.grad is None or not np.any(p.grad.numpy()), name
            continue
        assert p.grad is not None, f"no gradient for {name}"
        np.testing.assert_allclose(p.grad.numpy(), tp.grad.numpy(), atol=atol, rtol=rtol,
                                   err_msg=name)
    theirs_bufs = dict(theirs.named_buffers())
    for name, b in ours.named_buffers():
        if name in theirs_bufs:
            np.testing.assert_allclose(b.numpy(), as_np(theirs_bufs[name]), atol=atol,
                                       rtol=rtol, err_msg=name)


def gradcheck_module(module, inputs, device, atol=1e-5) -> None:
    """Finite-difference check of the module's gradient with respect to its float inputs."""
    module.to(ad.float64).to(device)
    xs = [ad.tensor(a, device=device, requires_grad=a.dtype.kind == "f") for a in inputs]
    assert ad.autograd.gradcheck(lambda *x: module(*x), tuple(xs), atol=atol)
