// Softmax and log-softmax over the last axis of a contiguous (rows, n) array, forward and
// backward. One block per row (grid-stride over rows). Each thread walks the row in packs of
// 16 bytes (Pack<T, N>, when the pointers are aligned and N divides n; else one element) with
// stride blockDim.x, so loads are coalesced and 128 bits wide.
//   CACHE = true : the first pass also copies the row into shared memory (n elements per
//                  array, passed as the launch's dynamic shared memory) and the later passes
//                  read it there: the row crosses device memory once.
//   CACHE = false: the later passes re-read the row from global memory (rows too long for
//                  shared memory; the re-reads mostly hit L2).
// Each thread reads back only the packs it cached itself, so the cache needs no barriers.
//   forward : max; sum of exp(x - max) (the exps are cached for softmax); write y
//   backward: the row's sum of gy * y (gy for log_softmax); write gx
// NaN anywhere in a row makes the whole row NaN, as in NumPy (the max skips it, the sum
// does not).
#include "common.cuh"

// y = exp(x - m) / s  (LOG: y = x - m - log s)
template <typename T, bool LOG, bool CACHE, class TM, int N>
__device__ __forceinline__ void softmax_forward_row(const T* __restrict__ xr,
                                                    T* __restrict__ yr, index_t n, T* cache,
                                                    T* buf) {
  typedef Pack<T, N> P;
  const index_t packs = n / N;
  const P* xp = reinterpret_cast<const P*>(xr);
  P* cp = reinterpret_cast<P*>(cache);
  P* yp = reinterpret_cast<P*>(yr);
  T m = ad_neg_inf<T>();
#pragma unroll 4
  for (index_t i = TM::rank(); i < packs; i += TM::size()) {
    const P v = xp[i];
    if (CACHE) cp[i] = v;
#pragma unroll
    for (int k = 0; k < N; ++k) m = ad_max(m, v.v[k]);
  }
  m = TM::max(m, buf);
  const P* src = CACHE ? cp : xp;
  T s = T(0);
#pragma unroll 4
  for (index_t i = TM::rank(); i < packs; i += TM::size()) {
    P v = src[i];
#pragma unroll
    for (int k = 0; k < N; ++k) {
      const T e = ad_exp(v.v[k] - m);
      s += e;
      v.v[k] = e;
    }
    if (CACHE && !LOG) cp[i] = v;
  }
  s = TM::sum(s, buf);
  // log: (x - m) - log(s), as NumPy and PyTorch; x - (m + log(s)) lost log(s) to the sum's
  // rounding once |m| dwarfs it (logits offset by 1e6)
  const T logs = ad_log(s), inv = T(1) / s;
#pragma unroll 4
  for (index_t i = TM::rank(); i < packs; i += TM::size()) {
    P v = src[i];
#pragma unroll
    for (int k = 0; k < N; ++k) {
      if (LOG) v.v[k] = (v.v[k] - m) - logs;
      else v.v[k] = (CACHE ? v.v[k] : ad_exp(v.v[k] - m)) * inv;
    }
    yp[i] = v;
  }
}

// WARP: one row per warp (short rows), each warp with its own n-element cache.
template <typename T, bool LOG, bool CACHE, bool WARP>
__global__ void softmax_forward(const T* __restrict__ x, T* __restrict__ y, index_t rows,
                                index_t n) {
  typedef Team<WARP> TM;
  __shared__ T buf[AD_WARP];
  T* cache = CACHE ? ad_dynamic_smem<T>() + (index_t)TM::index() * n : nullptr;
  const int W = Wide<T>::N;
  const bool wide = n % W == 0 && ad_aligned16(x) && ad_aligned16(y);
  const index_t step = (index_t)gridDim.x * TM::per_block();
  for (index_t row = (index_t)blockIdx.x * TM::per_block() + TM::index(); row < rows;
       row += step) {
    if (wide) softmax_forward_row<T, LOG, CACHE, TM, W>(x + row * n, y + row * n, n, cache, buf);
    else softmax_forward_row<T, LOG, CACHE, TM, 1>(x + row * n, y + row * n, n, cache, buf);
  }
}

// softmax:     dx = y * (gy - sum(gy * y))
// log_softmax: dx = gy - exp(y) * sum(gy)
template <typename T, bool LOG, bool CACHE, int N>
__device__ __forceinline__ void softmax_backward_row(const T* __restrict__ yr,
                                                     const T* __restrict__ gr,
                                                     T* __restrict__ out, index_t n, T* cache,
                                                     T* buf) {
  typedef Pack<T, N> P;
  const index_t packs = n / N;
  const P* yp = reinterpret_cast<const P*>(yr);
  const P* gp = reinterpret_cast<const P*>(gr);
  P* cy = reinterpret_cast<P*>(cache);
  P* cg = cy + packs;
  P* op = reinterpret_cast<P*>(out);
  T acc = T(0);
#pragma unroll 4
  for (index_t i = threadIdx.x; i < packs; i += blockDim.x) {
    const P v = yp[i], g = gp[i];
    if (CACHE) { cy[i] = v; cg[i] = g; }
#pragma unroll
    for (int k = 0; k < N; ++k) acc += LOG ? g.v[k] : g.v[k] * v.v[k];
  }
  acc = block_sum(acc, buf);
  const P* sy = CACHE ? cy : yp;
  const P* sg = CACHE ? cg : gp;
#pragma unroll 4
  for (index_t i = threadIdx.x; i < packs; i += blockDim.x) {
    const P v = sy[i], g = sg[i];
    P o;
#pragma unroll
    for (int k = 0; k < N; ++k) {
      o.v[k] = LOG ? g.v[k] - ad_exp(v.v[k]) * acc : v.v[k] * (g.v[k] - acc);
    }
    op[i] = o;
  }
}

template <typename T, bool LOG, bool CACHE>
__global__ void softmax_backward(const T* __restrict__ y, const T* __restrict__ gy,
                                 T* __restrict__ gx, index_t rows, index_t n) {
  __shared__ T buf[AD_WARP];
  T* cache = CACHE ? ad_dynamic_smem<T>() : nullptr;
  const int W = Wide<T>::N;
  const bool wide = n % W == 0 && ad_aligned16(y) && ad_aligned16(gy) && ad_aligned16(gx);
  for (index_t row = blockIdx.x; row < rows; row += gridDim.x) {
    const index_t off = row * n;
    if (wide) softmax_backward_row<T, LOG, CACHE, W>(y + off, gy + off, gx + off, n, cache, buf);
    else softmax_backward_row<T, LOG, CACHE, 1>(y + off, gy + off, gx + off, n, cache, buf);
  }
}
