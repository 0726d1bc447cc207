"""Read ``torch.save`` checkpoints without the ``pickle`` module: ``ad.load("model.pt")``.

``ad.load`` sends here a ZIP archive with ``<archive>/data.pkl`` and no ``header.json``::

    torch.save(torch_model.state_dict(), "model.pt")          # in PyTorch
    model.load_state_dict(ad.load("model.pt"))                # in autodiff

What loads: the zip format ``torch.save`` writes by default (``<archive>/data.pkl``,
``<archive>/data/<key>`` per storage, ``byteorder``, ``version``) holding dicts, OrderedDicts (a
state dict's ``_metadata`` too), lists, tuples, sets, ``torch.Size``, ints, floats, strings,
bytes, bools, None, torch dtypes, and tensors / ``nn.Parameter`` of float16/32/64,
int8/16/32/64, uint8 and bool from any saved device (``map_location`` works as for autodiff
files). Offsets, sizes and strides are honoured (transposed or sliced tensors load with the
right values); each tensor is an independent C-contiguous copy (views that shared a storage in
PyTorch no longer share memory; one tensor object saved twice still loads as one tensor).
Parameters load as tensors with ``requires_grad=True``, as in autodiff's own format.
**bfloat16** is upcast to float32 (exact: a bfloat16 is the top half of a float32); dtypes
autodiff lacks (complex, uint16/32/64, float8, quantized) raise ``ValueError`` naming the dtype
and suggesting ``.float()`` before ``torch.save``. Files written with
``_use_new_zipfile_serialization=False`` raise ``ValueError`` asking to re-save as zip.

How it stays safe: ``data.pkl`` runs on a small pickle-opcode interpreter, not ``pickle``. It
reads what ``torch.save`` writes (protocol 2: MARK STOP PROTO GLOBAL REDUCE BINPERSID BUILD
BINPUT BINGET BININT1 BININT LONG1 BINFLOAT BINUNICODE NONE NEWTRUE NEWFALSE EMPTY_TUPLE TUPLE
TUPLE1-3 EMPTY_LIST APPENDS EMPTY_DICT SETITEM SETITEMS) and the siblings up to protocol 5
(``pickle_protocol=4`` files load), but no opcode that builds arbitrary objects (NEWOBJ, INST,
OBJ, buffers). GLOBAL / STACK_GLOBAL resolve only a whitelist (``torch._utils._rebuild_tensor_v2``
/ ``_v3`` / ``_rebuild_parameter``, ``collections.OrderedDict``, ``torch.<X>Storage``,
``torch.storage.UntypedStorage``, torch dtypes, ``torch.Size``, ``_codecs.encode`` for bytes,
``builtins.set`` / ``frozenset``) to constructors written here; BUILD only sets an
OrderedDict's ``_metadata``; any other global raises ``ValueError`` naming it, and nothing from
the file is ever imported or called. Work is bounded: ``data.pkl`` at most 64 MiB and 4 million
opcodes; nesting at most 200 levels, no cycles; at most 10 000 dict keys / set items whose
hashes a file could make collide (floats, big ints, tuples); storages stored uncompressed, with
exactly the bytes their persistent id declares, members not overlapping; views inside their
storage; stride-0 (expanded) tensors at most twice the file plus 1 GiB in all. Anything wrong
raises ``ValueError``.
"""

from __future__ import annotations

import io
import math
import struct
import zipfile
from collections import OrderedDict
from typing import Any, Callable

import numpy as np

from . import dtypes
from .tensor import Tensor

MAX_DEPTH = 200
_MAX_PICKLE = 64 << 20
_MAX_OPS = 4_000_000
_MAX_HARD_KEYS = 10_000
_EXPAND_SLACK = 1 << 30
# what torch.save(..., _use_new_zipfile_serialization=False) starts with: PROTO 2 and a
# LONG1 magic number
LEGACY_MAGIC = b"\x80\x02\x8a\x0al\xfc\x9cF\xf9 j\xa8P\x19"
LEGACY_MESSAGE = ("this is a legacy (non-zip) PyTorch file, written with "
                  "_use_new_zipfile_serialization=False; re-save it in PyTorch with the default "
                  "zip format (torch.save(torch.load(path), path)) and load that")

