#if defined(__x86_64__) || defined(__i386__)  // the whole file: AVX2 kernels
// AVX2+FMA narrow-GEMM kernel: a tile of up to 4 rows of row-major A times up to 3 columns
// of column-major B (x @ W^T for a linear layer with few outputs), each C element an inner
// product of two contiguous runs.  Vectorising along k keeps every lane useful however
// narrow N is, where the 6x16 kernel computes 16 columns for each panel.  Also the
// vector-matrix kernel (one row of A times row-major B).
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

// Columns are taken kGemvChunk bytes at a time, so that chunk of y stays in L1 while B's rows
// stream past it eight at a time: eight contiguous runs of B per pass over y, one load and
// one store of y per eight rows (two accumulator chains cover the FMA latency).  (Walking B
// one NR panel at a time instead, as the GEMM micro-kernel does, reads 64 bytes per row at
// the row stride: 5-10x slower than OpenBLAS.)  16 KiB runs, not 4: each run of B is a
// stream the prefetchers must pick up again, and 4 KiB ones left x @ W with W 4096 x 4096
// at 1.32x OpenBLAS's time on one thread (now 1.10x; 16384 x 1024 1.14 -> 1.00x).
constexpr int64_t kGemvChunk = 16384;

template <typename T>
AD_AVX2 void gemv_row(int64_t kc, int64_t n, const T* a, int64_t csa, const T* b, int64_t rsb,
                      T* y, bool accumulate) {
  using V = Vec<T>;
  using R = typename V::R;
  constexpr int W = V::W;
  constexpr int64_t chunk = kGemvChunk / int64_t(sizeof(T));
  for (int64_t j0 = 0; j0 < n; j0 += chunk) {
    const int64_t nb = std::min(chunk, n - j0), nv = nb / W * W;
    T* yc = y + j0;
    const T* bc = b + j0;
    bool acc = accumulate;
    int64_t k = 0;
    for (; k + 8 <= kc; k += 8, acc = true) {
      const T* bk[8];
      R ak[8];
      T sk[8];
      for (int r = 0; r < 8; ++r) {
        bk[r] = bc + (k + r) * rsb;
        sk[r] = a[(k + r) * csa];
        ak[r] = V::set1(sk[r]);
      }
      int64_t j = 0;
      for (; j < nv; j += W) {
        R v0 = acc ? V::load(yc + j) : V::zero();
        R v1 = V::mul(ak[1], V::load(bk[1] + j));
        v0 = V::fma(ak[0], V::load(bk[0] + j), v0);
        for (int r = 2; r < 8; r += 2) {
          v0 = V::fma(ak[r], V::load(bk[r] + j), v0);
          v1 = V::fma(ak[r + 1], V::load(bk[r + 1] + j), v1);
        }
        V::store(yc + j, V::add(v0, v1));
      }
      for (; j < nb; ++j) {
        T v = acc ? yc[j] : T(0);
        for (int r = 0; r < 8; ++r) v += sk[r] * bk[r][j];
        yc[j] = v;
      }
    }
    for (; k < kc; ++k, acc = true) {
      const T* bk = bc + k * rsb;
      const T sk = a[k * csa];
      const R ak = V::set1(sk);
      int64_t j = 0;
      for (; j < nv; j += W) V::store(yc + j, V::fma(ak, V::load(bk + j), acc ? V::load(yc + j)
                                                                              : V::zero()));
      for (; j < nb; ++j) yc[j] = (acc ? yc[j] : T(0)) + sk * bk[j];
    }
  }
}

// Four columns of column-major B against one contiguous row of A, two accumulators per column
// (even and odd vectors of k) to cover the FMA latency; columns past n re-read column n - 1.
template <typename T>
AD_AVX2 void gemv_col_tile(int64_t kc, const T* a, const T* b, int64_t csb, T* y, int n) {
  using V = Vec<T>;
  using R = typename V::R;
  constexpr int W = V::W;
  const T* col[4];
  for (int j = 0; j < 4; ++j) col[j] = b + std::min(j, n - 1) * csb;
  R acc0[4], acc1[4];
  for (int j = 0; j < 4; ++j) acc0[j] = acc1[j] = V::zero();
  int64_t k = 0;
  for (; k + 2 * W <= kc; k += 2 * W) {
    const R av0 = V::load(a + k), av1 = V::load(a + k + W);
    for (int j = 0; j < 4; ++j) {
      acc0[j] = V::fma(av0, V::load(col[j] + k), acc0[j]);
      acc1[j] = V::fma(av1, V::load(col[j] + k + W), acc1[j]);
    }
  }
  if (k + W <= kc) {
    const R av = V::load(a + k);
    for (int j = 0; j < 4; ++j) acc0[j] = V::fma(av, V::load(col[j] + k), acc0[j]);
    k += W;
  }
  T sum[4];
  hsum4(V::add(acc0[0], acc1[0]), V::add(acc0[1], acc1[1]), V::add(acc0[2], acc1[2]),
        V::add(acc0[3], acc1[3]), sum);
  for (int j = 0; j < n; ++j) {
    T s = sum[j];
    for (int64_t kt = k; kt < kc; ++kt) s += a[kt] * col[j][kt];  // k tail
    y[j] = s;
  }
}

template <typename T>
AD_AVX2 void gemv_col(int64_t kc, int64_t n, const T* a, const T* b, int64_t csb, T* y) {
  for (int64_t j = 0; j < n; j += 4)
    gemv_col_tile(kc, a, b + j * csb, csb, y + j, int(std::min<int64_t>(4, n - j)));
}

}  // namespace

template <typename T>
void fill_gemm_dot_avx2(KernelTable<T>& t) {
  t.gemm_dot_kernel = dot_kernel<T>;
  t.gemv_row_kernel = gemv_row<T>;
  t.gemv_col_kernel = gemv_col<T>;
}
template void fill_gemm_dot_avx2<float>(KernelTable<float>&);
template void fill_gemm_dot_avx2<double>(KernelTable<double>&);

}  // namespace autodiff::kernels
#endif
