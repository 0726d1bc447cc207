// Reductions over broadcast dims (the backward of broadcasting, `sum_to`) and batch-norm
// statistics. The launcher collapses a reduction to one of two contiguous patterns:
//   (R, C)    -> (C,)  summed over rows: reduce_cols, 32 adjacent columns per block
//   (R, C, S) -> (C,)  summed over R and S: reduce_rcs, one block per (channel, R chunk)
// Both write per-chunk partials that the launcher sums (chunks keep every SM busy when C is
// small). MUL: the summand is g * h (h of g's shape), fusing `sum_to(g * h, shape)`, the
// backward of a broadcast multiply, into one pass without materializing the product.
#include "common.cuh"

template <typename T, bool MUL>
__global__ void reduce_cols(const T* __restrict__ g, const T* __restrict__ h,
                            T* __restrict__ part, index_t R, index_t C,
                            index_t rows_per_chunk) {
  __shared__ T sacc[8][AD_WARP + 1];
  const index_t c = (index_t)blockIdx.x * AD_WARP + threadIdx.x;
  const index_t r0 = (index_t)blockIdx.y * rows_per_chunk;
  const index_t r1 = min(R, r0 + rows_per_chunk);
  T acc = T(0);
  if (c < C) {
    for (index_t r = r0 + threadIdx.y; r < r1; r += blockDim.y) {
      acc += MUL ? g[r * C + c] * h[r * C + c] : g[r * C + c];
    }
  }
  sacc[threadIdx.y][threadIdx.x] = acc;
  __syncthreads();
  if (threadIdx.y == 0 && c < C) {
    for (int k = 1; k < blockDim.y; ++k) acc += sacc[k][threadIdx.x];
    part[(index_t)blockIdx.y * C + c] = acc;
  }
}

// part[c * gridDim.y + chunk] = sum over r in the chunk, s < S of g[(r * C + c) * S + s]
template <typename T, bool MUL>
__global__ void reduce_rcs(const T* __restrict__ g, const T* __restrict__ h,
                           T* __restrict__ part, index_t R, index_t C, index_t S,
                           index_t rows_per_chunk) {
  __shared__ T buf[AD_WARP];
  const index_t c = blockIdx.x;
  const index_t r0 = (index_t)blockIdx.y * rows_per_chunk;
  const index_t r1 = min(R, r0 + rows_per_chunk);
  T acc = T(0);
  for (index_t r = r0; r < r1; ++r) {
    const index_t base = (r * C + c) * S;
    for (index_t s = threadIdx.x; s < S; s += blockDim.x) {
      acc += MUL ? g[base + s] * h[base + s] : g[base + s];
    }
  }
  acc = block_sum(acc, buf);
  if (threadIdx.x == 0) part[c * gridDim.y + blockIdx.y] = acc;
}

// Welford (count, mean, m2) of channel c of an (N, C, S) array over a chunk of N; the
// launcher merges the chunks with Chan's formula. Biased variance = m2 / count.
template <typename T>
__global__ void batch_norm_stats_partial(const T* __restrict__ x, T* __restrict__ cnt_out,
                                         T* __restrict__ mean_out, T* __restrict__ m2_out,
                                         index_t N, index_t C, index_t S,
                                         index_t rows_per_chunk) {
  __shared__ T buf[3 * AD_WARP];
  const index_t c = blockIdx.x;
  const index_t r0 = (index_t)blockIdx.y * rows_per_chunk;
  const index_t r1 = min(N, r0 + rows_per_chunk);
  T cnt = T(0), mean = T(0), m2 = T(0);
  for (index_t r = r0; r < r1; ++r) {
    const T* xr = x + (r * C + c) * S;
    for (index_t s = threadIdx.x; s < S; s += blockDim.x) welford_push(cnt, mean, m2, xr[s]);
  }
  block_welford(cnt, mean, m2, buf);
  if (threadIdx.x == 0) {
    const index_t k = c * gridDim.y + blockIdx.y;
    cnt_out[k] = cnt;
    mean_out[k] = mean;
    m2_out[k] = m2;
  }
}
