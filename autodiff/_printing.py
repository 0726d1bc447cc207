"""Print options of Tensor's repr: PyTorch's ``set_printoptions``, kept as the keyword
arguments of NumPy's ``array2string`` that the repr passes on."""

from __future__ import annotations

import sys

ARRAY2STRING: dict = {"precision": 4, "threshold": 1000, "edgeitems": 3, "max_line_width": 80}
_PROFILES = {"default": (4, 1000, 3, 80), "short": (2, 1000, 2, 80), "full": (4, None, 3, 80)}


def set_printoptions(precision: int | None = None, threshold: float | None = None,
                     edgeitems: int | None = None, linewidth: int | None = None,
                     profile: str | None = None, sci_mode: bool | None = None) -> None:
    """Set how tensors print, with PyTorch's names: digits after the point (``precision``),
    the element count past which a tensor is summarised (``threshold``) to ``edgeitems`` per
    end, the line width, a ``profile`` ("default", "short", "full") for the first four, and
    ``sci_mode`` (True: always scientific, False: never, None: NumPy's choice)."""
    opts = ARRAY2STRING
    if profile is not None:
        if profile not in _PROFILES:
            raise ValueError(f"set_printoptions: unknown profile {profile!r} (expected one of "
                             f"{sorted(_PROFILES)})")
        p, t, e, w = _PROFILES[profile]
        opts.update(precision=p, threshold=sys.maxsize if t is None else t, edgeitems=e,
                    max_line_width=w)
    for key, value in (("precision", precision), ("threshold", threshold),
                       ("edgeitems", edgeitems), ("max_line_width", linewidth)):
        if value is not None:
            opts[key] = sys.maxsize if value == float("inf") else int(value)
    opts.pop("formatter", None)
    opts.pop("suppress_small", None)
    if sci_mode:
        digits = opts["precision"]
        opts["formatter"] = {"float_kind": lambda v: f"{v:.{digits}e}"}
    elif sci_mode is False:
        opts["suppress_small"] = True
