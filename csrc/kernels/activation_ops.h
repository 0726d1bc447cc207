// The piecewise activations of ActOp, one element at a time (the scalar kernels, and the
// vector kernels' tails), with the conditions of PyTorch's vectorised CPU kernels (its
// scalar tails differ at NaN for hardtanh and hardswish): where a comparison with NaN is
// false decides the branch, as there.  p: the op's parameters.
#pragma once

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
  return g;
}

}  // namespace autodiff::kernels::act
