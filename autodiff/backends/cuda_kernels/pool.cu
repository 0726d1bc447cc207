// Max pooling over (N, C, H, W) -> (N, C, OH, OW), one thread per output element (CuPy's
// composite pads, windows, argmaxes and gathers: ~10 launches and a (.., kh*kw) copy).
//   forward : y = the window maximum, idx = its flat in-window index i * kw + j (the first
//             maximum; a NaN wins and propagates), as NumpyBackend.max_pool2d; positions in
//             the padding read as -inf.
//   backward: gx (zeroed by the caller) += g at each window's argmax (atomic: windows may
//             overlap); an argmax in the padding drops its gradient.
#include "common.cuh"


#define AD_POOL_ARGS                                                                      \
  int H, int W, int OH, int OW, int kh, int kw, int sh, int sw, int pt, int pl, int dh, int dw

template <typename T>
__global__ void max_pool2d_forward(const T* __restrict__ x, T* __restrict__ y,
                                   long long* __restrict__ idx, index_t total, AD_POOL_ARGS) {
  for (index_t o = blockIdx.x * (index_t)blockDim.x + threadIdx.x; o < total;
       o += (index_t)gridDim.x * blockDim.x) {
    const index_t plane = o / ((index_t)OH * OW);
    const int r = (int)((o / OW) % OH), s = (int)(o % OW);
    const T* xp = x + plane * H * W;
    T best = ad_neg_inf<T>();
    int bi = -1;
    for (int i = 0; i < kh; ++i) {
      const int h = r * sh - pt + i * dh;
      for (int j = 0; j < kw; ++j) {
        const int w = s * sw - pl + j * dw;
        const T v = (h >= 0 && h < H && w >= 0 && w < W) ? xp[(index_t)h * W + w]
                                                          : ad_neg_inf<T>();
        if (bi < 0 || (best == best && (v > best || v != v))) {
          best = v;
          bi = i * kw + j;
        }
      }
    }
    y[o] = best;
    idx[o] = bi;
  }
}

template <typename T>
__global__ void max_pool2d_backward(const T* __restrict__ g, const long long* __restrict__ idx,
                                    T* __restrict__ gx, index_t total, AD_POOL_ARGS) {
  for (index_t o = blockIdx.x * (index_t)blockDim.x + threadIdx.x; o < total;
       o += (index_t)gridDim.x * blockDim.x) {
    const index_t plane = o / ((index_t)OH * OW);
    const int r = (int)((o / OW) % OH), s = (int)(o % OW);
    const int k = (int)idx[o];
    const int h = r * sh - pt + (k / kw) * dh, w = s * sw - pl + (k % kw) * dw;
    if (h >= 0 && h < H && w >= 0 && w < W) {
      atomicAdd(gx + plane * H * W + (index_t)h * W + w, g[o]);
    }
  }
}
