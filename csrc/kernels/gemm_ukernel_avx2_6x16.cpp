#if defined(__x86_64__) || defined(__i386__)  // the whole file: AVX2 kernels
// AVX2+FMA GEMM micro-kernel: 6 rows x 2 vectors (float 6x16, double 6x8).
// 12 accumulators + 2 B vectors + 1 broadcast A = 15 of the 16 ymm registers; 12 independent
// FMAs per k cover Zen 3's 2 FMA pipes x 4-cycle latency (8 needed).
#include "kernels/gemm.h"
#include "simd.h"

namespace autodiff::kernels {
namespace {

using avx2::store_tile_rows;
using avx2::Vec;
constexpr int kMR = 6;

// Rows 0..m, columns 0..n of an MR-row accumulator tile to C (rows m.. of a short edge tile
// of the packed kernel are A's zero padding).
template <typename T, int MR>
AD_AVX2_INLINE void store_tile(typename Vec<T>::R (&acc)[MR][2], T* c, int64_t ldc, int m, int n,
                               bool accumulate) {
  using V = Vec<T>;
  constexpr int W = V::W, NR = 2 * W;
  if (n == NR) {
    store_tile_rows<T, MR>(acc, c, ldc, m, accumulate);
    return;
  }
  alignas(32) T buf[MR * NR];  // narrow edge tile: spill, then copy the valid m x n part
  for (int i = 0; i < MR; ++i) {
    V::store(buf + i * NR, acc[i][0]);
    V::store(buf + i * NR + W, acc[i][1]);
  }
  for (int i = 0; i < m; ++i)
    for (int j = 0; j < n; ++j)
      c[i * ldc + j] = accumulate ? c[i * ldc + j] + buf[i * NR + j] : buf[i * NR + j];
}

template <typename T>
AD_AVX2 void ukernel(int64_t kc, const T* pa, const T* pb, T* c, int64_t ldc, int m, int n,
                     bool accumulate) {
  using V = Vec<T>;
  using R = typename V::R;
  constexpr int W = V::W, NR = 2 * W;
  R acc[kMR][2];
  for (int i = 0; i < kMR; ++i) acc[i][0] = acc[i][1] = V::zero();
  // The C tile is only touched at the end, but its rows are ldc apart and usually not in
  // L1 by then: fetch it into L2 now, and into L1 shortly before the loop ends.
  for (int i = 0; i < m; ++i) {
    _mm_prefetch(reinterpret_cast<const char*>(c + i * ldc), _MM_HINT_T1);
    _mm_prefetch(reinterpret_cast<const char*>(c + i * ldc + NR - 1), _MM_HINT_T1);
  }
  auto step = [&](int64_t steps) AD_AVX2_INLINE_LAMBDA {
#pragma GCC unroll 4
    for (int64_t k = 0; k < steps; ++k) {
      __builtin_prefetch(pb + 8 * NR);  // B's first pass comes from L3
      const R b0 = V::load(pb), b1 = V::load(pb + W);
      for (int i = 0; i < kMR; ++i) {
        const R a = V::set1(pa[i]);
        acc[i][0] = V::fma(a, b0, acc[i][0]);
        acc[i][1] = V::fma(a, b1, acc[i][1]);
      }
      pa += kMR;
      pb += NR;
    }
  };
  constexpr int64_t kTail = 16;
  step(kc > kTail ? kc - kTail : 0);
  for (int i = 0; i < m; ++i) {
    __builtin_prefetch(c + i * ldc, 1);
    __builtin_prefetch(c + i * ldc + NR - 1, 1);
  }
  step(kc > kTail ? kTail : kc);
  store_tile<T, kMR>(acc, c, ldc, m, n, accumulate);
}

// Small-GEMM tile of exactly M rows: the packed kernel's loop with A broadcast in place
// from M row pointers (packing A costs as much as the product when each A block meets only
// a few B panels).  With M <= 2 the k loop runs U interleaved partial sums, so that a
// one-row product (x @ W for a single sample) still has the 8 independent FMA chains that
// Zen 3's 2 pipes x 4-cycle latency need, instead of computing 6 rows of which 1 is used.
template <typename T, int M>
AD_AVX2_INLINE void small_tile(int64_t kc, const T* a, int64_t rsa, int64_t csa, const T* b,
                               int64_t ldb, T* c, int64_t ldc, int n, bool accumulate) {
  using V = Vec<T>;
  using R = typename V::R;
  constexpr int W = V::W, U = M == 1 ? 4 : M == 2 ? 2 : 1;
  const T* row[M];
  for (int i = 0; i < M; ++i) row[i] = a + i * rsa;
  R acc[U][M][2];
  for (int u = 0; u < U; ++u)
    for (int i = 0; i < M; ++i) acc[u][i][0] = acc[u][i][1] = V::zero();
  int64_t off = 0, k = 0;
  auto step = [&](R(&acc_u)[M][2]) AD_AVX2_INLINE_LAMBDA {
    const R b0 = V::load(b), b1 = V::load(b + W);
    for (int i = 0; i < M; ++i) {
      const R ai = V::set1(row[i][off]);
      acc_u[i][0] = V::fma(ai, b0, acc_u[i][0]);
      acc_u[i][1] = V::fma(ai, b1, acc_u[i][1]);
    }
    off += csa;
    b += ldb;
  };
#pragma GCC unroll 4
  for (; k + U <= kc; k += U)
    for (int u = 0; u < U; ++u) step(acc[u]);
  for (; k < kc; ++k) step(acc[0]);
  for (int u = 1; u < U; ++u)
    for (int i = 0; i < M; ++i) {
      acc[0][i][0] = V::add(acc[0][i][0], acc[u][i][0]);
      acc[0][i][1] = V::add(acc[0][i][1], acc[u][i][1]);
    }
  store_tile<T, M>(acc[0], c, ldc, M, n, accumulate);
}

template <typename T>
AD_AVX2 void ukernel_small(int64_t kc, const T* a, int64_t rsa, int64_t csa, const T* b,
                           int64_t ldb, T* c, int64_t ldc, int m, int n, bool accumulate) {
  switch (m) {
    case 1:
      return small_tile<T, 1>(kc, a, rsa, csa, b, ldb, c, ldc, n, accumulate);
    case 2:
      return small_tile<T, 2>(kc, a, rsa, csa, b, ldb, c, ldc, n, accumulate);
    case 3:
      return small_tile<T, 3>(kc, a, rsa, csa, b, ldb, c, ldc, n, accumulate);
    case 4:
      return small_tile<T, 4>(kc, a, rsa, csa, b, ldb, c, ldc, n, accumulate);
    case 5:
      return small_tile<T, 5>(kc, a, rsa, csa, b, ldb, c, ldc, n, accumulate);
    default:
      return small_tile<T, kMR>(kc, a, rsa, csa, b, ldb, c, ldc, n, accumulate);
  }
}

}  // namespace

template <typename T>
void fill_gemm_avx2(KernelTable<T>& t) {
  t.gemm_ukernel = ukernel<T>;
  t.gemm_small_ukernel = ukernel_small<T>;
  t.gemm_mr = t.gemm_small_mr = kMR;
  t.gemm_nr = 2 * Vec<T>::W;
}
template void fill_gemm_avx2<float>(KernelTable<float>&);
template void fill_gemm_avx2<double>(KernelTable<double>&);

}  // namespace autodiff::kernels
#endif
