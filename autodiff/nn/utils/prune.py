"""Pruning, as ``torch.nn.utils.prune``: pruning parameter ``name`` of a module moves the
original to the parameter ``name + "_orig"``, stores a 0/1 mask in the buffer ``name + "_mask"``
and recomputes the plain attribute ``name = orig * mask`` in a forward pre-hook, so gradients
reach ``_orig`` only where the mask is 1 and ``state_dict()`` matches PyTorch's keys. Pruning a
parameter again combines the masks (a ``PruningContainer``): the new method acts only on the
entries (or channels) still unpruned. ``remove`` bakes the mask in and restores the parameter."""

from __future__ import annotations

import numbers
from abc import ABC, abstractmethod
from collections.abc import Iterable
from typing import TypeVar

from ..._memory_format import contiguous_format
from ...creation import ones_like, rand, rand_like, zeros_like
from ...tensor import Tensor
from ..modules.module import Module
from .convert_parameters import parameters_to_vector

__all__ = ["BasePruningMethod", "PruningContainer", "Identity", "RandomUnstructured",
           "L1Unstructured", "RandomStructured", "LnStructured", "CustomFromMask", "identity",
           "random_unstructured", "l1_unstructured", "random_structured", "ln_structured",
           "global_unstructured", "custom_from_mask", "remove", "is_pruned"]

T_module = TypeVar("T_module", bound=Module)


class _PruneArgumentError(ValueError, AssertionError):
    """A bad argument that PyTorch reports with an AssertionError: catchable as either."""


class BasePruningMethod(ABC):
    """Base class of pruning methods: a subclass defines ``compute_mask`` (and usually
    ``PRUNING_TYPE``: "unstructured", "structured" or "global"); an instance applied to a module
    is its forward pre-hook, refreshing ``module.<name>`` from ``<name>_orig`` and
    ``<name>_mask`` before every forward."""

    _tensor_name: str | None = None
    PRUNING_TYPE: str

    def __call__(self, module: Module, inputs) -> None:
        """The forward pre-hook: ``module.<name> = <name>_orig * <name>_mask``."""
        setattr(module, self._tensor_name, self.apply_mask(module))

    @abstractmethod
    def compute_mask(self, t: Tensor, default_mask: Tensor) -> Tensor:
        """The mask of ``t`` (the importance scores), zero wherever ``default_mask`` (the mask
        of earlier prunings, ones at first) is zero."""

    def apply_mask(self, module: Module) -> Tensor:
        """``<name>_orig * <name>_mask`` of ``module``; differentiable in ``_orig``."""
        if self._tensor_name is None:
            raise _PruneArgumentError(f"Module {module} has to be pruned")
        mask = getattr(module, self._tensor_name + "_mask")
        orig = getattr(module, self._tensor_name + "_orig")
        return mask.to(dtype=orig.dtype) * orig

    @classmethod
    def apply(cls, module: Module, name: str, *args, importance_scores: Tensor | None = None,
              **kwargs) -> BasePruningMethod:
        """Prune ``module.<name>`` with ``cls(*args, **kwargs)``, on top of any earlier pruning.

        Args:
            module: the module holding the tensor.
            name: the parameter's name in ``module``.
            importance_scores: scores of the parameter's shape ranking its entries (default:
                the parameter itself).

        Returns:
            The hook now registered: the new method, or a ``PruningContainer`` holding it.
        """
        method = _composite_method(cls, module, name, *args, **kwargs)
        orig = getattr(module, name)
        if importance_scores is None:
            importance_scores = orig
        elif importance_scores.shape != orig.shape:
            raise _PruneArgumentError(
                f"importance_scores should have the same shape as parameter {name} of "
                f"{module}, got {importance_scores.shape} vs {orig.shape}")
        first = not isinstance(method, PruningContainer)
        if first:  # move the parameter to <name>_orig; <name> becomes a plain attribute
            module.register_parameter(name + "_orig", orig)
            del module._parameters[name]
            default_mask = ones_like(orig)
        else:
            default_mask = getattr(module, name + "_mask").detach()
            default_mask = default_mask.clone(memory_format=contiguous_format)
        try:
            mask = method.compute_mask(importance_scores, default_mask=default_mask)
            module.register_buffer(name + "_mask", mask)
            setattr(module, name, method.apply_mask(module))
            module.register_forward_pre_hook(method)
        except Exception:
            if first:  # roll back to the unpruned parameter
                module.__dict__.pop(name, None)
                module._buffers.pop(name + "_mask", None)
                module.register_parameter(name, module._parameters.pop(name + "_orig"))
            raise
        return method

    def prune(self, t: Tensor, default_mask: Tensor | None = None,
              importance_scores: Tensor | None = None) -> Tensor:
        """``t`` times the mask ``compute_mask`` gives for ``importance_scores`` (default:
        ``t``) on top of ``default_mask`` (default: ones)."""
        if importance_scores is None:
            importance_scores = t
        elif importance_scores.shape != t.shape:
            raise _PruneArgumentError(f"importance_scores should have the same shape as tensor "
                                      f"t, got {importance_scores.shape} vs {t.shape}")
        default_mask = default_mask if default_mask is not None else ones_like(t)
        return t * self.compute_mask(importance_scores, default_mask=default_mask)

    def remove(self, module: Module) -> None:
        """Make the pruning permanent: ``<name>`` becomes the ``_orig`` Parameter (the same
        object) holding ``orig * mask``; ``_orig`` and ``_mask`` are deleted."""
        if self._tensor_name is None:
            raise _PruneArgumentError(f"Module {module} has to be pruned before pruning can be "
                                      f"removed")
        name = self._tensor_name
        weight = self.apply_mask(module)
        if name in module.__dict__:
            delattr(module, name)
        orig = module._parameters.pop(name + "_orig")
        orig.data = weight.data
        del module._buffers[name + "_mask"]
        setattr(module, name, orig)


