"""Shared fixtures: every device-parametrized test runs on numpy, cpp and cuda, skipping the
devices this machine lacks (cpp without the extension, cuda without a GPU and CuPy)."""

from __future__ import annotations

import numpy as np
import pytest

import autodiff as ad

_AVAILABLE = ad.available_devices()
DEVICE_PARAMS = [
    pytest.param("numpy", id="numpy"),
    pytest.param("cpp", id="cpp"),
    pytest.param("cuda", id="cuda", marks=pytest.mark.gpu),
]


def device_available(name: str) -> bool:
    if name == "cuda":
        return any(d.startswith("cuda") for d in _AVAILABLE)
    return name in _AVAILABLE


@pytest.fixture(params=DEVICE_PARAMS)
def device(request) -> str:
    """A device name; skips when the device is not available here."""
    name = request.param
    if not device_available(name):
        reason = {"cpp": "the C++ extension autodiff._C is not built",
                  "cuda": "no CUDA GPU/CuPy"}.get(name, "unavailable")
        pytest.skip(f"{name}: {reason}")
    return name


@pytest.fixture(params=[pytest.param("numpy", id="numpy"), pytest.param("cpp", id="cpp")])
def cpu_device(request) -> str:
    """A CPU device name (numpy or cpp)."""
    if not device_available(request.param):
        pytest.skip(f"{request.param}: the C++ extension autodiff._C is not built")
    return request.param


@pytest.fixture(params=["cpp", "numpy"])
def dev(request):
    """A CPU device made the default for the test: ported PyTorch code names no device."""
    if not device_available(request.param):
        pytest.skip(f"{request.param} is not available")
    with ad.default_device(request.param):
        yield request.param


@pytest.fixture(autouse=True)
def _seed():
    ad.manual_seed(0)
    np.random.seed(0)
    yield


@pytest.fixture
def torch():
    """PyTorch as an extra oracle; the test skips when it is not installed."""
    return pytest.importorskip("torch")
