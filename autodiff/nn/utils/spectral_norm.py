"""Spectral normalization (Miyato et al., 2018), PyTorch's hook-based API: ``spectral_norm``
divides a parameter by its largest singular value, estimated by power iteration (one step per
forward in training mode)."""

from __future__ import annotations

from typing import TypeVar

from ... import ops
from ...autograd.grad_mode import no_grad
from ...tensor import Tensor
from .. import functional as F
from ..modules.conv import _ConvNd
from ..modules.module import Module
from ..parameter import Parameter
from .weight_norm import _remove_hook

__all__ = ["SpectralNorm", "spectral_norm", "remove_spectral_norm"]

T_module = TypeVar("T_module", bound=Module)


def _to_matrix(weight: Tensor, dim: int) -> Tensor:
    """``weight`` as (size of ``dim``, everything else), ``dim`` moved to the front."""
    if dim != 0:
        weight = weight.permute(dim, *[d for d in range(weight.ndim) if d != dim])
    return weight.reshape(weight.shape[0], -1)


def _default_dim(module: Module) -> int:
    """1 for transposed convolutions (their weight is (C_in, C_out, ...)), else 0."""
    return 1 if isinstance(module, _ConvNd) and module.transposed else 0


class SpectralNorm:
    """The forward pre-hook that sets ``module.<name> = <name>_orig / sigma``, with buffers
    ``<name>_u`` and ``<name>_v`` (the power iteration's singular vectors)."""

    def __init__(self, name: str = "weight", n_power_iterations: int = 1, dim: int = 0,
                 eps: float = 1e-12) -> None:
        if n_power_iterations <= 0:
            raise ValueError(f"Expected n_power_iterations to be positive, but got "
                             f"n_power_iterations={n_power_iterations}")
        self.name, self.dim, self.n_power_iterations, self.eps = (name, dim, n_power_iterations,
                                                                  eps)

    def reshape_weight_to_matrix(self, weight: Tensor) -> Tensor:
        return _to_matrix(weight, self.dim)

    def compute_weight(self, module: Module, do_power_iteration: bool) -> Tensor:
        weight = getattr(module, self.name + "_orig")
        u, v = getattr(module, self.name + "_u"), getattr(module, self.name + "_v")
        mat = self.reshape_weight_to_matrix(weight)
        if do_power_iteration:
            with no_grad():
                for _ in range(self.n_power_iterations):  # updates the buffers in place
                    v.copy_(F.normalize(ops.mv(mat.t(), u), dim=0, eps=self.eps))
                    u.copy_(F.normalize(ops.mv(mat, v), dim=0, eps=self.eps))
                u, v = u.clone(), v.clone()
        sigma = ops.dot(u, ops.mv(mat, v))
        return weight / sigma

    def remove(self, module: Module) -> None:
        with no_grad():
            weight = self.compute_weight(module, do_power_iteration=False)
        for suffix in ("", "_u", "_v", "_orig"):
            delattr(module, self.name + suffix)
        module.register_parameter(self.name, Parameter(weight.detach()))

    def __call__(self, module: Module, inputs) -> None:
        setattr(module, self.name, self.compute_weight(module, module.training))

    @staticmethod
    def apply(module: Module, name: str, n_power_iterations: int, dim: int,
              eps: float) -> SpectralNorm:
        for hook in module._forward_pre_hooks.values():
            if isinstance(hook, SpectralNorm) and hook.name == name:
                raise RuntimeError(f"Cannot register two spectral_norm hooks on the same "
                                   f"parameter {name}")
        fn = SpectralNorm(name, n_power_iterations, dim, eps)
        weight = module._parameters.get(name)
        if weight is None:
            raise ValueError(f"`SpectralNorm` cannot be applied as parameter `{name}` is None "
                             f"(or absent) in {type(module).__name__}")
        if getattr(weight, "is_lazy", False):
            raise ValueError("The module passed to `SpectralNorm` can't have uninitialized "
                             "parameters. Make sure to run the dummy forward before applying "
                             "spectral normalization")
        with no_grad():
            h, w = fn.reshape_weight_to_matrix(weight).shape
            u = F.normalize(weight.new_empty(h).normal_(0, 1), dim=0, eps=eps)
            v = F.normalize(weight.new_empty(w).normal_(0, 1), dim=0, eps=eps)
        delattr(module, name)
        module.register_parameter(name + "_orig", weight)
        setattr(module, name, weight.data)
        module.register_buffer(name + "_u", u)
        module.register_buffer(name + "_v", v)
        module.register_forward_pre_hook(fn)
        return fn


def spectral_norm(module: T_module, name: str = "weight", n_power_iterations: int = 1,
                  eps: float = 1e-12, dim: int | None = None) -> T_module:
    """Divide ``module.<name>`` by its spectral norm sigma before every forward.

    sigma = u^T W v, with u, v updated by ``n_power_iterations`` power-iteration steps per
    forward in training mode only (eval reuses the stored vectors).

    Args:
        module: the module holding the parameter.
        name: the parameter's name.
        n_power_iterations: power-iteration steps per training forward (> 0).
        eps: added to norms when normalizing u and v.
        dim: the dim of the output rows (default 0; 1 for ConvTranspose).

    Returns:
        The module, with parameter ``<name>_orig`` and buffers ``<name>_u`` (shape (h,)) and
        ``<name>_v`` (shape (w,)) for the weight seen as an (h, w) matrix.

    Example:
        >>> m = nn.utils.spectral_norm(nn.Linear(20, 40))
        >>> m.weight_u.shape, m.weight_orig.shape
        ((40,), (40, 20))
    """
    SpectralNorm.apply(module, name, n_power_iterations,
                       _default_dim(module) if dim is None else dim, eps)
    return module


def remove_spectral_norm(module: T_module, name: str = "weight") -> T_module:
    """Undo ``spectral_norm``: ``<name>`` becomes a plain parameter holding W / sigma."""
    return _remove_hook(module, SpectralNorm, name, "spectral_norm")