SUPPORTED = ("float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8", "bool")
_ITEMSIZE = {"bfloat16": 2, **{n: np.dtype(n).itemsize for n in SUPPORTED}}
_STORAGES = {"FloatStorage": "float32", "DoubleStorage": "float64", "HalfStorage": "float16",
             "LongStorage": "int64", "IntStorage": "int32", "ShortStorage": "int16",
             "CharStorage": "int8", "ByteStorage": "uint8", "BoolStorage": "bool",
             "BFloat16Storage": "bfloat16", "ComplexFloatStorage": "complex64",
             "ComplexDoubleStorage": "complex128", "QInt8Storage": "qint8",
             "QUInt8Storage": "quint8", "QInt32Storage": "qint32",
             "QUInt4x2Storage": "quint4x2", "QUInt2x4Storage": "quint2x4"}
_TORCH_DTYPES = set(SUPPORTED) | {
    "bfloat16", "complex32", "complex64", "complex128", "uint16", "uint32", "uint64",
    "float8_e5m2", "float8_e4m3fn", "float8_e5m2fnuz", "float8_e4m3fnuz", "float8_e8m0fnu",
    "qint8", "quint8", "qint32", "quint4x2", "quint2x4", "bits8", "bits16"}


def _bad(msg: str) -> ValueError:
    return ValueError(f"load: {msg}")


def unsupported_dtype(name: str, what: str = "load") -> ValueError:
    """The error for a dtype autodiff has no tensors of (shared with ``autodiff.safetensors``)."""
    return ValueError(f"{what}: tensor dtype {name} is not supported by autodiff (it has "
                      f"{', '.join(SUPPORTED)}; bfloat16 is upcast to float32); convert it first, "
                      f"e.g. t.float() before saving")


def bf16_to_f32(bits: np.ndarray) -> np.ndarray:
    """bfloat16 bit patterns (native uint16) -> float32, exactly (the high half of a float32)."""
    return (bits.astype(np.uint32) << 16).view(np.float32)


# --------------------------------------------------------------------- the interpreter
class _Marker:
    """A value only the interpreter handles: a whitelisted callable, a storage class or a
    torch dtype autodiff lacks. Never returned to the caller."""

    def __init__(self, kind: str, name: str, fn: Callable | None = None) -> None:
        self.kind, self.name, self.fn = kind, name, fn

    def __repr__(self) -> str:
        return f"<{self.kind} {self.name}>"


_HASH_SAFE = (str, bytes, bool, type(None), Tensor, dtypes.DType)
_INT_HASH_LIMIT = (1 << 61) - 1  # ints below this hash to themselves: no collisions


