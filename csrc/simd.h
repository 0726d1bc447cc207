// A small vocabulary of inline SIMD operations per ISA, written once per type: AVX2+FMA
// here (x86 only), NEON in simd_neon.h.
//
// Every function carries the target attribute of its ISA, so callers compiled with
// the same attribute inline them while the extension as a whole keeps baseline flags.
// AD_SIMD* name the attributes of the ISA a file includes, for the kernels written once
// over a Vec vocabulary (kernels/*_simd.h).
#pragma once

#if defined(__x86_64__) || defined(__i386__)

#include <immintrin.h>

#include <cstdint>

#define AD_AVX2 __attribute__((target("avx2,fma")))
#define AD_AVX2_INLINE __attribute__((target("avx2,fma"), always_inline)) inline
#define AD_AVX2_INLINE_LAMBDA __attribute__((target("avx2,fma"), always_inline))
#define AD_SIMD AD_AVX2
#define AD_SIMD_INLINE AD_AVX2_INLINE
#define AD_SIMD_INLINE_LAMBDA AD_AVX2_INLINE_LAMBDA

namespace autodiff::kernels::avx2 {

template <typename T>
struct Vec;

template <>
struct Vec<float> {
  using T = float;
  using R = __m256;
  static constexpr int W = 8;
  static AD_AVX2_INLINE R load(const float* p) { return _mm256_loadu_ps(p); }
  static AD_AVX2_INLINE void store(float* p, R v) { _mm256_storeu_ps(p, v); }
  // Non-temporal store (p 32-byte aligned): no read-for-ownership, bypasses the caches.
  static AD_AVX2_INLINE void stream(float* p, R v) { _mm256_stream_ps(p, v); }
  // Orders earlier stream() stores before later stores (and the driver's barrier).
  static AD_AVX2_INLINE R set1(float x) { return _mm256_set1_ps(x); }
  static AD_AVX2_INLINE R zero() { return _mm256_setzero_ps(); }
  static AD_AVX2_INLINE R add(R a, R b) { return _mm256_add_ps(a, b); }
  static AD_AVX2_INLINE R sub(R a, R b) { return _mm256_sub_ps(a, b); }
  static AD_AVX2_INLINE R mul(R a, R b) { return _mm256_mul_ps(a, b); }
  static AD_AVX2_INLINE R div(R a, R b) { return _mm256_div_ps(a, b); }
  static AD_AVX2_INLINE R fma(R a, R b, R c) { return _mm256_fmadd_ps(a, b, c); }
  static AD_AVX2_INLINE R fnma(R a, R b, R c) { return _mm256_fnmadd_ps(a, b, c); }  // c - a*b
  // max/min: if either is NaN the second operand is returned (x86 semantics).
  static AD_AVX2_INLINE R max(R a, R b) { return _mm256_max_ps(a, b); }
  static AD_AVX2_INLINE R min(R a, R b) { return _mm256_min_ps(a, b); }
  static AD_AVX2_INLINE R isnan(R a) { return _mm256_cmp_ps(a, a, _CMP_UNORD_Q); }
  // NaN in a or b
  static AD_AVX2_INLINE R unord(R a, R b) { return _mm256_cmp_ps(a, b, _CMP_UNORD_Q); }
  static AD_AVX2_INLINE R lt(R a, R b) { return _mm256_cmp_ps(a, b, _CMP_LT_OQ); }
  static AD_AVX2_INLINE R bor(R a, R b) { return _mm256_or_ps(a, b); }
  static AD_AVX2_INLINE R band(R a, R b) { return _mm256_and_ps(a, b); }
  static AD_AVX2_INLINE R blend(R a, R b, R mask) { return _mm256_blendv_ps(a, b, mask); }
  static AD_AVX2_INLINE bool any(R mask) { return _mm256_movemask_ps(mask) != 0; }
  static AD_AVX2_INLINE float hsum(R v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
  }
  static AD_AVX2_INLINE double hsum_d(R v) {  // horizontal sum in double precision
    __m256d lo = _mm256_cvtps_pd(_mm256_castps256_ps128(v));
    __m256d hi = _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1));
    __m256d s = _mm256_add_pd(lo, hi);
    __m128d t = _mm_add_pd(_mm256_castpd256_pd128(s), _mm256_extractf128_pd(s, 1));
    return _mm_cvtsd_f64(_mm_add_sd(t, _mm_unpackhi_pd(t, t)));
  }
  static AD_AVX2_INLINE float hmax(R v) {
    __m128 s = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_max_ps(s, _mm_movehl_ps(s, s));
    s = _mm_max_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
  }
};

