"""``ad.save`` / ``ad.load``: state dicts on disk in a format that cannot run code on load.

Format (version 1): an uncompressed ZIP archive holding

* ``header.json`` -- ``{"format": "autodiff", "version": 1, "root": ..., "tensors": [...]}``.
  ``root`` is the saved object as tagged JSON: ``None``/bools/ints/strings/finite floats as
  themselves, and ``{"$dict": [[k, v], ...]}``, ``{"$list": [...]}``, ``{"$tuple": [...]}``,
  ``{"$float": "nan"}``, ``{"$tensor": i}`` (and a few more tags) for the rest. Each
  entry of ``tensors`` gives ``dtype``, ``shape``, ``device``, ``requires_grad`` and the
  name of its data member (and ``"parameter": true`` for an ``nn.Parameter``).
* ``data/<i>`` -- each tensor's bytes, C order, little-endian.

Why this format: loading is JSON parsing plus ``numpy.frombuffer`` on a whitelisted dtype,
so nothing in a file can name a class or a function to call -- unlike pickle (and
``torch.load`` without ``weights_only``), where a hostile file runs code. JSON keeps the
nesting of dicts with int keys, tuples vs lists and non-finite floats, which ``.npz`` alone
does not; ZIP gives a CRC-32 per member, so truncation and bit flips are detected, and the
archive opens with standard tools. Members must be stored uncompressed, with exactly the
size their dtype and shape imply, before any byte is read -- no decompression bombs, no
huge allocations from a lying header. Anything unexpected raises ``ValueError`` (bad or
hostile file) or ``RuntimeError`` (a device that is not available here).

The same tensor object saved twice is stored once and loads as one tensor; distinct views of
one memory are stored apart and load as separate tensors (PyTorch keeps them sharing).

PyTorch files: ``load`` also reads what ``torch.save`` writes (its default zip format, told
apart from ours by the missing ``header.json``), e.g. ``model.load_state_dict(ad.load("m.pt"))``
for a state dict saved from the equivalent torch model. Its pickle runs on a small whitelisting
interpreter (``autodiff._torch_checkpoint``), never on ``pickle``: only tensors, OrderedDicts
and plain containers come back, bfloat16 is upcast to float32, and any other global, a legacy
non-zip torch file or an unsupported dtype raises ``ValueError``. For the safetensors format
see ``autodiff.safetensors``.
"""

from __future__ import annotations

import io
import json
import math
import os
import struct
import zipfile
from collections import OrderedDict
from typing import Any

import numpy as np

from . import _torch_checkpoint, dtypes
from .device import Device
from .device import device as _device
from .tensor import Tensor

FORMAT, VERSION = "autodiff", 1
_HEADER = "header.json"
_MAX_HEADER = 256 << 20
_MAX_DEPTH = 200
_DTYPES = {name: np.dtype(name).newbyteorder("<") for name in
           ("float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8",
            "bool")}


# --------------------------------------------------------------------------- save
class _Writer:
    """Turns an object into tagged JSON, collecting tensors (each stored once)."""

    def __init__(self) -> None:
        self.tensors: list[Tensor] = []
        self.records: list[dict] = []
        self._memo: dict = {}

    def encode(self, obj: Any, path: str, depth: int = 0) -> Any:
        if depth > _MAX_DEPTH:
            raise ValueError(f"save: object nested deeper than {_MAX_DEPTH} levels at {path}")
        if obj is None or isinstance(obj, (bool, str)):
            return obj
        if isinstance(obj, int):
            return int(obj)
        if isinstance(obj, float):
            return float(obj) if math.isfinite(obj) else {"$float": repr(float(obj))}
        if isinstance(obj, Tensor):
            return {"$tensor": self._tensor(obj)}
        if isinstance(obj, np.ndarray):
            return {"$ndarray": self._tensor(Tensor._make(obj, _device("numpy"), False, None))}
        if isinstance(obj, np.generic):
            return self.encode(obj.item(), path, depth)
        if isinstance(obj, dict):
            tag = "$odict" if isinstance(obj, OrderedDict) else "$dict"
            return {tag: [[self.encode(k, f"{path} key {k!r}", depth + 1),
                           self.encode(v, f"{path}[{k!r}]", depth + 1)]
                          for k, v in obj.items()]}
        if isinstance(obj, (list, tuple)):
            tag = "$list" if isinstance(obj, list) else "$tuple"
            return {tag: [self.encode(v, f"{path}[{i}]", depth + 1) for i, v in enumerate(obj)]}
        if isinstance(obj, Device):
            return {"$device": str(obj)}
        if isinstance(obj, dtypes.DType):
            return {"$dtype": obj.name}
        if isinstance(obj, bytes):
            return {"$bytes": obj.hex()}
        raise TypeError(f"save: cannot save an object of type {type(obj).__name__} at {path}; "
                        f"expected tensors, arrays, numbers, strings, bytes, None, and "
                        f"dicts/lists/tuples of them")

    def _tensor(self, t: Tensor) -> int:
        key = id(t)
        if key in self._memo:
            return self._memo[key]
        i = self._memo[key] = len(self.tensors)
        self.tensors.append(t)
        rec = {"dtype": t.dtype.name, "shape": list(t.shape), "device": str(t.device),
               "requires_grad": bool(t.requires_grad), "member": f"data/{i}"}
        if type(t).__name__ == "Parameter":  # loads as an nn.Parameter again, as in PyTorch
            rec["parameter"] = True
        self.records.append(rec)
        return i