class Unpickler:
    """Runs pickle opcodes over ``data``. ``find_global(module, name)`` returns a value to push
    (or raises); ``persistent_load(pid)`` resolves BINPERSID. Nothing else can be reached."""

    def __init__(self, data: bytes, find_global, persistent_load) -> None:
        self.data, self.pos = data, 0
        self.find_global, self.persistent_load = find_global, persistent_load
        self.stack: list = []
        self.metastack: list = []
        self.memo: dict = {}
        self.depth: dict = {}  # id -> (tuple or frozenset, nesting depth), to bound hashing
        self.hard_keys = 0

    def load(self) -> Any:
        data, n, ops = self.data, len(self.data), _OPS
        for _ in range(_MAX_OPS):
            if self.pos >= n:
                raise _bad("pickle data ends without STOP (truncated?)")
            op = data[self.pos]
            self.pos += 1
            handler = ops.get(op)
            if handler is None:
                raise _bad(f"unsupported pickle opcode {bytes([op])!r} at byte {self.pos - 1} "
                           f"(autodiff reads tensors and plain containers only)")
            if handler(self) is _STOP:
                if len(self.stack) != 1 or self.metastack:
                    raise _bad("pickle data stops with a malformed stack")
                return self.stack[0]
        raise _bad(f"pickle data runs more than {_MAX_OPS} opcodes")

    # ----------------------------------------------------------------- helpers
    def read(self, k: int) -> bytes:
        if k < 0 or self.pos + k > len(self.data):
            raise _bad(f"pickle data truncated: {k} bytes wanted at byte {self.pos}")
        out = self.data[self.pos:self.pos + k]
        self.pos += k
        return out

    def unpack(self, fmt: str) -> Any:
        return struct.unpack(fmt, self.read(struct.calcsize(fmt)))[0]

    def readline(self) -> str:
        end = self.data.find(b"\n", self.pos, self.pos + 256)
        if end < 0:
            raise _bad(f"pickle GLOBAL name at byte {self.pos} is unterminated or too long")
        line = self.data[self.pos:end]
        self.pos = end + 1
        try:
            return line.decode("ascii")
        except UnicodeDecodeError:
            raise _bad(f"pickle GLOBAL name {line[:40]!r} is not ASCII") from None

    def pop(self) -> Any:
        return self.pop_n(1)[0]

    def pop_n(self, n: int) -> list:
        if len(self.stack) < n:
            raise _bad(f"pickle stack underflow at byte {self.pos - 1}")
        items = self.stack[-n:]
        del self.stack[-n:]
        return items

    def top(self) -> Any:
        if not self.stack:
            raise _bad(f"pickle stack underflow at byte {self.pos - 1}")
        return self.stack[-1]

    def pop_mark(self) -> list:
        if not self.metastack:
            raise _bad(f"pickle opcode at byte {self.pos - 1} needs a MARK that is not there")
        items, self.stack = self.stack, self.metastack.pop()
        return items

    def push_tuple(self, items) -> None:
        self.stack.append(self.frozen(tuple(items)))

    def frozen(self, obj):
        """Record the depth of a new tuple/frozenset; hashing one recurses in C."""
        d = 1 + max((self.depth[id(x)][1] for x in obj if id(x) in self.depth), default=0)
        if d > MAX_DEPTH:
            raise _bad(f"tuples nested deeper than {MAX_DEPTH} levels")
        if obj:
            self.depth[id(obj)] = (obj, d)
        return obj

    def key(self, k: Any) -> Any:
        if isinstance(k, (list, dict, set)):
            raise _bad(f"unhashable {type(k).__name__} used as a dict key or set item")
        if not isinstance(k, _HASH_SAFE) and not (type(k) is int and abs(k) < _INT_HASH_LIMIT):
            self.hard_keys += 1  # floats, big ints, tuples: hashes a file could make collide
            if self.hard_keys > _MAX_HARD_KEYS:
                raise _bad(f"more than {_MAX_HARD_KEYS} dict keys / set items that are floats, "
                           f"big ints or tuples")
        try:
            hash(k)
        except TypeError:
            raise _bad(f"unhashable dict key or set item {type(k).__name__}") from None
        return k

    def container(self, obj: Any, kinds: tuple, opname: str) -> Any:
        if type(obj) not in kinds:
            raise _bad(f"pickle {opname} on a {type(obj).__name__}")
        return obj

    def set_items(self, d: Any, items: list) -> None:
        self.container(d, (dict, OrderedDict), "SETITEMS")
        if len(items) % 2:
            raise _bad("pickle SETITEMS with an odd number of items")
        for i in range(0, len(items), 2):
            d[self.key(items[i])] = items[i + 1]

    def add_items(self, s: Any, items: list) -> None:
        self.container(s, (set,), "ADDITEMS")
        for x in items:
            s.add(self.key(x))


_STOP = object()


def _op_reduce(u: Unpickler) -> None:
    args, fn = u.pop(), u.pop()
    if not isinstance(fn, _Marker) or fn.fn is None:
        raise _bad(f"pickle REDUCE calls {_short(fn)}, which is not an allowed function")
    if type(args) is not tuple:
        raise _bad(f"pickle REDUCE arguments for {fn.name} are not a tuple")
    try:
        u.stack.append(fn.fn(u, *args))
    except TypeError as exc:  # wrong arity (raised here, not inside fn: e.g. map_location's)
        if exc.__traceback__ is not None and exc.__traceback__.tb_next is not None:
            raise
        raise _bad(f"bad arguments for {fn.name}: {exc}") from None


def _op_build(u: Unpickler) -> None:
    state, obj = u.pop(), u.top()
    # OrderedDict.__reduce__ pickles a state dict's ``_metadata`` attribute (and nothing else)
    if type(obj) is not OrderedDict or type(state) not in (dict, OrderedDict) or \
            set(state) - {"_metadata"}:
        raise _bad(f"pickle BUILD sets state on a {type(obj).__name__} (only an OrderedDict's "
                   f"_metadata is allowed)")
    if "_metadata" in state:
        obj._metadata = state["_metadata"]


def _op_global(u: Unpickler, module: str | None = None, name: str | None = None) -> None:
    if module is None:
        module, name = u.readline(), u.readline()
    u.stack.append(u.find_global(module, name))


