"""Optimizers and learning-rate schedulers (``import autodiff.optim as optim``).

Every optimizer takes an iterable of Tensors (or parameter-group dicts), updates them in
place on the backend arrays without recording graph, and has ``step()``, ``zero_grad()``,
``state_dict()`` and ``load_state_dict()``. ``lr_scheduler`` holds the schedulers and
``swa_utils`` (loaded on first use) weight averaging: AveragedModel, SWALR, update_bn.
"""

from __future__ import annotations

import importlib

from . import lr_scheduler
from .adadelta import Adadelta
from .adafactor import Adafactor
from .adagrad import Adagrad
from .adam import Adam, AdamW
from .adamax import Adamax
from .asgd import ASGD
from .lbfgs import LBFGS
from .muon import Muon
from .nadam import NAdam
from .optimizer import Optimizer
from .radam import RAdam
from .rmsprop import RMSprop
from .rprop import Rprop
from .sgd import SGD
from .sparse_adam import SparseAdam

__all__ = [
    "ASGD",
    "LBFGS",
    "SGD",
    "Adadelta",
    "Adafactor",
    "Adagrad",
    "Adam",
    "AdamW",
    "Adamax",
    "Muon",
    "NAdam",
    "Optimizer",
    "RAdam",
    "RMSprop",
    "Rprop",
    "SparseAdam",
    "lr_scheduler",
    "swa_utils",
]


def __getattr__(name: str):
    """``optim.swa_utils`` loads on first use (it imports ``autodiff.nn``)."""
    if name == "swa_utils":
        return importlib.import_module(".swa_utils", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
