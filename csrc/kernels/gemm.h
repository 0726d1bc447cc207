// GEMM: C = A @ B as BLIS does it -- B packed in KC x NC blocks of NR-column micro-panels,
// A packed in MC x KC blocks of MR-row micro-panels, and an MR x NR register-blocked
// micro-kernel.  Operands may have any strides (a transposed operand is packed directly).
#pragma once

#include <cstdint>

#include "dispatch.h"

namespace autodiff::kernels {

// Cache blocking (elements) of the packed driver: the micro-kernel walks an MC x KC block of
// A in L2 against a KC x NR micro-panel of B; the KC x NC panel of B sits in L3.  Two sets
// (gemm.cpp picks):
// - Threads splitting M (or one thread), A taller than kMCShortA and C not twice as wide as
//   tall (each packed B panel meets many A micro-panels): kMC x kKC.  The deeper KC is,
//   the fewer times C is read and written and the longer each micro-kernel call runs
//   between its C-tile loads and stores.  Float
//   144 x 512 -> 48 x 1024 (A block 288 -> 192 KiB): 2048^3 186 -> 191 GFLOP/s at 2
//   threads, 95.4 -> 97.8 on one (NumPy's OpenBLAS 188-191 / 96); 1024^3, 4096x1024x1024
//   and 768x768x3072 +1.5-3% (benchmarks/gemm_blocking.py; MC 36-72 alike).  Double
//   96 x 256 -> 48 x 512: +1.5-3%.
// - Otherwise (threads splitting B's panels, each packing all of A; a short A; a wide C):
//   kMCShortA x kKCShortA.  A B micro-panel meets few A micro-panels there and should stay
//   in L1 (float KC x NR at KC 512: 32 KiB); with the deep blocking 32x4096x1024 took 1.21x
//   the time, 64x1024x2048, 100x3000x1000 and 300x3000x1000 1.02-1.04x.
// kKCPass is the depth per pass of the drivers that read or build their operands differently
// (small-GEMM, convolution, recurrent cells): measured with 256.
template <typename T>
struct GemmBlocking;
template <>
struct GemmBlocking<float> {
  static constexpr int64_t kMC = 48, kKC = 1024, kMCShortA = 144, kKCShortA = 512, kNC = 3072,
                           kKCPass = 256;
};
template <>
struct GemmBlocking<double> {
  static constexpr int64_t kMC = 48, kKC = 512, kMCShortA = 96, kKCShortA = 256, kNC = 3072,
                           kKCPass = 256;
};

// Tile of the narrow-GEMM dot kernel (GemmDotFn), the same at every SIMD level.
constexpr int kGemmDotMR = 4, kGemmDotNR = 3;

template <typename T>
void fill_gemm_scalar(KernelTable<T>& t);
template <typename T>
void fill_gemm_avx2(KernelTable<T>& t);
template <typename T>
void fill_gemm_dot_avx2(KernelTable<T>& t);
template <typename T>
void fill_gemm_avx512(KernelTable<T>& t);
template <typename T>
void fill_gemm_neon(KernelTable<T>& t);

// A packed micro-kernel, its tile, and the convolution micro-kernel of that tile (or null).
template <typename T>
struct GemmTile {
  GemmUkernelFn<T> ukernel;
  int mr, nr;
  ConvUkernelFn<T> conv;
};

// The tile for M rows: the table's, or its second (gemm2) where that pads M to 10% fewer
// rows (AVX-512's 16 rows against AVX2's 6: a 20-row batch is 32 rows or 24; LSTM steps of
// batch 20, 64 units, took 1.13x AVX2's time on the 16-row tile).
template <typename T>
GemmTile<T> gemm_tile(const KernelTable<T>& t, int64_t m) {
  const int64_t rows = (m + t.gemm_mr - 1) / t.gemm_mr * t.gemm_mr;
  const int64_t rows2 = (m + t.gemm2_mr - 1) / t.gemm2_mr * t.gemm2_mr;
  if (10 * rows > 11 * rows2) return {t.gemm2_ukernel, t.gemm2_mr, t.gemm_nr, t.conv2_ukernel};
  const bool conv = t.conv_mr == t.gemm_mr && t.conv_nr == t.gemm_nr;
  return {t.gemm_ukernel, t.gemm_mr, t.gemm_nr, conv ? t.conv_ukernel : nullptr};
}

// Packing (gemm_pack.cpp).  Rows/cols beyond the block are zero-filled up to MR / NR.
template <typename T>
void pack_a(int64_t mc, int64_t kc, const T* a, int64_t rsa, int64_t csa, int mr, T* pa);
template <typename T>
void pack_b_panel(int64_t kc, int64_t nr_valid, const T* b, int64_t rsb, int64_t csb, int nr,
                  T* pb);

// Single-threaded small-GEMM path (gemm_small.cpp): A read in place, not packed.  Returns
// false, doing nothing, when A's block is too big for it.
template <typename T>
bool gemm_small(int64_t m, int64_t n, int64_t k, const T* a, int64_t rsa, int64_t csa, const T* b,
                int64_t rsb, int64_t csb, T* c, int64_t ldc);

// One row of A (M = 1, a vector-matrix product; gemm_small.cpp): memory-bound on B, so B is
// read in place (never packed) and nt threads split N.  gemm() also sends N = 1 here, as the
// transposed product.  Returns false, doing nothing, unless
// B is row-major, or column-major with A's row contiguous.
template <typename T>
bool gemm_vector(int64_t n, int64_t k, const T* a, int64_t csa, const T* b, int64_t rsb,
                 int64_t csb, T* c, int nt);

// Row-major A times a narrow B (N < NR, deep enough; gemm_small.cpp): dot products along K
// (B's columns copied contiguous first unless already), nt threads splitting M.  Returns
// false, doing nothing, for other shapes and layouts.
template <typename T>
bool gemm_narrow_split(int64_t m, int64_t n, int64_t k, const T* a, int64_t rsa, int64_t csa,
                       const T* b, int64_t rsb, int64_t csb, T* c, int64_t ldc, int nt);

// Override the blocking of both sets (0 restores the constants); for tuning runs only, not
// thread-safe.
template <typename T>
void set_gemm_blocking(int64_t mc, int64_t kc, int64_t nc);

// C[M x N] (row-major, leading dimension ldc) = A[M x K] @ B[K x N] with element strides.
// nthreads <= 0 picks threads by problem size.
template <typename T>
void gemm(int64_t m, int64_t n, int64_t k, const T* a, int64_t rsa, int64_t csa, const T* b,
          int64_t rsb, int64_t csb, T* c, int64_t ldc, int nthreads = 0);

}  // namespace autodiff::kernels
