"""Tensor's repr as PyTorch prints it (torch/_tensor_str.py, ported to NumPy arrays), and
PyTorch's ``set_printoptions``.

One formatter per tensor picks a column width from the shown values; floats print as
``1.`` when all are integers, in scientific notation when the non-zero magnitudes span more
than 1e3 or leave [1e-4, 1e8], else with ``precision`` digits. Rows wrap at ``linewidth``,
tensors of more than ``threshold`` elements show ``edgeitems`` per end around ``...``, and
the suffixes (device, dtype, grad_fn) wrap onto a new line when they do not fit.
"""

from __future__ import annotations

import math

import numpy as np

PRINT_OPTS: dict = {"precision": 4, "threshold": 1000, "edgeitems": 3, "linewidth": 80,
                    "sci_mode": None}
ARRAY2STRING = PRINT_OPTS  # the old name, which autodiff.torch_misc_extra re-exports
_PROFILES = {"default": (4, 1000, 3, 80), "short": (2, 1000, 2, 80),
             "full": (4, math.inf, 3, 80)}


def set_printoptions(precision: int | None = None, threshold: float | None = None,
                     edgeitems: int | None = None, linewidth: int | None = None,
                     profile: str | None = None, sci_mode: bool | None = None) -> None:
    """Set how tensors print, with PyTorch's names: digits after the point (``precision``),
    the element count past which a tensor is summarised (``threshold``) to ``edgeitems`` per
    end, the line width, a ``profile`` ("default", "short", "full") for the first four, and
    ``sci_mode`` (True: always scientific, False: never, None: chosen per tensor; as in
    PyTorch, every call resets it)."""
    if profile is not None:
        if profile not in _PROFILES:
            raise ValueError(f"set_printoptions: unknown profile {profile!r} (expected one of "
                             f"{sorted(_PROFILES)})")
        PRINT_OPTS.update(zip(("precision", "threshold", "edgeitems", "linewidth"),
                              _PROFILES[profile]))
    for key, value in (("precision", precision), ("threshold", threshold),
                       ("edgeitems", edgeitems), ("linewidth", linewidth)):
        if value is not None:
            PRINT_OPTS[key] = value
    PRINT_OPTS["sci_mode"] = sci_mode


class _Formatter:
    """One column width and notation for all the values a tensor shows."""

    def __init__(self, values: np.ndarray):
        self.floating = values.dtype.kind == "f"
        self.int_mode, self.sci_mode, self.max_width = True, False, 1
        if not self.floating:
            self.max_width = max([1] + [len(str(v)) for v in values.tolist()])
            return
        finite = values[np.isfinite(values) & (values != 0)].astype(np.float64)
        if finite.size == 0:
            return
        lo, hi = np.abs(finite).min(), np.abs(finite).max()
        self.int_mode = bool(np.all(finite == np.ceil(finite)))
        sci = PRINT_OPTS["sci_mode"]
        self.sci_mode = hi / lo > 1000.0 or hi > 1.0e8 or lo < 1.0e-4 if sci is None else sci
        self.max_width = max(len(self._text(v)) for v in finite.tolist())

    def _text(self, value: float) -> str:
        p = PRINT_OPTS["precision"]
        if self.sci_mode:
            return f"{value:.{p}e}"
        if self.int_mode:
            return f"{value:.0f}" + ("" if math.isinf(value) or math.isnan(value) else ".")
        return f"{value:.{p}f}"

    def format(self, value) -> str:
        return (self._text(value) if self.floating else str(value)).rjust(self.max_width)


def _rows(n: int, summarize: bool) -> list:
    edge = PRINT_OPTS["edgeitems"]
    if summarize and n > 2 * edge:
        return list(range(edge)) + [None] + list(range(n - edge, n))
    return list(range(n))


def _shown(a: np.ndarray, summarize: bool) -> np.ndarray:
    """The values a summarised print shows, flat (torch's get_summarized_data)."""
    if a.ndim <= 1:
        return a.reshape(-1)[[i for i in _rows(a.size, summarize) if i is not None]]
    if summarize and not PRINT_OPTS["edgeitems"]:
        return a.reshape(-1)[:0]
    parts = [_shown(a[i], summarize) for i in _rows(len(a), summarize) if i is not None]
    return np.concatenate(parts)


def _body(a: np.ndarray, indent: int, summarize: bool, fmt: _Formatter) -> str:
    if a.ndim == 0:
        return fmt.format(a.item())
    if a.ndim == 1:
        if summarize and not PRINT_OPTS["edgeitems"]:
            return "[...]"
        per_line = max(1, (PRINT_OPTS["linewidth"] - indent) // (fmt.max_width + 2))
        data = [" ..." if i is None else fmt.format(a[i].item())
                for i in _rows(len(a), summarize)]
        lines = [", ".join(data[i:i + per_line]) for i in range(0, len(data), per_line)]
        return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"
    slices = ["..." if i is None else _body(a[i], indent + 1, summarize, fmt)
              for i in _rows(len(a), summarize)]
    return "[" + ("," + "\n" * (a.ndim - 1) + " " * (indent + 1)).join(slices) + "]"


def _add_suffixes(text: str, suffixes: list, indent: int) -> str:
    last_line_len = len(text) - text.rfind("\n") + 1
    for suffix in suffixes:
        if last_line_len + len(suffix) + 2 > PRINT_OPTS["linewidth"]:
            text += ",\n" + " " * indent + suffix
            last_line_len = indent + len(suffix)
        else:
            text += ", " + suffix
            last_line_len += len(suffix) + 2
    return text + ")"


def tensor_repr(t) -> str:
    """``tensor(<values>, device=..., [size=...,] [dtype=...,] [grad_fn=<...>])``."""
    from .dtypes import get_default_dtype

    a = t._dev.backend.to_numpy(t._data)
    suffixes = [f"device='{t._dev}'"]
    default = t.dtype == get_default_dtype()
    if (a.size == 0 and a.ndim != 1) or (a.size and not PRINT_OPTS["edgeitems"]):
        suffixes.append(f"size={tuple(a.shape)}")
    if not (default or a.size and t.dtype.name in ("int64", "bool")):
        suffixes.append(f"dtype={t.dtype}")
    if t.grad_fn is not None:
        suffixes.append(f"grad_fn=<{t.grad_fn.name()}>")
    elif t._requires_grad:
        suffixes.append("requires_grad=True")
    if a.size == 0:
        return _add_suffixes("tensor([]", suffixes, 7)
    summarize = a.size > PRINT_OPTS["threshold"]
    body = _body(a, 7, summarize, _Formatter(_shown(a, summarize)))
    return _add_suffixes("tensor(" + body, suffixes, 7)
