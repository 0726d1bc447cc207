// The inline SIMD vocabulary of simd.h for AVX-512 (F, DQ, BW, VL): Vec<float> on __m512
// and Vec<double> on __m512d with avx2::Vec's members and semantics (masks are all-ones /
// all-zeros lanes of the vector type, so the kernels written over the vocabulary need no
// mask type; max/min return the second operand when either is NaN), the row-writing
// helpers, and MathF32.
//
// The float32 math takes simd.h's AVX2 functions on each 256-bit half, except the exp of the
// softmax and of exp() itself, ported to 16 lanes: the results are the AVX2 level's to the
// bit.  On Zen 4 a 512-bit operation runs as two 256-bit halves, so AVX-512 gains there
// only what fewer instructions and longer vectors give (loads, stores, reductions), not
// FLOP/s.
//
// Include instead of simd.h (it includes simd.h and re-points the AD_SIMD* attributes at
// AVX-512): a file compiled for this level must not see AVX2's AD_SIMD.
#pragma once

#if defined(__x86_64__) || defined(__i386__)

// GCC 12's avx512fintrin.h self-initialises its _mm*_undefined_* values, which
// -W(maybe-)uninitialized report wherever an intrinsic using one is inlined.  Diagnostic
// pragmas go by the warning's source line, so this must precede the first immintrin.h.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <initializer_list>

#include "simd.h"

#undef AD_SIMD
#undef AD_SIMD_INLINE
#undef AD_SIMD_INLINE_LAMBDA
#define AD_AVX512_TARGET "avx512f,avx512dq,avx512bw,avx512vl,avx2,fma"
#define AD_AVX512 __attribute__((target(AD_AVX512_TARGET)))
#define AD_AVX512_INLINE __attribute__((target(AD_AVX512_TARGET), always_inline)) inline
#define AD_AVX512_INLINE_LAMBDA __attribute__((target(AD_AVX512_TARGET), always_inline))
#define AD_SIMD AD_AVX512
#define AD_SIMD_INLINE AD_AVX512_INLINE
#define AD_SIMD_INLINE_LAMBDA AD_AVX512_INLINE_LAMBDA

