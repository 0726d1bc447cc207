"""ad.load on torch.save files: every dtype and layout, state dicts into autodiff models with
PyTorch's outputs, map_location, and hostile or broken files (ValueError, nothing run).
The readers never use pickle; these tests use it only to craft hostile files."""

from __future__ import annotations

import io
import os
import pickle
import random
import time
import zipfile
from collections import OrderedDict

import numpy as np
import pytest

import autodiff as ad
from autodiff import _torch_checkpoint

torch = pytest.importorskip("torch")

DTYPES = ["float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8", "bool"]


def _saved(obj, **kw) -> io.BytesIO:
    buf = io.BytesIO()
    torch.save(obj, buf, **kw)
    buf.seek(0)
    return buf


def _np(t):
    return t.detach().cpu().numpy()


def _same(ours, theirs):
    assert isinstance(ours, ad.Tensor)
    ref = theirs.detach().float() if theirs.dtype == torch.bfloat16 else theirs.detach()
    assert ours.dtype.name == str(ref.dtype).removeprefix("torch.")
    assert ours.shape == tuple(ref.shape) and ours.is_contiguous()
    np.testing.assert_array_equal(_np(ours), ref.numpy())


@pytest.mark.parametrize("dtype", DTYPES)
def test_every_dtype(dtype):
    t = (torch.arange(-6, 6) % 3 > 0) if dtype == "bool" else \
        torch.arange(-6, 6).to(getattr(torch, dtype)) * (1 if dtype == "uint8" else -1)
    _same(ad.load(_saved({"t": t.reshape(3, 4)}))["t"], t.reshape(3, 4))


@pytest.mark.parametrize("protocol", [2, 4])
def test_structure_views_and_plain_values(protocol):
    base = torch.arange(24, dtype=torch.float32).reshape(4, 6)
    obj = OrderedDict(
        base=base, t=base.T, corner=base[1:, 2:5], strided=base[::2, ::3], row=base[2],
        again=base, scalar=torch.tensor(7), empty=torch.empty(0, 3),
        expanded=torch.arange(3.0).expand(4, 3), bf16=torch.tensor([1.5, -2.25, 3e38]).bfloat16(),
        nested={"list": [1, 2.5, "s", True, None, (1, (2, 3))], 0: b"\x00\xff", "big": 2**70,
                "neg": -(2**40), "set": {1, 2}, "fs": frozenset({"a"}), "size": base.shape,
                "dtype": torch.int64})
    out = ad.load(_saved(obj, pickle_protocol=protocol))
    assert type(out) is OrderedDict and list(out) == list(obj)
    for k in ("base", "t", "corner", "strided", "row", "scalar", "empty", "expanded", "bf16"):
        _same(out[k], obj[k])
    assert out["again"] is out["base"]  # one object saved twice loads as one tensor
    n = out["nested"]
    assert n["list"] == [1, 2.5, "s", True, None, (1, (2, 3))] and n[0] == b"\x00\xff"
    assert (n["big"], n["neg"], n["set"], n["fs"]) == (2**70, -(2**40), {1, 2}, frozenset("a"))
    assert n["size"] == (4, 6) and n["dtype"] is ad.int64


def test_parameters_and_requires_grad():
    lin = torch.nn.Linear(3, 2)
    frozen = torch.nn.Parameter(torch.ones(2), requires_grad=False)
    out = ad.load(_saved({"w": lin.weight, "frozen": frozen, "leaf": torch.ones(2).requires_grad_()}))
    assert out["w"].requires_grad and out["leaf"].requires_grad and not out["frozen"].requires_grad
    _same(out["w"], lin.weight)


def test_state_dict_metadata_is_kept():
    sd = ad.load(_saved(torch.nn.BatchNorm1d(2).state_dict()))
    assert sd._metadata[""] == {"version": 2}
    assert sd["num_batches_tracked"].dtype == ad.int64 and sd["num_batches_tracked"].shape == ()


