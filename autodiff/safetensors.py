"""The safetensors format, read and written without the ``safetensors`` package.

The API mirrors ``safetensors.torch`` so code ports with one import changed::

    from autodiff.safetensors import load_file, safe_open, save_file
    save_file(model.state_dict(), "model.safetensors", metadata={"format": "pt"})
    model.load_state_dict(load_file("model.safetensors"))
    with safe_open("model.safetensors", framework="pt") as f:   # or "np", "autodiff"
        w = f.get_slice("embed.weight")[:1000]                  # reads only what it needs

Format: an 8-byte little-endian header length ``N``; ``N`` bytes of UTF-8 JSON
``{"__metadata__": {str: str}, name: {"dtype": "F32", "shape": [2, 3],
"data_offsets": [begin, end]}, ...}`` (padded with spaces to a multiple of 8); then the raw
little-endian, C-order bytes, ``data_offsets`` counted from the end of the header. Writing
follows the reference byte for byte: tensors sorted by dtype (widest first) then name, packed
with no gaps, compact JSON with ``__metadata__`` first.

Dtypes: F16, F32, F64, I8, I16, I32, I64, U8, BOOL. BF16 loads upcast to float32 (exact;
autodiff has no bfloat16, and ``get_slice(...).get_dtype()`` still says ``"BF16"``); other
dtypes (F8_*, C64, U16/U32/U64, ...) raise ``ValueError`` naming the dtype.

Reading validates as the reference does, and raises ``ValueError`` for anything wrong: header
length at most 100 MB and inside the file, a header that is a UTF-8 JSON object starting with
``{``, ``__metadata__`` of str -> str, known dtypes, shapes of non-negative ints, offsets that
tile the data area exactly (sorted, contiguous, no gaps or overlaps, ending at the end of the
file) with ``end - begin`` equal to the bytes the dtype and shape need; also, here, no duplicate
keys or unknown fields and bool bytes of 0 or 1 only. Nothing is read outside the checked
ranges. Writing refuses, as ``safetensors.torch.save_file`` does, non-contiguous tensors
(``ValueError``: call ``.contiguous()``) and tensors that overlap in memory (``RuntimeError``:
the same tensor under two names, or a view of another saved tensor; clone one of them).
"""

from __future__ import annotations

import json
import math
import os
import struct
from typing import Any

import numpy as np

from ._torch_checkpoint import bf16_to_f32, unsupported_dtype
from .device import Device
from .device import device as _device
from .tensor import Tensor

MAX_HEADER_SIZE = 100_000_000
# the reference's order for packing: widest dtype first (its Dtype enum, descending)
_NAMES = {"int64": "I64", "float64": "F64", "float32": "F32", "int32": "I32", "float16": "F16",
          "int16": "I16", "int8": "I8", "uint8": "U8", "bool": "BOOL"}
_ORDER = list(_NAMES.values())
_FILE_DTYPES = {code: np.dtype(name).newbyteorder("<") for name, code in _NAMES.items()}
_FILE_DTYPES["BF16"] = np.dtype("<u2")
_KNOWN = {"F4", "F6_E2M3", "F6_E3M2", "F8_E5M2", "F8_E4M3", "F8_E8M0", "U16", "U32", "U64",
          "C64", "C128"}
__all__ = ["load", "load_file", "safe_open", "save", "save_file"]


def _bad(msg: str) -> ValueError:
    return ValueError(f"safetensors: {msg}")


# --------------------------------------------------------------------------- write
def _host(name: Any, t: Any) -> np.ndarray:
    if not isinstance(name, str):
        raise TypeError(f"safetensors: tensor names must be str, got {type(name).__name__}")
    if isinstance(t, np.ndarray):
        arr = t
    elif isinstance(t, Tensor):
        if not t.is_contiguous():
            raise ValueError(f"safetensors: you are trying to save a non contiguous tensor "
                             f"{name!r}, which is not allowed; call .contiguous() on it first")
        arr = t.detach()._dev.backend.to_numpy(t._data)
    else:
        raise TypeError(f"safetensors: {name!r} is a {type(t).__name__}, expected a Tensor")
    if not arr.flags.c_contiguous:
        raise ValueError(f"safetensors: array {name!r} is not C-contiguous")
    if arr.dtype.name not in _NAMES:
        raise unsupported_dtype(arr.dtype.name, "safetensors")
    return arr


