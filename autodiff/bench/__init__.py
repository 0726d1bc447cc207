"""The backend parity benchmark (``python -m autodiff.bench``)."""
