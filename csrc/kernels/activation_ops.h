// The piecewise activations of ActOp, one element at a time (the scalar kernels, and the
// vector kernels' tails), with the conditions of PyTorch's vectorised CPU kernels (its
// scalar tails differ at NaN for hardtanh, hardswish and the shrinks' backward, and at -0
// for softshrink): where a comparison with NaN is
// false decides the branch, as there.  p: the op's parameters.
#pragma once

#include <cmath>

#include "kernels/kernels.h"

namespace autodiff::kernels::act {

template <typename T>
inline T relu6_of(T t) {  // min(max(t, 0), 6), NaN stays
  t = t < T(0) ? T(0) : t;
  return t > T(6) ? T(6) : t;
}

template <ActOp Op, typename T>
inline T forward(T x, const T* p) {
  if constexpr (Op == ActOp::kLeakyRelu) return x > T(0) ? x : x * p[0];
  if constexpr (Op == ActOp::kHardsigmoid) return relu6_of(x + T(3)) / T(6);
  if constexpr (Op == ActOp::kHardswish) return x * relu6_of(x + T(3)) / T(6);
  if constexpr (Op == ActOp::kHuber) {  // m (|d| - m / 2), m = min(|d|, delta); NaN stays
    const T a = x < T(0) ? -x : x, m = a > p[0] ? p[0] : a;
    return m * (a - m * T(0.5)) * p[1];
  }
  if constexpr (Op == ActOp::kHardshrink) return x >= -p[0] && x <= p[0] ? T(0) : x;
  if constexpr (Op == ActOp::kSoftshrink)  // (+0 between, NaN stays)
    return x > p[0] ? x - p[0] : x < -p[0] ? x + p[0] : x != x ? x : T(0);
  if constexpr (Op == ActOp::kThreshold) return x <= p[0] ? p[1] : x;
  if constexpr (Op == ActOp::kSoftplus) {  // log1p(exp(z)) / beta (z = beta x), x past the
    const T z = x * p[0];                   // threshold; as max(z, 0) + log1p(exp(-|z|))
    return z > p[1] ? x : ((z > T(0) ? z : T(0)) + std::log1p(std::exp(-std::abs(z)))) / p[0];
  }
  if constexpr (Op == ActOp::kLogSigmoid)  // min(x, 0) - log1p(exp(-|x|))
    return (x < T(0) ? x : T(0)) - std::log1p(std::exp(-std::abs(x)));
  if constexpr (Op == ActOp::kElu)  // x > 0: scale x, else expm1(input_scale x) alpha scale
    return x > T(0) ? x * p[1] : std::expm1(x * p[2]) * (p[0] * p[1]);
  if constexpr (Op == ActOp::kCube) return x * x * x;
  return x;  // kHardtanh: clamp
}

template <ActOp Op, typename T>
inline T backward(T x, T g, const T* p) {
  if constexpr (Op == ActOp::kLeakyRelu) return x > T(0) ? g : g * p[0];
  if constexpr (Op == ActOp::kHardtanh) return x > p[0] && x < p[1] ? g : T(0);
  if constexpr (Op == ActOp::kHardsigmoid) return x > T(-3) && x < T(3) ? g * (T(1) / T(6)) : T(0);
  if constexpr (Op == ActOp::kHardswish)  // (NaN: g (NaN / 3 + 1/2))
    return x >= T(3) ? g : x <= T(-3) ? T(0) : g * (x / T(3) + T(0.5));
  if constexpr (Op == ActOp::kHuber)  // g clamp(d, -delta, delta) (NaN stays)
    return g * (x < -p[0] ? -p[0] : x > p[0] ? p[0] : x) * p[1];
  if constexpr (Op == ActOp::kHardshrink || Op == ActOp::kSoftshrink)  // (NaN: 0)
    return x < -p[0] || x > p[0] ? g : T(0);
  if constexpr (Op == ActOp::kThreshold) return x <= p[0] ? T(0) : g;
  if constexpr (Op == ActOp::kSoftplus) {  // g sigmoid(z), from e = exp(-|z|)
    const T z = x * p[0], e = std::exp(-std::abs(z));
    return z > p[1] ? g : g * ((z > T(0) ? T(1) : e) / (T(1) + e));
  }
  if constexpr (Op == ActOp::kLogSigmoid) {  // g (x < 0 ? 1 - s : s), s = z / (1 + z)
    const T z = std::exp(-std::abs(x)), s = z / (T(1) + z);
    return x < T(0) ? g * (T(1) - s) : g * (T(0) + s);
  }
  if constexpr (Op == ActOp::kElu)  // g input_scale alpha scale exp(input_scale x)
    return x > T(0) ? g * p[1] : g * p[2] * (p[0] * p[1]) * std::exp(x * p[2]);
  if constexpr (Op == ActOp::kCube) return g * (T(3) * (x * x));  // g (3 x ** 2), PyTorch's order
  return g;
}

}  // namespace autodiff::kernels::act
