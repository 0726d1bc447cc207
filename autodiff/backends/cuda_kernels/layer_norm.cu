// Layer norm over the last n elements of a contiguous (rows, n) array.
//   forward        : Welford (mean, var) in one pass, one pass to write y; saves mean, rstd
//   backward_input : one pass for sum(g) and sum(g * xhat) (g = gy * w), one pass to write gx
//   backward_params: column sums of gy * xhat and gy over row chunks -> (chunks, n) partials,
//                    which the launcher sums over chunks (a tiny second reduction)
#include "common.cuh"

template <typename T>
__global__ void layer_norm_forward(const T* __restrict__ x, const T* __restrict__ w,
                                   const T* __restrict__ b, T* __restrict__ y,
                                   T* __restrict__ mean_out, T* __restrict__ rstd_out,
                                   index_t rows, index_t n, T eps, int has_w, int has_b) {
  __shared__ T buf[3 * AD_WARP];
  for (index_t row = blockIdx.x; row < rows; row += gridDim.x) {
    const T* xr = x + row * n;
    T* yr = y + row * n;
    T cnt = T(0), mean = T(0), m2 = T(0);
    for (index_t i = threadIdx.x; i < n; i += blockDim.x) welford_push(cnt, mean, m2, xr[i]);
    block_welford(cnt, mean, m2, buf);
    const T rstd = ad_rsqrt(m2 / T(n) + eps);
    if (threadIdx.x == 0) {
      mean_out[row] = mean;
      rstd_out[row] = rstd;
    }
    for (index_t i = threadIdx.x; i < n; i += blockDim.x) {
      T v = (xr[i] - mean) * rstd;
      if (has_w) v *= w[i];
      if (has_b) v += b[i];
      yr[i] = v;
    }
  }
}

// gx = rstd * (g - mean(g) - xhat * mean(g * xhat)),  g = gy * w,  xhat = (x - mean) * rstd
template <typename T>
__global__ void layer_norm_backward_input(const T* __restrict__ gy, const T* __restrict__ x,
                                          const T* __restrict__ w, const T* __restrict__ mean,
                                          const T* __restrict__ rstd, T* __restrict__ gx,
                                          index_t rows, index_t n, int has_w) {
  __shared__ T buf[AD_WARP];
  for (index_t row = blockIdx.x; row < rows; row += gridDim.x) {
    const T* gr = gy + row * n;
    const T* xr = x + row * n;
    T* out = gx + row * n;
    const T mu = mean[row], rs = rstd[row];
    T sg = T(0), sgx = T(0);
    for (index_t i = threadIdx.x; i < n; i += blockDim.x) {
      const T g = has_w ? gr[i] * w[i] : gr[i];
      sg += g;
      sgx += g * (xr[i] - mu) * rs;
    }
    sg = block_sum(sg, buf) / T(n);
    sgx = block_sum(sgx, buf) / T(n);
    for (index_t i = threadIdx.x; i < n; i += blockDim.x) {
      const T g = has_w ? gr[i] * w[i] : gr[i];
      out[i] = rs * (g - sg - (xr[i] - mu) * rs * sgx);
    }
  }
}

// Block (32, 8): 32 adjacent columns (coalesced), 8 row lanes; blockIdx.y = row chunk.
// gw_part[chunk, c] = sum_rows gy * xhat,  gb_part[chunk, c] = sum_rows gy
template <typename T>
__global__ void layer_norm_backward_params(const T* __restrict__ gy, const T* __restrict__ x,
                                           const T* __restrict__ mean,
                                           const T* __restrict__ rstd, T* __restrict__ gw_part,
                                           T* __restrict__ gb_part, index_t rows, index_t n,
                                           index_t rows_per_chunk) {
  __shared__ T sw[8][AD_WARP + 1], sb[8][AD_WARP + 1];
  const index_t c = (index_t)blockIdx.x * AD_WARP + threadIdx.x;
  const index_t r0 = (index_t)blockIdx.y * rows_per_chunk;
  const index_t r1 = min(rows, r0 + rows_per_chunk);
  T aw = T(0), ab = T(0);
  if (c < n) {
    for (index_t r = r0 + threadIdx.y; r < r1; r += blockDim.y) {
      const T g = gy[r * n + c];
      aw += g * (x[r * n + c] - mean[r]) * rstd[r];
      ab += g;
    }
  }
  sw[threadIdx.y][threadIdx.x] = aw;
  sb[threadIdx.y][threadIdx.x] = ab;
  __syncthreads();
  if (threadIdx.y == 0 && c < n) {
    for (int k = 1; k < blockDim.y; ++k) {
      aw += sw[k][threadIdx.x];
      ab += sb[k][threadIdx.x];
    }
    gw_part[(index_t)blockIdx.y * n + c] = aw;
    gb_part[(index_t)blockIdx.y * n + c] = ab;
  }
}
