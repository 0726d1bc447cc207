"""Without a GPU or without CuPy, "cuda" is cleanly unavailable and nothing else changes.

The real machine's state is checked where it lacks a GPU; the three ways CUDA can be
missing (no CuPy, CuPy without a driver, CuPy seeing no GPU) are simulated with a stand-in
``cupy`` module, so these run on every machine.
"""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
import types

import pytest

import autodiff as ad
from autodiff import backends

devmod = importlib.import_module("autodiff.device")
no_gpu = pytest.mark.skipif(ad.cuda.is_available(), reason="this machine has a usable GPU")


@no_gpu
def test_cuda_reports_unavailable():
    assert ad.cuda.is_available() is False
    assert ad.cuda.device_count() == 0
    assert not any(d.startswith("cuda") for d in ad.available_devices())
    reason = ad.cuda.unavailable_reason()
    assert reason and ("CuPy" in reason or "GPU" in reason)


@no_gpu
@pytest.mark.parametrize("name", ["cuda", "cuda:0", "cuda:1"])
def test_cuda_device_raises_naming_what_is_missing(name):
    with pytest.raises(RuntimeError) as err:
        ad.device(name)
    msg = str(err.value)
    assert repr(name) in msg and ("CuPy" in msg or "GPU" in msg)
    assert "Available devices: numpy" in msg


@no_gpu
def test_moving_a_tensor_to_cuda_raises():
    t = ad.tensor([1.0, 2.0])
    for move in (lambda: t.cuda(), lambda: t.to("cuda"), lambda: ad.zeros(2, device="cuda")):
        with pytest.raises(RuntimeError, match="not available"):
            move()
    assert t.device.type in ("numpy", "cpp")


@pytest.mark.parametrize("device", ["numpy", "cpu"])
def test_cpu_tensors_have_no_cuda_array_interface(device):
    t = ad.ones(3, device=device)  # explicit: AUTODIFF_DEVICE may make the default cuda
    assert not hasattr(t, "__cuda_array_interface__")
    assert not t.is_cuda


def _fake_cupy(count=None, error=None):
    cupy = types.ModuleType("cupy")

    def get_count():
        if error is not None:
            raise error
        return count

    cupy.cuda = types.SimpleNamespace(runtime=types.SimpleNamespace(getDeviceCount=get_count))
    return cupy


@pytest.mark.parametrize("fake,needle", [
    (None, "CuPy is not installed"),
    (_fake_cupy(error=RuntimeError("cudaErrorInsufficientDriver")), "no usable CUDA driver"),
    (_fake_cupy(count=0), "CuPy found no GPU"),
], ids=["no-cupy", "no-driver", "no-gpu"])
def test_each_missing_piece_is_named(monkeypatch, fake, needle):
    monkeypatch.setitem(sys.modules, "cupy", fake)  # None makes `import cupy` fail
    reason = backends.cuda_unavailable_reason()
    assert needle in reason
    assert ad.cuda.is_available() is False
    assert ad.cuda.device_count() == 0
    with pytest.raises(RuntimeError, match=needle):
        devmod._check_available("cuda", 0, "cuda")
    if fake is None:
        assert "pip install" in reason


def _run(code, **env):
    e = dict(os.environ, **env)
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False,
                          env=e, timeout=120)


def test_import_does_not_import_cupy():
    r = _run("import sys, autodiff; print('cupy' in sys.modules)", AUTODIFF_DEVICE="cpu")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "False"


@no_gpu
def test_autodiff_device_cuda_fails_at_import_naming_the_value():
    r = _run("import autodiff", AUTODIFF_DEVICE="cuda")
    assert r.returncode != 0
    assert "AUTODIFF_DEVICE='cuda'" in r.stderr and "numpy" in r.stderr
