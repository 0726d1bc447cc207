#!/usr/bin/env bash
# Run the native kernel parity test (tests/native/kernel_parity.cpp: every SIMD level the CPU
# supports against scalar, no Python) twice:
#   1. cross-compiled for AArch64 and run under qemu-user, which checks the NEON level
#      (Debian's g++-aarch64-linux-gnu and qemu-user are installed when missing);
#   2. natively with AddressSanitizer + UBSan, which checks this CPU's level (avx2 on x86).
# Emulated timings mean nothing: this checks results only.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$root"
sources=(tests/native/kernel_parity.cpp csrc/dispatch.cpp csrc/kernels/*.cpp)
flags=(-std=c++17 -Icsrc -fno-math-errno)

if ! command -v aarch64-linux-gnu-g++ >/dev/null || ! command -v qemu-aarch64 >/dev/null; then
  echo "neon_check: installing g++-aarch64-linux-gnu and qemu-user"
  sudo=$([ "$(id -u)" = 0 ] || echo sudo)
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq >/dev/null
  $sudo apt-get install -y -qq g++-aarch64-linux-gnu qemu-user >/dev/null
fi

# OpenMP when the cross toolchain has libgomp (-print-file-name echoes a bare name if not).
omp=()
[[ $(aarch64-linux-gnu-g++ -print-file-name=libgomp.so) == /* ]] && omp=(-fopenmp)
echo "neon_check: aarch64 build (-O2 ${omp[*]:-without OpenMP}), run under qemu-aarch64"
aarch64-linux-gnu-g++ "${flags[@]}" -O2 "${omp[@]}" "${sources[@]}" -o "$work/parity_aarch64"
qemu-aarch64 -L /usr/aarch64-linux-gnu "$work/parity_aarch64"

echo "neon_check: native build with -fsanitize=address,undefined"
g++ "${flags[@]}" -O1 -g -fopenmp -fsanitize=address,undefined -fno-omit-frame-pointer \
    -fno-sanitize-recover=undefined "${sources[@]}" -o "$work/parity_native"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 "$work/parity_native"
