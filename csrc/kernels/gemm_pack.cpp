// Packing routines for GEMM: strided A and B into contiguous, zero-padded micro-panels.
#include <algorithm>
#include <cstring>

#include "kernels/gemm.h"
#include "simd.h"

namespace autodiff::kernels {

namespace {

// Vector packing of full float panels where the AVX2 tile applies; false: pack generically.
template <typename T>
bool pack_a_fast(int64_t, int64_t, const T*, int64_t, int64_t, int, T*) {
  return false;
}
template <typename T>
bool pack_b_fast(int64_t, int64_t, const T*, int64_t, int64_t, int, T*) {
  return false;
}

#if defined(__x86_64__) || defined(__i386__)

// 8 x 8 float transpose in registers.
AD_AVX2_INLINE void transpose8(__m256 r[8]) {
  __m256 t[8];
  for (int i = 0; i < 4; ++i) {
    t[2 * i] = _mm256_unpacklo_ps(r[2 * i], r[2 * i + 1]);
    t[2 * i + 1] = _mm256_unpackhi_ps(r[2 * i], r[2 * i + 1]);
  }
  __m256 u[8];
  for (int i = 0; i < 2; ++i) {
    u[4 * i + 0] = _mm256_shuffle_ps(t[4 * i], t[4 * i + 2], _MM_SHUFFLE(1, 0, 1, 0));
    u[4 * i + 1] = _mm256_shuffle_ps(t[4 * i], t[4 * i + 2], _MM_SHUFFLE(3, 2, 3, 2));
    u[4 * i + 2] = _mm256_shuffle_ps(t[4 * i + 1], t[4 * i + 3], _MM_SHUFFLE(1, 0, 1, 0));
    u[4 * i + 3] = _mm256_shuffle_ps(t[4 * i + 1], t[4 * i + 3], _MM_SHUFFLE(3, 2, 3, 2));
  }
  for (int i = 0; i < 4; ++i) {
    r[i] = _mm256_permute2f128_ps(u[i], u[i + 4], 0x20);
    r[i + 4] = _mm256_permute2f128_ps(u[i], u[i + 4], 0x31);
  }
}

// One full 6-row panel of row-major float A: 8 columns at a time through an 8 x 8
// transpose (rows 6, 7 are padding), each column stored as 6 contiguous floats.  The
// 8-wide stores overlap the next column's slot, so columns are written in order and the
// last one of a block with 4 + 2 floats (masked stores are slow on AMD); the k tail is
// scalar.
AD_AVX2 void pack_a6_rowmajor_f32(int64_t kc, const float* src, int64_t rsa, float* pa) {
  int64_t k = 0;
  for (; k + 8 <= kc; k += 8) {
    __m256 r[8];
    for (int i = 0; i < 6; ++i) r[i] = _mm256_loadu_ps(src + i * rsa + k);
    r[6] = r[7] = _mm256_setzero_ps();
    transpose8(r);
    float* dst = pa + k * 6;
    for (int j = 0; j < 7; ++j) _mm256_storeu_ps(dst + j * 6, r[j]);
    _mm_storeu_ps(dst + 42, _mm256_castps256_ps128(r[7]));
    _mm_storel_epi64(reinterpret_cast<__m128i_u*>(dst + 46),
                     _mm_castps_si128(_mm256_extractf128_ps(r[7], 1)));
  }
  for (; k < kc; ++k)
    for (int i = 0; i < 6; ++i) pa[k * 6 + i] = src[i * rsa + k];
}

// One full 6-row panel of column-major float A (a transposed view, rows contiguous): each
// column's 6 floats as 4 + 2 (a 24-byte memcpy call per column cost 20% of a small GEMM;
// masked moves are slow on AMD).
AD_AVX2 void pack_a6_colmajor_f32(int64_t kc, const float* src, int64_t csa, float* pa) {
  for (int64_t k = 0; k < kc; ++k) {
    const float* s = src + k * csa;
    float* d = pa + k * 6;
    _mm_storeu_ps(d, _mm_loadu_ps(s));
    // 64-bit moves through the unaligned __m128i_u type (UBSan-clean for any float address)
    _mm_storel_epi64(reinterpret_cast<__m128i_u*>(d + 4),
                     _mm_loadl_epi64(reinterpret_cast<const __m128i_u*>(s + 4)));
  }
}

// One full 16-column panel of float B.  Row-major B: two vector copies per row.
// Column-major B (the transposed weight of a linear layer): 8 x 8 blocks through the
// register transpose, so that each column is read sequentially and each packed row is
// written with whole vectors; the k tail is scalar.
AD_AVX2 void pack_b16_f32(int64_t kc, const float* b, int64_t rsb, int64_t csb, float* pb) {
  if (csb == 1) {
    for (int64_t k = 0; k < kc; ++k) {
      _mm256_storeu_ps(pb + k * 16, _mm256_loadu_ps(b + k * rsb));
      _mm256_storeu_ps(pb + k * 16 + 8, _mm256_loadu_ps(b + k * rsb + 8));
    }
    return;
  }
  int64_t k = 0;
  for (; k + 8 <= kc; k += 8)
    for (int h = 0; h < 2; ++h) {
      __m256 r[8];
      for (int j = 0; j < 8; ++j) r[j] = _mm256_loadu_ps(b + (h * 8 + j) * csb + k);
      transpose8(r);
      for (int i = 0; i < 8; ++i) _mm256_storeu_ps(pb + (k + i) * 16 + h * 8, r[i]);
    }
  for (; k < kc; ++k)
    for (int j = 0; j < 16; ++j) pb[k * 16 + j] = b[j * csb + k];
}

template <>
bool pack_a_fast<float>(int64_t kc, int64_t rows, const float* src, int64_t rsa, int64_t csa,
                        int mr, float* pa) {
  if (rows != mr || !has_avx2(simd_level()) || (csa != 1 && rsa != 1)) return false;
  if (mr == 16) {  // (a 16-row panel of A is a 16-column panel of B = A^T)
    pack_b16_f32(kc, src, csa, rsa, pa);
    return true;
  }
  if (mr != 6) return false;
  if (csa == 1)
    pack_a6_rowmajor_f32(kc, src, rsa, pa);
  else if (rsa == 1)
    pack_a6_colmajor_f32(kc, src, csa, pa);
  else
    return false;
  return true;
}

template <>
bool pack_b_fast<float>(int64_t kc, int64_t nr_valid, const float* b, int64_t rsb, int64_t csb,
                        int nr, float* pb) {
  if (nr != 16 || nr_valid != 16 || (csb != 1 && rsb != 1) ||
      !has_avx2(simd_level()))
    return false;
  pack_b16_f32(kc, b, rsb, csb, pb);
  return true;
}

#endif  // x86

}  // namespace

// A block (mc x kc) -> ceil(mc / mr) panels, each kc columns of mr rows (column-major).
template <typename T>
void pack_a(int64_t mc, int64_t kc, const T* a, int64_t rsa, int64_t csa, int mr, T* pa) {
  for (int64_t i0 = 0; i0 < mc; i0 += mr) {
    const int64_t rows = std::min<int64_t>(mr, mc - i0);
    const T* src = a + i0 * rsa;
    if (pack_a_fast<T>(kc, rows, src, rsa, csa, mr, pa)) {
      // done: vector code
    } else if (csa == 1 && rows == mr) {  // row-major A: mr row streams, contiguous stores
      for (int64_t k = 0; k < kc; ++k)
        for (int64_t i = 0; i < mr; ++i) pa[k * mr + i] = src[i * rsa + k];
    } else if (csa == 1) {
      for (int64_t i = 0; i < rows; ++i) {
        const T* row = src + i * rsa;
        for (int64_t k = 0; k < kc; ++k) pa[k * mr + i] = row[k];
      }
    } else if (rsa == 1 && rows == mr) {  // column-major A (a transposed view): copy columns
      for (int64_t k = 0; k < kc; ++k) std::memcpy(pa + k * mr, src + k * csa, sizeof(T) * mr);
    } else {
      for (int64_t k = 0; k < kc; ++k)
        for (int64_t i = 0; i < rows; ++i) pa[k * mr + i] = src[i * rsa + k * csa];
    }
    for (int64_t i = rows; i < mr; ++i)
      for (int64_t k = 0; k < kc; ++k) pa[k * mr + i] = T(0);
    pa += mr * kc;
  }
}

// One B micro-panel: kc rows of nr columns (row-major), columns >= nr_valid zero.
template <typename T>
void pack_b_panel(int64_t kc, int64_t nr_valid, const T* b, int64_t rsb, int64_t csb, int nr,
                  T* pb) {
  if (pack_b_fast<T>(kc, nr_valid, b, rsb, csb, nr, pb)) return;
  if (csb == 1 && nr_valid == nr) {
    for (int64_t k = 0; k < kc; ++k) std::memcpy(pb + k * nr, b + k * rsb, sizeof(T) * nr);
    return;
  }
  if (rsb == 1) {  // column-major B (a transposed view): read each column sequentially
    for (int64_t j = 0; j < nr_valid; ++j) {
      const T* col = b + j * csb;
      for (int64_t k = 0; k < kc; ++k) pb[k * nr + j] = col[k];
    }
    for (int64_t k = 0; k < kc; ++k)
      for (int64_t j = nr_valid; j < nr; ++j) pb[k * nr + j] = T(0);
    return;
  }
  for (int64_t k = 0; k < kc; ++k) {
    for (int64_t j = 0; j < nr_valid; ++j) pb[k * nr + j] = b[k * rsb + j * csb];
    for (int64_t j = nr_valid; j < nr; ++j) pb[k * nr + j] = T(0);
  }
}

template void pack_a<float>(int64_t, int64_t, const float*, int64_t, int64_t, int, float*);
template void pack_a<double>(int64_t, int64_t, const double*, int64_t, int64_t, int, double*);
template void pack_b_panel<float>(int64_t, int64_t, const float*, int64_t, int64_t, int, float*);
template void pack_b_panel<double>(int64_t, int64_t, const double*, int64_t, int64_t, int, double*);

}  // namespace autodiff::kernels