def _composite_method(cls, module: Module, name: str, *args, **kwargs) -> BasePruningMethod:
    """``cls(*args, **kwargs)`` for ``module.<name>``, merged into a PruningContainer with the
    pruning hook already on that tensor (whose hook is taken off the module)."""
    old = [(k, hook) for k, hook in module._forward_pre_hooks.items()
           if isinstance(hook, BasePruningMethod) and hook._tensor_name == name]
    if len(old) > 1:
        raise AssertionError(f"Avoid adding multiple pruning hooks to the same tensor {name} of "
                           f"module {module}. Use a PruningContainer.")
    for k, _ in old:
        del module._forward_pre_hooks[k]
    method = cls(*args, **kwargs)
    method._tensor_name = name
    if not old:
        return method
    old_method = old[0][1]
    if not isinstance(old_method, PruningContainer):
        old_method = PruningContainer(old_method)
    old_method.add_pruning_method(method)
    return old_method


class PruningContainer(BasePruningMethod):
    """The sequence of pruning methods applied to one tensor (iterative pruning): its mask is
    the last method's mask computed over the entries (unstructured) or channels (structured)
    that earlier masks left unpruned, or over all entries ("global").

    Args:
        *args: pruning methods, all acting on the same tensor name.
    """

    def __init__(self, *args: BasePruningMethod) -> None:
        self._pruning_methods: tuple[BasePruningMethod, ...] = ()
        for method in args:
            self.add_pruning_method(method)

    def add_pruning_method(self, method: BasePruningMethod) -> None:
        """Append ``method``, which must prune the container's tensor."""
        if not isinstance(method, BasePruningMethod) and method is not None:
            raise TypeError(f"{type(method)} is not a BasePruningMethod subclass")
        if method is not None and self._tensor_name is None:  # the first of a manual list
            self._tensor_name = method._tensor_name
        elif method is not None and self._tensor_name != method._tensor_name:
            raise ValueError(f"Can only add pruning methods acting on the parameter named "
                             f"'{self._tensor_name}' to PruningContainer {self}. Found "
                             f"'{method._tensor_name}'")
        self._pruning_methods += (method,)

    def __len__(self) -> int:
        return len(self._pruning_methods)

    def __iter__(self):
        return iter(self._pruning_methods)

    def __getitem__(self, idx):
        return self._pruning_methods[idx]

    def compute_mask(self, t: Tensor, default_mask: Tensor) -> Tensor:
        """``default_mask`` with the last method's mask written over its unpruned part."""
        method = self._pruning_methods[-1]
        kind = getattr(method, "PRUNING_TYPE", None)
        if kind == "unstructured":
            slc = default_mask == 1
        elif kind == "structured":
            if not hasattr(method, "dim"):
                raise AttributeError('Pruning methods of PRUNING_TYPE "structured" need to '
                                     'have the attribute `dim` defined.')
            n_dims, dim = t.dim(), method.dim
            dim = dim + n_dims if dim < 0 else dim
            if dim < 0:
                raise IndexError(f"Index is out of bounds for tensor with dimensions {n_dims}")
            others = [d for d in range(n_dims) if d != dim]
            keep_channel = default_mask.sum(dim=others) != 0 if others else default_mask != 0
            slc = tuple(keep_channel if d == dim else slice(None) for d in range(n_dims))
        elif kind == "global":
            slc = (slice(None),) * t.dim()
        else:
            raise ValueError(f"Unrecognized PRUNING_TYPE {kind}")
        new_mask = default_mask.to(dtype=t.dtype)
        partial_mask = method.compute_mask(t[slc], default_mask=default_mask[slc])
        new_mask[slc] = partial_mask.to(dtype=new_mask.dtype)
        return new_mask