def _op_stack_global(u: Unpickler) -> None:
    name, module = u.pop(), u.pop()
    if type(module) is not str or type(name) is not str:
        raise _bad("pickle STACK_GLOBAL needs two strings")
    _op_global(u, module, name)


def _op_put(u: Unpickler, index: int) -> None:
    u.memo[index] = u.top()


def _op_get(u: Unpickler, index: int) -> None:
    if index not in u.memo:
        raise _bad(f"pickle memo {index} is read before it is written")
    u.stack.append(u.memo[index])


def _op_proto(u: Unpickler) -> None:
    if u.read(1)[0] > 5:
        raise _bad("pickle protocol above 5")


def _text(raw: bytes) -> str:
    try:
        return raw.decode("utf-8", "surrogatepass")
    except UnicodeDecodeError:
        raise _bad("pickle string is not valid UTF-8") from None


def _op_long(u: Unpickler, fmt: str) -> None:
    u.stack.append(int.from_bytes(u.read(u.unpack(fmt)), "little", signed=True))


def _op_mark(u: Unpickler) -> None:
    if len(u.metastack) >= 4 * MAX_DEPTH:
        raise _bad(f"pickle MARKs nested deeper than {4 * MAX_DEPTH}")
    u.metastack.append(u.stack)
    u.stack = []


def _push(value_fn):
    def op(u: Unpickler) -> None:
        value = value_fn(u)  # first: it may pop a MARK, which swaps u.stack
        u.stack.append(value)
    return op


def _into(n: int | None, fill):
    """APPEND(S), SETITEM(S), ADDITEMS: the top ``n`` items (None: those since the MARK) go
    into the object below them."""
    def op(u: Unpickler) -> None:
        items = u.pop_mark() if n is None else u.pop_n(n)
        fill(u, u.top(), items)
    return op


def _extend(u: Unpickler, lst: Any, items: list) -> None:
    u.container(lst, (list,), "APPEND").extend(items)


_OPS: dict[int, Callable] = {ord(k): v for k, v in {
    # MARK STOP POP POP_MARK DUP PROTO FRAME (framing is only a hint for buffered readers)
    "(": _op_mark, ".": lambda u: _STOP, "0": lambda u: u.pop(), "1": lambda u: u.pop_mark(),
    "2": lambda u: u.stack.append(u.top()), "\x80": _op_proto, "\x95": lambda u: u.read(8),
    # NONE NEWTRUE NEWFALSE BININT BININT1 BININT2 LONG1 LONG4 BINFLOAT
    "N": _push(lambda u: None), "\x88": _push(lambda u: True), "\x89": _push(lambda u: False),
    "J": _push(lambda u: u.unpack("<i")), "K": _push(lambda u: u.read(1)[0]),
    "M": _push(lambda u: u.unpack("<H")), "\x8a": lambda u: _op_long(u, "<B"),
    "\x8b": lambda u: _op_long(u, "<i"), "G": _push(lambda u: u.unpack(">d")),
    # BINUNICODE SHORT_BINUNICODE BINUNICODE8 SHORT_BINBYTES BINBYTES BINBYTES8
    "X": _push(lambda u: _text(u.read(u.unpack("<I")))),
    "\x8c": _push(lambda u: _text(u.read(u.read(1)[0]))),
    "\x8d": _push(lambda u: _text(u.read(u.unpack("<Q")))),
    "C": _push(lambda u: u.read(u.read(1)[0])), "B": _push(lambda u: u.read(u.unpack("<I"))),
    "\x8e": _push(lambda u: u.read(u.unpack("<Q"))),
    # EMPTY_TUPLE TUPLE TUPLE1 TUPLE2 TUPLE3 EMPTY_LIST LIST APPEND APPENDS
    ")": _push(lambda u: ()), "t": lambda u: u.push_tuple(u.pop_mark()),
    "\x85": lambda u: u.push_tuple(u.pop_n(1)), "\x86": lambda u: u.push_tuple(u.pop_n(2)),
    "\x87": lambda u: u.push_tuple(u.pop_n(3)), "]": _push(lambda u: []),
    "l": _push(lambda u: u.pop_mark()), "a": _into(1, _extend), "e": _into(None, _extend),
    # EMPTY_DICT SETITEM SETITEMS EMPTY_SET ADDITEMS FROZENSET
    "}": _push(lambda u: {}), "s": _into(2, Unpickler.set_items),
    "u": _into(None, Unpickler.set_items), "\x8f": _push(lambda u: set()),
    "\x90": _into(None, Unpickler.add_items),
    "\x91": _push(lambda u: u.frozen(frozenset(u.key(x) for x in u.pop_mark()))),
    # BINPUT LONG_BINPUT MEMOIZE BINGET LONG_BINGET
    "q": lambda u: _op_put(u, u.read(1)[0]), "r": lambda u: _op_put(u, u.unpack("<I")),
    "\x94": lambda u: _op_put(u, len(u.memo)), "h": lambda u: _op_get(u, u.read(1)[0]),
    "j": lambda u: _op_get(u, u.unpack("<I")),
    # GLOBAL STACK_GLOBAL REDUCE BUILD BINPERSID: the only ways to reach code, all checked
    "c": _op_global, "\x93": _op_stack_global, "R": _op_reduce, "b": _op_build,
    "Q": _push(lambda u: u.persistent_load(u.pop())),
}.items()}