def _check_shared(tensors: dict) -> None:
    """Refuse tensors that overlap in memory, as safetensors.torch refuses shared ones."""
    spans = []
    for name, t in tensors.items():
        data = t._data if isinstance(t, Tensor) else t
        cuda = getattr(data, "__cuda_array_interface__", None)
        iface = cuda or getattr(data, "__array_interface__", None)
        if iface is not None and data.nbytes:
            lo = iface["data"][0]
            spans.append((cuda is not None, lo, lo + data.nbytes, name))
    spans.sort()
    for (d0, _, hi0, n0), (d1, lo1, _, n1) in zip(spans, spans[1:]):
        if d0 == d1 and lo1 < hi0:
            raise RuntimeError(f"safetensors: some tensors share memory, which would be saved "
                               f"twice and load as separate tensors: [{n0!r}, {n1!r}]; save "
                               f"one of them only, or .clone() one")


def save(tensors: dict, metadata: dict | None = None) -> bytes:
    """The safetensors bytes of ``tensors``.

    Args:
        tensors: ``{name: Tensor}`` (contiguous, not overlapping each other in memory).
        metadata: optional ``{str: str}``, stored under ``__metadata__``.

    Returns:
        bytes: the file contents.

    Example:
        >>> blob = save({"w": ad.ones(2, 3)})
    """
    if not isinstance(tensors, dict):
        raise TypeError(f"safetensors: expected a dict of tensors, got {type(tensors).__name__}")
    if metadata is not None and (not isinstance(metadata, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in metadata.items())):
        raise TypeError("safetensors: metadata must be a dict of str to str")
    arrays = {name: _host(name, t) for name, t in tensors.items()}
    _check_shared(tensors)
    order = sorted(arrays, key=lambda n: (_ORDER.index(_NAMES[arrays[n].dtype.name]), n))
    header: dict = {"__metadata__": metadata} if metadata else {}
    begin = 0
    for name in order:
        arr = arrays[name]
        header[name] = {"dtype": _NAMES[arr.dtype.name], "shape": list(arr.shape),
                        "data_offsets": [begin, begin + arr.nbytes]}
        begin += arr.nbytes
    text = json.dumps(header, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    parts = [struct.pack("<Q", len(text)), text]
    for name in order:
        arr = arrays[name]
        parts.append(arr.astype(arr.dtype.newbyteorder("<"), copy=False).tobytes())
    return b"".join(parts)


def save_file(tensors: dict, filename: str | os.PathLike, metadata: dict | None = None) -> None:
    """Write ``tensors`` to ``filename`` in the safetensors format (see :func:`save`).

    Example:
        >>> save_file(model.state_dict(), "model.safetensors")
    """
    data = save(tensors, metadata)
    with open(os.fspath(filename), "wb") as fh:
        fh.write(data)


# --------------------------------------------------------------------------- read
def _parse_header(head: bytes, total: int) -> tuple[int, dict, dict]:
    """(data start, {name: (dtype, shape, begin, end)}, metadata) after full validation."""
    if len(head) < 8:
        raise _bad(f"file of {total} bytes is too small for the 8-byte header length")
    n = struct.unpack("<Q", head[:8])[0]
    if n > MAX_HEADER_SIZE:
        raise _bad(f"header length {n} is over the limit of {MAX_HEADER_SIZE} bytes")
    if 8 + n > total:
        raise _bad(f"header length {n} runs past the end of the {total}-byte file")
    raw = head[8:8 + n]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise _bad("header is not valid UTF-8") from None
    if not text.startswith("{"):
        raise _bad(f"header does not start with '{{': {text[:20]!r}")
    try:
        obj = json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_no_constant)
    except (json.JSONDecodeError, RecursionError) as exc:
        raise _bad(f"header is not valid JSON ({type(exc).__name__}: {exc})") from None
    if not isinstance(obj, dict):
        raise _bad("header is not a JSON object")
    metadata = obj.pop("__metadata__", None)
    if metadata is not None and (not isinstance(metadata, dict) or not all(
            isinstance(v, str) for v in metadata.values())):
        raise _bad("__metadata__ must map str to str")
    infos = {name: _info(name, v) for name, v in obj.items()}
    start = 0
    for name, (code, shape, lo, hi) in sorted(infos.items(), key=lambda kv: kv[1][2:]):
        if lo != start or hi < lo:
            raise _bad(f"tensor {name!r}: data_offsets [{lo}, {hi}] do not start where the "
                       f"previous tensor ends ({start}); offsets must be contiguous")
        need = math.prod(shape) * _size(code)
        if hi - lo != need:
            raise _bad(f"tensor {name!r}: {code} {shape} needs {need} bytes, data_offsets "
                       f"give {hi - lo}")
        start = hi
    if 8 + n + start != total:
        raise _bad(f"tensors cover {start} bytes of data, the file has {total - 8 - n}")
    return 8 + n, infos, metadata or {}


