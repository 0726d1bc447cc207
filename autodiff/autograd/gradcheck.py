"""Finite-difference checks of gradients (first and second order), in float64."""

from __future__ import annotations

import numpy as np

from .grad_mode import enable_grad, no_grad

# ``autodiff.autograd.gradcheck`` names the function, not this module, so autodiff.tensor
# cannot set a module global here: look the Tensor class up on the engine instead.
from . import engine


def tensor(*args, **kwargs):
    from ..creation import tensor as make  # (creation imports this module's package)

    return make(*args, **kwargs)


class GradcheckError(RuntimeError):
    """Analytical and numerical gradients disagree."""


def _as_tuple(x):
    return x if isinstance(x, tuple) else (x,)


def _outputs(fn, inputs):
    out = _as_tuple(fn(*inputs))
    return [o for o in out if isinstance(o, engine.Tensor) and o.is_floating_point()]


def _numerical(fn, inputs, i, eps):
    """d(outputs flattened)/d(inputs[i] flattened) by central differences: (n_in, n_out)."""
    x = inputs[i]
    flat = x._data.reshape(-1) if x._data.flags.c_contiguous else None
    if flat is None:
        raise ValueError("gradcheck: inputs must be contiguous")
    cols = []
    for k in range(flat.size):
        orig = flat[k].item()
        with no_grad():
            flat[k] = orig + eps
            plus = [o._dev.backend.to_numpy(o._data).astype(np.float64).ravel()
                    for o in _outputs(fn, inputs)]
            flat[k] = orig - eps
            minus = [o._dev.backend.to_numpy(o._data).astype(np.float64).ravel()
                     for o in _outputs(fn, inputs)]
            flat[k] = orig
        cols.append(np.concatenate([(p - m) / (2 * eps) for p, m in zip(plus, minus)])
                    if plus else np.zeros(0))
    return np.stack(cols) if cols else np.zeros((0, 0))


def _analytical(fn, inputs, diff_idx):
    from . import functional

    outs = _outputs(fn, inputs)
    sizes = [o.numel() for o in outs]
    total = sum(sizes)
    jac = {i: np.zeros((inputs[i].numel(), total)) for i in diff_idx}
    col = 0
    for oi, o in enumerate(outs):
        for k in range(o.numel()):
            seed = np.zeros(o.numel(), dtype=o._data.dtype)
            seed[k] = 1
            g = tensor(seed.reshape(o.shape), device=o._dev)
            grads = functional.grad([o], [inputs[i] for i in diff_idx], [g], retain_graph=True,
                                    allow_unused=True)
            for i, gi in zip(diff_idx, grads):
                if gi is not None:
                    jac[i][:, col] = gi._dev.backend.to_numpy(gi._data).astype(np.float64).ravel()
            col += 1
    return jac


def _forward_jacobians(fn, inputs, diff_idx):
    from ..func._forward_ad import gradcheck_jacobians  # (forward AD lives outside the core)

    return gradcheck_jacobians(lambda *args: _outputs(fn, args), inputs, diff_idx)


def gradcheck(fn, inputs, *, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True,
              nondet_tol=0.0, check_undefined_grad=True, check_grad_dtypes=False,
              check_batched_grad=False, check_batched_forward_grad=False, check_forward_ad=False,
              check_backward_ad=True, fast_mode=False, masked=None) -> bool:
    """Compare autograd's gradients of ``fn`` with central finite differences: reverse mode's
    (``check_backward_ad``) and forward mode's (``check_forward_ad``). PyTorch's other checks
    (undefined and batched gradients, gradient dtypes) are accepted and not run.

    Inputs that require grad must be float64 for the check to be meaningful. Returns True,
    or raises GradcheckError naming the worst element.
    """
    inputs = _as_tuple(inputs)
    diff_idx = [i for i, x in enumerate(inputs)
                if isinstance(x, engine.Tensor) and x.requires_grad]
    if not diff_idx:
        raise ValueError("gradcheck: no input requires grad")
    for i in diff_idx:
        if inputs[i].dtype.name != "float64":
            import warnings

            warnings.warn(f"gradcheck: input {i} is {inputs[i].dtype.name}, not float64; "
                          "the check may fail from rounding alone", UserWarning, stacklevel=2)
    modes = ([("Jacobian", _analytical(fn, inputs, diff_idx))] if check_backward_ad else []) + (
        [("Jacobian computed with forward mode", _forward_jacobians(fn, inputs, diff_idx))]
        if check_forward_ad else [])
    for i in diff_idx:
        num = _numerical(fn, inputs, i, eps)
        for what, analytical in modes:
            ana = analytical[i]
            if num.shape != ana.shape:
                num = num.reshape(ana.shape)
            err = np.abs(ana - num) - (atol + rtol * np.abs(num))
            if err.size and err.max() > 0:
                k = np.unravel_index(np.argmax(err), err.shape)
                msg = (f"{what} mismatch for output element {k[1]} with respect to input {i} "
                       f"(element {k[0]}, shape {tuple(inputs[i].shape)}): numerical "
                       f"{num[k]:.6g}, analytical {ana[k]:.6g}, max abs diff "
                       f"{np.abs(ana - num).max():.3g}")
                if raise_exception:
                    raise GradcheckError(msg)
                return False
    return True


def gradgradcheck(fn, inputs, grad_outputs=None, *, eps=1e-6, atol=1e-5, rtol=1e-3,
                  gen_non_contig_grad_outputs=False, raise_exception=True, nondet_tol=0.0,
                  check_undefined_grad=True, check_grad_dtypes=False, check_batched_grad=False,
                  check_fwd_over_rev=False, check_rev_over_rev=True, fast_mode=False,
                  masked=False, seed=0) -> bool:
    """Check second derivatives: gradcheck of (inputs, grad_outputs) -> grad of fn (reverse
    over reverse; PyTorch's other flags are accepted and their checks not run)."""
    from . import functional

    inputs = _as_tuple(inputs)
    outs = _outputs(fn, inputs)
    if grad_outputs is None:
        rng = np.random.default_rng(seed)
        grad_outputs = tuple(
            tensor(rng.standard_normal(o.shape).astype(o._data.dtype), device=o._dev,
                   requires_grad=True) for o in outs)
    else:
        grad_outputs = tuple(grad_outputs)
    n = len(inputs)
    diff_idx = [i for i, x in enumerate(inputs)
                if isinstance(x, engine.Tensor) and x.requires_grad]

    def first_order(*args):
        ins, gos = args[:n], args[n:]
        with enable_grad():  # the numerical pass calls this under no_grad
            out = _outputs(fn, ins)
            grads = functional.grad(out, [ins[i] for i in diff_idx], list(gos),
                                    create_graph=True, allow_unused=True)
        return tuple(g for g in grads if g is not None)

    return gradcheck(first_order, inputs + grad_outputs, eps=eps, atol=atol, rtol=rtol,
                     raise_exception=raise_exception)
