"""ad.save / ad.load: round trips on every device, map_location, and files that are truncated,
corrupted or hostile (a pickle that would run code must run nothing)."""

from __future__ import annotations

import io
import json
import math
import pickle
import zipfile
from collections import OrderedDict
from pathlib import Path

import numpy as np
import pytest

import autodiff as ad
from autodiff import optim, serialization


def _host(t):
    return t.detach().cpu().numpy()


def _sample(device):
    w = ad.randn(3, 4, device=device)
    return {
        "weight": w,
        "same_weight": w,
        "transposed": ad.randn(4, 2, device=device).T,
        "scalar": ad.tensor(2.5, device=device),
        "empty": ad.zeros((0, 3), device=device),
        "ints": ad.arange(5, device=device),
        "int32": ad.arange(4, dtype=ad.int32, device=device),
        "f64": ad.randn(2, dtype=ad.float64, device=device),
        "f16": ad.ones(3, dtype=ad.float16, device=device),
        "mask": ad.tensor([True, False, True], device=device),
        "param": ad.randn(2, device=device, requires_grad=True),
        "meta": {0: (1, 2.0, None, "x", [True, False]), "nan": math.nan, "inf": -math.inf,
                 (1, "a"): b"\x00\xff"},
        "ordered": OrderedDict([("b", 1), ("a", 2)]),
        "array": np.arange(6, dtype=np.float32).reshape(2, 3),
    }


def _roundtrip(obj, **kw):
    buf = io.BytesIO()
    ad.save(obj, buf)
    buf.seek(0)
    return ad.load(buf, **kw)


def test_round_trip_every_type(device):
    obj = _sample(device)
    out = _roundtrip(obj)
    assert list(out) == list(obj)
    for k, v in obj.items():
        if isinstance(v, ad.Tensor):
            got = out[k]
            assert isinstance(got, ad.Tensor) and got.device == ad.device(device)
            assert got.dtype == v.dtype and got.shape == v.shape
            assert got.requires_grad == v.requires_grad
            np.testing.assert_array_equal(_host(got), _host(v))
    assert out["same_weight"] is out["weight"]
    meta = out["meta"]
    assert meta[0] == (1, 2.0, None, "x", [True, False]) and isinstance(meta[0], tuple)
    assert math.isnan(meta["nan"]) and meta["inf"] == -math.inf and meta[(1, "a")] == b"\x00\xff"
    assert isinstance(out["ordered"], OrderedDict) and list(out["ordered"]) == ["b", "a"]
    np.testing.assert_array_equal(out["array"], obj["array"])
    # loaded tensors own writable memory
    out["weight"].add_(1.0)


def test_optimizer_state_round_trip(device, tmp_path):
    params = [ad.randn(3, device=device, requires_grad=True) for _ in range(2)]
    opt = optim.Adam([{"params": params[:1]}, {"params": params[1:], "lr": 0.5}], amsgrad=True)
    for p in params:
        p.grad = ad.ones(3, device=device)
    opt.step()
    path = tmp_path / "ckpt.ad"
    ad.save({"optim": opt.state_dict(), "params": params, "epoch": 3}, path)
    ck = ad.load(path)
    assert ck["epoch"] == 3 and len(ck["params"]) == 2
    opt2 = optim.Adam(params, lr=1.0)
    opt2 = optim.Adam([{"params": params[:1]}, {"params": params[1:]}], amsgrad=True)
    opt2.load_state_dict(ck["optim"])
    assert opt2.param_groups[1]["lr"] == 0.5 and opt2.param_groups[0]["betas"] == (0.9, 0.999)
    s1, s2 = opt.state[params[0]], opt2.state[params[0]]
    assert s2["step"] == 1
    np.testing.assert_array_equal(_host(s1["max_exp_avg_sq"]), _host(s2["max_exp_avg_sq"]))


