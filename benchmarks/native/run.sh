#!/usr/bin/env bash
# Build benchmarks/native/row_kernels.cpp (or $PROGRAM.cpp: PROGRAM=row_l1 for the kernels'
# compute cost on one L1-resident row) against the kernel sources, as the extension compiles
# them (-O3, OpenMP), and run it; arguments go to the program (ROWS THREADS REPS).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$root"
g++ -std=c++17 -O3 -fno-math-errno -fopenmp -DNDEBUG -Icsrc benchmarks/native/${PROGRAM:-row_kernels}.cpp \
    csrc/dispatch.cpp csrc/kernels/*.cpp -o "$work/program"
"$work/program" "$@"