template <>
struct Vec<double> {
  using T = double;
  using R = __m256d;
  static constexpr int W = 4;
  static AD_AVX2_INLINE R load(const double* p) { return _mm256_loadu_pd(p); }
  static AD_AVX2_INLINE void store(double* p, R v) { _mm256_storeu_pd(p, v); }
  static AD_AVX2_INLINE void stream(double* p, R v) { _mm256_stream_pd(p, v); }
  static AD_AVX2_INLINE R set1(double x) { return _mm256_set1_pd(x); }
  static AD_AVX2_INLINE R zero() { return _mm256_setzero_pd(); }
  static AD_AVX2_INLINE R add(R a, R b) { return _mm256_add_pd(a, b); }
  static AD_AVX2_INLINE R sub(R a, R b) { return _mm256_sub_pd(a, b); }
  static AD_AVX2_INLINE R mul(R a, R b) { return _mm256_mul_pd(a, b); }
  static AD_AVX2_INLINE R div(R a, R b) { return _mm256_div_pd(a, b); }
  static AD_AVX2_INLINE R fma(R a, R b, R c) { return _mm256_fmadd_pd(a, b, c); }
  static AD_AVX2_INLINE R fnma(R a, R b, R c) { return _mm256_fnmadd_pd(a, b, c); }
  static AD_AVX2_INLINE R max(R a, R b) { return _mm256_max_pd(a, b); }
  static AD_AVX2_INLINE R min(R a, R b) { return _mm256_min_pd(a, b); }
  static AD_AVX2_INLINE R isnan(R a) { return _mm256_cmp_pd(a, a, _CMP_UNORD_Q); }
  static AD_AVX2_INLINE R lt(R a, R b) { return _mm256_cmp_pd(a, b, _CMP_LT_OQ); }
  static AD_AVX2_INLINE R bor(R a, R b) { return _mm256_or_pd(a, b); }
  static AD_AVX2_INLINE R band(R a, R b) { return _mm256_and_pd(a, b); }
  static AD_AVX2_INLINE R blend(R a, R b, R mask) { return _mm256_blendv_pd(a, b, mask); }
  static AD_AVX2_INLINE bool any(R mask) { return _mm256_movemask_pd(mask) != 0; }
  static AD_AVX2_INLINE double hsum(R v) {
    __m128d t = _mm_add_pd(_mm256_castpd256_pd128(v), _mm256_extractf128_pd(v, 1));
    return _mm_cvtsd_f64(_mm_add_sd(t, _mm_unpackhi_pd(t, t)));
  }
  static AD_AVX2_INLINE double hsum_d(R v) { return hsum(v); }
  static AD_AVX2_INLINE double hmax(R v) {
    __m128d t = _mm_max_pd(_mm256_castpd256_pd128(v), _mm256_extractf128_pd(v, 1));
    return _mm_cvtsd_f64(_mm_max_sd(t, _mm_unpackhi_pd(t, t)));
  }
};

// Calls body(i) for i = i0, i0 + W, ... (i + W <= n), a 64-byte line of T at a time,
// prefetching into L1 the line `ahead` elements on in each of srcs.  For the last pass of
// a row kernel, which reads L1 and leaves memory idle: with ahead = the row length the
// next row's first pass finds its data in L1 (prefetching past an array never faults).
// Returns the first i not done.  next_row_ahead(n) gives the distance: the next row for
// rows short enough to sit in L1 together, else 0 (a no-op prefetch of the current line).
template <typename T>
constexpr int64_t next_row_ahead(int64_t n) {
  return n * int64_t(sizeof(T)) <= 8192 ? n : 0;
}
template <typename T, typename Body, typename... Src>
AD_AVX2_INLINE int64_t lines_prefetching_next(int64_t i0, int64_t n, int64_t ahead, Body body,
                                              const Src*... srcs) {
  constexpr int64_t kLine = 64 / sizeof(T), W = Vec<T>::W;
  int64_t i = i0;
  for (; i + kLine <= n; i += kLine) {
    (_mm_prefetch(reinterpret_cast<const char*>(srcs + i + ahead), _MM_HINT_T0), ...);
    for (int64_t u = 0; u < kLine; u += W) body(i + u);
  }
  for (; i + W <= n; i += W) body(i);
  return i;
}

// Writes out[k] = vec(k) (vectors) / scalar(k) for k < n: the output pass of a row kernel.
// stream: non-temporal stores (see kStreamBytes) after a scalar head that aligns out to 32
// bytes; the driver fences them once per thread (stream_fence in kernels/parallel.h).
// `ahead` > 0 prefetches that far on in each of srcs (lines_prefetching_next).
template <typename T, typename VecF, typename ScalarF, typename... Src>
AD_AVX2_INLINE void write_row(T* out, int64_t n, bool stream, int64_t ahead, VecF vec,
                              ScalarF scalar, const Src*... srcs) {
  using V = Vec<T>;
  int64_t i = 0;
  if (stream) {
    for (; i < n && reinterpret_cast<uintptr_t>(out + i) % 32 != 0; ++i) out[i] = scalar(i);
    i = lines_prefetching_next<T>(
        i, n, ahead, [&](int64_t k) AD_AVX2_INLINE_LAMBDA { V::stream(out + k, vec(k)); },
        srcs...);
  } else {
    i = lines_prefetching_next<T>(
        i, n, ahead, [&](int64_t k) AD_AVX2_INLINE_LAMBDA { V::store(out + k, vec(k)); },
        srcs...);
  }
  for (; i < n; ++i) out[i] = scalar(i);
}