def _check_outputs(ours, theirs, *xs, atol=1e-5):
    ours.eval()
    theirs.eval()
    got = ours(*[ad.tensor(x) for x in xs])
    want = theirs(*[torch.from_numpy(x) for x in xs])
    got, want = (got[0], want[0]) if isinstance(want, tuple) else (got, want)
    np.testing.assert_allclose(_np(got), want.detach().numpy(), atol=atol, rtol=1e-5)


def test_torch_state_dict_into_autodiff_models(tmp_path):
    """Conv2d, BatchNorm2d (with trained running stats), Linear, LayerNorm, Embedding, LSTM:
    the torch state dict loads into the same autodiff model, which then computes the same."""
    from autodiff import nn

    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    theirs = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.BatchNorm2d(4),
                                 torch.nn.ReLU(), torch.nn.Flatten(), torch.nn.Linear(64, 8),
                                 torch.nn.LayerNorm(8))
    theirs(torch.randn(6, 3, 6, 6))  # training mode: running stats move away from 0 and 1
    ours = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.Flatten(),
                         nn.Linear(64, 8), nn.LayerNorm(8))
    torch.save(theirs.state_dict(), tmp_path / "model.pt")
    ours.load_state_dict(ad.load(tmp_path / "model.pt"))
    _check_outputs(ours, theirs, rng.standard_normal((2, 3, 6, 6)).astype(np.float32))

    t_emb, t_lstm = torch.nn.Embedding(10, 4), torch.nn.LSTM(4, 5, num_layers=2, batch_first=True)
    a_emb, a_lstm = nn.Embedding(10, 4), nn.LSTM(4, 5, num_layers=2, batch_first=True)
    torch.save({"emb": t_emb.state_dict(), "lstm": t_lstm.state_dict()}, tmp_path / "rnn.pt")
    both = ad.load(tmp_path / "rnn.pt")
    a_emb.load_state_dict(both["emb"])
    a_lstm.load_state_dict(both["lstm"])
    _check_outputs(a_emb, t_emb, np.array([[1, 9, 3]], dtype=np.int64))
    _check_outputs(a_lstm, t_lstm, rng.standard_normal((2, 3, 4)).astype(np.float32))


def _on(location: str) -> io.BytesIO:
    """A checkpoint whose storages say they were saved on ``location``."""
    buf = _saved({"w": torch.ones(2)})
    return _rezip(buf, lambda pkl: pkl.replace(b"X\x03\x00\x00\x00cpu", b"X" + len(
        location).to_bytes(4, "little") + location.encode()))


def test_map_location():
    assert ad.load(_saved({"w": torch.ones(2)}), map_location="numpy")["w"].device == \
        ad.device("numpy")
    if any(d.startswith("cuda") for d in ad.available_devices()):
        pytest.skip("CUDA is available here")
    with pytest.raises(RuntimeError, match="map_location"):
        ad.load(_on("cuda:0"))
    assert ad.load(_on("cuda:0"), map_location={"cuda:0": "numpy"})["w"].device == \
        ad.device("numpy")
    seen = []
    out = ad.load(_on("cuda:0"), map_location=lambda t, where: seen.append(where) or t * 2)
    assert seen == ["cuda:0"] and _np(out["w"]).tolist() == [2.0, 2.0]
    with pytest.raises(TypeError, match="map_location returned"):  # the user's error, as is
        ad.load(_on("cuda:0"), map_location=lambda t, where: 3)


@pytest.mark.parametrize("dtype", ["complex64", "uint16", "float8_e4m3fn"])
def test_dtypes_autodiff_lacks_are_named(dtype):
    t = torch.ones(2).to(getattr(torch, dtype))
    with pytest.raises(ValueError, match=f"dtype {dtype} is not supported.*float"):
        ad.load(_saved({"t": t}))


def test_legacy_format_asks_for_zip():
    with pytest.raises(ValueError, match="legacy.*zip"):
        ad.load(_saved({"w": torch.ones(2)}, _use_new_zipfile_serialization=False))


def test_our_own_format_still_loads():
    buf = io.BytesIO()
    ad.save({"w": ad.ones(2)}, buf)
    buf.seek(0)
    assert _np(ad.load(buf)["w"]).tolist() == [1.0, 1.0]


# --------------------------------------------------------------------- hostile files
def _members(buf) -> dict:
    with zipfile.ZipFile(buf) as zf:
        return {i.filename: zf.read(i) for i in zf.infolist()}


