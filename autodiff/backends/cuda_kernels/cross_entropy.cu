// Cross-entropy from logits over the last axis of a contiguous (rows, C) array with integer
// targets (int64), fused: the softmax is never materialized in the forward.
//   forward : loss[r] = (m_r - x_r[t_r]) + l_r  (0 where t_r == ignore_index, NaN where t_r
//             is out of range), m_r the row max (0 where not finite) and
//             l_r = log(sum_j exp(x_rj - m_r)), both saved as stats[r] = (m_r, l_r) for the
//             backward: lse = m + l rounded to T loses l once |m| dwarfs it (logits offset
//             by 1e6). One read of the logits.
//   backward: dx[r, j] = gloss[r] * (exp((x_rj - m_r) - l_r) - [j == t_r]), 0 on ignored rows.
#include "common.cuh"

template <typename T>
__global__ void cross_entropy_forward(const T* __restrict__ x, const long long* __restrict__ t,
                                      T* __restrict__ loss, T* __restrict__ stats,
                                      index_t rows, index_t C, long long ignore_index) {
  __shared__ T mbuf[AD_WARP], sbuf[AD_WARP];
  for (index_t row = blockIdx.x; row < rows; row += gridDim.x) {
    const T* xr = x + row * C;
    T m = ad_neg_inf<T>(), s = T(0);
    for (index_t i = threadIdx.x; i < C; i += blockDim.x) maxsum_push(m, s, xr[i]);
    block_maxsum(m, s, mbuf, sbuf);
    if (threadIdx.x == 0) {
      // a non-finite max is shifted by 0, as the reference: +inf -> l = +inf, -inf -> log(s)
      const bool finite = m > ad_neg_inf<T>() && m < -ad_neg_inf<T>();
      const T l = finite ? ad_log(s) : (m > T(0) ? m : ad_log(s));
      if (!finite) m = T(0);
      const long long tr = t[row];
      stats[2 * row] = m;
      stats[2 * row + 1] = l;
      if (tr == ignore_index) {
        loss[row] = T(0);
      } else if (tr < 0 || tr >= C) {
        loss[row] = ad_nan<T>();
      } else {
        loss[row] = (m - xr[tr]) + l;
      }
    }
  }
}

template <typename T>
__global__ void cross_entropy_backward(const T* __restrict__ x, const long long* __restrict__ t,
                                       const T* __restrict__ stats, const T* __restrict__ gloss,
                                       T* __restrict__ gx, index_t rows, index_t C,
                                       long long ignore_index) {
  for (index_t row = blockIdx.x; row < rows; row += gridDim.x) {
    const T* xr = x + row * C;
    T* out = gx + row * C;
    const long long tr = t[row];
    const bool ignored = tr == ignore_index;
    const T g = ignored ? T(0) : gloss[row];
    const T m = stats[2 * row], l = stats[2 * row + 1];
    for (index_t i = threadIdx.x; i < C; i += blockDim.x) {
      out[i] = ignored ? T(0) : g * (ad_exp((xr[i] - m) - l) - (i == tr ? T(1) : T(0)));
    }
  }
}
