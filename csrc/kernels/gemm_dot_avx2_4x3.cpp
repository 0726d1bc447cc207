// AVX2+FMA narrow-GEMM kernel: a tile of up to 4 rows of row-major A times up to 3 columns
// of column-major B (x @ W^T for a linear layer with few outputs), each C element an inner
// product of two contiguous runs.  Vectorising along k keeps every lane useful however
// narrow N is, where the 6x16 kernel computes 16 columns for each panel.
#include <algorithm>

#include "kernels/gemm.h"
#include "simd.h"

namespace autodiff::kernels {
namespace {

using avx2::Vec;

// The horizontal sums of four vectors at once (the tile's four rows of one column): two
// rounds of pairwise adds instead of four separate reductions, which cost as much as the
// whole k loop at K = 256.
AD_AVX2_INLINE void hsum4(__m256 a0, __m256 a1, __m256 a2, __m256 a3, float* out) {
  const __m256 t = _mm256_hadd_ps(_mm256_hadd_ps(a0, a1), _mm256_hadd_ps(a2, a3));
  _mm_storeu_ps(out, _mm_add_ps(_mm256_castps256_ps128(t), _mm256_extractf128_ps(t, 1)));
}
AD_AVX2_INLINE void hsum4(__m256d a0, __m256d a1, __m256d a2, __m256d a3, double* out) {
  const __m256d t01 = _mm256_hadd_pd(a0, a1), t23 = _mm256_hadd_pd(a2, a3);
  _mm_storeu_pd(out, _mm_add_pd(_mm256_castpd256_pd128(t01), _mm256_extractf128_pd(t01, 1)));
  _mm_storeu_pd(out + 2, _mm_add_pd(_mm256_castpd256_pd128(t23), _mm256_extractf128_pd(t23, 1)));
}

// NC columns at compile time, so a one-column product does not compute three.
// 4 x 3 accumulators + 3 B vectors + 1 A vector = all 16 ymm registers.
template <typename T, int NC>
AD_AVX2 void dot_tile(int64_t kc, const T* a, int64_t rsa, const T* b, int64_t csb, T* c,
                      int64_t ldc, int m, bool accumulate) {
  using V = Vec<T>;
  using R = typename V::R;
  constexpr int W = V::W;
  const T* row[kGemmDotMR];  // rows m.. of a short edge tile re-read row m - 1
  for (int i = 0; i < kGemmDotMR; ++i) row[i] = a + std::min(i, m - 1) * rsa;
  R acc[kGemmDotMR][NC];
  for (int i = 0; i < kGemmDotMR; ++i)
    for (int j = 0; j < NC; ++j) acc[i][j] = V::zero();
  int64_t k = 0;
  for (; k + W <= kc; k += W) {
    R bv[NC];
    for (int j = 0; j < NC; ++j) bv[j] = V::load(b + j * csb + k);
    for (int i = 0; i < kGemmDotMR; ++i) {
      const R av = V::load(row[i] + k);
      for (int j = 0; j < NC; ++j) acc[i][j] = V::fma(av, bv[j], acc[i][j]);
    }
  }
  static_assert(kGemmDotMR == 4, "hsum4 reduces four rows");
  for (int j = 0; j < NC; ++j) {
    T sum[kGemmDotMR];
    hsum4(acc[0][j], acc[1][j], acc[2][j], acc[3][j], sum);
    for (int i = 0; i < m; ++i) {
      T s = sum[i];
      for (int64_t kt = k; kt < kc; ++kt) s += row[i][kt] * b[j * csb + kt];  // k tail
      T& out = c[i * ldc + j];
      out = accumulate ? out + s : s;
    }
  }
}

template <typename T>
AD_AVX2 void dot_kernel(int64_t kc, const T* a, int64_t rsa, const T* b, int64_t csb, T* c,
                        int64_t ldc, int m, int n, bool accumulate) {
  if (n == 1)
    dot_tile<T, 1>(kc, a, rsa, b, csb, c, ldc, m, accumulate);
  else if (n == 2)
    dot_tile<T, 2>(kc, a, rsa, b, csb, c, ldc, m, accumulate);
  else
    dot_tile<T, 3>(kc, a, rsa, b, csb, c, ldc, m, accumulate);
}

}  // namespace

template <typename T>
void fill_gemm_dot_avx2(KernelTable<T>& t) {
  t.gemm_dot_kernel = dot_kernel<T>;
}
template void fill_gemm_dot_avx2<float>(KernelTable<float>&);
template void fill_gemm_dot_avx2<double>(KernelTable<double>&);

}  // namespace autodiff::kernels
