// Special functions and fused pointwise ops without a SIMD table entry: plain loops the
// compiler vectorises.
#pragma once

#include <cstdint>

namespace autodiff::kernels {

// out[i] = erfinv(y[i]) for float32 y: Acklam's rational approximation of the normal quantile
// in float64 (relative error below 1.2e-9, so within an ulp of the float32 result) -- the
// NumPy backend's _erfinv_single in one threaded pass; +-inf at +-1, NaN beyond and at NaN.
void erfinv_f32(const float* y, float* out, int64_t n);

// out = x + (a * b) * v (div: (a / b) * v), the scaling skipped when v == 1, each step rounded
// to T as NumPy's ufunc sequence rounds it (addcmul / addcdiv); contiguous operands of n
// elements.  Threaded.
template <typename T>
void addc(const T* x, const T* a, const T* b, T v, bool div, T* out, int64_t n);

}  // namespace autodiff::kernels