# ------------------------------------------------------------------ the torch zip reader
def is_torch_zip(zf: zipfile.ZipFile) -> bool:
    """Whether ``zf`` looks like a ``torch.save`` archive (``<archive>/data.pkl``)."""
    return any(n.count("/") == 1 and n.endswith("/data.pkl") for n in zf.namelist())


def load_zip(zf: zipfile.ZipFile, map_location=None) -> Any:
    """The object a ``torch.save`` zip archive holds, with autodiff tensors (see module doc)."""
    return _TorchZip(zf, map_location).load()


class _TorchZip:
    def __init__(self, zf: zipfile.ZipFile, map_location) -> None:
        from .serialization import _Reader  # map_location handling, shared with our format

        pkls = [n for n in zf.namelist() if n.count("/") == 1 and n.endswith("/data.pkl")]
        if len(pkls) != 1:
            raise _bad(f"expected one <archive>/data.pkl in a PyTorch file, found {pkls[:4]}")
        self.zf, self.prefix = zf, pkls[0][:-len("data.pkl")]
        self.placer = _Reader(zf, {"tensors": []}, map_location)
        self.archive_size = zf.fp.seek(0, io.SEEK_END)
        self.read_total = 0
        self.budget = 2 * self.archive_size + _EXPAND_SLACK
        self.raw: dict = {}
        self.big_endian = self._byteorder()
        fns = {("collections", "OrderedDict"): _ordered_dict, ("torch", "Size"): _size,
               ("torch._utils", "_rebuild_tensor_v2"): self.rebuild_v2,
               ("torch._utils", "_rebuild_tensor_v3"): self.rebuild_v3,
               ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
               ("_codecs", "encode"): _encode, ("builtins", "set"): _set,
               ("__builtin__", "set"): _set}
        fns[("builtins", "frozenset")] = fns[("__builtin__", "frozenset")] = \
            lambda u, items=(): _set(u, items, frozen=True)
        self.globals = {k: _Marker("fn", ".".join(k), fn) for k, fn in fns.items()}
        for module in ("torch", "torch.storage"):
            self.globals[(module, "UntypedStorage")] = _Marker("storage", "uint8")

    def member(self, name: str, limit: int) -> bytes:
        try:
            info = self.zf.getinfo(self.prefix + name)
        except KeyError:
            raise _bad(f"member {self.prefix + name!r} is missing (truncated?)") from None
        if info.compress_type != zipfile.ZIP_STORED or info.file_size > limit:
            raise _bad(f"member {info.filename!r} is compressed or larger than {limit} bytes")
        self.read_total += info.file_size
        if self.read_total > self.archive_size:
            raise _bad("members overlap: they hold more bytes than the file")
        data = self.zf.read(info)
        if len(data) != info.file_size:
            raise _bad(f"member {info.filename!r} is truncated")
        return data

    def _byteorder(self) -> bool:
        if self.prefix + "byteorder" not in self.zf.namelist():
            return False
        order = self.member("byteorder", 16)
        if order not in (b"little", b"big"):
            raise _bad(f"byteorder member holds {order[:16]!r}, expected b'little' or b'big'")
        return order == b"big"

    def load(self) -> Any:
        data = self.member("data.pkl", _MAX_PICKLE)
        obj = Unpickler(data, self.find_global, self.persistent_load).load()
        _check(obj, 0, {})
        return obj

    def find_global(self, module: str, name: str) -> Any:
        found = self.globals.get((module, name))
        if found is not None:
            return found
        if module == "torch" and name in _STORAGES:
            return _Marker("storage", _STORAGES[name])
        if module == "torch" and name in _TORCH_DTYPES:
            return getattr(dtypes, "bool_" if name == "bool" else name) if name in SUPPORTED \
                else _Marker("dtype", name)
        raise _bad(f"Unsupported global: GLOBAL {module}.{name} is not allowed in a "
                   f"pickle-based PyTorch checkpoint; autodiff loads tensors and plain containers "
                   f"only, as a pickle global can run arbitrary code (for a whole model, save "
                   f"model.state_dict() instead)")

    def persistent_load(self, pid: Any) -> _Storage:
        if type(pid) is not tuple or len(pid) != 5 or _str(pid[0]) != "storage":
            raise _bad(f"persistent id {_short(pid)} is not ('storage', type, key, "
                       f"location, numel)")
        _, kind, key, location, numel = pid
        if not isinstance(kind, _Marker) or kind.kind != "storage":
            raise _bad(f"persistent id names {_short(kind)}, not a storage type")
        if type(key) is not str or not key.isdigit() or type(location) is not str or \
                type(numel) is not int or numel < 0:
            raise _bad(f"persistent id {_short(pid)} has a bad key, location or size")
        if kind.name not in _ITEMSIZE:
            raise unsupported_dtype(kind.name)
        if key not in self.raw:
            self.raw[key] = self.member(f"data/{key}", self.archive_size)
        raw = self.raw[key]
        if len(raw) != numel * _ITEMSIZE[kind.name]:
            raise _bad(f"storage {key}: {kind.name} x {numel} needs "
                       f"{numel * _ITEMSIZE[kind.name]} bytes, the member holds {len(raw)}")
        return _Storage(key, kind.name, raw, location)

    def rebuild_v2(self, u, storage, offset, size, stride, requires_grad, hooks,
                   metadata=None) -> Tensor:
        return self.tensor(storage, storage.dtype if isinstance(storage, _Storage) else None,
                           offset, size, stride, requires_grad, hooks, metadata)

    def rebuild_v3(self, u, storage, offset, size, stride, requires_grad, hooks, dtype,
                   metadata=None) -> Tensor:
        if not isinstance(dtype, (dtypes.DType, _Marker)) or getattr(dtype, "kind", "dtype") \
                != "dtype":
            raise _bad(f"_rebuild_tensor_v3 got dtype {_short(dtype)}")
        return self.tensor(storage, dtype.name, offset, size, stride, requires_grad, hooks,
                           metadata)

    def tensor(self, storage, dtype, offset, size, stride, requires_grad, hooks,
               metadata) -> Tensor:
        if not isinstance(storage, _Storage):
            raise _bad(f"a tensor is rebuilt from {_short(storage)}, not a storage")
        if dtype not in _ITEMSIZE:
            raise unsupported_dtype(dtype)
        if type(hooks) not in (dict, OrderedDict) or (metadata is not None and (
                type(metadata) is not dict or any(metadata.values()))):
            raise _bad("a tensor has backward hooks or conj/neg metadata; save plain tensors")
        item = _ITEMSIZE[dtype]
        if len(storage.raw) % item:
            raise _bad(f"storage {storage.key} of {len(storage.raw)} bytes is not a whole "
                       f"number of {dtype} elements")
        numel = len(storage.raw) // item
        if not _ints(size) or not _ints(stride) or len(size) != len(stride) or \
                len(size) > 64 or type(offset) is not int or offset < 0 or \
                math.prod(n for n in size if n) * item >= 1 << 62:
            raise _bad(f"bad tensor geometry: offset {_short(offset)}, size {_short(size)}, "
                       f"stride {_short(stride)}")
        count = math.prod(size)
        last = offset + sum((n - 1) * s for n, s in zip(size, stride)) if count else offset - 1
        if last >= numel:
            raise _bad(f"tensor (offset {offset}, size {size}, stride {stride}) reaches past "
                       f"its storage of {numel} {dtype} elements")
        self.budget -= count * (4 if dtype == "bfloat16" else item)
        if self.budget < 0:
            raise _bad("tensors expand (stride 0) to more memory than allowed; save them "
                       "with .contiguous() or .clone()")
        file_dt = np.dtype("uint16" if dtype == "bfloat16" else dtype)
        file_dt = file_dt.newbyteorder(">" if self.big_endian else "<")
        flat = np.frombuffer(storage.raw, file_dt)
        strides = [s * item if n > 1 else 0 for n, s in zip(size, stride)]
        view = np.lib.stride_tricks.as_strided(flat[offset:] if count else flat[:0], size,
                                               strides, writeable=False)
        host = view.copy().astype(file_dt.newbyteorder("="), copy=False)  # C order, keeps 0-d
        if dtype == "bfloat16":
            host = bf16_to_f32(host)
        elif dtype == "bool" and host.size and host.view(np.uint8).max() > 1:
            raise _bad(f"storage {storage.key}: bool data holds values other than 0 and 1")
        native = np.dtype("float32" if dtype == "bfloat16" else dtype)
        host = host.astype(native, copy=False).view(native)
        rg = requires_grad is True
        return self.placer._place(host, {"device": storage.location, "requires_grad": rg})


