"""Gradient accumulation must not alias: a leaf's .grad may be stored without a copy, so
summing a later contribution into it in place once changed an array still flowing to other
leaves (``((a + b) + a).sum().backward()`` gave b.grad == 2). Random graphs of shared leaves,
views and retained non-leaf gradients are compared with PyTorch, backward run twice."""

from __future__ import annotations

import random

import numpy as np
import pytest

import autodiff as ad

DEVICES = [d for d in ("numpy", "cpp") if d in ad.available_devices()]


@pytest.mark.parametrize("dev", DEVICES)
def test_shared_leaf_through_add(dev):
    a = ad.tensor([0.3], requires_grad=True, device=dev)
    b = ad.tensor([0.25], requires_grad=True, device=dev)
    ((a + b) + a).sum().backward()
    assert a.grad.tolist() == [2.0] and b.grad.tolist() == [1.0]
    ((a + b) + a + a * b).sum().backward()  # second pass: accumulated in place
    np.testing.assert_allclose(a.grad.numpy(), [4.25])
    np.testing.assert_allclose(b.grad.numpy(), [2.3])


_OPS = {
    "add": lambda x, y: x + y,
    "mul": lambda x, y: x * y,
    "sub": lambda x, y: x - y,
    "view": lambda x, y: x.reshape(-1).reshape(x.shape),
    "neg": lambda x, y: -x,
    "expand": lambda x, y: (x[:1] + 0).expand(x.shape),
    "sum": lambda x, y: x + x.sum(),
    "slice": lambda x, y: x[::1] * 1,
    "T": lambda x, y: x.t().t(),
}


def _build(leaves, program, retain):
    nodes, kept = list(leaves), []
    for k, (op, i, j) in enumerate(program):
        z = _OPS[op](nodes[i % len(nodes)], nodes[j % len(nodes)])
        nodes.append(z)
        if k in retain:
            z.retain_grad()
            kept.append(z)
    out = sum((n * (w + 1)).sum() for w, n in enumerate(nodes[len(leaves):]))
    return out, kept


def _grads(ts):
    return [None if t.grad is None else t.grad.numpy() for t in ts]


@pytest.mark.parametrize("dev", DEVICES)
def test_random_graphs_like_torch(torch, dev):
    for trial in range(120):
        rng = random.Random(trial)
        values = [np.random.default_rng(trial * 10 + i).standard_normal((2, 3))
                  for i in range(rng.randint(1, 3))]
        program = [(rng.choice(sorted(_OPS)), rng.randrange(100), rng.randrange(100))
                   for _ in range(rng.randint(1, 8))]
        retain = set(rng.sample(range(len(program)), k=min(len(program), rng.randint(0, 2))))
        tl = [torch.tensor(v, requires_grad=True) for v in values]
        al = [ad.tensor(v, requires_grad=True, device=dev) for v in values]
        for rep in range(2):  # the second backward accumulates into existing grads
            to, tk = _build(tl, program, retain if rep == 0 else set())
            ao, ak = _build(al, program, retain if rep == 0 else set())
            to.backward()
            ao.backward()
            for want, got in zip(_grads(tl + tk), _grads(al + ak)):
                assert (want is None) == (got is None), (trial, program)
                if want is not None:
                    np.testing.assert_allclose(got, want, rtol=1e-12, err_msg=str(program))
