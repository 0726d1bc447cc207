"""Optimizers and learning-rate schedulers (``import autodiff.optim as optim``).

Every optimizer takes an iterable of Tensors (or parameter-group dicts), updates them in
place on the backend arrays without recording graph, and has ``step()``, ``zero_grad()``,
``state_dict()`` and ``load_state_dict()``.
"""

from __future__ import annotations

from . import lr_scheduler
from .adadelta import Adadelta
from .adagrad import Adagrad
from .adam import Adam, AdamW
from .optimizer import Optimizer
from .rmsprop import RMSprop
from .sgd import SGD

__all__ = [
           "SGD",
           "Adadelta",
           "Adagrad",
           "Adam",
           "AdamW",
           "Optimizer",
           "RMSprop",
           "lr_scheduler",
]
