// Softmax and log-softmax over the last axis of a contiguous (rows, n) array, forward and
// backward. One block per row (grid-stride over rows), any n: each thread walks the row with
// stride blockDim.x, so loads are coalesced; statistics are reduced with warp shuffles.
//   forward : one pass for (max, sum exp) online, one pass to write y      (2 reads, 1 write)
//   backward: one pass for the row dot product, one pass to write dx       (4 reads, 1 write)
#include "common.cuh"

// y = exp(x - m) / s  (LOG: y = x - m - log s)
template <typename T, bool LOG>
__global__ void softmax_forward(const T* __restrict__ x, T* __restrict__ y, index_t rows,
                                index_t n) {
  __shared__ T mbuf[AD_WARP], sbuf[AD_WARP];
  for (index_t row = blockIdx.x; row < rows; row += gridDim.x) {
    const T* xr = x + row * n;
    T* yr = y + row * n;
    T m = ad_neg_inf<T>(), s = T(0);
    for (index_t i = threadIdx.x; i < n; i += blockDim.x) maxsum_push(m, s, xr[i]);
    block_maxsum(m, s, mbuf, sbuf);
    if (LOG) {
      const T shift = m + ad_log(s);
      for (index_t i = threadIdx.x; i < n; i += blockDim.x) yr[i] = xr[i] - shift;
    } else {
      const T inv = T(1) / s;
      for (index_t i = threadIdx.x; i < n; i += blockDim.x) yr[i] = ad_exp(xr[i] - m) * inv;
    }
  }
}

// softmax:     dx = y * (gy - sum(gy * y))
// log_softmax: dx = gy - exp(y) * sum(gy)
template <typename T, bool LOG>
__global__ void softmax_backward(const T* __restrict__ y, const T* __restrict__ gy,
                                 T* __restrict__ gx, index_t rows, index_t n) {
  __shared__ T buf[AD_WARP];
  for (index_t row = blockIdx.x; row < rows; row += gridDim.x) {
    const T* yr = y + row * n;
    const T* gr = gy + row * n;
    T* out = gx + row * n;
    T acc = T(0);
    for (index_t i = threadIdx.x; i < n; i += blockDim.x) acc += LOG ? gr[i] : gr[i] * yr[i];
    acc = block_sum(acc, buf);
    for (index_t i = threadIdx.x; i < n; i += blockDim.x) {
      out[i] = LOG ? gr[i] - ad_exp(yr[i]) * acc : yr[i] * (gr[i] - acc);
    }
  }
}