def test_path_and_file_object(tmp_path):
    ad.save({"a": ad.ones(2)}, str(tmp_path / "a.ad"))
    with open(tmp_path / "a.ad", "rb") as fh:
        assert _host(ad.load(fh)["a"]).tolist() == [1, 1]
    assert not [p for p in tmp_path.iterdir() if ".tmp" in p.name]


@pytest.mark.parametrize("how", ["str", "device", "dict", "callable"])
def test_map_location(how, device):
    obj = {"w": ad.randn(2, 2, device="numpy"), "b": ad.zeros(2, device="numpy")}
    ml = {"str": device, "device": ad.device(device), "dict": {"numpy": device},
          "callable": lambda t, loc: t.to(device) if loc == "numpy" else None}[how]
    out = _roundtrip(obj, map_location=ml)
    assert out["w"].device == ad.device(device) and out["b"].device == ad.device(device)
    np.testing.assert_array_equal(_host(out["w"]), _host(obj["w"]))


def test_map_location_callable_may_decline():
    out = _roundtrip({"w": ad.ones(2, device="numpy")}, map_location=lambda t, loc: None)
    assert out["w"].device == ad.device("numpy")


# --------------------------------------------------------------------------- hostile input
def _bytes(obj=None) -> bytes:
    buf = io.BytesIO()
    ad.save(obj if obj is not None else {"w": ad.randn(8, 8), "step": 1}, buf)
    return buf.getvalue()


def _rewrite(header_fn=None, members=None, compress=zipfile.ZIP_STORED) -> io.BytesIO:
    """A valid file with its header (and members) edited."""
    src = zipfile.ZipFile(io.BytesIO(_bytes()))
    header = json.loads(src.read("header.json"))
    if header_fn:
        header_fn(header)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=compress) as zf:
        zf.writestr("header.json", json.dumps(header))
        for name in src.namelist():
            if name != "header.json":
                zf.writestr(name, (members or {}).get(name, src.read(name)))
    out.seek(0)
    return out


class _Evil:
    marker: str = ""

    def __reduce__(self):
        return (Path.touch, (Path(self.marker),))


def test_pickle_is_never_executed(tmp_path):
    marker = tmp_path / "pwned"
    _Evil.marker = str(marker)
    payload = pickle.dumps({"w": _Evil()})
    bad = tmp_path / "evil.pt"
    bad.write_bytes(payload)
    with pytest.raises(ValueError, match="pickle"):
        ad.load(bad)
    # a PyTorch-style zip whose data.pkl would run code
    with zipfile.ZipFile(tmp_path / "evil.zip", "w") as zf:
        zf.writestr("archive/data.pkl", payload)
    with pytest.raises(ValueError, match="pickle-based"):
        ad.load(tmp_path / "evil.zip")
    # a pickle smuggled in as the header
    with zipfile.ZipFile(tmp_path / "evil2.zip", "w") as zf:
        zf.writestr("header.json", payload)
    with pytest.raises(ValueError):
        ad.load(tmp_path / "evil2.zip")
    assert not marker.exists()
    pickle.loads(payload)  # the payload is real: unpickling it does create the marker
    assert marker.exists()


@pytest.mark.parametrize("cut", [0, 3, 40, 200, 300, -200, -23, -1])
def test_truncated(cut):
    data = _bytes()
    with pytest.raises(ValueError, match="load:"):
        ad.load(io.BytesIO(data[:cut]))


def test_corrupted_tensor_bytes_fail_the_crc():
    data = bytearray(_bytes())
    i = data.index(b"data/0") + 60  # inside the tensor's bytes
    data[i] ^= 0xFF
    with pytest.raises(ValueError, match="corrupted"):
        ad.load(io.BytesIO(bytes(data)))


