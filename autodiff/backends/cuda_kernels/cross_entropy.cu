// Cross-entropy from logits over the last axis of a contiguous (rows, C) array with integer
// targets (int64), fused: the softmax is never materialized in the forward.
//   forward : loss[r] = logsumexp(x_r) - x_r[t_r]  (0 where t_r == ignore_index, NaN where
//             t_r is out of range), lse[r] saved for the backward. One read of the logits.
//   backward: dx[r, j] = gloss[r] * (exp(x_rj - lse_r) - [j == t_r]), 0 on ignored rows.
#include "common.cuh"

template <typename T>
__global__ void cross_entropy_forward(const T* __restrict__ x, const long long* __restrict__ t,
                                      T* __restrict__ loss, T* __restrict__ lse_out,
                                      index_t rows, index_t C, long long ignore_index) {
  __shared__ T mbuf[AD_WARP], sbuf[AD_WARP];
  for (index_t row = blockIdx.x; row < rows; row += gridDim.x) {
    const T* xr = x + row * C;
    T m = ad_neg_inf<T>(), s = T(0);
    for (index_t i = threadIdx.x; i < C; i += blockDim.x) maxsum_push(m, s, xr[i]);
    block_maxsum(m, s, mbuf, sbuf);
    if (threadIdx.x == 0) {
      const T lse = m + ad_log(s);
      const long long tr = t[row];
      lse_out[row] = lse;
      if (tr == ignore_index) {
        loss[row] = T(0);
      } else if (tr < 0 || tr >= C) {
        loss[row] = ad_nan<T>();
      } else {
        loss[row] = lse - xr[tr];
      }
    }
  }
}

template <typename T>
__global__ void cross_entropy_backward(const T* __restrict__ x, const long long* __restrict__ t,
                                       const T* __restrict__ lse, const T* __restrict__ gloss,
                                       T* __restrict__ gx, index_t rows, index_t C,
                                       long long ignore_index) {
  for (index_t row = blockIdx.x; row < rows; row += gridDim.x) {
    const T* xr = x + row * C;
    T* out = gx + row * C;
    const long long tr = t[row];
    const bool ignored = tr == ignore_index;
    const T g = ignored ? T(0) : gloss[row];
    const T l = lse[row];
    for (index_t i = threadIdx.x; i < C; i += blockDim.x) {
      out[i] = ignored ? T(0) : g * (ad_exp(xr[i] - l) - (i == tr ? T(1) : T(0)));
    }
  }
}