// This level as one type, for the row kernels written once over levels (kernels/*_simd.h):
// its Vec and its row passes.
struct Isa {
  template <typename T>
  using Vec = avx2::Vec<T>;
  template <typename T>
  static constexpr int64_t next_row_ahead(int64_t n) {
    return avx2::next_row_ahead<T>(n);
  }
  template <typename T, typename... A>
  static AD_AVX2_INLINE void write_row(T* out, A... args) {
    avx2::write_row<T>(out, args...);
  }
};

// ---- float32 transcendental functions (Cephes polynomials, <= 2 ulp measured) ----

// exp(x - K ln2 / 8) for an integer K, given as shift = 1.5 * 2^23 - K, where the result is
// a normal float: x - K ln2 / 8 in [-86, 86] and |x| < 176 (|K| < 2^10).  One FMA gives
// t = shift + round(8 x / ln2) (adding 1.5 * 2^23 leaves the integer in the low mantissa
// bits), so j = t - shift = round(8 x / ln2) exactly and t's low bits hold k = j - K.  Then
// x = (j / 8) ln2 + r with |r| <= ln2 / 16, and exp(x - K ln2 / 8) = 2^(k >> 3) *
// 2^((k & 7) / 8) * e^r: a vpermps picks 2^((k & 7) / 8) from an 8-entry table, a degree-3
// minimax polynomial gives e^r - 1, and k >> 3 is added to the exponent field.  Seven
// FMA-pipe operations where a degree-6 polynomial over |r| <= ln2 / 2 takes ten.  The
// softmax forward takes its running max m this way, as K = ceil(8 m / ln2): x - m is never
// rounded, and the subtraction costs nothing.  Exhaustively over [-86, 86] with K = 0 (as
// exp_normal_range_ps) the error is 1.13 ulp at most (Cephes: 1.26).
AD_AVX2_INLINE __m256 exp_shifted_ps(__m256 x, __m256 shift) {
  const __m256 t = _mm256_fmadd_ps(x, _mm256_set1_ps(11.5415601730f), shift);  // 8 / ln2
  const __m256 j = _mm256_sub_ps(t, shift);
  // x - j ln2 / 8 in two steps (Cody-Waite): the high part has 13 bits, so j * hi is exact
  __m256 r = _mm256_fnmadd_ps(j, _mm256_set1_ps(0.086639404296875f), x);
  r = _mm256_fnmadd_ps(j, _mm256_set1_ps(3.9932729123e-06f), r);
  // e^r - 1 = r + r^2 (c2 + c3 r): r^2 and the inner FMA run side by side
  const __m256 q = _mm256_fmadd_ps(_mm256_set1_ps(0.16666403413f), r, _mm256_set1_ps(0.50006455183f));
  const __m256 em1 = _mm256_fmadd_ps(_mm256_mul_ps(r, r), q, r);
  const __m256 table = _mm256_setr_ps(1.0f, 1.09050774574f, 1.18920707703f, 1.29683959484f,
                                      1.41421353817f, 1.54221081734f, 1.68179285526f,
                                      1.83400809765f);  // 2^(i / 8)
  // 2^(k / 8) = 2^((k & 7) / 8) (the table, indexed by t's low 3 bits) with (k >> 3) added
  // to its exponent field; (k >> 3) << 23 = (t << 20) with the low 23 bits cleared (the
  // shift's own bits drop out).  Off the polynomial's dependency chain.
  const __m256i ti = _mm256_castps_si256(t);
  const __m256i scale =
      _mm256_and_si256(_mm256_slli_epi32(ti, 20), _mm256_set1_epi32(int(0xff800000u)));
  const __m256 tk = _mm256_castsi256_ps(
      _mm256_add_epi32(_mm256_castps_si256(_mm256_permutevar8x32_ps(table, ti)), scale));
  return _mm256_fmadd_ps(tk, em1, tk);
}

// exp(x) for |x| <= 86, where every result is a normal float: exp_shifted_ps with K = 0.
// 0.53 TSC cycles per element in a loop of exps (0.74 for the Cephes form).
AD_AVX2_INLINE __m256 exp_normal_range_ps(__m256 x) {
  return exp_shifted_ps(x, _mm256_set1_ps(12582912.0f));
}

