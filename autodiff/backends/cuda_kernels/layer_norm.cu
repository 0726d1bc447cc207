// Layer norm over the last n elements of a contiguous (rows, n) array.
//   forward        : mean, then variance around it, then y; saves mean, rstd
//   backward_input : one pass for sum(g) and sum(g * xhat) (g = gy * w), one pass to write gx
//   backward_params: column sums of gy * xhat and gy over row chunks -> (chunks, n) partials,
//                    which the launcher sums over chunks (a tiny second reduction)
#include "common.cuh"

// Forward and backward_input walk a row in 16-byte packs and, with CACHE, keep what the
// later passes need in shared memory (see softmax.cu: the same scheme, thread-private cache).
//   forward       : sum; sum of (x - mean)^2 (two passes: exact, unlike a one-pass variance);
//                   write y = (x - mean) * rstd * w + b
//   backward_input: g = gy * w and xhat; sum(g), sum(g * xhat); write gx
template <typename T, bool CACHE, int N>
__device__ __forceinline__ void layer_norm_forward_row(
    const T* __restrict__ xr, const T* __restrict__ w, const T* __restrict__ b,
    T* __restrict__ yr, T* __restrict__ mean_out, T* __restrict__ rstd_out, index_t n, T eps,
    int has_w, int has_b, T* cache, T* buf) {
  typedef Pack<T, N> P;
  const index_t packs = n / N;
  const P* xp = reinterpret_cast<const P*>(xr);
  P* cp = reinterpret_cast<P*>(cache);
  T sum = T(0);
#pragma unroll 4
  for (index_t i = threadIdx.x; i < packs; i += blockDim.x) {
    const P v = xp[i];
    if (CACHE) cp[i] = v;
#pragma unroll
    for (int k = 0; k < N; ++k) sum += v.v[k];
  }
  const T mean = block_sum(sum, buf) / T(n);
  const P* src = CACHE ? cp : xp;
  T sq = T(0);
#pragma unroll 4
  for (index_t i = threadIdx.x; i < packs; i += blockDim.x) {
    const P v = src[i];
#pragma unroll
    for (int k = 0; k < N; ++k) {
      const T d = v.v[k] - mean;
      sq += d * d;
    }
  }
  const T rstd = ad_rsqrt(block_sum(sq, buf) / T(n) + eps);
  if (threadIdx.x == 0) {
    *mean_out = mean;
    *rstd_out = rstd;
  }
  const P* wp = reinterpret_cast<const P*>(w);
  const P* bp = reinterpret_cast<const P*>(b);
  P* yp = reinterpret_cast<P*>(yr);
#pragma unroll 4
  for (index_t i = threadIdx.x; i < packs; i += blockDim.x) {
    P v = src[i];
#pragma unroll
    for (int k = 0; k < N; ++k) v.v[k] = (v.v[k] - mean) * rstd;
    if (has_w) {
      const P wv = wp[i];
#pragma unroll
      for (int k = 0; k < N; ++k) v.v[k] *= wv.v[k];
    }
    if (has_b) {
      const P bv = bp[i];
#pragma unroll
      for (int k = 0; k < N; ++k) v.v[k] += bv.v[k];
    }
    yp[i] = v;
  }
}

template <typename T, bool CACHE>
__global__ void layer_norm_forward(const T* __restrict__ x, const T* __restrict__ w,
                                   const T* __restrict__ b, T* __restrict__ y,
                                   T* __restrict__ mean_out, T* __restrict__ rstd_out,
                                   index_t rows, index_t n, T eps, int has_w, int has_b) {
  __shared__ T buf[AD_WARP];
  T* cache = CACHE ? ad_dynamic_smem<T>() : nullptr;
  const int W = Wide<T>::N;
  const bool wide = n % W == 0 && ad_aligned16(x) && ad_aligned16(y) && ad_aligned16(w) &&
                    ad_aligned16(b);
  for (index_t row = blockIdx.x; row < rows; row += gridDim.x) {
    const index_t off = row * n;
    if (wide) {
      layer_norm_forward_row<T, CACHE, W>(x + off, w, b, y + off, mean_out + row,
                                          rstd_out + row, n, eps, has_w, has_b, cache, buf);
    } else {
      layer_norm_forward_row<T, CACHE, 1>(x + off, w, b, y + off, mean_out + row,
                                          rstd_out + row, n, eps, has_w, has_b, cache, buf);
    }
  }
}