@pytest.mark.parametrize("name,edit", [
    ("object dtype", lambda h: h["tensors"][0].update(dtype="object")),
    ("shape mismatch", lambda h: h["tensors"][0].update(shape=[9, 9])),
    ("huge shape", lambda h: h["tensors"][0].update(shape=[1 << 40, 1 << 20])),
    ("negative shape", lambda h: h["tensors"][0].update(shape=[-8, -8])),
    ("missing member", lambda h: h["tensors"][0].update(member="data/99")),
    ("bad reference", lambda h: h.update(root={"$tensor": 5})),
    ("unknown tag", lambda h: h.update(root={"$eval": "__import__('os')"})),
    ("bare list", lambda h: h.update(root=[1, 2])),
    ("unhashable key", lambda h: h.update(root={"$dict": [[{"$list": []}, 1]]})),
    ("bad version", lambda h: h.update(version=99)),
    ("wrong format", lambda h: h.update(format="pickle")),
    ("bad device", lambda h: h["tensors"][0].update(device="tpu")),
    ("deep nesting", lambda h: h.update(root=_deep(250))),
])
def test_hostile_headers(name, edit):
    with pytest.raises(ValueError, match="load:"):
        ad.load(_rewrite(edit))


def _deep(n):
    node = 1
    for _ in range(n):
        node = {"$list": [node]}
    return node


def test_json_bomb_header():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("header.json", '{"format": "autodiff", "version": 1, "tensors": [], '
                    '"root": ' + "[" * 100000 + "]" * 100000 + "}")
    with pytest.raises(ValueError, match="load:"):
        ad.load(buf)


def test_compressed_members_are_refused():
    with pytest.raises(ValueError, match="compressed"):
        ad.load(_rewrite(compress=zipfile.ZIP_DEFLATED))


def test_bool_values_are_checked():
    f = _rewrite(lambda h: h["tensors"][0].update(dtype="bool", shape=[256]),
                 members={"data/0": bytes(range(256))})
    with pytest.raises(ValueError, match="bool"):
        ad.load(f)


def test_not_a_file_format():
    for data in (b"", b"hello world", b"PK\x05\x06" + bytes(18), json.dumps({}).encode()):
        with pytest.raises(ValueError, match="load:"):
            ad.load(io.BytesIO(data))


def test_unavailable_saved_device_needs_map_location():
    if any(d.startswith("cuda") for d in ad.available_devices()):
        pytest.skip("CUDA is available here")
    f = _rewrite(lambda h: h["tensors"][0].update(device="cuda:0"))
    with pytest.raises(RuntimeError, match="map_location"):
        ad.load(f)
    f.seek(0)
    out = ad.load(f, map_location={"cuda:0": "numpy"})
    assert out["w"].device == ad.device("numpy")


def test_unsupported_objects_on_save():
    with pytest.raises(TypeError, match="object at root\\['f'\\]"):
        ad.save({"f": object()}, io.BytesIO())
    with pytest.raises(TypeError, match="set"):
        ad.save({1, 2}, io.BytesIO())


def test_format_is_documented_zip():
    zf = zipfile.ZipFile(io.BytesIO(_bytes({"w": ad.ones(2)})))
    header = json.loads(zf.read("header.json"))
    assert header["format"] == serialization.FORMAT and header["version"] == 1
    assert header["tensors"][0]["dtype"] == "float32"
    assert np.frombuffer(zf.read("data/0"), "<f4").tolist() == [1.0, 1.0]


def test_torch_checkpoint_loads_without_unpickling(torch, tmp_path):
    """torch.save's zip format is read by autodiff/_torch_checkpoint.py's own interpreter."""
    torch.save({"w": torch.ones(2)}, tmp_path / "t.pt")
    got = ad.load(tmp_path / "t.pt")
    assert list(got) == ["w"] and got["w"].tolist() == [1.0, 1.0]


