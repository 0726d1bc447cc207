"""``GradScaler``: loss scaling for float16 training, as ``torch.amp.GradScaler``.

Multiply the loss by a scale S before backward so float16 gradients do not underflow; before
the optimizer step divide the gradients by S, and skip the step when any of them is inf or NaN.
S halves (``backoff_factor``) after a skipped step and doubles (``growth_factor``) after
``growth_interval`` steps in a row without one. S and the count are float32 / int32 0-dim
tensors on the device of the first scaled output, updated with PyTorch's arithmetic
(``_amp_update_scale_``), so a run gives the same sequence of scales.
"""

from __future__ import annotations

import warnings
from collections import defaultdict
from collections.abc import Iterable
from enum import Enum
from typing import Any

import numpy as np

from .. import dtypes
from ..creation import full
from ..tensor import Tensor
from .autocast_mode import _device_type, _tensor_device_type

__all__ = ["GradScaler", "OptState"]


class OptState(Enum):
    READY = 0
    UNSCALED = 1
    STEPPED = 2


def _refresh_per_optimizer_state() -> dict:
    return {"stage": OptState.READY, "found_inf_per_device": {}}


class GradScaler:
    """Scale the loss, unscale the gradients, skip steps with inf/NaN gradients.

    Args:
        device: 'cpu' (also 'numpy', 'cpp') or 'cuda'; PyTorch's default is 'cuda', autodiff's
            is 'cpu'. A 'cuda' scaler without CUDA warns and disables itself, as in PyTorch.
        init_scale: the first scale factor.
        growth_factor: factor (> 1) the scale grows by after ``growth_interval`` good steps.
        backoff_factor: factor (< 1) the scale shrinks by after a step with inf/NaN gradients.
        growth_interval: number of consecutive good steps before the scale grows.
        enabled: False makes every method a pass-through (``scale`` returns its input).

    Example:
        >>> scaler = ad.amp.GradScaler("cpu")
        >>> with ad.autocast("cpu"):
        ...     loss = F.cross_entropy(model(x), y)
        >>> scaler.scale(loss).backward()
        >>> scaler.step(opt)      # unscales, steps unless a gradient is inf/NaN
        >>> scaler.update()       # grows or backs off the scale
    """

    def __init__(
        self,
        device: str = "cpu",
        init_scale: float = 2.0**16,
        growth_factor: float = 2.0,
        backoff_factor: float = 0.5,
        growth_interval: int = 2000,
        enabled: bool = True,
    ) -> None:
        self._device = device
        self._type = _device_type(device)
        self._enabled = enabled
        if self._type == "cuda" and enabled:
            from .. import cuda

            if not cuda.is_available():
                warnings.warn(
                    "autodiff.cuda.amp.GradScaler is enabled, but CUDA is not "
                    "available.  Disabling.",
                    stacklevel=2,
                )
                self._enabled = False
        if self._enabled:
            if growth_factor <= 1.0:
                raise ValueError(
                    f"GradScaler: the growth factor must be > 1.0, got {growth_factor}"
                )
            if backoff_factor >= 1.0:
                raise ValueError(
                    f"GradScaler: the backoff factor must be < 1.0, got {backoff_factor}"
                )
            self._init_scale = init_scale
            self._scale: Tensor | None = None  # made by the first scale(), on its device
            self._growth_factor = growth_factor
            self._backoff_factor = backoff_factor
            self._growth_interval = growth_interval
            self._init_growth_tracker = 0
            self._growth_tracker: Tensor | None = None
            self._per_optimizer_states: defaultdict = defaultdict(_refresh_per_optimizer_state)

    # ----------------------------------------------------------------- scale
    def _lazy_init_scale_growth_tracker(self, dev) -> None:
        self._scale = full((), self._init_scale, dtype=dtypes.float32, device=dev)
        self._growth_tracker = full((), self._init_growth_tracker, dtype=dtypes.int32, device=dev)

    def _check_scale_growth_tracker(self, funcname: str) -> tuple:
        if self._scale is None or self._growth_tracker is None:
            raise RuntimeError(
                f"Attempted {funcname} but _scale is None.  This may indicate "
                f"your script did not use scaler.scale(loss or outputs) earlier "
                f"in the iteration."
            )
        return self._scale, self._growth_tracker

    def scale(self, outputs: Any) -> Any:
        """``outputs`` (a tensor, or nested lists/tuples of tensors) times the scale factor."""
        if not self._enabled:
            return outputs
        per_device: dict = {}

        def apply(val):
            if isinstance(val, Tensor):
                if self._scale is None:
                    self._lazy_init_scale_growth_tracker(val.device)
                key = str(val.device)
                if key not in per_device:
                    s = self._scale
                    per_device[key] = s if str(s.device) == key else s.to(val.device)
                with np.errstate(over="ignore"):  # float16 overflow is what step() detects
                    return val * per_device[key]
            if isinstance(val, (list, tuple)):
                return type(val)(apply(v) for v in val)
            if isinstance(val, Iterable) and not isinstance(val, (str, bytes, dict)):
                return map(apply, val)
            raise ValueError(
                f"outputs must be a Tensor or an iterable of Tensors, got {type(val).__name__}"
            )

        return apply(outputs)

    # ----------------------------------------------------------------- unscale
    def _unscale_grads_(self, optimizer, inv_scale: float, allow_fp16: bool) -> dict:
        """Divide every gradient by the scale in place; per device, 1.0 if one had inf/NaN."""
        found: dict = {}
        inv = np.float32(inv_scale)
        for group in optimizer.param_groups:
            for p in group["params"]:
                g = p.grad
                if g is None:
                    continue
                if not allow_fp16 and g.dtype is dtypes.float16:
                    raise ValueError("Attempting to unscale FP16 gradients.")
                arr = g._writable()
                xp = g._dev.backend.xp
                bad = not bool(xp.isfinite(arr).all())
                key = str(g.device)
                found[key] = max(found.get(key, 0.0), 1.0 if bad else 0.0)
                if inv != 1.0:  # float16 in float32 (PyTorch's opmath), then rounded back
                    if arr.dtype == np.float16:  # (only _check_inf_per_device, with inv 1)
                        arr[...] = (arr.astype(np.float32) * inv).astype(np.float16)
                    else:
                        xp.multiply(arr, arr.dtype.type(inv), out=arr)
                    g._vc[0] += 1
        return {k: full((), v, dtype=dtypes.float32, device=k) for k, v in found.items()}

    def unscale_(self, optimizer) -> None:
        """Divide ``optimizer``'s gradients by the scale (in place), e.g. before clipping them;
        ``step`` then does not unscale again. Once per optimizer between ``update()`` calls."""
        if not self._enabled:
            return
        self._check_scale_growth_tracker("unscale_")
        state = self._per_optimizer_states[id(optimizer)]
        if state["stage"] is OptState.UNSCALED:
            raise RuntimeError(
                "unscale_() has already been called on this optimizer since the last update()."
            )
        if state["stage"] is OptState.STEPPED:
            raise RuntimeError("unscale_() is being called after step().")
        # the reciprocal in float64, then rounded to float32, as PyTorch
        inv_scale = float(np.float32(1.0 / float(self._scale.item())))
        state["found_inf_per_device"] = self._unscale_grads_(optimizer, inv_scale, False)
        state["stage"] = OptState.UNSCALED

    def _check_inf_per_device(self, optimizer) -> dict:
        self._check_scale_growth_tracker("_check_inf_per_device")
        state = self._per_optimizer_states[id(optimizer)]
        state["found_inf_per_device"] = self._unscale_grads_(optimizer, 1.0, True)
        return state["found_inf_per_device"]

    def _found_inf_per_device(self, optimizer) -> dict:
        return self._per_optimizer_states[id(optimizer)]["found_inf_per_device"]

    # ----------------------------------------------------------------- step / update
    def step(self, optimizer, *args: Any, **kwargs: Any) -> Any:
        """Unscale ``optimizer``'s gradients (unless ``unscale_`` did) and call
        ``optimizer.step(*args, **kwargs)`` unless one of them is inf/NaN. Returns what the step
        returned, or None when skipped. A ``closure`` keyword is not supported."""
        if not self._enabled:
            return optimizer.step(*args, **kwargs)
        if "closure" in kwargs:
            raise RuntimeError("Closure use is not currently supported if GradScaler is enabled.")
        self._check_scale_growth_tracker("step")
        state = self._per_optimizer_states[id(optimizer)]
        if state["stage"] is OptState.STEPPED:
            raise RuntimeError("step() has already been called since the last update().")
        if state["stage"] is OptState.READY:
            self.unscale_(optimizer)
        if not state["found_inf_per_device"]:
            raise RuntimeError(
                "No inf checks were recorded for this optimizer: none of its "
                "parameters has a gradient."
            )
        retval = None
        if not sum(v.item() for v in state["found_inf_per_device"].values()):
            retval = optimizer.step(*args, **kwargs)
        state["stage"] = OptState.STEPPED
        return retval

    def update(self, new_scale: float | Tensor | None = None) -> None:
        """Set the scale for the next iteration: ``new_scale`` when given, else back off after
        a skipped step or grow after ``growth_interval`` good ones."""
        if not self._enabled:
            return
        scale, tracker = self._check_scale_growth_tracker("update")
        if new_scale is not None:
            self._set_scale(new_scale)
        else:
            found_infs = [
                v
                for state in self._per_optimizer_states.values()
                for v in state["found_inf_per_device"].values()
            ]
            if not found_infs:
                raise RuntimeError("No inf checks were recorded prior to update.")
            found_inf = sum(v.item() for v in found_infs)
            s, n = float(scale.item()), int(tracker.item())
            if found_inf:  # float32 scale times a double factor, rounded back (PyTorch's kernel)
                s, n = float(np.float32(s * self._backoff_factor)), 0
            elif n + 1 == self._growth_interval:
                with np.errstate(over="ignore"):
                    grown = np.float32(s * self._growth_factor)
                s, n = (float(grown) if np.isfinite(grown) else s), 0
            else:
                n += 1
            scale.fill_(s)
            tracker.fill_(n)
        self._per_optimizer_states = defaultdict(_refresh_per_optimizer_state)

    def _set_scale(self, new_scale: float | Tensor) -> None:
        if isinstance(new_scale, (int, float)) and not isinstance(new_scale, bool):
            self._scale.fill_(float(new_scale))
            return
        if (
            not isinstance(new_scale, Tensor)
            or new_scale.numel() != 1
            or new_scale.requires_grad
            or _tensor_device_type(new_scale) != self._type
        ):
            raise ValueError(
                f"new_scale should be a float or a 1-element float tensor on "
                f"device type {self._type!r} with requires_grad=False, got "
                f"{new_scale!r}"
            )
        self._scale.fill_(float(new_scale.item()))

    # ----------------------------------------------------------------- accessors
    def get_scale(self) -> float:
        """The current scale factor (1.0 when disabled)."""
        if not self._enabled:
            return 1.0
        return self._init_scale if self._scale is None else float(self._scale.item())

    def get_growth_factor(self) -> float:
        return self._growth_factor

    def set_growth_factor(self, new_factor: float) -> None:
        self._growth_factor = new_factor

    def get_backoff_factor(self) -> float:
        return self._backoff_factor

    def set_backoff_factor(self, new_factor: float) -> None:
        self._backoff_factor = new_factor

    def get_growth_interval(self) -> int:
        return self._growth_interval

    def set_growth_interval(self, new_interval: int) -> None:
        self._growth_interval = new_interval

    def _get_growth_tracker(self) -> int:
        if not self._enabled:
            return 0
        if self._growth_tracker is None:
            return self._init_growth_tracker
        return int(self._growth_tracker.item())

    def is_enabled(self) -> bool:
        return self._enabled

    # ----------------------------------------------------------------- state dict
    def state_dict(self) -> dict:
        """``scale``, ``growth_factor``, ``backoff_factor``, ``growth_interval`` and
        ``_growth_tracker`` (an empty dict when disabled), as PyTorch."""
        if not self._enabled:
            return {}
        return {
            "scale": self.get_scale(),
            "growth_factor": self._growth_factor,
            "backoff_factor": self._backoff_factor,
            "growth_interval": self._growth_interval,
            "_growth_tracker": self._get_growth_tracker(),
        }

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore what ``state_dict()`` returned."""
        if not self._enabled:
            return
        if len(state_dict) == 0:
            raise RuntimeError(
                "The source state dict is empty, possibly because it was saved "
                "from a disabled instance of GradScaler."
            )
        self._init_scale = float(state_dict["scale"])
        if self._scale is not None:
            self._scale.fill_(self._init_scale)
        self._growth_factor = float(state_dict["growth_factor"])
        self._backoff_factor = float(state_dict["backoff_factor"])
        self._growth_interval = int(state_dict["growth_interval"])
        self._init_growth_tracker = int(state_dict["_growth_tracker"])
        if self._growth_tracker is not None:
            self._growth_tracker.fill_(self._init_growth_tracker)