def save(obj: Any, f) -> None:
    """Write ``obj`` (nested dicts/lists/tuples of tensors, numbers, strings) to ``f``.

    Args:
        obj: what to save, e.g. ``{"model": model.state_dict(), "optim": opt.state_dict()}``.
        f: a path (written atomically: to a temporary file, then renamed) or a binary file
            object.

    Example:
        >>> ad.save(model.state_dict(), "model.ad")
    """
    writer = _Writer()
    root = writer.encode(obj, "root")
    header = {"format": FORMAT, "version": VERSION, "root": root, "tensors": writer.records}
    if isinstance(f, (str, os.PathLike)):
        path = os.fspath(f)
        tmp = f"{path}.tmp{os.getpid()}"
        try:
            with open(tmp, "wb") as fh:
                _write_zip(fh, header, writer.tensors)
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.remove(tmp)
    else:
        _write_zip(f, header, writer.tensors)


def _write_zip(fh, header: dict, tensors: list) -> None:
    with zipfile.ZipFile(fh, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
        zf.writestr(_HEADER, json.dumps(header, allow_nan=False, separators=(",", ":")))
        for rec, t in zip(header["tensors"], tensors):
            arr = np.ascontiguousarray(t.detach()._dev.backend.to_numpy(t._data))
            arr = arr.astype(_DTYPES[rec["dtype"]], copy=False)
            info = zipfile.ZipInfo(rec["member"], date_time=(1980, 1, 1, 0, 0, 0))
            with zf.open(info, "w", force_zip64=arr.nbytes >= 1 << 31) as out:
                out.write(memoryview(arr.reshape(-1)).cast("B"))


# --------------------------------------------------------------------------- load
def _bad(msg: str) -> ValueError:
    return ValueError(f"load: {msg}")


def _sniff(head: bytes) -> str:
    if head[:1] == b"\x80" or head[:2] in (b"(d", b"(l", b"}q", b"]q"):
        return " (it looks like a Python pickle, which autodiff never unpickles because " \
               "unpickling can run arbitrary code)"
    if len(head) == 8 and head[:1] != b"\x00" and head[5:8] == b"\x00\x00\x00":
        return " (it looks like a safetensors file: use autodiff.safetensors.load_file)"
    return ""


def load(f, map_location=None, pickle_module=None, *, weights_only=None, mmap=None) -> Any:
    """Read what ``save`` wrote, or a ``torch.save`` zip file. Never executes code from the file.

    ``torch.load``'s other arguments are accepted so that ported calls run: loading is always
    what PyTorch calls ``weights_only`` (``weights_only=False`` loads no more), ``mmap`` reads
    the file as usual, and ``pickle_module`` must be None (nothing is unpickled).

    Args:
        f: a path or a binary file object (an autodiff save file, or a PyTorch checkpoint in
            the default zip format: see ``autodiff._torch_checkpoint``).
        map_location: where tensors go: None (the device they were saved from; "cpp"
            falls back to "cpu" when the extension is missing), a device string or
            ``Device`` (everything there), a dict ``{saved_device: device}``, or a callable
            ``fn(tensor_on_cpu, saved_device_str)`` returning a tensor (None: default).

    Raises:
        ValueError: the file is not an autodiff save file, or is truncated or corrupted.
        RuntimeError: a tensor's device is not available here and no map_location says
            where to put it.

    Example:
        >>> sd = ad.load("model.ad", map_location="numpy")
    """
    if pickle_module is not None:
        raise ValueError("load: pickle_module is not supported: autodiff never unpickles")
    if isinstance(f, (str, os.PathLike)):
        with open(os.fspath(f), "rb") as fh:
            return _load(fh, map_location)
    return _load(f, map_location)


def _load(fh, map_location) -> Any:
    start = fh.tell() if fh.seekable() else 0
    head = fh.read(8)
    if not fh.seekable():
        fh = io.BytesIO(head + fh.read())
    else:
        fh.seek(start)
    if head[:4] != b"PK\x03\x04":
        if head == _torch_checkpoint.LEGACY_MAGIC[:8]:
            raise _bad(_torch_checkpoint.LEGACY_MESSAGE)
        raise _bad(f"not an autodiff save file: expected a ZIP archive, got a file starting "
                   f"with {head[:8]!r}{_sniff(head)}")
    try:
        with zipfile.ZipFile(fh, "r") as zf:
            if _HEADER not in zf.namelist() and _torch_checkpoint.is_torch_zip(zf):
                return _torch_checkpoint.load_zip(zf, map_location)
            header = _read_header(zf)
            reader = _Reader(zf, header, map_location)
            return reader.decode(header["root"], 0)
    except zipfile.BadZipFile as exc:
        raise _bad(f"corrupted or truncated file ({exc})") from None
    except (EOFError, struct.error, NotImplementedError) as exc:
        raise _bad(f"corrupted or truncated file ({type(exc).__name__}: {exc})") from None
    except RecursionError:
        raise _bad("structure nested too deeply") from None


def _read_header(zf: zipfile.ZipFile) -> dict:
    names = zf.namelist()
    if _HEADER not in names:
        extra = " (this looks like a pickle-based PyTorch checkpoint; convert it to tensors " \
                "first)" if any(n.endswith(".pkl") for n in names) else ""
        raise _bad(f"not an autodiff save file: no {_HEADER} in the archive{extra}")
    info = zf.getinfo(_HEADER)
    if info.file_size > _MAX_HEADER or info.compress_type != zipfile.ZIP_STORED:
        raise _bad(f"{_HEADER} is compressed or larger than {_MAX_HEADER} bytes")
    try:
        header = json.loads(zf.read(_HEADER).decode("utf-8"),
                            parse_constant=lambda c: _reject_constant(c))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise _bad(f"{_HEADER} is not valid JSON ({exc})") from None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise _bad(f"not an autodiff save file: {_HEADER} has no format {FORMAT!r}")
    if header.get("version") != VERSION:
        raise _bad(f"unsupported format version {header.get('version')!r}; this autodiff "
                   f"reads version {VERSION}")
    if not isinstance(header.get("tensors"), list) or "root" not in header:
        raise _bad(f"{_HEADER} lacks 'root' or a 'tensors' list")
    return header


def _reject_constant(c: str):
    raise _bad(f"{_HEADER} holds the non-standard JSON constant {c}")


class _Reader:
    """Decodes tagged JSON, reading each tensor's bytes on first use."""

    def __init__(self, zf: zipfile.ZipFile, header: dict, map_location) -> None:
        self.zf, self.records, self.map_location = zf, header["tensors"], map_location
        self._cache: dict = {}

    def decode(self, node: Any, depth: int) -> Any:
        if depth > _MAX_DEPTH:
            raise _bad(f"structure nested deeper than {_MAX_DEPTH} levels")
        if node is None or isinstance(node, (bool, int, float, str)):
            return node
        if isinstance(node, list) or not isinstance(node, dict) or len(node) != 1:
            raise _bad(f"unexpected JSON value in the structure: {_short(node)}")
        (tag, value), = node.items()
        d = depth + 1
        if tag in ("$dict", "$odict"):
            if not isinstance(value, list) or not all(
                    isinstance(kv, list) and len(kv) == 2 for kv in value):
                raise _bad(f"{tag} expects a list of [key, value] pairs, got {_short(value)}")
            out = OrderedDict() if tag == "$odict" else {}
            for k, v in value:
                key = self.decode(k, d)
                try:
                    out[key] = self.decode(v, d)
                except TypeError:
                    raise _bad(f"unhashable dict key {_short(k)}") from None
            return out
        if tag in ("$list", "$tuple"):
            if not isinstance(value, list):
                raise _bad(f"{tag} expects a list, got {_short(value)}")
            items = [self.decode(v, d) for v in value]
            return items if tag == "$list" else tuple(items)
        if tag == "$float" and value in ("nan", "inf", "-inf"):
            return float(value)
        if tag in ("$tensor", "$ndarray"):
            t = self.tensor(value)
            return t if tag == "$tensor" else t.detach().cpu().numpy()
        if tag == "$device" and isinstance(value, str):
            return _device(value)
        if tag == "$dtype" and isinstance(value, str) and value in _DTYPES:
            return dtypes.from_any(value)
        if tag == "$bytes" and isinstance(value, str):
            try:
                return bytes.fromhex(value)
            except ValueError:
                raise _bad("bad $bytes value") from None
        raise _bad(f"unknown tag {tag!r} with value {_short(value)}")

    def tensor(self, index: Any) -> Tensor:
        if not isinstance(index, int) or isinstance(index, bool) or \
                not 0 <= index < len(self.records):
            raise _bad(f"tensor reference {index!r} is not in 0..{len(self.records) - 1}")
        if index not in self._cache:
            host, rec = self._read(index)
            self._cache[index] = self._place(host, rec)
        return self._cache[index]

    def _read(self, index: int):
        rec = self.records[index]
        if not isinstance(rec, dict):
            raise _bad(f"tensor record {index} is not an object")
        dtype, shape, member = rec.get("dtype"), rec.get("shape"), rec.get("member")
        if dtype not in _DTYPES:
            raise _bad(f"tensor {index}: dtype {dtype!r} is not one of {sorted(_DTYPES)}")
        if not isinstance(shape, list) or not all(
                isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in shape):
            raise _bad(f"tensor {index}: shape {_short(shape)} is not a list of sizes >= 0")
        if not isinstance(member, str):
            raise _bad(f"tensor {index}: member name {_short(member)} is not a string")
        try:
            info = self.zf.getinfo(member)
        except KeyError:
            raise _bad(f"tensor {index}: member {member!r} is missing (truncated?)") from None
        nbytes = math.prod(shape) * _DTYPES[dtype].itemsize
        if info.compress_type != zipfile.ZIP_STORED or info.file_size != nbytes:
            raise _bad(f"tensor {index}: member {member!r} holds {info.file_size} bytes "
                       f"(compression {info.compress_type}); dtype {dtype} and shape "
                       f"{tuple(shape)} need {nbytes} stored bytes")
        buf = bytearray(nbytes)
        with self.zf.open(info) as src:
            got = src.readinto(buf) if nbytes else 0
            if got != nbytes or src.read(1):
                raise _bad(f"tensor {index}: member {member!r} is truncated")
        arr = np.frombuffer(buf, dtype=_DTYPES[dtype]).reshape(shape)
        if dtype == "bool" and nbytes and np.frombuffer(buf, np.uint8).max() > 1:
            raise _bad(f"tensor {index}: bool data holds values other than 0 and 1")
        native = np.dtype(dtype)  # the canonical dtype object, not an equal copy of it
        arr = arr.astype(native, copy=False).view(native)
        return arr, rec

    def _place(self, host: np.ndarray, rec: dict) -> Tensor:
        saved = rec.get("device")
        if not isinstance(saved, str):
            raise _bad(f"tensor record has device {_short(saved)}, expected a string")
        cpu = Tensor._make(host, _device("numpy"), False, None)
        ml = self.map_location
        target = None
        if callable(ml) and not isinstance(ml, (str, Device)):
            out = ml(cpu, saved)
            if out is not None:
                if not isinstance(out, Tensor):
                    raise TypeError(f"load: map_location returned a {type(out).__name__}, "
                                    f"expected a Tensor or None")
                return _with_grad(out.detach(), rec)
        elif isinstance(ml, dict):
            target = ml.get(saved)
        elif ml is not None:
            target = ml
        if target is None:
            target = _saved_device(saved)
        dev = _device(target)
        t = cpu if dev is cpu.device else Tensor._make(dev.backend.from_numpy(host), dev,
                                                       False, None)
        return _with_grad(t, rec)


def _with_grad(t: Tensor, rec: dict) -> Tensor:
    grad = rec.get("requires_grad") is True and t.is_floating_point()
    if rec.get("parameter") is True:
        from .nn.parameter import Parameter

        return Parameter(t, requires_grad=grad)
    if grad:
        t.requires_grad_(True)
    return t


def _saved_device(saved: str) -> Device:
    from . import backends

    try:
        return _device(saved)
    except ValueError:
        raise _bad(f"unknown saved device {saved!r}") from None
    except RuntimeError as exc:
        if saved == "cpp" and backends.cpp_unavailable_reason() is not None:
            return _device("cpu")
        raise RuntimeError(f"load: a tensor was saved on {saved!r}, which is not available "
                           f"here ({exc}); pass map_location='cpu' (or a dict or function) "
                           f"to choose a device") from None


def _short(x: Any) -> str:
    text = repr(x)
    return text if len(text) <= 80 else text[:77] + "..."
