#if defined(__aarch64__)  // the whole file: NEON kernels
// NEON GEMM micro-kernels: 8 rows x 3 vectors (float 8x12, double 8x6).  24 accumulators +
// 3 B vectors + the 8 A values of a k step as 2 (float) or 4 (double) vectors whose lanes
// feed by-element FMAs = 29 / 31 of the 32 q registers, 24 independent FMAs per k.  The
// small-GEMM kernel (A read in place) keeps the tile, broadcasting A one element at a time.
#include <utility>

#include "kernels/gemm.h"
#include "simd_neon.h"

namespace autodiff::kernels {
namespace {

using neon::Vec;
constexpr int kMR = 8, kNV = 3;  // rows, B vectors per row

// acc += b * a[I] (a: the k step's A values, W to a vector), by-element FMA.
template <int I>
AD_NEON_INLINE float32x4_t fma_lane(float32x4_t acc, float32x4_t b, const float32x4_t* a) {
  return vfmaq_laneq_f32(acc, b, a[I / 4], I % 4);
}
template <int I>
AD_NEON_INLINE float64x2_t fma_lane(float64x2_t acc, float64x2_t b, const float64x2_t* a) {
  return vfmaq_laneq_f64(acc, b, a[I / 2], I % 2);
}

// Rows I... of the tile: acc[i][v] += a[i] * b[v].
template <typename R, int... I>
AD_NEON_INLINE void fma_rows(R (&acc)[kMR][kNV], const R* a, const R* b,
                             std::integer_sequence<int, I...>) {
  for (int v = 0; v < kNV; ++v) ((acc[I][v] = fma_lane<I>(acc[I][v], b[v], a)), ...);
}

// Rows 0..m, columns 0..n of an M-row accumulator tile to C (leading dimension ldc), adding
// C's old values when accumulate; a narrow edge tile goes through a buffer.
template <typename T, int M>
AD_NEON_INLINE void store_tile(typename Vec<T>::R (&acc)[M][kNV], T* c, int64_t ldc, int m, int n,
                               bool accumulate) {
  using V = Vec<T>;
  constexpr int W = V::W, NR = kNV * W;
  if (n == NR) {
    for (int i = 0; i < m; ++i)
      for (int v = 0; v < kNV; ++v) {
        T* p = c + i * ldc + v * W;
        V::store(p, accumulate ? V::add(acc[i][v], V::load(p)) : acc[i][v]);
      }
    return;
  }
  T buf[M * NR];
  for (int i = 0; i < m; ++i)
    for (int v = 0; v < kNV; ++v) V::store(buf + i * NR + v * W, acc[i][v]);
  for (int i = 0; i < m; ++i)
    for (int j = 0; j < n; ++j)
      c[i * ldc + j] = accumulate ? c[i * ldc + j] + buf[i * NR + j] : buf[i * NR + j];
}

template <typename T>
void ukernel(int64_t kc, const T* pa, const T* pb, T* c, int64_t ldc, int m, int n,
             bool accumulate) {
  using V = Vec<T>;
  using R = typename V::R;
  constexpr int W = V::W, NR = kNV * W;
  R acc[kMR][kNV];
  for (int i = 0; i < kMR; ++i)
    for (int v = 0; v < kNV; ++v) acc[i][v] = V::zero();
#pragma GCC unroll 2
  for (int64_t k = 0; k < kc; ++k) {
    __builtin_prefetch(pb + 8 * NR);
    R a[kMR / W], b[kNV];
    for (int q = 0; q < kMR / W; ++q) a[q] = V::load(pa + q * W);
    for (int v = 0; v < kNV; ++v) b[v] = V::load(pb + v * W);
    fma_rows(acc, a, b, std::make_integer_sequence<int, kMR>{});
    pa += kMR;
    pb += NR;
  }
  store_tile<T, kMR>(acc, c, ldc, m, n, accumulate);  // rows m.. are A's zero padding
}

// Small-GEMM tile of exactly M rows, A broadcast in place from M row pointers.
template <typename T, int M>
AD_NEON_INLINE void small_tile(int64_t kc, const T* a, int64_t rsa, int64_t csa, const T* b,
                               int64_t ldb, T* c, int64_t ldc, int n, bool accumulate) {
  using V = Vec<T>;
  using R = typename V::R;
  constexpr int W = V::W;
  const T* row[M];
  for (int i = 0; i < M; ++i) row[i] = a + i * rsa;
  R acc[M][kNV];
  for (int i = 0; i < M; ++i)
    for (int v = 0; v < kNV; ++v) acc[i][v] = V::zero();
  for (int64_t k = 0, off = 0; k < kc; ++k, off += csa, b += ldb) {
    R bv[kNV];
    for (int v = 0; v < kNV; ++v) bv[v] = V::load(b + v * W);
    for (int i = 0; i < M; ++i) {
      const R ai = V::set1(row[i][off]);
      for (int v = 0; v < kNV; ++v) acc[i][v] = V::fma(ai, bv[v], acc[i][v]);
    }
  }
  store_tile<T, M>(acc, c, ldc, M, n, accumulate);
}

template <typename T, int... M>
void small_dispatch(int64_t kc, const T* a, int64_t rsa, int64_t csa, const T* b, int64_t ldb, T* c,
                    int64_t ldc, int m, int n, bool accumulate, std::integer_sequence<int, M...>) {
  // m in 1..kMR: the tile of exactly m + 1 rows for index m
  ((m == M + 1 ? small_tile<T, M + 1>(kc, a, rsa, csa, b, ldb, c, ldc, n, accumulate) : void()),
   ...);
}

template <typename T>
void ukernel_small(int64_t kc, const T* a, int64_t rsa, int64_t csa, const T* b, int64_t ldb, T* c,
                   int64_t ldc, int m, int n, bool accumulate) {
  small_dispatch<T>(kc, a, rsa, csa, b, ldb, c, ldc, m, n, accumulate,
                    std::make_integer_sequence<int, kMR>{});
}

}  // namespace

template <typename T>
void fill_gemm_neon(KernelTable<T>& t) {
  t.gemm_ukernel = ukernel<T>;
  t.gemm_small_ukernel = ukernel_small<T>;
  t.gemm_mr = t.gemm_small_mr = kMR;
  t.gemm_nr = kNV * Vec<T>::W;
}
template void fill_gemm_neon<float>(KernelTable<float>&);
template void fill_gemm_neon<double>(KernelTable<double>&);

}  // namespace autodiff::kernels
#endif
