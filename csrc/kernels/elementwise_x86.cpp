// AVX2+FMA elementwise kernels.  float64 math functions stay on the scalar (libm) kernels.
#include <algorithm>

#include "kernels/elementwise.h"
#include "simd.h"

namespace autodiff::kernels {
namespace {

using avx2::Vec;

struct AddOp {
  template <typename V, typename R>
  static AD_AVX2_INLINE R v(R a, R b) {
    return V::add(a, b);
  }
  template <typename T>
  static inline T s(T a, T b) {
    return a + b;
  }
};
struct SubOp {
  template <typename V, typename R>
  static AD_AVX2_INLINE R v(R a, R b) {
    return V::sub(a, b);
  }
  template <typename T>
  static inline T s(T a, T b) {
    return a - b;
  }
};
struct MulOp {
  template <typename V, typename R>
  static AD_AVX2_INLINE R v(R a, R b) {
    return V::mul(a, b);
  }
  template <typename T>
  static inline T s(T a, T b) {
    return a * b;
  }
};
struct DivOp {
  template <typename V, typename R>
  static AD_AVX2_INLINE R v(R a, R b) {
    return V::div(a, b);
  }
  template <typename T>
  static inline T s(T a, T b) {
    return a / b;
  }
};

struct ReluBwdOp {  // a = relu output y, b = gradient g
  template <typename V, typename R>
  static AD_AVX2_INLINE R v(R y, R g) {
    return V::mul(g, V::band(V::lt(V::zero(), y), V::set1(1)));
  }
  template <typename T>
  static inline T s(T y, T g) {
    return g * T(y > T(0) ? 1 : 0);
  }
};

// Vector body unrolled by U registers, then one-vector steps, then an explicit scalar tail;
// SA / SB false: that operand is one broadcast scalar.
// Stream: non-temporal stores for outputs too large to stay in cache (no read-for-ownership
// of the destination: 2/3 of the traffic of a same-shape op), after a scalar head that
// aligns out to 32 bytes; the closing sfence orders them before the driver's barrier.
template <typename T, typename Op, bool SA, bool SB, bool Stream>
AD_AVX2_INLINE void binary_body(const T* a, const T* b, T* out, int64_t n) {
  using V = Vec<T>;
  using R = typename V::R;
  constexpr int W = V::W, U = 4;
  int64_t i = 0;
  if constexpr (Stream)
    for (; i < n && reinterpret_cast<uintptr_t>(out + i) % 32 != 0; ++i)
      out[i] = Op::s(a[SA ? i : 0], b[SB ? i : 0]);
  const R as = V::set1(a[0]), bs = V::set1(b[0]);
  auto va = [&](int64_t k) AD_AVX2_INLINE_LAMBDA { return SA ? V::load(a + k) : as; };
  auto vb = [&](int64_t k) AD_AVX2_INLINE_LAMBDA { return SB ? V::load(b + k) : bs; };
  auto put = [](T* p, R v) AD_AVX2_INLINE_LAMBDA {
    if constexpr (Stream) V::stream(p, v);
    else V::store(p, v);
  };
  for (; i + U * W <= n; i += U * W) {
    R r[U];
    for (int u = 0; u < U; ++u) r[u] = Op::template v<V>(va(i + u * W), vb(i + u * W));
    for (int u = 0; u < U; ++u) put(out + i + u * W, r[u]);
  }
  for (; i + W <= n; i += W) put(out + i, Op::template v<V>(va(i), vb(i)));
  for (; i < n; ++i) out[i] = Op::s(a[SA ? i : 0], b[SB ? i : 0]);
  if constexpr (Stream) _mm_sfence();
}

template <typename T, typename Op, bool Stream>
AD_AVX2 void binary_avx2(const T* a, const T* b, T* out, int64_t n, int64_t sa, int64_t sb) {
  if (sa && sb) {
    binary_body<T, Op, true, true, Stream>(a, b, out, n);
  } else if (sb) {
    binary_body<T, Op, false, true, Stream>(a, b, out, n);
  } else if (sa) {
    binary_body<T, Op, true, false, Stream>(a, b, out, n);
  } else {
    const T v = Op::s(a[0], b[0]);
    for (int64_t i = 0; i < n; ++i) out[i] = v;
  }
}

// Unary float32 math: vector body, and the tail through a zero-padded vector so that
// every element gets exactly the vector algorithm.
template <__m256 (*F)(__m256)>
AD_AVX2 void unary_f32(const float* x, float* y, int64_t n) {
  constexpr int W = 8;
  int64_t i = 0;
  for (; i + 2 * W <= n; i += 2 * W) {
    __m256 r0 = F(_mm256_loadu_ps(x + i)), r1 = F(_mm256_loadu_ps(x + i + W));
    _mm256_storeu_ps(y + i, r0);
    _mm256_storeu_ps(y + i + W, r1);
  }
  for (; i + W <= n; i += W) _mm256_storeu_ps(y + i, F(_mm256_loadu_ps(x + i)));
  if (i < n) {
    alignas(32) float buf[W] = {0};
    std::copy(x + i, x + n, buf);
    _mm256_store_ps(buf, F(_mm256_load_ps(buf)));
    std::copy(buf, buf + (n - i), y + i);
  }
}

AD_AVX2_INLINE __m256 exp_v(__m256 x) { return avx2::exp_ps(x); }
AD_AVX2_INLINE __m256 log_v(__m256 x) { return avx2::log_ps(x); }
AD_AVX2_INLINE __m256 tanh_v(__m256 x) { return avx2::tanh_ps(x); }
AD_AVX2_INLINE __m256 sigmoid_v(__m256 x) { return avx2::sigmoid_ps(x); }
AD_AVX2_INLINE __m256 erf_v(__m256 x) { return avx2::erf_ps(x); }
AD_AVX2_INLINE __m256 sqrt_v(__m256 x) { return _mm256_sqrt_ps(x); }  // correctly rounded

// GELU: x * Phi(x) = x (1 + erf(x / sqrt 2)) / 2, with 1 + erf taken as erfc(-x / sqrt 2)
// for x << 0 (no cancellation); the tanh form x (1 + tanh(c (x + a x^3))) / 2.
constexpr float kRsqrt2 = 0.70710678118654752f, kRsqrt2Pi = 0.39894228040143268f;
constexpr float kTanhC = 0.79788456080286536f, kTanhA = 0.044715f;

AD_AVX2_INLINE __m256 gelu_v(__m256 x) {
  const __m256 cdf2 = avx2::one_plus_erf_ps(_mm256_mul_ps(x, _mm256_set1_ps(kRsqrt2)));
  return _mm256_mul_ps(_mm256_mul_ps(_mm256_set1_ps(0.5f), x), cdf2);
}
AD_AVX2_INLINE __m256 gelu_tanh_arg(__m256 x) {
  const __m256 ax2 = _mm256_mul_ps(_mm256_set1_ps(kTanhA), _mm256_mul_ps(x, x));
  return _mm256_mul_ps(_mm256_set1_ps(kTanhC), _mm256_fmadd_ps(ax2, x, x));
}
AD_AVX2_INLINE __m256 gelu_tanh_v(__m256 x) {
  const __m256 th = avx2::tanh_ps(gelu_tanh_arg(x));
  return _mm256_mul_ps(_mm256_mul_ps(_mm256_set1_ps(0.5f), x),
                       _mm256_add_ps(_mm256_set1_ps(1.0f), th));
}
// d/dx: Phi(x) + x phi(x), and for the tanh form (1 + th) / 2 + x (1 - th^2) c (1 + 3a x^2) / 2.
AD_AVX2_INLINE __m256 gelu_d(__m256 x) {
  const __m256 half = _mm256_set1_ps(0.5f);
  const __m256 cdf = _mm256_mul_ps(half, avx2::one_plus_erf_ps(_mm256_mul_ps(x, _mm256_set1_ps(kRsqrt2))));
  const __m256 pdf = _mm256_mul_ps(
      avx2::exp_ps(_mm256_mul_ps(_mm256_set1_ps(-0.5f), _mm256_mul_ps(x, x))),
      _mm256_set1_ps(kRsqrt2Pi));
  return _mm256_fmadd_ps(x, pdf, cdf);
}
AD_AVX2_INLINE __m256 gelu_tanh_d(__m256 x) {
  const __m256 half = _mm256_set1_ps(0.5f), one = _mm256_set1_ps(1.0f);
  const __m256 th = avx2::tanh_ps(gelu_tanh_arg(x));
  const __m256 inner = _mm256_fmadd_ps(_mm256_set1_ps(3.0f * kTanhA), _mm256_mul_ps(x, x), one);
  const __m256 sech2 = _mm256_fnmadd_ps(th, th, one);
  const __m256 right = _mm256_mul_ps(_mm256_mul_ps(_mm256_mul_ps(half, x), sech2),
                                     _mm256_mul_ps(_mm256_set1_ps(kTanhC), inner));
  return _mm256_fmadd_ps(half, _mm256_add_ps(one, th), right);
}

// SiLU x sigmoid(x), and its derivative s (1 + x (1 - s)).
AD_AVX2_INLINE __m256 silu_v(__m256 x) { return _mm256_mul_ps(x, avx2::sigmoid_ps(x)); }
AD_AVX2_INLINE __m256 silu_d(__m256 x) {
  const __m256 one = _mm256_set1_ps(1.0f), s = avx2::sigmoid_ps(x);
  return _mm256_mul_ps(s, _mm256_fmadd_ps(x, _mm256_sub_ps(one, s), one));
}
// sign(x): +-1, 0 at +-0, NaN at NaN (as PyTorch's abs backward).
AD_AVX2_INLINE __m256 sign_d(__m256 x) {
  const __m256 zero = _mm256_setzero_ps();
  const __m256 pos = _mm256_and_ps(_mm256_cmp_ps(x, zero, _CMP_GT_OQ), _mm256_set1_ps(1.0f));
  const __m256 neg = _mm256_and_ps(_mm256_cmp_ps(x, zero, _CMP_LT_OQ), _mm256_set1_ps(-1.0f));
  return _mm256_blendv_ps(_mm256_or_ps(pos, neg), x, _mm256_cmp_ps(x, x, _CMP_UNORD_Q));
}

// out = g * D(x), with the tail through padded vectors as in unary_f32.
template <__m256 (*D)(__m256)>
AD_AVX2 void grad_f32(const float* x, const float* g, float* out, int64_t n) {
  constexpr int W = 8;
  int64_t i = 0;
  for (; i + W <= n; i += W)
    _mm256_storeu_ps(out + i, _mm256_mul_ps(_mm256_loadu_ps(g + i), D(_mm256_loadu_ps(x + i))));
  if (i < n) {
    alignas(32) float bx[W] = {0}, bg[W] = {0};
    std::copy(x + i, x + n, bx);
    std::copy(g + i, g + n, bg);
    _mm256_store_ps(bx, _mm256_mul_ps(_mm256_load_ps(bg), D(_mm256_load_ps(bx))));
    std::copy(bx, bx + (n - i), out + i);
  }
}

template <typename T>
AD_AVX2 void relu_avx2(const T* x, T* y, int64_t n) {
  using V = Vec<T>;
  constexpr int W = V::W;
  const auto zero = V::zero();
  int64_t i = 0;
  for (; i + W <= n; i += W) V::store(y + i, V::max(zero, V::load(x + i)));  // NaN kept
  for (; i < n; ++i) {
    T v = x[i];
    y[i] = (v > T(0) || v != v) ? v : T(0);
  }
}

}  // namespace

template <typename T>
void fill_elementwise_avx2(KernelTable<T>& t) {
  t.binary[int(BinaryOp::kAdd)] = binary_avx2<T, AddOp, false>;
  t.binary[int(BinaryOp::kSub)] = binary_avx2<T, SubOp, false>;
  t.binary[int(BinaryOp::kMul)] = binary_avx2<T, MulOp, false>;
  t.binary[int(BinaryOp::kDiv)] = binary_avx2<T, DivOp, false>;
  t.binary_stream[int(BinaryOp::kAdd)] = binary_avx2<T, AddOp, true>;
  t.binary_stream[int(BinaryOp::kSub)] = binary_avx2<T, SubOp, true>;
  t.binary_stream[int(BinaryOp::kMul)] = binary_avx2<T, MulOp, true>;
  t.binary_stream[int(BinaryOp::kDiv)] = binary_avx2<T, DivOp, true>;
  t.binary[int(BinaryOp::kReluBwd)] = binary_avx2<T, ReluBwdOp, false>;
  t.binary_stream[int(BinaryOp::kReluBwd)] = binary_avx2<T, ReluBwdOp, true>;
  t.unary[int(UnaryOp::kRelu)] = relu_avx2<T>;
  if constexpr (std::is_same_v<T, float>) {
    t.unary[int(UnaryOp::kExp)] = unary_f32<exp_v>;
    t.unary[int(UnaryOp::kLog)] = unary_f32<log_v>;
    t.unary[int(UnaryOp::kTanh)] = unary_f32<tanh_v>;
    t.unary[int(UnaryOp::kSigmoid)] = unary_f32<sigmoid_v>;
    t.unary[int(UnaryOp::kErf)] = unary_f32<erf_v>;
    t.unary[int(UnaryOp::kSqrt)] = unary_f32<sqrt_v>;
    t.unary[int(UnaryOp::kGelu)] = unary_f32<gelu_v>;
    t.unary[int(UnaryOp::kGeluTanh)] = unary_f32<gelu_tanh_v>;
    t.grad[int(GradOp::kGelu)] = grad_f32<gelu_d>;
    t.grad[int(GradOp::kGeluTanh)] = grad_f32<gelu_tanh_d>;
    t.unary[int(UnaryOp::kSilu)] = unary_f32<silu_v>;
    t.grad[int(GradOp::kSilu)] = grad_f32<silu_d>;
    t.grad[int(GradOp::kAbs)] = grad_f32<sign_d>;
  }
}
template void fill_elementwise_avx2<float>(KernelTable<float>&);
template void fill_elementwise_avx2<double>(KernelTable<double>&);

}  // namespace autodiff::kernels