class Identity(BasePruningMethod):
    """Prunes nothing: the pruning reparametrization with a mask of ones."""

    PRUNING_TYPE = "unstructured"

    def compute_mask(self, t: Tensor, default_mask: Tensor) -> Tensor:
        return default_mask

    @classmethod
    def apply(cls, module: Module, name: str) -> Identity:  # type: ignore[override]
        return super().apply(module, name)


class _Unstructured(BasePruningMethod):
    """Prunes the ``amount`` (int: a count; float in [0, 1]: a fraction) of entries with the
    lowest ``_scores`` (as PyTorch: ``topk`` of the scores, ``largest`` as ``_largest``)."""

    PRUNING_TYPE = "unstructured"
    _largest = False

    def __init__(self, amount: int | float) -> None:
        _validate_pruning_amount_init(amount)
        self.amount = amount

    def _scores(self, t: Tensor) -> Tensor:
        raise NotImplementedError

    def compute_mask(self, t: Tensor, default_mask: Tensor) -> Tensor:
        k = _nparams_toprune(self.amount, t.nelement())
        mask = default_mask.clone(memory_format=contiguous_format)
        if k != 0:
            mask.view(-1)[self._scores(t).reshape(-1).topk(k, largest=self._largest).indices] = 0
        return mask


class RandomUnstructured(_Unstructured):
    """Prunes ``amount`` (int: a count; float in [0, 1]: a fraction) of the still unpruned
    entries, drawn at random from the global generator (``ad.manual_seed``)."""

    _largest = True

    def _scores(self, t: Tensor) -> Tensor:
        return rand_like(t)

    @classmethod
    def apply(cls, module: Module, name: str, amount: int | float  # type: ignore[override]
              ) -> RandomUnstructured:
        return super().apply(module, name, amount=amount)


class L1Unstructured(_Unstructured):
    """Prunes the ``amount`` (int: a count; float in [0, 1]: a fraction) of entries with the
    smallest absolute value (``topk(largest=False)``, as PyTorch)."""

    def _scores(self, t: Tensor) -> Tensor:
        return t.abs()

    @classmethod
    def apply(cls, module: Module, name: str, amount: int | float,  # type: ignore[override]
              importance_scores: Tensor | None = None) -> L1Unstructured:
        return super().apply(module, name, amount=amount, importance_scores=importance_scores)