// All lanes inside exp_normal_range_ps's domain (|x| <= 86; NaN is outside).
AD_AVX2_INLINE bool exp_in_normal_range(__m256 x) {
  const __m256 ax = _mm256_andnot_ps(_mm256_set1_ps(-0.0f), x);
  return _mm256_movemask_ps(_mm256_cmp_ps(ax, _mm256_set1_ps(86.0f), _CMP_LE_OQ)) == 0xff;
}

// exp(x) over the whole float range, with no arithmetic on subnormal numbers: an
// operation that produces one (or underflows to 0) takes a microcode assist of ~100 cycles,
// which made exp of a vector holding one x below -87 (a softmax row with -inf, a masked
// score) 5-12x slower than exp of ordinary values (1M floats of -200, one Zen 4 thread:
// 2.0 against 0.17 ms).  x is clamped to [-104, 89] (beyond it exp is 0 or inf: exp(-104) <
// 2^-150; a NaN goes to -104 and is put back at the end) and taken as exp_shifted_ps's
// exp(x - K ln2 / 8), a normal float, with K = -256 below -86 (exp(x) 2^32) and K = 64
// above 86 (exp(x) / 2^8), 0 between (exp_normal_range_ps's results, to the bit).  Above 86
// the result is that times 2^8, which overflows to inf from 88.72 on (an overflow takes no
// assist).  Below -86 a normal result (e >= 2^-94) is e 2^-32, exact; a subnormal one is
// round(e 2^117) = round(exp(x) 2^149), an integer <= 2^23 that is its bit pattern (2^23:
// the smallest normal's), rounded once from e as a multiply into the subnormal range would.
// Kept out of line: it is the rare path, and inlining both paths spills the loops'
// constants.
__attribute__((target("avx2,fma"), noinline)) inline __m256 exp_full_range_ps(__m256 x) {
  const __m256 xc = _mm256_min_ps(_mm256_max_ps(x, _mm256_set1_ps(-104.0f)), _mm256_set1_ps(89.0f));
  const __m256 low = _mm256_cmp_ps(xc, _mm256_set1_ps(-86.0f), _CMP_LT_OQ);
  const __m256 high = _mm256_cmp_ps(_mm256_set1_ps(86.0f), xc, _CMP_LT_OQ);
  const __m256 k = _mm256_or_ps(_mm256_and_ps(low, _mm256_set1_ps(-256.0f)),
                                _mm256_and_ps(high, _mm256_set1_ps(64.0f)));
  const __m256 e = exp_shifted_ps(xc, _mm256_sub_ps(_mm256_set1_ps(12582912.0f), k));
  const __m256 tiny = _mm256_set1_ps(0x1p-94f);  // e below it: a subnormal result
  const __m256 normal_lo = _mm256_mul_ps(_mm256_max_ps(e, tiny), _mm256_set1_ps(0x1p-32f));
  const __m256 sub_lo = _mm256_castsi256_ps(
      _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_min_ps(e, tiny), _mm256_set1_ps(0x1p117f))));
  const __m256 lo = _mm256_blendv_ps(sub_lo, normal_lo, _mm256_cmp_ps(e, tiny, _CMP_GE_OQ));
  __m256 y = _mm256_blendv_ps(e, _mm256_mul_ps(e, _mm256_set1_ps(256.0f)), high);
  y = _mm256_blendv_ps(y, lo, low);
  return _mm256_blendv_ps(y, x, _mm256_cmp_ps(x, x, _CMP_UNORD_Q));  // NaN in, NaN out
}

// exp(x): the short path when every lane allows it (the common case: one predictable
// branch per vector), else the full-range one.
AD_AVX2_INLINE __m256 exp_ps(__m256 x) {
  if (__builtin_expect(exp_in_normal_range(x), 1)) return exp_normal_range_ps(x);
  return exp_full_range_ps(x);
}

