"""Runnable training programs: ``python -m examples.NAME --device cpp --steps 200``.

Each module has ``main(argv) -> dict`` (its final metrics), so tests can run it briefly
in-process. tqdm, matplotlib and scikit-learn are optional (``pip install
'autodiff[examples]'``); without tqdm there is no progress bar, without matplotlib no plot.
"""

import os as _os

# The C++ backend's OpenMP threads spin-wait between kernels by default; on a busy machine
# (other processes on the same 2 cores) that made a LeNet step ~8x slower in our runs.
# Passive waiting costs a little latency per kernel and keeps the examples well under a
# minute there. Must be set before autodiff (and its OpenMP runtime) is first imported.
_os.environ.setdefault("OMP_WAIT_POLICY", "passive")
