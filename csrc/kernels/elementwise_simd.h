// Elementwise row kernels written once over a Vec vocabulary and a float32 math policy
// (simd.h's avx2::Vec / avx2::MathF32, simd_neon.h's neon::Vec / neon::MathF32): binary
// ops (plain and streaming stores), relu, and the float32 math functions, GELU, SiLU and
// their gradients.  float64 math stays on the scalar (libm) kernels.  Include after the
// ISA's header, which defines the AD_SIMD* attributes; fill_elementwise_vec fills a table.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "kernels/activation_ops.h"
#include "kernels/elementwise.h"
#include "kernels/remainder_ops.h"

namespace autodiff::kernels::vec_kernels {

struct AddOp {
  template <typename V, typename R>
  static AD_SIMD_INLINE R v(R a, R b) {
    return V::add(a, b);
  }
  template <typename T>
  static inline T s(T a, T b) {
    return a + b;
  }
};
struct SubOp {
  template <typename V, typename R>
  static AD_SIMD_INLINE R v(R a, R b) {
    return V::sub(a, b);
  }
  template <typename T>
  static inline T s(T a, T b) {
    return a - b;
  }
};
struct MulOp {
  template <typename V, typename R>
  static AD_SIMD_INLINE R v(R a, R b) {
    return V::mul(a, b);
  }
  template <typename T>
  static inline T s(T a, T b) {
    return a * b;
  }
};
struct DivOp {
  template <typename V, typename R>
  static AD_SIMD_INLINE R v(R a, R b) {
    return V::div(a, b);
  }
  template <typename T>
  static inline T s(T a, T b) {
    return a / b;
  }
};

// a = relu output y, b = gradient g: g where !(y <= 0), else 0 -- a select, as PyTorch's
// threshold_backward (an inf g gives 0, not NaN; a NaN y passes g).
struct ReluBwdOp {
  template <typename V, typename R>
  static AD_SIMD_INLINE R v(R y, R g) {
    return V::blend(V::zero(), g, V::bor(V::lt(V::zero(), y), V::isnan(y)));
  }
  template <typename T>
  static inline T s(T y, T g) {
    return y <= T(0) ? T(0) : g;
  }
};

// Vector body unrolled by U registers, then one-vector steps, then an explicit scalar tail;
// SA / SB false: that operand is one broadcast scalar.
// Stream: non-temporal stores for outputs too large to stay in cache (no read-for-ownership
// of the destination: 2/3 of the traffic of a same-shape op), after a scalar head that
// aligns out to a vector; the closing fence orders them before the driver's barrier.
template <typename V, typename T, typename Op, bool SA, bool SB, bool Stream>
AD_SIMD_INLINE void binary_body(const T* a, const T* b, T* out, int64_t n) {
  using R = typename V::R;
  constexpr int W = V::W, U = 4;
  int64_t i = 0;
  if constexpr (Stream)
    for (; i < n && reinterpret_cast<uintptr_t>(out + i) % sizeof(R) != 0; ++i)
      out[i] = Op::s(a[SA ? i : 0], b[SB ? i : 0]);
  const R as = V::set1(a[0]), bs = V::set1(b[0]);
  auto va = [&](int64_t k) AD_SIMD_INLINE_LAMBDA { return SA ? V::load(a + k) : as; };
  auto vb = [&](int64_t k) AD_SIMD_INLINE_LAMBDA { return SB ? V::load(b + k) : bs; };
  auto put = [](T* p, R v) AD_SIMD_INLINE_LAMBDA {
    if constexpr (Stream)
      V::stream(p, v);
    else
      V::store(p, v);
  };
  for (; i + U * W <= n; i += U * W) {
    R r[U];
    for (int u = 0; u < U; ++u) r[u] = Op::template v<V>(va(i + u * W), vb(i + u * W));
    for (int u = 0; u < U; ++u) put(out + i + u * W, r[u]);
  }
  for (; i + W <= n; i += W) put(out + i, Op::template v<V>(va(i), vb(i)));
  for (; i < n; ++i) out[i] = Op::s(a[SA ? i : 0], b[SB ? i : 0]);
}

template <typename V, typename T, typename Op, bool Stream>
AD_SIMD void binary_vec(const T* a, const T* b, T* out, int64_t n, int64_t sa, int64_t sb) {
  if (sa && sb) {
    binary_body<V, T, Op, true, true, Stream>(a, b, out, n);
  } else if (sb) {
    binary_body<V, T, Op, false, true, Stream>(a, b, out, n);
  } else if (sa) {
    binary_body<V, T, Op, true, false, Stream>(a, b, out, n);
  } else {
    const T v = Op::s(a[0], b[0]);
    for (int64_t i = 0; i < n; ++i) out[i] = v;
  }
}

// fmod / remainder: remainder_ops.h's loop, vectorised by the compiler for this level's
// target (V only picks the level).
template <typename V, typename T, bool Rem>
AD_SIMD void fmod_vec(const T* a, const T* b, T* out, int64_t n, int64_t sa, int64_t sb) {
  rem::fmod_binary<T, Rem>(a, b, out, n, sa, sb);
}

template <typename V, typename T>
AD_SIMD void relu_vec(const T* x, T* y, int64_t n) {
  constexpr int W = V::W;
  const auto zero = V::zero();
  int64_t i = 0;
  for (; i + W <= n; i += W) V::store(y + i, V::max(zero, V::load(x + i)));  // NaN kept
  for (; i < n; ++i) y[i] = x[i] < T(0) ? T(0) : x[i];  // as max_ps: -0 and NaN stay
}

// |x|: the sign bit cleared (NaN stays NaN, -0 becomes 0).
template <typename V, typename T>
AD_SIMD void abs_vec(const T* x, T* y, int64_t n) {
  using U = std::conditional_t<sizeof(T) == 4, uint32_t, uint64_t>;
  constexpr int W = V::W;
  const U bits = ~(U(1) << (8 * sizeof(T) - 1));
  T m;
  std::memcpy(&m, &bits, sizeof m);
  const auto mask = V::set1(m);
  int64_t i = 0;
  for (; i + W <= n; i += W) V::store(y + i, V::band(V::load(x + i), mask));
  for (; i < n; ++i) y[i] = std::abs(x[i]);
}

// min(max(x, lo), hi): max/min return their second operand when either is NaN, so a NaN x
// comes through both, as in the scalar kernel.
template <typename V, typename T>
AD_SIMD void clamp_vec(const T* x, T* y, int64_t n, T lo, T hi) {
  constexpr int W = V::W;
  const auto lv = V::set1(lo), hv = V::set1(hi);
  int64_t i = 0;
  for (; i + W <= n; i += W) V::store(y + i, V::min(hv, V::max(lv, V::load(x + i))));
  for (; i < n; ++i) {
    const T r = x[i] < lo ? lo : x[i];
    y[i] = r > hi ? hi : r;
  }
}

// LerpFn: the vector body and the scalar tail compute the same fma.
template <typename V, typename T>
AD_SIMD void lerp_vec(const T* a, const T* b, T* out, int64_t n, T w) {
  constexpr int W = V::W;
  const bool small = std::abs(w) < T(0.5);
  const T c = small ? w : w - T(1);
  const T* base = small ? a : b;
  const auto cv = V::set1(c);
  int64_t i = 0;
  for (; i + W <= n; i += W)
    V::store(out + i, V::fma(cv, V::sub(V::load(b + i), V::load(a + i)), V::load(base + i)));
  for (; i < n; ++i) out[i] = std::fma(c, b[i] - a[i], base[i]);
}

// Unary float32 math: vector body, and the tail through a zero-padded vector so that
// every element gets exactly the vector algorithm.  V is the float Vec.
template <typename V, typename V::R (*F)(typename V::R)>
AD_SIMD void unary_f32(const float* x, float* y, int64_t n) {
  constexpr int W = V::W;
  int64_t i = 0;
  for (; i + 2 * W <= n; i += 2 * W) {
    const auto r0 = F(V::load(x + i)), r1 = F(V::load(x + i + W));
    V::store(y + i, r0);
    V::store(y + i + W, r1);
  }
  for (; i + W <= n; i += W) V::store(y + i, F(V::load(x + i)));
  if (i < n) {
    float buf[W] = {0};
    std::copy(x + i, x + n, buf);
    V::store(buf, F(V::load(buf)));
    std::copy(buf, buf + (n - i), y + i);
  }
}

// out = g * D(x), with the tail through padded vectors as in unary_f32.
template <typename V, typename V::R (*D)(typename V::R)>
AD_SIMD void grad_f32(const float* x, const float* g, float* out, int64_t n) {
  constexpr int W = V::W;
  int64_t i = 0;
  for (; i + W <= n; i += W) V::store(out + i, V::mul(V::load(g + i), D(V::load(x + i))));
  if (i < n) {
    float bx[W] = {0}, bg[W] = {0};
    std::copy(x + i, x + n, bx);
    std::copy(g + i, g + n, bg);
    V::store(bx, V::mul(V::load(bg), D(V::load(bx))));
    std::copy(bx, bx + (n - i), out + i);
  }
}

// GELU: x * Phi(x) = x (1 + erf(x / sqrt 2)) / 2, with 1 + erf taken as erfc(-x / sqrt 2)
// for x << 0 (no cancellation: M::gelu_cdf2); the tanh form x (1 + tanh(c (x + a x^3))) / 2.
constexpr float kRsqrt2Pi = 0.39894228040143268f;
constexpr float kTanhC = 0.79788456080286536f, kTanhA = 0.044715f;

template <typename V, typename M>
AD_SIMD_INLINE typename V::R gelu_v(typename V::R x) {
  return V::mul(V::mul(V::set1(0.5f), x), M::gelu_cdf2(x));
}
template <typename V>
AD_SIMD_INLINE typename V::R gelu_tanh_arg(typename V::R x) {
  const auto ax2 = V::mul(V::set1(kTanhA), V::mul(x, x));
  return V::mul(V::set1(kTanhC), V::fma(ax2, x, x));
}
template <typename V, typename M>
AD_SIMD_INLINE typename V::R gelu_tanh_v(typename V::R x) {
  const auto th = M::tanh(gelu_tanh_arg<V>(x));
  return V::mul(V::mul(V::set1(0.5f), x), V::add(V::set1(1.0f), th));
}
// d/dx: Phi(x) + x phi(x), and for the tanh form (1 + th) / 2 + x (1 - th^2) c (1 + 3a x^2) / 2.
template <typename V, typename M>
AD_SIMD_INLINE typename V::R gelu_d(typename V::R x) {
  typename V::R e;  // exp(-x^2 / 2), from the erf's own exp where the level shares it
  const auto cdf2 = M::gelu_parts(x, e);
  return V::fma(V::mul(x, V::set1(kRsqrt2Pi)), e, V::mul(V::set1(0.5f), cdf2));
}
template <typename V, typename M>
AD_SIMD_INLINE typename V::R gelu_tanh_d(typename V::R x) {
  const auto half = V::set1(0.5f), one = V::set1(1.0f);
  const auto th = M::tanh(gelu_tanh_arg<V>(x));
  const auto inner = V::fma(V::set1(3.0f * kTanhA), V::mul(x, x), one);
  const auto sech2 = V::fnma(th, th, one);
  const auto right = V::mul(V::mul(V::mul(half, x), sech2), V::mul(V::set1(kTanhC), inner));
  return V::fma(half, V::add(one, th), right);
}

// SiLU x sigmoid(x), and its derivative s (1 + x (1 - s)).
template <typename V, typename M>
AD_SIMD_INLINE typename V::R silu_v(typename V::R x) {
  return V::mul(x, M::sigmoid(x));
}
template <typename V, typename M>
AD_SIMD_INLINE typename V::R silu_d(typename V::R x) {
  const auto one = V::set1(1.0f), s = M::sigmoid(x);
  return V::mul(s, V::fma(x, V::sub(one, s), one));
}
// sign(x): +-1, 0 at +-0 and at NaN (as PyTorch's sgn, so abs'(NaN) = 0).
template <typename V>
AD_SIMD_INLINE typename V::R sign_d(typename V::R x) {
  const auto zero = V::zero();
  const auto pos = V::band(V::lt(zero, x), V::set1(1.0f));
  const auto neg = V::band(V::lt(x, zero), V::set1(-1.0f));
  return V::bor(pos, neg);
}

// log1p(z) for z >= 0 (or NaN) as log(u) z / (u - 1), u = 1 + z, where u - 1 is exact
// (within a few ulp of log's error); z itself where u rounds to 1, log(u) from z = 2^24 on
// (inf included).
template <typename V, typename M>
AD_SIMD_INLINE typename V::R log1p_nonneg(typename V::R z) {
  const auto one = V::set1(1.0f), u = V::add(one, z), d = V::sub(u, one), lu = M::log(u);
  const auto r = V::blend(z, V::mul(lu, V::div(z, d)), V::lt(V::zero(), d));
  return V::blend(r, lu, V::lt(V::set1(16777216.0f), u));
}
// expm1(t): for |t| < 1/2 its Taylor polynomial to t^8 / 8! (truncation below 1e-8 of the
// value), beyond it exp(t) - 1 (at most 2.6x exp's relative error, at t = 1/2); NaN stays.
template <typename V, typename M>
AD_SIMD_INLINE typename V::R expm1_v(typename V::R t) {
  auto p = V::set1(1.0f / 40320);
  for (const float c : {1.0f / 5040, 1.0f / 720, 1.0f / 120, 1.0f / 24, 1.0f / 6, 0.5f, 1.0f})
    p = V::fma(p, t, V::set1(c));
  const auto big = V::sub(M::exp(t), V::set1(1.0f));
  const auto at = V::max(V::sub(V::zero(), t), t);
  return V::blend(big, V::mul(p, t), V::lt(at, V::set1(0.5f)));
}

// The ActOp activations on vectors, as activation_ops.h's per element (blend(a, b, m) = m ?
// b : a; max / min return their second operand when it is NaN, so NaN stays).  M: the
// float32 math of the level (the transcendental ops are float32 only).
template <typename V>
AD_SIMD_INLINE typename V::R relu6_v(typename V::R t) {
  using T = typename V::T;
  return V::min(V::set1(T(6)), V::max(V::zero(), t));
}
// The shrinks' mask: x outside [-lambda, lambda] (NaN is not).
template <typename V>
AD_SIMD_INLINE typename V::R shrink_outside(typename V::R x, typename V::R lambda) {
  return V::bor(V::lt(x, V::sub(V::zero(), lambda)), V::lt(lambda, x));
}
template <typename V, typename M, ActOp Op>
AD_SIMD_INLINE typename V::R act_fwd_v(typename V::R x, typename V::R p0, typename V::R p1,
                                       typename V::R p2) {
  using T = typename V::T;
  const auto zero = V::zero();
  if constexpr (Op == ActOp::kLeakyRelu) return V::blend(V::mul(x, p0), x, V::lt(zero, x));
  if constexpr (Op == ActOp::kHuber) {
    const auto a = V::max(V::sub(zero, x), x), m = V::min(p0, a);  // (NaN: a, m NaN)
    return V::mul(V::mul(m, V::sub(a, V::mul(m, V::set1(T(0.5))))), p1);
  }
  if constexpr (Op == ActOp::kHardshrink)  // (NaN stays)
    return V::band(V::bor(shrink_outside<V>(x, p0), V::isnan(x)), x);
  if constexpr (Op == ActOp::kSoftshrink) {  // +0 between, NaN stays
    const auto lo = V::blend(V::band(V::isnan(x), x), V::add(x, p0), V::lt(x, V::sub(zero, p0)));
    return V::blend(lo, V::sub(x, p0), V::lt(p0, x));
  }
  if constexpr (Op == ActOp::kThreshold) return V::blend(p1, x, V::bor(V::lt(p0, x), V::isnan(x)));
  if constexpr (Op == ActOp::kSoftplus) {  // max(z, 0) + log1p(exp(-|z|)): no overflow
    const auto z = V::mul(x, p0), e = M::exp(V::sub(zero, V::max(V::sub(zero, z), z)));
    const auto sp = V::add(V::max(zero, z), log1p_nonneg<V, M>(e));
    return V::blend(V::div(sp, p0), x, V::lt(p1, z));
  }
  if constexpr (Op == ActOp::kLogSigmoid) {
    const auto e = M::exp(V::sub(zero, V::max(V::sub(zero, x), x)));  // exp(-|x|)
    return V::sub(V::min(zero, x), log1p_nonneg<V, M>(e));
  }
  if constexpr (Op == ActOp::kElu)
    return V::blend(V::mul(expm1_v<V, M>(V::mul(x, p2)), V::mul(p0, p1)), V::mul(x, p1),
                    V::lt(zero, x));
  if constexpr (Op == ActOp::kCube) return V::mul(V::mul(x, x), x);
  const auto r6 = relu6_v<V>(V::add(x, V::set1(T(3))));
  if constexpr (Op == ActOp::kHardsigmoid) return V::div(r6, V::set1(T(6)));
  return V::div(V::mul(x, r6), V::set1(T(6)));  // kHardswish
}
template <typename V, typename M, ActOp Op>
AD_SIMD_INLINE typename V::R act_bwd_v(typename V::R x, typename V::R g, typename V::R p0,
                                       typename V::R p1, typename V::R p2) {
  using T = typename V::T;
  const auto zero = V::zero(), one = V::set1(T(1));
  const auto three = V::set1(T(3)), mthree = V::set1(T(-3));
  if constexpr (Op == ActOp::kLeakyRelu) return V::blend(V::mul(g, p0), g, V::lt(zero, x));
  if constexpr (Op == ActOp::kHardtanh)  // g inside (lo, hi), else 0 (NaN too)
    return V::band(V::band(V::lt(p0, x), V::lt(x, p1)), g);
  if constexpr (Op == ActOp::kHardsigmoid)
    return V::band(V::band(V::lt(mthree, x), V::lt(x, three)), V::mul(g, V::set1(T(1) / T(6))));
  if constexpr (Op == ActOp::kHuber)  // clamp(d, -delta, delta): NaN stays
    return V::mul(V::mul(g, V::min(p0, V::max(V::sub(zero, p0), x))), p1);
  if constexpr (Op == ActOp::kHardshrink || Op == ActOp::kSoftshrink)
    return V::band(shrink_outside<V>(x, p0), g);
  if constexpr (Op == ActOp::kThreshold) return V::band(V::bor(V::lt(p0, x), V::isnan(x)), g);
  if constexpr (Op == ActOp::kSoftplus) {  // g sigmoid(z), from e = exp(-|z|)
    const auto z = V::mul(x, p0), e = M::exp(V::sub(zero, V::max(V::sub(zero, z), z)));
    const auto s = V::div(V::blend(e, one, V::lt(zero, z)), V::add(one, e));
    return V::blend(V::mul(g, s), g, V::lt(p1, z));
  }
  if constexpr (Op == ActOp::kLogSigmoid) {
    const auto z = M::exp(V::sub(zero, V::max(V::sub(zero, x), x)));
    const auto s = V::div(z, V::add(one, z));
    return V::mul(g, V::blend(s, V::sub(one, s), V::lt(x, zero)));
  }
  if constexpr (Op == ActOp::kElu) {
    const auto neg = V::mul(V::mul(V::mul(g, p2), V::mul(p0, p1)), M::exp(V::mul(x, p2)));
    return V::blend(neg, V::mul(g, p1), V::lt(zero, x));
  }
  if constexpr (Op == ActOp::kCube) return V::mul(g, V::mul(three, V::mul(x, x)));
  // kHardswish: g from 3 on, 0 to -3, g (x / 3 + 1/2) between and at NaN
  const auto mid = V::mul(g, V::add(V::div(x, three), V::set1(T(0.5))));
  const auto r = V::blend(g, mid, V::bor(V::lt(x, three), V::isnan(x)));
  return V::band(V::bor(V::lt(mthree, x), V::isnan(x)), r);
}

// The piecewise ops' tails are act::forward / act::backward per element; the
// transcendental ops' go through zero-padded vectors, as unary_f32.
template <typename V, typename M, ActOp Op, bool Bwd>
AD_SIMD void act_vec(const typename V::T* x, const typename V::T* g, typename V::T* out,
                     int64_t n, const typename V::T* p) {
  using T = typename V::T;
  constexpr int W = V::W;
  const auto p0 = V::set1(p[0]), p1 = V::set1(p[1]), p2 = V::set1(p[2]);
  auto step = [&](const T* xp, const T* gp, T* op) AD_SIMD_INLINE_LAMBDA {
    const auto xv = V::load(xp);
    if constexpr (Bwd)
      V::store(op, act_bwd_v<V, M, Op>(xv, V::load(gp), p0, p1, p2));
    else
      V::store(op, act_fwd_v<V, M, Op>(xv, p0, p1, p2));
  };
  int64_t i = 0;
  for (; i + W <= n; i += W) step(x + i, Bwd ? g + i : nullptr, out + i);
  if (i == n) return;
  if constexpr (act_is_transcendental(Op)) {
    alignas(64) T bx[W] = {0}, bg[W] = {0};
    std::copy(x + i, x + n, bx);
    if constexpr (Bwd) std::copy(g + i, g + n, bg);
    step(bx, bg, bx);
    std::copy(bx, bx + (n - i), out + i);
  } else {
    for (; i < n; ++i)
      out[i] = Bwd ? act::backward<Op>(x[i], g[i], p) : act::forward<Op>(x[i], p);
  }
}

template <typename V, typename M, ActOp Op>
void set_act_vec(KernelTable<typename V::T>& t) {
  if constexpr (Op != ActOp::kHardtanh) t.act[int(Op)] = act_vec<V, M, Op, false>;
  t.act_bwd[int(Op)] = act_vec<V, M, Op, true>;
}

// Vec: the ISA's Vec template; M: its float32 math (exp, log, tanh, sigmoid, erf,
// gelu_cdf2, gelu_parts, sqrt on Vec<float>::R).
template <template <typename> class Vec, typename M, typename T>
void fill_elementwise_vec(KernelTable<T>& t) {
  using V = Vec<T>;
  t.binary[int(BinaryOp::kAdd)] = binary_vec<V, T, AddOp, false>;
  t.binary[int(BinaryOp::kSub)] = binary_vec<V, T, SubOp, false>;
  t.binary[int(BinaryOp::kMul)] = binary_vec<V, T, MulOp, false>;
  t.binary[int(BinaryOp::kDiv)] = binary_vec<V, T, DivOp, false>;
  t.binary[int(BinaryOp::kReluBwd)] = binary_vec<V, T, ReluBwdOp, false>;
  t.binary_stream[int(BinaryOp::kAdd)] = binary_vec<V, T, AddOp, true>;
  t.binary_stream[int(BinaryOp::kSub)] = binary_vec<V, T, SubOp, true>;
  t.binary_stream[int(BinaryOp::kMul)] = binary_vec<V, T, MulOp, true>;
  t.binary_stream[int(BinaryOp::kDiv)] = binary_vec<V, T, DivOp, true>;
  t.binary_stream[int(BinaryOp::kReluBwd)] = binary_vec<V, T, ReluBwdOp, true>;
  t.binary[int(BinaryOp::kFmod)] = t.binary_stream[int(BinaryOp::kFmod)] = fmod_vec<V, T, false>;
  t.binary[int(BinaryOp::kRemainder)] = t.binary_stream[int(BinaryOp::kRemainder)] =
      fmod_vec<V, T, true>;
  t.unary[int(UnaryOp::kRelu)] = relu_vec<V, T>;
  t.unary[int(UnaryOp::kAbs)] = abs_vec<V, T>;
  t.clamp = clamp_vec<V, T>;
  t.lerp = lerp_vec<V, T>;
  set_act_vec<V, M, ActOp::kLeakyRelu>(t);
  set_act_vec<V, M, ActOp::kHardtanh>(t);
  set_act_vec<V, M, ActOp::kHardsigmoid>(t);
  set_act_vec<V, M, ActOp::kHardswish>(t);
  set_act_vec<V, M, ActOp::kHuber>(t);
  set_act_vec<V, M, ActOp::kHardshrink>(t);
  set_act_vec<V, M, ActOp::kSoftshrink>(t);
  set_act_vec<V, M, ActOp::kThreshold>(t);
  set_act_vec<V, M, ActOp::kCube>(t);
  if constexpr (std::is_same_v<T, float>) {  // (float64 math: the scalar table's libm loops)
    set_act_vec<V, M, ActOp::kSoftplus>(t);
    set_act_vec<V, M, ActOp::kLogSigmoid>(t);
    set_act_vec<V, M, ActOp::kElu>(t);
    t.unary[int(UnaryOp::kExp)] = unary_f32<V, M::exp>;
    t.unary[int(UnaryOp::kLog)] = unary_f32<V, M::log>;
    t.unary[int(UnaryOp::kTanh)] = unary_f32<V, M::tanh>;
    t.unary[int(UnaryOp::kSigmoid)] = unary_f32<V, M::sigmoid>;
    t.unary[int(UnaryOp::kErf)] = unary_f32<V, M::erf>;
    t.unary[int(UnaryOp::kSqrt)] = unary_f32<V, M::sqrt>;
    t.unary[int(UnaryOp::kGelu)] = unary_f32<V, gelu_v<V, M>>;
    t.unary[int(UnaryOp::kGeluTanh)] = unary_f32<V, gelu_tanh_v<V, M>>;
    t.unary[int(UnaryOp::kSilu)] = unary_f32<V, silu_v<V, M>>;
    t.grad[int(GradOp::kGelu)] = grad_f32<V, gelu_d<V, M>>;
    t.grad[int(GradOp::kGeluTanh)] = grad_f32<V, gelu_tanh_d<V, M>>;
    t.grad[int(GradOp::kSilu)] = grad_f32<V, silu_d<V, M>>;
    t.grad[int(GradOp::kAbs)] = grad_f32<V, sign_d<V>>;
  }
}

}  // namespace autodiff::kernels::vec_kernels
