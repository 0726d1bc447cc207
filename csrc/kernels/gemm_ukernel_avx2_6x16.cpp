#if defined(__x86_64__) || defined(__i386__)  // the whole file: AVX2 kernels
// AVX2+FMA GEMM micro-kernels: 6 rows x 2 vectors (float 6x16, double 6x8); the packed one
// is gemm_ukernel_simd.h's.
// 12 accumulators + 2 B vectors + 1 broadcast A = 15 of the 16 ymm registers; 12 independent
// FMAs per k cover Zen 3's 2 FMA pipes x 4-cycle latency (8 needed).
#include "simd.h"
// (after simd.h, whose AD_SIMD* it uses)
#include "kernels/gemm_ukernel_simd.h"

namespace autodiff::kernels {
namespace {

using avx2::Vec;
constexpr int kMR = 6;

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
  vec_kernels::store_tile<Vec<T>, M, 2>(acc[0], c, ldc, M, n, accumulate);
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
  vec_kernels::fill_gemm_vec<Vec<T>, kMR, 2>(t);
  t.gemm_small_ukernel = ukernel_small<T>;
  t.gemm_small_mr = kMR;
}
template void fill_gemm_avx2<float>(KernelTable<float>&);
template void fill_gemm_avx2<double>(KernelTable<double>&);

}  // namespace autodiff::kernels
#endif
