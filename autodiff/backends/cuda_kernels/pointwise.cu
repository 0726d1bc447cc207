// Pointwise activations and their gradients, each one pass over contiguous arrays of n
// elements (CuPy's composites of them take 3-8 launches and as many temporaries).
// `mode` picks a variant: gelu 0 = erf form, 1 = tanh approximation; output_backward (the
// gradient from the op's output y) 0 = sigmoid, 1 = tanh, 2 = sqrt.
#include "common.cuh"

__device__ __forceinline__ float ad_erf(float x) { return erff(x); }
__device__ __forceinline__ double ad_erf(double x) { return erf(x); }
__device__ __forceinline__ float ad_tanh(float x) { return tanhf(x); }
__device__ __forceinline__ double ad_tanh(double x) { return tanh(x); }

template <typename T> __device__ __forceinline__ T ad_sigmoid(T x) {
  return T(1) / (T(1) + ad_exp(-x));
}

#define AD_POINTWISE_LOOP \
  for (index_t i = blockIdx.x * (index_t)blockDim.x + threadIdx.x; i < n; \
       i += (index_t)gridDim.x * blockDim.x)

template <typename T>
__global__ void erf_forward(const T* __restrict__ x, T* __restrict__ y, index_t n, int mode) {
  AD_POINTWISE_LOOP y[i] = ad_erf(x[i]);
}

template <typename T>
__global__ void sigmoid_forward(const T* __restrict__ x, T* __restrict__ y, index_t n,
                                int mode) {
  AD_POINTWISE_LOOP y[i] = ad_sigmoid(x[i]);
}

template <typename T>
__global__ void silu_forward(const T* __restrict__ x, T* __restrict__ y, index_t n, int mode) {
  AD_POINTWISE_LOOP y[i] = x[i] * ad_sigmoid(x[i]);
}

template <typename T>
__global__ void silu_backward(const T* __restrict__ x, const T* __restrict__ g,
                              T* __restrict__ gx, index_t n, int mode) {
  AD_POINTWISE_LOOP {
    const T s = ad_sigmoid(x[i]);
    gx[i] = g[i] * (s * (T(1) + x[i] * (T(1) - s)));
  }
}

// tanh form: c = sqrt(2 / pi), inner = c (x + 0.044715 x^3)
template <typename T>
__global__ void gelu_forward(const T* __restrict__ x, T* __restrict__ y, index_t n, int mode) {
  AD_POINTWISE_LOOP {
    const T v = x[i];
    if (mode) {
      const T inner = T(0.7978845608028654) * (v + T(0.044715) * v * v * v);
      y[i] = T(0.5) * v * (T(1) + ad_tanh(inner));
    } else {
      y[i] = T(0.5) * v * (T(1) + ad_erf(v * T(0.7071067811865476)));
    }
  }
}

template <typename T>
__global__ void gelu_backward(const T* __restrict__ x, const T* __restrict__ g,
                              T* __restrict__ gx, index_t n, int mode) {
  AD_POINTWISE_LOOP {
    const T v = x[i];
    T d;
    if (mode) {
      const T c = T(0.7978845608028654);
      const T th = ad_tanh(c * (v + T(0.044715) * v * v * v));
      d = T(0.5) * (T(1) + th) + T(0.5) * v * (T(1) - th * th) * c * (T(1) + T(0.134145) * v * v);
    } else {  // Phi(x) + x phi(x)
      d = T(0.5) * (T(1) + ad_erf(v * T(0.7071067811865476)))
          + v * ad_exp(T(-0.5) * v * v) * T(0.3989422804014327);
    }
    gx[i] = g[i] * d;
  }
}

template <typename T>
__global__ void output_backward(const T* __restrict__ y, const T* __restrict__ g,
                                T* __restrict__ gx, index_t n, int mode) {
  AD_POINTWISE_LOOP {
    const T v = y[i];
    gx[i] = mode == 0 ? g[i] * v * (T(1) - v) : mode == 1 ? g[i] * (T(1) - v * v)
                                                          : g[i] / (T(2) * v);
  }
}
