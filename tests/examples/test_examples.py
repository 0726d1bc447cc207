"""Smoke test: every example runs a few steps (skipping those whose optional dependency is
missing), and one runs as ``python -m examples.NAME``."""

from __future__ import annotations

import importlib
import math
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
if ROOT not in sys.path:  # examples/ is a top-level package of the repository, not installed
    sys.path.insert(0, ROOT)
NEEDS_SKLEARN = {"digits", "lora", "early_stopping"}
CASES = [("xor", []), ("digits", ["--model", "mlp"]), ("digits", ["--model", "lenet"]),
         ("char_gpt", ["--context", "8", "--batch-size", "2"]), ("lstm_sequence", []),
         ("word2vec", []), ("lora", []), ("early_stopping", []), ("kernel_regression", []),
         ("regularization", [])]


@pytest.mark.parametrize("name,extra", CASES, ids=[f"{n}{''.join(e[1:2])}" for n, e in CASES])
def test_example_runs(name, extra, tmp_path, cpu_device, capsys):
    if name in NEEDS_SKLEARN:
        pytest.importorskip("sklearn")
    module = importlib.import_module(f"examples.{name}")
    metrics = module.main(["--steps", "2", "--quiet", "--device", cpu_device,
                           "--out", str(tmp_path)] + extra)
    assert isinstance(metrics, dict) and metrics
    assert all(math.isfinite(v) for v in metrics.values() if isinstance(v, float))
    assert capsys.readouterr().out.strip()


def test_plots_are_written(tmp_path):
    pytest.importorskip("matplotlib")
    importlib.import_module("examples.kernel_regression").main(
        ["--steps", "2", "--quiet", "--device", "numpy", "--out", str(tmp_path)])
    assert (tmp_path / "kernel_regression.png").stat().st_size > 1000


def test_xor_learns_as_a_module():
    out = subprocess.run([sys.executable, "-m", "examples.xor", "--steps", "300", "--quiet",
                          "--device", "numpy"], cwd=ROOT, capture_output=True, text=True,
                         timeout=120, check=False)
    assert out.returncode == 0, out.stderr
    assert "accuracy 1.00" in out.stdout


@pytest.mark.slow
@pytest.mark.parametrize("model", ["mlp", "lenet"])
def test_digits_reach_95_percent(model):
    pytest.importorskip("sklearn")
    metrics = importlib.import_module("examples.digits").main(["--model", model, "--quiet"])
    assert metrics["test_accuracy"] >= 0.95