// gx = rstd * (g - mean(g) - xhat * mean(g * xhat)),  g = gy * w,  xhat = (x - mean) * rstd
// PARAMS: also add gy * xhat and gy into the block's per-column sums acc_w, acc_b (shared
// memory, thread-private like the cache), the weight and bias gradients' partials.
template <typename T, bool CACHE, bool PARAMS, int N>
__device__ __forceinline__ void layer_norm_backward_input_row(
    const T* __restrict__ gr, const T* __restrict__ xr, const T* __restrict__ w,
    T* __restrict__ out, T mu, T rs, index_t n, int has_w, T* cache, T* acc, T* buf) {
  typedef Pack<T, N> P;
  const index_t packs = n / N;
  const P* gp = reinterpret_cast<const P*>(gr);
  const P* xp = reinterpret_cast<const P*>(xr);
  const P* wp = reinterpret_cast<const P*>(w);
  P* cg = reinterpret_cast<P*>(cache);
  P* ch = cg + packs;
  P* aw = reinterpret_cast<P*>(acc);
  P* ab = aw + packs;
  T sg = T(0), sgx = T(0);
#pragma unroll 4
  for (index_t i = threadIdx.x; i < packs; i += blockDim.x) {
    P g = gp[i], h = xp[i];
#pragma unroll
    for (int k = 0; k < N; ++k) h.v[k] = (h.v[k] - mu) * rs;
    if (PARAMS) {
      P a = aw[i], c = ab[i];
#pragma unroll
      for (int k = 0; k < N; ++k) {
        a.v[k] += g.v[k] * h.v[k];
        c.v[k] += g.v[k];
      }
      aw[i] = a;
      ab[i] = c;
    }
    if (has_w) {
      const P wv = wp[i];
#pragma unroll
      for (int k = 0; k < N; ++k) g.v[k] *= wv.v[k];
    }
#pragma unroll
    for (int k = 0; k < N; ++k) {
      sg += g.v[k];
      sgx += g.v[k] * h.v[k];
    }
    if (CACHE) { cg[i] = g; ch[i] = h; }
  }
  block_sum2(sg, sgx, buf);
  sg /= T(n);
  sgx /= T(n);
  P* op = reinterpret_cast<P*>(out);
#pragma unroll 4
  for (index_t i = threadIdx.x; i < packs; i += blockDim.x) {
    P g, h;
    if (CACHE) {
      g = cg[i];
      h = ch[i];
    } else {
      g = gp[i];
      h = xp[i];
      if (has_w) {
        const P wv = wp[i];
#pragma unroll
        for (int k = 0; k < N; ++k) g.v[k] *= wv.v[k];
      }
#pragma unroll
      for (int k = 0; k < N; ++k) h.v[k] = (h.v[k] - mu) * rs;
    }
    P o;
#pragma unroll
    for (int k = 0; k < N; ++k) o.v[k] = rs * (g.v[k] - sg - h.v[k] * sgx);
    op[i] = o;
  }
}

// Every row of the grid-stride loop through layer_norm_backward_input_row, in packs when
// every pointer allows.
template <typename T, bool CACHE, bool PARAMS>
__device__ __forceinline__ void layer_norm_backward_rows(
    const T* __restrict__ gy, const T* __restrict__ x, const T* __restrict__ w,
    const T* __restrict__ mean, const T* __restrict__ rstd, T* __restrict__ gx, index_t rows,
    index_t n, int has_w, T* cache, T* acc, T* buf) {
  const int W = Wide<T>::N;
  const bool wide = n % W == 0 && ad_aligned16(gy) && ad_aligned16(x) && ad_aligned16(w) &&
                    ad_aligned16(gx);
  for (index_t row = blockIdx.x; row < rows; row += gridDim.x) {
    const index_t off = row * n;
    if (wide) {
      layer_norm_backward_input_row<T, CACHE, PARAMS, W>(gy + off, x + off, w, gx + off,
                                                         mean[row], rstd[row], n, has_w, cache,
                                                         acc, buf);
    } else {
      layer_norm_backward_input_row<T, CACHE, PARAMS, 1>(gy + off, x + off, w, gx + off,
                                                         mean[row], rstd[row], n, has_w, cache,
                                                         acc, buf);
    }
  }
}

template <typename T, bool CACHE>
__global__ void layer_norm_backward_input(const T* __restrict__ gy, const T* __restrict__ x,
                                          const T* __restrict__ w, const T* __restrict__ mean,
                                          const T* __restrict__ rstd, T* __restrict__ gx,
                                          index_t rows, index_t n, int has_w) {
  __shared__ T buf[2 * AD_WARP];
  T* cache = CACHE ? ad_dynamic_smem<T>() : nullptr;
  layer_norm_backward_rows<T, CACHE, false>(gy, x, w, mean, rstd, gx, rows, n, has_w, cache,
                                            nullptr, buf);
}

// The whole affine backward in one pass over gy and x: gx as layer_norm_backward_input, and
// per block the column sums of gy * xhat and gy over the rows it handled, written to row
// blockIdx.x of gw_part and gb_part (gridDim.x, n); the launcher sums those over blocks.
// Dynamic shared memory: the two accumulator rows (2n), then the row cache (2n, CACHE).
template <typename T, bool CACHE>
__global__ void layer_norm_backward(const T* __restrict__ gy, const T* __restrict__ x,
                                    const T* __restrict__ w, const T* __restrict__ mean,
                                    const T* __restrict__ rstd, T* __restrict__ gx,
                                    T* __restrict__ gw_part, T* __restrict__ gb_part,
                                    index_t rows, index_t n) {
  __shared__ T buf[2 * AD_WARP];
  T* acc = ad_dynamic_smem<T>();
  T* cache = CACHE ? acc + 2 * n : nullptr;
  for (index_t i = threadIdx.x; i < 2 * n; i += blockDim.x) acc[i] = T(0);
  __syncthreads();  // zeroed element-wise; the rows below use packs of other threads
  layer_norm_backward_rows<T, CACHE, true>(gy, x, w, mean, rstd, gx, rows, n, 1, cache, acc,
                                           buf);
  __syncthreads();
  T* pw = gw_part + (index_t)blockIdx.x * n;
  T* pb = gb_part + (index_t)blockIdx.x * n;
  for (index_t i = threadIdx.x; i < n; i += blockDim.x) {
    pw[i] = acc[i];
    pb[i] = acc[n + i];
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