// log(x): x = 2^e m, m in [sqrt(.5), sqrt(2)), Cephes logf polynomial.  Full: subnormal
// inputs (scaled by 2^23 first, the exponent corrected) and the special values (x < 0 or
// NaN -> NaN, 0 -> -inf, inf -> inf); without it, for normal finite x > 0 only.
template <bool Full>
AD_AVX2_INLINE __m256 log_impl_ps(__m256 x) {
  const __m256 one = _mm256_set1_ps(1.0f);
  __m256 xs = x, eadj = _mm256_setzero_ps();
  if constexpr (Full) {
    const __m256 sub = _mm256_cmp_ps(x, _mm256_set1_ps(1.17549435e-38f), _CMP_LT_OQ);
    xs = _mm256_blendv_ps(x, _mm256_mul_ps(x, _mm256_set1_ps(8388608.0f)), sub);
    eadj = _mm256_and_ps(sub, _mm256_set1_ps(23.0f));
  }
  __m256i bits = _mm256_castps_si256(xs);
  __m256 e =
      _mm256_cvtepi32_ps(_mm256_sub_epi32(_mm256_srli_epi32(bits, 23), _mm256_set1_epi32(126)));
  if constexpr (Full) e = _mm256_sub_ps(e, eadj);
  __m256 m = _mm256_castsi256_ps(_mm256_or_si256(
      _mm256_and_si256(bits, _mm256_set1_epi32(0x007fffff)), _mm256_set1_epi32(0x3f000000)));
  __m256 small = _mm256_cmp_ps(m, _mm256_set1_ps(0.707106781186547524f), _CMP_LT_OQ);
  e = _mm256_sub_ps(e, _mm256_and_ps(small, one));
  m = _mm256_sub_ps(_mm256_add_ps(m, _mm256_and_ps(small, m)), one);
  __m256 z = _mm256_mul_ps(m, m);
  __m256 p = _mm256_set1_ps(7.0376836292E-2f);
  p = _mm256_fmadd_ps(p, m, _mm256_set1_ps(-1.1514610310E-1f));
  p = _mm256_fmadd_ps(p, m, _mm256_set1_ps(1.1676998740E-1f));
  p = _mm256_fmadd_ps(p, m, _mm256_set1_ps(-1.2420140846E-1f));
  p = _mm256_fmadd_ps(p, m, _mm256_set1_ps(1.4249322787E-1f));
  p = _mm256_fmadd_ps(p, m, _mm256_set1_ps(-1.6668057665E-1f));
  p = _mm256_fmadd_ps(p, m, _mm256_set1_ps(2.0000714765E-1f));
  p = _mm256_fmadd_ps(p, m, _mm256_set1_ps(-2.4999993993E-1f));
  p = _mm256_fmadd_ps(p, m, _mm256_set1_ps(3.3333331174E-1f));
  __m256 y = _mm256_mul_ps(_mm256_mul_ps(p, m), z);
  y = _mm256_fmadd_ps(e, _mm256_set1_ps(-2.12194440e-4f), y);
  y = _mm256_fnmadd_ps(_mm256_set1_ps(0.5f), z, y);
  y = _mm256_add_ps(m, y);
  y = _mm256_fmadd_ps(e, _mm256_set1_ps(0.693359375f), y);
  if constexpr (Full) {
    const __m256 inf = _mm256_set1_ps(__builtin_inff());
    y = _mm256_blendv_ps(y, inf, _mm256_cmp_ps(x, inf, _CMP_EQ_OQ));
    y = _mm256_blendv_ps(y, _mm256_set1_ps(-__builtin_inff()),
                         _mm256_cmp_ps(x, _mm256_setzero_ps(), _CMP_EQ_OQ));
    y = _mm256_blendv_ps(y, _mm256_set1_ps(__builtin_nanf("")),
                         _mm256_cmp_ps(x, _mm256_setzero_ps(), _CMP_NGE_UQ));
  }
  return y;
}

// Out of line: the rare path (see exp_full_range_ps).
__attribute__((target("avx2,fma"), noinline)) inline __m256 log_full_ps(__m256 x) {
  return log_impl_ps<true>(x);
}

// log(x): the short path when every lane is a normal finite x > 0 (one predictable branch
// a vector; 1M floats on one Zen 4 thread: 0.97 -> 0.68 ms at avx2, 0.79 -> 0.61 at avx512),
// else the full one.
AD_AVX2_INLINE __m256 log_ps(__m256 x) {
  const __m256 normal =
      _mm256_and_ps(_mm256_cmp_ps(x, _mm256_set1_ps(1.17549435e-38f), _CMP_GE_OQ),
                    _mm256_cmp_ps(x, _mm256_set1_ps(__builtin_inff()), _CMP_LT_OQ));
  if (__builtin_expect(_mm256_movemask_ps(normal) == 0xff, 1)) return log_impl_ps<false>(x);
  return log_full_ps(x);
}

// tanh(x): odd polynomial for |x| < 0.625, else sign(x) * (1 - 2 / (exp(2|x|) + 1)).
AD_AVX2_INLINE __m256 tanh_ps(__m256 x) {
  const __m256 sign = _mm256_set1_ps(-0.0f);
  __m256 ax = _mm256_andnot_ps(sign, x);
  __m256 z = _mm256_mul_ps(x, x);
  __m256 p = _mm256_set1_ps(-5.70498872745E-3f);
  p = _mm256_fmadd_ps(p, z, _mm256_set1_ps(2.06390887954E-2f));
  p = _mm256_fmadd_ps(p, z, _mm256_set1_ps(-5.37397155531E-2f));
  p = _mm256_fmadd_ps(p, z, _mm256_set1_ps(1.33314422036E-1f));
  p = _mm256_fmadd_ps(p, z, _mm256_set1_ps(-3.33332819422E-1f));
  __m256 small = _mm256_fmadd_ps(_mm256_mul_ps(p, z), x, x);
  small = _mm256_or_ps(small, _mm256_and_ps(x, sign));  // fma(-0 * z, -0, -0) is +0: tanh(-0) = -0
  __m256 e = exp_ps(_mm256_add_ps(ax, ax));
  const __m256 one = _mm256_set1_ps(1.0f);
  __m256 big = _mm256_sub_ps(one, _mm256_div_ps(_mm256_set1_ps(2.0f), _mm256_add_ps(e, one)));
  big = _mm256_or_ps(big, _mm256_and_ps(x, sign));
  return _mm256_blendv_ps(big, small, _mm256_cmp_ps(ax, _mm256_set1_ps(0.625f), _CMP_LT_OQ));
}