def _no_duplicates(pairs: list) -> dict:
    out = dict(pairs)
    if len(out) != len(pairs):
        raise _bad("header has duplicate keys")
    return out


def _no_constant(c: str):
    raise _bad(f"header holds the non-standard JSON constant {c}")


def _size(code: str) -> int:
    if code in _FILE_DTYPES:
        return _FILE_DTYPES[code].itemsize
    if code in _KNOWN:
        raise unsupported_dtype(code, "safetensors")
    raise _bad(f"unknown dtype {code!r}")


def _info(name: str, v: Any) -> tuple:
    if not isinstance(v, dict) or set(v) != {"dtype", "shape", "data_offsets"}:
        raise _bad(f"tensor {name!r}: expected exactly dtype, shape and data_offsets")
    code, shape, offs = v["dtype"], v["shape"], v["data_offsets"]
    if not isinstance(code, str):
        raise _bad(f"tensor {name!r}: dtype {code!r} is not a string")
    _size(code)
    if not isinstance(shape, list) or not all(_nat(x) for x in shape):
        raise _bad(f"tensor {name!r}: shape {shape!r} is not a list of sizes >= 0")
    if not isinstance(offs, list) or len(offs) != 2 or not all(_nat(x) for x in offs):
        raise _bad(f"tensor {name!r}: data_offsets {offs!r} is not [begin, end]")
    return code, tuple(shape), offs[0], offs[1]


def _nat(x: Any) -> bool:
    return type(x) is int and 0 <= x < 1 << 64


def _array(raw, code: str, shape: tuple, name: str) -> np.ndarray:
    arr = np.frombuffer(raw, _FILE_DTYPES[code]).reshape(shape)
    return _native(arr, code, name)


def _native(arr: np.ndarray, code: str, name: str) -> np.ndarray:
    if code == "BF16":
        return bf16_to_f32(arr.astype(np.uint16))
    if code == "BOOL" and arr.size and arr.view(np.uint8).max() > 1:
        raise _bad(f"tensor {name!r}: bool data holds values other than 0 and 1")
    out = np.array(arr, dtype=arr.dtype.newbyteorder("="), copy=True)  # writable, owned
    return out.view(np.dtype(out.dtype.name))


def _convert(arr: np.ndarray, framework: str, device) -> Any:
    if framework == "np":
        return arr
    dev = _device(f"cuda:{device}" if isinstance(device, int) else device)
    return Tensor._make(dev.backend.from_numpy(arr), dev, False, None)


def load(data: bytes, device: str | Device = "cpu") -> dict:
    """Tensors from safetensors bytes (what :func:`save` returns).

    Example:
        >>> sd = load(open("model.safetensors", "rb").read())
    """
    data = bytes(data)
    start, infos, _ = _parse_header(data[:8 + MAX_HEADER_SIZE], len(data))
    out = {}
    for name in sorted(infos):
        code, shape, lo, hi = infos[name]
        out[name] = _convert(_array(data[start + lo:start + hi], code, shape, name), "pt", device)
    return out


def load_file(filename: str | os.PathLike, device: str | Device = "cpu") -> dict:
    """``{name: Tensor}`` from a safetensors file, placed on ``device``.

    Example:
        >>> model.load_state_dict(load_file("model.safetensors"))
    """
    with safe_open(filename, framework="pt", device=device) as f:
        return {name: f.get_tensor(name) for name in f.keys()}  # noqa: SIM118 (not a dict)


