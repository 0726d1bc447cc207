"""``nn.utils.clip_grad``: gradient clipping, as ``torch.nn.utils.clip_grad``.

``clip_grad_norm_`` is ``get_total_norm`` of the gradients followed by
``clip_grads_with_norm_``; ``foreach`` is accepted and ignored (one loop serves every device).
"""

from __future__ import annotations

import types
import warnings
from collections.abc import Iterable

from ... import ops
from ...autograd.grad_mode import no_grad
from ...tensor import Tensor

__all__ = ["clip_grad_norm", "clip_grad_norm_", "clip_grad_value_"]


def _tensors(tensors) -> list:
    return [tensors] if isinstance(tensors, Tensor) else list(tensors)


def _get_total_norm(tensors: Tensor | Iterable[Tensor], norm_type: float = 2.0,
                    error_if_nonfinite: bool = False, foreach: bool | None = None) -> Tensor:
    """The norm of the tensors' norms: the norm of all their elements as one vector.

    Args:
        tensors: a Tensor or an iterable of them (usually gradients).
        norm_type: the order p (``inf`` for the max norm).
        error_if_nonfinite: raise RuntimeError when the total is nan or inf.

    Returns:
        A 0-d tensor (``tensor(0.)`` for no tensors).

    Example:
        >>> total = nn.utils.get_total_norm([p.grad for p in model.parameters()])
    """
    from ... import linalg
    from ...creation import tensor

    tensors = _tensors(tensors)
    norm_type = float(norm_type)
    if not tensors:
        return tensor(0.0)
    with no_grad():
        first = tensors[0].device
        norms = [linalg.vector_norm(t.detach(), norm_type).to(first) for t in tensors]
        total = linalg.vector_norm(ops.stack(norms), norm_type)
    if error_if_nonfinite and not bool(total.isfinite()):
        raise RuntimeError(f"The total norm of order {norm_type} for gradients from "
                           "`parameters` is non-finite, so it cannot be clipped. To disable "
                           "this error and scale the gradients by the non-finite norm anyway, "
                           "set `error_if_nonfinite=False`")
    return total


def _clip_grads_with_norm_(parameters: Tensor | Iterable[Tensor], max_norm: float,
                           total_norm: Tensor, foreach: bool | None = None) -> None:
    """Scale every ``.grad`` in place by min(max_norm / (total_norm + 1e-6), 1)."""
    grads = [p.grad for p in _tensors(parameters) if p.grad is not None]
    max_norm = float(max_norm)
    if not grads:
        return
    with no_grad():
        coef = (max_norm / (total_norm + 1e-6)).clamp(max=1.0)
        for g in grads:
            g.mul_(coef.to(g.device))


def clip_grad_norm_(parameters: Tensor | Iterable[Tensor], max_norm: float,
                    norm_type: float = 2.0, error_if_nonfinite: bool = False,
                    foreach: bool | None = None) -> Tensor:
    """Scale all gradients together so that their total norm is at most ``max_norm``.

    Returns:
        The total norm of the gradients before clipping (a 0-d Tensor).

    Example:
        >>> loss.backward()
        >>> nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    """
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    else:
        is_generator = isinstance(parameters, types.GeneratorType)
        parameters = list(parameters)
        if is_generator and not parameters:
            warnings.warn("`parameters` is an empty generator, no gradient clipping will "
                          "occur.", stacklevel=2)
    grads = [p.grad for p in parameters if p.grad is not None]
    total = _get_total_norm(grads, norm_type, error_if_nonfinite, foreach)
    _clip_grads_with_norm_(parameters, max_norm, total, foreach)
    return total


def clip_grad_norm(parameters, max_norm: float, norm_type: float = 2.0,
                   error_if_nonfinite: bool = False, foreach: bool | None = None) -> Tensor:
    """``clip_grad_norm_`` under its deprecated name (warns FutureWarning, as PyTorch)."""
    warnings.warn("`autodiff.nn.utils.clip_grad_norm` is now deprecated in favor of "
                  "`autodiff.nn.utils.clip_grad_norm_`.", FutureWarning, stacklevel=2)
    return clip_grad_norm_(parameters, max_norm, norm_type, error_if_nonfinite, foreach)


def clip_grad_value_(parameters: Tensor | Iterable[Tensor], clip_value: float,
                     foreach: bool | None = None) -> None:
    """Clamp every gradient element into [-clip_value, clip_value] in place."""
    clip_value = float(clip_value)
    with no_grad():
        for p in _tensors(parameters):
            if p.grad is not None:
                p.grad.clamp_(-clip_value, clip_value)