// erfc(a) for every a >= 0 (z = a * a, expmz = exp(-z)): Numerical Recipes' Chebyshev fit
// t * exp(Q(t) - a^2), t = 1 / (1 + a / 2), fractional error < 1.2e-7 (erfc(inf) = 0, NaN
// stays NaN), taken as t exp(Q) exp(-z): exp(Q - z) would round Q - z, 30 ulp off at z = 32.
// Q is evaluated in Estrin's scheme: the chain of dependent FMAs is 4 long instead of 9.
// Kept out of line: erfc_nonneg_ps takes it only for vectors with a lane at 4 or beyond.
__attribute__((target("avx2,fma"), noinline)) inline __m256 erfc_nonneg_wide_ps(__m256 a,
                                                                               __m256 expmz) {
  const __m256 one = _mm256_set1_ps(1.0f);
  const __m256 t = _mm256_div_ps(one, _mm256_fmadd_ps(a, _mm256_set1_ps(0.5f), one));
  const __m256 t2 = _mm256_mul_ps(t, t), t4 = _mm256_mul_ps(t2, t2);
  const __m256 t8 = _mm256_mul_ps(t4, t4);
  auto lin = [&](float c0, float c1) AD_AVX2_INLINE_LAMBDA {
    return _mm256_fmadd_ps(_mm256_set1_ps(c1), t, _mm256_set1_ps(c0));
  };
  // Q(t) = sum c_k t^k, k = 0..9
  const __m256 q01 = lin(-1.26551223f, 1.00002368f), q23 = lin(0.37409196f, 0.09678418f);
  const __m256 q45 = lin(-0.18628806f, 0.27886807f), q67 = lin(-1.13520398f, 1.48851587f);
  const __m256 q89 = lin(-0.82215223f, 0.17087277f);
  const __m256 q03 = _mm256_fmadd_ps(q23, t2, q01), q47 = _mm256_fmadd_ps(q67, t2, q45);
  const __m256 q = _mm256_fmadd_ps(q89, t8, _mm256_fmadd_ps(q47, t4, q03));
  return _mm256_mul_ps(_mm256_mul_ps(t, exp_normal_range_ps(q)), expmz);  // |q| < 2
}

// erfc_small_ps's coefficients: kErfcxC[j][k] multiplies u^(6 - j) on interval k.
alignas(32) inline constexpr float kErfcxC[7][8] = {
    {7.121738046e-02f, 1.445737667e-02f, 3.589003813e-03f, 1.047997503e-03f,
     3.509850940e-04f, 1.319478906e-04f, 5.468574091e-05f, 2.461682379e-05f},
    {-2.456175238e-01f, -5.425136536e-02f, -1.461128611e-02f, -4.630791955e-03f,
     -1.681502443e-03f, -6.839292473e-04f, -3.058389411e-04f, -1.480892679e-04f},
    {4.827399254e-01f, 1.210519895e-01f, 3.691067919e-02f, 1.321023982e-02f,
     5.391797051e-03f, 2.450781874e-03f, 1.217031386e-03f, 6.502540782e-04f},
    {-7.494081855e-01f, -2.214780152e-01f, -7.911389321e-02f, -3.290230781e-02f,
     -1.545224804e-02f, -7.998778485e-03f, -4.478397779e-03f, -2.672655508e-03f},
    {9.997782111e-01f, 3.593016565e-01f, 1.543621868e-01f, 7.614867389e-02f,
     4.180205986e-02f, 2.493776567e-02f, 1.588428579e-02f, 1.066109817e-02f},
    {-1.128373265e+00f, -5.126874447e-01f, -2.732117176e-01f, -1.636228412e-01f,
     -1.067964435e-01f, -7.434733957e-02f, -5.437225848e-02f, -4.132357612e-02f},
    {1.000000000e+00f, 6.156903505e-01f, 4.275835752e-01f, 3.215854168e-01f,
     2.553956807e-01f, 2.108063698e-01f, 1.790011525e-01f, 1.552936584e-01f},
};