def _rezip(buf, edit_pkl=None, members=None, compress=zipfile.ZIP_STORED) -> io.BytesIO:
    parts = _members(buf) if buf is not None else {}
    pkl = next(n for n in parts if n.endswith("/data.pkl")) if parts else "archive/data.pkl"
    if edit_pkl is not None:
        parts[pkl] = edit_pkl(parts[pkl])
    parts.update(members or {})
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        for name, data in parts.items():
            if data is not None:
                zf.writestr(name, data, compress_type=compress)
    out.seek(0)
    return out


class _Evil:
    def __reduce__(self):
        return (os.system, ("touch autodiff_pwned",))


class _Store:
    """Pickles as the persistent id of a storage (see _craft)."""

    def __init__(self, kind, key="0", numel=4, location="cpu"):
        self.pid = ("storage", kind, key, location, numel)


class _Rebuild:
    def __init__(self, *args):
        self.args = args

    def __reduce__(self):
        return (torch._utils._rebuild_tensor_v2, self.args)


def _craft(obj, data: bytes = bytes(16), protocol: int = 2) -> io.BytesIO:
    buf = io.BytesIO()
    p = pickle.Pickler(buf, protocol)
    p.persistent_id = lambda o: o.pid if isinstance(o, _Store) else None
    p.dump(obj)
    return _rezip(None, members={"archive/data.pkl": buf.getvalue(), "archive/data/0": data,
                                 "archive/version": b"3\n"})


def _tensor(size=(4,), stride=(1,), offset=0, kind=None, numel=4):
    return _Rebuild(_Store(kind or torch.FloatStorage, numel=numel), offset, size, stride,
                    False, OrderedDict())


def test_forbidden_globals_are_named_and_never_run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for obj, name in [(_Evil(), "system"), (torch.nn.Linear(2, 2), "torch.nn.modules.linear"),
                      ({"f": np.float32(1)}, "numpy")]:
        with pytest.raises(ValueError, match=f"GLOBAL .*{name}.* is not allowed"):
            ad.load(_craft(obj) if isinstance(obj, _Evil) else _saved(obj))
    assert not (tmp_path / "autodiff_pwned").exists()


@pytest.mark.parametrize("obj, data, match", [
    (_tensor(), bytes(12), "needs 16 bytes"),                      # declared size != member
    (_tensor(numel=2**60), bytes(16), "needs"),                    # huge declared size
    (_tensor((5,)), bytes(16), "reaches past"),                    # view past the storage end
    (_tensor((2, 2), (2, 1), offset=1), bytes(16), "reaches past"),
    (_tensor((2**20, 2**20), (0, 0)), bytes(16), "expand"),        # stride 0: a 4 TiB copy
    (_tensor((2**62, 0), (1, 1)), bytes(16), "geometry"),          # empty but absurd
    (_tensor((1, 4), (2**70, 1)), bytes(16), None),                # stride of a size-1 dim
    (_tensor(kind=torch.BoolStorage), bytes([0, 1, 2, 1]), "bool"),
    (_tensor(kind=torch.BFloat16Storage, numel=8), bytes(16), None),
    (_Rebuild("not a storage", 0, (1,), (1,), False, {}), bytes(16), "not a storage"),
    (_tensor(size=(-1,)), bytes(16), "geometry"),
    (_Store(torch.FloatStorage), bytes(16), "bare storage"),
])
def test_hostile_tensors(obj, data, match):
    f = _craft({"t": obj}, data)
    if match is None:
        ad.load(f)
        return
    with pytest.raises(ValueError, match=match):
        ad.load(f)


def _nested(depth):
    obj: list = []
    for _ in range(depth):
        obj = [obj]
    return obj


