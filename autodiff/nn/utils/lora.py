"""LoRA: low-rank adapters on Linear layers (Hu et al., 2021).

``LoRALinear(base, r, alpha)`` computes base(x) + (alpha / r) * x A^T B^T with A (r, in) from
kaiming_uniform_(a=sqrt(5)) and B (out, r) initialised to zero, so a fresh adapter changes
nothing; the base layer is frozen.
"""

from __future__ import annotations

import math

from ... import creation
from ...autograd.grad_mode import no_grad
from ...tensor import Tensor
from .. import init
from ..modules.linear import Linear
from ..modules.module import Module
from ..parameter import Parameter


class LoRALinear(Module):
    """A frozen Linear plus a trainable low-rank update Delta W = B A scaled by alpha / r.

    Args:
        base: the nn.Linear to adapt (its parameters are frozen).
        r: the rank (> 0); alpha: the scale numerator (default r, i.e. scale 1).

    Shape:
        as the base Linear. Parameters ``A`` (r, in_features), ``B`` (out_features, r).

    Example:
        >>> layer = LoRALinear(nn.Linear(16, 8), r=4, alpha=8)
        >>> layer.merge()  # fold B A into base.weight
    """

    def __init__(self, base: Linear, r: int = 8, alpha: float | None = None) -> None:
        super().__init__()
        if not isinstance(base, Linear):
            raise TypeError(f"LoRALinear: expected an nn.Linear, got {type(base).__name__}")
        if r <= 0:
            raise ValueError(f"LoRALinear: rank r must be positive, got {r}")
        self.base, self.r = base, int(r)
        self.alpha = float(r if alpha is None else alpha)
        self.scaling = self.alpha / self.r
        self.in_features, self.out_features = base.in_features, base.out_features
        w = base.weight
        self.A = Parameter(creation.empty(r, base.in_features, dtype=w.dtype, device=w.device))
        self.B = Parameter(creation.zeros(base.out_features, r, dtype=w.dtype, device=w.device))
        init.kaiming_uniform_(self.A, a=math.sqrt(5))
        base.requires_grad_(False)
        self.merged = False

    def forward(self, x: Tensor) -> Tensor:
        y = self.base(x)
        if self.merged:
            return y
        return y + ((x @ self.A.t()) @ self.B.t()) * self.scaling

    def delta_weight(self) -> Tensor:
        """(alpha / r) * B A, of the base weight's shape."""
        return (self.B @ self.A) * self.scaling

    def merge(self) -> Linear:
        """Fold Delta W into the base weight (after which the adapter adds nothing);
        returns the base Linear."""
        if not self.merged:
            with no_grad():
                self.base.weight.add_(self.delta_weight())
            self.merged = True
        return self.base

    def unmerge(self) -> None:
        """Undo merge()."""
        if self.merged:
            with no_grad():
                self.base.weight.sub_(self.delta_weight())
            self.merged = False

    def extra_repr(self) -> str:
        return f"r={self.r}, alpha={self.alpha}, merged={self.merged}"


def _matches(name: str, target) -> bool:
    if target is None:
        return True
    if callable(target):
        return bool(target(name))
    targets = [target] if isinstance(target, str) else list(target)
    last = name.rsplit(".", 1)[-1]
    return any(name == t or last == t or name.endswith("." + t) for t in targets)


def apply_lora(model: Module, r: int = 8, alpha: float | None = None,
               target=None) -> Module:
    """Replace the targeted Linear layers of ``model`` by LoRALinear wrappers and freeze every
    other parameter; returns the model.

    Args:
        r, alpha: the adapters' rank and scale numerator.
        target: which Linear layers: None (all), a name or list of names (matching the
            full dotted name or its last component, e.g. "q_proj"), or a predicate on the
            dotted name.
    """
    for p in model.parameters():
        p.requires_grad_(False)
    replace = []
    for name, mod in model.named_modules():
        for child_name, child in mod._modules.items():
            full = f"{name}.{child_name}" if name else child_name
            if isinstance(child, Linear) and _matches(full, target):
                replace.append((mod, child_name, child))
    if isinstance(model, Linear) and _matches("", target) and not replace:
        raise ValueError("apply_lora: wrap a bare Linear with LoRALinear directly")
    for parent, child_name, child in replace:
        setattr(parent, child_name, LoRALinear(child, r, alpha))
    return model
