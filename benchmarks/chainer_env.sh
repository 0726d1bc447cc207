#!/usr/bin/env bash
# Chainer 7.8.1 (its last release) needs NumPy < 2, so the Chainer comparison runs in its own
# virtual environment: .venv-chainer at the repository root, with NumPy 1.26, Chainer,
# PyTorch CPU (optional, as in the other benchmarks) and autodiff built from this checkout.
# Arguments go to benchmarks/chainer_compare.py.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
venv="$root/.venv-chainer"
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q torch==2.13.0 || echo "PyTorch not installed: no torch column"
    # numpy.distutils, which Chainer imports, needs a setuptools that still has msvccompiler
    # (PyTorch declares setuptools >= 77 but does not need it to run)
    "$venv/bin/pip" install -q "numpy<2" "setuptools<70" chainer==7.8.1 2>&1 | grep -v "^ERROR: pip's\|^torch " || true
fi
"$venv/bin/pip" install -q "$root"
cd "$root/benchmarks"  # so that `import autodiff` finds the installed package, not the tree
exec "$venv/bin/python" chainer_compare.py "$@"