def test_nesting_cycles_and_bombs():
    cyclic: list = []
    cyclic.append(cyclic)
    for obj in (_nested(300), cyclic):
        with pytest.raises(ValueError, match="nested deeper|cyclic"):
            ad.load(_craft(obj))
    assert len(ad.load(_craft(_nested(150)))) == 1
    tup = ()
    for _ in range(300):
        tup = (tup,)
    with pytest.raises(ValueError, match="nested deeper"):
        ad.load(_craft({tup: 1}))
    with pytest.raises(ValueError, match="floats, big ints"):
        ad.load(_craft({float(i): 0 for i in range(20_000)}))
    assert len(ad.load(_craft({i: 0 for i in range(20_000)}))) == 20_000  # small ints are fine


@pytest.mark.parametrize("pkl, match", [
    (b"\x80\x02X\xff\xff\xff\x7fabc", "truncated"),                  # huge declared string
    (b"\x80\x02\x8b\xff\xff\xff\x7f", "truncated"),                  # huge LONG4
    (b"\x80\x02N", "without STOP"),
    (b"\x80\x02.", "malformed"),
    (b"\x80\x02h\x05.", "memo 5"),
    (b"\x80\x02a.", "underflow"),
    (b"\x80\x02(" * 1000 + b".", "MARKs nested"),
    (b"\x80\x02cos\nsystem\n.", "GLOBAL os.system"),
    (b"\x80\x02cbuiltins\neval\n.", "GLOBAL builtins.eval"),
    (b"\x80\x04\x8c\x02os\x8c\x06system\x93.", "GLOBAL os.system"),
    (b"\x80\x02cbuiltins\nset\nN\x85R.", "set"),
    (b"\x80\x02ccollections\nOrderedDict\n)R}X\x01\x00\x00\x00aNsb.", "BUILD"),
    (b"\x80\x02]N\x81.", "opcode"),                                  # NEWOBJ
    (b"\x80\x02N)R.", "REDUCE"),
    (b"\x80\x02}]Ns.", "unhashable"),
    (b"\x80\x09N.", "protocol"),
])
def test_hostile_pickles(pkl, match):
    with pytest.raises(ValueError, match=match):
        ad.load(_rezip(None, members={"archive/data.pkl": pkl}))


def test_storage_members_checked():
    buf = _saved({"w": torch.ones(4)})
    with pytest.raises(ValueError, match="compressed"):
        ad.load(_rezip(buf, compress=zipfile.ZIP_DEFLATED))
    buf.seek(0)
    with pytest.raises(ValueError, match="missing"):
        ad.load(_rezip(buf, members={"archive/data/0": None}))
    buf.seek(0)
    big_endian = _rezip(buf, members={"archive/byteorder": b"big",
                                      "archive/data/0": np.ones(4, ">f4").tobytes()})
    assert _np(ad.load(big_endian)["w"]).tolist() == [1.0] * 4


def _fuzz_one(data: bytes):
    start = time.perf_counter()
    try:
        ad.load(io.BytesIO(data))
    except ValueError:
        pass
    assert time.perf_counter() - start < 2.0


def test_fuzz_truncations_and_flips():
    """Every truncation, and random byte flips in data.pkl (re-zipped so the CRC still
    passes) and in the whole file: a ValueError or a load, fast, never anything else."""
    base = _saved({"a": torch.randn(3, 4), "b": [torch.arange(5), {"c": torch.ones(2).half()}],
                   "n": (1, 2.5, "x")}).getvalue()
    for cut in range(0, len(base), 7):
        with pytest.raises(ValueError):
            ad.load(io.BytesIO(base[:cut]))
    rng = random.Random(0)
    pkl = _members(io.BytesIO(base))["archive/data.pkl"]
    for _ in range(400):
        mutated = bytearray(pkl)
        for _ in range(rng.choice([1, 1, 2, 4])):
            mutated[rng.randrange(len(mutated))] = rng.randrange(256)
        _fuzz_one(_rezip(io.BytesIO(base), lambda _, m=bytes(mutated): m).getvalue())
    for _ in range(200):
        mutated = bytearray(base)
        mutated[rng.randrange(len(mutated))] ^= 1 << rng.randrange(8)
        _fuzz_one(bytes(mutated))


def test_reader_never_imports_pickle():
    with open(_torch_checkpoint.__file__) as fh:
        src = fh.read()
    for word in ("import pickle", "marshal", "shelve", "eval(", "exec(", "importlib",
                 "__import__"):
        assert word not in src
