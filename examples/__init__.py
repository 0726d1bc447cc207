"""Runnable training programs: ``python -m examples.NAME --device cpp --steps 200``.

Each module has ``main(argv) -> dict`` (its final metrics), so tests can run it briefly
in-process. tqdm, matplotlib and scikit-learn are optional (``pip install
'autodiff[examples]'``); without tqdm there is no progress bar, without matplotlib no plot.
"""
