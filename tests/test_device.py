"""Devices: parsing, availability, the default device (context, setter, AUTODIFF_DEVICE read
at import), CUDA absence reported clearly, and no implicit moves between devices."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

import autodiff as ad

HAS_CPP = "cpp" in ad.available_devices()


def test_device_parsing():
    assert str(ad.device("numpy")) == "numpy"
    assert ad.device("numpy") is ad.device(" NumPy ")
    assert ad.device(ad.device("numpy")) is ad.device("numpy")
    assert ad.device("cpu") is ad.device("cpp" if HAS_CPP else "numpy")
    assert ad.device("numpy") == "numpy" and ad.device("numpy") != "cpp"
    assert isinstance(ad.device("numpy"), ad.Device)
    assert ad.device("numpy").type == "numpy" and ad.device("numpy").index is None


@pytest.mark.parametrize("name,match", [
    ("tpu", "unknown device 'tpu'.*available here: numpy"),
    ("numpy:1", "takes no index"),
    ("cpu:0", "takes no index"),
    ("cuda:x", "bad CUDA device index"),
])
def test_bad_device_names(name, match):
    with pytest.raises(ValueError, match=match):
        ad.device(name)


def test_available_devices():
    devs = ad.available_devices()
    assert devs[0] == "numpy"
    assert all(d in ("numpy", "cpp") or d.startswith("cuda:") for d in devs)
    for d in devs:
        assert str(ad.device(d)) == d


@pytest.mark.skipif(ad.cuda.is_available(), reason="a GPU is present")
def test_cuda_absent_is_false_and_asking_for_it_names_what_is_missing():
    assert ad.cuda.is_available() is False
    assert ad.cuda.device_count() == 0
    for name in ("cuda", "cuda:0"):
        with pytest.raises(RuntimeError, match=r"(?i)cupy.*Available devices: numpy"):
            ad.device(name)
    with pytest.raises(RuntimeError, match="(?i)cupy"):
        ad.zeros(2, device="cuda")
    with pytest.raises(RuntimeError, match="(?i)cupy"):
        ad.zeros(2).cuda()


def test_default_device_context_and_setter():
    before = ad.get_default_device()
    with ad.default_device("numpy") as dev:
        assert str(dev) == "numpy"
        assert str(ad.zeros(1).device) == "numpy" and str(ad.tensor([1.0]).device) == "numpy"
        assert str(ad.randn(2).device) == "numpy" and str(ad.arange(3).device) == "numpy"
    assert ad.get_default_device() is before
    try:
        ad.set_default_device("numpy")
        assert str(ad.ones(1).device) == "numpy"
    finally:
        ad.set_default_device(before)
    assert str(ad.zeros(1, device="numpy").device) == "numpy"


def test_default_device_restored_after_error():
    before = ad.get_default_device()
    with pytest.raises(KeyError), ad.default_device("numpy"):
        raise KeyError
    assert ad.get_default_device() is before


def _run(env_value: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, AUTODIFF_DEVICE=env_value)
    code = "import autodiff as ad; print(ad.get_default_device(), ad.zeros(1).device)"
    return subprocess.run([sys.executable, "-W", "ignore", "-c", code], env=env,
                          capture_output=True, text=True, timeout=120, check=False)


@pytest.mark.parametrize("value,expected", [("numpy", "numpy numpy"),
                                            ("cpu", "cpp cpp" if HAS_CPP else "numpy numpy")])
def test_autodiff_device_env_read_at_import(value, expected):
    r = _run(value)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == expected


def test_autodiff_device_unknown_value_fails_at_import():
    r = _run("warp-drive")
    assert r.returncode != 0
    assert "warp-drive" in r.stderr and "numpy" in r.stderr
    assert "available" in r.stderr.lower()


@pytest.mark.skipif(not HAS_CPP, reason="needs two CPU devices")
def test_ops_on_different_devices_raise_naming_both():
    a, b = ad.ones(2, device="numpy"), ad.ones(2, device="cpp")
    for op in (lambda: a + b, lambda: a * b, lambda: a @ b, lambda: ad.cat([a, b]),
               lambda: ad.where(a > 0, a, b), lambda: ad.stack([a, b])):
        with pytest.raises(RuntimeError, match=r"numpy.*cpp|cpp.*numpy"):
            op()
    assert str((a + b.to("numpy")).device) == "numpy"  # an explicit move works
