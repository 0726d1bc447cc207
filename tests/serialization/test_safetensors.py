"""autodiff.safetensors: byte-for-byte with the reference writer (when the safetensors package
is installed; the format is checked by hand otherwise), cross-loading, safe_open and slices,
the reference's save rules, and hostile or broken files (always ValueError)."""

from __future__ import annotations

import json
import random
import struct
import time

import numpy as np
import pytest

import autodiff as ad
import autodiff.safetensors as st

DTYPES = ["float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8", "bool"]


def _arrays() -> dict:
    rng = np.random.default_rng(0)
    out = {f"t_{d}": (rng.standard_normal((2, 3)) * 50).astype(d) if d != "bool"
           else rng.random((2, 3)) > 0.5 for d in DTYPES}
    out.update(scalar=np.array(2.5, np.float32), empty=np.zeros((0, 4), np.int64),
               b=np.arange(12, dtype=np.float32).reshape(3, 4), a=np.arange(5, dtype=np.int64))
    return out


def _tensors(arrays: dict) -> dict:
    return {k: ad.tensor(v) for k, v in arrays.items()}


def _header(blob: bytes) -> dict:
    n = struct.unpack("<Q", blob[:8])[0]
    return json.loads(blob[8:8 + n])


def _blob(header: dict, data: bytes = b"", raw: bytes | None = None) -> bytes:
    text = raw if raw is not None else json.dumps(header).encode()
    return struct.pack("<Q", len(text)) + text + data


def test_module_is_exposed():
    assert ad.safetensors is st and callable(st.safe_open)


@pytest.mark.parametrize("metadata", [None, {"format": "pt"}])
def test_bytes_match_the_reference(metadata):
    ref = pytest.importorskip("safetensors.numpy")
    arrays = _arrays()
    assert st.save(_tensors(arrays), metadata=metadata) == ref.save(arrays, metadata=metadata)
    assert st.save({}) == ref.save({})


def test_format_by_hand():
    """What the reference writes: header length, compact JSON padded with spaces to 8 bytes,
    widest dtype first then name, packed little-endian data."""
    blob = st.save({"b": ad.ones(2, dtype=ad.float16), "a": ad.tensor([1, 2], dtype=ad.int64),
                    "c": ad.ones(1)}, metadata={"k": "v"})
    n = struct.unpack("<Q", blob[:8])[0]
    assert n % 8 == 0 and blob[8 + n - 1:8 + n] in (b" ", b"}")
    assert blob[8:8 + n].rstrip() == (
        b'{"__metadata__":{"k":"v"},"a":{"dtype":"I64","shape":[2],"data_offsets":[0,16]},'
        b'"c":{"dtype":"F32","shape":[1],"data_offsets":[16,20]},'
        b'"b":{"dtype":"F16","shape":[2],"data_offsets":[20,24]}}')
    assert blob[8 + n:] == np.array([1, 2], "<i8").tobytes() + np.ones(1, "<f4").tobytes() + \
        np.ones(2, "<f2").tobytes()


def test_round_trip_and_cross_load(tmp_path):
    arrays = _arrays()
    st.save_file(_tensors(arrays), tmp_path / "ours.safetensors", metadata={"m": "1"})
    out = st.load_file(tmp_path / "ours.safetensors")
    assert list(out) == sorted(arrays)
    for k, v in arrays.items():
        assert out[k].dtype.name == v.dtype.name and out[k].shape == v.shape
        np.testing.assert_array_equal(out[k].numpy(), v)
    loaded = st.load((tmp_path / "ours.safetensors").read_bytes())
    assert all(np.array_equal(loaded[k].numpy(), v) for k, v in arrays.items())
    ref = pytest.importorskip("safetensors.numpy")
    theirs = ref.load_file(str(tmp_path / "ours.safetensors"))
    assert all(np.array_equal(theirs[k], v) for k, v in arrays.items())
    ref.save_file(arrays, str(tmp_path / "theirs.safetensors"))
    out = st.load_file(tmp_path / "theirs.safetensors", device="numpy")
    assert all(np.array_equal(out[k].numpy(), v) and out[k].device == ad.device("numpy")
               for k, v in arrays.items())


