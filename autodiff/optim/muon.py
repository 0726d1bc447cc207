"""Muon: momentum orthogonalized by Newton-Schulz, as ``torch.optim.Muon`` (2-D params only)."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Callable

from ..tensor import Tensor
from .optimizer import Optimizer, _value

__all__ = ["Muon"]

# PyTorch's defaults (torch/optim/_muon.py)
DEFAULT_A, DEFAULT_B, DEFAULT_C = 3.4445, -4.775, 2.0315
DEFAULT_NS_STEPS = 5
EPS = 1e-7


def _bf16(xp, x):
    """``x`` rounded to bfloat16 (round to nearest even), held in float32: PyTorch runs the
    Newton-Schulz iteration in bfloat16, and this keeps our numbers on the same grid."""
    x = xp.ascontiguousarray(x, dtype=xp.float32)
    bits = x.view(xp.uint32)
    bits = (bits + xp.uint32(0x7FFF) + ((bits >> xp.uint32(16)) & xp.uint32(1))) \
        & xp.uint32(0xFFFF0000)
    return bits.view(xp.float32)


def zeropower_via_newtonschulz(xp, grad, ns_coefficients: tuple, ns_steps: int, eps: float):
    """The approximate orthogonalization U S' V^T of a 2-D ``grad`` (PyTorch's quintic
    Newton-Schulz iteration, in bfloat16 with float32 accumulation). Returns float32 values on
    the bfloat16 grid.

    Each step, with ``X`` the (wide) iterate normalised to unit Frobenius norm::

        A = X X^T;  B = b A + c A A;  X = a X + B X
    """
    if ns_steps >= 100:
        raise ValueError("Number of steps must be less than 100 for computational efficiency")
    if grad.ndim != 2:
        raise ValueError("Input tensor gradient must be a 2D matrix")
    if len(ns_coefficients) != 3:
        raise ValueError("Coefficients must be a tuple of exactly 3 values")
    a, b, c = ns_coefficients
    x = _bf16(xp, grad)
    tall = grad.shape[0] > grad.shape[1]
    if tall:
        x = x.T
    norm = _bf16(xp, xp.sqrt(xp.sum(x * x, dtype=xp.float32)))
    norm = _bf16(xp, xp.maximum(norm, xp.float32(eps)))
    x = _bf16(xp, x / norm)
    for _ in range(ns_steps):
        gram = _bf16(xp, x @ x.T)
        update = _bf16(xp, xp.float32(b) * gram + xp.float32(c) * (gram @ gram))
        x = _bf16(xp, xp.float32(a) * x + update @ x)
    return x.T if tall else x


def _adjust_lr(lr: float, adjust_lr_fn: str | None, shape: tuple) -> float:
    """``lr`` scaled for the shape (A, B): sqrt(max(1, A / B)) ("original", the default) or
    0.2 sqrt(max(A, B)) ("match_rms_adamw")."""
    rows, cols = shape[:2]
    if adjust_lr_fn is None or adjust_lr_fn == "original":
        ratio = math.sqrt(max(1, rows / cols))
    elif adjust_lr_fn == "match_rms_adamw":
        ratio = 0.2 * math.sqrt(max(rows, cols))
    else:
        ratio = 1.0
    return lr * ratio


class Muon(Optimizer):
    """Muon (Jordan et al., 2024), PyTorch's formulation, for 2-D parameters.

    With ``g`` the gradient and ``B`` the momentum buffer (starting at 0)::

        B = B + (1 - momentum) * (g - B)                 (lerp)
        U = g + momentum * (B - g) if nesterov else B    (lerp)
        O = NS(U)                  (Newton-Schulz orthogonalization, ns_steps, in bfloat16)
        p = p * (1 - lr * weight_decay) - adjusted_lr * O

    Args:
        params: 2-D parameters (Tensors) or parameter groups (dicts); biases, embeddings and
            other parameters belong to another optimizer such as AdamW.
        lr: learning rate (default 1e-3).
        weight_decay: decoupled weight decay (default 0.1).
        momentum: momentum factor (default 0.95).
        nesterov: Nesterov momentum (default True).
        ns_coefficients: the quintic's coefficients (a, b, c) (default (3.4445, -4.775, 2.0315)).
        eps: lower bound of the norm the iterate is divided by (default 1e-7).
        ns_steps: Newton-Schulz iterations, < 100 (default 5).
        adjust_lr_fn: None or "original" (lr * sqrt(max(1, A / B))) or "match_rms_adamw"
            (lr * 0.2 * sqrt(max(A, B))).

    State per parameter: ``momentum_buffer``.

    Example:
        >>> hidden = [p for p in model.parameters() if p.ndim == 2]
        >>> opt = optim.Muon(hidden, lr=0.02, momentum=0.95)
    """

    def __init__(self, params: Iterable, lr: float = 1e-3, weight_decay: float = 0.1,
                 momentum: float = 0.95, nesterov: bool = True,
                 ns_coefficients: tuple = (DEFAULT_A, DEFAULT_B, DEFAULT_C), eps: float = EPS,
                 ns_steps: int = DEFAULT_NS_STEPS, adjust_lr_fn: str | None = None) -> None:
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= lr:
            raise ValueError(f"Learning rate should be >= 0 but is: {lr}")
        if not 0.0 <= momentum:
            raise ValueError(f"momentum should be >= 0 but is: {momentum}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"weight decay should be >= 0 but is: {weight_decay}")
        if adjust_lr_fn is not None and adjust_lr_fn not in ("original", "match_rms_adamw"):
            raise ValueError(f"Adjust learning rate function {adjust_lr_fn} is not supported")
        super().__init__(params, {"lr": lr, "weight_decay": weight_decay, "momentum": momentum,
                                  "nesterov": nesterov, "ns_coefficients": ns_coefficients,
                                  "eps": eps, "ns_steps": ns_steps,
                                  "adjust_lr_fn": adjust_lr_fn})
        for group in self.param_groups:
            for p in group["params"]:
                if p.ndim != 2:
                    raise ValueError("Muon only supports 2D parameters whereas we found a "
                                     f"parameter with size: {_size(p)}")

    def step(self, closure: Callable | None = None):
        """One Muon update of every parameter that has a gradient; returns closure's loss."""
        loss = self._closure(closure)
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                if p.is_complex():
                    raise RuntimeError("Muon does not support complex parameters")
                if p.grad.ndim != 2:
                    raise ValueError("Param gradient must be a 2D matrix")
                self._update(p, group)
        return loss

    def _update(self, p, group: dict) -> None:
        xp = p._dev.backend.xp
        state = self.state[p]
        g = self._grad_of(p)
        if "momentum_buffer" not in state:
            state["momentum_buffer"] = self._state_tensor(p)
        buf, momentum = state["momentum_buffer"]._data, group["momentum"]
        self._lerp(p, buf, g, 1.0 - momentum)
        if group["nesterov"]:
            update = self._work(p)
            update[...] = g
            self._lerp(p, update, buf, momentum)
        else:
            update = buf
        ortho = zeropower_via_newtonschulz(xp, update, tuple(group["ns_coefficients"]),
                                           group["ns_steps"], group["eps"])
        lr = _value(group["lr"])
        adjusted = _adjust_lr(lr, group["adjust_lr_fn"], p._data.shape)
        data = p._data
        xp.multiply(data, 1 - lr * group["weight_decay"], out=data)
        xp.subtract(data, adjusted * ortho.astype(data.dtype), out=data)
        p._vc[0] += 1


def _size(p: Tensor) -> str:
    """``p.size()`` as PyTorch prints it: ``torch.Size([3])``."""
    return f"torch.Size({list(p.shape)})"