class _Storage:
    __slots__ = ("dtype", "key", "location", "raw")

    def __init__(self, key: str, dtype: str, raw: bytes, location: str) -> None:
        self.key, self.dtype, self.raw, self.location = key, dtype, raw, location

    def __repr__(self) -> str:
        return f"<storage {self.key} {self.dtype}>"


def _ints(xs: Any) -> bool:
    return type(xs) is tuple and all(type(x) is int and x >= 0 for x in xs)


def _ordered_dict(u: Unpickler) -> OrderedDict:
    return OrderedDict()  # its items follow as SETITEMS, as OrderedDict.__reduce__ pickles them


def _rebuild_parameter(u: Unpickler, data: Any, requires_grad: Any, hooks: Any) -> Tensor:
    if not isinstance(data, Tensor) or type(requires_grad) is not bool:
        raise _bad(f"_rebuild_parameter gets {_short(data)}, {_short(requires_grad)}")
    if data.is_floating_point() and data.requires_grad != requires_grad:
        data.requires_grad_(requires_grad)
    return data


def _size(u: Unpickler, sizes: Any) -> tuple:
    if not _ints(sizes):
        raise _bad(f"torch.Size gets {_short(sizes)}, not a tuple of sizes")
    return sizes


def _encode(u: Unpickler, text: Any, encoding: Any = "utf-8") -> bytes:
    if type(text) is not str or _str(encoding) not in ("latin1", "latin-1"):
        raise _bad("_codecs.encode is allowed for (str, 'latin1') only (how bytes pickle)")
    try:
        return text.encode("latin-1")
    except UnicodeEncodeError:
        raise _bad("_codecs.encode: text is not latin-1") from None