class RandomStructured(BasePruningMethod):
    """Prunes ``amount`` whole channels (slices along ``dim``) at random.

    Args:
        amount: channels to prune (int: a count; float in [0, 1]: a fraction).
        dim: the dim along which channels are defined (default -1).
    """

    PRUNING_TYPE = "structured"

    def __init__(self, amount: int | float, dim: int = -1) -> None:
        _validate_pruning_amount_init(amount)
        self.amount, self.dim = amount, dim

    def compute_mask(self, t: Tensor, default_mask: Tensor) -> Tensor:
        _validate_structured_pruning(t)
        _validate_pruning_dim(t, self.dim)
        size = t.shape[self.dim]
        k = _nparams_toprune(self.amount, size)
        if k == 0:
            return default_mask
        prob = rand(size, device=t.device)
        keep = prob > prob.kthvalue(k).values
        return _channel_mask(t, self.dim, keep) * default_mask.to(dtype=t.dtype)

    @classmethod
    def apply(cls, module: Module, name: str, amount: int | float,  # type: ignore[override]
              dim: int = -1) -> RandomStructured:
        return super().apply(module, name, amount=amount, dim=dim)


class LnStructured(BasePruningMethod):
    """Prunes the ``amount`` channels (slices along ``dim``) of smallest L``n`` norm.

    Args:
        amount: channels to prune (int: a count; float in [0, 1]: a fraction).
        n: the norm's order, as ``p`` of ``ad.norm`` (1, 2, inf, -inf, 'fro', ...).
        dim: the dim along which channels are defined (default -1).
    """

    PRUNING_TYPE = "structured"

    def __init__(self, amount: int | float, n, dim: int = -1) -> None:
        _validate_pruning_amount_init(amount)
        self.amount, self.n, self.dim = amount, n, dim

    def compute_mask(self, t: Tensor, default_mask: Tensor) -> Tensor:
        _validate_structured_pruning(t)
        _validate_pruning_dim(t, self.dim)
        size = t.shape[self.dim]
        k = _nparams_toprune(self.amount, size)
        norm = _compute_norm(t, self.n, self.dim)
        keep = norm.topk(size - k, largest=True).indices
        if k == 0:
            return default_mask
        return _channel_mask(t, self.dim, keep) * default_mask.to(dtype=t.dtype)

    @classmethod
    def apply(cls, module: Module, name: str, amount: int | float, n,  # type: ignore[override]
              dim: int, importance_scores: Tensor | None = None) -> LnStructured:
        return super().apply(module, name, amount=amount, n=n, dim=dim,
                             importance_scores=importance_scores)


class CustomFromMask(BasePruningMethod):
    """Prunes with a given mask (multiplied into any earlier mask)."""

    PRUNING_TYPE = "global"

    def __init__(self, mask: Tensor) -> None:
        self.mask = mask

    def compute_mask(self, t: Tensor, default_mask: Tensor) -> Tensor:
        if default_mask.shape != self.mask.shape:
            raise _PruneArgumentError(f"default_mask shape {default_mask.shape} must match "
                                      f"self.mask shape {self.mask.shape}")
        return default_mask * self.mask.to(dtype=default_mask.dtype)

    @classmethod
    def apply(cls, module: Module, name: str, mask: Tensor  # type: ignore[override]
              ) -> CustomFromMask:
        return super().apply(module, name, mask=mask)


def _channel_mask(t: Tensor, dim: int, keep: Tensor) -> Tensor:
    """Zeros of ``t``'s shape with ones on the channels ``keep`` (a bool mask or indices)."""
    mask = zeros_like(t)
    mask[tuple(keep if d == dim % t.dim() else slice(None) for d in range(t.dim()))] = 1
    return mask


# ------------------------------------------------------------------------- functions
def identity(module: T_module, name: str) -> T_module:
    """Add the pruning reparametrization of ``module.<name>`` with a mask of ones.

    Example:
        >>> m = prune.identity(nn.Linear(2, 3), "bias")
        >>> m.bias_mask
        tensor([1., 1., 1.])
    """
    Identity.apply(module, name)
    return module


def random_unstructured(module: T_module, name: str, amount: int | float) -> T_module:
    """Prune ``amount`` random unpruned entries of ``module.<name>`` (int: a count; float in
    [0, 1]: a fraction); adds ``<name>_orig``, ``<name>_mask`` and the pre-hook.

    Example:
        >>> m = prune.random_unstructured(nn.Linear(2, 3), "weight", amount=1)
        >>> int((m.weight_mask == 0).sum())
        1
    """
    RandomUnstructured.apply(module, name, amount)
    return module


