"""Reverse-mode automatic differentiation: graph nodes, the engine, custom Functions, checks."""

from __future__ import annotations

from ..func import _forward_ad as forward_ad  # noqa: F401  (code outside the core)
from . import graph  # noqa: F401
from .anomaly import detect_anomaly, is_anomaly_enabled, set_detect_anomaly  # noqa: F401
from .function import Function, FunctionCtx  # noqa: F401
from .functional import grad  # noqa: F401
from .grad_mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled  # noqa: F401
from .gradcheck import GradcheckError, gradcheck, gradgradcheck  # noqa: F401
from .node import Node  # noqa: F401
from .variable import Variable  # noqa: F401


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, inputs=None):
    """``ad.autograd.backward``: backward from several tensors at once."""
    from . import engine

    tensors = [tensors] if isinstance(tensors, engine.Tensor) else list(tensors)
    if grad_tensors is None:
        grad_tensors = [None] * len(tensors)
    elif isinstance(grad_tensors, engine.Tensor):
        grad_tensors = [grad_tensors]
    if retain_graph is None:
        retain_graph = create_graph
    if inputs is not None:  # accumulate into these only, through one sink (no aliased .grads)
        inputs = [inputs] if isinstance(inputs, engine.Tensor) else list(inputs)
        if not inputs:
            raise RuntimeError("'inputs' argument to backward() cannot be empty.")
    grads = engine.run_backward(tensors, list(grad_tensors), retain_graph, create_graph, inputs)
    sink = engine._GradSink(None, create_graph)
    for t, g in zip(inputs or (), grads or ()):
        if g is not None and not (t.grad_fn is not None and t._retains_grad):  # (stored it)
            sink.accumulate(t, g)


def __getattr__(name: str):
    if name == "inference_mode":  # defined with the torch names, which import this package
        from ..torch_names import inference_mode

        return inference_mode
    raise AttributeError(f"module 'autodiff.autograd' has no attribute '{name}'")
