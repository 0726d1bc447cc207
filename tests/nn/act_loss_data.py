"""Shared inputs of the activation and loss tests: seeded arrays with the branch points of the
piecewise functions, targets of each loss's kind, and a marker for inputs without gradient."""

from __future__ import annotations

import numpy as np

R = np.random.default_rng(0)
X = R.uniform(-2, 2, (4, 5))
X2 = R.uniform(-2, 2, (4, 5))
X3 = R.uniform(-2, 2, (4, 5))
X4 = R.uniform(-2, 2, (2, 3, 2, 2))
V = R.uniform(-2, 2, (5,))
# the branch points of the piecewise activations: +-3 (hard*), +-0.5 (shrink), 0, 1
EDGE = np.array([-4.0, -3.0, -2.5, -1.0, -0.5, -0.25, 0.0, 0.25, 0.5, 1.0, 2.5, 3.0, 4.0])
SIGNS = np.array([1.0, -1.0, -1.0, 1.0])
SIGNS6 = np.array([1.0, -1.0, 1.0, -1.0, 1.0, -1.0])
HINGE_T = np.array([[1.0, -1.0, 1.0, -1.0, 1.0], [-1.0, 1.0, 0.0, -1.0, 1.0]])
COS_T = np.array([1.0, -1.0, 0.0, -1.0])
BITS = (R.random((4, 5)) > 0.5).astype(np.float64)
COUNTS = np.array([[0.0, 0.5, 1.0, 2.0, 5.0], [3.0, 0.0, 1.5, 7.0, 1.0]])
IDX = np.array([0, 4, 2, 2])
W5 = np.array([0.5, 1.0, 2.0, 0.1, 3.0])
# rows 0 and 2 equal: a zero distance in pdist (PyTorch's gradient there is 0)
ROWS = np.array([[0.5, -1.0, 2.0], [1.5, 0.3, -0.7], [0.5, -1.0, 2.0], [-2.0, 1.0, 0.25]])
# class 0 is the target and x_1 = x_0 - margin: a hinge exactly at 0 (PyTorch: no gradient)
MM_TIE = np.array([[1.0, 0.0, 0.5, -1.0], [0.2, 0.9, -0.3, 0.4]])
MM_TIE_T = np.array([0, 3])


class Const:
    """An input array that gets no gradient (e.g. a target PyTorch differentiates as NaN)."""

    def __init__(self, a):
        self.a = np.asarray(a)

# PyTorch warns that the legacy size_average / reduce arguments are deprecated (we do not)
LEGACY_WARNING = "ignore:size_average and reduce args will be deprecated"
