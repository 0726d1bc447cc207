"""The fused Adam kernel of the CuPy backend against the NumPy backend's ufunc sequence:
several steps of Adam/AdamW with each option, float32 and float64."""

from __future__ import annotations

import numpy as np
import pytest

import autodiff as ad

pytestmark = [pytest.mark.gpu,
              pytest.mark.skipif(not ad.cuda.is_available(), reason="no CUDA GPU/CuPy")]


def _run(device, opt_cls, kwargs, dtype):
    rng = np.random.default_rng(0)
    w0 = rng.standard_normal((7, 33)).astype(dtype)
    grads = [rng.standard_normal((7, 33)).astype(dtype) for _ in range(4)]
    w = ad.tensor(w0, device=device, requires_grad=True)
    opt = opt_cls([w], lr=1e-2, **kwargs)
    for g in grads:
        w.grad = ad.tensor(g, device=device)
        opt.step()
    return w.detach().cpu().numpy(), {k: v.cpu().numpy() for k, v in opt.state[w].items()
                                      if hasattr(v, "cpu")}


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("opt_name,kwargs", [
    ("Adam", {}),
    ("Adam", {"amsgrad": True}),
    ("Adam", {"weight_decay": 0.1, "maximize": True}),
    ("AdamW", {"weight_decay": 0.1, "amsgrad": True, "betas": (0.8, 0.99), "eps": 1e-6}),
])
def test_fused_adam_matches_numpy(opt_name, kwargs, dtype):
    opt_cls = getattr(ad.optim, opt_name)
    got, got_state = _run("cuda", opt_cls, kwargs, dtype)
    want, want_state = _run("numpy", opt_cls, kwargs, dtype)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(got, want, rtol=tol, atol=tol)
    assert got_state.keys() == want_state.keys()
    for k in want_state:
        np.testing.assert_allclose(got_state[k], want_state[k], rtol=tol, atol=tol)