def test_bf16_upcasts_to_float32(tmp_path):
    values = np.array([1.5, -2.25, 2.0**100, 0.0], np.float32)  # exact in bfloat16
    bits = (values.view(np.uint32) >> 16).astype("<u2")
    blob = _blob({"x": {"dtype": "BF16", "shape": [4], "data_offsets": [0, 8]}}, bits.tobytes())
    out = st.load(blob)["x"]
    assert out.dtype == ad.float32 and out.numpy().tolist() == values.tolist()
    (tmp_path / "b.safetensors").write_bytes(blob)
    with st.safe_open(tmp_path / "b.safetensors", framework="np") as f:
        assert f.get_slice("x").get_dtype() == "BF16" and f.get_slice("x")[1:3].tolist() == \
            [-2.25, 2.0**100]


def test_bf16_from_torch(tmp_path):
    torch = pytest.importorskip("torch")
    storch = pytest.importorskip("safetensors.torch")
    t = torch.randn(3, 5).bfloat16()
    storch.save_file({"w": t}, str(tmp_path / "t.safetensors"))
    np.testing.assert_array_equal(st.load_file(tmp_path / "t.safetensors")["w"].numpy(),
                                  t.float().numpy())


INDEXES = [(), 1, -1, slice(1, 3), slice(None, None, 2), (slice(0, 2), 2), (..., 1),
           (1, slice(None), slice(3, None)), slice(5, 9), slice(3, 1), Ellipsis, (0, 0, 0)]


@pytest.mark.parametrize("index", INDEXES, ids=str)
def test_get_slice_matches_numpy(tmp_path, index):
    full = np.arange(4 * 3 * 5, dtype=np.float64).reshape(4, 3, 5)
    st.save_file({"x": ad.tensor(full)}, tmp_path / "x.safetensors")
    with st.safe_open(tmp_path / "x.safetensors", framework="np") as f:
        sl = f.get_slice("x")
        assert sl.get_shape() == [4, 3, 5] and sl.get_dtype() == "F64"
        np.testing.assert_array_equal(sl[index], full[index])


def test_safe_open(tmp_path):
    st.save_file({"b": ad.ones(2), "a": ad.zeros(3), "s": ad.tensor(1.5)},
                 tmp_path / "m.safetensors", metadata={"format": "pt"})
    with st.safe_open(tmp_path / "m.safetensors", framework="pt", device="numpy") as f:
        assert f.keys() == ["a", "b", "s"] and f.metadata() == {"format": "pt"}
        t = f.get_tensor("b")
        assert isinstance(t, ad.Tensor) and t.device == ad.device("numpy")
        assert f.get_slice("s")[...].item() == 1.5
        with pytest.raises(KeyError):
            f.get_tensor("missing")
        with pytest.raises(IndexError):
            f.get_slice("a")[5]
        with pytest.raises(TypeError):
            f.get_slice("a")[::-1]
    with st.safe_open(tmp_path / "m.safetensors", framework="np") as f:
        assert isinstance(f.get_tensor("a"), np.ndarray)
    with pytest.raises(ValueError, match="framework"):
        st.safe_open(tmp_path / "m.safetensors", framework="tf")


def test_save_rules():
    w = ad.randn(4, 4)
    with pytest.raises(ValueError, match="non contiguous"):
        st.save({"t": w.T})
    with pytest.raises(RuntimeError, match="share memory"):
        st.save({"w": w, "tied": w})
    with pytest.raises(RuntimeError, match="share memory"):
        st.save({"w": w, "row": w[1]})
    assert len(st.load(st.save({"r0": w[0], "r1": w[1]}))) == 2  # disjoint views are fine
    assert len(st.save({"e": ad.zeros(0), "f": ad.zeros(0)})) > 8
    with pytest.raises(TypeError):
        st.save({"x": [1, 2]})
    with pytest.raises(TypeError):
        st.save({1: ad.ones(1)})
    with pytest.raises(TypeError, match="metadata"):
        st.save({"x": ad.ones(1)}, metadata={"k": 1})