def l1_unstructured(module: T_module, name: str, amount: int | float,
                    importance_scores: Tensor | None = None) -> T_module:
    """Prune the ``amount`` unpruned entries of ``module.<name>`` of smallest absolute value
    (or of smallest ``importance_scores``, a tensor of the parameter's shape).

    Args:
        module: the module holding the parameter.
        name: the parameter's name.
        amount: entries to prune (int: a count; float in [0, 1]: a fraction).
        importance_scores: what ranks the entries (default: the parameter).

    Returns:
        The module, with ``<name>_orig`` (Parameter), ``<name>_mask`` (buffer) and
        ``<name> = <name>_orig * <name>_mask`` recomputed before every forward.

    Example:
        >>> m = prune.l1_unstructured(nn.Linear(2, 3), "weight", amount=0.5)
        >>> sorted(dict(m.named_buffers()))
        ['weight_mask']
    """
    L1Unstructured.apply(module, name, amount=amount, importance_scores=importance_scores)
    return module


def random_structured(module: T_module, name: str, amount: int | float, dim: int) -> T_module:
    """Prune ``amount`` random unpruned channels (slices along ``dim``) of ``module.<name>``.

    Example:
        >>> m = prune.random_structured(nn.Linear(2, 3), "weight", amount=1, dim=0)
        >>> int((m.weight_mask.sum(1) == 0).sum())
        1
    """
    RandomStructured.apply(module, name, amount, dim)
    return module


def ln_structured(module: T_module, name: str, amount: int | float, n, dim: int,
                  importance_scores: Tensor | None = None) -> T_module:
    """Prune the ``amount`` unpruned channels (slices along ``dim``) of ``module.<name>`` of
    smallest L``n`` norm (``n`` as ``p`` of ``ad.norm``), ranked by ``importance_scores`` when
    given.

    Example:
        >>> m = prune.ln_structured(nn.Conv2d(5, 3, 2), "weight", amount=0.3, n=2, dim=1)
        >>> int((m.weight_mask.sum((0, 2, 3)) == 0).sum())
        2
    """
    LnStructured.apply(module, name, amount, n, dim, importance_scores=importance_scores)
    return module


def global_unstructured(parameters: Iterable, pruning_method: type,
                        importance_scores: dict | None = None, **kwargs) -> None:
    """Prune the ``(module, name)`` pairs of ``parameters`` together: ``pruning_method`` (an
    "unstructured" method class, built with ``**kwargs`` such as ``amount=``) ranks all their
    unpruned entries at once; each parameter then gets its slice of the mask.

    Args:
        parameters: an iterable of ``(module, name)`` pairs.
        pruning_method: e.g. ``prune.L1Unstructured``.
        importance_scores: ``{(module, name): scores}`` replacing a parameter in the ranking.

    Example:
        >>> a, b = nn.Linear(10, 4), nn.Linear(4, 1)
        >>> prune.global_unstructured([(a, "weight"), (b, "weight")],
        ...                           pruning_method=prune.L1Unstructured, amount=10)
        >>> int((a.weight_mask == 0).sum() + (b.weight_mask == 0).sum())
        10
    """
    if not isinstance(parameters, Iterable):
        raise TypeError("global_unstructured(): parameters is not an Iterable")
    parameters = list(parameters)  # read three times below: a generator would run dry
    importance_scores = importance_scores if importance_scores is not None else {}
    if not isinstance(importance_scores, dict):
        raise TypeError("global_unstructured(): importance_scores must be of type dict")
    scores = parameters_to_vector([importance_scores.get((m, n), getattr(m, n))
                                   for m, n in parameters])
    default_mask = parameters_to_vector([getattr(m, n + "_mask") if hasattr(m, n + "_mask")
                                         else ones_like(getattr(m, n)) for m, n in parameters])
    container = PruningContainer()
    container._tensor_name = "temp"
    method = pruning_method(**kwargs)
    method._tensor_name = "temp"
    if method.PRUNING_TYPE != "unstructured":
        raise TypeError(f'Only "unstructured" PRUNING_TYPE supported for the `pruning_method`. '
                        f"Found method {pruning_method} of type {method.PRUNING_TYPE}")
    container.add_pruning_method(method)
    final_mask = container.compute_mask(scores.detach(), default_mask)
    pointer = 0
    for m, n in parameters:
        param = getattr(m, n)
        custom_from_mask(m, n, mask=final_mask[pointer:pointer + param.numel()].view_as(param))
        pointer += param.numel()


