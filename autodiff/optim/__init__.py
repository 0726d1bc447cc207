"""Optimizers and learning-rate schedulers (``import autodiff.optim as optim``).

Every optimizer takes an iterable of Tensors (or parameter-group dicts), updates them in
place on the backend arrays without recording graph, and has ``step()``, ``zero_grad()``,
``state_dict()`` and ``load_state_dict()``.
"""

from __future__ import annotations

from . import lr_scheduler  # noqa: F401
from .adadelta import Adadelta  # noqa: F401
from .adagrad import Adagrad  # noqa: F401
from .adam import Adam, AdamW  # noqa: F401
from .optimizer import Optimizer  # noqa: F401
from .rmsprop import RMSprop  # noqa: F401
from .sgd import SGD  # noqa: F401

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta",
           "lr_scheduler"]
