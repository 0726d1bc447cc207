#!/usr/bin/env bash
# Build the C++ extension with AddressSanitizer + UBSan into a scratch copy of the package
# and run the kernel tests against it (issue 3: the kernels must never touch memory out of
# bounds, whatever they are passed). Python itself is not instrumented, so the ASan runtime
# (and libstdc++, whose __cxa_throw ASan must see) is preloaded.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -r "$root/autodiff" "$work/autodiff"
rm -f "$work"/autodiff/_C*.so
(cd "$root" && AUTODIFF_SANITIZE=1 python setup.py -q build_ext \
    --build-lib "$work/lib" --build-temp "$work/tmp" >/dev/null)
cp "$work"/lib/autodiff/_C*.so "$work/autodiff/"
cd "$root"
export PYTHONPATH="$work${PYTHONPATH:+:$PYTHONPATH}"
# an editable install's import hook would find the repo's own extension first: drop it
run='import os, sys, pytest
sys.meta_path[:] = [f for f in sys.meta_path if "editable" not in str(getattr(f, "__module__", f))]
sys.path[:] = [p for p in sys.path if p not in ("", os.getcwd())]
import autodiff._C as C
assert C.__file__.startswith(sys.argv[1]), C.__file__
sys.exit(pytest.main(["tests/cpp", "-q", "-p", "no:cacheprovider"] + sys.argv[2:]))'
LD_PRELOAD="$(g++ -print-file-name=libasan.so) $(g++ -print-file-name=libstdc++.so)" \
ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    python -c "$run" "$work" "$@"
