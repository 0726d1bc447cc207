// Drivers for layer norm: rows split over threads; the backward's weight and bias
// gradients are accumulated per thread and summed at the end (no atomics).
#include "kernels/norm.h"

#include <algorithm>
#include <vector>

#include "kernels/buffers.h"
#include "kernels/parallel.h"

namespace autodiff::kernels {

// Row blocks of the layer-norm backward (each with its own gw/gb part), and the most memory
// their parts may take.
constexpr int64_t kNormBwdBlocks = 16;
constexpr int64_t kNormBwdPartBytes = 8 << 20;

template <typename T>
void layer_norm_forward(const T* x, const T* w, const T* b, T* y, T* mean, T* rstd, int64_t rows,
                        int64_t n, T eps) {
  if (rows == 0 || n == 0) return;
  const auto& t = table<T>();
  const auto fn = t.layer_norm_row;
  const bool stream = rows * n * int64_t(sizeof(T)) >= kStreamBytes;
  const int nt = cap_threads(threads_for(rows * n, 8192), rows);
  if (t.layer_norm_rows && (n < kPipelineMinRow || pipelinable_rows(n, sizeof(T)))) {
    parallel_row_blocks(nt, rows, kPipelineBlock * dyn_chunk(n), [&](int64_t r0, int64_t r1) {
      t.layer_norm_rows(x + r0 * n, w, b, y + r0 * n, n, r1 - r0, eps, mean + r0, rstd + r0,
                        pipelined_stream(n, y, stream));
    });
    return;
  }
  parallel_rows(nt, rows, dyn_chunk(n), stream, [&](int64_t r) {
    fn(x + r * n, w, b, y + r * n, n, eps, mean + r, rstd + r, stream);
  });
}

template <typename T>
void layer_norm_backward(const T* gy, const T* x, const T* mean, const T* rstd, const T* w, T* gx,
                         T* gw, T* gb, int64_t rows, int64_t n) {
  if (w) {
    std::fill(gw, gw + n, T(0));
    std::fill(gb, gb + n, T(0));
  }
  if (rows == 0 || n == 0) return;
  const auto& t = table<T>();
  const auto fn = t.layer_norm_bwd_row;
  const bool stream = rows * n * int64_t(sizeof(T)) >= kStreamBytes;
  const bool pipelined = t.layer_norm_bwd_rows && pipelinable_rows(n, sizeof(T));
  const int nt = int(std::min<int64_t>(threads_for(rows * n, 8192), rows));
  // Rows are cut into blocks handed out dynamically (a thread slowed by another process takes
  // fewer), each accumulating gw/gb into its own part of a 64-byte-aligned buffer (gw and gb
  // themselves may sit at any 16-byte offset, and the per-row read-modify-write of vectors
  // that straddle cache lines took 1.4x the time of the whole backward).  Parts are a line
  // longer than n so that gw and gb of one block do not alias modulo 4 KiB.  They are summed
  // in block order: the float sums do not depend on which thread took a block, nor, from
  // 16 * kNormBwdBlocks rows on, on the thread count.
  const int64_t line = 64 / int64_t(sizeof(T));
  const int64_t stride = (n + line - 1) / line * line + line;
  // At least 16 rows a block (the parts, zeroed and summed, stay within 1/8 of the data),
  // at most kNormBwdPartBytes of parts, and at least one block per thread.
  int64_t blocks = std::min<int64_t>(kNormBwdBlocks, rows / 16);
  if (w)
    blocks = std::min<int64_t>(blocks, kNormBwdPartBytes / (2 * stride * int64_t(sizeof(T))));
  blocks = std::max<int64_t>(blocks, nt);
  const int64_t per = (rows + blocks - 1) / blocks;
  blocks = (rows + per - 1) / per;
  AlignedBuffer<T> part(w ? size_t(2 * stride * blocks) : 0);
  if (w) std::fill(part.get(), part.get() + 2 * stride * blocks, T(0));
  parallel_row_blocks(nt, rows, per, [&](int64_t r0, int64_t r1) {
    T* gwa = w ? part.get() + 2 * stride * (r0 / per) : nullptr;
    T* gba = w ? gwa + stride : nullptr;
    if (pipelined)
      t.layer_norm_bwd_rows(gy + r0 * n, x + r0 * n, mean + r0, rstd + r0, w, gx + r0 * n, gwa,
                            gba, n, r1 - r0, pipelined_stream(n, gx, stream));
    else
      for (int64_t r = r0; r < r1; ++r)
        fn(gy + r * n, x + r * n, mean[r], rstd[r], w, gx + r * n, gwa, gba, n, stream);
  });
  if (w)
    for (int64_t k = 0; k < blocks; ++k) {
      const T* p = part.get() + 2 * stride * k;
      for (int64_t i = 0; i < n; ++i) {
        gw[i] += p[i];
        gb[i] += p[stride + i];
      }
    }
}

template <typename T>
void batch_norm_backward_channels(const T* gy, const T* x, const T* mean, const T* rstd,
                                  const T* w, int64_t outer, int64_t c, int64_t inner, T* gx,
                                  T* gw, T* gb) {
  if (c == 0) return;
  const auto& t = table<T>();
  const double m = double(outer) * double(inner);
  const int nt = cap_threads(threads_for(outer * c * inner, 8192), c);
#pragma omp parallel for num_threads(nt) schedule(dynamic, 1) if (nt > 1)
  for (int64_t ch = 0; ch < c; ++ch) {
    double sg = 0, sgx = 0;  // sum(gy), sum(gy * x)
    for (int64_t o = 0; o < outer; ++o) {
      const int64_t off = (o * c + ch) * inner;
      sg += t.row_sum(gy + off, inner);
      sgx += t.row_dot(gy + off, x + off, inner);
    }
    const double mu = double(mean[ch]), rs = double(rstd[ch]);
    const double sgxh = rs * (sgx - mu * sg);  // sum(gy * xhat)
    gb[ch] = T(sg);
    gw[ch] = T(sgxh);
    if (m == 0) continue;
    // gx = a gy + b x + d, the per-channel constants folded from the formula above
    const double scale = rs * (w ? double(w[ch]) : 1.0);
    const T a = T(scale), b = T(-scale * rs * sgxh / m), d = T(-scale * sg / m - double(b) * mu);
    for (int64_t o = 0; o < outer; ++o) {
      const int64_t off = (o * c + ch) * inner;
      const T* g = gy + off;
      const T* xv = x + off;
      T* out = gx + off;
      for (int64_t i = 0; i < inner; ++i) out[i] = a * g[i] + (b * xv[i] + d);
    }
  }
}

template <typename T>
void channel_affine(const T* x, const T* scale, const T* shift, int64_t outer, int64_t c,
                    int64_t inner, T* y) {
  const int64_t planes = outer * c;
  if (planes == 0 || inner == 0) return;
  const int nt = cap_threads(threads_for(planes * inner, 8192), planes);
#pragma omp parallel for num_threads(nt) schedule(static) if (nt > 1)
  for (int64_t p = 0; p < planes; ++p) {
    const T a = scale[p % c], b = shift[p % c];
    const T* xv = x + p * inner;
    T* out = y + p * inner;
    for (int64_t i = 0; i < inner; ++i) out[i] = xv[i] * a + b;
  }
}

template void channel_affine<float>(const float*, const float*, const float*, int64_t, int64_t,
                                    int64_t, float*);
template void channel_affine<double>(const double*, const double*, const double*, int64_t,
                                     int64_t, int64_t, double*);
template void batch_norm_backward_channels<float>(const float*, const float*, const float*,
                                                  const float*, const float*, int64_t, int64_t,
                                                  int64_t, float*, float*, float*);
template void batch_norm_backward_channels<double>(const double*, const double*, const double*,
                                                   const double*, const double*, int64_t,
                                                   int64_t, int64_t, double*, double*, double*);
template void layer_norm_forward<float>(const float*, const float*, const float*, float*, float*,
                                        float*, int64_t, int64_t, float);
template void layer_norm_forward<double>(const double*, const double*, const double*, double*,
                                         double*, double*, int64_t, int64_t, double);
template void layer_norm_backward<float>(const float*, const float*, const float*, const float*,
                                         const float*, float*, float*, float*, int64_t, int64_t);
template void layer_norm_backward<double>(const double*, const double*, const double*,
                                          const double*, const double*, double*, double*, double*,
                                          int64_t, int64_t);

}  // namespace autodiff::kernels