// erfc(a) for 0 <= a < 4 (z = a * a) as erfcx(a) exp(-z): erfcx = erfc(a) exp(a^2), smooth
// and between 0.14 and 1 there, is a degree-6 polynomial in a - k / 2 on each of the eight
// intervals [k / 2, (k + 1) / 2) (tools/fit_erfcx.py: least-squares fits, 2.8 ulp at most
// in float; on the first the constant is 1, so erfc(0) = 1), its coefficients picked per
// lane by vpermps from one register each.  No division and no range checks: 0.75 against
// 0.90 ns an element for the Chebyshev form above.  With zlo (z + zlo = a^2 exactly)
// exp(-a^2) is taken as exp(-z) (1 - zlo): z alone, rounded, costs up to z ulp of erfc's
// relative accuracy (27 near a = 4).  *expmz, when given, receives exp(-a^2) (the GELU
// backward's density).
AD_AVX2_INLINE __m256 erfc_small_ps(__m256 a, __m256 z, const __m256* zlo, __m256* expmz) {
  const __m256i k = _mm256_cvttps_epi32(_mm256_add_ps(a, a));
  const __m256 u = _mm256_fnmadd_ps(_mm256_cvtepi32_ps(k), _mm256_set1_ps(0.5f), a);
  auto c = [&](int j) AD_AVX2_INLINE_LAMBDA {
    return _mm256_permutevar8x32_ps(_mm256_load_ps(kErfcxC[j]), k);
  };
  __m256 p = c(0);
  for (int j = 1; j < 7; ++j) p = _mm256_fmadd_ps(p, u, c(j));
  __m256 e = exp_normal_range_ps(_mm256_sub_ps(_mm256_setzero_ps(), z));
  if (zlo) e = _mm256_fnmadd_ps(e, *zlo, e);
  if (expmz) *expmz = e;
  return _mm256_mul_ps(p, e);
}

// erfc(a) for a >= 0, z = a^2 (+ *zlo, when given: the rounding error of z): the short form
// when every lane is below 4 (the common case: erfc(4) is 1.5e-8), else the Chebyshev one.
// NaN lanes take the latter, where inf or NaN z drop zlo.  *expmz: as erfc_small_ps.
AD_AVX2_INLINE __m256 erfc_nonneg_ps(__m256 a, __m256 z, const __m256* zlo = nullptr,
                                     __m256* expmz = nullptr) {
  const __m256 small = _mm256_cmp_ps(a, _mm256_set1_ps(4.0f), _CMP_LT_OQ);
  if (__builtin_expect(_mm256_movemask_ps(small) == 0xff, 1))
    return erfc_small_ps(a, z, zlo, expmz);
  __m256 e = exp_ps(_mm256_sub_ps(_mm256_setzero_ps(), z));
  if (zlo)
    e = _mm256_fnmadd_ps(
        e, _mm256_and_ps(*zlo, _mm256_cmp_ps(z, _mm256_set1_ps(1e30f), _CMP_LT_OQ)), e);
  if (expmz) *expmz = e;
  return erfc_nonneg_wide_ps(a, e);
}

// erf(x) for |x| < 0.8: its Taylor series x P(x^2) up to x^21 (z = x * x).  Horner's
// scheme: Estrin's shorter chain measured 3.9 ulp against Horner's 2.4.
AD_AVX2_INLINE __m256 erf_taylor_ps(__m256 x, __m256 z) {
  __m256 p = _mm256_set1_ps(1.4807192815879218e-08f);
  p = _mm256_fmadd_ps(p, z, _mm256_set1_ps(-1.6365844691234924e-07f));
  p = _mm256_fmadd_ps(p, z, _mm256_set1_ps(1.6462114365889246e-06f));
  p = _mm256_fmadd_ps(p, z, _mm256_set1_ps(-1.492565035840625e-05f));
  p = _mm256_fmadd_ps(p, z, _mm256_set1_ps(0.00012055332981789664f));
  p = _mm256_fmadd_ps(p, z, _mm256_set1_ps(-0.0008548327023450852f));
  p = _mm256_fmadd_ps(p, z, _mm256_set1_ps(0.005223977625442188f));
  p = _mm256_fmadd_ps(p, z, _mm256_set1_ps(-0.026866170645131252f));
  p = _mm256_fmadd_ps(p, z, _mm256_set1_ps(0.11283791670955126f));
  p = _mm256_fmadd_ps(p, z, _mm256_set1_ps(-0.37612638903183754f));
  p = _mm256_fmadd_ps(p, z, _mm256_set1_ps(1.1283791670955126f));
  return _mm256_mul_ps(p, x);
}

