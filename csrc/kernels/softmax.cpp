// Drivers for the softmax family: rows (inner == 1) use the table's row kernels; the
// strided layout (inner > 1) works on column blocks with the table's vector exp.
#include "kernels/softmax.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "kernels/parallel.h"

namespace autodiff::kernels {

namespace {
constexpr int64_t kColChunk = 256;

template <typename T>
void softmax_cols(const KernelTable<T>& t, const T* x, T* y, int64_t n, int64_t inner, int64_t c0,
                  int64_t w, bool log) {
  std::vector<T> m(x + c0, x + c0 + w), s(w, T(0)), tmp(w);
  t.col_max(m.data(), x + inner + c0, w, n - 1, inner);
  for (int64_t j = 0; j < n; ++j) {
    const T* xr = x + j * inner + c0;
    T* yr = y + j * inner + c0;
    for (int64_t k = 0; k < w; ++k) tmp[k] = xr[k] - m[k];
    t.unary[int(UnaryOp::kExp)](tmp.data(), yr, w);
    t.col_sum(s.data(), yr, nullptr, w, 1, 0);
  }
  if (log) {  // (x - m) - log s, as the row kernels
    for (int64_t k = 0; k < w; ++k) s[k] = std::log(s[k]);
    for (int64_t j = 0; j < n; ++j) {
      const T* xr = x + j * inner + c0;
      T* yr = y + j * inner + c0;
      for (int64_t k = 0; k < w; ++k) yr[k] = (xr[k] - m[k]) - s[k];
    }
  } else {
    for (int64_t k = 0; k < w; ++k) s[k] = T(1) / s[k];
    for (int64_t j = 0; j < n; ++j) {
      T* yr = y + j * inner + c0;
      for (int64_t k = 0; k < w; ++k) yr[k] *= s[k];
    }
  }
}

template <typename T>
void softmax_bwd_cols(const KernelTable<T>& t, const T* y, const T* gy, T* gx, int64_t n,
                      int64_t inner, int64_t c0, int64_t w, bool log) {
  std::vector<T> acc(w, T(0));
  t.col_sum(acc.data(), gy + c0, log ? nullptr : y + c0, w, n, inner);
  for (int64_t j = 0; j < n; ++j) {
    const T* yr = y + j * inner + c0;
    const T* gr = gy + j * inner + c0;
    T* out = gx + j * inner + c0;
    if (log) {
      t.unary[int(UnaryOp::kExp)](yr, out, w);
      for (int64_t k = 0; k < w; ++k) out[k] = gr[k] - out[k] * acc[k];
    } else {
      for (int64_t k = 0; k < w; ++k) out[k] = yr[k] * (gr[k] - acc[k]);
    }
  }
}

}  // namespace

template <typename T>
void softmax_axis(const T* x, T* y, int64_t outer, int64_t n, int64_t inner, bool log) {
  if (outer * n * inner == 0) return;
  const auto& t = table<T>();
  const int nt = threads_for(outer * n * inner, 4096);
  if (inner == 1) {
    const SoftmaxRowFn<T> fn = log ? t.log_softmax_row : t.softmax_row;
    const bool stream = outer * n * int64_t(sizeof(T)) >= kStreamBytes;
    const int ntr = cap_threads(nt, outer);
    const SoftmaxRowsFn<T> rows_fn = log ? t.log_softmax_rows : t.softmax_rows;
    if (rows_fn && (n < kPipelineMinRow || pipelinable_rows(n, sizeof(T)))) {
      parallel_row_blocks(ntr, outer, kPipelineBlock * dyn_chunk(n), [&](int64_t r0, int64_t r1) {
        rows_fn(x + r0 * n, y + r0 * n, n, r1 - r0, pipelined_stream(n, y, stream));
      });
      return;
    }
    parallel_rows(ntr, outer, dyn_chunk(n), stream,
                  [&](int64_t o) { fn(x + o * n, y + o * n, n, stream); });
    return;
  }
  const int64_t nchunks = (inner + kColChunk - 1) / kColChunk;
  const int ntc = cap_threads(nt, outer * nchunks);
#pragma omp parallel for num_threads(ntc) schedule(dynamic, 1) if (ntc > 1)
  for (int64_t it = 0; it < outer * nchunks; ++it) {
    const int64_t o = it / nchunks, c0 = (it % nchunks) * kColChunk;
    softmax_cols(t, x + o * n * inner, y + o * n * inner, n, inner, c0,
                 std::min(kColChunk, inner - c0), log);
  }
}

template <typename T>
void softmax_backward_axis(const T* y, const T* gy, T* gx, int64_t outer, int64_t n, int64_t inner,
                           bool log) {
  if (outer * n * inner == 0) return;
  const auto& t = table<T>();
  const int nt = threads_for(outer * n * inner, 4096);
  if (inner == 1) {
    const SoftmaxBwdRowFn<T> fn = log ? t.log_softmax_bwd_row : t.softmax_bwd_row;
    const bool stream = outer * n * int64_t(sizeof(T)) >= kStreamBytes;
    const int ntr = cap_threads(nt, outer);
    const SoftmaxBwdRowsFn<T> rows_fn = log ? t.log_softmax_bwd_rows : t.softmax_bwd_rows;
    if (rows_fn && (n < kPipelineMinRow || pipelinable_rows(n, sizeof(T)))) {
      parallel_row_blocks(ntr, outer, kPipelineBlock * dyn_chunk(n), [&](int64_t r0, int64_t r1) {
        rows_fn(y + r0 * n, gy + r0 * n, gx + r0 * n, n, r1 - r0, pipelined_stream(n, gx, stream));
      });
      return;
    }
    parallel_rows(ntr, outer, dyn_chunk(n), stream,
                  [&](int64_t o) { fn(y + o * n, gy + o * n, gx + o * n, n, stream); });
    return;
  }
  const int64_t nchunks = (inner + kColChunk - 1) / kColChunk;
  const int ntc = cap_threads(nt, outer * nchunks);
#pragma omp parallel for num_threads(ntc) schedule(dynamic, 1) if (ntc > 1)
  for (int64_t it = 0; it < outer * nchunks; ++it) {
    const int64_t o = it / nchunks, c0 = (it % nchunks) * kColChunk;
    const int64_t off = o * n * inner;
    softmax_bwd_cols(t, y + off, gy + off, gx + off, n, inner, c0, std::min(kColChunk, inner - c0),
                     log);
  }
}

template void softmax_axis<float>(const float*, float*, int64_t, int64_t, int64_t, bool);
template void softmax_axis<double>(const double*, double*, int64_t, int64_t, int64_t, bool);
template void softmax_backward_axis<float>(const float*, const float*, float*, int64_t, int64_t,
                                           int64_t, bool);
template void softmax_backward_axis<double>(const double*, const double*, double*, int64_t, int64_t,
                                            int64_t, bool);

}  // namespace autodiff::kernels