def custom_from_mask(module: T_module, name: str, mask: Tensor) -> T_module:
    """Prune ``module.<name>`` with the given ``mask`` (of the parameter's shape).

    Example:
        >>> m = prune.custom_from_mask(nn.Linear(5, 3), "bias", mask=ad.tensor([0, 1, 0]))
        >>> m.bias_mask
        tensor([0., 1., 0.])
    """
    CustomFromMask.apply(module, name, mask)
    return module


def remove(module: T_module, name: str) -> T_module:
    """Make the pruning of ``module.<name>`` permanent: ``<name>`` is a Parameter again holding
    the pruned values; ``<name>_orig``, ``<name>_mask`` and the hook are gone.

    Example:
        >>> m = prune.remove(prune.l1_unstructured(nn.Linear(5, 7), "weight", 0.2), "weight")
        >>> sorted(dict(m.named_parameters()))
        ['bias', 'weight']
    """
    for k, hook in module._forward_pre_hooks.items():
        if isinstance(hook, BasePruningMethod) and hook._tensor_name == name:
            hook.remove(module)
            del module._forward_pre_hooks[k]
            return module
    raise ValueError(f"Parameter '{name}' of module {module} has to be pruned before pruning "
                     f"can be removed")


def is_pruned(module: Module) -> bool:
    """Whether ``module`` or any submodule carries a pruning pre-hook.

    Example:
        >>> prune.is_pruned(prune.identity(nn.Linear(5, 7), "weight"))
        True
    """
    return any(isinstance(hook, BasePruningMethod) for _, sub in module.named_modules()
               for hook in sub._forward_pre_hooks.values())


# ------------------------------------------------------------------------- helpers
def _validate_pruning_amount_init(amount) -> None:
    """amount: an int >= 0 (a count) or a real in [0, 1] (a fraction)."""
    if not isinstance(amount, numbers.Real):
        raise TypeError(f"Invalid type for amount: {amount}. Must be int or float.")
    if (isinstance(amount, numbers.Integral) and amount < 0) or (
            not isinstance(amount, numbers.Integral) and not 0.0 <= float(amount) <= 1.0):
        raise ValueError(f"amount={amount} should either be a float in the range [0, 1] or a "
                         f"non-negative integer")


def _nparams_toprune(amount, tensor_size: int) -> int:
    """The count ``amount`` stands for among ``tensor_size`` units (a fraction rounds, as
    Python's round), checked against ``tensor_size``."""
    k = int(amount) if isinstance(amount, numbers.Integral) else round(amount * tensor_size)
    if k > tensor_size:
        raise ValueError(f"amount={k} should be smaller than the number of parameters to "
                         f"prune={tensor_size}")
    return k


def _validate_structured_pruning(t: Tensor) -> None:
    if t.dim() <= 1:
        raise ValueError(f"Structured pruning can only be applied to multidimensional tensors. "
                         f"Found tensor of shape {t.shape} with {t.dim()} dims")


def _validate_pruning_dim(t: Tensor, dim: int) -> None:
    if dim >= t.dim():
        raise IndexError(f"Invalid index {dim} for tensor of size {t.shape}")


def _compute_norm(t: Tensor, n, dim: int) -> Tensor:
    """The L``n`` norm of each channel along ``dim`` (over every other dim): shape
    ``(t.shape[dim],)``."""
    dims = list(range(t.dim()))
    dims.remove(dims[dim])
    return t.norm(p=n, dim=dims)
