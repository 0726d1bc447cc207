"""nn.utils: gradient clipping, flattening parameters to a vector, LoRA (``nn.utils.lora``),
``nn.utils.rnn.pad_sequence``, weight and spectral normalization, and parametrizations
(``nn.utils.parametrize``, ``nn.utils.parametrizations``)."""

from __future__ import annotations

from collections.abc import Iterable

from ... import ops
from ...autograd.grad_mode import no_grad
from ...tensor import Tensor
from . import lora, parametrizations, parametrize, rnn  # noqa: F401
from .spectral_norm import remove_spectral_norm, spectral_norm  # noqa: F401
from .weight_norm import remove_weight_norm, weight_norm  # noqa: F401


def _params(parameters) -> list:
    if isinstance(parameters, Tensor):
        return [parameters]
    return list(parameters)


def clip_grad_norm_(parameters, max_norm: float, norm_type: float = 2.0,
                    error_if_nonfinite: bool = False, foreach=None) -> Tensor:
    """Scale all gradients together so that their total norm is at most ``max_norm``.

    Returns:
        The total norm of the gradients before clipping (a 0-d Tensor).
    """
    grads = [p.grad for p in _params(parameters) if p.grad is not None]
    if not grads:
        from ...creation import tensor

        return tensor(0.0)
    norm_type = float(norm_type)
    with no_grad():
        # the norm of the per-tensor norms, as PyTorch (any order: inf, 0, fractional)
        norms = [g.detach().norm(norm_type).to(grads[0].dtype) for g in grads]
        total = ops.stack(norms).norm(norm_type)
        if error_if_nonfinite and not bool(total.isfinite().all()):
            raise RuntimeError(f"clip_grad_norm_: the total norm of order {norm_type} of the "
                               f"gradients is non-finite, so it cannot be clipped")
        coef = (max_norm / (total + 1e-6)).clamp(max=1.0)
        for g in grads:
            g.mul_(coef.to(g.dtype))
    return total


def clip_grad_value_(parameters, clip_value: float, foreach=None) -> None:
    """Clamp every gradient element into [-clip_value, clip_value] in place."""
    with no_grad():
        for p in _params(parameters):
            if p.grad is not None:
                p.grad.clamp_(-clip_value, clip_value)


def parameters_to_vector(parameters: Iterable[Tensor]) -> Tensor:
    """All parameters flattened and concatenated into one 1-D tensor."""
    return ops.cat([p.reshape(-1) for p in parameters])


def vector_to_parameters(vec: Tensor, parameters: Iterable[Tensor]) -> None:
    """Copy consecutive slices of ``vec`` into the parameters (in place)."""
    if not isinstance(vec, Tensor) or vec.ndim != 1:
        raise TypeError(f"vector_to_parameters: expected a 1-D Tensor, got "
                        f"{type(vec).__name__}")
    start = 0
    with no_grad():
        for p in parameters:
            n = p.numel()
            p.copy_(vec[start:start + n].reshape(p.shape))
            start += n
    if start != vec.numel():
        raise ValueError(f"vector_to_parameters: vector has {vec.numel()} elements, the "
                         f"parameters {start}")