def test_model_and_optimizer_checkpoint(device, tmp_path):
    """A full training checkpoint: model state dict (with BatchNorm buffers), optimizer state
    and an lr scheduler; resuming from it continues exactly."""
    import autodiff.nn as nn

    def make():
        ad.manual_seed(3)
        model = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 2))
        model = model.to(device)
        opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        return model, opt, optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)

    x, y = ad.randn(16, 4, device=device), ad.randint(0, 2, (16,), device=device)

    def train(model, opt, sched, n):
        for _ in range(n):
            opt.zero_grad()
            nn.functional.cross_entropy(model(x), y).backward()
            opt.step()
            sched.step()

    model, opt, sched = make()
    train(model, opt, sched, 3)
    ad.save({"model": model.state_dict(), "optim": opt.state_dict(),
             "sched": sched.state_dict()}, tmp_path / "ck.ad")
    train(model, opt, sched, 3)
    model2, opt2, sched2 = make()
    ck = ad.load(tmp_path / "ck.ad", map_location=device)
    model2.load_state_dict(ck["model"])
    opt2.load_state_dict(ck["optim"])
    sched2.load_state_dict(ck["sched"])
    train(model2, opt2, sched2, 3)
    for (name, a), b in zip(model.state_dict().items(), model2.state_dict().values()):
        np.testing.assert_allclose(_host(a), _host(b), rtol=1e-6, atol=1e-7, err_msg=name)
    assert sched2.get_last_lr() == sched.get_last_lr()


@pytest.mark.skipif("cpp" not in ad.available_devices(), reason="no C++ extension")
def test_loaded_tensors_run_the_cpp_kernels(tmp_path):
    """Loaded arrays carry NumPy's own dtype objects, and the C++ bindings compare dtypes by
    equivalence: a checkpoint's tensors once raised 'expected a float32 or float64 array,
    got float32' in every C++ kernel (resuming Adam crashed in its first step)."""
    nn = ad.nn
    model = nn.Linear(3, 2).to("cpp")
    opt = optim.Adam(model.parameters(), lr=1e-3)
    model(ad.randn(4, 3, device="cpp")).sum().backward()
    opt.step()
    ad.save({"model": model.state_dict(), "opt": opt.state_dict(),
             "idx": ad.arange(3, device="cpp")}, tmp_path / "ck.ad")
    ck = ad.load(tmp_path / "ck.ad")
    w = ck["model"]["weight"]
    assert w.numpy().dtype is np.dtype(np.float32)
    assert w.device == ad.device("cpp")
    np.testing.assert_allclose(w.softmax(-1).numpy().sum(-1), 1.0, rtol=1e-6)
    assert ad.cat([ck["idx"], ad.arange(3, device="cpp")]).tolist() == [0, 1, 2, 0, 1, 2]
    model2 = nn.Linear(3, 2).to("cpp")
    model2.load_state_dict(ck["model"])
    opt2 = optim.Adam(model2.parameters(), lr=1e-3)
    opt2.load_state_dict(ck["opt"])
    model2(ad.randn(4, 3, device="cpp")).sum().backward()
    opt2.step()
    # an equal dtype that is another object reaches the kernels too
    other = np.dtype(np.float32).newbyteorder("=")
    x = np.frombuffer(np.ones(8, np.float32).tobytes(), dtype=other).reshape(2, 4)
    np.testing.assert_allclose(ad._C.softmax(x, 1), np.full((2, 4), 0.25))


def test_torch_load_keywords_are_accepted(tmp_path):
    """Ported torch.load calls pass weights_only / mmap; pickle_module cannot be honoured."""
    ad.save({"a": ad.ones(2)}, tmp_path / "x.ad")
    got = ad.load(tmp_path / "x.ad", weights_only=True, mmap=True)
    assert got["a"].tolist() == [1.0, 1.0]
    assert ad.load(tmp_path / "x.ad", map_location="numpy", weights_only=False)["a"].device.type \
        == "numpy"
    with pytest.raises(ValueError, match="never unpickles"):
        ad.load(tmp_path / "x.ad", pickle_module=object())


def test_a_safetensors_file_given_to_load_names_the_right_reader(tmp_path):
    from autodiff.safetensors import save_file

    save_file({"w": ad.ones(3)}, tmp_path / "m.safetensors")
    with pytest.raises(ValueError, match="safetensors.load_file"):
        ad.load(tmp_path / "m.safetensors")
