// Special functions and fused pointwise ops (special.h).
#include "kernels/special.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "kernels/parallel.h"

namespace autodiff::kernels {

namespace {

// Acklam's coefficients (autodiff/special.py _A, _B, _C, _D), highest power first.
constexpr double kA[] = {-3.969683028665376e01, 2.209460984245205e02,  -2.759285104469687e02,
                         1.383577518672690e02,  -3.066479806614716e01, 2.506628277459239e00};
constexpr double kB[] = {-5.447609879822406e01, 1.615858368580409e02,  -1.556989798598866e02,
                         6.680131188771972e01,  -1.328068155288572e01, 1.0};
constexpr double kC[] = {-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e00,
                         -2.549732539343734e00,  4.374664141464968e00,   2.938163982698783e00};
constexpr double kD[] = {7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e00,
                         3.754408661907416e00, 1.0};
constexpr double kTail = 1 - 2 * 0.02425;  // |y| beyond: Acklam's tail (p < 0.02425)
constexpr int64_t kBlock = 4096;

// The NumPy code's order: t c0, then (+ c, * t) per middle coefficient, + the last.
template <size_t N>
inline double horner(const double (&c)[N], double t) {
  double out = t * c[0];
  for (size_t k = 1; k + 1 < N; ++k) out = (out + c[k]) * t;
  return out + c[N - 1];
}

inline uint32_t bits(float v) {
  uint32_t u;
  std::memcpy(&u, &v, sizeof u);
  return u;
}

inline float from_bits(uint32_t u) {
  float v;
  std::memcpy(&v, &u, sizeof v);
  return v;
}

// x86 GCC compiles the loops for AVX-512, AVX2 and the baseline (2 doubles a vector), the
// loader picking by CPU; without contraction into FMAs, every clone rounds as NumPy does.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define AD_SPECIAL_CLONES \
  __attribute__((target_clones("avx512f", "avx2", "default"), optimize("fp-contract=off")))
#elif defined(__GNUC__) && !defined(__clang__)
#define AD_SPECIAL_CLONES __attribute__((optimize("fp-contract=off")))
#else
#define AD_SPECIAL_CLONES
#endif

AD_SPECIAL_CLONES void erfinv_block(const float* y, float* out, int64_t b, int64_t e) {
#ifdef __clang__
#pragma clang fp contract(off)
#endif
  const uint32_t near = bits(0.95f);  // below kTail: a cheap, conservative flag
  for (int64_t i = b; i < e; ++i) {   // the central rational, vectorised; the sign bit copied
    const uint32_t u = bits(y[i]);
    const double a = double(from_bits(u & 0x7fffffffu));
    const double r = a * a * 0.25;
    const double x = horner(kA, r) * a / horner(kB, r) * (0.5 / std::sqrt(2.0));
    out[i] = from_bits(bits(float(x)) | (u & 0x80000000u));
  }
  uint32_t tail = 0;
  for (int64_t i = b; i < e; ++i) tail |= uint32_t((bits(y[i]) & 0x7fffffffu) >= near);
  if (!tail) return;
  for (int64_t i = b; i < e; ++i) {  // the few in the tails
    const double a = std::fabs(double(y[i]));
    if (!(a > kTail)) continue;
    double x;
    if (a == 1) {
      x = std::numeric_limits<double>::infinity();
    } else if (a > 1) {
      x = std::numeric_limits<double>::quiet_NaN();
    } else {
      const double s = std::sqrt(-2.0 * std::log(0.5 * (1.0 - a)));
      x = horner(kC, s) / horner(kD, s) * -std::sqrt(0.5);
    }
    out[i] = from_bits(bits(float(x)) | (bits(y[i]) & 0x80000000u));
  }
}

template <typename T>
__attribute__((always_inline)) inline void addc_loop(const T* x, const T* a, const T* b, T v,
                                                     bool div, T* out, int64_t i0, int64_t i1) {
  if (div && v != T(1)) {
    for (int64_t i = i0; i < i1; ++i) out[i] = (a[i] / b[i]) * v + x[i];
  } else if (div) {
    for (int64_t i = i0; i < i1; ++i) out[i] = a[i] / b[i] + x[i];
  } else if (v != T(1)) {
    for (int64_t i = i0; i < i1; ++i) out[i] = (a[i] * b[i]) * v + x[i];
  } else {
    for (int64_t i = i0; i < i1; ++i) out[i] = a[i] * b[i] + x[i];
  }
}

AD_SPECIAL_CLONES void addc_f32(const float* x, const float* a, const float* b, float v, bool div,
                                float* out, int64_t i0, int64_t i1) {
#ifdef __clang__
#pragma clang fp contract(off)
#endif
  addc_loop(x, a, b, v, div, out, i0, i1);
}

AD_SPECIAL_CLONES void addc_f64(const double* x, const double* a, const double* b, double v,
                                bool div, double* out, int64_t i0, int64_t i1) {
#ifdef __clang__
#pragma clang fp contract(off)
#endif
  addc_loop(x, a, b, v, div, out, i0, i1);
}

inline void addc_block(const float* x, const float* a, const float* b, float v, bool div,
                       float* out, int64_t i0, int64_t i1) {
  addc_f32(x, a, b, v, div, out, i0, i1);
}

inline void addc_block(const double* x, const double* a, const double* b, double v, bool div,
                       double* out, int64_t i0, int64_t i1) {
  addc_f64(x, a, b, v, div, out, i0, i1);
}

}  // namespace

template <typename T>
void addc(const T* x, const T* a, const T* b, T v, bool div, T* out, int64_t n) {
  const int nt = threads_for(4 * n);  // three streams in, one out
#pragma omp parallel for num_threads(nt) schedule(static) if (nt > 1)
  for (int64_t i = 0; i < n; i += kBlock)
    addc_block(x, a, b, v, div, out, i, std::min(n, i + kBlock));
}

template void addc<float>(const float*, const float*, const float*, float, bool, float*, int64_t);
template void addc<double>(const double*, const double*, const double*, double, bool, double*,
                           int64_t);

void erfinv_f32(const float* y, float* out, int64_t n) {
  const int nt = threads_for(n, 4096);  // ~20 flops an element: threads pay early
#pragma omp parallel for num_threads(nt) schedule(static) if (nt > 1)
  for (int64_t b = 0; b < n; b += kBlock) erfinv_block(y, out, b, std::min(n, b + kBlock));
}

}  // namespace autodiff::kernels