def _set(u: Unpickler, items: Any = (), frozen: bool = False) -> set | frozenset:
    if type(items) not in (list, tuple):
        raise _bad("set() gets a list")
    return u.frozen(frozenset(map(u.key, items))) if frozen else set(map(u.key, items))


_LEAVES = (type(None), bool, int, float, str, bytes, Tensor, dtypes.DType)


def _check(obj: Any, depth: int, heights: dict) -> int:
    """The nesting height of ``obj``; refuses cycles, heights past MAX_DEPTH and values only
    the interpreter may hold. Memoized, so shared sub-objects cost one visit."""
    if isinstance(obj, _LEAVES):
        return 0
    if depth > MAX_DEPTH or heights.get(id(obj), 0) is None:
        raise _bad(f"structure nested deeper than {MAX_DEPTH} levels or cyclic")
    if id(obj) in heights:
        return heights[id(obj)]
    if type(obj) in (dict, OrderedDict):
        children = [*obj.keys(), *obj.values(), *getattr(obj, "__dict__", {}).values()]
    elif type(obj) in (list, tuple, set, frozenset):
        children = list(obj)
    elif isinstance(obj, _Marker) and obj.kind == "dtype":
        raise unsupported_dtype(obj.name)
    else:
        raise _bad(f"the file holds {_short(obj)}; autodiff loads tensors and plain "
                   f"containers only (a bare storage? save tensors)")
    heights[id(obj)] = None  # on the current path: meeting it again is a cycle
    height = 1 + max((_check(c, depth + 1, heights) for c in children), default=0)
    if height > MAX_DEPTH:
        raise _bad(f"structure nested deeper than {MAX_DEPTH} levels")
    heights[id(obj)] = height
    return height


def _str(x: Any) -> str | None:  # compare file values as str only: Tensor == is elementwise
    return x if type(x) is str else None


def _short(x: Any) -> str:
    text = repr(x)
    return text if len(text) <= 80 else text[:77] + "..."