class safe_open:  # the reference's name, lower case
    """Open a safetensors file lazily: ``keys()``, ``get_tensor``, ``get_slice``, ``metadata()``.

    Args:
        filename: the file.
        framework: ``"pt"`` or ``"autodiff"`` (autodiff Tensors) or ``"np"`` (NumPy arrays).
        device: where tensors go (an autodiff device name, ``Device`` or CUDA index).

    Example:
        >>> with safe_open("model.safetensors", framework="np") as f:
        ...     row = f.get_slice("embed.weight")[3]
    """

    def __init__(self, filename: str | os.PathLike, framework: str = "pt",
                 device: str | Device | int = "cpu") -> None:
        fw = {"pt": "pt", "torch": "pt", "autodiff": "pt", "np": "np", "numpy": "np"}
        if framework not in fw:
            raise ValueError(f"safetensors: framework {framework!r} is not one of {sorted(fw)}")
        self._fw, self._device = fw[framework], device
        self._fh = open(os.fspath(filename), "rb")  # noqa: SIM115 (closed by __exit__)
        try:
            total = self._fh.seek(0, os.SEEK_END)
            self._fh.seek(0)
            n = self._fh.read(8)
            head = n + self._fh.read(min(struct.unpack("<Q", n)[0], MAX_HEADER_SIZE + 1)
                                     if len(n) == 8 else 0)
            self._start, self._infos, self._metadata = _parse_header(head, total)
        except BaseException:
            self._fh.close()
            raise

    def __enter__(self) -> safe_open:  # noqa: PYI034
        return self

    def __exit__(self, *exc) -> None:
        self._fh.close()

    def keys(self) -> list:
        return sorted(self._infos)

    def metadata(self) -> dict:
        return dict(self._metadata)

    def _entry(self, name: str) -> tuple:
        if name not in self._infos:
            raise KeyError(f"safetensors: no tensor named {name!r}")
        return self._infos[name]

    def get_tensor(self, name: str) -> Any:
        code, shape, lo, hi = self._entry(name)
        self._fh.seek(self._start + lo)
        raw = self._fh.read(hi - lo)
        if len(raw) != hi - lo:
            raise _bad(f"tensor {name!r}: file truncated while reading")
        return _convert(_array(raw, code, shape, name), self._fw, self._device)

    def get_slice(self, name: str) -> _Slice:
        return _Slice(self, name, *self._entry(name))


class _Slice:
    """A tensor not read yet: ``get_shape()``, ``get_dtype()``, and ``[...]`` with ints, slices
    (step > 0) and ``...``; reads only the rows the index touches."""

    def __init__(self, owner: safe_open, name: str, code: str, shape: tuple, lo: int,
                 hi: int) -> None:
        self._owner, self._name, self._code, self._shape, self._lo = owner, name, code, shape, lo

    def get_shape(self) -> list:
        return list(self._shape)

    def get_dtype(self) -> str:
        return self._code

    def __getitem__(self, index: Any) -> Any:
        index = index if isinstance(index, tuple) else (index,)
        for i in index:
            if not (isinstance(i, (int, slice)) or i is Ellipsis) or isinstance(i, bool) or \
                    (isinstance(i, slice) and i.step is not None and i.step <= 0):
                raise TypeError(f"safetensors: get_slice supports ints, slices with a positive "
                                f"step and ..., got {i!r}")
        shape, dt = self._shape, _FILE_DTYPES[self._code]
        probe = np.lib.stride_tricks.as_strided(np.zeros(1, np.int8), shape, [0] * len(shape))
        probe[index]  # IndexError for a bad index, before anything is read
        rows, rest = range(shape[0] if shape else 1), index
        if shape and index and index[0] is not Ellipsis:  # read only the rows it touches
            rows = range(shape[0])[index[0]]
            rows = range(rows, rows + 1) if isinstance(rows, int) else rows
            rest = (0 if isinstance(index[0], int) else slice(None, None, rows.step),) + \
                index[1:]
        lo, hi = (rows.start, rows[-1] + 1) if len(rows) else (0, 0)
        row_bytes = math.prod(shape[1:]) * dt.itemsize
        fh = self._owner._fh
        fh.seek(self._owner._start + self._lo + lo * row_bytes)
        raw = fh.read((hi - lo) * row_bytes)
        if len(raw) != (hi - lo) * row_bytes:
            raise _bad(f"tensor {self._name!r}: file truncated while reading")
        block = np.frombuffer(raw, dt).reshape(((hi - lo),) + shape[1:] if shape else ())
        arr = np.asarray(block[rest])
        return _convert(_native(arr, self._code, self._name), self._owner._fw,
                        self._owner._device)
