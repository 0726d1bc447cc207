// The inline SIMD vocabulary of simd.h for AArch64 Advanced SIMD (NEON): Vec<float> on
// float32x4_t and Vec<double> on float64x2_t with avx2::Vec's members and semantics (masks
// are all-ones / all-zeros lanes of the vector type; max/min return the second operand when
// either is NaN), the row-writing helpers, and the float32 exp / log / tanh / sigmoid / erf
// of simd.h ported instruction for instruction, so the two levels agree to the last bit
// wherever both fuse the same multiply-adds.
//
// NEON is part of every ARMv8-A core: no target attributes, and no streaming stores
// (stream() is a plain store; the kernels' `stream` flag has no effect here).
#pragma once

#if defined(__aarch64__)

#include <arm_neon.h>

#include <cstdint>

#define AD_NEON_INLINE __attribute__((always_inline)) inline
#define AD_NEON_INLINE_LAMBDA __attribute__((always_inline))
#define AD_SIMD
#define AD_SIMD_INLINE AD_NEON_INLINE
#define AD_SIMD_INLINE_LAMBDA AD_NEON_INLINE_LAMBDA

namespace autodiff::kernels::neon {

template <typename T>
struct Vec;

template <>
struct Vec<float> {
  using T = float;
  using R = float32x4_t;
  static constexpr int W = 4;
  static AD_NEON_INLINE R load(const float* p) { return vld1q_f32(p); }
  static AD_NEON_INLINE void store(float* p, R v) { vst1q_f32(p, v); }
  static AD_NEON_INLINE void stream(float* p, R v) { vst1q_f32(p, v); }
  static AD_NEON_INLINE R set1(float x) { return vdupq_n_f32(x); }
  static AD_NEON_INLINE R zero() { return vdupq_n_f32(0.0f); }
  static AD_NEON_INLINE R add(R a, R b) { return vaddq_f32(a, b); }
  static AD_NEON_INLINE R sub(R a, R b) { return vsubq_f32(a, b); }
  static AD_NEON_INLINE R mul(R a, R b) { return vmulq_f32(a, b); }
  static AD_NEON_INLINE R div(R a, R b) { return vdivq_f32(a, b); }
  static AD_NEON_INLINE R fma(R a, R b, R c) { return vfmaq_f32(c, a, b); }
  static AD_NEON_INLINE R fnma(R a, R b, R c) { return vfmsq_f32(c, a, b); }  // c - a*b
  static AD_NEON_INLINE R max(R a, R b) { return vbslq_f32(vcgtq_f32(a, b), a, b); }
  static AD_NEON_INLINE R min(R a, R b) { return vbslq_f32(vcltq_f32(a, b), a, b); }
  static AD_NEON_INLINE R isnan(R a) { return vreinterpretq_f32_u32(vmvnq_u32(vceqq_f32(a, a))); }
  static AD_NEON_INLINE R lt(R a, R b) { return vreinterpretq_f32_u32(vcltq_f32(a, b)); }
  static AD_NEON_INLINE R bor(R a, R b) {
    return vreinterpretq_f32_u32(vorrq_u32(vreinterpretq_u32_f32(a), vreinterpretq_u32_f32(b)));
  }
  static AD_NEON_INLINE R unord(R a, R b) { return bor(isnan(a), isnan(b)); }  // a or b NaN
  static AD_NEON_INLINE R band(R a, R b) {
    return vreinterpretq_f32_u32(vandq_u32(vreinterpretq_u32_f32(a), vreinterpretq_u32_f32(b)));
  }
  static AD_NEON_INLINE R blend(R a, R b, R mask) {  // mask ? b : a
    return vbslq_f32(vreinterpretq_u32_f32(mask), b, a);
  }
  static AD_NEON_INLINE bool any(R mask) { return vmaxvq_u32(vreinterpretq_u32_f32(mask)) != 0; }
  static AD_NEON_INLINE float hsum(R v) { return vaddvq_f32(v); }
  static AD_NEON_INLINE double hsum_d(R v) {  // horizontal sum in double precision
    return vaddvq_f64(vaddq_f64(vcvt_f64_f32(vget_low_f32(v)), vcvt_high_f64_f32(v)));
  }
  static AD_NEON_INLINE float hmax(R v) { return vmaxvq_f32(v); }
};

template <>
struct Vec<double> {
  using T = double;
  using R = float64x2_t;
  static constexpr int W = 2;
  static AD_NEON_INLINE R load(const double* p) { return vld1q_f64(p); }
  static AD_NEON_INLINE void store(double* p, R v) { vst1q_f64(p, v); }
  static AD_NEON_INLINE void stream(double* p, R v) { vst1q_f64(p, v); }
  static AD_NEON_INLINE R set1(double x) { return vdupq_n_f64(x); }
  static AD_NEON_INLINE R zero() { return vdupq_n_f64(0.0); }
  static AD_NEON_INLINE R add(R a, R b) { return vaddq_f64(a, b); }
  static AD_NEON_INLINE R sub(R a, R b) { return vsubq_f64(a, b); }
  static AD_NEON_INLINE R mul(R a, R b) { return vmulq_f64(a, b); }
  static AD_NEON_INLINE R div(R a, R b) { return vdivq_f64(a, b); }
  static AD_NEON_INLINE R fma(R a, R b, R c) { return vfmaq_f64(c, a, b); }
  static AD_NEON_INLINE R fnma(R a, R b, R c) { return vfmsq_f64(c, a, b); }
  static AD_NEON_INLINE R max(R a, R b) { return vbslq_f64(vcgtq_f64(a, b), a, b); }
  static AD_NEON_INLINE R min(R a, R b) { return vbslq_f64(vcltq_f64(a, b), a, b); }
  static AD_NEON_INLINE R isnan(R a) {
    return vreinterpretq_f64_u32(vmvnq_u32(vreinterpretq_u32_u64(vceqq_f64(a, a))));
  }
  static AD_NEON_INLINE R lt(R a, R b) { return vreinterpretq_f64_u64(vcltq_f64(a, b)); }
  static AD_NEON_INLINE R bor(R a, R b) {
    return vreinterpretq_f64_u64(vorrq_u64(vreinterpretq_u64_f64(a), vreinterpretq_u64_f64(b)));
  }
  static AD_NEON_INLINE R band(R a, R b) {
    return vreinterpretq_f64_u64(vandq_u64(vreinterpretq_u64_f64(a), vreinterpretq_u64_f64(b)));
  }
  static AD_NEON_INLINE R blend(R a, R b, R mask) {
    return vbslq_f64(vreinterpretq_u64_f64(mask), b, a);
  }
  static AD_NEON_INLINE bool any(R mask) { return vmaxvq_u32(vreinterpretq_u32_f64(mask)) != 0; }
  static AD_NEON_INLINE double hsum(R v) { return vaddvq_f64(v); }
  static AD_NEON_INLINE double hsum_d(R v) { return vaddvq_f64(v); }
  static AD_NEON_INLINE double hmax(R v) { return vmaxvq_f64(v); }
};

// As avx2::next_row_ahead / lines_prefetching_next / write_row (simd.h): the passes of a row
// kernel a 64-byte line at a time, prefetching `ahead` elements on in each of srcs.
template <typename T>
constexpr int64_t next_row_ahead(int64_t n) {
  return n * int64_t(sizeof(T)) <= 8192 ? n : 0;
}
template <typename T, typename Body, typename... Src>
AD_NEON_INLINE int64_t lines_prefetching_next(int64_t i0, int64_t n, [[maybe_unused]] int64_t ahead,
                                              Body body, const Src*... srcs) {
  constexpr int64_t kLine = 64 / sizeof(T), W = Vec<T>::W;
  int64_t i = i0;
  for (; i + kLine <= n; i += kLine) {
    (__builtin_prefetch(srcs + i + ahead), ...);
    for (int64_t u = 0; u < kLine; u += W) body(i + u);
  }
  for (; i + W <= n; i += W) body(i);
  return i;
}
// out[k] = vec(k) (vectors) / scalar(k) for k < n; `stream` is accepted and ignored.
template <typename T, typename VecF, typename ScalarF, typename... Src>
AD_NEON_INLINE void write_row(T* out, int64_t n, bool /*stream*/, int64_t ahead, VecF vec,
                              ScalarF scalar, const Src*... srcs) {
  int64_t i = lines_prefetching_next<T>(
      0, n, ahead, [&](int64_t k) AD_NEON_INLINE_LAMBDA { Vec<T>::store(out + k, vec(k)); },
      srcs...);
  for (; i < n; ++i) out[i] = scalar(i);
}

// This level as one type, as avx2::Isa (simd.h).
struct Isa {
  template <typename T>
  using Vec = neon::Vec<T>;
  template <typename T>
  static constexpr int64_t next_row_ahead(int64_t n) {
    return neon::next_row_ahead<T>(n);
  }
  template <typename T, typename... A>
  static AD_NEON_INLINE void write_row(T* out, A... args) {
    neon::write_row<T>(out, args...);
  }
};

// ---- float32 transcendental functions: simd.h's Cephes polynomials on float32x4_t ----

using F = Vec<float>;
using R4 = float32x4_t;

AD_NEON_INLINE R4 exp_reduced_ps(R4 r) {
  R4 p = F::set1(1.9875691500E-4f);
  p = F::fma(p, r, F::set1(1.3981999507E-3f));
  p = F::fma(p, r, F::set1(8.3334519073E-3f));
  p = F::fma(p, r, F::set1(4.1665795894E-2f));
  p = F::fma(p, r, F::set1(1.6666665459E-1f));
  p = F::fma(p, r, F::set1(5.0000001201E-1f));
  return F::fma(p, F::mul(r, r), F::add(r, F::set1(1.0f)));
}

AD_NEON_INLINE R4 exp_reduce_ps(R4 x, R4 n) {
  R4 r = F::fnma(n, F::set1(0.693359375f), x);
  return F::fnma(n, F::set1(-2.12194440e-4f), r);
}

// exp(x - K ln2) for an integer K, given as shift = 1.5 * 2^23 - K, where the result is a
// normal float (x - K ln2 in [-86, 86], |x| < 176): t = shift + round(x / ln2), so
// j = t - shift = round(x / ln2) exactly and t's bits, less those of 1.5 * 2^23, are
// j - K.  The Cephes polynomial of x - j ln2, scaled by 2^(j - K) in its exponent field.
// As simd.h's exp_shifted_ps (there in steps of ln2 / 8): the softmax forward's reference.
AD_NEON_INLINE R4 exp_shifted_ps(R4 x, R4 shift) {
  const R4 t = F::fma(x, F::set1(1.44269504088896341f), shift);
  const R4 j = F::sub(t, shift);
  const int32x4_t k =
      vsubq_s32(vreinterpretq_s32_f32(t), vreinterpretq_s32_f32(F::set1(12582912.0f)));
  const R4 p = exp_reduced_ps(exp_reduce_ps(x, j));
  return vreinterpretq_f32_s32(vaddq_s32(vreinterpretq_s32_f32(p), vshlq_n_s32(k, 23)));
}

// exp(x) for |x| <= 86: exp_shifted_ps with K = 0.
AD_NEON_INLINE R4 exp_normal_range_ps(R4 x) {
  return exp_shifted_ps(x, F::set1(12582912.0f));
}

AD_NEON_INLINE bool exp_in_normal_range(R4 x) {
  return vminvq_u32(vcaleq_f32(x, F::set1(86.0f))) != 0;  // |x| <= 86; false for NaN
}

// exp(x) over the whole float range, 2^n applied in two halves (see simd.h).
__attribute__((noinline)) inline R4 exp_full_range_ps(R4 x) {
  const R4 xc = F::min(F::max(x, F::set1(-104.0f)), F::set1(89.0f));
  const R4 n = vrndnq_f32(F::mul(xc, F::set1(1.44269504088896341f)));
  const R4 p = exp_reduced_ps(exp_reduce_ps(xc, n));
  const int32x4_t ni = vcvtq_s32_f32(n);
  const int32x4_t n1 = vshrq_n_s32(ni, 1), n2 = vsubq_s32(ni, n1);
  const int32x4_t bias = vdupq_n_s32(127);
  const R4 s1 = vreinterpretq_f32_s32(vshlq_n_s32(vaddq_s32(n1, bias), 23));
  const R4 s2 = vreinterpretq_f32_s32(vshlq_n_s32(vaddq_s32(n2, bias), 23));
  const R4 y = F::mul(F::mul(p, s1), s2);
  return F::blend(y, x, F::isnan(x));  // NaN in, NaN out
}

AD_NEON_INLINE R4 exp_ps(R4 x) {
  if (__builtin_expect(exp_in_normal_range(x), 1)) return exp_normal_range_ps(x);
  return exp_full_range_ps(x);
}

// log(x): x = 2^e m, m in [sqrt(.5), sqrt(2)), Cephes logf polynomial.
AD_NEON_INLINE R4 log_ps(R4 x) {
  const R4 one = F::set1(1.0f);
  const R4 sub = F::lt(x, F::set1(1.17549435e-38f));  // subnormal: scale by 2^23 first
  const R4 xs = F::blend(x, F::mul(x, F::set1(8388608.0f)), sub);
  const R4 eadj = F::band(sub, F::set1(23.0f));
  const uint32x4_t bits = vreinterpretq_u32_f32(xs);
  R4 e = vcvtq_f32_s32(vsubq_s32(vreinterpretq_s32_u32(vshrq_n_u32(bits, 23)), vdupq_n_s32(126)));
  e = F::sub(e, eadj);
  R4 m = vreinterpretq_f32_u32(
      vorrq_u32(vandq_u32(bits, vdupq_n_u32(0x007fffff)), vdupq_n_u32(0x3f000000)));
  const R4 small = F::lt(m, F::set1(0.707106781186547524f));
  e = F::sub(e, F::band(small, one));
  m = F::sub(F::add(m, F::band(small, m)), one);
  const R4 z = F::mul(m, m);
  R4 p = F::set1(7.0376836292E-2f);
  p = F::fma(p, m, F::set1(-1.1514610310E-1f));
  p = F::fma(p, m, F::set1(1.1676998740E-1f));
  p = F::fma(p, m, F::set1(-1.2420140846E-1f));
  p = F::fma(p, m, F::set1(1.4249322787E-1f));
  p = F::fma(p, m, F::set1(-1.6668057665E-1f));
  p = F::fma(p, m, F::set1(2.0000714765E-1f));
  p = F::fma(p, m, F::set1(-2.4999993993E-1f));
  p = F::fma(p, m, F::set1(3.3333331174E-1f));
  R4 y = F::mul(F::mul(p, m), z);
  y = F::fma(e, F::set1(-2.12194440e-4f), y);
  y = F::fnma(F::set1(0.5f), z, y);
  y = F::add(m, y);
  y = F::fma(e, F::set1(0.693359375f), y);
  // Special values: x < 0 or NaN -> NaN, x == 0 -> -inf, x == inf -> inf.
  const R4 inf = F::set1(__builtin_inff());
  y = vbslq_f32(vceqq_f32(x, inf), inf, y);
  y = vbslq_f32(vceqq_f32(x, F::zero()), F::set1(-__builtin_inff()), y);
  return vbslq_f32(vmvnq_u32(vcgeq_f32(x, F::zero())), F::set1(__builtin_nanf("")), y);
}

AD_NEON_INLINE R4 abs_ps(R4 x) { return vabsq_f32(x); }
AD_NEON_INLINE R4 sign_of(R4 x) { return F::band(x, F::set1(-0.0f)); }

// tanh(x): odd polynomial for |x| < 0.625, else sign(x) * (1 - 2 / (exp(2|x|) + 1)).
AD_NEON_INLINE R4 tanh_ps(R4 x) {
  const R4 ax = abs_ps(x), z = F::mul(x, x);
  R4 p = F::set1(-5.70498872745E-3f);
  p = F::fma(p, z, F::set1(2.06390887954E-2f));
  p = F::fma(p, z, F::set1(-5.37397155531E-2f));
  p = F::fma(p, z, F::set1(1.33314422036E-1f));
  p = F::fma(p, z, F::set1(-3.33332819422E-1f));
  const R4 small = F::bor(F::fma(F::mul(p, z), x, x), sign_of(x));  // tanh(-0) = -0
  const R4 e = exp_ps(F::add(ax, ax));
  const R4 one = F::set1(1.0f);
  const R4 big = F::bor(F::sub(one, F::div(F::set1(2.0f), F::add(e, one))), sign_of(x));
  return F::blend(big, small, F::lt(ax, F::set1(0.625f)));
}

// erfc(a) for a >= 0 (z = a * a): Numerical Recipes' Chebyshev fit (see simd.h).
AD_NEON_INLINE R4 erfc_nonneg_ps(R4 a, R4 z) {
  const R4 one = F::set1(1.0f);
  const R4 t = F::div(one, F::fma(a, F::set1(0.5f), one));
  const R4 t2 = F::mul(t, t), t4 = F::mul(t2, t2), t8 = F::mul(t4, t4);
  auto lin = [&](float c0, float c1)
                 AD_NEON_INLINE_LAMBDA { return F::fma(F::set1(c1), t, F::set1(c0)); };
  const R4 q01 = lin(-1.26551223f, 1.00002368f), q23 = lin(0.37409196f, 0.09678418f);
  const R4 q45 = lin(-0.18628806f, 0.27886807f), q67 = lin(-1.13520398f, 1.48851587f);
  const R4 q89 = lin(-0.82215223f, 0.17087277f);
  const R4 q03 = F::fma(q23, t2, q01), q47 = F::fma(q67, t2, q45);
  const R4 q = F::fma(q89, t8, F::fma(q47, t4, q03));
  return F::mul(t, exp_ps(F::sub(q, z)));
}

// erf(x) for |x| < 0.8: its Taylor series x P(x^2) up to x^21 (z = x * x).
AD_NEON_INLINE R4 erf_taylor_ps(R4 x, R4 z) {
  R4 p = F::set1(1.4807192815879218e-08f);
  p = F::fma(p, z, F::set1(-1.6365844691234924e-07f));
  p = F::fma(p, z, F::set1(1.6462114365889246e-06f));
  p = F::fma(p, z, F::set1(-1.492565035840625e-05f));
  p = F::fma(p, z, F::set1(0.00012055332981789664f));
  p = F::fma(p, z, F::set1(-0.0008548327023450852f));
  p = F::fma(p, z, F::set1(0.005223977625442188f));
  p = F::fma(p, z, F::set1(-0.026866170645131252f));
  p = F::fma(p, z, F::set1(0.11283791670955126f));
  p = F::fma(p, z, F::set1(-0.37612638903183754f));
  p = F::fma(p, z, F::set1(1.1283791670955126f));
  return F::mul(p, x);
}

// erf(x): the Taylor series for |x| < 0.8, beyond it 1 - erfc(|x|) with the sign of x.
AD_NEON_INLINE R4 erf_ps(R4 x) {
  const R4 ax = abs_ps(x), z = F::mul(x, x);
  const uint32x4_t small = vcltq_f32(ax, F::set1(0.8f));
  if (vminvq_u32(small) != 0) return erf_taylor_ps(x, z);
  const R4 big = F::bor(F::sub(F::set1(1.0f), erfc_nonneg_ps(ax, z)), sign_of(x));
  if (vmaxvq_u32(small) == 0) return big;
  return vbslq_f32(small, erf_taylor_ps(x, z), big);
}

// 1 + erf(x) = erfc(-x), accurate relative to itself also where it is tiny (x << 0).
AD_NEON_INLINE R4 one_plus_erf_ps(R4 x) {
  const R4 e = erfc_nonneg_ps(abs_ps(x), F::mul(x, x));
  return F::blend(F::sub(F::set1(2.0f), e), e, F::lt(x, F::zero()));
}

// sigmoid(x) = 1 / (1 + exp(-x)), evaluated as e / (1 + e) with e = exp(-|x|) for x < 0.
AD_NEON_INLINE R4 sigmoid_ps(R4 x) {
  const R4 one = F::set1(1.0f);
  const R4 e = exp_ps(F::sub(F::zero(), abs_ps(x)));
  const R4 r = F::div(one, F::add(one, e));
  return F::blend(r, F::mul(e, r), F::lt(x, F::zero()));
}

// The float32 functions above by the names the Vec-generic kernels call (kernels/*_simd.h).
struct MathF32 {
  using R = float32x4_t;
  static AD_NEON_INLINE R exp(R x) { return exp_ps(x); }
  static AD_NEON_INLINE R exp_normal_range(R x) { return exp_normal_range_ps(x); }  // |x| <= 86
  // exp(x - K ln2) with shift = 1.5 * 2^23 - K: see exp_shifted_ps for the domain
  static constexpr bool kShiftedExp = true;
  static constexpr int kShiftSteps = 1;  // K counts steps of ln2 / kShiftSteps
  static AD_NEON_INLINE R exp_shifted(R x, R shift) { return exp_shifted_ps(x, shift); }
  static AD_NEON_INLINE R log(R x) { return log_ps(x); }
  static AD_NEON_INLINE R tanh(R x) { return tanh_ps(x); }
  static AD_NEON_INLINE R sigmoid(R x) { return sigmoid_ps(x); }
  static AD_NEON_INLINE R erf(R x) { return erf_ps(x); }
  // 1 + erf(x / sqrt 2); with gelu_parts also exp(-x^2 / 2)
  static AD_NEON_INLINE R gelu_cdf2(R x) {
    return one_plus_erf_ps(F::mul(x, F::set1(0.70710678118654752f)));
  }
  static AD_NEON_INLINE R gelu_parts(R x, R& expm) {
    expm = exp_ps(F::mul(F::set1(-0.5f), F::mul(x, x)));
    return gelu_cdf2(x);
  }
  static AD_NEON_INLINE R sqrt(R x) { return vsqrtq_f32(x); }  // correctly rounded
};

}  // namespace autodiff::kernels::neon

#endif  // __aarch64__