// erf(x): the Taylor series for |x| < 0.8, beyond it 1 - erfc(|x|) with the sign of x
// (erfc < 0.26 there, which keeps erf within a few ulp).  A vector whose lanes all fall on
// one side computes only that side.  erf(+-inf) = +-1, NaN in, NaN out.
AD_AVX2_INLINE __m256 erf_ps(__m256 x) {
  const __m256 sign = _mm256_set1_ps(-0.0f);
  const __m256 ax = _mm256_andnot_ps(sign, x), z = _mm256_mul_ps(x, x);
  const int small = _mm256_movemask_ps(_mm256_cmp_ps(ax, _mm256_set1_ps(0.8f), _CMP_LT_OQ));
  if (small == 0xff) return erf_taylor_ps(x, z);
  const __m256 e = erfc_nonneg_ps(ax, z);  // (erfc < 0.26: the rounding of z matters little)
  const __m256 big = _mm256_or_ps(_mm256_sub_ps(_mm256_set1_ps(1.0f), e), _mm256_and_ps(x, sign));
  if (small == 0) return big;
  return _mm256_blendv_ps(big, erf_taylor_ps(x, z),
                          _mm256_cmp_ps(ax, _mm256_set1_ps(0.8f), _CMP_LT_OQ));
}

// GELU's parts: 1 + erf(x / sqrt 2) = erfc(-x / sqrt 2) (accurate relative to itself also
// where it is tiny, x << 0), and exp(-x^2 / 2) in *expm when given, both from one exp.
// x^2 / 2 is taken from x (the square of the rounded x / sqrt 2 is up to 2 ulp off: 100-300
// ulp in the tails at |x| = 8-13), rounded once, or with Exact as z + zlo, exactly: GELU
// forward 25 / 91 ulp at most for |x| < 4 / < 8 rounded (as before), 8 / 9 exact, which
// costs it 8% of its time; the backward, exact, 4-7 ulp in the tails (was 19-67).
template <bool Exact>
AD_AVX2_INLINE __m256 gelu_parts_ps(__m256 x, __m256* expm) {
  const __m256 half = _mm256_set1_ps(0.5f);
  const __m256 ax = _mm256_andnot_ps(_mm256_set1_ps(-0.0f), x);
  const __m256 xx = _mm256_mul_ps(x, x);
  const __m256 z = _mm256_mul_ps(half, xx);
  const __m256 zlo = _mm256_mul_ps(half, _mm256_fmsub_ps(x, x, xx));
  const __m256 e = erfc_nonneg_ps(_mm256_mul_ps(ax, _mm256_set1_ps(0.70710678118654752f)), z,
                                  Exact ? &zlo : nullptr, expm);
  return _mm256_blendv_ps(_mm256_sub_ps(_mm256_set1_ps(2.0f), e), e,
                          _mm256_cmp_ps(x, _mm256_setzero_ps(), _CMP_LT_OQ));
}

// sigmoid(x) = 1 / (1 + exp(-x)), evaluated as e / (1 + e) with e = exp(-|x|) for x < 0.
AD_AVX2_INLINE __m256 sigmoid_ps(__m256 x) {
  const __m256 one = _mm256_set1_ps(1.0f);
  __m256 ax = _mm256_andnot_ps(_mm256_set1_ps(-0.0f), x);
  __m256 e = exp_ps(_mm256_sub_ps(_mm256_setzero_ps(), ax));
  __m256 r = _mm256_div_ps(one, _mm256_add_ps(one, e));
  __m256 neg = _mm256_cmp_ps(x, _mm256_setzero_ps(), _CMP_LT_OQ);
  return _mm256_blendv_ps(r, _mm256_mul_ps(e, r), neg);
}

// The float32 functions above by the names the Vec-generic kernels call (kernels/*_simd.h).
struct MathF32 {
  using R = __m256;
  static AD_AVX2_INLINE R exp(R x) { return exp_ps(x); }
  static AD_AVX2_INLINE R exp_normal_range(R x) { return exp_normal_range_ps(x); }  // |x| <= 86
  // exp(x - K ln2 / 8) with shift = 1.5 * 2^23 - K: see exp_shifted_ps for the domain
  static constexpr bool kShiftedExp = true;
  static constexpr int kShiftSteps = 8;  // K counts steps of ln2 / kShiftSteps
  static AD_AVX2_INLINE R exp_shifted(R x, R shift) { return exp_shifted_ps(x, shift); }
  static AD_AVX2_INLINE R log(R x) { return log_ps(x); }
  static AD_AVX2_INLINE R tanh(R x) { return tanh_ps(x); }
  static AD_AVX2_INLINE R sigmoid(R x) { return sigmoid_ps(x); }
  static AD_AVX2_INLINE R erf(R x) { return erf_ps(x); }
  // 1 + erf(x / sqrt 2); with gelu_parts also exp(-x^2 / 2) (one exp here)
  static AD_AVX2_INLINE R gelu_cdf2(R x) { return gelu_parts_ps<false>(x, nullptr); }
  static AD_AVX2_INLINE R gelu_parts(R x, R& expm) { return gelu_parts_ps<true>(x, &expm); }
  static AD_AVX2_INLINE R sqrt(R x) { return _mm256_sqrt_ps(x); }  // correctly rounded
};

}  // namespace autodiff::kernels::avx2

#endif  // x86
