"""DenseNet(memory_efficient=True) checkpoints each bottleneck: the same gradients with a
measurably lower peak of host memory (tracemalloc sees NumPy's allocations), so the model
is built on the CPU even when AUTODIFF_DEVICE names a GPU."""

from __future__ import annotations

import tracemalloc

import numpy as np

import autodiff as ad

from .conftest import need_nn


def _peak(memory_efficient: bool):
    from autodiff.models import DenseNet

    ad.manual_seed(0)
    with ad.default_device("cpu"):  # host memory is what tracemalloc sees, whatever the default
        model = DenseNet(growth_rate=8, block_config=(12,), num_init_features=32, bn_size=2,
                         num_classes=10, small_input=True, memory_efficient=memory_efficient)
    x = ad.randn(4, 3, 12, 12, device="numpy").to(next(model.parameters()).device)
    tracemalloc.start()
    try:
        model(x).sum().backward()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak, [p.grad.detach().cpu().numpy() for p in model.parameters()]


def test_memory_efficient_densenet_saves_memory():
    need_nn("Conv2d", "BatchNorm2d")
    full, g_full = _peak(False)
    lean, g_lean = _peak(True)
    for a, b in zip(g_full, g_lean):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
    print(f"peak: {full / 2**20:.1f} MiB -> {lean / 2**20:.1f} MiB "
          f"({100 * (1 - lean / full):.0f}% less)")
    assert lean < 0.75 * full