namespace autodiff::kernels::avx512 {

template <typename T>
struct Vec;

template <>
struct Vec<float> {
  using T = float;
  using R = __m512;
  static constexpr int W = 16;
  static constexpr int kAlign = 64;  // stream()'s alignment
  static AD_AVX512_INLINE R load(const float* p) { return _mm512_loadu_ps(p); }
  // W/2 elements from lo, then W/2 from hi (a convolution tile's B row read in place).
  static AD_AVX512_INLINE R load_halves(const float* lo, const float* hi) {
    return _mm512_insertf32x8(_mm512_castps256_ps512(_mm256_loadu_ps(lo)), _mm256_loadu_ps(hi), 1);
  }
  static AD_AVX512_INLINE void store(float* p, R v) { _mm512_storeu_ps(p, v); }
  // Non-temporal store (p 64-byte aligned): no read-for-ownership, bypasses the caches.
  static AD_AVX512_INLINE void stream(float* p, R v) { _mm512_stream_ps(p, v); }
  static AD_AVX512_INLINE R set1(float x) { return _mm512_set1_ps(x); }
  static AD_AVX512_INLINE R zero() { return _mm512_setzero_ps(); }
  static AD_AVX512_INLINE R add(R a, R b) { return _mm512_add_ps(a, b); }
  static AD_AVX512_INLINE R sub(R a, R b) { return _mm512_sub_ps(a, b); }
  static AD_AVX512_INLINE R mul(R a, R b) { return _mm512_mul_ps(a, b); }
  static AD_AVX512_INLINE R div(R a, R b) { return _mm512_div_ps(a, b); }
  static AD_AVX512_INLINE R fma(R a, R b, R c) { return _mm512_fmadd_ps(a, b, c); }
  static AD_AVX512_INLINE R fnma(R a, R b, R c) { return _mm512_fnmadd_ps(a, b, c); }
  static AD_AVX512_INLINE R max(R a, R b) { return _mm512_max_ps(a, b); }
  static AD_AVX512_INLINE R min(R a, R b) { return _mm512_min_ps(a, b); }
  static AD_AVX512_INLINE R lanes(__mmask16 k) { return _mm512_castsi512_ps(_mm512_movm_epi32(k)); }
  static AD_AVX512_INLINE __mmask16 mask(R m) {
    return _mm512_movepi32_mask(_mm512_castps_si512(m));
  }
  static AD_AVX512_INLINE R isnan(R a) { return lanes(_mm512_cmp_ps_mask(a, a, _CMP_UNORD_Q)); }
  static AD_AVX512_INLINE R unord(R a, R b) { return lanes(_mm512_cmp_ps_mask(a, b, _CMP_UNORD_Q)); }
  static AD_AVX512_INLINE R lt(R a, R b) { return lanes(_mm512_cmp_ps_mask(a, b, _CMP_LT_OQ)); }
  static AD_AVX512_INLINE R bor(R a, R b) { return _mm512_or_ps(a, b); }
  static AD_AVX512_INLINE R band(R a, R b) { return _mm512_and_ps(a, b); }
  static AD_AVX512_INLINE R blend(R a, R b, R m) { return _mm512_mask_blend_ps(mask(m), a, b); }
  static AD_AVX512_INLINE bool any(R m) { return mask(m) != 0; }
  static AD_AVX512_INLINE __m256 lo(R v) { return _mm512_castps512_ps256(v); }
  static AD_AVX512_INLINE __m256 hi(R v) { return _mm512_extractf32x8_ps(v, 1); }
  static AD_AVX512_INLINE R join(__m256 l, __m256 h) {
    return _mm512_insertf32x8(_mm512_castps256_ps512(l), h, 1);
  }
  static AD_AVX512_INLINE float hsum(R v) { return avx2::Vec<float>::hsum(_mm256_add_ps(lo(v), hi(v))); }
  static AD_AVX512_INLINE double hsum_d(R v) {  // horizontal sum in double precision
    const __m512d s = _mm512_add_pd(_mm512_cvtps_pd(lo(v)), _mm512_cvtps_pd(hi(v)));
    return avx2::Vec<double>::hsum(
        _mm256_add_pd(_mm512_castpd512_pd256(s), _mm512_extractf64x4_pd(s, 1)));
  }
  static AD_AVX512_INLINE float hmax(R v) { return avx2::Vec<float>::hmax(_mm256_max_ps(lo(v), hi(v))); }
};

template <>
struct Vec<double> {
  using T = double;
  using R = __m512d;
  static constexpr int W = 8;
  static constexpr int kAlign = 64;
  static AD_AVX512_INLINE R load(const double* p) { return _mm512_loadu_pd(p); }
  static AD_AVX512_INLINE R load_halves(const double* lo, const double* hi) {
    return _mm512_insertf64x4(_mm512_castpd256_pd512(_mm256_loadu_pd(lo)), _mm256_loadu_pd(hi), 1);
  }
  static AD_AVX512_INLINE void store(double* p, R v) { _mm512_storeu_pd(p, v); }
  static AD_AVX512_INLINE void stream(double* p, R v) { _mm512_stream_pd(p, v); }
  static AD_AVX512_INLINE R set1(double x) { return _mm512_set1_pd(x); }
  static AD_AVX512_INLINE R zero() { return _mm512_setzero_pd(); }
  static AD_AVX512_INLINE R add(R a, R b) { return _mm512_add_pd(a, b); }
  static AD_AVX512_INLINE R sub(R a, R b) { return _mm512_sub_pd(a, b); }
  static AD_AVX512_INLINE R mul(R a, R b) { return _mm512_mul_pd(a, b); }
  static AD_AVX512_INLINE R div(R a, R b) { return _mm512_div_pd(a, b); }
  static AD_AVX512_INLINE R fma(R a, R b, R c) { return _mm512_fmadd_pd(a, b, c); }
  static AD_AVX512_INLINE R fnma(R a, R b, R c) { return _mm512_fnmadd_pd(a, b, c); }
  static AD_AVX512_INLINE R max(R a, R b) { return _mm512_max_pd(a, b); }
  static AD_AVX512_INLINE R min(R a, R b) { return _mm512_min_pd(a, b); }
  static AD_AVX512_INLINE R lanes(__mmask8 k) { return _mm512_castsi512_pd(_mm512_movm_epi64(k)); }
  static AD_AVX512_INLINE __mmask8 mask(R m) {
    return _mm512_movepi64_mask(_mm512_castpd_si512(m));
  }
  static AD_AVX512_INLINE R isnan(R a) { return lanes(_mm512_cmp_pd_mask(a, a, _CMP_UNORD_Q)); }
  static AD_AVX512_INLINE R unord(R a, R b) { return lanes(_mm512_cmp_pd_mask(a, b, _CMP_UNORD_Q)); }
  static AD_AVX512_INLINE R lt(R a, R b) { return lanes(_mm512_cmp_pd_mask(a, b, _CMP_LT_OQ)); }
  static AD_AVX512_INLINE R bor(R a, R b) { return _mm512_or_pd(a, b); }
  static AD_AVX512_INLINE R band(R a, R b) { return _mm512_and_pd(a, b); }
  static AD_AVX512_INLINE R blend(R a, R b, R m) { return _mm512_mask_blend_pd(mask(m), a, b); }
  static AD_AVX512_INLINE bool any(R m) { return mask(m) != 0; }
  static AD_AVX512_INLINE double hsum(R v) {
    return avx2::Vec<double>::hsum(
        _mm256_add_pd(_mm512_castpd512_pd256(v), _mm512_extractf64x4_pd(v, 1)));
  }
  static AD_AVX512_INLINE double hsum_d(R v) { return hsum(v); }
  static AD_AVX512_INLINE double hmax(R v) {
    return avx2::Vec<double>::hmax(
        _mm256_max_pd(_mm512_castpd512_pd256(v), _mm512_extractf64x4_pd(v, 1)));
  }
};

// avx2's lines_prefetching_next for 16-lane vectors: body(i) for i = i0, i0 + W, ...
// (i + W <= n), prefetching into L1 the line `ahead` elements on in each of srcs.
template <typename T, typename Body, typename... Src>
AD_AVX512_INLINE int64_t lines_prefetching_next(int64_t i0, int64_t n, int64_t ahead, Body body,
                                                const Src*... srcs) {
  constexpr int64_t kLine = 64 / sizeof(T), W = Vec<T>::W;
  static_assert(kLine == W, "one vector is one cache line");
  int64_t i = i0;
  for (; i + W <= n; i += W) {
    (_mm_prefetch(reinterpret_cast<const char*>(srcs + i + ahead), _MM_HINT_T0), ...);
    body(i);
  }
  return i;
}

// avx2's write_row (out[k] = vec(k) / scalar(k) for k < n), with streaming stores aligned to
// 64 bytes.
template <typename T, typename VecF, typename ScalarF, typename... Src>
AD_AVX512_INLINE void write_row(T* out, int64_t n, bool stream, int64_t ahead, VecF vec,
                                ScalarF scalar, const Src*... srcs) {
  using V = Vec<T>;
  int64_t i = 0;
  if (stream) {
    for (; i < n && reinterpret_cast<uintptr_t>(out + i) % V::kAlign != 0; ++i) out[i] = scalar(i);
    i = lines_prefetching_next<T>(
        i, n, ahead, [&](int64_t k) AD_AVX512_INLINE_LAMBDA { V::stream(out + k, vec(k)); },
        srcs...);
  } else {
    i = lines_prefetching_next<T>(
        i, n, ahead, [&](int64_t k) AD_AVX512_INLINE_LAMBDA { V::store(out + k, vec(k)); },
        srcs...);
  }
  for (; i < n; ++i) out[i] = scalar(i);
}

// This level as one type, for the row kernels written once over levels (kernels/*_simd.h).
struct Isa {
  template <typename T>
  using Vec = avx512::Vec<T>;
  template <typename T>
  static constexpr int64_t next_row_ahead(int64_t n) {
    return avx2::next_row_ahead<T>(n);
  }
  template <typename T, typename... A>
  static AD_AVX512_INLINE void write_row(T* out, A... args) {
    avx512::write_row<T>(out, args...);
  }
};

// ---- float32 math ----

// avx2::exp_shifted_ps on 16 lanes, step for step (same constants, same rounding): the
// 8-entry table of 2^(i / 8) is repeated so that vpermps's 4-bit index picks by k & 7.
AD_AVX512_INLINE __m512 exp_shifted_ps(__m512 x, __m512 shift) {
  const __m512 t = _mm512_fmadd_ps(x, _mm512_set1_ps(11.5415601730f), shift);  // 8 / ln2
  const __m512 j = _mm512_sub_ps(t, shift);
  __m512 r = _mm512_fnmadd_ps(j, _mm512_set1_ps(0.086639404296875f), x);
  r = _mm512_fnmadd_ps(j, _mm512_set1_ps(3.9932729123e-06f), r);
  const __m512 q = _mm512_fmadd_ps(_mm512_set1_ps(0.16666403413f), r, _mm512_set1_ps(0.50006455183f));
  const __m512 em1 = _mm512_fmadd_ps(_mm512_mul_ps(r, r), q, r);
  const __m512 table = _mm512_setr_ps(
      1.0f, 1.09050774574f, 1.18920707703f, 1.29683959484f, 1.41421353817f, 1.54221081734f,
      1.68179285526f, 1.83400809765f, 1.0f, 1.09050774574f, 1.18920707703f, 1.29683959484f,
      1.41421353817f, 1.54221081734f, 1.68179285526f, 1.83400809765f);
  const __m512i ti = _mm512_castps_si512(t);
  const __m512i scale =
      _mm512_and_si512(_mm512_slli_epi32(ti, 20), _mm512_set1_epi32(int(0xff800000u)));
  const __m512 tk = _mm512_castsi512_ps(
      _mm512_add_epi32(_mm512_castps_si512(_mm512_permutexvar_ps(ti, table)), scale));
  return _mm512_fmadd_ps(tk, em1, tk);
}

AD_AVX512_INLINE __m512 exp_normal_range_ps(__m512 x) {  // |x| <= 86
  return exp_shifted_ps(x, _mm512_set1_ps(12582912.0f));
}

// A float32 function of simd.h's taken on each 256-bit half.
template <__m256 (*F)(__m256)>
AD_AVX512_INLINE __m512 halves(__m512 x) {
  using V = Vec<float>;
  return V::join(F(V::lo(x)), F(V::hi(x)));
}

// exp(x): the short path when every lane is within |x| <= 86, else AVX2's full-range one.
AD_AVX512_INLINE __m512 exp_ps(__m512 x) {
  const __m512 ax = _mm512_abs_ps(x);
  if (__builtin_expect(_mm512_cmp_ps_mask(ax, _mm512_set1_ps(86.0f), _CMP_LE_OQ) == 0xffff, 1))
    return exp_normal_range_ps(x);
  return halves<avx2::exp_full_range_ps>(x);
}


// avx2::log_ps on 16 lanes: its short path (the same steps) when every lane is a normal
// finite x > 0, else the AVX2 function on each half.
AD_AVX512_INLINE __m512 log_ps(__m512 x) {
  const __mmask16 normal =
      _mm512_cmp_ps_mask(x, _mm512_set1_ps(1.17549435e-38f), _CMP_GE_OQ) &
      _mm512_cmp_ps_mask(x, _mm512_set1_ps(__builtin_inff()), _CMP_LT_OQ);
  if (__builtin_expect(normal != 0xffff, 0)) return halves<avx2::log_ps>(x);
  const __m512 one = _mm512_set1_ps(1.0f);
  const __m512i bits = _mm512_castps_si512(x);
  __m512 e = _mm512_cvtepi32_ps(
      _mm512_sub_epi32(_mm512_srli_epi32(bits, 23), _mm512_set1_epi32(126)));
  __m512 m = _mm512_castsi512_ps(_mm512_or_si512(
      _mm512_and_si512(bits, _mm512_set1_epi32(0x007fffff)), _mm512_set1_epi32(0x3f000000)));
  const __mmask16 small = _mm512_cmp_ps_mask(m, _mm512_set1_ps(0.707106781186547524f), _CMP_LT_OQ);
  e = _mm512_mask_sub_ps(e, small, e, one);
  m = _mm512_sub_ps(_mm512_mask_add_ps(m, small, m, m), one);
  const __m512 z = _mm512_mul_ps(m, m);
  __m512 p = _mm512_set1_ps(7.0376836292E-2f);
  for (float c : {-1.1514610310E-1f, 1.1676998740E-1f, -1.2420140846E-1f, 1.4249322787E-1f,
                  -1.6668057665E-1f, 2.0000714765E-1f, -2.4999993993E-1f, 3.3333331174E-1f})
    p = _mm512_fmadd_ps(p, m, _mm512_set1_ps(c));
  __m512 y = _mm512_mul_ps(_mm512_mul_ps(p, m), z);
  y = _mm512_fmadd_ps(e, _mm512_set1_ps(-2.12194440e-4f), y);
  y = _mm512_fnmadd_ps(_mm512_set1_ps(0.5f), z, y);
  y = _mm512_add_ps(m, y);
  return _mm512_fmadd_ps(e, _mm512_set1_ps(0.693359375f), y);
}

// avx2::sigmoid_ps on 16 lanes (the same steps): e / (1 + e) with e = exp(-|x|) for x < 0.
AD_AVX512_INLINE __m512 sigmoid_ps(__m512 x) {
  const __m512 one = _mm512_set1_ps(1.0f);
  const __m512 e = exp_ps(_mm512_sub_ps(_mm512_setzero_ps(), _mm512_abs_ps(x)));
  const __m512 r = _mm512_div_ps(one, _mm512_add_ps(one, e));
  return _mm512_mask_blend_ps(_mm512_cmp_ps_mask(x, _mm512_setzero_ps(), _CMP_LT_OQ), r,
                              _mm512_mul_ps(e, r));
}

// avx2::tanh_ps on 16 lanes (the same steps): an odd polynomial below 0.625, else
// 1 - 2 / (exp(2|x|) + 1), the sign of x put back on both (tanh(-0) = -0).
AD_AVX512_INLINE __m512 tanh_ps(__m512 x) {
  const __m512 sign = _mm512_set1_ps(-0.0f);
  const __m512 ax = _mm512_abs_ps(x), z = _mm512_mul_ps(x, x);
  __m512 p = _mm512_set1_ps(-5.70498872745E-3f);
  p = _mm512_fmadd_ps(p, z, _mm512_set1_ps(2.06390887954E-2f));
  p = _mm512_fmadd_ps(p, z, _mm512_set1_ps(-5.37397155531E-2f));
  p = _mm512_fmadd_ps(p, z, _mm512_set1_ps(1.33314422036E-1f));
  p = _mm512_fmadd_ps(p, z, _mm512_set1_ps(-3.33332819422E-1f));
  const __m512 xs = _mm512_and_ps(x, sign);
  const __m512 small = _mm512_or_ps(_mm512_fmadd_ps(_mm512_mul_ps(p, z), x, x), xs);
  const __m512 one = _mm512_set1_ps(1.0f), e = exp_ps(_mm512_add_ps(ax, ax));
  const __m512 big = _mm512_or_ps(
      _mm512_sub_ps(one, _mm512_div_ps(_mm512_set1_ps(2.0f), _mm512_add_ps(e, one))), xs);
  return _mm512_mask_blend_ps(_mm512_cmp_ps_mask(ax, _mm512_set1_ps(0.625f), _CMP_LT_OQ), big,
                              small);
}

// avx2::gelu_parts_ps on 16 lanes: the same steps and coefficients (erfcx per half-unit
// interval, picked by vpermps), where every lane has |x| / sqrt 2 < 4; otherwise the AVX2
// function on each half.  On halves, GELU took as long as at the AVX2 level.
template <bool Exact>
AD_AVX512_INLINE __m512 gelu_parts_ps(__m512 x, __m512* expm) {
  const __m512 half = _mm512_set1_ps(0.5f);
  const __m512 a = _mm512_mul_ps(_mm512_abs_ps(x), _mm512_set1_ps(0.70710678118654752f));
  if (__builtin_expect(_mm512_cmp_ps_mask(a, _mm512_set1_ps(4.0f), _CMP_LT_OQ) != 0xffff, 0)) {
    using V = Vec<float>;
    __m256 e0, e1;
    const __m256 c0 = avx2::gelu_parts_ps<Exact>(V::lo(x), expm ? &e0 : nullptr);
    const __m256 c1 = avx2::gelu_parts_ps<Exact>(V::hi(x), expm ? &e1 : nullptr);
    if (expm) *expm = V::join(e0, e1);
    return V::join(c0, c1);
  }
  const __m512 xx = _mm512_mul_ps(x, x);
  const __m512 z = _mm512_mul_ps(half, xx);
  const __m512i k = _mm512_cvttps_epi32(_mm512_add_ps(a, a));
  const __m512 u = _mm512_fnmadd_ps(_mm512_cvtepi32_ps(k), half, a);
  auto c = [&](int j) AD_AVX512_INLINE_LAMBDA {  // (k < 8: the table's 8 lanes)
    return _mm512_permutexvar_ps(k, _mm512_castps256_ps512(_mm256_load_ps(avx2::kErfcxC[j])));
  };
  __m512 p = c(0);
  for (int j = 1; j < 7; ++j) p = _mm512_fmadd_ps(p, u, c(j));
  __m512 e = exp_normal_range_ps(_mm512_sub_ps(_mm512_setzero_ps(), z));
  if (Exact) e = _mm512_fnmadd_ps(e, _mm512_mul_ps(half, _mm512_fmsub_ps(x, x, xx)), e);
  if (expm) *expm = e;
  const __m512 erfc = _mm512_mul_ps(p, e);
  return _mm512_mask_blend_ps(_mm512_cmp_ps_mask(x, _mm512_setzero_ps(), _CMP_LT_OQ),
                              _mm512_sub_ps(_mm512_set1_ps(2.0f), erfc), erfc);
}

// The float32 functions by the names the Vec-generic kernels call (kernels/*_simd.h).
struct MathF32 {
  using R = __m512;
  static AD_AVX512_INLINE R exp(R x) { return exp_ps(x); }
  static AD_AVX512_INLINE R exp_normal_range(R x) { return exp_normal_range_ps(x); }
  static constexpr bool kShiftedExp = true;
  static constexpr int kShiftSteps = 8;
  static AD_AVX512_INLINE R exp_shifted(R x, R shift) { return exp_shifted_ps(x, shift); }
  static AD_AVX512_INLINE R log(R x) { return log_ps(x); }
  static AD_AVX512_INLINE R tanh(R x) { return tanh_ps(x); }
  static AD_AVX512_INLINE R sigmoid(R x) { return sigmoid_ps(x); }
  static AD_AVX512_INLINE R erf(R x) { return halves<avx2::erf_ps>(x); }
  static AD_AVX512_INLINE R gelu_cdf2(R x) { return gelu_parts_ps<false>(x, nullptr); }
  static AD_AVX512_INLINE R gelu_parts(R x, R& expm) { return gelu_parts_ps<true>(x, &expm); }
  static AD_AVX512_INLINE R sqrt(R x) { return _mm512_sqrt_ps(x); }
};

}  // namespace autodiff::kernels::avx512

#endif  // x86