_F32 = {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}


@pytest.mark.parametrize("blob, match", [
    (b"\x01\x00", "too small"),
    (struct.pack("<Q", 100_000_001) + b"{}", "over the limit"),
    (struct.pack("<Q", 64) + b"{}", "past the end"),
    (_blob({}, raw=b"\xff\xfe"), "UTF-8"),
    (_blob({}, raw=b" {}"), "start with"),
    (_blob({}, raw=b"{\"a\": "), "not valid JSON"),
    (_blob({}, raw=b"[]"), "start with"),
    (_blob({}, raw=b'{"x": 1, "x": 2}'), "duplicate"),
    (_blob({}, raw=b'{"x": NaN}'), "constant"),
    (_blob({"x": {**_F32, "dtype": "F99"}}, bytes(8)), "unknown dtype"),
    (_blob({"x": {**_F32, "dtype": "F8_E4M3"}}, bytes(8)), "dtype F8_E4M3 is not supported"),
    (_blob({"x": {**_F32, "dtype": "C64"}}, bytes(8)), "C64"),
    (_blob({"x": {**_F32, "shape": [-2]}}, bytes(8)), "shape"),
    (_blob({"x": {**_F32, "shape": [2**40, 2**40]}}, bytes(8)), "needs"),
    (_blob({"x": {**_F32, "data_offsets": [0, 2**70]}}, bytes(8)), "data_offsets"),
    (_blob({"x": {**_F32, "data_offsets": [4, 12]}}, bytes(12)), "contiguous"),
    (_blob({"x": _F32, "y": _F32}, bytes(8)), "contiguous"),          # overlap
    (_blob({"x": {**_F32, "data_offsets": [8, 4]}}, bytes(8)), "contiguous"),
    (_blob({"x": {**_F32, "data_offsets": [0, 4]}}, bytes(4)), "needs 8 bytes"),
    (_blob({"x": _F32}, bytes(12)), "cover 8 bytes"),                   # trailing bytes
    (_blob({"x": _F32}, bytes(4)), "cover 8 bytes"),                    # truncated
    (_blob({"x": {**_F32, "extra": 1}}, bytes(8)), "exactly"),
    (_blob({"__metadata__": {"k": 1}}), "__metadata__"),
    (_blob({"x": {"dtype": "BOOL", "shape": [2], "data_offsets": [0, 2]}}, b"\x01\x02"), "bool"),
])
def test_hostile_files(blob, match, tmp_path):
    with pytest.raises(ValueError, match=match):
        st.load(blob)
    (tmp_path / "h.safetensors").write_bytes(blob)
    with pytest.raises(ValueError, match=match):
        st.load_file(tmp_path / "h.safetensors")


def test_fuzz_truncations_and_flips(tmp_path):
    base = st.save(_tensors(_arrays()), metadata={"format": "pt"})
    n = 8 + struct.unpack("<Q", base[:8])[0]
    for cut in range(0, len(base), 5):
        with pytest.raises(ValueError):
            st.load(base[:cut])
    rng = random.Random(0)
    path = tmp_path / "f.safetensors"
    for i in range(600):
        blob = bytearray(base)
        for _ in range(rng.choice([1, 2, 5])):
            k = rng.randrange(n) if i % 3 else rng.randrange(8)
            blob[k] = rng.randrange(256)
        start = time.perf_counter()
        try:
            st.load(bytes(blob))
        except ValueError:
            pass
        if i % 10 == 0:
            path.write_bytes(bytes(blob))
            try:
                with st.safe_open(path, framework="np") as f:
                    [f.get_slice(k)[:1] for k in f.keys() if f.get_slice(k).get_shape()]  # noqa: SIM118
            except ValueError:
                pass
        assert time.perf_counter() - start < 2.0
